"""Codes the generators draw from (all within the contract's code lists or patterns).

SNOMED CT codes other than DBT (405780009) and the ECDS mental-health / self-harm codes of
codes/ecds_mental_health_complaint.yaml are illustrative: they only need to look like SNOMED CT.
"""

from __future__ import annotations

DBT_PROCEDURE = "405780009"
#: other care activities (illustrative SNOMED CT procedures; never DBT)
PROCEDURES = ("304891004", "76168009", "225337009", "386053000", "401277000", "710081004", "1082621000000104", "228557008")
PROCEDURE_WEIGHTS = (0.22, 0.10, 0.14, 0.20, 0.10, 0.10, 0.08, 0.06)

# ECDS
MH_COMPLAINTS = ("394924000", "18963009", "7011001", "48694002", "41886009", "225624000")
MH_COMPLAINT_WEIGHTS = (0.25, 0.30, 0.08, 0.20, 0.10, 0.07)
SELF_HARM_COMPLAINT = "248062006"
SELF_HARM_INTENT = "276853009"
ACCIDENTAL_INTENT = "418019003"
OTHER_COMPLAINTS = ("21522001", "29857009", "25064002", "386661006", "267036007", "422587007", "125667009", "283682007")
MH_DIAGNOSES = ("35489007", "197480006", "69322001", "72366004", "13746004", "191736004")
SELF_HARM_DIAGNOSES = ("248062006", "66344007")
OTHER_DIAGNOSES = ("125605004", "399963005", "283682007", "55822004", "195967001")

# MHSDS
GENDERS = ("1", "2", "3", "4", "X", "Z")
CYP_INPATIENT_GENDER_WEIGHTS = (0.30, 0.65, 0.02, 0.01, 0.01, 0.01)
CYP_GENDER_WEIGHTS = (0.47, 0.50, 0.01, 0.005, 0.01, 0.005)
ADULT_GENDER_WEIGHTS = (0.55, 0.44, 0.004, 0.002, 0.002, 0.002)
ETHNICITIES = ("A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "Z", "99")
ETHNIC_WEIGHTS = (0.40, 0.02, 0.12, 0.02, 0.015, 0.01, 0.02, 0.04, 0.015, 0.015, 0.04, 0.06, 0.09, 0.02, 0.01, 0.04, 0.03, 0.02)
P_ETHNIC_NULL = 0.01

TEAM_TYPES = (
    "A01", "A02", "A03", "A04", "A05", "A06", "A08", "A09", "A10", "A11", "A14", "A16", "A17", "A18", "A19", "A20",
    "A21", "C01", "C02", "C04", "C05", "C06", "C07", "C08", "C10", "E01", "Z01", "Z02",
)  # fmt: skip
TEAM = {code: i for i, code in enumerate(TEAM_TYPES)}
CRISIS_TEAMS, CRISIS_TEAM_WEIGHTS = ("A02", "A03", "A04", "A18", "A19"), (0.30, 0.20, 0.10, 0.25, 0.15)
COMMUNITY_TEAMS = ("Z01", "C04", "C10", "C06", "C07", "C01", "A05", "A11", "C05", "A14", "A21", "A20")
COMMUNITY_TEAM_WEIGHTS = (0.40, 0.12, 0.06, 0.05, 0.03, 0.06, 0.10, 0.05, 0.05, 0.03, 0.03, 0.02)
ADULT_TEAMS, ADULT_TEAM_WEIGHTS = ("A06", "A02", "A10", "A14", "A16", "A08"), (0.40, 0.20, 0.15, 0.10, 0.10, 0.05)

REASONS = ("01", "02", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "23", "24", "25")
REASON = {code: i for i, code in enumerate(REASONS)}
CYP_REASONS = ("08", "09", "15", "12", "17", "18", "10", "16", "19", "23", "05", "20")
CYP_REASON_WEIGHTS = (0.18, 0.22, 0.12, 0.05, 0.14, 0.08, 0.04, 0.05, 0.04, 0.03, 0.02, 0.03)
INPATIENT_REASONS, INPATIENT_REASON_WEIGHTS = ("08", "15", "18", "05", "14", "09"), (0.25, 0.25, 0.20, 0.12, 0.08, 0.10)
ADULT_REASONS, ADULT_REASON_WEIGHTS = ("06", "05", "07", "08", "14", "02", "18"), (0.30, 0.10, 0.12, 0.18, 0.10, 0.08, 0.12)
P_REASON_NULL = 0.03

MECHANISMS = ("01", "02", "04", "05", "09", "10", "11", "12", "13", "98")
MECHANISM_WEIGHTS_PRE_COVID = (0.80, 0.16, 0.002, 0.01, 0.01, 0.002, 0.01, 0.002, 0.002, 0.002)
MECHANISM_WEIGHTS_COVID = (0.50, 0.24, 0.002, 0.01, 0.01, 0.006, 0.22, 0.002, 0.002, 0.002)
ATTENDANCE = ("5", "6", "3", "2", "4", "7")
ATTENDANCE_WEIGHTS = (0.80, 0.03, 0.09, 0.04, 0.03, 0.01)
ATTENDED = (0, 1)  # indices of "5" and "6"

RISK_TYPES = ("suicide_attempt", "self_harm", "violence", "absconsion", "restraint")
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
