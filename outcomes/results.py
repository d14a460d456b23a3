"""Recording a notebook's results, tables and figures for the report (a JSON sidecar per notebook).

A notebook run by `outcomes report` receives an `output_dir` parameter. Everything it wants in the
report goes through three calls, each of which appends (or replaces, by name) one entry in
`<output_dir>/<notebook>.results.json`; a notebook makes them through its session
(`run.record`, `run.record_table`, `run.record_figure`: `outcomes.notebook`), which names the
folder and the notebook. Called directly, they need `output_dir` (and take the notebook's name
from the folder's unless `notebook` is given):

>>> from outcomes.results import record, record_table, record_figure
>>> record("out_of_area_bed_days", -118.4, output_dir=folder, kind="difference", unit="bed days per month",
...        ci=(-170.2, -66.5), baseline=412.0, latest=291.6, headline=True,
...        label="Out-of-area bed days per month",
...        definition="Level change at go-live, segmented Poisson GLM with month-of-year terms",
...        published={"value": 405, "source": "NHS England MHSDS monthly statistics"})  # doctest: +SKIP
>>> record_table("admissions_by_provider", frame, total_rows=["Total"], output_dir=folder)  # doctest: +SKIP
>>> record_figure("bed_days_series", fig, caption="Monthly bed days", key=True, output_dir=folder)  # doctest: +SKIP

A name is one entry: recording a figure under a table's name (or the reverse) is refused, since
one would replace the other in `results.json`; recording the same kind again replaces it.

The runner gathers the sidecars into the report's `results.json` (keyed by notebook, then by
result name) and builds the index page from them:

* the **headline table** lists every result recorded with `headline=True`, one row each:
  `label` (else `name`) and `unit`; `baseline`; `latest`; the change `value` with its `ci`;
  `published` (a number, or `{"value": ..., "source": ...}`) where there is one;
* the **key figures** are the figures recorded with `key=True` (and PNG outputs of cells tagged
  `key-figure`);
* an analysis the data cannot support is recorded with `record_not_estimable` (a notebook calls
  `run.estimate`, which catches `outcomes.errors.NotEstimable`): the analyses list shows its
  sentence, "<what>: not estimable: <reason>", under the notebook, and a headline one keeps its
  row in the headline table with "not estimable" for the change.

Disclosure control happens here, before anything is written (docs/design.md): a result whose `kind` is
"count" or whose name is a count under `outcomes.disclosure`'s naming convention (`admissions_n`,
`n_people`, ...) has every number rounded to 5 or redacted (1 to 7); a result given the `counts`
it is built on is redacted whole when any of them is; a dict value is passed through
`redact_results`; a table through `redact_table`. Values become plain JSON: numpy and pandas
scalars are converted, dates written as ISO strings, NaN as null, and floats kept to 12
significant digits so that re-running a quarter gives a byte-identical `results.json`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from numbers import Number
from pathlib import Path
from typing import Any

__all__ = [
    "KINDS",
    "SIDECAR_SUFFIX",
    "record",
    "record_table",
    "record_figure",
    "record_not_estimable",
    "not_estimable_sentences",
    "read_sidecar",
    "sidecar_path",
    "to_json_value",
]

#: what a recorded result is; "figure" and "table" are written by record_figure / record_table
KINDS = (
    "estimate", "count", "rate", "proportion", "percentage", "mean", "median",
    "difference", "ratio", "percent_change", "p_value",
)
#: the kind of an entry saying an analysis could not be estimated (`record_not_estimable`)
NOT_ESTIMABLE = "not_estimable"
#: `<output_dir>/<notebook>` + this suffix
SIDECAR_SUFFIX = ".results.json"
#: significant digits kept for floats (reproducible output across thread counts)
FLOAT_DIGITS = 12
#: record_table refuses bigger tables: row-level data never leaves the notebook
MAX_TABLE_ROWS = 500

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# ----------------------------------------------------------------------------- JSON values
def to_json_value(value: Any) -> Any:
    """`value` as plain JSON: numpy/pandas scalars to Python, dates to ISO strings, NaN to None.

    Dicts (string keys) and lists/tuples are converted recursively; anything else raises
    TypeError (a DataFrame or Series belongs in `record_table`).
    """
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
        if value is None or isinstance(value, bool | str):
            return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float | decimal.Decimal) or (isinstance(value, Number) and not isinstance(value, complex)):
        number = float(value)
        if not math.isfinite(number):
            return None
        return float(f"{number:.{FLOAT_DIGITS}g}")
    if isinstance(value, dt.datetime):  # also pandas Timestamp
        stamp = value.to_pydatetime() if isinstance(value, pd.Timestamp) else value
        if stamp.time() == dt.time(0) and stamp.tzinfo is None:
            return stamp.date().isoformat()
        return stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, pd.DataFrame | pd.Series | np.ndarray):
        raise TypeError(f"cannot record a {type(value).__name__} as a value: use record_table() for tables")
    raise TypeError(f"cannot record a {type(value).__name__} ({value!r}): give a number, string, date, list or dict")


# ----------------------------------------------------------------------------- where to write
def _output_dir(output_dir: str | os.PathLike | None) -> Path:
    """The folder results are written to (created); none given is an error, never a guess."""
    if not output_dir:
        raise RuntimeError(
            "record(): no output_dir: record through the notebook's session (run = outcomes.notebook.start(...); "
            "run.record(...)), or pass output_dir=..."
        )
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sidecar_path(output_dir: str | os.PathLike | None = None, notebook: str | None = None) -> Path:
    """`<output_dir>/<notebook>.results.json`; the notebook name defaults to the folder's name (the
    runner gives each notebook its own output_dir named after it)."""
    folder = _output_dir(output_dir)
    name = notebook or folder.resolve().name
    return folder / f"{name}{SIDECAR_SUFFIX}"


def read_sidecar(path: str | os.PathLike) -> dict[str, dict]:
    """The entries of a sidecar, by result name, in the order they were first recorded."""
    path = Path(path)
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _family(entry: dict) -> str:
    """What an entry is for its name's sake: a "table", a "figure" or a "result" (any other kind)."""
    return entry["kind"] if entry.get("kind") in ("table", "figure") else "result"


def _write_entry(name: str, entry: dict, output_dir, notebook: str | None) -> dict:
    path = sidecar_path(output_dir, notebook)
    entries = read_sidecar(path)
    earlier = entries.get(name)
    if earlier is not None and _family(earlier) != _family(entry):  # one would silently replace the other
        raise ValueError(f"{path.name}: {name!r} is already recorded as a {_family(earlier)}; a {_family(entry)} "
                         f"of the same name would replace it: give the {_family(entry)} a name of its own "
                         f"(e.g. {name + '_' + _family(entry)!r})")
    entries[name] = entry  # a re-run of the cell replaces its entry in place
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(entries, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return entry


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"result name {name!r}: use letters, digits, '_', '.', '-' (a stable key)")


# ----------------------------------------------------------------------------- disclosure control
def _disclosure():
    from outcomes import disclosure

    return disclosure


def _round_signed(value, disclosure):
    """A count (or a difference of counts) rounded/redacted; the sign is kept."""
    if isinstance(value, list):
        return [_round_signed(v, disclosure) for v in value]
    if isinstance(value, dict):
        return {k: _round_signed(v, disclosure) for k, v in value.items()}
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    rounded = disclosure.round_count(abs(value))
    return rounded if (value >= 0 or isinstance(rounded, str)) else -rounded


def record(
    name: str,
    value: Any,
    *,
    output_dir: str | os.PathLike | None = None,
    kind: str = "estimate",
    unit: str | None = None,
    ci: Sequence[float] | None = None,
    definition: str | None = None,
    published: float | Mapping | None = None,
    baseline: Any = None,
    latest: Any = None,
    label: str | None = None,
    headline: bool = False,
    counts: Mapping[str, float] | None = None,
    notebook: str | None = None,
    sentence: str | None = None,
    evidence: str | None = None,
) -> None:
    """Record one result in the notebook's sidecar (replacing an earlier one of the same name).

    `value` is the number (or string, date, list, dict) reported. For a headline measure, `value` is
    the change, `ci` its (lower, upper) interval, `baseline` and `latest` the levels before and now,
    `published` the published figure it should agree with (a number or
    `{"value": ..., "source": ...}`), `label` the words shown in the table and `headline=True`.
    `counts` ({count name: count}) are the counts the result is built on: they are stored rounded,
    and if any is small the result is redacted (its `sentence` too). `sentence` says the result in
    one plain sentence a board member reads, with its interval and the period it refers to
    (`outcomes.its.effect_sentence`, `outcomes.programme.change_sentence`). `evidence` grades the
    result against its `published` claim in words (`outcomes.programme.evidence`: "confirmed",
    "consistent, not confirmed", ...), shown beside the published figure. Returns None (so a cell ending in `record(...)`
    shows nothing); read the stored entry back with `read_sidecar(sidecar_path(output_dir))`.
    """
    _check_name(name)
    if kind not in KINDS:
        raise ValueError(f"record({name!r}): kind {kind!r} is not one of {', '.join(KINDS)}")
    if ci is not None:
        ci = list(ci)
        if len(ci) != 2:
            raise ValueError(f"record({name!r}): ci must be (lower, upper), got {ci!r}")
    if published is not None and not isinstance(published, Mapping):
        published = {"value": published, "source": None}
    elif published is not None:
        published = {"value": published.get("value"), "source": published.get("source"), **published}
    entry = {
        "kind": kind,
        "label": label,
        "value": to_json_value(value),
        "ci": to_json_value(ci),
        "unit": unit,
        "baseline": to_json_value(baseline),
        "latest": to_json_value(latest),
        "published": to_json_value(published),
        "definition": definition,
        "headline": bool(headline),
    }
    if sentence is not None:
        entry["sentence"] = str(sentence)
    if evidence is not None:
        entry["evidence"] = str(evidence)
    disclosure = _disclosure()
    statistic_fields = ("value", "ci", "baseline", "latest")
    if kind == "count" or disclosure.is_count_name(name):
        for key in statistic_fields:
            entry[key] = _round_signed(entry[key], disclosure)
        if entry["published"] is not None:
            entry["published"]["value"] = _round_signed(entry["published"]["value"], disclosure)
    elif isinstance(entry["value"], dict):
        entry["value"] = disclosure.redact_results(entry["value"])
    if counts:
        shown = {str(k): _round_signed(to_json_value(v), disclosure) for k, v in counts.items()}
        entry["counts"] = shown
        if any(v == disclosure.REDACTED for v in shown.values()):
            for key in statistic_fields:
                if entry[key] is not None:
                    entry[key] = disclosure.REDACTED
            if "sentence" in entry:  # it says the same numbers in words
                entry["sentence"] = disclosure.REDACTED
    _write_entry(name, entry, output_dir, notebook)


def record_table(
    name: str,
    frame,
    counts: Sequence | None = None,
    *,
    derived: Mapping | None = None,
    total_rows: Sequence = (),
    total_columns: Mapping | None = None,
    keep: Sequence | None = None,
    caption: str | None = None,
    output_dir: str | os.PathLike | None = None,
    notebook: str | None = None,
):
    """Disclosure-control a small table, write it as `<output_dir>/<name>.csv` and record it.

    `counts` names count columns beyond those the naming convention finds (`*_n`, `n_*`, ...);
    `derived`, `total_rows`, `total_columns` and `keep` are passed to
    `outcomes.disclosure.redact_table`. A non-default index is kept as leading column(s). Returns
    the controlled table: display that one in the notebook, not the original.
    """
    import pandas as pd

    _check_name(name)
    if len(frame) > MAX_TABLE_ROWS:
        raise ValueError(
            f"record_table({name!r}): {len(frame)} rows; tables in a report are summaries "
            f"(at most {MAX_TABLE_ROWS} rows), never row-level data"
        )
    disclosure = _disclosure()
    options = {"counts": counts, "derived": derived, "total_rows": total_rows, "total_columns": total_columns}
    if keep is not None:
        options["keep"] = keep
    safe = disclosure.redact_table(frame, **options)
    published = safe if isinstance(safe.index, pd.RangeIndex) else safe.reset_index()
    published.columns = [str(c) for c in published.columns]
    folder = _output_dir(output_dir)
    published.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    entry = {
        "kind": "table",
        "file": f"{name}.csv",
        "caption": caption,
        "columns": list(published.columns),
        "rows": [to_json_value(row) for row in published.to_dict("records")],
        "disclosure": to_json_value(safe.attrs.get("disclosure")),  # what was suppressed, for the output check
    }
    _write_entry(name, entry, folder, notebook)
    return safe


def record_figure(
    name: str,
    fig=None,
    *,
    caption: str | None = None,
    key: bool | str = False,
    alt: str | None = None,
    output_dir: str | os.PathLike | None = None,
    notebook: str | None = None,
    dpi: int = 150,
) -> Path:
    """Save a matplotlib figure (default: the current one) as `<output_dir>/<name>.png` (`dpi` pixels
    per inch, cropped to its tight box) and record it. In a notebook drawing inline, the saved PNG
    is shown in the cell and the figure closed (`outcomes.figures.png`: drawn once, not four times).

    `key=True` puts it among the index page's key figures, with `caption` under it and `alt` as
    its text alternative; `key="methods"` in the index's methods-validation section instead. Text a reader could not see whole (cut off at the edge, or a legend under
    another axes' grid: `outcomes.figures.plots.unreadable_text`) is warned about and listed in the entry
    as `unreadable`. Figures must be drawn from disclosure-controlled numbers: the checker
    cannot read pixels. Returns the PNG's path.
    """
    _check_name(name)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.gcf()
    folder = _output_dir(output_dir)
    path = folder / f"{name}.png"
    from outcomes.figures.png import save_png, show_saved

    saved = save_png(fig, path, dpi=dpi)  # drawn once: the PNG and its text checks
    entry = {"kind": "figure", "file": path.name, "caption": caption, "alt": alt or caption,
             "key": key if key == "methods" else bool(key)}
    unreadable = saved.unreadable
    if unreadable:  # kept with the entry (the report's tests read it) and said where the notebook runs
        import warnings

        entry["unreadable"] = unreadable
        warnings.warn(f"figure {name!r}: " + "; ".join(unreadable), stacklevel=2)
    _write_entry(name, entry, folder, notebook)
    show_saved(fig, saved)  # in a notebook drawing inline: the PNG is shown and the figure closed
    return path


def record_not_estimable(
    name: str,
    reason: str,
    *,
    what: str,
    headline: bool = False,
    output_dir: str | os.PathLike | None = None,
    notebook: str | None = None,
) -> str:
    """Record that analysis `name` (`what`, in words: "PICU length of stay by period") could not be
    estimated on these data, and why (`reason`, e.g. the `outcomes.errors.NotEstimable` raised).
    The reason is published: it must state no small count (say "fewer than 8 stays", not "3
    stays"). Returns the sentence shown in the report: "<what>: not estimable: <reason>"."""
    _check_name(name)
    reason = str(reason).strip().rstrip(".")
    sentence = f"{what}: not estimable: {reason}"
    entry = {"kind": NOT_ESTIMABLE, "label": what, "value": None, "reason": reason, "sentence": sentence,
             "headline": bool(headline)}
    _write_entry(name, entry, output_dir, notebook)
    return sentence


def not_estimable_sentences(entries: Mapping[str, dict]) -> list[str]:
    """The "not estimable" sentences among one notebook's recorded entries, in recording order."""
    return [entry["sentence"] for entry in entries.values()
            if isinstance(entry, dict) and entry.get("kind") == NOT_ESTIMABLE]
