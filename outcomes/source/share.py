"""Handing a validated source to the notebooks of one report run, with no secret in sight.

`share_with_notebooks(extract, spec)` yields the reference the notebooks receive as their `extract`
parameter (a folder's absolute path, or the URL, with the spec's schema as its last path part, its
secrets masked) and the environment of their kernels: `$OUTCOMES_RUN_SOURCES` holds (as JSON, in
the kernels' environment only: no file, so nothing of it survives a killed run) the reference
mapped back to the real URL, the end date, each file's size, modification time and inode (a
notebook stops on a file changed since) and the findings of the validation the run already made, so eight notebooks do not check a warehouse eight more times.

`resolve(reference)` is the other side, in a notebook: what the reference stands for (the real
URL), the run's end date and the run's findings; outside its run, a masked URL
is opened without its secret (libpq then takes the password from PGPASSWORD, ~/.pgpass or a
service file) and nothing is known to be checked.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from outcomes.errors import UserError
from outcomes.source.contract.extract import Extract
from outcomes.source.contract.validation import FindingList
from outcomes.credentials import MASK, mask_url, without_secrets
from outcomes.source.engines import url_with_schema
from outcomes.source.spec import SourceSpec

__all__ = ["RUN_SOURCES", "share_with_notebooks", "resolve"]

#: environment variable naming the private file of a run's sources (set for a report's kernels)
RUN_SOURCES = "OUTCOMES_RUN_SOURCES"


def _registered(reference: str) -> dict | None:
    """The run's entry for `reference`, when this process runs under a report run that shared it."""
    shared = os.environ.get(RUN_SOURCES)
    if not shared:
        return None
    try:
        sources = json.loads(shared)
    except ValueError:
        return None
    return sources.get(reference) if isinstance(sources, dict) else None


def _signature(path: Path) -> list[int] | None:
    """A file's size, modification time (ns) and inode: what changes when it is replaced or rewritten."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _unchanged(entry: dict) -> None:
    """UserError naming the first file of the run's extract replaced or changed since the run validated it."""
    for path, signature in entry.get("files", {}).items():
        if _signature(Path(path)) != signature:
            raise UserError(f"{path} changed during the report run (it is not the file the run validated): "
                            "nothing is published; run the report again once the extract is complete")


@contextmanager
def share_with_notebooks(extract: Extract, spec: SourceSpec) -> Iterator[tuple[str, dict[str, str]]]:
    """Share an opened source with the notebooks of one report run: yields `(reference, env)` (see
    the module docstring). A folder is shared too, so that an end date given to the run holds in
    every notebook."""
    if spec.url:
        url = url_with_schema(spec.url, spec.schema)
        reference, entry = mask_url(url), {"url": url}
    else:
        reference = str(Path(spec.folder).resolve())
        entry = {"folder": reference}
    entry.update(end_date=extract.end_date.isoformat(), findings=[asdict(f) for f in extract.findings.items],
                 files={str(path.resolve()): _signature(path) for path in extract.files.values()})
    yield reference, {RUN_SOURCES: json.dumps({reference: entry})}


def resolve(source: Any) -> tuple[Any, str | None, FindingList | None]:
    """What a shared reference stands for: `(source, end_date, findings)`, the real URL (or the
    folder), the run's end date and the run's findings; a source not shared comes back as it is,
    with no end date and no findings (None: not checked yet), a masked URL without its secret."""
    if not isinstance(source, str | Path):
        return source, None, None
    entry = _registered(str(source))
    if entry is not None:  # shared by the report run this notebook belongs to: checked there
        _unchanged(entry)
        return entry.get("url", source), entry["end_date"], FindingList.from_rows(entry["findings"])
    if isinstance(source, str) and MASK in source:  # a run's reference opened outside its run: libpq completes the secret
        return without_secrets(source), None, None
    return source, None, None
