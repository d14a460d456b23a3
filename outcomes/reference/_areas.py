"""The optional table of published area statistics (`area_statistics`): monthly CYP bed days and
out-of-area bed days, with the CYP population, for the footprint's 12 boroughs and 36 donor areas
that had no programme, as NHS England's MHSDS monthly statistics publish them (counts rounded to
the nearest 5, counts of 1 to 4 suppressed: null here, "*" in NHS England's files).

**The footprint's rows** are counted on the extract's own files (DuckDB, after they are written):
for each borough and month, the MHS24 bed days of CYP ward stays of its residents (any provider:
truth.json's `cyp_bed_days` definition) and of those on wards outside the network (`ooa_bed_days`),
so the programme's planted effects are in them; the population is the borough's CYP (0-17) from the
population table for the month's calendar year.

**The donors** are drawn from their own random stream (`streams("area_statistics")`), so every
other table stays byte-identical. Donor i's expected bed days in month m are
``population_i(m) * level_i / 1e5 * exp(K * (trend_i * years + season_i * s(m) + covid_i * log c(m) + national_i(m) + step_i(m)))``
times its own AR(1) (phi 0.6, sigma_i 0.02-0.05) and gamma(200) monthly noise, Poisson drawn; ``s``
and ``c`` are the extract's school-year seasonality and COVID-19 multipliers by month; the national
monthly demand shocks every area shares (the footprint's realised admission AR(1) x frailty noise)
enter with a loading of 0.7-1.3 (inside the exponent); and ``K`` smooths the
exponent over the months a stay lasts (weights exp(-k / 1.3), k = 0..5), as a stock of bed days
lags its admissions. Out-of-area bed days are a binomial share of them (share_i drifting by
ooa_trend_i a year, with month-to-month noise). Most donors are shaped like South London (trend
-0.01 to 0.07 a year, seasonality 0.2-0.9 and COVID-19 0.2-1.0 times the extract's); seven are
not: a steep rise, a steady fall, the opposite seasonality, a COVID-19 surge instead of a dip, a
level three times as high, a new unit in 2019 (a 40% step), and a small area whose out-of-area
counts are often suppressed. `truth.json` (`area_statistics`) records every donor's parameters
and the footprint's planted effect against its no-programme path.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np

from outcomes.reference._model import COVID_BY_MONTH, FOOTPRINT, MONTH_STARTS, N_MONTHS, SEASON_LOG_BY_MONTH, iso
from outcomes.reference._truth import _stage

MEASURES = ("cyp_bed_days", "cyp_out_of_area_bed_days")
AREAS_NOTE = ("synthetic: the footprint's boroughs counted on this extract, 36 invented donor areas (codes E389000NN) "
              "with no programme; not NHS England's published statistics")
N_DONORS = 36
FRAILTY = 200.0  #: gamma shape of each donor's own month-to-month noise
SUPPRESS_BELOW = 5  #: MHSDS publications: counts 1-4 suppressed, others rounded to the nearest 5
_KERNEL = np.exp(-np.arange(6) / 1.3)
_KERNEL /= _KERNEL.sum()
_MONTH_OF_YEAR = (MONTH_STARTS[:N_MONTHS].astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12)
_YEARS = (MONTH_STARTS[:N_MONTHS] + 14 - MONTH_STARTS[36]) / 365.25  # mid-month, years since 2017-04
_CAL_YEAR = MONTH_STARTS[:N_MONTHS].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
#: donors unlike South London: name -> what differs (applied over the drawn parameters)
UNLIKE = {
    "rising": "bed days rising 15% a year",
    "falling": "bed days falling 10% a year",
    "opposite_season": "seasonality the opposite of the school year's",
    "covid_surge": "a surge instead of a dip in 2020",
    "high_level": "three times South London's rate",
    "new_unit_2019": "a new local unit from January 2019: 40% more bed days",
    "small_area": "a small area: out-of-area counts often suppressed",
}


def publish(counts: np.ndarray) -> np.ndarray:
    """Counts as published: rounded to the nearest 5 (halves up), 1-4 suppressed (returned as -1)."""
    counts = np.asarray(counts, dtype=np.int64)
    rounded = 5 * np.floor(counts / 5 + 0.5).astype(np.int64)
    return np.where((counts > 0) & (counts < SUPPRESS_BELOW), -1, rounded)


def _smooth(x: np.ndarray) -> np.ndarray:
    """Weighted mean of this and the 5 previous months (the first months use what there is)."""
    out = np.empty_like(x)
    for m in range(len(x)):
        k = _KERNEL[: m + 1]
        out[m] = (k * x[m::-1][: len(k)]).sum() / k.sum()
    return out


def _ar1(rng: np.random.Generator, sigma: float, phi: float = 0.6) -> np.ndarray:
    x = np.empty(N_MONTHS)
    x[0] = rng.normal(0, sigma / np.sqrt(1 - phi**2))
    for m in range(1, N_MONTHS):
        x[m] = phi * x[m - 1] + rng.normal(0, sigma)
    return np.exp(x - sigma**2 / (1 - phi**2) / 2)


def draw_donors(rng: np.random.Generator, scale: float) -> list[dict]:
    """Each donor's parameters (code, CYP population mid-2017, level per 100,000 CYP a month, ...)."""
    kinds = list(UNLIKE) + [None] * (N_DONORS - len(UNLIKE))
    kinds = [kinds[i] for i in rng.permutation(N_DONORS)]
    donors = []
    for i, kind in enumerate(kinds, start=1):
        d = {"code": f"E389{i:05d}", "name": f"Synthetic area {i:02d}", "unlike_south_london": UNLIKE.get(kind),
             "cyp_population_2017": int(round(scale * np.exp(rng.uniform(np.log(40_000), np.log(300_000))))),
             "population_growth": float(rng.uniform(-0.005, 0.015)),
             "level_per_100k": float(np.exp(rng.uniform(np.log(220), np.log(650)))),
             "trend_per_year": float(rng.uniform(-0.01, 0.07)), "season": float(rng.uniform(0.2, 0.9)),
             "covid": float(rng.uniform(0.2, 1.0)), "national_loading": float(rng.uniform(0.7, 1.3)),
             "ar_sigma": float(rng.uniform(0.02, 0.05)),
             "ooa_share": float(rng.uniform(0.10, 0.50)), "ooa_trend_per_year": float(rng.uniform(-0.04, 0.04)),
             "step": None}
        if kind == "rising":
            d["trend_per_year"] = 0.14
        elif kind == "falling":
            d["trend_per_year"] = -0.105
        elif kind == "opposite_season":
            d["season"] = -0.8
        elif kind == "covid_surge":
            d["covid"] = -0.8
        elif kind == "high_level":
            d["level_per_100k"] = 1150.0
        elif kind == "new_unit_2019":
            d["step"] = {"from": "2019-01", "log": 0.34}
        elif kind == "small_area":
            d["cyp_population_2017"] = int(round(scale * 9_000))
            d["ooa_share"] = 0.06
        donors.append(d)
    return donors


def donor_counts(rng: np.random.Generator, d: dict, national: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(population, bed days, out-of-area bed days) of one donor by month; ``national`` is the log
    of the monthly demand shocks every area shares (the footprint's realised AR(1) x frailty)."""
    population = np.round(d["cyp_population_2017"] * (1 + d["population_growth"]) ** (_CAL_YEAR - 2017)).astype(np.int64)
    log_shape = (d["trend_per_year"] * _YEARS + d["season"] * np.asarray(SEASON_LOG_BY_MONTH)[_MONTH_OF_YEAR]
                 + d["covid"] * np.log(COVID_BY_MONTH) + d["national_loading"] * national)
    if d["step"] is not None:
        log_shape = log_shape + d["step"]["log"] * (MONTH_STARTS[:N_MONTHS] >= np.datetime64(d["step"]["from"] + "-01", "D").astype(np.int64))
    noise = _ar1(rng, d["ar_sigma"]) * rng.gamma(FRAILTY, 1 / FRAILTY, N_MONTHS)
    expected = population * d["level_per_100k"] / 1e5 * np.exp(_smooth(log_shape)) * noise
    bed_days = rng.poisson(expected)
    share = np.clip(d["ooa_share"] * np.exp(d["ooa_trend_per_year"] * _YEARS + rng.normal(0, 0.1, N_MONTHS)), 0, 0.95)
    return population, bed_days, rng.binomial(bed_days, share)


def footprint_counts(folder: Path) -> dict[str, np.ndarray]:
    """Per footprint borough (in FOOTPRINT order) and month: CYP population, bed days and
    out-of-network bed days, counted on the written files (arrays of shape boroughs x months)."""
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for name in ("MHS001MPI", "MHS501HospProvSpell", "MHS502WardStay", "MHS101Referral", "population"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(Path(folder) / (name + '.parquet')).as_posix()}')")
    _stage(con, events=False)
    codes = [la.code for la in FOOTPRINT]
    first, stop = iso(MONTH_STARTS[0]), iso(MONTH_STARTS[-1])
    rows = con.execute(
        f"""WITH months AS (SELECT CAST(m AS DATE) AS m0, CAST(m + INTERVAL 1 MONTH AS DATE) AS m1
                            FROM generate_series(DATE '{first}', DATE '{stop}' - INTERVAL 1 MONTH, INTERVAL 1 MONTH) t(m))
        SELECT p.LADistrictAuth, strftime(m0, '%Y-%m'),
               sum(greatest(0, date_diff('day', greatest(c.s, m0), least(c.e, m1)))),
               coalesce(sum(greatest(0, date_diff('day', greatest(c.s, m0), least(c.e, m1)))) FILTER (WHERE NOT c.network), 0)
        FROM months JOIN cyp c ON c.s < m1 AND c.e > m0 JOIN MHS001MPI p USING (Person_ID)
        WHERE c.fp GROUP BY 1, 2"""
    ).fetchall()
    pop = dict(((la, int(y)), int(n)) for la, y, n in con.execute(
        "SELECT LADistrictAuth, year, sum(persons) FROM population WHERE age_band IN ('0-4', '5-9', '10-14', '15-17') GROUP BY 1, 2"
    ).fetchall())
    con.close()
    months = [iso(m)[:7] for m in MONTH_STARTS[:N_MONTHS]]
    at = {m: i for i, m in enumerate(months)}
    beds = np.zeros((len(codes), N_MONTHS), dtype=np.int64)
    ooa = np.zeros_like(beds)
    for la, month, b, o in rows:
        beds[codes.index(la), at[month]] = int(b)
        ooa[codes.index(la), at[month]] = int(o)
    last = max(y for _, y in pop)
    population = np.array([[pop[(la, min(int(y), last))] for y in _CAL_YEAR] for la in codes], dtype=np.int64)
    return {"population": population, "bed_days": beds, "ooa": ooa}


def area_statistics(folder: Path, rng: np.random.Generator, scale: float, national: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """The table's columns (area_code, month as day numbers, measure, count with -1 for suppressed,
    population) and the truth about the donors. Rows: area, then measure, then month. ``national``:
    the log monthly shocks every area shares (see :func:`donor_counts`)."""
    fp = footprint_counts(folder)
    donors = draw_donors(rng, scale)
    areas, populations, beds, ooas = [], [], [], []
    for i, la in enumerate(FOOTPRINT):
        areas.append(la.code)
        populations.append(fp["population"][i])
        beds.append(fp["bed_days"][i])
        ooas.append(fp["ooa"][i])
    for d in donors:
        pop, b, o = donor_counts(rng, d, national)
        areas.append(d["code"])
        populations.append(pop)
        beds.append(b)
        ooas.append(o)
    cols: dict[str, list] = {"area_code": [], "month": [], "measure": [], "count": [], "population": []}
    suppressed = {"footprint": 0, "donors": 0}
    for k, code in enumerate(areas):
        for measure, series in zip(MEASURES, (beds[k], ooas[k])):
            published = publish(series)
            suppressed["footprint" if k < len(FOOTPRINT) else "donors"] += int((published < 0).sum())
            cols["area_code"] += [code] * N_MONTHS
            cols["month"].append(MONTH_STARTS[:N_MONTHS])
            cols["measure"] += [measure] * N_MONTHS
            cols["count"].append(published)
            cols["population"].append(populations[k])
    out = {"area_code": np.array(cols["area_code"]), "month": np.concatenate(cols["month"]),
           "measure": np.array(cols["measure"]), "count": np.concatenate(cols["count"]),
           "population": np.concatenate(cols["population"]).astype(np.int64)}
    return out, {"donors": donors, "suppressed_cells": suppressed}


def area_truth(donors: dict, *, go_live: str, phase_end: str, bed_day_reduction: float, ooa_reduction: float,
               no_programme: dict[str, float]) -> dict:
    """truth.json's `area_statistics`: the table, the donors and the footprint's planted effects.
    ``no_programme``: expected post/baseline ratios with no programme (``bed_days``, ``ooa_bed_days``)."""
    how = ("(1 - the published reduction: the post-year / baseline-year ratio the extract is calibrated to) over the "
           "expected post-year / baseline-year ratio with no programme at all, given the realised monthly noise "
           "(no_programme_post_over_baseline): the rate ratio against the footprint's own no-programme path, averaged "
           "over the post year")
    effects = {}
    for measure, reduction, key in (("cyp_bed_days", bed_day_reduction, "bed_days"),
                                    ("cyp_out_of_area_bed_days", ooa_reduction, "ooa_bed_days")):
        rr = (1 - reduction) / no_programme[key]
        effects[measure] = {"rate_ratio": rr, "relative": rr - 1, "no_programme_post_over_baseline": no_programme[key]}
    return {
        "table": "area_statistics",
        "source": "synthetic, shaped like NHS England's MHSDS monthly statistics by area: counts rounded to the nearest 5, "
                  "counts of 1-4 suppressed (null; '*' in NHS England's files)",
        "measures": {"cyp_bed_days": "MHS24 bed days in the month of CYP ward stays of the area's residents, any provider",
                     "cyp_out_of_area_bed_days": "of which on wards of providers outside the area's own network"},
        "footprint_areas": [la.code for la in FOOTPRINT],
        "donor_areas": len(donors["donors"]),
        "suppressed_cells": donors["suppressed_cells"],
        "planted_footprint_effect": {"go_live": go_live, "from": phase_end, "how": how, **effects},
        "donor_model": {"form": "population * level / 1e5 * exp(smoothed(trend * years + season * s(m) + covid * log c(m) "
                                "+ national_loading * log national(m) + step)) * AR1(0.6, ar_sigma) * gamma(200); Poisson; "
                                "out of area: binomial share ooa_share * exp(ooa_trend * years + N(0, 0.1^2))",
                        "national": "national(m): the monthly demand shocks all areas share, the footprint's realised "
                                    "cyp_admissions AR(1) x frailty (rate_model.realised_monthly_noise)",
                        "smoothing_weights": [round(float(k), 6) for k in _KERNEL]},
        "donors": {d["code"]: {k: v for k, v in d.items() if k != "code"} for d in donors["donors"]},
    }

