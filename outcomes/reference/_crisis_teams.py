"""A second component of the 2017 programme with its own date: the enhanced crisis teams.

Illustrative of the seed's account ("enhanced crisis teams and an out-of-hours crisis line" came in
pieces, before and after the collaborative's go-live): from `ENHANCED_CRISIS_TEAMS` (April 2016,
the first month of the 2016/17 financial year, when Future in Mind transformation money paid for
crisis teams to take same-day referrals of any young person in crisis, 18 months before the
October 2017 go-live) the footprint's crisis teams see children and young people *not known to
mental-health services* at home or school instead of in A&E.

Planted as a rate ratio `THETA_CRISIS_TEAMS` (a step, no phase-in) on the mental-health and
self-harm A&E attendances (ECDS) of CYP footprint residents who are not known to services on
arrival:

* attendances of CYP not otherwise in the extract (`_crisis_line.population_attendances`) arrive at
  the rate times `multiplier(day)`;
* such attendances of CYP in the year before their first CYPMHS referral are kept with probability
  `THETA_CRISIS_TEAMS` from the date (thinning, `thin`);
* known service users' attendances (the main go-live's A&E effect), the emergency-department visit
  of an admission and the DBT cohort's are not exposed, so no earlier planted figure changes.

The measure `cyp_mental_health_ae_by_area` (footprint) counts every such attendance, known to
services or not, so it carries both this component (on the not-known part) and the main go-live (on
known service users' attendances and on admissions via A&E): `truth` gives each one's expected rate
ratio on that series, which is what an interrupted time series of it estimates.
"""

from __future__ import annotations

import numpy as np

from outcomes.reference._codes import ECDS_MENTAL_HEALTH, ECDS_SELF_HARM
from outcomes.reference._model import N_FOOTPRINT, add_months, age_on, iso, to_day

#: first day the enhanced crisis teams take same-day referrals of any young person in crisis
ENHANCED_CRISIS_TEAMS = "2016-04-01"
#: rate ratio of MH/self-harm A&E attendances of CYP footprint residents not known to services
THETA_CRISIS_TEAMS = 0.70

#: where each ECDS row comes from (the `source` the generator tags rows with)
KNOWN_USER, BACKGROUND, ADMISSION, POPULATION, DBT_COHORT = 0, 1, 2, 3, 4
SOURCES = ("known_service_user", "before_first_referral", "admission_via_ae", "not_known_to_services", "dbt_cohort")


def start_day() -> int:
    return to_day(ENHANCED_CRISIS_TEAMS)


def window() -> tuple[int, int]:
    """The 12 months from the start, [start, end)."""
    return start_day(), add_months(start_day(), 12)


def multiplier(days: np.ndarray) -> np.ndarray:
    """The component's rate multiplier on each day (footprint residents not known to services)."""
    return np.where(np.asarray(days) >= start_day(), THETA_CRISIS_TEAMS, 1.0)


def _exposed(person, day, kind, person_la, person_birth) -> np.ndarray:
    la = person_la[person]
    return ((la >= 0) & (la < N_FOOTPRINT) & (day >= start_day()) & np.isin(kind, (ECDS_SELF_HARM, ECDS_MENTAL_HEALTH))
            & (age_on(person_birth[person], day) <= 17))


def thin(rng, person, day, kind, person_la, person_birth) -> np.ndarray:
    """Which attendances of CYP before their first referral remain (bool): mental-health or
    self-harm attendances of footprint residents aged 0-17 from the start are kept with
    probability THETA_CRISIS_TEAMS."""
    return ~_exposed(person, day, kind, person_la, person_birth) | (rng.random(len(day)) < THETA_CRISIS_TEAMS)


def exposed_window_count(person, day, kind, person_la, person_birth) -> int:
    """Exposed attendances (before thinning) in the 12 months from the start."""
    lo, hi = window()
    return int(np.sum(_exposed(person, day, kind, person_la, person_birth) & (day >= lo) & (day < hi)))


def series_counts(source, person, day, complaint, person_la, person_birth, n_mh: int, lo: int, hi: int) -> dict[str, int]:
    """Mental-health or self-harm attendances of CYP footprint residents in [lo, hi) by source (the
    catalogue measure's definition, footprint)."""
    la = person_la[person]
    member = ((complaint >= 0) & (complaint <= n_mh) & (la >= 0) & (la < N_FOOTPRINT)
              & (age_on(person_birth[person], day) <= 17) & (day >= lo) & (day < hi))
    return {name: int(np.sum(member & (source == code))) for code, name in enumerate(SOURCES)}


def truth(component: dict, programme: dict, *, theta_ae_known: float, theta_admissions: float, post: tuple[int, int]) -> dict:
    """The crisis-teams entry of truth.json.

    `component`: in the 12 months from the start, the expected population attendances with and
    without the component (`population_with`, `population_without`), the exposed attendances before
    thinning (`background_exposed`) and the realised counts by source (`realised`). `programme`: the
    realised counts by source in the main programme's post year `post`."""
    lo, hi = window()
    real = component["realised"]
    unexposed = real["known_service_user"] + real["admission_via_ae"] + real["dbt_cohort"]
    without = component["population_without"] + component["background_exposed"] + unexposed
    with_ = component["population_with"] + THETA_CRISIS_TEAMS * component["background_exposed"] + unexposed
    known, admitted = programme["known_service_user"], programme["admission_via_ae"]
    rest = sum(programme.values()) - known - admitted
    with_programme = float(sum(programme.values()))
    without_programme = known / theta_ae_known + admitted / theta_admissions + rest
    return {
        "date": ENHANCED_CRISIS_TEAMS,
        "rate_ratio": THETA_CRISIS_TEAMS,
        "phase_in_months": 0,
        "applies_to": "mental-health and self-harm A&E attendances (ECDS) of CYP (0-17 on arrival) resident in the footprint "
        "and not known to mental-health services on arrival (no CYPMHS referral yet), from the date",
        "not_exposed": "known service users' attendances (they carry the main go-live's A&E rate ratio), the emergency-"
        "department visit of an admission, the DBT cohort's attendances, CYP resident outside the footprint",
        "how": "attendances of CYP not otherwise in the extract arrive at the rate times the rate ratio; those of CYP in the year "
        "before their first referral are kept with probability rate_ratio",
        "measure": "catalogue 'cyp_mental_health_ae_by_area' (area footprint), which counts every such attendance, known to "
        "services or not",
        "window": [iso(lo), iso(hi)],
        "expected_footprint_counts": {"without_component": round(without, 1), "with_component": round(with_, 1)},
        "series_rate_ratio": round(with_ / without, 4),
        "series_rate_ratio_note": "expected with / without over the window, the other sources at their realised counts: the "
        "component's rate ratio on the whole footprint series, which its ITS level change estimates",
        "realised_by_source": real,
        "main_go_live_on_the_series": {
            "window": [iso(post[0]), iso(post[1])],
            "realised_by_source": programme,
            "expected_footprint_counts": {"with_programme": round(with_programme, 1), "without_programme": round(without_programme, 1)},
            "series_rate_ratio": round(with_programme / without_programme, 4),
            "how": f"known service users' attendances / {theta_ae_known} (their planted A&E rate ratio) + admissions via A&E / "
            f"{round(theta_admissions, 4)} (the planted admission rate ratio) + the rest: the main go-live's rate ratio on the "
            "footprint series in its post year",
        },
    }
