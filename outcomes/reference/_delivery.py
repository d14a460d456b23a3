"""The programme as delivered and what it must not worsen: the optional MHSDS fields and tables of
issue 22, each drawn from its own random stream (`streams("delivery", ...)`), so the other tables
keep their rows and values.

* MHS502WardStay gains `UniqWardCode` (a network CYP ward per provider and site; from
  `PICU_OPENS` RV5's CYP PICU stays are on the new `PICU_BEDS`-bed adolescent PICU `PICU_WARD`)
  and `WardLocDistanceHome` (km from home: a few km on the home trust's ward, further on another
  network trust's, 40-250 km out of network, so the distance falls as out-of-area placements do);
* MHS903WardDetails: the network's CYP wards by month with their commissioned beds (general
  wards sized to `TARGET_OCCUPANCY` of their baseline-year occupied bed days; the new PICU 8 beds
  from its opening, the ward it replaces closing then); a site whose stays would need a ward of more
  than `MAX_WARD_BEDS` beds has several wards (`split_large_wards`: at scale 15 one site's stays
  fill 268 beds, more than the contract's 200 for a ward), none at scale 1;
* MHS505RestrictiveIntervention: on CYP ward stays at `RESTRICTIVE_PER_1000` per 1,000 occupied bed
  days before and after the programme (planted: no change);
* MHS401MHActPeriod: a detention (section 2, or 3) for `P_DETAINED` of CYP admissions, from the
  admission day (planted: the share does not change; the number falls with admissions);
* MHS607CodedScoreAssessment: a CGAS or HoNOSCA score at admission and discharge of footprint CYP
  inpatients' first spells, reliably improved for `P_IMPROVED_BEFORE` of pairs before go-live and
  `P_IMPROVED_AFTER` once phased in (linear between);
* MHS201CareContact gains `CareContTime` on contacts of crisis-line referrals (team type A19):
  out of hours for `P_OUT_OF_HOURS_BEFORE` of them before the enhanced crisis teams and 24/7 line
  (`_crisis_teams.START`) and `P_OUT_OF_HOURS_AFTER` after; other contacts have none.
"""

from __future__ import annotations

import numpy as np

from outcomes.reference._model import END, NETWORK, ORG, ORG_CODES, START, add_months, iso, to_day

#: the new adolescent PICU: opening day, beds, ward code, provider
PICU_OPENS, PICU_BEDS, PICU_WARD, PICU_PROVIDER = "2018-04-01", 8, "RV5-PICU", "RV5"
#: beds of each network PICU ward before (and, but RV5's, after) the opening
OLD_PICU_BEDS = 4
#: general CYP wards are commissioned for their baseline-year occupied bed days at this occupancy
TARGET_OCCUPANCY = 0.90
#: the most beds a general CYP ward is given: a site needing more has several wards (`split_large_wards`);
#: above the largest of the scale-1 reference (21 beds), so that extract has the wards it always had
MAX_WARD_BEDS = 24
RESTRICTIVE_PER_1000 = 30.0
#: restrictive intervention types and their weights
RESTRICTIVE_TYPES = ("07", "13", "09", "12", "11", "10", "08", "14", "01", "16", "05", "06", "04")
RESTRICTIVE_WEIGHTS = (0.10, 0.18, 0.14, 0.10, 0.06, 0.08, 0.05, 0.04, 0.08, 0.07, 0.06, 0.03, 0.01)
P_DETAINED, P_SECTION_3 = 0.40, 0.30
P_IMPROVED_BEFORE, P_IMPROVED_AFTER = 0.45, 0.60
TOOLS = ("1090531000000102", "989881000000104")  # CGAS (higher is better, threshold 10), HoNOSCA (lower, 6)
P_OUT_OF_HOURS_BEFORE, P_OUT_OF_HOURS_AFTER = 0.25, 0.60
MIN_PAIR_DAYS = 14


def picu_opens() -> int:
    return to_day(PICU_OPENS)


def ward_codes(org: np.ndarray, site: np.ndarray, bed: np.ndarray, start: np.ndarray) -> np.ndarray:
    """UniqWardCode of each ward stay (object array; None off the network's CYP wards)."""
    network = np.isin(ORG_CODES[org], NETWORK) & (bed >= 300)
    codes = np.array([f"{ORG_CODES[o]}-W{s:02d}" for o, s in zip(org, site)], dtype=object)
    new_picu = network & (bed == 309) & (ORG_CODES[org] == PICU_PROVIDER) & (start >= picu_opens())
    codes[new_picu] = PICU_WARD
    codes[~network] = None
    return codes


def distances(rng: np.random.Generator, org: np.ndarray, la_trust: np.ndarray, footprint: np.ndarray, ooa: np.ndarray,
              adult: np.ndarray) -> np.ndarray:
    """WardLocDistanceHome (km) of each ward stay."""
    z = rng.standard_normal((len(org), 5))  # one row of draws per stay: stays added later leave earlier ones unchanged
    home = np.exp(np.log(6.0) + 0.5 * z[:, 0])
    other_network = np.exp(np.log(18.0) + 0.4 * z[:, 1])
    independent = np.isin(ORG_CODES[org], ("N9A", "N9B", "N9C", "N9D"))
    far = np.where(independent, np.exp(np.log(110.0) + 0.5 * z[:, 2]), np.exp(np.log(55.0) + 0.35 * z[:, 3]))
    elsewhere = np.exp(np.log(35.0) + 0.5 * z[:, 4])
    km = np.where(ooa, far, np.where(org == la_trust, home, other_network))
    km = np.where(footprint | adult, km, elsewhere)
    km = np.where(adult & ~ooa, home, km)
    return np.clip(np.rint(km), 0, 1500).astype(np.int64)


def occupied_by_month(start: np.ndarray, end: np.ndarray, lo: int, hi: int) -> int:
    """Occupied bed days (MHS24: admission day counts, discharge day not) inside [lo, hi)."""
    return int(np.maximum(np.minimum(end, hi) - np.maximum(start, lo), 0).sum())


def _beds_for(start: np.ndarray, end: np.ndarray, baseline: tuple[int, int]) -> int:
    """Beds of a general ward whose stays are these: baseline-year occupied bed days at TARGET_OCCUPANCY."""
    days = occupied_by_month(start, np.minimum(end, END + 1), *baseline)
    return max(2, int(np.ceil(days / (baseline[1] - baseline[0]) / TARGET_OCCUPANCY)))


def split_large_wards(codes: np.ndarray, bed: np.ndarray, start: np.ndarray, end: np.ndarray,
                      baseline: tuple[int, int]) -> np.ndarray:
    """UniqWardCode of each ward stay with every general ward that would need more than
    MAX_WARD_BEDS beds split into the fewest wards that need about that many: its stays are dealt in
    turn, in stay order, to `<code>`, `<code>-2`, `<code>-3`... (PICU wards keep their fixed beds)."""
    codes = codes.copy()
    for ward in sorted({c for c in codes if c is not None}):
        mine = np.flatnonzero(codes == ward)
        if ward == PICU_WARD or bed[mine[0]] == 309:
            continue
        parts = -(-_beds_for(start[mine], end[mine], baseline) // MAX_WARD_BEDS)
        for part in range(1, parts):
            codes[mine[part::parts]] = f"{ward}-{part + 1}"
    return codes


def ward_details(codes: np.ndarray, org: np.ndarray, site: np.ndarray, bed: np.ndarray, start: np.ndarray, end: np.ndarray,
                 baseline: tuple[int, int]) -> dict:
    """MHS903WardDetails rows: every network CYP ward by month, with beds and available bed days."""
    months = [add_months(START, k) for k in range(121)]
    rows = {k: [] for k in ("ward", "org", "site", "month", "bed", "beds", "avail")}
    opens = picu_opens()
    for ward in sorted({c for c in codes if c is not None}):
        mine = codes == ward
        first = int(np.flatnonzero(mine)[0])
        ward_bed = 309 if ward == PICU_WARD or bed[first] == 309 else int(np.bincount(bed[mine]).argmax())
        if ward == PICU_WARD:
            beds = PICU_BEDS
        elif ward_bed == 309:
            beds = OLD_PICU_BEDS
        else:
            beds = _beds_for(start[mine], end[mine], baseline)
        closes = opens if (ward_bed == 309 and ORG_CODES[org[first]] == PICU_PROVIDER and ward != PICU_WARD) else END + 1
        for lo, hi in zip(months[:-1], months[1:]):
            open_from, open_to = max(lo, opens if ward == PICU_WARD else lo), min(hi, closes)
            if open_to <= open_from:
                continue
            rows["ward"].append(ward)
            rows["org"].append(int(org[first]))
            rows["site"].append(int(site[first]))
            rows["month"].append(lo)
            rows["bed"].append(ward_bed)
            rows["beds"].append(beds)
            rows["avail"].append(beds * (open_to - open_from))
    return {k: np.asarray(v, dtype=object if k == "ward" else np.int64) for k, v in rows.items()}


def restrictive_interventions(rng: np.random.Generator, stay: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict:
    """MHS505 rows on the given (CYP) ward stays: Poisson at RESTRICTIVE_PER_1000 per occupied bed day."""
    lo, hi = np.maximum(start, START), np.minimum(end, END + 1)
    days = np.maximum(hi - lo, 0)
    n = rng.poisson(RESTRICTIVE_PER_1000 / 1000 * days)
    rep = np.repeat(np.arange(len(stay)), n)
    day = lo[rep] + (rng.random(len(rep)) * days[rep]).astype(np.int64)
    kind = np.asarray(RESTRICTIVE_WEIGHTS).cumsum()
    kind = np.searchsorted(kind / kind[-1], rng.random(len(rep)), side="right").clip(0, len(RESTRICTIVE_TYPES) - 1)
    order = np.lexsort((kind, stay[rep], day))
    return {"stay": stay[rep][order], "day": day[order], "type": kind[order]}


def mha_periods(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> dict:
    """MHS401 rows for CYP spells (admission, discharge or NULL-free end past the extract): a
    detention from the admission day for P_DETAINED of them; section 2 lasts up to 28 days."""
    n = len(start)
    detained = (rng.random(n) < P_DETAINED) & (start >= START)
    s3 = rng.random(n) < P_SECTION_3
    section_end = np.where(s3, end, np.minimum(end, start + 28))
    idx = np.flatnonzero(detained)
    return {"spell": idx, "start": start[idx], "end": section_end[idx], "status": np.where(s3[idx], "03", "02")}


def scored_assessments(rng: np.random.Generator, first_start: np.ndarray, first_end: np.ndarray, ramp) -> dict:
    """MHS607 pairs for footprint CYP inpatients' first spells (admission and discharge scores)."""
    n = len(first_start)
    paired = (first_start >= START) & (first_end <= END) & (first_end - first_start >= MIN_PAIR_DAYS)
    p = P_IMPROVED_BEFORE + (P_IMPROVED_AFTER - P_IMPROVED_BEFORE) * ramp(first_end)
    improved = rng.random(n) < p
    cgas = rng.random(n) < 0.7
    base = np.where(cgas, np.clip(rng.normal(35, 8, n), 10, 70), np.clip(rng.normal(24, 5, n), 8, 45)).round()
    gain = np.where(improved, rng.uniform(10, 30, n), rng.uniform(-8, 9, n))
    drop = np.where(improved, rng.uniform(6, 15, n), rng.uniform(-5, 5, n))
    last = np.where(cgas, np.clip(base + gain, 0, 100), np.clip(base - drop, 0, 52)).round()
    # rounding may move a change onto or off its threshold: recompute the realised flag later
    idx = np.flatnonzero(paired)
    tool = np.where(cgas[idx], 0, 1)
    return {"person": np.concatenate([idx, idx]), "day": np.concatenate([first_start[idx], first_end[idx]]),
            "tool": np.concatenate([tool, tool]), "score": np.concatenate([base[idx], last[idx]]),
            "planted_p": p[idx], "pair_end": first_end[idx]}


def contact_times(rng: np.random.Generator, day: np.ndarray, line: np.ndarray, line_from: int) -> np.ndarray:
    """CareContTime (HH:MM) of crisis-line contacts, None for others: a weekday contact is out of
    hours (17:00-08:59) with probability P_OUT_OF_HOURS_BEFORE, from `line_from` P_OUT_OF_HOURS_AFTER;
    weekend contacts are out of hours by definition (expected share 2/7 + 5/7 p)."""
    n = len(day)
    weekend = ((day + 3) % 7) >= 5  # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Monday
    p = np.where(day >= line_from, P_OUT_OF_HOURS_AFTER, P_OUT_OF_HOURS_BEFORE)
    ooh = rng.random(n) < p
    in_hours = 9 * 60 + (rng.random(n) * 8 * 60).astype(np.int64)
    out_hours = (17 * 60 + (rng.random(n) * 16 * 60).astype(np.int64)) % (24 * 60)
    minute = np.where(ooh & ~weekend, out_hours, np.where(weekend & ooh, out_hours, in_hours))
    out = np.full(n, None, dtype=object)
    out[line] = [f"{m // 60:02d}:{m % 60:02d}" for m in minute[line]]
    return out


def is_out_of_hours(day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    """Out of hours: a weekend, or before 09:00 or from 17:00 on a weekday."""
    weekend = ((day + 3) % 7) >= 5
    return weekend | (minute < 9 * 60) | (minute >= 17 * 60)


def window_share(flag: np.ndarray, when: np.ndarray, window: tuple[int, int]) -> dict:
    inside = (when >= window[0]) & (when < window[1])
    n = int(inside.sum())
    return {"n": n, "share": float(flag[inside].mean()) if n else None}


def iso_window(window: tuple[int, int]) -> list[str]:
    return [iso(window[0]), iso(window[1])]


__all__ = ["PICU_OPENS", "PICU_BEDS", "PICU_WARD", "MAX_WARD_BEDS", "ward_codes", "split_large_wards", "distances", "ward_details", "restrictive_interventions",
           "mha_periods", "scored_assessments", "contact_times", "is_out_of_hours", "window_share", "ORG"]
