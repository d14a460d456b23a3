"""Codes the generators draw from: the contract's code lists, read from the data dictionary shipped
with the package (never $OUTCOMES_DICTIONARY: the reference extract is the same everywhere), with
the weights the generators give them.

Weights are keyed by code (`_weights`), so a code added to the dictionary is simply never drawn and a
weight for a code the dictionary lacks is an error. SNOMED CT codes other than DBT (405780009) and
the ECDS mental-health / self-harm codes of codes/ecds_mental_health_complaint.yaml are
illustrative: they only need to look like SNOMED CT.
"""

from __future__ import annotations

from outcomes import resources
from outcomes.source.contract.dictionary import load_dictionary

#: the contract's code lists (outcomes.source.contract.dictionary.CodeList by name)
CODES = load_dictionary(resources.dictionary_dir()).codes


def _weights(codes: tuple[str, ...], weights: dict[str, float]) -> tuple[float, ...]:
    """Weights in the order of `codes` (0 for a code not given); a code not in `codes` is an error."""
    unknown = sorted(set(weights) - set(codes))
    if unknown:
        raise ValueError(f"weights for codes not in the code list {codes}: {unknown}")
    return tuple(weights.get(code, 0.0) for code in codes)


def _labels(name: str) -> tuple[str, ...]:
    return tuple(CODES[name].labels)


DBT_PROCEDURE = "405780009"
#: other care activities (illustrative SNOMED CT procedures; never DBT)
PROCEDURES = ("304891004", "76168009", "225337009", "386053000", "401277000", "710081004", "1082621000000104", "228557008")
PROCEDURE_WEIGHTS = (0.22, 0.10, 0.14, 0.20, 0.10, 0.10, 0.08, 0.06)

# ECDS
_MH = CODES["ecds_mental_health_complaint"]
SELF_HARM_COMPLAINT, = _MH.groups["self_harm_complaint"]
SELF_HARM_INTENT, = _MH.groups["self_harm_intent"]
MH_COMPLAINTS = tuple(c for c in _MH.labels if c not in (SELF_HARM_COMPLAINT, SELF_HARM_INTENT))
MH_COMPLAINT_WEIGHTS = _weights(MH_COMPLAINTS, {"394924000": 0.25, "18963009": 0.30, "7011001": 0.08, "48694002": 0.20,
                                                "41886009": 0.10, "225624000": 0.07})
ACCIDENTAL_INTENT = "418019003"
OTHER_COMPLAINTS = ("21522001", "29857009", "25064002", "386661006", "267036007", "422587007", "125667009", "283682007")
MH_DIAGNOSES = ("35489007", "197480006", "69322001", "72366004", "13746004", "191736004")
SELF_HARM_DIAGNOSES = ("248062006", "66344007")
OTHER_DIAGNOSES = ("125605004", "399963005", "283682007", "55822004", "195967001")

# MHSDS
GENDERS = _labels("gender")
CYP_INPATIENT_GENDER_WEIGHTS = _weights(GENDERS, {"1": 0.30, "2": 0.65, "3": 0.02, "4": 0.01, "X": 0.01, "Z": 0.01})
CYP_GENDER_WEIGHTS = _weights(GENDERS, {"1": 0.47, "2": 0.50, "3": 0.01, "4": 0.005, "X": 0.01, "Z": 0.005})
ADULT_GENDER_WEIGHTS = _weights(GENDERS, {"1": 0.55, "2": 0.44, "3": 0.004, "4": 0.002, "X": 0.002, "Z": 0.002})
ETHNICITIES = _labels("ethnic_category")
ETHNIC_WEIGHTS = _weights(ETHNICITIES, {
    "A": 0.40, "B": 0.02, "C": 0.12, "D": 0.02, "E": 0.015, "F": 0.01, "G": 0.02, "H": 0.04, "J": 0.015, "K": 0.015,
    "L": 0.04, "M": 0.06, "N": 0.09, "P": 0.02, "R": 0.01, "S": 0.04, "Z": 0.03, "99": 0.02,
})  # fmt: skip
P_ETHNIC_NULL = 0.01

TEAM_TYPES = _labels("service_team_type")
TEAM = {code: i for i, code in enumerate(TEAM_TYPES)}
CRISIS_TEAMS = CODES["service_team_type"].groups["crisis"]
CRISIS_TEAM_WEIGHTS = _weights(CRISIS_TEAMS, {"A02": 0.30, "A03": 0.20, "A04": 0.10, "A18": 0.25, "A19": 0.15})
COMMUNITY_TEAMS = ("Z01", "C04", "C10", "C06", "C07", "C01", "A05", "A11", "C05", "A14", "A21", "A20")
COMMUNITY_TEAM_WEIGHTS = (0.40, 0.12, 0.06, 0.05, 0.03, 0.06, 0.10, 0.05, 0.05, 0.03, 0.03, 0.02)
ADULT_TEAMS, ADULT_TEAM_WEIGHTS = ("A06", "A02", "A10", "A14", "A16", "A08"), (0.40, 0.20, 0.15, 0.10, 0.10, 0.05)

REASONS = _labels("referral_reason")
REASON = {code: i for i, code in enumerate(REASONS)}
CYP_REASONS = ("08", "09", "15", "12", "17", "18", "10", "16", "19", "23", "05", "20")
CYP_REASON_WEIGHTS = (0.18, 0.22, 0.12, 0.05, 0.14, 0.08, 0.04, 0.05, 0.04, 0.03, 0.02, 0.03)
INPATIENT_REASONS, INPATIENT_REASON_WEIGHTS = ("08", "15", "18", "05", "14", "09"), (0.25, 0.25, 0.20, 0.12, 0.08, 0.10)
ADULT_REASONS, ADULT_REASON_WEIGHTS = ("06", "05", "07", "08", "14", "02", "18"), (0.30, 0.10, 0.12, 0.18, 0.10, 0.08, 0.12)
P_REASON_NULL = 0.03

MECHANISMS = _labels("consultation_mechanism")
MECHANISM_WEIGHTS_PRE_COVID = _weights(MECHANISMS, {"01": 0.80, "02": 0.16, "04": 0.002, "05": 0.01, "09": 0.01, "10": 0.002,
                                                    "11": 0.01, "12": 0.002, "13": 0.002, "98": 0.002})
MECHANISM_WEIGHTS_COVID = _weights(MECHANISMS, {"01": 0.50, "02": 0.24, "04": 0.002, "05": 0.01, "09": 0.01, "10": 0.006,
                                                "11": 0.22, "12": 0.002, "13": 0.002, "98": 0.002})
#: attendance codes in the generators' order (attended first); indices into it are drawn
ATTENDANCE = ("5", "6", "3", "2", "4", "7")
ATTENDANCE_WEIGHTS = (0.80, 0.03, 0.09, 0.04, 0.03, 0.01)
ATTENDED = tuple(ATTENDANCE.index(code) for code in CODES["attendance"].groups["attended"])  # (0, 1): "5" and "6"
if not set(ATTENDANCE) <= set(_labels("attendance")):
    raise ValueError(f"the generators' attendance codes {ATTENDANCE} are not all in the dictionary's {_labels('attendance')}")

RISK_TYPES = _labels("risk_event_type")
RISK = {code: i for i, code in enumerate(RISK_TYPES)}

# ECDS code columns are generated as indices into these tuples (-1 = null)
ECDS_COMPLAINTS = MH_COMPLAINTS + (SELF_HARM_COMPLAINT,) + OTHER_COMPLAINTS
ECDS_INTENTS = (SELF_HARM_INTENT, ACCIDENTAL_INTENT)
ECDS_DIAGNOSES = (
    MH_DIAGNOSES
    + SELF_HARM_DIAGNOSES
    + OTHER_DIAGNOSES
    + ("35489007,197480006", "248062006,35489007", "66344007,13746004", "125605004,399963005")
)
#: kinds of attendance the generators ask for
ECDS_SELF_HARM, ECDS_MENTAL_HEALTH, ECDS_OTHER = 0, 1, 2


def ecds_codes(rng, kind):
    """(complaint, intent, diagnosis) indices for attendances of each kind (0 self-harm, 1 other
    mental health, 2 not mental health)."""
    import numpy as np

    kind = np.asarray(kind)
    n = len(kind)
    u, v, w = rng.random(n), rng.random(n), rng.random(n)
    n_mh = len(MH_COMPLAINTS)
    mh = np.searchsorted(np.cumsum(MH_COMPLAINT_WEIGHTS) / sum(MH_COMPLAINT_WEIGHTS), u, side="right").clip(0, n_mh - 1)
    other = n_mh + 1 + (v * len(OTHER_COMPLAINTS)).astype(int).clip(0, len(OTHER_COMPLAINTS) - 1)
    # self-harm: complaint 248062006 (70%) or a mental-health complaint with intent 276853009
    harm_complaint = np.where(u < 0.7, n_mh, mh)
    complaint = np.select([kind == ECDS_SELF_HARM, kind == ECDS_MENTAL_HEALTH], [harm_complaint, mh], other)
    complaint = np.where((kind == ECDS_OTHER) & (w < 0.03), -1, complaint)  # a few unrecorded complaints
    intent = np.select(
        [kind == ECDS_SELF_HARM, (kind == ECDS_OTHER) & (v < 0.35)],
        [np.where((u >= 0.7) | (w < 0.8), 0, -1), 1],
        -1,
    )
    n_mhd, n_shd, n_od = len(MH_DIAGNOSES), len(SELF_HARM_DIAGNOSES), len(OTHER_DIAGNOSES)
    pairs = n_mhd + n_shd + n_od
    diag = np.select(
        [kind == ECDS_SELF_HARM, kind == ECDS_MENTAL_HEALTH],
        [np.where(w < 0.3, pairs + 1, n_mhd + (v * n_shd).astype(int) % n_shd), np.where(w < 0.15, pairs, (v * n_mhd).astype(int) % n_mhd)],
        np.where(w < 0.1, pairs + 3, n_mhd + n_shd + (u * n_od).astype(int) % n_od),
    )
    diag = np.where(rng.random(n) < 0.08, -1, diag)
    return complaint.astype(np.int64), intent.astype(np.int64), diag.astype(np.int64)
