"""Referrals and the events of known service users.

* Community CYPMHS referrals arrive by the rate model (no programme effect); a quarter are
  re-referrals of someone referred before (while still 0-17). Lengths are log-normal; referrals
  running past the extract end stay open (null discharge).
* Inpatients get a referral of their own: most CYP inpatients were known before admission, some
  are referred during the stay; adults have an adult team referral received after their 18th birthday.
* While a CYPMHS referral is open its person is a known service user and has A&E attendances,
  crisis episodes and incidents at individual rates (a gamma frailty per referral) modulated by the
  rate model; for footprint residents, A&E attendances and crisis episodes carry the programme
  effect (rate ratios theta_ae and theta_crisis, phased in). Each crisis episode is a referral to
  a crisis team (group crisis) with one or more contacts over a few days.
* Background A&E attendances: CYP in the year before their first referral (not yet known),
  adults at any time, and the emergency department visit of admissions via A&E (method 21).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from outcomes.reference._codes import (
    ADULT_REASON_WEIGHTS,
    ADULT_REASONS,
    ADULT_TEAM_WEIGHTS,
    ADULT_TEAMS,
    COMMUNITY_TEAM_WEIGHTS,
    COMMUNITY_TEAMS,
    CRISIS_TEAM_WEIGHTS,
    CRISIS_TEAMS,
    CYP_REASON_WEIGHTS,
    CYP_REASONS,
    ECDS_MENTAL_HEALTH,
    ECDS_OTHER,
    ECDS_SELF_HARM,
    INPATIENT_REASON_WEIGHTS,
    INPATIENT_REASONS,
    P_REASON_NULL,
    REASON,
    RISK,
    TEAM,
    ecds_codes,
)
from outcomes.reference._model import (
    ACUTE,
    DAY_MONTH,
    END,
    LA_ACUTE,
    LA_TRUST,
    N_DAYS,
    N_FOOTPRINT,
    NETWORK_IDX,
    NULL_DAY,
    ORG,
    START,
    DAYS,
    EXT_DAYS,
    Process,
    Programme,
    age_on,
    birth_for_age,
    choice,
    deterministic_log_rate,
    monthly_noise,
    shift_years,
)

# referral kinds
COMMUNITY, CRISIS, INPATIENT_CYP, INPATIENT_ADULT, DBT = 0, 1, 2, 3, 4
CYP_REFERRAL_AGES = np.arange(2, 18)
CYP_REFERRAL_AGE_WEIGHTS = (1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 10, 12, 13, 12, 9)
P_REREFERRAL = 0.25
#: share of community referrals by residence: footprint, elsewhere (treated in network), unknown
RESIDENCE_WEIGHTS = (0.93, 0.06, 0.01)
ACUTE_IDX = np.array([ORG[c] for c in ACUTE])


@dataclass(frozen=True)
class Hazard:
    """Events per open CYPMHS referral-year (rates at 2017-04 without seasonality or noise)."""

    name: str
    per_year: float
    process: Process
    programme_effect: str | None  # name of the planted rate ratio, if any


HAZARDS = (
    Hazard("ae", 0.30, Process("ae_known", 0.0, 0.8, 1.0), "ae_known_users"),
    Hazard("crisis", 0.25, Process("crisis_known", 0.0, 1.0, 1.0), "crisis_contacts_known_users"),
    Hazard("self_harm", 0.20, Process("self_harm_known", 0.0, 1.0, 1.0), None),
    Hazard("suicide_attempt", 0.035, Process("suicide_attempt_known", 0.0, 1.0, 1.0), None),
    Hazard("violence", 0.015, Process("violence_known", 0.0, 0.5, 0.5), None),
)
REFERRAL_FRAILTY_SHAPE = 0.6


def _lognormal_days(rng, median, sigma, n, cap):
    return np.clip(np.rint(np.exp(np.log(median) + sigma * rng.standard_normal(n))), 1, cap).astype(np.int64)


def _resolve(parent: np.ndarray) -> np.ndarray:
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def community_referrals(rng: np.random.Generator, lam: np.ndarray, la_weights: np.ndarray, n_elsewhere: int) -> tuple[dict, dict]:
    """(referrals, people) of community CYPMHS referrals; referral `person` indexes the people."""
    counts = rng.poisson(lam)
    day = np.repeat(EXT_DAYS, counts)
    n = len(day)
    residence = choice(rng, n, RESIDENCE_WEIGHTS)
    la = np.where(
        residence == 0, choice(rng, n, la_weights), np.where(residence == 1, N_FOOTPRINT + choice(rng, n, np.ones(n_elsewhere)), -1)
    )
    age = CYP_REFERRAL_AGES[choice(rng, n, CYP_REFERRAL_AGE_WEIGHTS)]
    birth_new = birth_for_age(rng, day, age)
    ids = np.arange(n)
    rereferral = rng.random(n) < P_REREFERRAL
    if n:
        rereferral[0] = False
    parent = np.where(rereferral, (rng.random(n) * ids).astype(np.int64), ids)
    for _ in range(20):
        root = _resolve(parent)
        bad = (parent != ids) & (age_on(birth_new[root], day) >= 18)
        if not bad.any():
            break
        parent[bad] = ids[bad]
    long = rng.random(n) < 0.1
    dur = np.where(long, _lognormal_days(rng, 500, 0.6, n, 2500), _lognormal_days(rng, 110, 1.0, n, 2500))
    disch = day + dur
    p_la = la[root]
    home = np.where(p_la >= 0, LA_TRUST[np.maximum(p_la, 0)], -1)
    org = np.where((rng.random(n) < 0.92) & np.isin(home, NETWORK_IDX), home, NETWORK_IDX[choice(rng, n, (1, 1, 1))])
    team = np.array([TEAM[t] for t in COMMUNITY_TEAMS])[choice(rng, n, COMMUNITY_TEAM_WEIGHTS)]
    reason = np.array([REASON[r] for r in CYP_REASONS])[choice(rng, n, CYP_REASON_WEIGHTS)]
    reason = np.where(rng.random(n) < P_REASON_NULL, -1, reason)
    keep = disch > START  # referrals of the burn-in years still open at the extract start stay
    roots, person = np.unique(root[keep], return_inverse=True)
    referrals = {
        "person": person,
        "org": org[keep],
        "received": day[keep],
        "disch": np.where(disch > END, NULL_DAY, disch)[keep],
        "team": team[keep],
        "reason": reason[keep],
        "kind": np.full(int(keep.sum()), COMMUNITY),
    }
    people = {"birth": birth_new[roots], "la": la[roots], "n": len(roots)}
    return referrals, people


def inpatient_referrals(rng: np.random.Generator, first_start, first_los, last_end, birth, la, first_bed, adult: bool, orgs) -> dict:
    """One referral per inpatient (person-level arrays): received before the first admission
    (most CYP: known service users) or during it, discharged some weeks after the last spell
    (open if that spell is open)."""
    n = len(first_start)
    if adult:
        adult_from = shift_years(birth, 18)
        received = np.maximum(first_start - 1 - rng.exponential(200, n).astype(np.int64), adult_from)
        received = np.minimum(received, first_start)
        team = np.array([TEAM[t] for t in ADULT_TEAMS])[choice(rng, n, ADULT_TEAM_WEIGHTS)]
        reason = np.array([REASON[r] for r in ADULT_REASONS])[choice(rng, n, ADULT_REASON_WEIGHTS)]
        org = orgs
    else:
        known = rng.random(n) < 0.85
        before = np.maximum(shift_years(birth, 5), first_start - 7 - np.minimum(rng.exponential(300, n), 730).astype(np.int64))
        during = np.minimum(first_start + (rng.random(n) * np.minimum(first_los, 60)).astype(np.int64), END)
        received = np.where(known, before, during)
        team = np.where(first_bed == 302, TEAM["C10"], TEAM["Z01"])
        reason = np.where(first_bed == 302, REASON["12"], np.array([REASON[r] for r in INPATIENT_REASONS])[choice(rng, n, INPATIENT_REASON_WEIGHTS)])
        org = np.where(la < N_FOOTPRINT, LA_TRUST[la], ORG["R9D"])
    disch = last_end + 14 + rng.exponential(150, n).astype(np.int64)
    disch = np.where((last_end > END) | (disch > END), NULL_DAY, disch)
    return {"org": org, "received": received, "disch": disch, "team": team, "reason": reason, "kind": np.full(n, INPATIENT_ADULT if adult else INPATIENT_CYP)}


# ---------------------------------------------------------------------------------------------
def _cumulative(log_rate: np.ndarray, ar: np.ndarray, frailty: np.ndarray, programme: np.ndarray) -> np.ndarray:
    mult = np.exp(log_rate) * ar[DAY_MONTH] * frailty[DAY_MONTH] * programme
    return np.concatenate([[0.0], np.cumsum(mult)])


def hazard_events(rng_of, intervals: dict, prog: Programme, thetas: dict) -> tuple[dict, dict]:
    """Events of known service users over their open CYPMHS referrals.

    `intervals`: person, start, end (day numbers, [start, end)), footprint (bool), org, la.
    Returns ({hazard name: {person, day, parent}}, realised monthly noise by hazard)."""
    m = len(intervals["person"])
    rng = rng_of("known_user_frailty")
    frailty = rng.gamma(REFERRAL_FRAILTY_SHAPE, 1 / REFERRAL_FRAILTY_SHAPE, m)
    a = np.clip(intervals["start"] - START, 0, N_DAYS)
    b = np.clip(intervals["end"] - START, 0, N_DAYS)
    fp = intervals["footprint"]
    out, noise = {}, {}
    for hz in HAZARDS:
        rng = rng_of("hazard", hz.name)
        ar, fr = monthly_noise(rng)
        noise[hz.name] = {"ar1": ar, "frailty": fr}
        log_rate = deterministic_log_rate(hz.process)
        theta = thetas.get(hz.programme_effect, 1.0) if hz.programme_effect else 1.0
        lam_with = _cumulative(log_rate, ar, fr, prog.multiplier(theta, DAYS))
        lam_without = _cumulative(log_rate, ar, fr, np.ones(N_DAYS))
        mass = np.where(fp, lam_with[b] - lam_with[a], lam_without[b] - lam_without[a])
        k = rng.poisson(hz.per_year / 365.25 * frailty * mass)
        if hz.programme_effect:  # expected counts of footprint residents given the realised caseload
            expected = {}
            for label, (w0, w1) in (("baseline", prog.baseline), ("post", prog.post)):
                lo, hi = np.clip(a, w0 - START, w1 - START), np.clip(b, w0 - START, w1 - START)
                for tag, cum in (("with_programme", lam_with), ("without_programme", lam_without)):
                    expected[f"{label}_{tag}"] = float((hz.per_year / 365.25 * frailty * (cum[hi] - cum[lo]))[fp].sum())
            expected["post_rate_ratio"] = expected["post_with_programme"] / expected["post_without_programme"]
            noise[hz.name]["expected_footprint_counts"] = expected
        parent = np.repeat(np.arange(m), k)
        u = rng.random(len(parent))
        day = np.empty(len(parent), dtype=np.int64)
        for flag, cum in ((True, lam_with), (False, lam_without)):
            sel = fp[parent] == flag
            p = parent[sel]
            target = cum[a[p]] + u[sel] * (cum[b[p]] - cum[a[p]])
            idx = np.searchsorted(cum, target, side="right") - 1
            day[sel] = START + np.clip(idx, a[p], b[p] - 1)
        order = np.lexsort((day, parent))
        out[hz.name] = {"person": intervals["person"][parent[order]], "day": day[order], "parent": parent[order]}
    return out, noise


def crisis_referrals(rng: np.random.Generator, episodes: dict, intervals: dict) -> dict:
    n = len(episodes["day"])
    dur = rng.integers(0, 11, n)
    disch = episodes["day"] + dur
    reason = np.where(rng.random(n) < 0.7, REASON["18"], REASON["15"])
    return {
        "person": episodes["person"],
        "org": intervals["org"][episodes["parent"]],
        "received": episodes["day"],
        "disch": np.where(disch > END, NULL_DAY, disch),
        "team": np.array([TEAM[t] for t in CRISIS_TEAMS])[choice(rng, n, CRISIS_TEAM_WEIGHTS)],
        "reason": reason,
        "kind": np.full(n, CRISIS),
    }


def ecds_rows(rng: np.random.Generator, person, day, la, kind) -> dict:
    """ECDS attendances: the local emergency department mostly, codes by kind."""
    n = len(day)
    local = np.where(la >= 0, LA_ACUTE[np.maximum(la, 0)], ACUTE_IDX[choice(rng, n, np.ones(len(ACUTE_IDX)))])
    elsewhere = ACUTE_IDX[choice(rng, n, np.ones(len(ACUTE_IDX)))]
    provider = np.where(rng.random(n) < 0.85, local, elsewhere)
    complaint, intent, diag = ecds_codes(rng, kind)
    return {"person": person, "date": day, "provider": provider, "complaint": complaint, "intent": intent, "diag": diag}


def known_user_ecds_kind(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.asarray((ECDS_SELF_HARM, ECDS_MENTAL_HEALTH, ECDS_OTHER))[choice(rng, n, (0.30, 0.30, 0.40))]


def background_ecds(rng: np.random.Generator, person, lo, hi, rate, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson(rate x years) attendances per person, uniform on [lo, hi] (skipped when empty)."""
    span = np.maximum(hi - lo + 1, 0)
    k = rng.poisson(rate * span / 365.25)
    rep = np.repeat(np.arange(len(person)), k)
    day = lo[rep] + (rng.random(len(rep)) * span[rep]).astype(np.int64)
    kind = np.asarray((ECDS_SELF_HARM, ECDS_MENTAL_HEALTH, ECDS_OTHER))[choice(rng, len(rep), weights)]
    return person[rep], day, kind


def inpatient_incidents(rng: np.random.Generator, person, start, end, adult) -> dict:
    """Incidents on the ward (restraint, absconsion, violence, self-harm) at rates per bed day."""
    end = np.minimum(end, END + 1)
    start = np.maximum(start, START)  # stays open at the extract start: incidents from then on
    span = np.maximum(end - start, 0)
    rates = {  # per bed day: (CYP, adult)
        "restraint": (0.010, 0.004),
        "absconsion": (0.002, 0.002),
        "violence": (0.004, 0.003),
        "self_harm": (0.003, 0.001),
    }
    persons, days, types = [], [], []
    for name, (cyp, adu) in rates.items():
        k = rng.poisson(np.where(adult, adu, cyp) * span)
        rep = np.repeat(np.arange(len(start)), k)
        persons.append(person[rep])
        days.append(start[rep] + (rng.random(len(rep)) * span[rep]).astype(np.int64))
        types.append(np.full(len(rep), RISK[name]))
    return {"person": np.concatenate(persons), "date": np.concatenate(days), "type": np.concatenate(types)}
