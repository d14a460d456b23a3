"""Hospital provider spells and ward stays: CYP admissions of footprint residents (with the planted
programme effects), CYP patients from elsewhere treated in the network, and adults.

A spell is up to three consecutive ward stays held in (n, 3) arrays: `kind` 0 = none, 1 = general
ward, 2 = PICU; `dur` the days of each stay (the discharge day of one is the admission day of the
next). Stays that would end after the extract end are open (null end); stays that would start after
it are dropped.

Programme effects on footprint CYP admissions (each `1 + (theta - 1) * ramp(admission day)`):
admission rate (theta_admissions), probability of an out-of-network placement by bed type
(theta_ooa_placement), general-ward length of stay (theta_los) and PICU length of stay
(theta_picu_los). theta_los and theta_picu_los are chosen; theta_admissions and
theta_ooa_placement are solved so that the *expected* before/after ratios of bed days (baseline
year vs post year, simple counts) hit the published -32% and -93%. Each realisation is then
drawn (a few tries, keeping one close to the targets) and calibrated exactly: out-of-network
spells of the post year are switched in-network (or back), and the post-year in-network lengths of
stay are rescaled, so that the simple counts give the targets to the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

from outcomes.reference._model import (
    BURN_START,
    DAY_MONTH,
    END,
    EXT_DAYS,
    LA_TRUST,
    N_FOOTPRINT,
    NETWORK_IDX,
    OOA_IDX,
    OOA_INPATIENT_WEIGHTS,
    START,
    Programme,
    age_on,
    birth_for_age,
    choice,
    month_start,
    shift_years,
)

# --- CYP bed types, lengths of stay and out-of-network placement -------------------------------
CHILD_TYPES, CHILD_WEIGHTS = (300, 302, 310, 311), (0.80, 0.08, 0.06, 0.06)
ADOLESCENT_TYPES, ADOLESCENT_WEIGHTS = (301, 302, 309, 303, 304, 310, 311), (0.61, 0.14, 0.08, 0.06, 0.02, 0.05, 0.04)
#: median days on general wards by the spell's first bed type (309: the step-down after PICU)
GENERAL_MEDIAN = {300: 55, 301: 55, 302: 100, 303: 160, 304: 220, 309: 40, 310: 130, 311: 150}
GENERAL_SIGMA, GENERAL_CAP = 0.85, 700
PICU_MEDIAN, PICU_SIGMA, PICU_CAP = 24, 0.6, 180
P_PICU_EPISODE, P_WARD_MOVE, P_STEP_DOWN = 0.10, 0.06, 0.60
#: baseline probability that an admission of a footprint resident is to an out-of-network provider
P0_OOA = {300: 0.13, 301: 0.15, 302: 0.27, 303: 0.55, 304: 0.90, 309: 0.40, 310: 0.36, 311: 0.45}
OOA_LOS_FACTOR = 1.25
#: repatriation: from go-live, a share of out-of-network patients is moved to a network ward on a
#: day drawn over the phase-in (patients admitted out of network later: after a short delay)
REPATRIATION_SHARE, REPATRIATION_DELAY_MIN, REPATRIATION_DELAY_MEAN = 0.9, 7, 21.0
TRANSFER_METHOD, TRANSFER_DESTINATION = "81", "53"
CYP_AGES, CYP_AGE_WEIGHTS = np.arange(8, 18), (1, 1, 2, 3, 5, 9, 14, 20, 24, 21)
P_HOME_TRUST = 0.75

# --- adults ---------------------------------------------------------------------------------------
#: adult bed types (v6): acute, PICU, eating disorders, learning disabilities, low and medium secure,
#: specialist; acute stays of people 65 and over are written as 201 (older adult acute)
ADULT_TYPES, ADULT_WEIGHTS = (200, 202, 203, 205, 206, 207, 209), (0.76, 0.06, 0.04, 0.04, 0.06, 0.02, 0.02)
ADULT_MEDIAN = {200: 25, 202: 25, 203: 60, 205: 90, 206: 180, 207: 300, 209: 30}
ADULT_PICU, ADULT_ACUTE, OLDER_ADULT_ACUTE = 202, 200, 201
ADULT_SIGMA, ADULT_CAP = 0.9, 900
ADULT_PICU_MEDIAN, P_ADULT_PICU_EPISODE = 14, 0.08
ADULT_AGES = np.arange(18, 90)
ADULT_AGE_WEIGHTS = np.interp(ADULT_AGES, [18, 25, 35, 45, 55, 65, 75, 89], [6, 10, 10, 9, 7, 4, 3, 1])

ADMISSION_METHODS = ("21", "22", "23", "24", "25", "2A", "2B", "2D", "28", "11", "12", "13", "81")
CYP_METHOD_WEIGHTS = (0.30, 0.04, 0.02, 0.10, 0.14, 0.04, 0.03, 0.05, 0.03, 0.04, 0.05, 0.10, 0.06)
ADULT_METHOD_WEIGHTS = (0.36, 0.05, 0.03, 0.05, 0.16, 0.05, 0.03, 0.06, 0.03, 0.03, 0.03, 0.04, 0.08)
DESTINATIONS = ("19", "29", "51", "53", "65", "66", "87", "84", "38", "54", "85", "79")
CYP_DEST_WEIGHTS = (0.74, 0.05, 0.03, 0.06, 0.04, 0.04, 0.02, 0.01, 0.01, 0.0, 0.0, 0.0)
ADULT_DEST_WEIGHTS = (0.72, 0.07, 0.04, 0.05, 0.02, 0.0, 0.02, 0.01, 0.02, 0.02, 0.02, 0.01)


@dataclass
class Spells:
    """Hospital provider spells of one group, each with up to three ward stays."""

    start: np.ndarray  # admission day
    dur: np.ndarray  # (n, 3) int64 days on each ward
    kind: np.ndarray  # (n, 3) int8: 0 none, 1 general, 2 PICU
    bed: np.ndarray  # (n, 3) int16 bed type (MHAdmittedPatientClass)
    move: np.ndarray  # bool: second stay is a move to another ward of the same bed type
    org: np.ndarray  # provider index (ORG_CODES)
    ooa: np.ndarray  # bool: out-of-network provider
    age: np.ndarray  # age at admission (sampled; exact once people are linked)
    la: np.ndarray  # LA index (ALL_LAS)
    method: np.ndarray  # index into ADMISSION_METHODS
    dest: np.ndarray  # index into DESTINATIONS
    adult: bool = False
    fixed: np.ndarray = field(default=None)  # bool: planted (DBT) spells that calibration must not touch
    person: np.ndarray = field(default=None)  # global person index, once linked
    follows: np.ndarray = field(default=None)  # index of the out-of-network spell this repatriation continues (-1)

    def __post_init__(self):
        if self.fixed is None:
            self.fixed = np.zeros(len(self.start), dtype=bool)
        if self.follows is None:
            self.follows = np.full(len(self.start), -1, dtype=np.int64)

    def continuation(self) -> np.ndarray:
        """Index of the repatriation spell continuing each spell (-1 if none)."""
        out = np.full(len(self), -1, dtype=np.int64)
        has = self.follows >= 0
        out[self.follows[has]] = np.flatnonzero(has)
        return out

    def __len__(self) -> int:
        return len(self.start)

    def take(self, index) -> "Spells":
        """The spells at `index` (a mask or positions), with repatriation links renumbered."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index, dtype=np.int64)
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = v[index] if isinstance(v, np.ndarray) else v
        position = np.full(len(self), -1, dtype=np.int64)
        position[index] = np.arange(len(index))
        follows = values["follows"]
        values["follows"] = np.where(follows >= 0, position[np.maximum(follows, 0)], -1)
        return Spells(**values)

    @staticmethod
    def concat(parts: list["Spells"]) -> "Spells":
        """Spells of several groups one after the other (`adult` is taken from the first)."""
        values = {}
        for f in fields(Spells):
            vs = [getattr(p, f.name) for p in parts]
            if f.name == "follows":
                offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
                vs = [np.where(v >= 0, v + o, -1) for v, o in zip(vs, offsets)]
            values[f.name] = np.concatenate(vs) if isinstance(vs[0], np.ndarray) else vs[0]
        return Spells(**values)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stay start, stay end, present) as (n, 3) arrays; an end after the extract end means open."""
        ends = self.start[:, None] + np.cumsum(self.dur, axis=1)
        starts = ends - self.dur
        present = (self.kind > 0) & (starts <= END)
        return starts, ends, present

    def bed_days(self, w0: int, w1: int, dur: np.ndarray | None = None) -> np.ndarray:
        """Occupied bed days (MHS24) of each spell in [w0, w1); open stays run to the extract end."""
        d = self.dur if dur is None else dur
        ends = self.start[:, None] + np.cumsum(d, axis=1)
        starts = ends - d
        present = (self.kind > 0) & (starts <= END)
        ends = np.minimum(ends, END + 1)
        days = np.clip(np.minimum(ends, w1) - np.maximum(starts, w0), 0, None)
        return (days * present).sum(axis=1)

    def last_stay(self) -> np.ndarray:
        _, _, present = self.bounds()
        return 2 - np.argmax(present[:, ::-1], axis=1)

    def end(self) -> np.ndarray:
        """Discharge day of each spell (> END when still open)."""
        _, ends, _ = self.bounds()
        return ends[np.arange(len(self)), self.last_stay()]


# ---------------------------------------------------------------------------------------------
@dataclass
class Structure:
    first: np.ndarray
    base: np.ndarray  # (n, 3) float days before effects
    kind: np.ndarray
    bed: np.ndarray
    move: np.ndarray


def _lognormal(rng, median, sigma, cap, n):
    return np.minimum(np.exp(np.log(median) + sigma * rng.standard_normal(n)), cap)


def cyp_structure(rng: np.random.Generator, age: np.ndarray, first: np.ndarray | None = None) -> Structure:
    """Bed types and base lengths of CYP spells: a general ward (sometimes with a PICU episode in
    the middle, or a move to another ward), or a direct PICU admission with a step-down. The
    first bed type is drawn from the age unless given."""
    n = len(age)
    child = age <= 12
    drawn = np.where(
        child,
        np.asarray(CHILD_TYPES)[choice(rng, n, CHILD_WEIGHTS)],
        np.asarray(ADOLESCENT_TYPES)[choice(rng, n, ADOLESCENT_WEIGHTS)],
    ).astype(np.int16)
    first = drawn if first is None else np.asarray(first, dtype=np.int16)
    median = np.vectorize(GENERAL_MEDIAN.get)(first)
    general = _lognormal(rng, median, GENERAL_SIGMA, GENERAL_CAP, n)
    picu = _lognormal(rng, PICU_MEDIAN, PICU_SIGMA, PICU_CAP, n)
    u, split, v = rng.random(n), rng.uniform(0.15, 0.6, n), rng.random(n)
    gen_first = np.isin(first, (300, 301, 302))
    episode = gen_first & (u < P_PICU_EPISODE)
    move = gen_first & (u >= P_PICU_EPISODE) & (u < P_PICU_EPISODE + P_WARD_MOVE)
    direct = first == 309
    step = direct & (v < P_STEP_DOWN)
    base = np.zeros((n, 3))
    kind = np.zeros((n, 3), dtype=np.int8)
    bed = np.zeros((n, 3), dtype=np.int16)
    base[:, 0], kind[:, 0], bed[:, 0] = general, 1, first
    base[episode, 0] = general[episode] * split[episode]
    base[episode, 1], kind[episode, 1], bed[episode, 1] = picu[episode], 2, 309
    base[episode, 2], kind[episode, 2], bed[episode, 2] = general[episode] * (1 - split[episode]), 1, first[episode]
    base[move, 0] = general[move] * split[move]
    base[move, 1], kind[move, 1], bed[move, 1] = general[move] * (1 - split[move]), 1, first[move]
    base[direct, 0], kind[direct, 0], bed[direct, 0] = picu[direct], 2, 309
    base[step, 1], kind[step, 1] = general[step], 1
    bed[step, 1] = np.where(child[step], 300, 301)
    return Structure(first, base, kind, bed, move)


def adult_structure(rng: np.random.Generator, n: int) -> Structure:
    first = np.asarray(ADULT_TYPES)[choice(rng, n, ADULT_WEIGHTS)].astype(np.int16)
    median = np.vectorize(ADULT_MEDIAN.get)(first)
    general = _lognormal(rng, median, ADULT_SIGMA, ADULT_CAP, n)
    picu = _lognormal(rng, ADULT_PICU_MEDIAN, 0.6, 120, n)
    u, split = rng.random(n), rng.uniform(0.15, 0.6, n)
    episode = (first == 200) & (u < P_ADULT_PICU_EPISODE)
    direct = first == ADULT_PICU
    base = np.zeros((n, 3))
    kind = np.zeros((n, 3), dtype=np.int8)
    bed = np.zeros((n, 3), dtype=np.int16)
    base[:, 0], kind[:, 0], bed[:, 0] = general, 1, first
    base[episode, 0] = general[episode] * split[episode]
    base[episode, 1], kind[episode, 1], bed[episode, 1] = picu[episode], 2, ADULT_PICU
    base[episode, 2], kind[episode, 2], bed[episode, 2] = general[episode] * (1 - split[episode]), 1, 200
    base[direct, 0], kind[direct, 0] = picu[direct], 2
    base[direct, 1], kind[direct, 1], bed[direct, 1] = general[direct], 1, 200
    return Structure(first, base, kind, bed, np.zeros(n, dtype=bool))


def durations(s: Structure, m_general: np.ndarray, m_picu: np.ndarray, factor: np.ndarray) -> np.ndarray:
    m = np.where(s.kind == 2, m_picu[:, None], m_general[:, None]) * factor[:, None]
    return np.where(s.kind > 0, np.maximum(1, np.rint(s.base * m)), 0).astype(np.int64)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Effects:
    """Programme effects on footprint CYP admissions (multipliers at full effect)."""

    admissions: float
    ooa_placement: float
    los: float
    picu_los: float
    nonfootprint_admissions: float = 1.0


_P0 = np.vectorize(P0_OOA.get)


class _Stratified:
    """A Latin-hypercube stand-in for a numpy Generator: each call returns a stratified sample (one
    point per 1/n of the distribution) in random order, so the templates of `_expected_overlaps`
    cover every distribution evenly and the sizing is nearly free of Monte Carlo noise."""

    def __init__(self, seed: int):
        self._rng = np.random.default_rng(seed)

    def random(self, n: int) -> np.ndarray:
        return (self._rng.permutation(n) + self._rng.random(n)) / n

    def uniform(self, low: float, high: float, n: int) -> np.ndarray:
        return low + (high - low) * self.random(n)

    def standard_normal(self, n: int) -> np.ndarray:
        from scipy.special import ndtri

        return ndtri(self.random(n))

    def exponential(self, scale: float, n: int) -> np.ndarray:
        return -scale * np.log1p(-self.random(n))


def _templates(m: int):
    """Spell templates for the sizing, stratified by (age group, first bed type) with weights equal
    to the probability of each: (structure, weight of each template, repatriation draws)."""
    rng = _Stratified(20171001)  # fixed: planted sizes do not depend on the seed
    ages = np.asarray(CYP_AGES)
    p_age = np.asarray(CYP_AGE_WEIGHTS, dtype=float) / sum(CYP_AGE_WEIGHTS)
    p_child = p_age[ages <= 12].sum()
    combos = [(10, t, p_child * w / sum(CHILD_WEIGHTS)) for t, w in zip(CHILD_TYPES, CHILD_WEIGHTS)]
    combos += [(15, t, (1 - p_child) * w / sum(ADOLESCENT_WEIGHTS)) for t, w in zip(ADOLESCENT_TYPES, ADOLESCENT_WEIGHTS)]
    per = m // len(combos)
    age = np.repeat([c[0] for c in combos], per)
    first = np.repeat([c[1] for c in combos], per)
    weight = np.repeat([c[2] / per for c in combos], per)
    s = cyp_structure(rng, age, first)
    g, delay, _ = _repatriation_draws(rng, len(age), None)
    return s, weight, g, delay


@lru_cache(maxsize=16)
def _expected_overlaps(prog: Programme, effects: Effects, window: tuple[int, int], lookback: int = 1000, m: int = 3000):
    """Expected bed days in `window` of one admission on each day `a` (weighted over stratified
    spell templates): in-network X, and weighted by the baseline out-of-network probability,
    in-network Y_in, out-of-network Y_ooa (whole stay, wherever) and Y_part (the part before any
    repatriation, which happens with probability REPATRIATION_SHARE)."""
    s, weight, g_frac, delay = _templates(m)
    g = prog.go_live + np.floor(g_frac * max(prog.phase_end - prog.go_live, 1)).astype(np.int64)
    p0 = _P0(s.first)
    w0, w1 = window
    a = np.arange(max(BURN_START, w0 - lookback), w1, dtype=np.int64)
    r = prog.ramp(a)
    m_gen, m_picu = 1 + (effects.los - 1) * r, 1 + (effects.picu_los - 1) * r
    out = []
    for factor in (1.0, OOA_LOS_FACTOR):
        total = np.zeros((len(a), len(weight)))
        for p in range(3):
            mult = np.where(s.kind[None, :, p] == 2, m_picu[:, None], m_gen[:, None]) * factor
            total += np.where(s.kind[None, :, p] > 0, np.maximum(1, np.rint(s.base[None, :, p] * mult)), 0)
        end = np.minimum(a[:, None] + total, END + 1)
        overlap = np.clip(np.minimum(end, w1) - np.maximum(a[:, None], w0), 0, None)
        out.append(overlap)
        if factor != 1.0:  # the out-of-network part only: until repatriation (if any)
            r_day = np.maximum(a[:, None] + delay[None, :], g[None, :])
            part_end = np.where(r_day < end, r_day, end)
            moved = np.clip(np.minimum(part_end, w1) - np.maximum(a[:, None], w0), 0, None)
            out.append(REPATRIATION_SHARE * moved + (1 - REPATRIATION_SHARE) * overlap)
    # plain numpy sums, not BLAS: the summation order must not depend on the machine's threads
    x_in = (out[0] * weight).sum(axis=1)
    y_in = (out[0] * (weight * p0)).sum(axis=1)
    y_ooa = (out[1] * (weight * p0)).sum(axis=1)
    y_part = (out[2] * (weight * p0)).sum(axis=1)
    return a, x_in, y_in, y_ooa, y_part


def size_effects(prog: Programme, lam0: np.ndarray, los: float, picu_los: float, bed_day_target: float, ooa_target: float) -> tuple[Effects, dict]:
    """Solve theta_admissions and theta_ooa_placement so that the expected post/baseline ratios of
    CYP bed days and out-of-network bed days (footprint residents) are the targets (1 - reduction).
    `lam0`: expected daily admissions without programme on EXT_DAYS."""
    trial = Effects(1.0, 1.0, los, picu_los)
    ab, xb_in, yb_in, yb_ooa, yb_part = _expected_overlaps(prog, trial, prog.baseline)
    ap, xp_in, yp_in, yp_ooa, yp_part = _expected_overlaps(prog, trial, prog.post)
    lb, lp = lam0[ab - BURN_START], lam0[ap - BURN_START]
    rp = prog.ramp(ap)
    base_total = float((lb * (xb_in - yb_in + yb_ooa)).sum())
    base_ooa = float((lb * yb_part).sum())

    def theta_ooa(theta_adm: float) -> float:
        c = lp * (1 + (theta_adm - 1) * rp) * yp_part
        return 1 + (ooa_target * base_ooa - c.sum()) / (c * rp).sum()

    def post_total(theta_adm: float) -> float:
        to = theta_ooa(theta_adm)
        q = 1 + (to - 1) * rp
        return float((lp * (1 + (theta_adm - 1) * rp) * (xp_in - q * yp_in + q * yp_ooa)).sum())

    lo, hi = 0.02, 3.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if post_total(mid) < bed_day_target * base_total:
            lo = mid
        else:
            hi = mid
    theta_adm = (lo + hi) / 2
    theta_o = float(np.clip(theta_ooa(theta_adm), 0.0, 1.0))
    # CYP from elsewhere treated in the network: same admission effect sized on in-network stays alone
    nf_base = float((lb * xb_in).sum())
    nf_c = lp * xp_in
    theta_nf = 1 + (bed_day_target * nf_base - nf_c.sum()) / (nf_c * rp).sum()
    effects = Effects(theta_adm, theta_o, los, picu_los, float(max(theta_nf, 0.02)))
    expected = {
        "baseline_cyp_bed_days_per_unit_rate": base_total,
        "counterfactual_post_over_baseline_bed_days": float((lp * (xp_in - yp_in + yp_ooa)).sum()) / base_total,
        "post_over_baseline_ooa_bed_days_with_repatriation_only": float((lp * (1 + (theta_adm - 1) * rp) * yp_part).sum()) / base_ooa,
    }
    return effects, expected


# ---------------------------------------------------------------------------------------------
def _orgs(rng: np.random.Generator, ooa: np.ndarray, la: np.ndarray, p_home: float = P_HOME_TRUST) -> np.ndarray:
    n = len(ooa)
    home = LA_TRUST[la]
    other = NETWORK_IDX[choice(rng, n, (1, 1, 1))]
    u = rng.random(n)
    in_network = np.where((u < p_home) & np.isin(home, NETWORK_IDX), home, other)
    out = OOA_IDX[choice(rng, n, OOA_INPATIENT_WEIGHTS)]
    return np.where(ooa, out, in_network)


def cyp_spells(
    rng: np.random.Generator,
    lam: np.ndarray,
    prog: Programme,
    effects: Effects,
    la_weights: np.ndarray,
    la_offset: int,
    footprint: bool,
) -> Spells:
    """CYP admissions from a daily expected count `lam` on EXT_DAYS (noise and programme already
    applied); spells discharged before the extract start are dropped."""
    counts = rng.poisson(lam)
    start = np.repeat(EXT_DAYS, counts)
    n = len(start)
    age = CYP_AGES[choice(rng, n, CYP_AGE_WEIGHTS)]
    s = cyp_structure(rng, age)
    r = prog.ramp(start)
    if footprint:
        p_ooa = _P0(s.first) * (1 + (effects.ooa_placement - 1) * r) if n else np.zeros(0)
        ooa = rng.random(n) < p_ooa
    else:
        ooa = np.zeros(n, dtype=bool)
        rng.random(n)
    la = la_offset + choice(rng, n, la_weights)
    org = _orgs(rng, ooa, la)
    m_gen, m_picu = 1 + (effects.los - 1) * r, 1 + (effects.picu_los - 1) * r
    dur = durations(s, m_gen, m_picu, np.where(ooa, OOA_LOS_FACTOR, 1.0))
    method = choice(rng, n, CYP_METHOD_WEIGHTS)
    dest = choice(rng, n, CYP_DEST_WEIGHTS)
    sp = Spells(start, dur, s.kind, s.bed, s.move, org, ooa, age, la, method, dest)
    if footprint:
        g, delay, chosen = _repatriation_draws(rng, n, prog)
        r_day = np.maximum(start + delay, g)
        moved = np.flatnonzero(ooa & chosen & (r_day < sp.end()) & (r_day <= END))
        sp = repatriate(sp, moved, r_day[moved])
    return sp.take(sp.end() > START)  # (repatriations happen after go-live: no link is cut)


def _repatriation_draws(rng: np.random.Generator, n: int, prog: Programme | None):
    """(day drawn over the phase-in, delay after admission, repatriated or not) of n spells; with
    no programme, the day is the fraction of the phase-in."""
    g = rng.random(n)
    if prog is not None:
        g = prog.go_live + np.floor(g * max(prog.phase_end - prog.go_live, 1)).astype(np.int64)
    delay = REPATRIATION_DELAY_MIN + rng.exponential(REPATRIATION_DELAY_MEAN, n).astype(np.int64)
    return g, delay, rng.random(n) < REPATRIATION_SHARE


def repatriate(sp: Spells, moved: np.ndarray, day: np.ndarray) -> Spells:
    """End each spell `moved` on `day` (discharged to an NHS mental health ward) and continue it,
    from that day, as a transfer-in spell at the LA's network provider."""
    if len(moved) == 0:
        return sp
    starts, ends, _ = sp.bounds()
    k = len(moved)
    cont = {
        "dur": np.zeros((k, 3), dtype=np.int64),
        "kind": np.zeros((k, 3), dtype=np.int8),
        "bed": np.zeros((k, 3), dtype=np.int16),
    }
    for n_, (i, r) in enumerate(zip(moved, day)):
        j = int(np.flatnonzero((starts[i] <= r) & (r < ends[i]) & (sp.kind[i] > 0))[0])
        rest = [(int(ends[i, j] - r), sp.kind[i, j], sp.bed[i, j])] + [(int(sp.dur[i, q]), sp.kind[i, q], sp.bed[i, q]) for q in range(j + 1, 3)]
        for q, (d, kd, b) in enumerate(rest):
            cont["dur"][n_, q], cont["kind"][n_, q], cont["bed"][n_, q] = d, kd, b
        sp.dur[i, j] = r - starts[i, j]
        sp.dur[i, j + 1 :] = 0
        sp.kind[i, j + 1 :] = 0
        if sp.dur[i, j] == 0:
            sp.kind[i, j] = 0
    home = LA_TRUST[sp.la[moved]]
    continuation = Spells(
        start=np.asarray(day, dtype=np.int64),
        dur=cont["dur"],
        kind=cont["kind"],
        bed=cont["bed"],
        move=np.zeros(k, dtype=bool),
        org=np.where(np.isin(home, NETWORK_IDX), home, NETWORK_IDX[0]),
        ooa=np.zeros(k, dtype=bool),
        age=sp.age[moved],
        la=sp.la[moved],
        method=np.full(k, ADMISSION_METHODS.index(TRANSFER_METHOD)),
        dest=sp.dest[moved],
    )
    sp.dest[moved] = DESTINATIONS.index(TRANSFER_DESTINATION)
    out = Spells.concat([sp, continuation])
    out.follows[len(sp) :] = moved
    return out


def adult_spells(rng: np.random.Generator, lam: np.ndarray, la_weights: np.ndarray, p_elsewhere: float, n_elsewhere: int) -> Spells:
    counts = rng.poisson(lam)
    start = np.repeat(EXT_DAYS, counts)
    n = len(start)
    age = ADULT_AGES[choice(rng, n, ADULT_AGE_WEIGHTS)]
    s = adult_structure(rng, n)
    ones = np.ones(n)
    dur = durations(s, ones, ones, ones)
    elsewhere = rng.random(n) < p_elsewhere
    la = np.where(elsewhere, N_FOOTPRINT + choice(rng, n, np.ones(n_elsewhere)), choice(rng, n, la_weights))
    org = _orgs(rng, np.zeros(n, dtype=bool), la, p_home=0.9)
    method = choice(rng, n, ADULT_METHOD_WEIGHTS)
    dest = choice(rng, n, ADULT_DEST_WEIGHTS)
    sp = Spells(start, dur, s.kind, s.bed, s.move, org, np.zeros(n, dtype=bool), age, la, method, dest, adult=True)
    return sp.take(sp.end() > START)


# ---------------------------------------------------------------------------------------------
# exact calibration of the post-year counts
def _switch(rng: np.random.Generator, sp: Spells, i: int) -> None:
    sp.ooa[i] = not sp.ooa[i]
    if sp.ooa[i]:
        sp.org[i] = OOA_IDX[choice(rng, 1, OOA_INPATIENT_WEIGHTS)[0]]
    else:
        home = LA_TRUST[sp.la[i]]
        sp.org[i] = home if home in NETWORK_IDX else NETWORK_IDX[0]


def _fine_tune(rng: np.random.Generator, sp: Spells, mask: np.ndarray, need: int, window: tuple[int, int]) -> tuple[int, int]:
    """Lengthen or shorten the last ward stay of spells in `mask` whose discharge falls inside
    `window`, so that their bed days in the window change by `need` in total. Returns (what could
    not be absorbed, number of stays changed)."""
    w0, w1 = window
    starts, ends, _ = sp.bounds()
    last = sp.last_stay()
    changed = 0
    for i in rng.permutation(np.flatnonzero(mask)):
        if need == 0:
            break
        j = last[i]
        s, e = int(starts[i, j]), int(ends[i, j])
        if e > END or e < w0 or e > w1:
            continue
        new_e = int(np.clip(e + need, max(s + 1, w0), min(w1, END)))
        delta = new_e - e
        if delta:
            sp.dur[i, j] += delta
            need -= delta
            changed += 1
    return need, changed


def _fine_tune_ooa(rng: np.random.Generator, sp: Spells, need: int, window: tuple[int, int]) -> tuple[int, int]:
    """Change the out-of-network bed days in `window` by `need`: move the repatriation day of
    repatriated spells (the network spell after it starts on the new day, total bed days unchanged)
    or the discharge of other out-of-network spells, when it falls inside the window."""
    w0, w1 = window
    starts, ends, _ = sp.bounds()
    last = sp.last_stay()
    cont = sp.continuation()
    changed = 0
    for i in rng.permutation(np.flatnonzero(sp.ooa & ~sp.fixed)):
        if need == 0:
            break
        j = last[i]
        s, e = int(starts[i, j]), int(ends[i, j])
        if e > END or e < w0 or e > w1:
            continue
        c = cont[i]
        high = min(w1, END) if c < 0 else min(w1, int(sp.start[c] + sp.dur[c, 0]) - 1)
        new_e = int(np.clip(e + need, max(s + 1, w0), high))
        delta = new_e - e
        if delta:
            sp.dur[i, j] += delta
            if c >= 0:
                sp.start[c] += delta
                sp.dur[c, 0] -= delta
            need -= delta
            changed += 1
    return need, changed


def calibrate(rng: np.random.Generator, sp: Spells, fixed: Spells | None, prog: Programme, bed_day_target: float, ooa_target: float | None) -> dict:
    """Make the post-year counts of `sp` (plus the untouchable `fixed` spells) exactly
    `bed_day_target` x baseline (all bed days) and `ooa_target` x baseline (out-of-network)."""
    wb, wp = prog.baseline, prog.post
    fixed_b = fixed.bed_days(*wb) if fixed is not None and len(fixed) else np.zeros(0, dtype=np.int64)
    fixed_p = fixed.bed_days(*wp) if fixed is not None and len(fixed) else np.zeros(0, dtype=np.int64)
    fixed_ooa = fixed.ooa if fixed is not None and len(fixed) else np.zeros(0, dtype=bool)
    in_post = (sp.start >= wp[0]) & (sp.start < wp[1]) & ~sp.fixed
    info: dict = {}
    base = sp.bed_days(*wb)
    base_total = int(base.sum() + fixed_b.sum())
    post = sp.bed_days(*wp)
    info["raw_post_over_baseline"] = float((post.sum() + fixed_p.sum()) / max(base_total, 1))
    if ooa_target is not None:
        base_ooa = int(base[sp.ooa].sum() + fixed_b[fixed_ooa].sum())
        target_ooa = int(round(ooa_target * base_ooa))
        post_ooa = int(post[sp.ooa].sum() + fixed_p[fixed_ooa].sum())
        info["raw_ooa_post_over_baseline"] = post_ooa / max(base_ooa, 1)
        need = target_ooa - post_ooa
        plain = in_post & (sp.follows < 0) & (sp.continuation() < 0)
        direction = 1 if need < 0 else -1  # switching out of network lowers the out-of-network days
        pool = np.flatnonzero(plain & (sp.ooa if need < 0 else ~sp.ooa))
        switched = 0
        for i in rng.permutation(pool):
            x = int(post[i])
            if x and abs(need + direction * x) < abs(need):
                _switch(rng, sp, i)
                need += direction * x
                switched += 1
        need, tuned = _fine_tune_ooa(rng, sp, need, wp)
        info.update(ooa_spells_switched=switched, ooa_stays_fine_tuned=tuned, ooa_residual_days=int(need))
        info["ooa_target_days"] = target_ooa
    # total: rescale in-network lengths of stay of spells admitted in the post year
    target_total = int(round(bed_day_target * base_total))
    adjustable = in_post & ~sp.ooa
    others = int(sp.bed_days(*wp)[~adjustable].sum() + fixed_p.sum())
    sub = sp.take(adjustable)

    def total(mult: float) -> tuple[int, np.ndarray]:
        d = np.where(sub.kind > 0, np.maximum(1, np.rint(sub.dur * mult)), 0).astype(np.int64)
        return others + int(sub.bed_days(*wp, dur=d).sum()), d

    lo, hi = 0.25, 4.0
    best = (abs(total(1.0)[0] - target_total), 1.0)
    for _ in range(50):
        mid = (lo + hi) / 2
        value = total(mid)[0]
        best = min(best, (abs(value - target_total), mid))
        if value < target_total:
            lo = mid
        else:
            hi = mid
    mult = best[1]
    value, d = total(mult)
    sp.dur[adjustable] = d
    need, tuned = _fine_tune(rng, sp, adjustable, target_total - value, wp)
    info.update(los_multiplier=float(mult), los_stays_fine_tuned=tuned, residual_days=int(need), target_days=target_total)
    return info


# ---------------------------------------------------------------------------------------------
# people: readmissions link spells to earlier patients; births consistent with ages
def _needs(sp: Spells) -> tuple[np.ndarray, np.ndarray]:
    _, _, present = sp.bounds()
    child = ((sp.bed == 300) & present).any(axis=1)
    adolescent = (np.isin(sp.bed, (301, 303, 304)) & present).any(axis=1)
    return child, adolescent


def link_people(rng: np.random.Generator, sp: Spells, p_readmit: float, min_gap: int = 14, max_gap: int = 730) -> tuple[np.ndarray, np.ndarray]:
    """Local person number of each spell and the birth day of each person. A share `p_readmit` of
    spells are readmissions of a patient discharged 2 weeks to 2 years before, when their age
    still fits the spell's beds (CYP: every ward stay starts before the 18th birthday)."""
    n = len(sp)
    starts, ends, present = sp.bounds()
    last_start = np.where(present, starts, np.iinfo(np.int64).min).max(axis=1)
    cont = sp.continuation()  # a repatriated stay goes on in its continuation spell
    has = cont >= 0
    last_start[has] = np.maximum(last_start[has], last_start[cont[has]])
    spell_end = sp.end()
    birth_new = birth_for_age(rng, sp.start, sp.age)
    if not sp.adult:  # every CYP ward stay starts before the 18th birthday
        too_old = age_on(birth_new, last_start) >= 18
        later = month_start(shift_years(last_start, -18) + 31)
        birth_new = np.where(too_old, later, birth_new)
    child, adolescent = _needs(sp)
    older = sp.age >= 65
    closed = np.flatnonzero(spell_end <= END)
    by_end = closed[np.argsort(spell_end[closed], kind="stable")]
    ends_sorted = spell_end[by_end]
    flags = rng.random(n) < p_readmit
    picks = rng.random((n, 4))
    person = np.full(n, -1, dtype=np.int64)
    births: list[int] = []
    last_of: list[int] = []
    for j in np.argsort(sp.start, kind="stable"):
        if sp.follows[j] >= 0:  # a repatriation continues the same patient's stay
            p = person[sp.follows[j]]
            person[j] = p
            last_of[p] = j
            continue
        if flags[j]:
            lo = np.searchsorted(ends_sorted, sp.start[j] - max_gap, "left")
            hi = np.searchsorted(ends_sorted, sp.start[j] - min_gap, "right")
            for t in range(4 if hi > lo else 0):
                i = by_end[lo + int(picks[j, t] * (hi - lo))]
                p = person[i]
                if p < 0 or last_of[p] != i:
                    continue
                b = births[p]
                a0 = int(age_on(np.array([b]), np.array([sp.start[j]]))[0])
                if sp.adult:
                    ok = (a0 >= 65) == older[j]
                else:
                    a1 = int(age_on(np.array([b]), np.array([last_start[j]]))[0])
                    ok = a1 <= 17 and (a0 <= 12 if child[j] else True) and (a0 >= 13 if adolescent[j] else True)
                if ok:
                    person[j] = p
                    last_of[p] = j
                    break
        if person[j] < 0:
            person[j] = len(births)
            births.append(int(birth_new[j]))
            last_of.append(int(j))
    births_arr = np.array(births, dtype=np.int64)
    sp.age = age_on(births_arr[person], sp.start)
    return person, births_arr


def daily_lambda(base_per_day: float, population: np.ndarray, log_rate: np.ndarray, ar: np.ndarray, frailty: np.ndarray, programme: np.ndarray | None = None) -> np.ndarray:
    lam = base_per_day * population * np.exp(log_rate) * ar[DAY_MONTH] * frailty[DAY_MONTH]
    return lam if programme is None else lam * programme
