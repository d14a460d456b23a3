"""The planted DBT cohort: young people whose first dialectical behaviour therapy contact is the
index date, with exact counts in the 12 months before and after it.

Windows (calendar months, as `outcomes.cohort.dbt.MirrorWindows()`): before = [index - 12 months,
index), after = [index, index + 12 months); the index day belongs to the after window. Full
follow-up: index + 12 months <= extract end + 1 day. Counts over the eligible cohort:

* suicide attempts: RiskEvents rows with EventType suicide_attempt, 24 before, 1 after;
* A&E attendances: every ECDS row of the cohort, 23 before, 2 after;
* occupied bed days: every ward stay of the cohort (MHS24 rule: admission day counts, discharge
  day does not), clipped to each window, 605 before, 0 after.

Every record of these people is written here; the other generators never touch them, so the counts
are exact at any scale and seed. Events are kept at least three days from the window boundaries
(so 365-day windows give the same counts) except for planted probes: one ward stay straddles the
start of a before window (only its part inside counts), one ends on the index day (its discharge
day is not a bed day), and some attendances and attempts fall outside both windows. A few DBT
starters without full follow-up (index after 2023-04-01) are planted for the exclusion rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from outcomes.reference._codes import (
    DBT_PROCEDURE,
    ECDS_MENTAL_HEALTH,
    ECDS_OTHER,
    ECDS_SELF_HARM,
    MECHANISMS,
    PROCEDURE_WEIGHTS,
    PROCEDURES,
    REASON,
    RISK,
    TEAM,
    ecds_codes,
)
from outcomes.reference._inpatient import Spells
from outcomes.reference._model import (
    END,
    LA_ACUTE,
    LA_TRUST,
    LSOAS_PER_LA,
    NULL_DAY,
    START,
    age_on,
    birth_for_age,
    choice,
    iso,
    shift_years,
    to_day,
)

N_ELIGIBLE, N_LATE = 30, 5
TARGETS = {"suicide_attempts": (24, 1), "ae_attendances": (23, 2), "bed_days": (605, 0)}
INDEX_FROM, INDEX_TO = to_day("2019-01-07"), to_day("2022-12-16")
LATE_FROM, LATE_TO = to_day("2023-05-02"), to_day("2024-02-16")
MARGIN = 3  # days kept free at each window boundary
#: procedure index of DBT in the activity code list (0); the others follow (PROCEDURES)
ACTIVITY_CODES = (DBT_PROCEDURE,) + PROCEDURES


@dataclass
class DBTRecords:
    """Everything about the DBT people; person fields index people 0..n-1 (local)."""

    people: dict = field(default_factory=dict)
    referrals: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    activities: dict = field(default_factory=dict)
    ecds: dict = field(default_factory=dict)
    risk: dict = field(default_factory=dict)
    spells: Spells | None = None
    truth: dict = field(default_factory=dict)


def _free_days(rng, lo: int, hi: int, k: int, busy: list[tuple[int, int]], taken: set[int]) -> list[int]:
    """`k` distinct days in [lo, hi] outside the ward stays `busy` ([start, end]) and not in `taken`."""
    candidates = [d for d in range(lo, hi + 1) if d not in taken and not any(s <= d <= e for s, e in busy)]
    if len(candidates) < k:
        raise RuntimeError("DBT planting: no room for the events")
    return sorted(int(d) for d in rng.choice(candidates, size=k, replace=False))


def _weekday(day: int) -> int:
    while (day - 4) % 7 in (5, 6) or iso(day)[5:] == "02-29":  # 1970-01-01 was a Thursday
        day += 1
    return day


def _split(rng, total: int, parts: int, low: int, high: int, concentration: float) -> np.ndarray:
    for _ in range(1000):
        x = low + rng.multinomial(total - low * parts, rng.dirichlet(np.full(parts, concentration)))
        if x.max() <= high:
            return x
    raise RuntimeError("DBT planting: cannot split the bed days")


@dataclass
class _Cohort:
    """The DBT people: index dates, windows and where they live (index 0..n-1; eligible first)."""

    people: dict
    index: np.ndarray
    eligible: np.ndarray
    before_start: np.ndarray
    after_end: np.ndarray
    la: np.ndarray
    birth: np.ndarray


@dataclass
class _Planned:
    """How many events each eligible person has in each window, and who is admitted for how long."""

    sa_before: np.ndarray
    ae_before: np.ndarray
    sa_after: np.ndarray
    ae_after: np.ndarray
    inpatients: np.ndarray
    days_in_window: np.ndarray
    late_sa: np.ndarray
    late_ae: np.ndarray


@dataclass
class _Rows:
    """Records planted so far, as tuples (person fields index the cohort)."""

    refs: list[tuple]
    contacts: list[tuple]
    ecds: list[tuple]
    risk: list[tuple]
    spells: list[tuple]


def plant_dbt(rng: np.random.Generator, la_weights: np.ndarray) -> DBTRecords:
    """Every record of the DBT cohort, drawn from `rng` in a fixed order (people, counts, then per
    person: ward stays, events, the referral and its contacts; then activities, ECDS codes, spells)."""
    cohort = _cohort(rng, la_weights=la_weights)
    plan = _plan(rng)
    rows = _Rows(refs=[], contacts=[], ecds=[], risk=[], spells=[])
    for p in range(N_ELIGIBLE + N_LATE):
        busy = _ward_stays(rng, p=p, cohort=cohort, plan=plan, rows=rows)
        _events(rng, p=p, cohort=cohort, plan=plan, busy=busy, rows=rows)
        _referral(rng, p=p, cohort=cohort, rows=rows)
    refs_a = np.array(rows.refs, dtype=np.int64)
    referrals = {"person": refs_a[:, 0], "org": refs_a[:, 1], "received": refs_a[:, 2], "disch": refs_a[:, 3], "team": refs_a[:, 4], "reason": refs_a[:, 5]}
    contacts, activities = _contact_tables(rng, rows.contacts)
    e = np.array(rows.ecds, dtype=np.int64)
    complaint, intent, diag = ecds_codes(rng, e[:, 2])
    ecds = {"person": e[:, 0], "date": e[:, 1], "provider": LA_ACUTE[cohort.la[e[:, 0]]], "complaint": complaint, "intent": intent, "diag": diag}
    rk = np.array(rows.risk, dtype=np.int64)
    risk = {"person": rk[:, 0], "date": rk[:, 1], "type": rk[:, 2]}
    truth = {"index": cohort.index, "eligible": cohort.eligible, "before_start": cohort.before_start, "after_end": cohort.after_end}
    return DBTRecords(cohort.people, referrals, contacts, activities, ecds, risk, _spells(rng, rows.spells, cohort=cohort), truth)


def _cohort(rng: np.random.Generator, *, la_weights: np.ndarray) -> _Cohort:
    n = N_ELIGIBLE + N_LATE
    index = np.array(
        [_weekday(int(d)) for d in np.concatenate([rng.integers(INDEX_FROM, INDEX_TO, N_ELIGIBLE), rng.integers(LATE_FROM, LATE_TO, N_LATE)])],
        dtype=np.int64,
    )
    age_at_index = np.asarray((14, 15, 16, 17))[choice(rng, n, (2, 3, 4, 3))]
    birth = birth_for_age(rng, index, age_at_index)
    la = choice(rng, n, la_weights)
    gender = np.asarray((1, 0, 2, 4))[choice(rng, n, (0.78, 0.18, 0.03, 0.01))]  # indices into GENDERS
    people = {
        "birth": birth,
        "gender": gender,
        "ethnic": choice(rng, n, (0.45, 0.02, 0.12, 0.04, 0.02, 0.02, 0.03, 0.04, 0.02, 0.02, 0.04, 0.07, 0.08, 0.02, 0.01, 0.02)),
        "la": la,
        "lsoa": la * LSOAS_PER_LA + rng.integers(0, LSOAS_PER_LA, n),
    }
    return _Cohort(people=people, index=index, eligible=np.arange(n) < N_ELIGIBLE, before_start=shift_years(index, -1),
                   after_end=shift_years(index, 1), la=la, birth=birth)


def _plan(rng: np.random.Generator) -> _Planned:
    """Counts of the eligible cohort in each window (summing to TARGETS), and the late starters'."""
    sa_before = rng.multinomial(TARGETS["suicide_attempts"][0], rng.dirichlet(np.full(N_ELIGIBLE, 0.6)))
    ae_weights = 0.5 * sa_before / sa_before.sum() + 0.5 * rng.dirichlet(np.full(N_ELIGIBLE, 0.8))
    ae_before = rng.multinomial(TARGETS["ae_attendances"][0], ae_weights)
    sa_after = np.zeros(N_ELIGIBLE, dtype=np.int64)
    sa_after[rng.choice(N_ELIGIBLE, TARGETS["suicide_attempts"][1], replace=False)] = 1
    ae_after = np.zeros(N_ELIGIBLE, dtype=np.int64)
    ae_after[rng.choice(N_ELIGIBLE, TARGETS["ae_attendances"][1], replace=False)] = 1
    n_inpatients = 6
    inpatients = rng.choice(N_ELIGIBLE, n_inpatients, replace=False, p=(sa_before + 0.5) / (sa_before + 0.5).sum())
    days_in_window = _split(rng, TARGETS["bed_days"][0], n_inpatients, 35, 260, 3.0)
    # late starters: whatever happens, it is not counted
    late_sa = rng.poisson(1.0, N_LATE)
    late_ae = rng.poisson(1.5, N_LATE)
    return _Planned(sa_before=sa_before, ae_before=ae_before, sa_after=sa_after, ae_after=ae_after, inpatients=inpatients,
                    days_in_window=days_in_window, late_sa=late_sa, late_ae=late_ae)


def _ward_stays(rng: np.random.Generator, *, p: int, cohort: _Cohort, plan: _Planned, rows: _Rows) -> list[tuple[int, int]]:
    """Person p's ward stays (eligible: their share of the planted bed days; late starters: sometimes
    one stay), as spells (person, start, [(bed type, days)], org); returns the days they occupy."""
    b0, idx = int(cohort.before_start[p]), int(cohort.index[p])
    org = int(LA_TRUST[cohort.la[p]])
    busy: list[tuple[int, int]] = []
    if cohort.eligible[p] and p in plan.inpatients:
        role = int(np.flatnonzero(plan.inpatients == p)[0])
        x = int(plan.days_in_window[role])
        if role == 0:  # straddles the start of the before window
            s = b0 - int(rng.integers(15, 60))
            rows.spells.append((p, s, [(301, b0 + x - s)], org))
            busy.append((s, b0 + x))
        elif role == 1:  # discharged on the index day
            rows.spells.append((p, idx - x, [(301, x - min(20, x // 3)), (309, min(20, x // 3))], org))
            busy.append((idx - x, idx))
        elif role == 2 and x >= 80:  # two admissions
            x1 = x // 2
            s1 = b0 + MARGIN + int(rng.integers(0, 40))
            s2 = s1 + x1 + int(rng.integers(20, 60))
            rows.spells += [(p, s1, [(301, x1)], org), (p, s2, [(302, x - x1)], org)]
            busy += [(s1, s1 + x1), (s2, s2 + x - x1)]
        else:
            s = b0 + MARGIN + int(rng.integers(0, 365 - x - 2 * MARGIN - 2))
            s = min(s, idx - MARGIN - x)
            rows.spells.append((p, s, [(301, x)], org))
            busy.append((s, s + x))
    elif not cohort.eligible[p] and rng.random() < 0.4:
        x = int(rng.integers(30, 90))
        s = b0 + MARGIN + int(rng.integers(0, 365 - x - 2 * MARGIN - 2))
        rows.spells.append((p, s, [(301, x)], org))
        busy.append((s, s + x))
    return busy


def _events(rng: np.random.Generator, *, p: int, cohort: _Cohort, plan: _Planned, busy: list[tuple[int, int]], rows: _Rows) -> None:
    """Person p's suicide attempts and A&E attendances (some on the same day) inside the windows,
    self-harm incidents, and probes outside both windows."""
    b0, idx, a1 = int(cohort.before_start[p]), int(cohort.index[p]), int(cohort.after_end[p])
    taken: set[int] = set()
    windows = [(b0 + MARGIN, idx - 1 - MARGIN), (idx + MARGIN, min(a1 - 1 - MARGIN, END))]
    if cohort.eligible[p]:
        counts = [(plan.sa_before[p], plan.ae_before[p]), (plan.sa_after[p], plan.ae_after[p])]
    else:
        counts = [(plan.late_sa[p - N_ELIGIBLE], plan.late_ae[p - N_ELIGIBLE]), (int(rng.random() < 0.3), int(rng.random() < 0.3))]
    for (lo, hi), (k_sa, k_ae) in zip(windows, counts):
        if hi < lo:
            continue
        sa_days = _free_days(rng, lo, hi, int(k_sa), busy, taken)
        taken.update(sa_days)
        paired = [d for d in sa_days if rng.random() < 0.5][: int(k_ae)]
        ae_days = paired + _free_days(rng, lo, hi, int(k_ae) - len(paired), busy, taken)
        taken.update(ae_days)
        rows.risk += [(p, d, RISK["suicide_attempt"]) for d in sa_days]
        kinds = [ECDS_SELF_HARM if d in paired else int(rng.choice([ECDS_MENTAL_HEALTH, ECDS_OTHER], p=[0.6, 0.4])) for d in ae_days]
        rows.ecds += [(p, d, k) for d, k in zip(ae_days, kinds)]
        # self-harm incidents (not suicide attempts: never counted)
        for d in _free_days(rng, lo, hi, int(rng.poisson(1.2 if lo < idx else 0.3)), busy, taken):
            rows.risk.append((p, d, RISK["self_harm"]))
    if rng.random() < 0.5 and b0 - 130 >= START:
        d = _free_days(rng, b0 - 130, b0 - 10, 1, busy, taken)[0]
        rows.ecds.append((p, d, ECDS_SELF_HARM))
        rows.risk.append((p, d, RISK["suicide_attempt"]))
    if rng.random() < 0.5 and a1 + 10 <= END:
        d = _free_days(rng, a1 + 10, min(a1 + 130, END), 1, busy, taken)[0]
        rows.ecds.append((p, d, int(rng.choice([ECDS_MENTAL_HEALTH, ECDS_OTHER]))))


def _referral(rng: np.random.Generator, *, p: int, cohort: _Cohort, rows: _Rows) -> None:
    """The community CAMHS referral holding person p's DBT, and its contacts (ref, day, remote, status)."""
    idx, a1 = int(cohort.index[p]), int(cohort.after_end[p])
    received = min(max(START, idx - int(rng.integers(200, 500))), idx - 30)
    disch = a1 + int(rng.integers(30, 300))
    r = len(rows.refs)
    rows.refs.append((p, int(LA_TRUST[cohort.la[p]]), received, disch if disch <= END else int(NULL_DAY), TEAM["Z01"], REASON["15"]))
    contacts = rows.contacts
    day = received + int(rng.integers(3, 15))
    while day < idx - 7:  # assessment and treatment before DBT
        contacts.append((r, day, int(rng.random() < 0.15), int(rng.random() < 0.1)))
        day += int(rng.integers(18, 40))
    weeks = int(rng.integers(26, 53))
    for w in range(weeks):  # weekly DBT: the index contact is attended
        day = idx + 7 * w + (int(rng.integers(-1, 2)) if w else 0)
        if day > END:
            break
        contacts.append((r, day, 0, 2 if w == 0 else (3 if rng.random() < 0.1 else 2)))
    day = idx + 7 * weeks + int(rng.integers(14, 40))
    while day <= min(disch, END):
        contacts.append((r, day, int(rng.random() < 0.2), int(rng.random() < 0.1)))
        day += int(rng.integers(25, 50))


def _contact_tables(rng: np.random.Generator, contacts: list) -> tuple[dict, dict]:
    """Contacts (ref, date, mechanism, attendance indices) and their activities (DBT, a skills group, or another procedure)."""
    c = np.array(contacts, dtype=np.int64)
    # status (c[:, 3]): 0 attended, 1 did not attend, 2 DBT attended, 3 DBT not attended
    dbt = c[:, 3] >= 2
    dna = np.isin(c[:, 3], (1, 3))
    video = (c[:, 2] == 1) & (c[:, 1] >= to_day("2020-03-23"))
    phone = (c[:, 2] == 1) & ~video
    contacts_d = {
        "ref": c[:, 0],
        "date": c[:, 1],
        "mech": np.where(video, MECHANISMS.index("11"), np.where(phone, MECHANISMS.index("02"), MECHANISMS.index("01"))),
        "attend": np.where(dna, 2, 0),  # ATTENDANCE index: 0 = "5" attended, 2 = "3" did not attend
    }
    act_contact, act_code = [], []
    for i in range(len(c)):
        if dna[i]:
            continue
        if dbt[i]:
            act_contact.append(i)
            act_code.append(0)
            if rng.random() < 0.4:  # skills group the same day
                act_contact.append(i)
                act_code.append(0)
        elif rng.random() < 0.7:
            act_contact.append(i)
            act_code.append(1 + int(choice(rng, 1, PROCEDURE_WEIGHTS)[0]))
    return contacts_d, {"contact": np.array(act_contact, dtype=np.int64), "code": np.array(act_code, dtype=np.int64)}


def _spells(rng: np.random.Generator, spells: list, *, cohort: _Cohort) -> Spells:
    """The planted spells (person, start, [(bed type, days)], org) as Spells, fixed (never calibrated)."""
    k = len(spells)
    start = np.array([s[1] for s in spells], dtype=np.int64)
    dur = np.zeros((k, 3), dtype=np.int64)
    kind = np.zeros((k, 3), dtype=np.int8)
    bed = np.zeros((k, 3), dtype=np.int16)
    for i, (_, _, parts, _) in enumerate(spells):
        for j, (b, d) in enumerate(parts):
            dur[i, j], bed[i, j], kind[i, j] = d, b, 2 if b == 309 else 1
    person = np.array([s[0] for s in spells], dtype=np.int64)
    return Spells(
        start=start,
        dur=dur,
        kind=kind,
        bed=bed,
        move=np.zeros(k, dtype=bool),
        org=np.array([s[3] for s in spells], dtype=np.int64),
        ooa=np.zeros(k, dtype=bool),
        age=age_on(cohort.birth[person], start),
        la=cohort.la[person],
        method=choice(rng, k, (0, 0, 0, 0.4, 0.4, 0, 0, 0.2, 0, 0, 0, 0, 0)),  # 24, 25, 2D: never via A&E
        dest=np.zeros(k, dtype=np.int64),
        fixed=np.ones(k, dtype=bool),
        person=person,
    )
