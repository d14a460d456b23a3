"""England scale: validation, the catalogue's measures and the full report at scales 1, 4 and 15,
each against the floor of DuckDB scanning the same files, in one run (issue 25).

    python benchmarks/scale.py [--scales 1 4 15] [--extract SCALE=DIR ...] [--root DIR]
                               [--quarter 2024Q1] [--jobs N] [--stages validation measures report]
                               [--spark-scale 4] [--check]

Extracts: scale 1 is the reference extract (data/reference); scale N is `--extract N=DIR`, else
`<root>/scale<N>` (default root `$OUTCOMES_CACHE/scale-extracts`), built once with
`outcomes reference --scale N` when missing (about 60 s at 15: England, 3.7 million people in the
MPI, 32 million care contacts) and reused after.

Each stage runs in a fresh process of its own, so its peak memory is its own:

* **validation**: `open_source(folder, use_cache=False)`: every contract check, as a first run;
* **measures**: every catalogue measure's monthly frame (`Measure.to_pandas`) on the opened,
  already validated extract (the validation stamp of the stage before);
* **report**: `outcomes report` as a fresh process with an empty cache folder (cold: validation,
  no notebook timings), with the seconds of `09_spc_dashboard` and `11_equity` from its manifest;
* **floor**: DuckDB (2 threads) scanning the same files once, every column of every table
  (`SELECT count(*), sum(hash(col)), ...` per table: every value read, where `count(col)` may come from parquet statistics) and one
  `GROUP BY` month over ward stays (stays by month of admission).

Seconds are wall time of the work (validation and measures time their own calls, after imports;
the report and the floor time the whole process); CPU is user + system seconds of the process and
its children (the report's kernels), the figure to read on a busy machine; peak memory is the
largest resident set of the process tree, sampled every 0.1 s. The table gives, per stage and
scale, seconds, CPU seconds, peak MB, and the ratio to the floor at the same scale; then the growth
from the first scale to the last of each stage and of the floor: a stage whose cost follows groups
and months grows far less than the floor, whose cost follows rows.

`--spark-scale N` also runs the catalogue on local Spark (the folder validated on DuckDB, its
tables moved to Spark as `engine="spark"` does) and checks each frame equals DuckDB's (as
tests/test_engines_measures.py compares them: floats to 1e-9 relative).

Goals (issue 25, 2 cores): the cold report at the largest scale < 30 s and <= 2.5x the first
scale's; validation of the largest < 10 s; 09 and 11 <= 2x the first scale's; peak < 4 GB.
`--check` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"report_seconds": 30.0, "report_growth": 2.5, "validation_seconds": 10.0, "notebook_growth": 2.0,
         "peak_mb": 4096.0}
WATCHED = ("09_spc_dashboard", "11_equity")

VALIDATION = r"""
import json, sys, time
from outcomes.source import open_source
started = time.perf_counter()
extract = open_source(sys.argv[1], use_cache=False)
print(json.dumps({"seconds": time.perf_counter() - started, "findings": len(extract.findings.items)}))
"""

MEASURES = r"""
import json, sys, time
from outcomes.errors import UserError
from outcomes.measures import catalogue
from outcomes.source import open_source
extract = open_source(sys.argv[1]).until(sys.argv[2])
started, each, skipped = time.perf_counter(), {}, []
for name, measure in catalogue().items():
    try:
        t0 = time.perf_counter()
        measure.to_pandas(extract)
        each[name] = time.perf_counter() - t0
    except UserError:
        skipped.append(name)
print(json.dumps({"seconds": time.perf_counter() - started, "measures": len(each), "skipped": skipped, "each": each}))
"""

FLOOR = r"""
import json, sys, time
from pathlib import Path
import duckdb
started = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads TO 2")
rows = 0
for path in sorted(Path(sys.argv[1]).glob("*.parquet")):
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
    counted = ", ".join(f'sum(hash("{n}"))' for n in names)  # reads every value (count(col) may come from statistics)
    rows += con.execute(f"SELECT count(*), {counted} FROM read_parquet('{path}')").fetchone()[0]
stays = Path(sys.argv[1]) / "MHS502WardStay.parquet"
months = con.execute(f"SELECT date_trunc('month', StartDateWardStay) AS month, count(*) FROM read_parquet('{stays}') "
                     "GROUP BY month").fetchall()
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows, "months": len(months)}))
"""

SPARK = r"""
import json, sys, time
import numpy as np, pandas as pd
from outcomes.errors import UserError
from outcomes.measures import catalogue
from outcomes.source import SourceSpec, open_source
folder, end = sys.argv[1], sys.argv[2]
local = open_source(folder).until(end)
started = time.perf_counter()
spark = open_source(SourceSpec(folder=folder, engine="spark")).until(end)
moved = time.perf_counter() - started
def same(a, b):
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    for column in a.columns:
        x, y = a[column], b[column]
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            if not np.allclose(x.astype(float), y.astype(float), rtol=1e-9, atol=0, equal_nan=True):
                return False
        elif not (x.isna().equals(y.isna()) and (x[x.notna()].astype(str) == y[y.notna()].astype(str)).all()):
            return False
    return True
spark_seconds = duckdb_seconds = 0.0
unequal, done = [], 0
for name, measure in catalogue().items():
    try:
        t0 = time.perf_counter(); theirs = measure.to_pandas(spark); t1 = time.perf_counter()
        ours = measure.to_pandas(local); t2 = time.perf_counter()
    except UserError:
        continue
    spark_seconds += t1 - t0; duckdb_seconds += t2 - t1; done += 1
    if not same(ours, theirs):
        unequal.append(name)
print(json.dumps({"seconds": spark_seconds, "duckdb_seconds": duckdb_seconds, "load_seconds": moved,
                  "measures": done, "unequal": unequal}))
"""


class TreeWatch:
    """Peak resident memory (MB) of a process and its descendants, sampled every 0.1 s."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                top = psutil.Process(self.pid)
                total = 0
                for process in [top, *top.children(recursive=True)]:
                    try:
                        total += process.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._stop.wait(0.1)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(command: list[str], env: dict | None = None) -> dict:
    """Run `command`; its wall seconds, CPU seconds (with its children), peak MB and, when its last
    line of output is JSON, that too."""
    cpu = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    watch = TreeWatch(process.pid)
    out, err = process.communicate()
    wall = time.perf_counter() - started
    result = {"wall": wall, "cpu": _children_cpu() - cpu, "peak_mb": watch.stop(), "rc": process.returncode}
    if process.returncode != 0:
        result["error"] = (out + err)[-2000:]
        return result
    lines = out.strip().splitlines()
    try:
        result.update(json.loads(lines[-1]))
    except (IndexError, ValueError):
        pass
    return result


def ensure_extract(scale: float, given: dict[float, str], root: Path) -> Path:
    """The extract folder of `scale`, built with `outcomes reference --scale` when missing."""
    if scale in given:
        return Path(given[scale])
    folder = ROOT / "data" / "reference" if scale == 1 else root / f"scale{scale:g}"
    if not (folder / "truth.json").exists():
        print(f"building the scale-{scale:g} extract: outcomes reference --scale {scale:g} --out {folder}", flush=True)
        subprocess.run([sys.executable, "-m", "outcomes.cli", "reference", "--scale", f"{scale:g}", "--out",
                        str(folder)], check=True)
    return folder


def run_scale(folder: Path, quarter: str, jobs: int, stages: list[str], scratch: Path) -> dict[str, dict]:
    """Every stage at one scale, each in a fresh process (see the module docstring)."""
    from outcomes.report.parameters import parse_quarter

    end = parse_quarter(quarter).end.isoformat()
    python = [sys.executable, "-c"]
    cache = tempfile.mkdtemp(prefix="cache-", dir=scratch)  # a fresh cache: cold validation, no timings
    results = {"floor": measured(python + [FLOOR, str(folder)])}
    if "validation" in stages:
        results["validation"] = measured(python + [VALIDATION, str(folder)], {"OUTCOMES_CACHE": cache})
    if "measures" in stages:
        results["measures"] = measured(python + [MEASURES, str(folder), end], {"OUTCOMES_CACHE": cache})
    if "report" in stages:
        reports = scratch / f"reports-{folder.name}"
        report = measured([sys.executable, "-m", "outcomes.cli", "report", "--quarter", quarter, "--extract",
                           str(folder), "--reports", str(reports), "--jobs", str(jobs)],
                          {"OUTCOMES_CACHE": tempfile.mkdtemp(prefix="cache-", dir=scratch)})
        report["seconds"] = report["wall"]
        manifest = reports / quarter / "manifest.json"
        if manifest.exists():
            seconds = {n["name"]: n["seconds"] for n in json.loads(manifest.read_text())["notebooks"]}
            report["notebooks"] = {name: seconds.get(name) for name in WATCHED}
        results["report"] = report
    results["floor"]["seconds"] = results["floor"].get("seconds", results["floor"]["wall"])
    return results


def _cell(result: dict | None, floor: dict) -> str:
    if not result:
        return f"{'-':>36}"
    if result.get("rc"):
        return f"{'failed (exit ' + str(result['rc']) + ')':>36}"
    ratio = result["seconds"] / floor["seconds"] if floor.get("seconds") else float("nan")
    return f"{result['seconds']:7.1f} s {result['cpu']:6.1f} cpu {result['peak_mb']:6.0f} MB {ratio:6.0f}x"


def print_table(runs: dict[float, dict[str, dict]]) -> list[str]:
    """The table of stages x scales; returns the goals missed."""
    scales = list(runs)
    stages = [s for s in ("validation", "measures", "report", "floor") if any(s in runs[x] for x in scales)]
    print(f"\n{'stage':<22}" + "".join(f"{'scale ' + format(x, 'g') + ': s, cpu s, peak, x floor':>38}" for x in scales))
    for stage in stages:
        print(f"{stage:<22}" + "".join(f"  {_cell(runs[x].get(stage), runs[x]['floor'])}" for x in scales))
    for name in WATCHED:
        cells = []
        for x in scales:
            seconds = runs[x].get("report", {}).get("notebooks", {}).get(name)
            cells.append(f"  {seconds:34.1f} s" if seconds is not None else f"  {'-':>36}")
        print(f"  {name:<20}" + "".join(cells))
    first, last = scales[0], scales[-1]
    print(f"\ngrowth, scale {first:g} -> {last:g} (floor: what following rows costs)")

    def growth(a, b):
        return b / a if a and b is not None else float("nan")

    for stage in stages:
        a, b = runs[first].get(stage, {}), runs[last].get(stage, {})
        if a.get("seconds") and b.get("seconds"):
            print(f"  {stage:<20} {growth(a['seconds'], b['seconds']):6.2f}x time  "
                  f"{growth(a['cpu'], b['cpu']):6.2f}x cpu  {growth(a['peak_mb'], b['peak_mb']):6.2f}x memory")
    for name in WATCHED:
        a = runs[first].get("report", {}).get("notebooks", {}).get(name)
        b = runs[last].get("report", {}).get("notebooks", {}).get(name)
        if a and b:
            print(f"  {name:<20} {growth(a, b):6.2f}x time")
    each = runs[last].get("measures", {}).get("each") or {}
    slowest = sorted(each, key=each.get, reverse=True)[:5]
    if slowest:
        print(f"  slowest measures at scale {last:g}: " + ", ".join(
            f"{n} {each[n]:.1f} s ({each[n] / runs[first]['measures']['each'].get(n, float('nan')):.1f}x)" for n in slowest))
    rows = [runs[x]["floor"].get("rows") for x in scales]
    print("  rows in the extract: " + ", ".join(f"{r:,}" for r in rows if r))

    missed = []
    report, validation = runs[last].get("report"), runs[last].get("validation")
    if report and "seconds" in report:
        if report["seconds"] >= GOALS["report_seconds"]:
            missed.append(f"report at scale {last:g}: {report['seconds']:.1f} s (goal < {GOALS['report_seconds']:.0f} s)")
        base = runs[first].get("report", {}).get("seconds")
        if base and report["seconds"] / base > GOALS["report_growth"]:
            missed.append(f"report growth {report['seconds'] / base:.2f}x (goal <= {GOALS['report_growth']}x)")
        for name in WATCHED:
            a = runs[first]["report"].get("notebooks", {}).get(name)
            b = report.get("notebooks", {}).get(name)
            if a and b and b / a > GOALS["notebook_growth"]:
                missed.append(f"{name} growth {b / a:.2f}x (goal <= {GOALS['notebook_growth']}x)")
    if validation and "seconds" in validation and validation["seconds"] >= GOALS["validation_seconds"]:
        missed.append(f"validation at scale {last:g}: {validation['seconds']:.1f} s (goal < {GOALS['validation_seconds']:.0f} s)")
    peak = max((r.get("peak_mb", 0) for x in scales for s, r in runs[x].items() if s != "floor"), default=0)
    if peak >= GOALS["peak_mb"]:
        missed.append(f"peak memory {peak:.0f} MB (goal < {GOALS['peak_mb']:.0f} MB)")
    print("goals: " + ("met" if not missed else "missed: " + "; ".join(missed)))
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 4, 15])
    parser.add_argument("--extract", action="append", default=[], metavar="SCALE=DIR",
                        help="the extract of a scale (repeatable); default: built under --root")
    parser.add_argument("--root", help="where extracts of other scales are built (default $OUTCOMES_CACHE/scale-extracts)")
    parser.add_argument("--quarter", default="2024Q1")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--stages", nargs="+", default=["validation", "measures", "report"],
                        choices=["validation", "measures", "report"])
    parser.add_argument("--spark-scale", type=float, help="also run the catalogue on local Spark at this scale")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)

    from outcomes.report.parameters import parse_quarter
    from outcomes.workspace import cache_dir

    given = {}
    for item in args.extract:
        scale, _, folder = item.partition("=")
        given[float(scale)] = folder
    root = Path(args.root) if args.root else cache_dir() / "scale-extracts"
    print(f"scale benchmark: scales {', '.join(format(x, 'g') for x in args.scales)}, {args.jobs} jobs, "
          f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="outcomes-scale-") as scratch:
        for scale in args.scales:
            folder = ensure_extract(scale, given, root)
            print(f"  scale {scale:g}: {folder}", flush=True)
            runs[scale] = run_scale(folder, args.quarter, args.jobs, args.stages, Path(scratch))
            for stage, result in runs[scale].items():  # as each scale ends: a run stopped early still tells
                if result.get("rc"):
                    print(f"  scale {scale:g} {stage} failed:\n{result.get('error', '')}")
                else:
                    print(f"  scale {scale:g} {stage:<10} {_cell(result, runs[scale]['floor'])}", flush=True)
        missed = print_table(runs)
        if args.spark_scale:
            folder = ensure_extract(args.spark_scale, given, root)
            end = parse_quarter(args.quarter).end.isoformat()
            spark = measured([sys.executable, "-c", SPARK, str(folder), end])
            if spark.get("rc"):
                print(f"spark at scale {args.spark_scale:g}: failed\n{spark.get('error', '')}")
                return 1
            print(f"\ncatalogue on local Spark, scale {args.spark_scale:g}: {spark['measures']} measures in "
                  f"{spark['seconds']:.1f} s (DuckDB {spark['duckdb_seconds']:.1f} s, "
                  f"{spark['seconds'] / spark['duckdb_seconds']:.0f}x), tables moved to Spark in "
                  f"{spark['load_seconds']:.1f} s, {spark['cpu']:.0f} CPU s in all, process peak {spark['peak_mb']:.0f} MB "
                  "(the JVM's included); "
                  + ("every frame equals DuckDB's" if not spark["unequal"] else f"UNEQUAL: {', '.join(spark['unequal'])}"))
            if spark["unequal"]:
                return 1
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
