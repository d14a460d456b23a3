"""Benchmark: monthly bed days (the `bed_days` measure, materialised) on DuckDB, PostgreSQL, Spark
local and Spark Connect, on the reference extract at scale 1 and 15, as ratios to DuckDB.

For each scale the reference extract is generated once into a temporary folder (removed at the
end). Each engine then runs in its own fresh subprocess, timing separately:

  * start  - starting the engine: nothing for DuckDB (embedded); a throwaway PostgreSQL server
             (tests/engines.py: fsync off, `--pg-setting` values); a local Spark session; a local
             Spark Connect server (tests/engines.py, its own JVM) and a client session on sc://;
  * load   - getting the extract into the engine: nothing for DuckDB (it reads the folder's parquet
             in place); for PostgreSQL and Spark `load_extract` = validate the folder on DuckDB, then
             COPY into PostgreSQL (and ANALYZE) / stage typed parquet and write Spark tables /
             send Arrow batches over gRPC to the Spark Connect server, which writes its tables;
  * open   - `open_source` on the engine: every contract check as pushed-down queries
             (DuckDB without its validation stamp, so it checks too);
  * compute- `MEASURES["bed_days"].to_pandas(extract)`: cohort, MHS24 bed days, population
             denominator, default period; best of 3 (the first run is shown too).

All answers are checked to be identical to DuckDB's. Threads: DuckDB 2 (`--threads`), Spark
local[threads] (the Connect server too), PostgreSQL its defaults (up to 2 parallel workers per query).

    python benchmarks/engines.py [--scales 1 15] [--engines duckdb postgres spark spark_connect] [--threads 2]
"""

from __future__ import annotations

import argparse
import atexit
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("duckdb", "postgres", "spark", "spark_connect")
MEASURE = "bed_days"
REPEAT = 3
#: PostgreSQL settings for the benchmark server (a laptop-sized analytic configuration)
PG_SETTINGS = {"shared_buffers": "1GB", "work_mem": "256MB", "maintenance_work_mem": "512MB", "max_wal_size": "8GB"}


# --------------------------------------------------------------------------- child side
def _timed(run):
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _compute(extract):
    sys.path.insert(0, str(ROOT))
    from outcomes.measures import MEASURES

    times, frame = [], None
    for _ in range(REPEAT):
        seconds, frame = _timed(lambda: MEASURES[MEASURE].to_pandas(extract))
        times.append(seconds)
    return times, frame


def child(engine: str, folder: str, threads: int, memory: str) -> dict:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    cache = tempfile.mkdtemp(prefix="outcomes-bench-cache-")  # no validation stamps from earlier runs
    atexit.register(shutil.rmtree, cache, True)
    os.environ["OUTCOMES_CACHE"] = cache
    from outcomes.source import open_source

    out = {"start": 0.0, "load": 0.0}
    if engine == "duckdb":
        out["open"], extract = _timed(lambda: open_source(folder, use_cache=False))
        extract.con.raw_sql(f"SET threads = {threads}")
        times, frame = _compute(extract)
        return {**out, "compute": times, "frame": frame.to_json(orient="split", date_format="iso", double_precision=15)}
    from outcomes.source.load import load_extract

    if engine == "postgres":
        from engines import postgres_server

        started = time.perf_counter()
        with postgres_server(PG_SETTINGS) as url:
            out["start"] = time.perf_counter() - started
            out["load"], _ = _timed(lambda: load_extract(folder, url, schema="mhsds"))
            out["open"], extract = _timed(lambda: open_source(url, schema="mhsds"))
            times, frame = _compute(extract)
            extract.con.disconnect()
        return {**out, "compute": times, "frame": frame.to_json(orient="split", date_format="iso", double_precision=15)}
    if engine == "spark_connect":
        from engines import spark_connect_server

        from outcomes.source.engines import spark_connect_session

        started = time.perf_counter()
        with spark_connect_server(memory=memory, threads=threads) as url:
            spark_connect_session(url)
            out["start"] = time.perf_counter() - started
            out["load"], _ = _timed(lambda: load_extract(folder, url, schema="mhsds"))
            out["open"], extract = _timed(lambda: open_source(url, schema="mhsds"))
            times, frame = _compute(extract)
        return {**out, "compute": times, "frame": frame.to_json(orient="split", date_format="iso", double_precision=15)}
    from outcomes.source.engines import local_spark_session

    out["start"], spark = _timed(lambda: local_spark_session(threads=threads, memory=memory))
    out["load"], _ = _timed(lambda: load_extract(folder, spark, schema="mhsds"))
    out["open"], extract = _timed(lambda: open_source(spark, schema="mhsds"))
    times, frame = _compute(extract)
    spark.stop()
    return {**out, "compute": times, "frame": frame.to_json(orient="split", date_format="iso", double_precision=15)}


# --------------------------------------------------------------------------- driver
def run_child(engine: str, folder: Path, threads: int, memory: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(folder), "--threads", str(threads), "--spark-memory", memory],
        capture_output=True, text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"{engine} failed (exit {done.returncode}):\n{tail}")
    return json.loads(lines[-1])


def generate(folder: Path, scale: float) -> tuple[float, dict]:
    sys.path.insert(0, str(ROOT))
    from outcomes.reference import write_reference_extract

    seconds, _ = _timed(lambda: write_reference_extract(folder, scale=scale))
    rows = json.loads((folder / "truth.json").read_text())["row_counts"]
    return seconds, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 15])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark-memory", default="6g", help="Spark driver memory (default 6g)")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder instead of a temporary one")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.threads, args.spark_memory)))
        return 0

    import pandas as pd

    print(f"measure {MEASURE} (materialised), {args.threads} threads; times in seconds; ratios to DuckDB")
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="outcomes-bench-engines-") as tmp:
            folder = (args.keep or Path(tmp)) / f"reference_scale_{scale:g}"
            if not (folder / "truth.json").exists():
                seconds, rows = generate(folder, scale)
                print(f"\nscale {scale:g}: generated in {seconds:.0f} s", end="")
            else:
                rows = json.loads((folder / "truth.json").read_text())["row_counts"]
                print(f"\nscale {scale:g}: reused {folder}", end="")
            size = sum(p.stat().st_size for p in folder.iterdir()) / 1e9
            print(f" ({size:.2f} GB parquet; {rows.get('MHS502WardStay', 0):,} ward stays, "
                  f"{rows.get('MHS201CareContact', 0):,} care contacts, {sum(rows.values()):,} rows in all)")
            results = {}
            for engine in args.engines:
                try:
                    results[engine] = run_child(engine, folder, args.threads, args.spark_memory)
                except RuntimeError as error:
                    print(f"  {error}")
            if not results:
                continue
            base = results.get("duckdb")
            reference = pd.read_json(io.StringIO(base["frame"]), orient="split") if base else None
            print(f"  {'engine':<13} {'start':>7} {'load':>8} {'open':>8} {'compute':>8} {'1st run':>8}"
                  f" {'load x':>8} {'open x':>8} {'compute x':>9}  same answer")
            for engine, result in results.items():
                best = min(result["compute"])
                same = ""
                if reference is not None:
                    same = str(pd.read_json(io.StringIO(result["frame"]), orient="split").equals(reference))

                def ratio(key, value):
                    denominator = base[key] if key != "compute" else min(base["compute"])
                    if not base or denominator <= 0:
                        return "-"
                    return f"{value / denominator:.1f}x"

                load_ratio = "-" if engine == "duckdb" else f"{(result['load'] + result['open']) / base['open']:.1f}x" if base else "-"
                print(f"  {engine:<13} {result['start']:7.1f} {result['load']:8.1f} {result['open']:8.1f} {best:8.2f}"
                      f" {result['compute'][0]:8.2f} {load_ratio:>8} {ratio('open', result['open']):>8}"
                      f" {ratio('compute', best):>9}  {same}")
            print("  (load x = (load + open) / DuckDB's open: getting a folder ready to query, validation included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
