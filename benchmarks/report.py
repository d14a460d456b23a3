"""Wall time of the full report, and its ratio to the floor: as many empty notebooks through papermill.

    python benchmarks/report.py [--extract data/reference] [--notebooks notebooks] [--quarter 2024Q1] [--jobs N]
                                [--repeat 3] [--check]

Both are timed as fresh processes (interpreter start and imports included), with the same number of
notebooks run `--jobs` at a time on the same kernel, in the same run, so the ratio is what the report
adds over papermill's own cost (kernel start-up, execution protocol). Each is run `--repeat` times,
alternately, and the best of each is compared, as `timeit` does: on a shared machine a busy spell
only ever slows a run down. The report starts its notebooks in the order of their last timings
(`outcomes.report.execution.schedule`), as a quarterly run does on a machine that has run it before. The
report is written to a temporary folder, never over reports/. Per notebook (of the fastest report
run) it prints the time from its start (its kernel's start, or its kept kernel's reset: see
`outcomes.report.execution.warm_kernels`) to its last cell beside an empty notebook's in a new kernel, and its
setup (the cells up to its imports, which open the extract too). Goals (issues 6 and 15): under
40 s on 2 cores, within 3x the floor; `--check` exits 1 when a goal is missed. Skips (exit 0, with the reason) when there is no reference
extract and no `outcomes reference` command to build one, or no notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 40.0
GOAL_RATIO = 3.0

FLOOR_SCRIPT = r"""
import json, sys, time, papermill
from concurrent.futures import ThreadPoolExecutor
from jupyter_client.kernelspec import KernelSpecManager
folder, jobs = sys.argv[1], int(sys.argv[2])
kernel = "outcomes" if "outcomes" in KernelSpecManager().find_kernel_specs() else "python3"
paths = sorted(p for p in __import__("glob").glob(folder + "/*.ipynb") if not p.endswith(".out.ipynb"))
def run(path):  # timed as the report's runner times a notebook: kernel start to its last cell
    started = time.perf_counter()
    papermill.execute_notebook(path, path.replace(".ipynb", ".out.ipynb"), parameters={"x": 2},
                               kernel_name=kernel, language="python", progress_bar=False)
    return time.perf_counter() - started
with ThreadPoolExecutor(jobs) as pool:
    print(json.dumps(list(pool.map(run, paths))))
"""


def _setup_seconds(executed: Path) -> float | None:
    """Seconds a notebook's setup took, from papermill's cell timings: the code cells after the
    parameters up to and including the first that imports the package's analysis modules (the
    notebooks open the extract in that cell too)."""
    import datetime as dt

    import nbformat

    if not executed.exists():
        return None
    total = 0.0
    for cell in nbformat.read(executed, as_version=4).cells:
        if cell.cell_type != "code" or set(cell.metadata.get("tags", [])) & {"parameters", "injected-parameters"}:
            continue
        timing = cell.metadata.get("papermill", {})
        if not timing.get("start_time") or not timing.get("end_time"):
            return None
        total += (dt.datetime.fromisoformat(timing["end_time"].rstrip("Z"))
                  - dt.datetime.fromisoformat(timing["start_time"].rstrip("Z"))).total_seconds()
        imports = [line for line in cell.source.splitlines() if line.startswith(("import ", "from "))]
        if any("outcomes.report.parameters" not in line for line in imports):
            break
    return total


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - started, done


def _empty_notebooks(folder: Path, count: int) -> None:
    import nbformat

    for number in range(count):
        nb = nbformat.v4.new_notebook()
        parameters = nbformat.v4.new_code_cell("x = 1")
        parameters.metadata["tags"] = ["parameters"]
        nb.cells = [parameters, nbformat.v4.new_code_cell("pass")]
        nbformat.write(nb, folder / f"empty_{number:02d}.ipynb")


def _ensure_extract(extract: Path) -> str | None:
    """None if the extract is there (building the reference one if need be), else why not."""
    if extract.is_dir():
        return None
    if extract.resolve() != (ROOT / "data" / "reference").resolve():
        return f"no extract at {extract}"
    import importlib.util

    if importlib.util.find_spec("outcomes.commands.reference") is None:
        return "no reference extract at data/reference and the `outcomes reference` command does not exist yet"
    print(f"building the reference extract: outcomes reference --out {extract}", flush=True)
    done = subprocess.run([sys.executable, "-m", "outcomes.cli", "reference", "--out", str(extract)])
    return None if done.returncode == 0 else "`outcomes reference` failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", default=str(ROOT / "data" / "reference"))
    parser.add_argument("--notebooks", default=str(ROOT / "notebooks"))
    parser.add_argument("--quarter", default="2024Q1")
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--repeat", type=int, default=3,
                        help="report and floor runs, alternately; the best of each is compared (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)

    from outcomes.report.execution.runner import available_cores

    notebooks = sorted(Path(args.notebooks).glob("*.ipynb"))
    if not notebooks:
        print(f"report benchmark: skipped: no notebooks in {args.notebooks}")
        return 0
    why = _ensure_extract(Path(args.extract))
    if why:
        print(f"report benchmark: skipped: {why}")
        return 0
    jobs = args.jobs or min(available_cores(), len(notebooks))

    reports, floors = [], []
    with tempfile.TemporaryDirectory(prefix="outcomes-bench-") as scratch:
        scratch = Path(scratch)
        empty = scratch / "empty"
        empty.mkdir()
        _empty_notebooks(empty, len(notebooks))
        for attempt in range(args.repeat):  # alternately, so that a busy spell on the machine hits both
            folder = scratch / f"reports-{attempt}"
            seconds, done = _timed([
                sys.executable, "-m", "outcomes.cli", "report", "--quarter", args.quarter, "--extract", args.extract,
                "--notebooks", args.notebooks, "--reports", str(folder), "--jobs", str(jobs),
            ])
            if done.returncode != 0:
                print(done.stdout + done.stderr)
                print(f"report benchmark: the report failed (exit {done.returncode})")
                return 1
            manifest = json.loads((folder / args.quarter / "manifest.json").read_text())
            setup = {entry["name"]: _setup_seconds(folder / args.quarter / "notebooks" / f"{entry['name']}.ipynb")
                     for entry in manifest["notebooks"]}
            reports.append((seconds, manifest, setup))
            floor_seconds, floor = _timed([sys.executable, "-c", FLOOR_SCRIPT, str(empty), str(jobs)])
            if floor.returncode != 0:
                print(floor.stderr)
                return 1
            floors.append((floor_seconds, json.loads(floor.stdout.strip().splitlines()[-1])))

    report_seconds, manifest, first_cells = min(reports, key=lambda r: r[0])
    floor_seconds, empty_seconds = min(floors, key=lambda f: f[0])
    ratio = report_seconds / floor_seconds
    print(f"report benchmark: {len(notebooks)} notebooks, {jobs} at a time, {available_cores()} cores available, "
          f"best of {args.repeat}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"  {'notebook (fastest report run)':<28} {'start to last cell':>26} {'empty notebook':>15} {'setup (imports, open)':>21}")
    for entry, empty_time in zip(manifest["notebooks"], empty_seconds):
        first = first_cells.get(entry["name"])
        shown = f"{first:19.1f} s" if first is not None else f"{'-':>21}"
        print(f"  {entry['name']:<28} {entry['seconds']:24.1f} s {empty_time:13.1f} s {shown}")
    every = lambda runs: ", ".join(f"{run[0]:.1f}" for run in runs)  # noqa: E731
    print(f"full report (outcomes report, fresh process):  {report_seconds:7.1f} s   goal < {GOAL_SECONDS:.0f} s on 2 cores"
          f"   (runs: {every(reports)} s)")
    print(f"floor ({len(notebooks)} empty notebooks via papermill):   {floor_seconds:7.1f} s"
          f"   (runs: {every(floors)} s)")
    print(f"ratio report / floor:                          {ratio:7.2f} x   goal <= {GOAL_RATIO:.0f} x   "
          f"(median runs: {statistics.median(r[0] for r in reports) / statistics.median(f[0] for f in floors):.2f} x)")
    missed = report_seconds >= GOAL_SECONDS or ratio > GOAL_RATIO
    print("goals: " + ("missed" if missed else "met"))
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
