"""The reference extract's planted inequality, and its synthetic deprivation table.

**The inequality.** Black children and young people (the "black" top-level ethnic group) resident
in the footprint are placed out of area more often than others when admitted: before go-live
their first admission goes out of network at ``PLANTED_RISK_RATIO["before"]`` times the rate of
every other group; the programme narrows this to ``PLANTED_RISK_RATIO["after"]`` once phased in
(linearly over the phase-in, as the other effects). It is planted by choosing each footprint CYP
inpatient's ethnic group given whether their *first* spell went out of area and when (Bayes' rule
with the group mix ``C.ETHNIC_WEIGHTS``): no spell, bed day or date changes, so every other
planted effect, the calibrated totals and the DBT cohort's counts stay exactly as they were.
Readmissions inherit the person's group, so the realised ratio over all admissions is a little
diluted; ``truth.json`` records both the planted ratios and the realised counts by group.

**Deprivation.** ``deprivation.parquet`` gives each LSOA an IMD decile drawn at random (IMD year
2019), independent of anything else: no deprivation gradient is planted, and ``truth.json`` says
so. It is synthetic (``extract.yaml``: ``deprivation``), never the real English IMD.
"""

from __future__ import annotations

import numpy as np

from outcomes.reference import _codes as C

#: top-level ethnic groups (the NHS data dictionary's 2001 census categories)
ETHNIC_GROUPS = {
    "white": ("A", "B", "C"),
    "mixed": ("D", "E", "F", "G"),
    "asian": ("H", "J", "K", "L"),
    "black": ("M", "N", "P"),
    "other": ("R", "S"),
}
PLANTED_GROUP = "black"
#: out-of-area placement rate of a first admission, planted group against every other group
PLANTED_RISK_RATIO = {"before": 2.5, "after": 1.0}
IMD_YEAR = 2019
SYNTHETIC_NOTE = ("synthetic: IMD deciles drawn at random per LSOA (IMD year 2019), independent of "
                  "admissions; not the English Indices of Deprivation")


def group_of_codes() -> np.ndarray:
    """Top-level group name of each code in ``C.ETHNICITIES`` ("unknown" for Z / 99)."""
    lookup = {code: name for name, codes in ETHNIC_GROUPS.items() for code in codes}
    return np.array([lookup.get(code, "unknown") for code in C.ETHNICITIES])


def plant_ethnic_inequality(rng: np.random.Generator, ethnic: np.ndarray, first_ooa: np.ndarray,
                            first_start: np.ndarray, ramp: np.ndarray) -> None:
    """Redraw ``ethnic`` (code indices into ``C.ETHNICITIES``, -1 = not recorded; one per person,
    changed in place) given each person's first spell: out of area (``first_ooa``), start day and
    the programme ``ramp`` (0 before go-live, 1 once phased in) at that day."""
    weights = np.append(np.asarray(C.ETHNIC_WEIGHTS, float) * (1 - C.P_ETHNIC_NULL), C.P_ETHNIC_NULL)
    weights = weights / weights.sum()
    names = np.append(group_of_codes(), "unknown")  # the last slot is "not recorded" (-1)
    planted = names == PLANTED_GROUP
    rr = 1 + (PLANTED_RISK_RATIO["before"] - 1) * (1 - ramp) + (PLANTED_RISK_RATIO["after"] - 1) * ramp
    relative = np.where(planted[None, :], rr[:, None], 1.0)  # person x code
    # the overall share placed out of area, by phase, fixes the others' rate p0 in each phase
    phase = np.digitize(ramp, [1e-9, 1 - 1e-9])  # 0 before, 1 phasing in, 2 after
    p0 = np.empty(len(ramp))
    for k in range(3):
        who = phase == k
        if who.any():
            share = first_ooa[who].mean()
            p0[who] = share / (relative[who] * weights).sum(axis=1)
    p_ooa = np.clip(relative * p0[:, None], 0, 1)
    likelihood = np.where(first_ooa[:, None], p_ooa, 1 - p_ooa) * weights
    cumulative = np.cumsum(likelihood / likelihood.sum(axis=1, keepdims=True), axis=1)
    drawn = (rng.random(len(ramp))[:, None] > cumulative).sum(axis=1).clip(0, len(weights) - 1)
    ethnic[:] = np.where(drawn == len(weights) - 1, -1, drawn)


def deprivation_rows(rng: np.random.Generator, n_las: int, lsoas_per_la: int) -> dict[str, np.ndarray]:
    """LSOA index, IMD decile (1-10) and IMD year of every LSOA of the extract's local authorities."""
    lsoa = np.arange(n_las * lsoas_per_la)
    return {"lsoa": lsoa, "decile": rng.integers(1, 11, len(lsoa)), "year": np.full(len(lsoa), IMD_YEAR)}


def equity_truth(ethnic: np.ndarray, ooa: np.ndarray, start: np.ndarray, windows: dict[str, tuple[int, int]],
                 to_iso) -> dict:
    """The planted inequality and what the spells give by simple counts, per window: admissions
    (spells of footprint CYP) and those out of area, by top-level ethnic group."""
    names = np.append(group_of_codes(), "unknown")
    group = names[np.where(ethnic < 0, len(names) - 1, ethnic)]
    realised = {}
    for label, (lo, hi) in windows.items():
        inside = (start >= lo) & (start < hi)
        realised[label] = {
            g: {"admissions": int((inside & (group == g)).sum()), "out_of_area": int((inside & ooa & (group == g)).sum())}
            for g in [*ETHNIC_GROUPS, "unknown"]
        }
    return {
        "planted_group": PLANTED_GROUP,
        "planted_out_of_area_rate_ratio": dict(PLANTED_RISK_RATIO),
        "comparison": "first admissions of footprint CYP placed out of area, planted group against all other groups",
        "form": "risk ratio moves linearly from 'before' to 'after' over the phase-in",
        "windows": {label: [to_iso(lo), to_iso(hi)] for label, (lo, hi) in windows.items()},
        "ethnic_groups": {g: list(codes) for g, codes in ETHNIC_GROUPS.items()},
        "realised_spells": realised,
        "deprivation": SYNTHETIC_NOTE + "; no deprivation gradient is planted",
    }


def realised_on_files(folder, windows: dict[str, list[str]]) -> dict:
    """`equity_truth`'s realised spells counted on the written files (DuckDB): first admissions of
    footprint CYP (a hospital spell whose first ward stay is a CYP stay, `_truth`'s definitions) by
    the start of the spell in each window, out of area when the provider is outside the network,
    by top-level ethnic group. On the full history it equals `equity_truth`'s count from the
    generator's arrays (tests/test_history.py); the real-history cut recounts with it, since the
    spells that ended before MHSDS began are not in its files."""
    import duckdb

    from outcomes.reference._truth import _stage

    con = duckdb.connect()
    for name in ("MHS001MPI", "MHS101Referral", "MHS501HospProvSpell", "MHS502WardStay"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(folder / (name + '.parquet')).as_posix()}')")
    _stage(con, events=False)
    lookup = {code: name for name, codes in ETHNIC_GROUPS.items() for code in codes}
    rows = con.execute("SELECT CAST(c.s AS VARCHAR), c.network, m.EthnicCategory FROM cyp c JOIN MHS001MPI m USING (Person_ID) "
                       "WHERE c.first_stay AND c.fp").fetchall()
    con.close()
    realised = {}
    for label, (lo, hi) in windows.items():
        counts = {g: {"admissions": 0, "out_of_area": 0} for g in [*ETHNIC_GROUPS, "unknown"]}
        for start, network, ethnic in rows:
            if lo <= start < hi:
                group = counts[lookup.get(ethnic, "unknown")]
                group["admissions"] += 1
                group["out_of_area"] += int(not network)
        realised[label] = counts
    return realised
