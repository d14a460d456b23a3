"""The 2020 crisis-line extension: from `CRISIS_LINE_EXTENSION` the out-of-hours crisis line, until
then for known service users, is open to every child and family in the footprint.

Planted as a rate ratio `THETA_CRISIS_LINE` on the mental-health and self-harm A&E attendances
(ECDS) of every CYP (0-17 on arrival) resident in the footprint from that day:

* attendances of CYP not otherwise in the extract (not known to mental-health services) arrive by
  the rate model (`POPULATION_MH_AE`: per CYP resident a year, trend, school-year season, COVID-19,
  monthly AR(1) and frailty), times the rate ratio from the extension in the footprint;
* every other mental-health or self-harm attendance of a CYP footprint resident on or after the
  extension (known service users, CYP before their first referral, admissions via A&E) is kept
  with probability `THETA_CRISIS_LINE` (thinning), except the planted DBT cohort's, whose counts
  are fixed;
* CYP resident outside the footprint (`REST_SHARE` as many as in it) attend the same emergency
  departments, share COVID-19 and are not exposed: the control series.

In the footprint these attendances of CYP not known to services also carry the enhanced crisis
teams' rate ratio from April 2016 (`_crisis_teams`), before both windows of the extension's truth.
"""

from __future__ import annotations

import numpy as np

from outcomes.reference import _crisis_teams as CT
from outcomes.reference._codes import ECDS_MENTAL_HEALTH, ECDS_SELF_HARM
from outcomes.reference._model import (
    DAY_MONTH,
    DAYS,
    FOOTPRINT,
    N_FOOTPRINT,
    ORG,
    Process,
    add_months,
    age_on,
    birth_for_age,
    choice,
    deterministic_log_rate,
    iso,
    monthly_noise,
    to_day,
)

#: first day the crisis line is open to every child and family in the footprint
CRISIS_LINE_EXTENSION = "2020-09-01"
#: rate ratio of mental-health and self-harm A&E attendances of CYP footprint residents from then
THETA_CRISIS_LINE = 0.75
#: such attendances a year per CYP resident, of CYP not known to services (at 2017-04)
POPULATION_MH_AE_PER_YEAR = 0.003
POPULATION_MH_AE = Process("population_mh_ae", 0.04, 0.8, 1.0)
#: CYP resident outside the footprint who use its emergency departments, per CYP resident in it
REST_SHARE = 0.5
#: ages (on arrival) of these attendances and their weights
AGES = np.arange(5, 18)
AGE_WEIGHTS = (1, 1, 1, 2, 2, 3, 5, 8, 12, 15, 16, 15, 12)
#: the footprint's emergency departments (ECDS provider codes)
FOOTPRINT_EDS = np.array(sorted({ORG[la.acute] for la in FOOTPRINT}))


def extension_day() -> int:
    return to_day(CRISIS_LINE_EXTENSION)


def population_attendances(rng_of, scale: float, cyp_index: np.ndarray, cyp_w: np.ndarray, n_elsewhere: int) -> tuple[dict, dict]:
    """Attendances of CYP not otherwise in the extract, footprint and rest.

    In the footprint they carry the enhanced crisis teams' rate ratio too (`_crisis_teams`, from
    2016). Returns ({area: {la, day, age, kind, provider}}, expected counts by area of the 12 months
    from the extension, without and with the extension, and in the footprint `crisis_teams`: of the
    12 months from the crisis teams' start, without and with them)."""
    ext = extension_day()
    window = (DAYS >= ext) & (DAYS < add_months(ext, 12))
    lo, hi = CT.window()
    teams_window = (DAYS >= lo) & (DAYS < hi)
    out, expected = {}, {}
    for area, share, exposed in (("footprint", 1.0, True), ("rest", REST_SHARE, False)):
        rng = rng_of("crisis_line", area)
        ar, fr = monthly_noise(rng)
        base = (POPULATION_MH_AE_PER_YEAR / 365.25 * 3_600_000 * 0.22 * scale * share * cyp_index
                * np.exp(deterministic_log_rate(POPULATION_MH_AE)) * ar[DAY_MONTH] * fr[DAY_MONTH])
        teams = CT.multiplier(DAYS) if exposed else np.ones(len(DAYS))
        if exposed:
            expected["crisis_teams"] = {"without": float(base[teams_window].sum()), "with": float((base * teams)[teams_window].sum())}
        base = base * teams
        effect = np.where(exposed & (DAYS >= ext), THETA_CRISIS_LINE, 1.0)
        k = rng.poisson(base * effect)
        day = np.repeat(DAYS, k)
        n = len(day)
        la = choice(rng, n, cyp_w) if exposed else N_FOOTPRINT + rng.integers(0, n_elsewhere, n)
        out[area] = {
            "la": la.astype(np.int64),
            "day": day,
            "age": AGES[choice(rng, n, AGE_WEIGHTS)],
            "kind": np.where(rng.random(n) < 0.5, ECDS_SELF_HARM, ECDS_MENTAL_HEALTH),
            "provider": FOOTPRINT_EDS[choice(rng, n, np.ones(len(FOOTPRINT_EDS)))],
        }
        expected[area] = {"without": float(base[window].sum()), "with": float((base * effect)[window].sum())}
    return out, expected


def births(rng, attendances: dict) -> np.ndarray:
    """Birth dates of the people of these attendances (one person each), of the drawn age on arrival."""
    return birth_for_age(rng, attendances["day"], attendances["age"])


def thin(rng, person, day, kind, person_la, person_birth) -> np.ndarray:
    """Which of these attendances remain (bool): mental-health or self-harm attendances of CYP
    footprint residents on or after the extension are kept with probability THETA_CRISIS_LINE."""
    la = person_la[person]
    exposed = ((la >= 0) & (la < N_FOOTPRINT) & (day >= extension_day()) & np.isin(kind, (ECDS_SELF_HARM, ECDS_MENTAL_HEALTH))
               & (age_on(person_birth[person], day) <= 17))
    return ~exposed | (rng.random(len(day)) < THETA_CRISIS_LINE)


def exposed_window_count(person, day, kind, person_la, person_birth) -> int:
    """Mental-health/self-harm attendances of CYP footprint residents in the 12 months from the extension."""
    ext = extension_day()
    la = person_la[person]
    return int(np.sum((la >= 0) & (la < N_FOOTPRINT) & (day >= ext) & (day < add_months(ext, 12))
                      & np.isin(kind, (ECDS_SELF_HARM, ECDS_MENTAL_HEALTH)) & (age_on(person_birth[person], day) <= 17)))


def truth(expected: dict, thinned_without: int) -> dict:
    """The crisis-line entry of truth.json."""
    ext = extension_day()
    fp_without = expected["footprint"]["without"] + thinned_without
    return {
        "date": CRISIS_LINE_EXTENSION,
        "rate_ratio": THETA_CRISIS_LINE,
        "applies_to": "mental-health and self-harm A&E attendances (ECDS) of every CYP (0-17 on arrival) resident in the "
        "footprint, known to services or not, from the date (not the planted DBT cohort's)",
        "control": "CYP resident outside the footprint attending the same emergency departments: not exposed; they share "
        "the COVID-19 term, season and trend (own monthly noise)",
        "how": "attendances of CYP not known to services arrive at the rate times the rate ratio; every other such attendance "
        "of a CYP footprint resident on or after the date is kept with probability rate_ratio",
        "window": [iso(ext), iso(add_months(ext, 12))],
        "expected_footprint_counts": {"without_extension": round(fp_without, 1),
                                      "with_extension": round(expected["footprint"]["with"] + THETA_CRISIS_LINE * thinned_without, 1)},
        "expected_rest_counts": round(expected["rest"]["without"], 1),
        "measure": "catalogue 'cyp_mental_health_ae_by_area' (area footprint vs rest)",
    }



def realised(person, day, complaint, person_la, person_birth, n_mh: int) -> dict:
    """Counts in the extract as written (the catalogue measure's definition): mental-health or
    self-harm attendances of CYP by area, in the 12 months before and from the extension."""
    ext = extension_day()
    la = person_la[person]
    cyp = (complaint >= 0) & (complaint <= n_mh) & (age_on(person_birth[person], day) <= 17)
    out = {}
    for area, where in (("footprint", (la >= 0) & (la < N_FOOTPRINT)), ("rest", ~((la >= 0) & (la < N_FOOTPRINT)))):
        for name, (lo, hi) in (("before", (add_months(ext, -12), ext)), ("from", (ext, add_months(ext, 12)))):
            out[f"{area}_{name}"] = int(np.sum(cyp & where & (day >= lo) & (day < hi)))
    return out
