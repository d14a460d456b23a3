"""The order a report's notebooks start in: the longest first, by the seconds each took last time.

With two notebooks at a time, a long notebook started last keeps one core busy after the other
has finished: in March 2024's report the SPC dashboard and the equity notebook (7-9 s each, the
others 1-5 s) came last in name order and the report waited for them. Started first, the short
ones fill in around them (longest processing time first, the classic list-scheduling rule).
Each successful run records every notebook's time in `<cache>/notebook-seconds.json`
(`outcomes.workspace.cache_dir`). A first run has no record: the shipped notebooks then start by
`TYPICAL_SECONDS`, their times on the reference extract (otherwise a first run, a newcomer's or a
fresh machine's, started them in name order, and the SPC dashboard, the longest at every scale,
tenth of fourteen). A notebook neither timed nor shipped starts before the others (it may be
long), in name order. Only the order of starting changes: results and the report's pages list
notebooks by name whatever the order they ran in.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from outcomes import workspace

__all__ = ["HISTORY_FILE", "TYPICAL_SECONDS", "history_path", "load_seconds", "expected_seconds", "record_seconds",
           "longest_first"]

HISTORY_FILE = "notebook-seconds.json"

#: seconds each shipped notebook took in a report on the reference extract (scale 1, 2 jobs on 2
#: cores, a quiet machine, 2026-12-02): the order of a first run, before any run was recorded
TYPICAL_SECONDS = {
    "00_cohort_profile": 1.09, "01_bed_days": 2.74, "02_out_of_area": 1.77, "03_picu_length_of_stay": 0.81,
    "04_crisis_and_ae": 0.75, "05_dbt_mirror_image": 1.03, "06_published_figures": 4.18,
    "07_methods_validation": 0.75, "08_crisis_line_extension": 0.58, "09_spc_dashboard": 11.1, "10_costs": 0.61,
    "11_equity": 3.23, "12_synthetic_control": 1.78, "13_delivery_and_balancing": 5.49,
}


def history_path() -> Path:
    """Where notebook times are kept: `<cache>/notebook-seconds.json`."""
    return workspace.cache_dir() / HISTORY_FILE


def load_seconds(path: Path | None = None) -> dict[str, float]:
    """Notebook name -> seconds it took when last run (empty if never recorded or unreadable)."""
    path = path or history_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and v >= 0}


def expected_seconds(path: Path | None = None) -> dict[str, float]:
    """Notebook name -> seconds it is expected to take: as last run (`load_seconds`), else as
    typically run on the reference extract (`TYPICAL_SECONDS`)."""
    return {**TYPICAL_SECONDS, **load_seconds(path)}


def record_seconds(seconds: Mapping[str, float], path: Path | None = None) -> None:
    """Keep these notebooks' times (others recorded before are kept), written atomically; a cache
    that cannot be written is skipped (it only orders the next run)."""
    path = path or history_path()
    merged = {**load_seconds(path), **{name: round(float(s), 2) for name, s in seconds.items()}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".notebook-seconds.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(dict(sorted(merged.items())), out, indent=1)
        os.replace(temporary, path)
    except OSError:
        pass


def longest_first(names: Iterable[str], seconds: Mapping[str, float]) -> list[str]:
    """`names` in the order to start them: never-timed ones first (in the given order), then by
    the seconds they took, longest first (ties in the given order)."""
    names = list(names)
    unknown = [name for name in names if name not in seconds]
    known = sorted((name for name in names if name in seconds), key=lambda name: -seconds[name])
    return unknown + known
