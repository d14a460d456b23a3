"""Handing a validated source to the notebooks of one report run, with no secret in sight.

`share_with_notebooks(extract, spec)` yields the reference the notebooks receive as their `extract`
parameter (a folder's absolute path, or the URL, with the spec's schema as its last path part, its
secrets masked) and the environment of their kernels: `$OUTCOMES_RUN_SOURCES` names a private file
(mode 0600, in a folder of its own, removed at the end of the run, never in the report) mapping the
reference back to the real URL, the end date and the findings of the validation the run already
made, so eight notebooks do not check a warehouse eight more times.

`resolve(reference)` is the other side, in a notebook: what the reference stands for (the real
URL), the run's end date and the run's findings; outside its run, a masked URL
is opened without its secret (libpq then takes the password from PGPASSWORD, ~/.pgpass or a
service file) and nothing is known to be checked.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

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
    path = os.environ.get(RUN_SOURCES)
    if not path:
        return None
    try:
        sources = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return sources.get(reference)


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
    entry.update(end_date=extract.end_date.isoformat(), findings=[asdict(f) for f in extract.findings.items])
    folder = Path(tempfile.mkdtemp(prefix="outcomes-run-sources-"))
    try:
        path = folder / "sources.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({reference: entry}, handle)
        yield reference, {RUN_SOURCES: str(path)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def resolve(source: Any) -> tuple[Any, str | None, FindingList | None]:
    """What a shared reference stands for: `(source, end_date, findings)`, the real URL (or the
    folder), the run's end date and the run's findings; a source not shared comes back as it is,
    with no end date and no findings (None: not checked yet), a masked URL without its secret."""
    if not isinstance(source, str | Path):
        return source, None, None
    entry = _registered(str(source))
    if entry is not None:  # shared by the report run this notebook belongs to: checked there
        return entry.get("url", source), entry["end_date"], FindingList.from_rows(entry["findings"])
    if isinstance(source, str) and MASK in source:  # a run's reference opened outside its run: libpq completes the secret
        return without_secrets(source), None, None
    return source, None, None
