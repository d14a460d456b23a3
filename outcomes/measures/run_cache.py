"""Monthly measure frames computed once per report run and shared by the run's notebooks.

A report run (`outcomes.report.build`) opens `run_measure_cache()`: a private folder of its own
(`outcomes.workspace.run_temporary`: a run killed before it removes it, the next run does),
named to the kernels by `$OUTCOMES_RUN_MEASURES` and removed when the run ends, so nothing is
ever read across runs. A notebook's session
(`outcomes.notebook`) reads that name and gives the folder to its measures
(`Measure.cached_in`); the measures themselves never read the environment. With a folder,
`Measure.to_pandas` looks a frame up by a key of

* the measure: its name, grouping, rate multiplier, declared intervals and declaration (the
  catalogue's footprint and providers; a measure declared elsewhere has none and is never cached);
* the period computed (first and last month);
* the extract's identity: where it came from, its end date (a report's `period_end` cut moves it),
  its metadata, and for a folder each file's path, size, modification time and inode, so a file
  changed during the run never hits.

Frames are kept as parquet, written to a temporary name and renamed into place, so a notebook
never reads a half-written frame. A frame is computed under a lock of its own (`filelock`, a file
beside it): a notebook wanting a frame another notebook of the run is computing waits for it and
reads it, instead of computing it again at the same time (the SPC dashboard and the delivery
notebook ask for most of the catalogue at once; on two cores each computing it doubled the
measures' cost of the run). A wait longer than `LOCK_SECONDS` (a notebook killed while holding a
lock frees it, so only a pathologically slow measure waits that long) computes the frame anyway.
Without a folder (outside a run: JupyterLab, the CLI, tests) nothing is cached and every call
computes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
from filelock import FileLock, Timeout

from outcomes.workspace import run_temporary

__all__ = ["RUN_MEASURES", "run_measure_cache", "extract_identity", "cached_frame"]

#: environment variable naming the folder of a report run's measure frames
RUN_MEASURES = "OUTCOMES_RUN_MEASURES"

#: seconds a notebook waits for another notebook computing the same frame before computing it itself
LOCK_SECONDS = 600.0


@contextmanager
def run_measure_cache() -> Iterator[dict[str, str]]:
    """A run-scoped measure cache: yields the kernels' environment (`{RUN_MEASURES: folder}`);
    the folder (private, mode 0700) and every frame in it are deleted when the block ends."""
    folder = run_temporary("measures")
    try:
        yield {RUN_MEASURES: str(folder)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def extract_identity(extract: Any) -> dict:
    """What makes two opened extracts the same data: source, end date, metadata and, for a
    folder, each file's path, size, modification time (ns) and inode."""
    files = {}
    for table, path in sorted(getattr(extract, "files", {}).items()):
        stat = Path(path).stat()
        files[table] = [str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino]
    return {"source": str(getattr(extract, "source", "")), "end_date": str(getattr(extract, "end_date", "")),
            "metadata": getattr(extract, "metadata", {}) or {}, "tables": sorted(getattr(extract, "tables", {})),
            "files": files}


def cached_frame(folder: Path | None, key: dict | None, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """`compute()`'s frame, read from the run's cache `folder` when `key` (JSON-able) was computed
    before in this run, else computed and stored there; while another notebook computes the same
    key, this one waits for its frame. Computes every time without a folder (or one that no longer
    exists) or for `key` None."""
    if folder is None or key is None or not Path(folder).is_dir():
        return compute()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    folder = Path(folder)
    path = folder / f"{digest}.parquet"
    frame = _stored(path)
    if frame is not None:
        return frame
    lock = FileLock(folder / f".{digest}.lock", timeout=LOCK_SECONDS)
    try:
        lock.acquire()
    except (Timeout, OSError):  # waited too long, or no lock to be had: compute (the cache is an optimisation)
        return _computed(folder, digest, path, compute)
    try:
        frame = _stored(path)  # another notebook computed it while this one waited
        return frame if frame is not None else _computed(folder, digest, path, compute)
    finally:
        lock.release()


def _stored(path: Path) -> pd.DataFrame | None:
    """The frame stored at `path`, or None when there is none (or it cannot be read)."""
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError):  # unreadable: computed again and replaced
        return None


def _computed(folder: Path, digest: str, path: Path, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """`compute()`'s frame, stored at `path` (written to a temporary name, then renamed)."""
    frame = compute()
    partial = folder / f".{digest}.{os.getpid()}.tmp"
    try:
        frame.to_parquet(partial, index=False)
        partial.replace(path)
    except OSError:  # the cache is an optimisation: a frame not stored is computed again
        partial.unlink(missing_ok=True)
    return frame
