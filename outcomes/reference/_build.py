"""Generate every table of the reference extract into a folder (see outcomes.reference)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml

from outcomes.reference import _codes as C
from outcomes.reference import _crisis_line as CL
from outcomes.reference import _crisis_teams as CT
from outcomes.reference import _activity as A
from outcomes.reference import _delivery as D
from outcomes.reference._community import (
    CRISIS,
    DBT,
    HAZARDS,
    community_referrals,
    crisis_referrals,
    background_ecds,
    ecds_rows,
    hazard_events,
    inpatient_incidents,
    inpatient_referrals,
    known_user_ecds_kind,
)
from outcomes.reference._dbt import ACTIVITY_CODES, N_ELIGIBLE, N_LATE, TARGETS, DBTRecords, plant_dbt
from outcomes.reference._inpatient import (
    Effects,
    _expected_overlaps,
    ADMISSION_METHODS,
    DESTINATIONS,
    ADULT_ACUTE,
    OLDER_ADULT_ACUTE,
    OOA_LOS_FACTOR,
    P0_OOA,
    REPATRIATION_DELAY_MEAN,
    REPATRIATION_DELAY_MIN,
    REPATRIATION_SHARE,
    Spells,
    adult_spells,
    calibrate,
    cyp_spells,
    link_people,
    size_effects,
)
from outcomes.reference._model import (
    BURN_START,
    AGE_BANDS,
    ALL_LAS,
    COVID_BY_MONTH,
    DAY_MONTH,
    ELSEWHERE,
    END,
    LA_CODES,
    LA_TRUST,
    LSOAS_PER_LA,
    N_FOOTPRINT,
    N_MONTHS,
    NULL_DAY,
    ORG_CODES,
    PROVIDERS,
    SEASON_LOG_BY_MONTH,
    START,
    Process,
    Programme,
    Streams,
    age_on,
    EXT_DAYS,
    choice,
    deterministic_log_rate,
    iso,
    monthly_noise,
    shift_years,
    to_day,
    with_burn_in,
)
from outcomes.reference import _model as M
from outcomes.reference._population import adult_share_by_la, cyp_share_by_la, daily_index, population_rows
from outcomes.reference._equity import SYNTHETIC_NOTE, deprivation_rows, equity_truth, plant_ethnic_inequality
from outcomes.reference._truth import DEFINITIONS, realised
from outcomes.reference._areas import AREAS_NOTE, area_statistics, area_truth
from outcomes.reference._write import ChunkedWriter, build, coded, dates, numbered, org_prefix, permuted, write

# --- sizes at scale 1 (per month, mid-2017, before seasonality and noise) --------------------------
CYP_ADMISSIONS_PER_MONTH = 28.0  # footprint residents, all providers
NONFOOTPRINT_CYP_SHARE = 0.10  # CYP from elsewhere admitted to network wards, relative to the above
ADULT_ADMISSIONS_PER_MONTH = 65.0
CYP_REFERRALS_PER_MONTH = 1500.0
ADMISSIONS = Process("cyp_admissions", trend=0.03, season=0.5, covid=0.6)
ADULTS = Process("adult_admissions", trend=0.01, season=0.2, covid=0.3)
REFERRALS = Process("cyp_referrals", trend=0.06, season=1.0, covid=1.0)
# --- planted programme effects (multipliers at full effect) -----------------------------------------
THETA_LOS, THETA_PICU_LOS = 0.80, 0.65
THETA_AE_KNOWN, THETA_CRISIS_KNOWN = 0.75, 0.70
MAX_TRIES = 60
CONTACT_CHUNK = 250_000  # referrals per piece of MHS201CareContact / MHS202CareActivity
REMOTE_FROM = to_day("2020-03-23")


class People:
    """The person registry: every Person_ID of the extract, in order of creation."""

    def __init__(self):
        self.parts: list[dict] = []
        self.n = 0

    def add(self, birth, gender, ethnic, la, lsoa) -> int:
        offset = self.n
        self.parts.append({"birth": birth, "gender": gender, "ethnic": ethnic, "la": la, "lsoa": lsoa})
        self.n += len(birth)
        return offset

    def add_new(self, rng, birth, la, gender_weights) -> int:
        n = len(birth)
        ethnic = np.where(rng.random(n) < C.P_ETHNIC_NULL, -1, choice(rng, n, C.ETHNIC_WEIGHTS))
        lsoa = np.where((la >= 0) & (rng.random(n) >= 0.03), np.maximum(la, 0) * LSOAS_PER_LA + rng.integers(0, LSOAS_PER_LA, n), -1)
        return self.add(birth, choice(rng, n, gender_weights), ethnic, la, lsoa)

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([np.asarray(p[name], dtype=np.int64) for p in self.parts])


def _score(sp: Spells, fixed: Spells, prog: Programme, bed_target: float, ooa_target: float | None) -> float:
    wb, wp = prog.baseline, prog.post
    b, p = sp.bed_days(*wb), sp.bed_days(*wp)
    fb, fpost = fixed.bed_days(*wb), fixed.bed_days(*wp)
    base = b.sum() + fb.sum()
    if base == 0:
        return np.inf
    score = abs((p.sum() + fpost.sum()) / base - bed_target) / 0.03
    if ooa_target is not None:
        base_ooa = b[sp.ooa].sum() + fb[fixed.ooa].sum()
        if base_ooa == 0:
            return np.inf
        score = max(score, abs((p[sp.ooa].sum() + fpost[fixed.ooa].sum()) / base_ooa - ooa_target) / 0.04)
        share = base_ooa / base
        score = max(score, max(0.25 - share, share - 0.35, 0) / 0.02 + (1 if share < 0.25 or share > 0.35 else 0))
    return float(score)


def _draw_calibrated(streams, name, make, fixed, prog, bed_target, ooa_target):
    """Draw realisations until one is near the targets (or the best of MAX_TRIES), then calibrate."""
    best = None
    for k in range(MAX_TRIES):
        sp, noise = make(streams(name, k))
        score = _score(sp, fixed, prog, bed_target, ooa_target)
        if best is None or score < best[0]:
            best = (score, k, sp, noise)
        if score <= 1:
            break
    score, k, sp, noise = best
    info = calibrate(streams(name, "calibration"), sp, fixed, prog, bed_target, ooa_target)
    info.update(tries=k + 1, chosen_try=k, score_before_calibration=score)
    return sp, noise, info


def _person_firsts(person: np.ndarray, start: np.ndarray, n_people: int) -> np.ndarray:
    order = np.argsort(start, kind="stable")
    _, first = np.unique(person[order], return_index=True)
    out = np.empty(n_people, dtype=np.int64)
    out[np.unique(person[order])] = order[first]
    return out


def _bed_types(bed: np.ndarray, age: np.ndarray) -> np.ndarray:
    """v6 bed types as written: adult acute stays of people aged 65 or over are older adult acute (201)."""
    return np.where((bed == ADULT_ACUTE) & (age >= 65), OLDER_ADULT_ACUTE, bed)


def _ward_codes(bed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WardType, WardAge and WardSecLevel of ward stays from their (written) bed type."""
    cyp = bed >= 300
    older = bed == OLDER_ADULT_ACUTE
    ward_type = np.where(cyp, "01", np.where(bed == 205, "05", np.where(older, "06", "03")))
    ward_age = np.select([bed == 300, np.isin(bed, (301, 303, 304)), cyp, older], ["10", "11", "12", "14"], "13")
    security = np.where(np.isin(bed, (303, 206)), "1", np.where(np.isin(bed, (304, 207)), "2", "0"))
    return ward_type, ward_age, security


_SITE = {300: 1, 301: 1, 302: 2, 303: 3, 304: 3, 309: 4, 310: 2, 311: 2, 200: 5, 201: 5, 202: 6, 203: 7, 205: 7, 206: 8, 207: 8, 209: 5}


def _as_str(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(object), type=pa.string())


@dataclass
class Setting:
    """What every step reads: the seeded streams, the programme and its targets, the scale, the
    population's shape (daily indices and LA shares at scale 1) and the person registry."""

    streams: Streams
    prog: Programme
    scale: float
    bed_target: float
    ooa_target: float
    cyp_index: np.ndarray
    adult_index: np.ndarray
    cyp_w: np.ndarray
    adult_w: np.ndarray
    people: People
    n_elsewhere: int = len(ELSEWHERE)


@dataclass
class DbtCohort:
    """The planted DBT cohort's records; `offset` is its first person in the registry."""

    records: DBTRecords
    offset: int


@dataclass
class Admissions:
    """The three admission processes (footprint CYP, CYP from elsewhere, adults) and how they were drawn."""

    fp: Spells
    nf: Spells
    ad: Spells
    effects: object  #: the planted effects sized by size_effects
    expected: dict
    fp_info: dict
    nf_info: dict
    fp_noise: dict
    nf_noise: dict


@dataclass
class KnownUsers:
    """Referrals that make people known service users, and the events planted on their open days."""

    community: dict
    inpatient: list[dict]  #: referrals of footprint CYP, CYP from elsewhere and adult inpatients
    events: dict
    hazard_noise: dict
    crisis: dict

    @property
    def cyp(self) -> list[dict]:
        return [self.community, self.inpatient[0], self.inpatient[1]]


@dataclass
class Attendances:
    """ECDS rows (index columns) with the truth of the two components that thin them."""

    ecds: dict
    crisis_line: dict
    crisis_teams: dict


@dataclass
class Referrals:
    """Every referral, sorted as written, with each input row's position in that order; the
    components' activity referrals follow, with their contacts (`extra_contacts`: ref, day)."""

    refs: dict
    position: np.ndarray
    extra_contacts: dict


@dataclass
class Ids:
    """Identifiers shared by the tables written."""

    person: pa.Array
    org_codes: pa.Array
    salt: int


def generate(folder: Path, *, seed: int, scale: float, go_live: str, phase_in_months: int, bed_day_reduction: float,
             ooa_reduction: float, version: str) -> dict:
    """Write every table, truth.json and extract.yaml into `folder`; return the row counts."""
    s = _setting(seed=seed, scale=scale, go_live=go_live, phase_in_months=phase_in_months,
                 bed_day_reduction=bed_day_reduction, ooa_reduction=ooa_reduction)
    dbt = _dbt_cohort(s)
    adm = _admissions(s, dbt_spells=dbt.records.spells)
    inpatient_refs = _inpatient_people(s, adm=adm)
    known = _known_users(s, community=_community(s), inpatient_refs=inpatient_refs)
    att = _attendances(s, adm=adm, known=known, dbt=dbt)
    all_spells = Spells.concat([dbt.records.spells, adm.fp, adm.nf, adm.ad])
    is_adult = np.concatenate([np.zeros(len(dbt.records.spells) + len(adm.fp) + len(adm.nf), dtype=bool), np.ones(len(adm.ad), dtype=bool)])
    risk = _risk_events(s, known=known, all_spells=all_spells, is_adult=is_adult, dbt=dbt)
    activity = _activity(s)
    referrals = _referrals(known=known, dbt=dbt, activity=activity)

    folder = Path(folder)
    ids = _ids(seed=seed, people=s.people)
    _write_people(folder, s=s, ids=ids)
    ref_ids = _write_referrals(folder, ids=ids, refs=referrals.refs)
    written = _write_spells(folder, ids=ids, all_spells=all_spells, is_adult=is_adult, person_la=s.people.column("la"), streams=s.streams,
                            extra=activity["adult_ward_spells"], baseline=s.prog.baseline)
    _write_ecds(folder, ids=ids, ecds=att.ecds, birth=s.people.column("birth"))
    _write_risk_events(folder, ids=ids, risk=risk)
    _write_contacts(folder, s=s, ids=ids, referrals=referrals, ref_ids=ref_ids, dbt=dbt.records)
    delivery = _write_delivery(folder, s=s, ids=ids, written=written, referrals=referrals, ref_ids=ref_ids, adm=adm,
                               n_dbt_refs=len(dbt.records.referrals["person"]), fp_people=known.inpatient[0]["person"])

    real = realised(folder, s.prog.baseline, s.prog.post)
    truth = _truth(seed=seed, scale=scale, prog=s.prog, targets=(bed_day_reduction, ooa_reduction), adm=adm,
                   hazard_noise=known.hazard_noise, real=real, version=version)
    equity_windows = {"before": (START, s.prog.go_live), "after": (s.prog.phase_end, END + 1)}
    footprint_cyp = Spells.concat([dbt.records.spells, adm.fp])  # every spell of footprint CYP, as the cohort counts them
    truth["equity"] = equity_truth(s.people.column("ethnic")[footprint_cyp.person], footprint_cyp.ooa, footprint_cyp.start,
                                   equity_windows, iso)
    truth["crisis_line_extension"] = att.crisis_line
    truth["enhanced_crisis_teams"] = att.crisis_teams
    truth["delivery"] = delivery
    truth["delivery"]["activity"] = activity["truth"]
    truth["area_statistics"] = _write_area_statistics(folder, s=s, truth=truth, targets=(bed_day_reduction, ooa_reduction))
    (folder / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    _write_extract_yaml(folder, seed=seed, scale=scale, version=version)
    return truth["row_counts"]


def _setting(*, seed: int, scale: float, go_live: str, phase_in_months: int, bed_day_reduction: float, ooa_reduction: float) -> Setting:
    pop1 = population_rows(1.0)
    return Setting(
        streams=Streams(seed),
        prog=Programme(to_day(go_live), phase_in_months),
        scale=scale,
        bed_target=1 - bed_day_reduction,
        ooa_target=1 - ooa_reduction,
        cyp_index=daily_index(pop1, AGE_BANDS[:4]),
        adult_index=daily_index(pop1, AGE_BANDS[4:]),
        cyp_w=cyp_share_by_la(pop1),
        adult_w=adult_share_by_la(pop1),
        people=People(),
    )


def _dbt_cohort(s: Setting) -> DbtCohort:
    """The DBT cohort (fixed size; every record of these people is planted), first in the registry."""
    dbt = plant_dbt(s.streams("dbt"), s.cyp_w)
    offset = s.people.add(dbt.people["birth"], dbt.people["gender"], dbt.people["ethnic"], dbt.people["la"], dbt.people["lsoa"])
    dbt.spells.person = dbt.spells.person + offset
    return DbtCohort(records=dbt, offset=offset)


def _noise(rng):
    ar, fr = monthly_noise(rng)
    return ar, fr, with_burn_in(ar[DAY_MONTH] * fr[DAY_MONTH], 0.0)


def _admissions(s: Setting, *, dbt_spells: Spells) -> Admissions:
    """CYP admissions of footprint residents and from elsewhere (sized, drawn, calibrated), and adult admissions."""
    prog = s.prog
    lam0 = with_burn_in(CYP_ADMISSIONS_PER_MONTH * 12 / 365.25 * s.scale * s.cyp_index * np.exp(deterministic_log_rate(ADMISSIONS)), ADMISSIONS.trend)
    effects, expected = size_effects(prog, lam0, THETA_LOS, THETA_PICU_LOS, s.bed_target, s.ooa_target)

    def make_fp(rng):
        ar, fr, mult = _noise(rng)
        lam = lam0 * mult * prog.multiplier(effects.admissions, EXT_DAYS)
        return cyp_spells(rng, lam, prog, effects, s.cyp_w, 0, footprint=True), {"ar1": ar, "frailty": fr}

    def make_nf(rng):
        ar, fr, mult = _noise(rng)
        lam = NONFOOTPRINT_CYP_SHARE * lam0 * mult * prog.multiplier(effects.nonfootprint_admissions, EXT_DAYS)
        return cyp_spells(rng, lam, prog, effects, np.ones(s.n_elsewhere), N_FOOTPRINT, footprint=False), {"ar1": ar, "frailty": fr}

    fp, fp_noise, fp_info = _draw_calibrated(s.streams, "cyp_admissions", make_fp, dbt_spells, prog, s.bed_target, s.ooa_target)
    no_spells = dbt_spells.take(np.zeros(0, dtype=np.int64))
    nf, nf_noise, nf_info = _draw_calibrated(s.streams, "cyp_admissions_elsewhere", make_nf, no_spells, prog, s.bed_target, None)
    rng = s.streams("adult_admissions")
    lam_ad = ADULT_ADMISSIONS_PER_MONTH * 12 / 365.25 * s.scale * s.adult_index * np.exp(deterministic_log_rate(ADULTS))
    ad = adult_spells(rng, with_burn_in(lam_ad, ADULTS.trend) * _noise(rng)[2], s.adult_w, 0.15, s.n_elsewhere)
    return Admissions(fp=fp, nf=nf, ad=ad, effects=effects, expected=expected, fp_info=fp_info, nf_info=nf_info,
                      fp_noise=fp_noise, nf_noise=nf_noise)


def _inpatient_people(s: Setting, *, adm: Admissions) -> list[dict]:
    """Inpatients as people (readmissions linked), with their referrals; plants the ethnic inequality."""
    inpatient_refs = []
    for name, sp, p_readmit, gw in (
        ("fp", adm.fp, 0.15, C.CYP_INPATIENT_GENDER_WEIGHTS),
        ("nf", adm.nf, 0.10, C.CYP_INPATIENT_GENDER_WEIGHTS),
        ("adult", adm.ad, 0.20, C.ADULT_GENDER_WEIGHTS),
    ):
        rng = s.streams("inpatient_people", name)
        local, births = link_people(rng, sp, p_readmit)
        n_p = len(births)
        firsts = _person_firsts(local, sp.start, n_p)
        la = sp.la[firsts]
        sp.la = la[local]
        offset = s.people.add_new(rng, births, la, gw)
        if name == "fp":  # the planted inequality: ethnic group given the first spell (no spell changes)
            first_start = sp.start[firsts]
            plant_ethnic_inequality(s.streams("equity"), s.people.parts[-1]["ethnic"], sp.ooa[firsts], first_start, s.prog.ramp(first_start))
        sp.person = offset + local
        ends = sp.end()
        last_end = np.full(n_p, np.iinfo(np.int64).min)
        np.maximum.at(last_end, local, ends)
        first_start = sp.start[firsts]
        refs = inpatient_referrals(rng, first_start, ends[firsts] - first_start, last_end, births, la, sp.bed[firsts, 0], sp.adult, sp.org[firsts])
        refs["person"] = offset + np.arange(n_p)
        inpatient_refs.append(refs)
    return inpatient_refs


def _community(s: Setting) -> dict:
    """Community CYPMHS referrals, their people added to the registry."""
    lam_ref = CYP_REFERRALS_PER_MONTH * 12 / 365.25 * s.scale * s.cyp_index * np.exp(deterministic_log_rate(REFERRALS))
    rng = s.streams("community_referrals")
    comm, comm_people = community_referrals(rng, with_burn_in(lam_ref, REFERRALS.trend) * _noise(rng)[2], s.cyp_w, s.n_elsewhere)
    offset = s.people.add_new(rng, comm_people["birth"], comm_people["la"], C.CYP_GENDER_WEIGHTS)
    comm["person"] = comm["person"] + offset
    return comm


def _known_users(s: Setting, *, community: dict, inpatient_refs: list[dict]) -> KnownUsers:
    """Events of known service users (open CYPMHS referrals; not the DBT people) and their crisis referrals."""
    person_la = s.people.column("la")
    iv = {k: np.concatenate([r[k] for r in (community, inpatient_refs[0], inpatient_refs[1])]) for k in ("person", "received", "disch", "org")}
    intervals = {
        "person": iv["person"],
        "start": iv["received"],
        "end": np.where(iv["disch"] == NULL_DAY, END + 1, iv["disch"]),
        "org": iv["org"],
        "footprint": (person_la[iv["person"]] >= 0) & (person_la[iv["person"]] < N_FOOTPRINT),
    }
    thetas = {"ae_known_users": THETA_AE_KNOWN, "crisis_contacts_known_users": THETA_CRISIS_KNOWN}
    events, hazard_noise = hazard_events(s.streams, intervals, s.prog, thetas)
    crisis = crisis_referrals(s.streams("crisis_referrals"), events["crisis"], intervals)
    return KnownUsers(community=community, inpatient=inpatient_refs, events=events, hazard_noise=hazard_noise, crisis=crisis)


def _ecds_parts(s: Setting, *, adm: Admissions, known: KnownUsers) -> tuple[list[dict], int]:
    """ECDS attendances before the crisis line: known users', the background ones (thinned by the
    enhanced crisis teams) and those of admissions via A&E; with the count the teams thinned."""
    people, rng = s.people, s.streams("ecds")
    person_la, person_birth = people.column("la"), people.column("birth")
    ae = known.events["ae"]
    parts = [{**ecds_rows(rng, ae["person"], ae["day"], person_la[ae["person"]], known_user_ecds_kind(rng, len(ae["day"]))),
              "source": np.full(len(ae["day"]), CT.KNOWN_USER)}]
    # CYP in the year before their first referral (not yet known service users)
    cyp_people = np.unique(np.concatenate([r["person"] for r in known.cyp]))
    first_ref = np.full(people.n, np.iinfo(np.int64).max)
    for r in known.cyp:
        np.minimum.at(first_ref, r["person"], r["received"])
    lo = np.maximum.reduce([first_ref[cyp_people] - 365, person_birth[cyp_people], np.full(len(cyp_people), START)])
    who, day, kind = background_ecds(rng, cyp_people, lo, first_ref[cyp_people] - 1, 0.4, (0.10, 0.15, 0.75))
    rows = ecds_rows(rng, who, day, person_la[who], kind)
    # the enhanced crisis teams (2016): thin such attendances of CYP not yet known to services
    teams_exposed = CT.exposed_window_count(who, day, kind, person_la, person_birth)
    keep = CT.thin(s.streams("crisis_teams", "thin"), who, day, kind, person_la, person_birth)
    parts.append({**{k: v[keep] for k, v in rows.items()}, "source": np.full(int(keep.sum()), CT.BACKGROUND)})
    adults = known.inpatient[2]["person"]
    lo = np.maximum(START, shift_years(person_birth[adults], 18))
    who, day, kind = background_ecds(rng, adults, lo, np.full(len(adults), END), 1.0, (0.05, 0.15, 0.80))
    parts.append({**ecds_rows(rng, who, day, person_la[who], kind), "source": np.full(len(day), CT.BACKGROUND)})
    # the emergency department visit of admissions via A&E (not the planted DBT spells)
    spells = Spells.concat([adm.fp, adm.nf, adm.ad])
    via_ae = (spells.method == ADMISSION_METHODS.index("21")) & (spells.start >= START)
    who = spells.person[via_ae]
    kind = np.where(rng.random(len(who)) < 0.4, C.ECDS_SELF_HARM, C.ECDS_MENTAL_HEALTH)
    parts.append({**ecds_rows(rng, who, spells.start[via_ae], person_la[who], kind), "source": np.full(len(who), CT.ADMISSION)})
    return parts, teams_exposed


def _attendances(s: Setting, *, adm: Admissions, known: KnownUsers, dbt: DbtCohort) -> Attendances:
    """Every ECDS attendance: the 2020 crisis-line extension thins the exposed ones and adds those of
    CYP not known to services; the DBT cohort's are added last. With both components' truth."""
    parts, teams_exposed = _ecds_parts(s, adm=adm, known=known)
    ecds = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    people = s.people
    person_la, person_birth = people.column("la"), people.column("birth")
    n_mh = len(C.MH_COMPLAINTS)
    kind = np.where((ecds["complaint"] >= 0) & (ecds["complaint"] <= n_mh), C.ECDS_MENTAL_HEALTH, C.ECDS_OTHER)
    thinned_without = CL.exposed_window_count(ecds["person"], ecds["date"], kind, person_la, person_birth)
    keep = CL.thin(s.streams("crisis_line", "thin"), ecds["person"], ecds["date"], kind, person_la, person_birth)
    parts = [{k: v[keep] for k, v in ecds.items()}]
    unknown, crisis_line_expected = CL.population_attendances(s.streams, s.scale, s.cyp_index, s.cyp_w, s.n_elsewhere)
    for area, att in unknown.items():
        rng = s.streams("crisis_line_people", area)
        offset = people.add_new(rng, CL.births(rng, att), att["la"], C.CYP_GENDER_WEIGHTS)
        complaint, intent, diag = C.ecds_codes(rng, att["kind"])
        parts.append({"person": offset + np.arange(len(att["day"])), "date": att["day"], "provider": att["provider"],
                      "complaint": complaint, "intent": intent, "diag": diag, "source": np.full(len(att["day"]), CT.POPULATION)})
    planted = dbt.records.ecds
    parts.append({**planted, "person": planted["person"] + dbt.offset, "source": np.full(len(planted["person"]), CT.DBT_COHORT)})
    ecds = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    person_la, person_birth = people.column("la"), people.column("birth")
    crisis_line = CL.truth(crisis_line_expected, thinned_without)
    crisis_line["realised"] = CL.realised(ecds["person"], ecds["date"], ecds["complaint"], person_la, person_birth, n_mh)

    def by_source(lo_, hi_):
        return CT.series_counts(ecds["source"], ecds["person"], ecds["date"], ecds["complaint"], person_la, person_birth, n_mh, lo_, hi_)

    teams = crisis_line_expected["crisis_teams"]
    crisis_teams = CT.truth(
        {"population_with": teams["with"], "population_without": teams["without"], "background_exposed": teams_exposed,
         "realised": by_source(*CT.window())},
        by_source(*s.prog.post), theta_ae_known=THETA_AE_KNOWN, theta_admissions=adm.effects.admissions, post=s.prog.post)
    return Attendances(ecds=ecds, crisis_line=crisis_line, crisis_teams=crisis_teams)


def _risk_events(s: Setting, *, known: KnownUsers, all_spells: Spells, is_adult: np.ndarray, dbt: DbtCohort) -> dict:
    """RiskEvents: known users' self-harm, suicide attempts and violence, inpatient incidents, the DBT cohort's."""
    events = known.events
    risk_parts = [
        {"person": events[h]["person"], "date": events[h]["day"], "type": np.full(len(events[h]["day"]), C.RISK[h])}
        for h in ("self_harm", "suicide_attempt", "violence")
    ]
    starts, ends, present = all_spells.bounds()
    rows, cols = np.nonzero(present)
    risk_parts.append(inpatient_incidents(s.streams("incidents"), all_spells.person[rows], starts[rows, cols], ends[rows, cols], is_adult[rows]))
    risk_parts.append({**dbt.records.risk, "person": dbt.records.risk["person"] + dbt.offset})
    return {k: np.concatenate([p[k] for p in risk_parts]) for k in ("person", "date", "type")}


REFERRAL_FIELDS = ("person", "org", "received", "disch", "team", "reason", "kind")


def _referrals(*, known: KnownUsers, dbt: DbtCohort, activity: dict) -> Referrals:
    """Every referral (DBT, inpatients', community, crisis), sorted by received date, kind and person;
    then the components' activity referrals (`_activity`), after all of them."""
    planted = dbt.records.referrals
    dbt_refs = {**planted, "person": planted["person"] + dbt.offset, "kind": np.full(len(planted["person"]), DBT)}
    ref_parts = [dbt_refs, *known.inpatient, known.community, known.crisis]
    refs = {k: np.concatenate([np.asarray(p[k], dtype=np.int64) for p in ref_parts]) for k in REFERRAL_FIELDS}
    ref_order = np.lexsort((refs["person"], refs["kind"], refs["received"]))
    position = np.empty(len(ref_order), dtype=np.int64)
    position[ref_order] = np.arange(len(ref_order))
    extra = activity["referrals"]
    sorted_refs = {k: np.concatenate([v[ref_order], np.asarray(extra[k], dtype=np.int64)]) for k, v in refs.items()}
    return Referrals(refs=sorted_refs, position=position, extra_contacts={"ref": len(ref_order) + activity["contacts"]["ref"],
                                                                          "day": activity["contacts"]["day"]})


def _activity(s: Setting) -> dict:
    """The components' activity on new people (`_activity`): crisis-line calls, single point of
    access referrals (rows for MHS101/MHS201) and under-18s on adult wards (spells); with truth."""
    people, prog = s.people, s.prog
    line_from, extension, opens = to_day(CT.ENHANCED_CRISIS_TEAMS), CL.extension_day(), D.picu_opens()
    calls = A.crisis_line_calls(s.streams("activity", "calls"), s.scale, line_from, extension)
    received, first = A.spa_referrals(s.streams("activity", "spa"), s.scale, prog.ramp)
    start, los = A.adult_ward_admissions(s.streams("activity", "adult_wards"), s.scale, opens)
    outreach, outreach_days = A.outreach_referrals(s.streams("activity", "outreach"), s.scale, prog.ramp)
    parts = {}
    for name, on, ages in (("calls", calls, (11, 17)), ("spa", received, (5, 17)), ("adult_ward", start, (16, 17)),
                           ("outreach", outreach, (12, 17))):
        rng = s.streams("activity", "people", name)
        who = A.people(rng, on, ages, s.cyp_w)
        parts[name] = people.add_new(rng, who["birth"], who["la"], C.CYP_GENDER_WEIGHTS) + np.arange(len(on))
    la = people.column("la")
    open_spa = first > END
    last_outreach = outreach_days[:, -1]
    n_calls, n_spa, n_out = len(calls), len(received), len(outreach)
    who = np.concatenate([parts["calls"], parts["spa"], parts["outreach"]])
    referrals = {
        "person": who,
        "org": LA_TRUST[la[who]],
        "received": np.concatenate([calls, received, outreach]),
        "disch": np.concatenate([calls, np.where(open_spa, NULL_DAY, first), np.where(last_outreach > END, NULL_DAY, last_outreach)]),
        "team": np.concatenate([np.full(n_calls, C.TEAM["A19"]), np.full(n_spa, C.TEAM["A18"]), np.full(n_out, C.TEAM["A08"])]),
        "reason": np.full(n_calls + n_spa + n_out, -1),
        "kind": np.full(n_calls + n_spa + n_out, A.ACTIVITY),
    }
    # each activity referral's contacts: (its index among these referrals, day); none after the extract end
    ref = np.concatenate([np.arange(n_calls), n_calls + np.flatnonzero(~open_spa), np.repeat(n_calls + n_spa + np.arange(n_out), A.OUTREACH_CONTACTS)])
    day = np.concatenate([calls, first[~open_spa], outreach_days.ravel()])
    keep = day <= END
    contacts = {"ref": ref[keep], "day": day[keep]}
    n = len(start)
    dur, kind, bed = np.zeros((n, 3), dtype=np.int64), np.zeros((n, 3), dtype=np.int8), np.zeros((n, 3), dtype=np.int16)
    dur[:, 0], kind[:, 0], bed[:, 0] = los, 1, ADULT_ACUTE
    person_la = la[parts["adult_ward"]]
    spells = Spells(start, dur, kind, bed, np.zeros(n, dtype=bool), LA_TRUST[person_la], np.zeros(n, dtype=bool),
                    A.age_on(people.column("birth")[parts["adult_ward"]], start), person_la,
                    np.full(n, ADMISSION_METHODS.index("21")), np.zeros(n, dtype=np.int64), adult=True,
                    person=parts["adult_ward"])
    wait = first[~open_spa] - received[~open_spa]
    windows = {"baseline": prog.baseline, "post": prog.post}
    truth = {
        "crisis_line_calls_of_cyp_not_known": {
            "planted_per_month_scale_1": {"before " + CT.ENHANCED_CRISIS_TEAMS: 0.0, "from " + CT.ENHANCED_CRISIS_TEAMS: A.CALLS_PER_MONTH[0],
                                          "from " + CL.CRISIS_LINE_EXTENSION: A.CALLS_PER_MONTH[1]},
            "monthly": A.monthly_counts(calls),
            "how": "a referral to A19 received and discharged on the call day, one attended telephone contact (not known service users: the referral is not open after the call)"},
        "single_point_of_access": {
            "opens": iso(prog.go_live), "planted_per_month_scale_1_once_phased_in": A.SPA_PER_MONTH,
            "planted_median_wait_days": {"phase_in_start": A.SPA_MEDIAN_WAIT[0], "phase_in_end_and_after": A.SPA_MEDIAN_WAIT[1]},
            "monthly_referrals": A.monthly_counts(received),
            "realised_median_wait_days": {k: float(np.median(wait[(first[~open_spa] >= lo) & (first[~open_spa] < hi)]))
                                          if ((first[~open_spa] >= lo) & (first[~open_spa] < hi)).any() else None
                                          for k, (lo, hi) in windows.items()},
            "how": "routine referrals to A18 from go-live (ramping with the phase-in), closed on the first attended contact; waits gamma (shape 2) with the median falling linearly over the phase-in; these add to the A18 crisis-episode referrals of known service users (first contact on the day)"},
        "cyp_on_adult_wards": {
            "planted_per_month_scale_1": {"before " + D.PICU_OPENS: A.ADULT_WARD_PER_MONTH[0], "from " + D.PICU_OPENS: A.ADULT_WARD_PER_MONTH[1]},
            "admissions": per_window_iso(start, {"before_picu": (M.add_months(opens, -24), opens), "after_picu": (opens, M.add_months(opens, 24))}),
            "how": "16-17-year-old footprint residents admitted in an emergency (21) to an adult acute bed (200) of their network trust for 1 + Poisson(2) days"},
    }
    truth["enhanced_outreach"] = {
        "opens": iso(prog.go_live), "planted_referrals_per_month_scale_1_once_phased_in": A.OUTREACH_PER_MONTH,
        "contacts_per_referral": A.OUTREACH_CONTACTS, "monthly_referrals": A.monthly_counts(outreach),
        "how": "referrals of CYP not otherwise known to an assertive outreach team (A08) from go-live, ramping with the phase-in; weekly attended contacts from a week after receipt, closed at the last"}
    return {"referrals": referrals, "contacts": contacts, "adult_ward_spells": spells, "truth": truth}


def per_window_iso(days: np.ndarray, windows: dict) -> dict:
    return {name: {"window": [iso(lo), iso(hi)], "n": int(((days >= lo) & (days < hi)).sum())} for name, (lo, hi) in windows.items()}


def _ids(*, seed: int, people: People) -> Ids:
    salt = int(np.random.SeedSequence([seed, 7]).generate_state(1, np.uint64)[0])
    return Ids(person=numbered("P", permuted(np.arange(people.n), 36, salt), 11), org_codes=pa.array(list(ORG_CODES), type=pa.string()), salt=salt)


def _write_people(folder: Path, *, s: Setting, ids: Ids) -> None:
    """population, MHS001MPI (sorted by Person_ID) and deprivation."""
    pop_rows = population_rows(s.scale)
    write(build("population", {k: pa.array(list(v)) if v.dtype.kind == "U" else pa.array(v) for k, v in pop_rows.items()}), folder / "population.parquet")
    people = s.people
    mpi = build(
        "MHS001MPI",
        {
            "Person_ID": ids.person,
            "PersonBirthDate": dates(people.column("birth")),
            "Gender": coded(C.GENDERS, people.column("gender")),
            "EthnicCategory": coded(C.ETHNICITIES, people.column("ethnic")),
            "LADistrictAuth": coded(LA_CODES, people.column("la")),
            "LSOA2011": _lsoa(people.column("lsoa")),
        },
    )
    write(mpi.take(pa.compute.sort_indices(mpi, [("Person_ID", "ascending")])), folder / "MHS001MPI.parquet")
    del mpi
    imd = deprivation_rows(s.streams("deprivation"), len(LA_CODES), LSOAS_PER_LA)
    write(build("deprivation", {"LSOA2011": _lsoa(imd["lsoa"]), "IMDDecile": pa.array(imd["decile"]),
                                "IMDYear": pa.array(imd["year"])}), folder / "deprivation.parquet")


def _write_referrals(folder: Path, *, ids: Ids, refs: dict) -> pa.Array:
    """MHS101Referral; returns the referral identifiers (UniqServReqID) in written order."""
    ref_ids = numbered(org_prefix(refs["org"], "S"), np.arange(1, len(refs["org"]) + 1), 9)
    columns = {
        "UniqServReqID": ref_ids,
        "Person_ID": ids.person.take(pa.array(refs["person"])),
        "OrgIDProv": ids.org_codes.take(pa.array(refs["org"])),
        "ReferralRequestReceivedDate": dates(refs["received"]),
        "ServDischDate": dates(refs["disch"]),
        "ServTeamTypeRefToMH": coded(C.TEAM_TYPES, refs["team"]),
        "PrimReasonReferralMH": coded(C.REASONS, refs["reason"]),
    }
    write(build("MHS101Referral", columns), folder / "MHS101Referral.parquet")
    return ref_ids


def _write_spells(folder: Path, *, ids: Ids, all_spells: Spells, is_adult: np.ndarray, person_la: np.ndarray, streams: Streams,
                  extra: Spells, baseline: tuple[int, int]) -> dict:
    """MHS501HospProvSpell and MHS502WardStay, spells sorted by start then person, then the `extra`
    (adult-ward) spells of `_activity`; returns what the delivery tables (`_write_delivery`) are drawn from."""
    spell_order = np.lexsort((all_spells.person, all_spells.start))
    sp = Spells.concat([all_spells.take(spell_order), extra])
    adult = np.concatenate([is_adult[spell_order], np.ones(len(extra), dtype=bool)])
    starts, ends, present = sp.bounds()
    spell_end = sp.end()
    open_spell = spell_end > END
    sp_org = ids.org_codes.take(pa.array(sp.org))
    spell_ids = numbered(org_prefix(sp.org, "H"), np.arange(1, len(sp) + 1), 8)
    spells = {
        "UniqHospProvSpellID": spell_ids,
        "Person_ID": ids.person.take(pa.array(sp.person)),
        "OrgIDProv": sp_org,
        "StartDateHospProvSpell": dates(sp.start),
        "DischDateHospProvSpell": dates(np.where(open_spell, NULL_DAY, spell_end)),
        "MethAdmMHHospProvSpell": coded(ADMISSION_METHODS, sp.method),
        "DestOfDischHospProvSpell": coded(DESTINATIONS, np.where(open_spell, -1, sp.dest)),
    }
    write(build("MHS501HospProvSpell", spells), folder / "MHS501HospProvSpell.parquet")
    rows, cols = np.nonzero(present)
    bed = _bed_types(sp.bed[rows, cols].astype(np.int64), sp.age[rows])
    ward_type, ward_age, security = _ward_codes(bed)
    site = np.vectorize(_SITE.get)(bed) + np.where(sp.move[rows] & (cols == 1), 10, 0)
    stay_end = ends[rows, cols]
    la = person_la[sp.person[rows]]
    ward = D.split_large_wards(D.ward_codes(sp.org[rows], site, bed, starts[rows, cols]), bed, starts[rows, cols],
                               stay_end, baseline)
    km = D.distances(streams("delivery", "distance"), sp.org[rows], np.where(la >= 0, LA_TRUST[np.maximum(la, 0)], -1),
                     (la >= 0) & (la < N_FOOTPRINT), sp.ooa[rows], adult[rows])
    stays = {
        "UniqWardStayID": numbered(org_prefix(sp.org[rows], "W"), np.arange(1, len(rows) + 1), 8),
        "UniqHospProvSpellID": spell_ids.take(pa.array(rows)),
        "Person_ID": ids.person.take(pa.array(sp.person[rows])),
        "OrgIDProv": sp_org.take(pa.array(rows)),
        "SiteIDOfTreat": numbered(org_prefix(sp.org[rows]), site, 2),
        "StartDateWardStay": dates(starts[rows, cols]),
        "EndDateWardStay": dates(np.where(stay_end > END, NULL_DAY, stay_end)),
        "WardType": _as_str(ward_type),
        "WardAge": _as_str(ward_age),
        "WardSecLevel": _as_str(security),
        "MHAdmittedPatientClass": pa.compute.cast(pa.array(bed), pa.string()),
        "UniqWardCode": pa.array(list(ward), type=pa.string()),
        "WardLocDistanceHome": pa.array(km),
    }
    write(build("MHS502WardStay", stays), folder / "MHS502WardStay.parquet")
    return {"stay_ids": stays["UniqWardStayID"], "spell_ids": spell_ids, "person": sp.person, "spell_start": sp.start,
            "spell_end": spell_end, "spell_org": sp.org, "adult": adult, "rows": rows, "stay_start": starts[rows, cols],
            "stay_end": stay_end, "stay_org": sp.org[rows], "site": site, "bed": bed, "ward": ward, "km": km,
            "footprint": (la >= 0) & (la < N_FOOTPRINT), "ooa": sp.ooa[rows]}


def _write_ecds(folder: Path, *, ids: Ids, ecds: dict, birth: np.ndarray) -> None:
    """ECDS, sorted by arrival date then person; record IDs permuted."""
    order = np.lexsort((ecds["person"], ecds["date"]))
    ecds = {k: v[order] for k, v in ecds.items()}
    columns = {
        "Generated_Record_ID": numbered("", permuted(np.arange(len(order)), 40, ids.salt >> 3), 13),
        "Person_ID": ids.person.take(pa.array(ecds["person"])),
        "Der_Provider_Code": ids.org_codes.take(pa.array(ecds["provider"])),
        "Arrival_Date": dates(ecds["date"]),
        "Age_At_Arrival": pa.array(age_on(birth[ecds["person"]], ecds["date"])),
        "EC_Chief_Complaint_SNOMED_CT": coded(C.ECDS_COMPLAINTS, ecds["complaint"]),
        "EC_Injury_Intent_SNOMED_CT": coded(C.ECDS_INTENTS, ecds["intent"]),
        "Der_EC_Diagnosis_All": coded(C.ECDS_DIAGNOSES, ecds["diag"]),
    }
    write(build("ECDS", columns), folder / "ECDS.parquet")


def _write_risk_events(folder: Path, *, ids: Ids, risk: dict) -> None:
    order = np.lexsort((risk["type"], risk["person"], risk["date"]))
    risk = {k: v[order] for k, v in risk.items()}
    columns = {
        "EventID": numbered("RE", np.arange(1, len(order) + 1), 9),
        "Person_ID": ids.person.take(pa.array(risk["person"])),
        "EventDate": dates(risk["date"]),
        "EventType": coded(C.RISK_TYPES, risk["type"]),
    }
    write(build("RiskEvents", columns), folder / "RiskEvents.parquet")


def _write_contacts(folder: Path, *, s: Setting, ids: Ids, referrals: Referrals, ref_ids: pa.Array, dbt: DBTRecords) -> None:
    """MHS201CareContact and MHS202CareActivity, in pieces of CONTACT_CHUNK referrals: the DBT
    cohort's planted contacts first, then those drawn for every other referral."""
    refs = referrals.refs
    contacts = ChunkedWriter("MHS201CareContact", folder / "MHS201CareContact.parquet")
    activities = ChunkedWriter("MHS202CareActivity", folder / "MHS202CareActivity.parquet")
    counters = {"contact": 0, "activity": 0}

    line_from = to_day(CT.ENHANCED_CRISIS_TEAMS)

    def emit(ref_index, date, mech, attend, act_contact, act_code):
        n = len(ref_index)
        line = refs["team"][ref_index] == C.TEAM["A19"]
        times = D.contact_times(s.streams("delivery", "contact_times", counters["contact"]), date, line, line_from)
        org = refs["org"][ref_index]
        contact_ids = numbered(org_prefix(org, "C"), counters["contact"] + 1 + np.arange(n), 10)
        contacts.add({
            "UniqCareContID": contact_ids,
            "UniqServReqID": ref_ids.take(pa.array(ref_index)),
            "Person_ID": ids.person.take(pa.array(refs["person"][ref_index])),
            "CareContDate": dates(date),
            "ConsMechanismMH": coded(C.MECHANISMS, mech),
            "AttendOrDNACode": coded(C.ATTENDANCE, attend),
            "CareContTime": pa.array(list(times), type=pa.string()),
        })
        activities.add({
            "UniqCareActID": numbered(org_prefix(org[act_contact], "A"), counters["activity"] + 1 + np.arange(len(act_contact)), 10),
            "UniqCareContID": contact_ids.take(pa.array(act_contact)),
            "Procedure": coded(ACTIVITY_CODES, act_code),
        })
        counters["contact"] += n
        counters["activity"] += len(act_contact)

    d = dbt.contacts
    emit(referrals.position[d["ref"]], d["date"], d["mech"], d["attend"], dbt.activities["contact"], dbt.activities["code"])
    general = np.flatnonzero((refs["kind"] != DBT) & (refs["kind"] != A.ACTIVITY))
    for piece, lo in enumerate(range(0, len(general), CONTACT_CHUNK)):
        emit(*_contacts(s.streams("contacts", piece), general[lo : lo + CONTACT_CHUNK], refs))
    extra = referrals.extra_contacts  # the components' activity (`_activity`): attended contacts, in referral order
    line = refs["team"][extra["ref"]] == C.TEAM["A19"]
    mech = np.where(line, C.MECHANISMS.index("02"), np.asarray([C.MECHANISMS.index(m) for m in ("01", "02", "11")])[
        choice(s.streams("activity", "mechanism"), len(line), (0.6, 0.3, 0.1))])
    none = np.zeros(0, dtype=np.int64)
    emit(extra["ref"], extra["day"], mech, np.zeros(len(line), dtype=np.int64), none, none)
    contacts.close()
    activities.close()


def _write_delivery(folder: Path, *, s: Setting, ids: Ids, written: dict, referrals: Referrals, ref_ids: pa.Array, adm: Admissions,
                    n_dbt_refs: int, fp_people: np.ndarray) -> dict:
    """Issue 22's optional tables (MHS903WardDetails, MHS505RestrictiveIntervention, MHS401MHActPeriod,
    MHS607CodedScoreAssessment) from their own streams; returns their truth for truth.json."""
    w, prog = written, s.prog
    cyp_stay = w["bed"] >= 300
    stay_end = np.where(w["stay_end"] > END, END + 1, w["stay_end"])
    wards = D.ward_details(w["ward"], w["stay_org"], w["site"], w["bed"], w["stay_start"], stay_end, prog.baseline)
    ward_type = np.full(len(wards["ward"]), "01", dtype=object)
    write(build("MHS903WardDetails", {
        "UniqWardCode": pa.array(list(wards["ward"]), type=pa.string()),
        "OrgIDProv": ids.org_codes.take(pa.array(wards["org"])),
        "SiteIDOfWard": numbered(org_prefix(wards["org"]), wards["site"], 2),
        "ReportingPeriodStartDate": dates(wards["month"]),
        "WardType": pa.array(list(ward_type), type=pa.string()),
        "MHAdmittedPatientClass": pa.compute.cast(pa.array(wards["bed"]), pa.string()),
        "BedsCommissioned": pa.array(wards["beds"]),
        "AvailBedDays": pa.array(wards["avail"]),
        "ClosedBedDays": pa.array(np.zeros(len(wards["ward"]), dtype=np.int64)),
    }), folder / "MHS903WardDetails.parquet")

    cyp_rows = np.flatnonzero(cyp_stay)
    ri = D.restrictive_interventions(s.streams("delivery", "restrictive"), cyp_rows, w["stay_start"][cyp_rows], stay_end[cyp_rows])
    stay_person = w["person"][w["rows"]]
    write(build("MHS505RestrictiveIntervention", {
        "UniqRestrictiveIntTypeID": numbered(org_prefix(w["stay_org"][ri["stay"]], "R"), np.arange(1, len(ri["day"]) + 1), 9),
        "UniqWardStayID": w["stay_ids"].take(pa.array(ri["stay"])),
        "Person_ID": ids.person.take(pa.array(stay_person[ri["stay"]])),
        "OrgIDProv": ids.org_codes.take(pa.array(w["stay_org"][ri["stay"]])),
        "StartDateRestrictiveIntType": dates(ri["day"]),
        "EndDateRestrictiveIntType": dates(ri["day"]),
        "RestrictiveIntType": coded(D.RESTRICTIVE_TYPES, ri["type"]),
    }), folder / "MHS505RestrictiveIntervention.parquet")

    cyp_spells = np.flatnonzero(~w["adult"])
    mha = D.mha_periods(s.streams("delivery", "mha"), w["spell_start"][cyp_spells], w["spell_end"][cyp_spells])
    spell = cyp_spells[mha["spell"]]
    order = np.lexsort((w["person"][spell], mha["start"]))
    spell, start, end, status = spell[order], mha["start"][order], mha["end"][order], mha["status"][order]
    write(build("MHS401MHActPeriod", {
        "UniqMHActEpisodeID": numbered(org_prefix(w["spell_org"][spell], "M"), np.arange(1, len(spell) + 1), 8),
        "Person_ID": ids.person.take(pa.array(w["person"][spell])),
        "OrgIDProv": ids.org_codes.take(pa.array(w["spell_org"][spell])),
        "StartDateMHActLegalStatusClass": dates(start),
        "EndDateMHActLegalStatusClass": dates(np.where(end > END, NULL_DAY, end)),
        "LegalStatusCode": pa.array(list(status), type=pa.string()),
    }), folder / "MHS401MHActPeriod.parquet")

    fp = adm.fp
    offset = int(fp_people[0]) if len(fp_people) else 0
    firsts = _person_firsts(fp.person - offset, fp.start, len(fp_people))
    first_start, first_end = fp.start[firsts], fp.end()[firsts]
    sc = D.scored_assessments(s.streams("delivery", "scores"), first_start, first_end, prog.ramp)
    ref_rows = referrals.position[n_dbt_refs + sc["person"]]
    order = np.lexsort((sc["tool"], sc["person"], sc["day"]))
    write(build("MHS607CodedScoreAssessment", {
        "UniqCodedScoreAssID": numbered("SA", np.arange(1, len(order) + 1), 9),
        "UniqServReqID": ref_ids.take(pa.array(ref_rows[order])),
        "Person_ID": ids.person.take(pa.array(fp_people[sc["person"]][order])),
        "AssToolCompDate": dates(sc["day"][order]),
        "CodedAssToolType": coded(D.TOOLS, sc["tool"][order]),
        "PersScore": pa.array(sc["score"][order].astype(float)),
    }), folder / "MHS607CodedScoreAssessment.parquet")
    return _delivery_truth(s, w, stay_end, wards, ri, len(cyp_spells), len(spell), sc)


def _delivery_truth(s: Setting, w: dict, stay_end: np.ndarray, wards: dict, ri: dict, n_cyp_spells: int, n_detained: int, sc: dict) -> dict:
    """truth.json["delivery"]: the planted values, and what simple counts of the files give."""
    prog = s.prog
    windows = {"baseline": prog.baseline, "post": prog.post}
    opens = D.picu_opens()
    picu_window = (opens, M.add_months(opens, 24))
    on_picu = w["ward"] == D.PICU_WARD
    picu_days = D.occupied_by_month(w["stay_start"][on_picu], stay_end[on_picu], *picu_window)
    picu_avail = D.PICU_BEDS * (picu_window[1] - picu_window[0])
    # MHS22a-like: footprint CYP ward stays open at each month end, pooled over the window's months
    fp_cyp = (w["bed"] >= 300) & w["footprint"] & ~w["adult"][w["rows"]]
    distance = {}
    for name, (lo, hi) in windows.items():
        months = [M.add_months(lo, k + 1) for k in range(12)]
        km = np.concatenate([w["km"][fp_cyp & (w["stay_start"] < m) & (w["stay_end"] >= m)] for m in months])
        distance[name] = {"stay_months": int(len(km)), "median_km": float(np.median(km)), "share_50km_or_more": float((km >= 50).mean())}
    n_pairs = len(sc["pair_end"])
    first, last = sc["score"][:n_pairs], sc["score"][n_pairs:]
    tool = sc["tool"][:n_pairs]
    improved = np.where(tool == 0, last - first >= 10, first - last >= 6)
    return {
        "components": {
            "enhanced_crisis_teams_and_out_of_hours_line": CT.ENHANCED_CRISIS_TEAMS,
            "crisis_line_extension": CL.CRISIS_LINE_EXTENSION,
            "programme_go_live": iso(prog.go_live),
            "adolescent_picu_opens": D.PICU_OPENS,
        },
        "picu": {"opens": D.PICU_OPENS, "beds": D.PICU_BEDS, "ward": D.PICU_WARD, "provider": D.PICU_PROVIDER,
                 "first_two_years": D.iso_window(picu_window), "occupied_bed_days": picu_days, "available_bed_days": picu_avail,
                 "occupancy": picu_days / picu_avail,
                 "note": "occupied bed days (MHS24) on the PICU ward over its available bed days; the ward's stays are RV5's CYP PICU stays from the opening"},
        "commissioned_beds": {"target_occupancy_baseline": D.TARGET_OCCUPANCY, "old_picu_beds": D.OLD_PICU_BEDS,
                              "wards": int(len(set(wards["ward"])))},
        "restrictive_interventions": {"planted_per_1000_occupied_bed_days": D.RESTRICTIVE_PER_1000, "planted_rate_ratio": 1.0,
                                      "applies_to": "every CYP ward stay (bed types 3xx), any provider", "rows": int(len(ri["day"]))},
        "mha_detentions": {"planted_share_of_cyp_spells": D.P_DETAINED, "planted_share_section_3": D.P_SECTION_3,
                           "cyp_spells": n_cyp_spells, "detained_spells": n_detained,
                           "applies_to": "CYP hospital spells admitted from the extract start; the detention starts on the admission day"},
        "distance_from_home": {"windows": {k: D.iso_window(v) for k, v in windows.items()}, "realised": distance,
                               "definition": "WardLocDistanceHome of footprint residents' CYP ward stays open at each month end (start < first of the next month <= end), pooled over the 12 month ends of the window"},
        "paired_outcomes": {"planted_p_reliable_improvement_before": D.P_IMPROVED_BEFORE, "planted_p_reliable_improvement_after": D.P_IMPROVED_AFTER,
                            "pairs": int(n_pairs),
                            "realised": {k: D.window_share(improved, sc["pair_end"], v) for k, v in windows.items()},
                            "definition": "first spell of each footprint CYP inpatient: a score on the admission day and on the discharge day (>= 14 days apart); reliable improvement: CGAS up 10 or more, HoNOSCA down 6 or more; windows by the discharge day"},
        "crisis_line_out_of_hours": {"planted_weekday_share_before": D.P_OUT_OF_HOURS_BEFORE, "planted_weekday_share_after": D.P_OUT_OF_HOURS_AFTER,
                                     "expected_share_before": 2 / 7 + 5 / 7 * D.P_OUT_OF_HOURS_BEFORE,
                                     "expected_share_after": 2 / 7 + 5 / 7 * D.P_OUT_OF_HOURS_AFTER,
                                     "from": CT.ENHANCED_CRISIS_TEAMS, "applies_to": "care contacts on referrals to team type A19 (24/7 crisis response line); weekend contacts are out of hours whatever the time"},
    }
def _write_area_statistics(folder: Path, *, s: Setting, truth: dict, targets: tuple[float, float]) -> dict:
    """area_statistics (optional table): the footprint's boroughs counted on the written files and
    the donor areas from their own stream (_areas.py); returns truth.json's section."""
    noise = truth["rate_model"]["realised_monthly_noise"]
    ar, fr = np.asarray(noise["cyp_admissions_ar1"]), np.asarray(noise["cyp_admissions_frailty"])
    cols, donors = area_statistics(folder, s.streams("area_statistics"), s.scale, np.log(ar * fr))
    count = cols["count"]
    table = build("area_statistics", {
        "area_code": pa.array(cols["area_code"]), "month": dates(cols["month"]), "measure": pa.array(cols["measure"]),
        "count": pa.array(np.where(count < 0, 0, count), mask=count < 0), "population": pa.array(cols["population"])})
    write(table, folder / "area_statistics.parquet")
    truth["row_counts"]["area_statistics"] = table.num_rows
    return area_truth(donors, go_live=iso(s.prog.go_live), phase_end=iso(s.prog.phase_end), bed_day_reduction=targets[0],
                      ooa_reduction=targets[1], no_programme=_no_programme_ratios(s, ar * fr))


def _no_programme_ratios(s: Setting, noise: np.ndarray) -> dict[str, float]:
    """Expected post-year / baseline-year bed days and out-of-network bed days of footprint CYP with
    no programme at all (no admission, placement or length-of-stay effect), given the realised
    monthly noise of admissions: the denominators of the planted effects on the footprint's series."""
    lam = with_burn_in(CYP_ADMISSIONS_PER_MONTH * 12 / 365.25 * s.scale * s.cyp_index * np.exp(deterministic_log_rate(ADMISSIONS)),
                       ADMISSIONS.trend) * with_burn_in(noise[DAY_MONTH], 0.0)
    none = Effects(1.0, 1.0, 1.0, 1.0)
    totals = {}
    for name, window in (("baseline", s.prog.baseline), ("post", s.prog.post)):
        a, x_in, y_in, y_ooa, _ = _expected_overlaps(s.prog, none, window)
        weight = lam[a - BURN_START]
        totals[name] = (float((weight * (x_in - y_in + y_ooa)).sum()), float((weight * y_ooa).sum()))
    return {"bed_days": totals["post"][0] / totals["baseline"][0], "ooa_bed_days": totals["post"][1] / totals["baseline"][1]}


def _write_extract_yaml(folder: Path, *, seed: int, scale: float, version: str) -> None:
    meta = {
        "extract_end_date": "2024-03-31",
        "mhsds_version": 6,
        "source": "outcomes synthetic reference extract",
        "seed": int(seed),
        "scale": float(scale),
        "generated_by": f"outcomes {version}",
        "notes": {"deprivation": SYNTHETIC_NOTE, "area_statistics": AREAS_NOTE},
        # names shown beside ODS codes in reports (outcomes.report.attention); all but three are invented
        "organisations": {code: name for code, (name, _role, _sector) in PROVIDERS.items()},
    }
    (folder / "extract.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


def _lsoa(lsoa: np.ndarray) -> pa.Array:
    codes = numbered("E0", 1_000_000 + np.maximum(lsoa, 0), 7)
    return pa.compute.if_else(pa.array(lsoa >= 0), codes, pa.scalar(None, pa.string()))


def _contacts(rng: np.random.Generator, idx: np.ndarray, refs: dict):
    """Care contacts (sorted by referral, then date) and their activities for referrals `idx`."""
    received = np.maximum(refs["received"][idx], START)  # referrals open at the extract start: contacts from then on
    disch = refs["disch"][idx]
    last = np.where(disch == NULL_DAY, END, np.minimum(disch, END))
    span = np.maximum(last - received, 0)
    crisis = refs["kind"][idx] == CRISIS
    n = len(idx)
    mean = np.where(crisis, 1.5, span / 28.0)
    k = 1 + np.minimum(rng.poisson(rng.gamma(1.5, 1.0, n) * mean / 1.5), 80)
    rep = np.repeat(np.arange(n), k)
    first = np.zeros(len(rep), dtype=bool)
    first[np.cumsum(k) - k] = True
    offset = (rng.random(len(rep)) * (span[rep] + 1)).astype(np.int64)
    offset = np.where(first, np.where(crisis[rep], 0, (offset * 0.15).astype(np.int64)), offset)
    date = received[rep] + offset
    order = np.lexsort((date, rep))
    rep, date = rep[order], date[order]
    m = len(rep)
    mech = np.where(date >= REMOTE_FROM, choice(rng, m, C.MECHANISM_WEIGHTS_COVID), choice(rng, m, C.MECHANISM_WEIGHTS_PRE_COVID))
    attend = np.where(crisis[rep], choice(rng, m, (0.93, 0.02, 0.03, 0.01, 0.01, 0.0)), choice(rng, m, C.ATTENDANCE_WEIGHTS))
    n_act = np.where(attend <= 1, choice(rng, m, (0.40, 0.50, 0.10)), 0)
    act_contact = np.repeat(np.arange(m), n_act)
    act_code = 1 + choice(rng, len(act_contact), C.PROCEDURE_WEIGHTS)
    act_code = np.where(rng.random(len(act_contact)) < 0.05, -1, act_code)
    return idx[rep], date, mech, attend, act_contact, act_code


def _truth(*, seed: int, scale: float, prog: Programme, targets: tuple[float, float], adm: Admissions, hazard_noise: dict,
           real: dict, version: str) -> dict:
    """truth.json: the generator, the programme and its planted effects, the rate model, the
    definitions, the realised counts (monthly series and DBT cohort), providers and LAs."""
    months = [str(np.datetime64("2014-04") + i) for i in range(N_MONTHS)]
    dbt = real.pop("dbt")
    monthly = real.pop("monthly")
    rows = real.pop("row_counts")
    return {
        "generator": {
            "generated_by": f"outcomes {version}",
            "seed": int(seed),
            "scale": float(scale),
            "extract_start": "2014-04-01",
            "extract_end_date": "2024-03-31",
            "mhsds_version": 6,
            "note": "synthetic: no real person's data; provider codes other than RPG, RV5 and RQY are invented",
        },
        "programme": _programme_truth(prog=prog, targets=targets, adm=adm, hazard_noise=hazard_noise),
        "rate_model": _rate_model_truth(scale=scale, prog=prog, adm=adm, hazard_noise=hazard_noise, months=months),
        "definitions": DEFINITIONS,
        "realised": real,
        "monthly": monthly,
        "dbt": _dbt_truth(realised_dbt=dbt),
        "providers": {code: {"name": name, "role": role, "sector": sector} for code, (name, role, sector) in PROVIDERS.items()},
        "las": {la.code: {"name": la.name, "footprint": i < N_FOOTPRINT} for i, la in enumerate(ALL_LAS)},
        "row_counts": rows,
    }


def _programme_truth(*, prog: Programme, targets: tuple[float, float], adm: Admissions, hazard_noise: dict) -> dict:
    bed_day_reduction, ooa_reduction = targets
    return {
        "go_live": iso(prog.go_live),
        "phase_in_months": prog.phase_in_months,
        "phase_in_ends": iso(prog.phase_end),
        "ramp": "ramp(d) = clip((d - go_live) / (phase_in_ends - go_live), 0, 1) on the day d of the event (admission day for "
        "admissions, lengths of stay and out-of-network placement); an effect with full size theta multiplies its rate (or "
        "length of stay, or placement probability) by 1 + (theta - 1) * ramp(d)",
        "windows": {
            "baseline": [iso(prog.baseline[0]), iso(prog.baseline[1])],
            "post": [iso(prog.post[0]), iso(prog.post[1])],
            "note": "half-open [start, end): baseline = the 12 months before go-live; post = the 12 months after the phase-in ends",
        },
        "targets": {"cyp_bed_days_reduction": bed_day_reduction, "ooa_bed_days_reduction": ooa_reduction},
        "planted_effects": _planted_effects(adm=adm, hazard_noise=hazard_noise),
        "calibration": {
            "footprint": adm.fp_info,
            "elsewhere_in_network": adm.nf_info,
            "method": "up to 60 seeded draws of the admission process, keeping the first within 3 pp (bed days) and 4 pp (out of "
            "network) of the targets with a baseline out-of-network share of 25-35% (else the closest); then, in the post year only, "
            "out-of-network spells admitted in the post year are switched in-network (or back), then repatriation days (or "
            "out-of-network discharges) falling in the post year are moved to hit the out-of-network target, and in-network "
            "lengths of stay of spells admitted in the post year are rescaled (one multiplier, then single stays) to hit the "
            "bed-day target, to the day; the same bed-day calibration is applied to CYP from elsewhere on network wards",
        },
    }


def _planted_effects(*, adm: Admissions, hazard_noise: dict) -> dict:
    effects = adm.effects
    return {
        "cyp_admissions": {
            "theta": effects.admissions,
            "applies_to": "daily admission rate of footprint-resident CYP",
            "how": "solved so that the expected post/baseline bed days equal 1 - cyp_bed_days_reduction",
        },
        "cyp_admissions_from_elsewhere": {
            "theta": effects.nonfootprint_admissions,
            "applies_to": "admissions of CYP resident outside the footprint to network wards (so the collaborative definition moves alike)",
        },
        "ooa_placement": {
            "theta": effects.ooa_placement,
            "applies_to": "probability that a footprint resident's admission is to an out-of-network provider",
            "baseline_probability_by_first_bed_type": {str(k): v for k, v in P0_OOA.items()},
            "out_of_network_length_of_stay_factor": OOA_LOS_FACTOR,
            "how": "solved so that the expected post/baseline out-of-network bed days equal 1 - ooa_bed_days_reduction",
        },
        "repatriation": {
            "share": REPATRIATION_SHARE,
            "applies_to": "out-of-network spells of footprint residents still open after go-live",
            "day": f"max(admission + {REPATRIATION_DELAY_MIN} + Exponential(mean {REPATRIATION_DELAY_MEAN:g}) days, a day drawn uniformly "
            "over the phase-in); the out-of-network spell ends that day (destination 53) and a spell at the LA's network "
            "provider starts that day (admission method 81, transfer) with the rest of the stay",
        },
        "los_general_wards": {"theta": THETA_LOS, "applies_to": "days on general CYP wards of each spell (all CYP admitted to the network or from the footprint)"},
        "los_picu": {"theta": THETA_PICU_LOS, "applies_to": "days of each CYP PICU (309) ward stay; baseline median 24 days (x1.25 out of network)"},
        "ae_known_users": {
            "theta": THETA_AE_KNOWN,
            "applies_to": "A&E attendance rate per open CYPMHS referral-day of footprint residents",
            "expected_footprint_counts": hazard_noise["ae"]["expected_footprint_counts"],
        },
        "crisis_episodes_known_users": {
            "theta": THETA_CRISIS_KNOWN,
            "applies_to": "rate of crisis episodes (each a crisis-team referral with its contacts) per open CYPMHS referral-day of footprint residents",
            "expected_footprint_counts": hazard_noise["crisis"]["expected_footprint_counts"],
        },
        "emergency_admissions": "through cyp_admissions (about three in four CYP admissions use an emergency method)",
        "expected": adm.expected,
    }


def _rounded(values) -> list[float]:
    return [round(float(x), 6) for x in values]


def _rate_model_truth(*, scale: float, prog: Programme, adm: Admissions, hazard_noise: dict, months: list[str]) -> dict:
    ramp = _rounded(prog.ramp(M.MONTH_STARTS[:-1] + 14))
    return {
        "form": "rate(d) = base * population(d) * exp(trend * years since 2017-04-01) * season(d)^s * covid(month)^c * AR1(month) * frailty(month) * programme(d)",
        "season_log_by_calendar_month": dict(zip(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], SEASON_LOG_BY_MONTH)),
        "late_december_log": M.LATE_DECEMBER_LOG,
        "early_january_log": M.EARLY_JANUARY_LOG,
        "covid": {
            "from": "2020-03",
            "dip_multipliers_2020_03_to_08": list(M.COVID_DIP),
            "rebound": f"1 + {M.COVID_REBOUND} * (1 - exp(-(k - 5) / {M.COVID_REBOUND_RISE})) * exp(-max(0, k - {M.COVID_REBOUND_PEAK}) / {M.COVID_REBOUND_DECAY}), k = months since 2020-03, k >= 6",
            "multiplier_by_month": dict(zip(months, _rounded(COVID_BY_MONTH))),
        },
        "ar1": {"phi": M.AR_PHI, "sigma": M.AR_SIGMA, "form": "x_t = phi x_(t-1) + N(0, sigma^2); multiplier exp(x_t - var/2)"},
        "frailty": {"shape": M.FRAILTY_SHAPE, "form": "gamma(shape, 1/shape) per month"},
        "processes": {
            "cyp_admissions": {"per_month_mid_2017": CYP_ADMISSIONS_PER_MONTH * scale, **asdict(ADMISSIONS)},
            "cyp_admissions_elsewhere": {"share_of_footprint": NONFOOTPRINT_CYP_SHARE, **asdict(ADMISSIONS)},
            "adult_admissions": {"per_month_mid_2017": ADULT_ADMISSIONS_PER_MONTH * scale, **asdict(ADULTS)},
            "cyp_referrals": {"per_month_mid_2017": CYP_REFERRALS_PER_MONTH * scale, **asdict(REFERRALS)},
            **{h.name + "_known_users": {"per_open_referral_year": h.per_year, **asdict(h.process)} for h in HAZARDS},
        },
        "realised_monthly_noise": {
            "months": months,
            "cyp_admissions_ar1": _rounded(adm.fp_noise["ar1"]),
            "cyp_admissions_frailty": _rounded(adm.fp_noise["frailty"]),
            "ae_known_users_ar1": _rounded(hazard_noise["ae"]["ar1"]),
            "crisis_known_users_ar1": _rounded(hazard_noise["crisis"]["ar1"]),
        },
        "programme_ramp_mid_month": dict(zip(months, ramp)),
    }


def _dbt_truth(*, realised_dbt: dict) -> dict:
    return {
        "procedure": C.DBT_PROCEDURE,
        "index_date": f"date of the first attended care contact (AttendOrDNACode 5/6) with a care activity Procedure {C.DBT_PROCEDURE}",
        "windows": "before = [index - 12 calendar months, index), after = [index, index + 12 calendar months) (outcomes.cohort.dbt.MirrorWindows()); "
        "events are at least 3 days from the window edges, so 365-day windows give the same counts",
        "full_follow_up": "index + 12 months <= extract end + 1 day (2024-04-01)",
        "cohort_size": "fixed at every scale and seed",
        "planted": {
            "eligible_people": N_ELIGIBLE,
            "excluded_people": N_LATE,
            **{k: {"before": v[0], "after": v[1]} for k, v in TARGETS.items()},
        },
        "realised": realised_dbt,
        "probes": "one ward stay straddles a before-window start (only its part inside counts); one ends on the index day "
        "(discharge day not counted); some attendances and attempts fall outside both windows; self-harm incidents "
        "(EventType self_harm) are not suicide attempts",
    }
