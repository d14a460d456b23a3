"""The programme's components delivering activity, planted on people the extract otherwise does not
hold (each from its own random stream, their rows written after every other row of their tables,
so no existing row, identifier or planted figure moves):

* crisis-line calls: CYP footprint residents not known to services call the 24/7 crisis line
  (a referral to team type A19 received and closed on the call day, one attended telephone
  contact): none before the enhanced crisis teams and line (`_crisis_teams.ENHANCED_CRISIS_TEAMS`,
  when the line was for known service users only), `CALLS_PER_MONTH[0]` a month from then and
  `CALLS_PER_MONTH[1]` once the line is open to every child and family
  (`_crisis_line.CRISIS_LINE_EXTENSION`);
* the single point of access: routine referrals to team type A18 from the go-live, ramping up
  with the programme's phase-in to `SPA_PER_MONTH`, each closed on its first (attended) contact,
  `SPA_MEDIAN_WAIT[0]` days after receipt (median) in the phase-in falling to `SPA_MEDIAN_WAIT[1]`;
* the enhanced outreach team: referrals of CYP to an assertive outreach team (A08) from the
  go-live, ramping up with the phase-in to `OUTREACH_PER_MONTH`, each seen weekly for
  `OUTREACH_CONTACTS` attended contacts (from the week after receipt), then closed;
* under-18s on adult wards: 16-17-year-old footprint residents admitted in an emergency to an
  adult acute ward (bed type 200) of a network provider for a few days while a CYP bed is found,
  `ADULT_WARD_PER_MONTH[0]` a month until the adolescent PICU opens (`_delivery.PICU_OPENS`) and
  `ADULT_WARD_PER_MONTH[1]` after.

Rates are per month at scale 1 and scale with the extract (Poisson counts by day).
"""

from __future__ import annotations

import numpy as np

from outcomes.reference._model import (
    DAYS,
    age_on,
    END,
    N_FOOTPRINT,
    ORG,
    START,
    add_months,
    birth_for_age,
    choice,
    iso,
    month_of,
    to_day,
)

#: `kind` of the referrals written here (after _community's COMMUNITY, CRISIS, INPATIENT_CYP, INPATIENT_ADULT, DBT)
ACTIVITY = 5
CALLS_PER_MONTH = (60.0, 150.0)
SPA_PER_MONTH = 120.0
SPA_MEDIAN_WAIT = (21.0, 10.0)
SPA_WAIT_SHAPE = 2.0
OUTREACH_PER_MONTH, OUTREACH_CONTACTS = 25.0, 8
ADULT_WARD_PER_MONTH = (1.5, 0.3)
ADULT_WARD_MEDIAN_DAYS = 3.0
DAYS_PER_MONTH = 365.25 / 12


def _poisson_days(rng: np.random.Generator, per_day: np.ndarray) -> np.ndarray:
    return np.repeat(DAYS, rng.poisson(per_day))


def crisis_line_calls(rng: np.random.Generator, scale: float, line_from: int, extension: int) -> np.ndarray:
    """Call days of CYP not known to services."""
    rate = np.where(DAYS >= extension, CALLS_PER_MONTH[1], np.where(DAYS >= line_from, CALLS_PER_MONTH[0], 0.0))
    return _poisson_days(rng, rate * scale / DAYS_PER_MONTH)


def spa_referrals(rng: np.random.Generator, scale: float, ramp) -> tuple[np.ndarray, np.ndarray]:
    """(received day, first contact day) of routine single-point-of-access referrals; referrals
    whose first contact would fall after the extract end are still open (no contact yet)."""
    r = ramp(DAYS)
    received = _poisson_days(rng, SPA_PER_MONTH * scale / DAYS_PER_MONTH * (r > 0) * np.maximum(r, 0.25))
    progress = np.clip(ramp(received), 0, 1)
    median = SPA_MEDIAN_WAIT[0] + (SPA_MEDIAN_WAIT[1] - SPA_MEDIAN_WAIT[0]) * progress
    # gamma with shape k has median ~ scale * (k - 1/3): scale chosen for the median wanted
    wait = np.rint(rng.gamma(SPA_WAIT_SHAPE, median / (SPA_WAIT_SHAPE - 1 / 3))).astype(np.int64)
    return received, received + wait


def outreach_referrals(rng: np.random.Generator, scale: float, ramp) -> tuple[np.ndarray, np.ndarray]:
    """(received day, contact days (n, OUTREACH_CONTACTS)) of outreach referrals: weekly contacts
    from 7 days after receipt; contacts after the extract end are not yet made."""
    r = ramp(DAYS)
    received = _poisson_days(rng, OUTREACH_PER_MONTH * scale / DAYS_PER_MONTH * r)
    jitter = rng.integers(-1, 2, (len(received), OUTREACH_CONTACTS))
    days = received[:, None] + 7 * np.arange(1, OUTREACH_CONTACTS + 1)[None, :] + jitter
    return received, days


def adult_ward_admissions(rng: np.random.Generator, scale: float, picu_opens: int) -> tuple[np.ndarray, np.ndarray]:
    """(admission day, length of stay in days) of under-18s on adult wards."""
    rate = np.where(DAYS >= picu_opens, ADULT_WARD_PER_MONTH[1], ADULT_WARD_PER_MONTH[0])
    start = _poisson_days(rng, rate * scale / DAYS_PER_MONTH)
    los = 1 + rng.poisson(ADULT_WARD_MEDIAN_DAYS - 1, len(start))
    return start, los


def people(rng: np.random.Generator, on: np.ndarray, ages: tuple[int, int], cyp_w: np.ndarray) -> dict:
    """Birth dates (aged `ages` on `on`) and footprint LAs (by CYP population) of new people."""
    n = len(on)
    age = rng.integers(ages[0], ages[1] + 1, n)
    return {"birth": birth_for_age(rng, on, age), "la": choice(rng, n, cyp_w[:N_FOOTPRINT])}


def per_window(days: np.ndarray, windows: dict[str, tuple[int, int]]) -> dict[str, int]:
    return {name: int(((days >= lo) & (days < hi)).sum()) for name, (lo, hi) in windows.items()}


def monthly_counts(days: np.ndarray) -> list[int]:
    inside = (days >= START) & (days <= END)
    return np.bincount(month_of(days[inside]), minlength=120).astype(int).tolist()


__all__ = ["ACTIVITY", "age_on", "CALLS_PER_MONTH", "SPA_PER_MONTH", "OUTREACH_PER_MONTH", "OUTREACH_CONTACTS", "outreach_referrals", "SPA_MEDIAN_WAIT", "ADULT_WARD_PER_MONTH", "crisis_line_calls", "spa_referrals",
           "adult_ward_admissions", "people", "per_window", "monthly_counts", "ORG", "add_months", "iso", "to_day"]
