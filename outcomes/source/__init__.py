"""The one way in: an extract wherever it lives, named, typed and checked against the data contract.

Stacked one way, each module importing only those below it (an import-linter contract keeps it):

* `open`:   `open_source`, the only public door (re-exported here);
* `share`:  handing a validated source to a report run's notebooks, with no secret in sight;
* `spec`:   `SourceSpec`, where an extract lives (folder or URL, schema, engine, end date), checked once;
* `load`:   loading a folder extract into a warehouse (PostgreSQL, Spark);
* `engines`: DuckDB's neighbours by URL scheme: PostgreSQL, Spark and Spark Connect;
* `folder`: a folder's files and its extract.yaml, on an embedded DuckDB;
* `contract`: the data dictionary and the `Extract`: typing and validating tables against it.

URLs are shown with their secrets masked (`outcomes.credentials`, which the output checker uses too).


Names are imported on first use, so that importing the data dictionary (`outcomes.source.contract`)
does not import the engines.
"""

from __future__ import annotations

import importlib

__all__ = ["Extract", "ExtractError", "SourceSpec", "open_source"]

_WHERE = {"Extract": "contract.extract", "ExtractError": "contract.extract", "SourceSpec": "spec",
          "open_source": "open"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"outcomes.source.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'outcomes.source' has no attribute {name!r}")
