"""Benchmark: Making Data Count SPC of every catalogue measure (`outcomes.spc`).

Prints, from the same run, on the monthly frames of every measure of the catalogue (grouped
measures charted per group, rebased at go-live):

  * SPC: disclosure control, limits, the four rules, point types, icons and the dashboard table
    for the whole catalogue (`catalogue_spc` + `board_dashboard`);
  * baseline 1: computing the measures themselves on the extract (the queries a chart needs first);
  * baseline 2: the bare XmR limits of the same series in numpy (mean and moving range only, no rules).

Each timing is the best of `--repeat` runs, as CPU seconds of this process (all its threads) and
wall-clock seconds: on a machine shared with other work the wall clock mostly measures waiting, so
the ratios and the goal use CPU time. Goal: SPC of the whole catalogue well under a second (0.5 s
of CPU), and a small fraction of the time the measures take.

Run: .venv/bin/python benchmarks/spc.py [--extract DIR] [--repeat 5]
(default extract: the reference extract at scale 0.1, built in a temporary folder)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GO_LIVE = "2017-10-01"


def best_of(repeat: int, work) -> tuple[float, float, object]:
    """(best CPU seconds, best wall seconds, the last result) of `repeat` runs of `work()`."""
    cpu, wall, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = work()
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    return cpu, wall, result


def bare_limits(frames) -> int:
    """Mean +- 2.66 x mean moving range of every series, numpy only (no screening, no rules)."""
    charts = 0
    for frame in frames.values():
        groups = [c for c in frame.columns if c not in ("month", "numerator", "denominator", "value")]
        parts = frame.groupby(groups) if groups else [((), frame)]
        for _, part in parts:
            y = part["value"].to_numpy(dtype=float)
            y = y[np.isfinite(y)]
            mean, amr = y.mean(), np.abs(np.diff(y)).mean()
            _ = (mean - 2.66 * amr, mean + 2.66 * amr)
            charts += 1
    return charts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, help="extract folder (default: reference extract at scale 0.1)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from outcomes.source import open_source
    from outcomes.measures import MEASURES
    from outcomes.spc.measures import board_dashboard, catalogue_spc

    with tempfile.TemporaryDirectory(prefix="spc-bench-") as tmp:
        folder = args.extract
        if folder is None:
            from outcomes.reference import write_reference_extract

            folder = Path(tmp) / "reference"
            write_reference_extract(folder, scale=0.1)
        extract = open_source(folder)
        measures_cpu, measures_wall, frames = best_of(max(1, args.repeat // 2),
                                           lambda: {name: m.to_pandas(extract) for name, m in MEASURES.items()})

        def spc():
            charts = catalogue_spc(MEASURES, frames, rebase=[GO_LIVE], strict=False)
            return charts, board_dashboard(charts)

        spc_cpu, spc_wall, (charts, dashboard) = best_of(args.repeat, spc)
        bare_cpu, bare_wall, n_series = best_of(args.repeat, lambda: bare_limits(frames))

    n_charts = sum(len(c.charts) for c in charts.values())
    months = sum(len(f) for f in frames.values())
    print(f"extract: {folder}")
    print(f"catalogue: {len(MEASURES)} measures, {n_series} series ({n_charts} charted, "
          f"{n_series - n_charts} with too few unsuppressed months), {months:,} monthly values")
    print(f"{'step':<48} {'CPU s':>8} {'wall s':>8} {'CPU ratio':>10}")
    for label, cpu, wall in (("SPC of every measure (outcomes.spc)", spc_cpu, spc_wall),
                             ("baseline 1: computing the measures (DuckDB)", measures_cpu, measures_wall),
                             ("baseline 2: bare limits in numpy (no rules)", bare_cpu, bare_wall)):
        print(f"{label:<48} {cpu:>8.3f} {wall:>8.3f} {cpu / spc_cpu:>9.3f}x")
    print(f"SPC per chart: {spc_cpu / max(n_charts, 1) * 1000:.1f} ms CPU; load average {os.getloadavg()[0]:.1f}; "
          f"goal (whole catalogue under 0.5 s CPU): {'met' if spc_cpu < 0.5 else 'NOT met'}")
    return 0 if spc_cpu < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
