"""Benchmark: Making Data Count SPC of every catalogue measure (`outcomes.spc`).

Prints, from the same run, on the monthly frames of every measure of the catalogue (grouped
measures charted per group, rebased at go-live):

  * SPC: disclosure control, limits, the four rules, point types, icons and the dashboard table
    for the whole catalogue (`catalogue_spc` + `board_dashboard`);
  * baseline 1: computing the measures themselves on the extract (the queries a chart needs first);
  * baseline 2: the bare XmR limits of the same series in numpy (mean and moving range only, no rules).

Each timing is the best of `--repeat` runs. Goal: SPC of the whole catalogue well under a second,
and a small fraction of the time the measures take.

Run: .venv/bin/python benchmarks/spc.py [--extract DIR] [--repeat 5]
(default extract: the reference extract at scale 0.1, built in a temporary folder)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GO_LIVE = "2017-10-01"


def best_of(repeat: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


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

    from outcomes.extract import open_extract
    from outcomes.measures import MEASURES
    from outcomes.spc.measures import board_dashboard, catalogue_spc

    with tempfile.TemporaryDirectory(prefix="spc-bench-") as tmp:
        folder = args.extract
        if folder is None:
            from outcomes.reference import write_reference_extract

            folder = Path(tmp) / "reference"
            write_reference_extract(folder, scale=0.1)
        extract = open_extract(folder)
        measures_seconds, frames = best_of(max(1, args.repeat // 2),
                                           lambda: {name: m.to_pandas(extract) for name, m in MEASURES.items()})

        def spc():
            charts = catalogue_spc(MEASURES, frames, rebase=[GO_LIVE], strict=False)
            return charts, board_dashboard(charts)

        spc_seconds, (charts, dashboard) = best_of(args.repeat, spc)
        bare_seconds, n_series = best_of(args.repeat, lambda: bare_limits(frames))

    n_charts = sum(len(c.charts) for c in charts.values())
    months = sum(len(f) for f in frames.values())
    print(f"extract: {folder}")
    print(f"catalogue: {len(MEASURES)} measures, {n_series} series ({n_charts} charted, "
          f"{n_series - n_charts} with too few unsuppressed months), {months:,} monthly values")
    print(f"{'step':<52} {'seconds':>9} {'ratio':>9}")
    print(f"{'SPC of every measure (outcomes.spc)':<52} {spc_seconds:>9.3f} {1:>9}")
    print(f"{'baseline 1: computing the measures (DuckDB)':<52} {measures_seconds:>9.3f} {measures_seconds / spc_seconds:>8.1f}x")
    print(f"{'baseline 2: bare limits in numpy (no rules)':<52} {bare_seconds:>9.4f} {bare_seconds / spc_seconds:>8.3f}x")
    print(f"SPC per chart: {spc_seconds / max(n_charts, 1) * 1000:.1f} ms; "
          f"goal (whole catalogue well under 1 s): {'met' if spc_seconds < 0.5 else 'NOT met'}")
    return 0 if spc_seconds < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
