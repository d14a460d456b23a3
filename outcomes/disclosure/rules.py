"""Statistical disclosure control (SDC) for anything published, and a checker for output folders.

The rule (design.md), with OpenSAFELY's thresholds as the default, the strictest NHS analysts use:
"redact <= 7, round to nearest 5". A count of 1 to ``redact_at_or_below`` (7) is replaced by
:data:`REDACTED`; every other count is rounded to the nearest multiple of ``rounding_base`` (5),
halves up (integer counts never tie when the base is 5); **0 stays 0** (a true zero is shown,
as in OpenSAFELY outputs). A count is also redacted if rounding would bring it into 1..7 (only
possible with other thresholds or fractional counts). Rates, percentages and other statistics
built on a redacted count are redacted with it. Totals are recomputed from the rounded cells as
shown, redacted cells counting 0, so a total never gives a redacted cell away by subtraction.
Derived values are only redacted, never recomputed: compute shares from rounded counts if they
must agree with the table.

Against NHS England's and OpenSAFELY's rules
--------------------------------------------
NHS England's MHSDS publications suppress counts under 5, round other counts to the nearest 5,
and suppress rates and percentages whose numerator or denominator is small. OpenSAFELY redacts
counts of 7 or fewer and rounds the rest to the nearest 5, and its output checkers look for cells
recoverable from totals. The default here is OpenSAFELY's (stricter than MHSDS on 5-7), with the
MHSDS rule for rates (redacted with any count they rest on), and three additions for breakdowns:

* tables published with their *true* totals get secondary suppression, so that no suppressed cell
  is recoverable by subtraction (:mod:`outcomes.disclosure.margins`);
* model tables (Cox, PH test, group rate ratios) are published only for groups with at least 8
  people and 8 events, other rows withheld with the reason (:mod:`outcomes.disclosure.models`);
  Kaplan-Meier curves stop where fewer than 8 are at risk (``LengthOfStay.plot(min_at_risk=8)``);
* every report carries an output-checking summary, one row per file: its kind, smallest non-zero
  count, whether every count is rounded, what was suppressed and why
  (:mod:`outcomes.disclosure.summary`, ``output_check.html``), as OpenSAFELY's Airlock asks.

The naming convention (one place; notebooks, results dictionaries and the checker agree)
---------------------------------------------------------------------------------------
A column, key or table header names a *count* if, lower-cased with every run of characters other
than letters and digits turned into ``_`` (so "Events (n)" -> ``events_n``, "n (%)" -> ``n``):

* it is one of :data:`COUNT_NAMES`: ``n``, ``count``, ``counts``, ``numerator``,
  ``denominator``, ``events``; or
* it ends in one of :data:`COUNT_SUFFIXES`: ``_n``, ``_count``, ``_counts``, ``_numerator``,
  ``_denominator``, ``_events`` (``people_n``, ``admissions_count``, ``sex_n`` from "sex, n (%)");
  or
* it starts with one of :data:`COUNT_PREFIXES`: ``n_``, ``number_of_`` (``n_people``,
  "Number of people").

See :func:`is_count_name`. Name counts this way in every table and results dict; name anything
that is *not* a count otherwise (``bootstrap_resamples``, not ``n_bootstrap``).

What is "derived" (redacted with its counts)
-------------------------------------------
In a table row, or a results dict, every numeric value that is not a count and not listed in
``keep`` is taken to be built on *all* the counts beside it, unless ``derived`` says on which
(``derived={"pct": ["admissions_n"]}``). Strict on purpose: a mean, a CI limit or a P value
from 3 people gives them away as surely as the 3. Strings and booleans (labels) are never touched.
In a results dict, a non-count entry whose value is itself a dict or list is redacted whole.

The checker: what it can and cannot see
---------------------------------------
:func:`check_output_folder` walks a finished output folder and reports:

* ``small_count``: a number in 1..7 where the convention marks a count: in HTML ``<table>`` cells
  whose column header (any header row; colspan/rowspan honoured) or row label (an index ``<th>``)
  is a count name; in CSV/TSV columns whose header is a count name, or rows whose first cell is;
  in JSON values under count keys (every number below such a key), and in HTML tables held in JSON
  strings (notebook ``text/html`` outputs; plain-text DataFrame reprs are not read as tables).
  The number read is a cell's *leading* number, so tableone-style "3 (2.1%)" is read as 3;
  markers such as "[REDACTED]" or "<8" are not numbers.
* ``unrounded_count``: such a count above the threshold that is not a multiple of 5.
* ``person_id``: any identifier from ``person_ids`` anywhere in the text of HTML, CSV, TSV, JSON,
  ipynb, TXT, MD, SVG, TEX files and in file names, as a whole token (not inside a longer
  alphanumeric string); embedded base64 images are skipped so their bytes cannot match by chance.
* ``credential``: a URL carrying a password or a secret parameter (``postgresql://user:PW@...``,
  ``?password=``, ``;token=``) in the same files (``outcomes.credentials.find_secrets``); the
  finding shows the URL masked, never the secret.

It cannot see: numbers drawn inside images (PNG/JPG pixels; SVG text is searched for identifiers
only), so KM curves and their at-risk tables must be made from disclosure-controlled counts
(``plot(count_formatter=format_count)``); counts in columns or keys not named by the convention (it
cannot tell a count from a measurement in an unlabelled column); counts in running prose ("3
patients..."); JSON tables laid out by position (pandas ``orient="split"``/``"values"``; use
``"records"``); counts recoverable by differencing across tables or reports; identifiers other
than those given (it does not recognise NHS numbers or dates of birth by shape), and short
numeric identifiers collide with ordinary numbers (false alarms). Files of other types (PDF,
XLSX, parquet, images) are listed in ``not_scanned``, not read.

Example
-------
>>> import pandas as pd
>>> table = pd.DataFrame({"provider": ["RPG", "RV5", "RQY", "Total"],
...                       "admissions_n": [3, 12, 48, 63], "pct": [4.8, 19.0, 76.2, 100.0]})
>>> redact_table(table, total_rows=[3], derived={"pct": ["admissions_n"]}).to_dict("list")
... # doctest: +NORMALIZE_WHITESPACE
{'provider': ['RPG', 'RV5', 'RQY', 'Total'], 'admissions_n': ['[REDACTED]', 10, 50, 60],
 'pct': ['[REDACTED]', 19.0, 76.2, 100.0]}
>>> redact_results({"dbt": {"before_n": 24, "after_n": 1, "rate_ratio": 0.04}})
{'dbt': {'before_n': 25, 'after_n': '[REDACTED]', 'rate_ratio': '[REDACTED]'}}
>>> round_count(12), round_count(13), round_count(7), round_count(0)
(10, 15, '[REDACTED]', 0)
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from numbers import Number
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.credentials import find_secrets

__all__ = [
    "plottable_counts",
    "REDACT_AT_OR_BELOW",
    "ROUNDING_BASE",
    "REDACTED",
    "COUNT_NAMES",
    "COUNT_SUFFIXES",
    "COUNT_PREFIXES",
    "DEFAULT_KEEP",
    "is_count_name",
    "round_count",
    "format_count",
    "redact_table",
    "redact_results",
    "OutputFinding",
    "OutputCheck",
    "DisclosureError",
    "check_output_folder",
    "FolderChecker",
    "redact_derived_columns",
    "counts_in_file",
    "assert_output_folder_clean",
    "main",
]

REDACT_AT_OR_BELOW = 7  #: counts 1..7 are redacted (OpenSAFELY)
ROUNDING_BASE = 5  #: other counts are rounded to the nearest 5 (OpenSAFELY)
REDACTED = "[REDACTED]"  #: what a redacted value becomes

COUNT_NAMES = frozenset({"n", "count", "counts", "numerator", "denominator", "events"})
COUNT_SUFFIXES = ("_n", "_count", "_counts", "_numerator", "_denominator", "_events")
COUNT_PREFIXES = ("n_", "number_of_")
#: results-dict keys and table columns that are parameters, not statistics: never redacted
DEFAULT_KEEP = frozenset(
    {"confidence_level", "horizon_days", "window_days", "time_ratio", "seed", "bootstrap_resamples"}
)

TEXT_SUFFIXES = {".txt", ".md", ".svg", ".tex", ".log", ".xml"}
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".ipynb"}


def _normalise(name: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")


def is_count_name(name: object) -> bool:
    """True if a column/key/header name marks a count under the module's naming convention."""
    key = _normalise(name)
    return (
        key in COUNT_NAMES
        or key.endswith(COUNT_SUFFIXES)
        or key.startswith(COUNT_PREFIXES)
    )


def _is_number(x: object) -> bool:
    return isinstance(x, Number | np.number) and not isinstance(x, bool | np.bool_)


def _is_missing(x: object) -> bool:
    return x is None or (_is_number(x) and math.isnan(float(x)))


def round_count(
    x: float,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
):
    """One count (people, events, days): 0 -> 0; 1..``redact_at_or_below`` -> ``marker``; else the
    nearest multiple of ``rounding_base`` (halves up), as an int. Missing values pass through."""
    if _is_missing(x) or x is marker or isinstance(x, str):
        return x
    value = float(x)
    if value < 0:
        raise ValueError(f"a count cannot be negative: {x}")
    if value == 0:
        return 0
    rounded = int(rounding_base * math.floor(value / rounding_base + 0.5)) if rounding_base > 1 else value
    if value <= redact_at_or_below or 0 < rounded <= redact_at_or_below:
        return marker
    return rounded


def plottable_counts(counts: pd.Series, **thresholds) -> pd.Series:
    """A pandas Series of counts made safe to draw: rounded to 5, with small (redacted) ones as
    missing (a gap in the line).

    Figures pass the same disclosure control as tables (design.md), and the checker cannot read
    pixels, so a series of counts is controlled before it is plotted. `thresholds` go to
    `round_count`.
    """
    safe = counts.map(lambda n: round_count(n, **thresholds) if pd.notna(n) else n)
    return pd.to_numeric(safe, errors="coerce")


def format_count(x: float, redact_at_or_below: int = REDACT_AT_OR_BELOW,
                 rounding_base: int = ROUNDING_BASE, marker: str = "<8") -> str:
    """A count as text for figures (e.g. KM at-risk tables): rounded, or ``marker`` if small."""
    return str(round_count(x, redact_at_or_below, rounding_base, marker))


def _is_marker(value: object, marker: object) -> bool:
    return value is marker or (isinstance(marker, str) and isinstance(value, str) and value == marker)


def _count_columns(columns: Iterable, counts: Iterable | None) -> list:
    extra = set(counts or ())
    return [c for c in columns if c in extra or is_count_name(c)]


def redact_derived_columns(source: pd.DataFrame, out: pd.DataFrame, hidden: pd.DataFrame, count_cols: Sequence,
                           *, keep: Iterable = (), derived: Mapping | None = None, marker: str = REDACTED) -> int:
    """In ``out`` (a copy of ``source`` being made safe), replace with ``marker`` every cell of a
    numeric, non-boolean, non-count column of ``source`` not in ``keep`` on the rows where a count
    it is built on is hidden (``hidden``: a boolean frame over the count columns; ``derived``:
    {column: [count columns it is built on]}, default every count column). Returns the number of
    cells replaced. Shared by :func:`redact_table` and ``margins.protect_margins``."""
    keep, derived = set(keep), dict(derived or {})
    replaced = 0
    for col in source.columns:
        if col in count_cols or col in keep or not pd.api.types.is_numeric_dtype(source[col]):
            continue
        if pd.api.types.is_bool_dtype(source[col]):
            continue
        deps = [c for c in derived.get(col, count_cols) if c in hidden.columns]
        if not deps:
            continue
        hit = hidden[deps].any(axis=1)
        if hit.any():
            out[col] = out[col].astype(object).where(~hit, marker)
            replaced += int(hit.sum())
    return replaced


def redact_table(
    df: pd.DataFrame,
    counts: Sequence | None = None,
    derived: Mapping[object, Sequence] | None = None,
    keep: Iterable = DEFAULT_KEEP,
    total_rows: Sequence = (),
    total_columns: Mapping[object, Sequence] | None = None,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
) -> pd.DataFrame:
    """A disclosure-controlled copy of a table.

    ``counts``: count columns in addition to those the naming convention finds. ``derived``:
    {column: [count columns it is built on]}; other numeric non-count columns not in ``keep`` are
    taken to be built on every count in their row. ``total_rows``: index labels of total rows,
    recomputed per count column as the sum of the other rows' rounded cells (redacted = 0).
    ``total_columns``: {total column: [part columns]}, recomputed the same way along each row.
    """
    out = df.copy()
    total_columns = dict(total_columns or {})
    named = list(counts or ()) + list(total_columns) + [c for parts in total_columns.values() for c in parts]
    count_cols = _count_columns(df.columns, named)
    derived = dict(derived or {})
    keep = set(keep)
    total_rows = list(total_rows)
    missing = [label for label in total_rows if label not in out.index]
    if missing:
        raise KeyError(f"total rows not in the index: {missing}")
    body = ~out.index.isin(total_rows)

    redacted = pd.DataFrame(False, index=out.index, columns=count_cols)
    shown = pd.DataFrame(0.0, index=out.index, columns=count_cols)  # rounded values; redacted = 0
    for col in count_cols:
        values = out[col].map(lambda v: round_count(v, redact_at_or_below, rounding_base, marker))
        redacted[col] = values.map(lambda v: _is_marker(v, marker))
        shown[col] = values.map(lambda v: float(v) if _is_number(v) and not _is_missing(v) else 0.0)
        out[col] = values
    for total, parts in total_columns.items():
        shown.loc[body, total] = shown.loc[body, list(parts)].sum(axis=1)
        redacted.loc[body, total] = False
        out[total] = out[total].astype(object)
        out.loc[body, total] = [int(v) for v in shown.loc[body, total]]
    for col in count_cols:
        for label in total_rows:
            if out[col].dtype != object:
                out[col] = out[col].astype(object)
            out.at[label, col] = int(shown.loc[body, col].sum())
            redacted.at[label, col] = False

    derived_hits = redact_derived_columns(df, out, redacted, count_cols, keep=keep, derived=derived, marker=marker)
    earlier = dict(df.attrs.get("disclosure", {}))  # e.g. from protect_margins or gate_model_table
    out.attrs["disclosure"] = {
        **earlier,
        "count_cells_redacted": int(redacted.to_numpy().sum()),
        "derived_cells_redacted": earlier.get("derived_cells_redacted", 0) + derived_hits,
    }
    return out


def redact_results(
    results,
    counts: Iterable | None = None,
    derived: Mapping[str, Sequence[str]] | None = None,
    keep: Iterable = DEFAULT_KEEP,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    marker: object = REDACTED,
):
    """A disclosure-controlled copy of a (nested) results dict, as notebooks record.

    Each dict is a unit: counts (keys named by the convention, or listed in ``counts``; every
    number below such a key) are rounded or redacted; if any count in the dict is redacted, its
    other numeric entries and containers are redacted too, except keys in ``keep`` and keys whose
    ``derived`` list ({key: [sibling count keys]}) names no redacted count. Lists are walked.
    """
    extra = set(counts or ())
    derived = dict(derived or {})
    keep = set(keep)

    def is_count(key) -> bool:
        return key in extra or is_count_name(key)

    def all_counts(node):
        """Round every number below a count key; return (new node, any redacted)."""
        if isinstance(node, Mapping):
            pairs = {k: all_counts(v) for k, v in node.items()}
            return {k: v for k, (v, _) in pairs.items()}, any(r for _, r in pairs.values())
        if isinstance(node, list | tuple):
            pairs = [all_counts(v) for v in node]
            return [v for v, _ in pairs], any(r for _, r in pairs)
        if _is_number(node):
            value = round_count(node, redact_at_or_below, rounding_base, marker)
            return value, _is_marker(value, marker)
        if _is_marker(node, marker):
            return node, True
        return node, False

    def walk(node):
        if isinstance(node, list | tuple):
            return [walk(v) for v in node]
        if not isinstance(node, Mapping):
            return node
        out, redacted = {}, {}
        for key, value in node.items():
            if is_count(key) and key not in keep:
                out[key], redacted[key] = all_counts(value)
        for key, value in node.items():
            if key in out:
                continue
            deps = derived.get(key, list(redacted))
            statistic = _is_number(value) or isinstance(value, Mapping | list | tuple)
            if key not in keep and statistic and any(redacted.get(d, False) for d in deps):
                out[key] = marker
            else:
                out[key] = walk(value)
        return {key: out[key] for key in node}  # keep the caller's key order

    return walk(results)


# ----------------------------------------------------------------------------- the checker
@dataclass(frozen=True)
class OutputFinding:
    """One possible disclosure in an output file."""

    path: str  #: file, relative to the folder checked
    kind: str  #: "small_count", "unrounded_count", "person_id" or "credential"
    where: str  #: table/row/column, JSON path or line
    value: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind} {self.value!r} at {self.where}"


@dataclass
class OutputCheck:
    """What :func:`check_output_folder` found, read and could not read."""

    folder: Path
    findings: list[OutputFinding] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    not_scanned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([vars(f) for f in self.findings], columns=["path", "kind", "where", "value"])


class DisclosureError(AssertionError):
    """An output folder holds something that must not be published."""


_LEADING_NUMBER = re.compile(r"^\s*\+?(\d[\d,]*(?:\.\d+)?)(?![\d/:-])")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")


def _leading_number(text: str) -> float | None:
    match = _LEADING_NUMBER.match(str(text).replace("\u2009", "").replace("\xa0", ""))
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", ""))
    except ValueError:
        return None


class _Rules:
    def __init__(self, redact_at_or_below: int, rounding_base: int, check_rounding: bool):
        self.threshold, self.base, self.check_rounding = redact_at_or_below, rounding_base, check_rounding
        self.seen: list[float] = []  #: every count judged, for the output-checking summary

    def judge(self, value: float) -> str | None:
        self.seen.append(value)
        if value <= 0 or math.isnan(value):
            return None
        if value <= self.threshold:
            return "small_count"
        if self.check_rounding and self.base > 1 and not math.isclose(value % self.base, 0, abs_tol=1e-9):
            return "unrounded_count"
        return None


class _IdScanner:
    """Finds whole-token occurrences of any identifier in text."""

    def __init__(self, person_ids: Iterable):
        ids = {str(i).strip() for i in person_ids if i is not None and not (isinstance(i, float | np.floating) and math.isnan(i))}
        ids.discard("")
        self.ids = ids
        # one match over all of them (a quarter of a million ids: 0.05 s rather than 0.5 s one by one)
        self.simple = re.fullmatch(r"[A-Za-z0-9\n]*", "\n".join(ids)) is not None
        if ids and not self.simple:
            alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
            self.pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")

    def find(self, text: str) -> list[tuple[int, str]]:
        """(line number, identifier) of each occurrence."""
        if not self.ids:
            return []
        text = _DATA_URI.sub(" ", text)
        hits = []
        if self.simple:
            matches = ((m.start(), m.group()) for m in re.finditer(r"[A-Za-z0-9]+", text) if m.group() in self.ids)
        else:
            matches = ((m.start(), m.group()) for m in self.pattern.finditer(text))
        for start, token in matches:
            hits.append((text.count("\n", 0, start) + 1, token))
        return hits


class _TableParser(HTMLParser):
    """Collects every <table> as rows of cells: (text, is_th, in_thead, colspan, rowspan)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[tuple]]] = []
        self._stack: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._stack.append({"rows": [], "thead": False, "cell": None})
        elif not self._stack:
            return
        state = self._stack[-1]
        if tag == "thead":
            state["thead"] = True
        elif tag == "tr":
            state["rows"].append([])
        elif tag in ("td", "th"):
            if not state["rows"]:
                state["rows"].append([])
            span = lambda k: int(attrs.get(k) or 1) if str(attrs.get(k) or 1).isdigit() else 1  # noqa: E731
            state["cell"] = {"text": [], "th": tag == "th", "thead": state["thead"],
                             "colspan": span("colspan"), "rowspan": span("rowspan")}
        elif tag == "br" and state["cell"] is not None:
            state["cell"]["text"].append(" ")

    def handle_endtag(self, tag):
        if not self._stack:
            return
        state = self._stack[-1]
        if tag in ("td", "th") and state["cell"] is not None:
            cell = state["cell"]
            state["rows"][-1].append(("".join(cell["text"]).strip(), cell["th"], cell["thead"],
                                      cell["colspan"], cell["rowspan"]))
            state["cell"] = None
        elif tag == "thead":
            state["thead"] = False
        elif tag == "table":
            self.tables.append(self._stack.pop()["rows"])

    def handle_data(self, data):
        if self._stack and self._stack[-1]["cell"] is not None:
            self._stack[-1]["cell"]["text"].append(data)


def _grid(rows: list[list[tuple]]) -> list[list[tuple]]:
    """Lay cells on a grid, repeating colspan/rowspan cells so that columns line up."""
    empty = ("", False, False, 1, 1)
    grid, pending = [], {}  # pending: column -> (rows still to fill, cell)
    for row in rows:
        line = {}
        for col, (left, cell) in list(pending.items()):
            line[col] = cell
            if left == 1:
                del pending[col]
            else:
                pending[col] = (left - 1, cell)
        col = 0
        for cell in row:
            while col in line:
                col += 1
            for _ in range(cell[3]):
                line[col] = cell
                if cell[4] > 1:
                    pending[col] = (cell[4] - 1, cell)
                col += 1
        width = max(line) + 1 if line else 0
        grid.append([line.get(j, empty) for j in range(width)])
    return grid


def _check_html_tables(text: str, rel: str, rules: _Rules, where_prefix: str = "") -> list[OutputFinding]:
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    findings = []
    for t, rows in enumerate(parser.tables, start=1):
        grid = _grid(rows)
        header_count = 0
        for line in grid:  # header rows: in <thead>, else the leading all-<th> rows
            if line and (all(c[2] for c in line) or all(c[1] for c in line)):
                header_count += 1
            else:
                break
        headers, body = grid[:header_count], grid[header_count:]
        width = max((len(line) for line in grid), default=0)
        labels = {j: [h[j][0] for h in headers if j < len(h) and h[j][0]] for j in range(width)}
        count_cols = {j for j, names in labels.items() if any(is_count_name(n) for n in names)}
        for i, line in enumerate(body, start=1):
            row_is_count = any(c[1] and is_count_name(c[0]) for c in line)
            for j, cell in enumerate(line):
                if not (j in count_cols or (row_is_count and not cell[1])):
                    continue
                value = _leading_number(cell[0])
                kind = None if value is None else rules.judge(value)
                if kind:
                    column = "/".join(labels.get(j, [])) or str(j)
                    findings.append(OutputFinding(rel, kind, f"{where_prefix}table {t}, body row {i}, column {column!r}",
                                            cell[0]))
    return findings


def _check_delimited(text: str, rel: str, rules: _Rules, delimiter: str) -> list[OutputFinding]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return []
    header, findings = rows[0], []
    count_cols = {j for j, name in enumerate(header) if is_count_name(name)}
    for i, row in enumerate(rows[1:], start=2):
        row_is_count = bool(row) and is_count_name(row[0]) and _leading_number(row[0]) is None
        for j, cell in enumerate(row):
            if j in count_cols or (row_is_count and j > 0):
                value = _leading_number(cell)
                kind = None if value is None else rules.judge(value)
                if kind:
                    column = header[j] if j < len(header) else str(j)
                    findings.append(OutputFinding(rel, kind, f"line {i}, column {column!r}", cell))
    return findings


#: keys of nbformat's own structure that look like counts but number cells, not people
NOTEBOOK_STRUCTURE_KEYS = frozenset({"execution_count"})


def _check_json(node, rel: str, rules: _Rules, path: str = "$", under_count: bool = False) -> list[OutputFinding]:
    findings = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            if str(key).startswith("image/"):
                continue  # base64 image data in notebooks
            if rel.endswith(".ipynb") and key in NOTEBOOK_STRUCTURE_KEYS:
                continue
            child = f"{path}.{key}"
            if key == "text/html":
                text = "".join(value) if isinstance(value, list) else str(value)
                findings += _check_html_tables(text, rel, rules, where_prefix=f"{child}: ")
                continue
            findings += _check_json(value, rel, rules, child, under_count or is_count_name(key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            findings += _check_json(value, rel, rules, f"{path}[{k}]", under_count)
    elif under_count and _is_number(node):
        kind = rules.judge(float(node))
        if kind:
            findings.append(OutputFinding(rel, kind, path, str(node)))
    elif isinstance(node, str) and "<table" in node:
        findings += _check_html_tables(node, rel, rules, where_prefix=f"{path}: ")
    return findings


def _json_text(node) -> str:
    """Keys and values of a JSON document as text, without base64 images."""
    if isinstance(node, Mapping):
        return "\n".join(f"{k}\n{_json_text(v)}" for k, v in node.items() if not str(k).startswith("image/"))
    if isinstance(node, list):
        return "\n".join(_json_text(v) for v in node)
    return "" if node is None else str(node)


def _check_file_counts(text: str, rel: str, suffix: str, rules: _Rules) -> tuple[list[OutputFinding], str]:
    """Count findings in one file's text, and the text to search for identifiers."""
    if suffix in HTML_SUFFIXES:
        return _check_html_tables(text, rel, rules), text + "\n" + html.unescape(text)
    if suffix in TABLE_SUFFIXES:
        return _check_delimited(text, rel, rules, TABLE_SUFFIXES[suffix]), text
    if suffix in JSON_SUFFIXES:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return [], text
        return _check_json(document, rel, rules), _json_text(document)
    return [], text


def counts_in_file(
    path: str | Path,
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
) -> tuple[list[float], list[OutputFinding]]:
    """Every number the checker reads as a count in one file (HTML/CSV/TSV/JSON/ipynb), and its
    count findings; ([], []) for other file types. Used by the output-checking summary."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in HTML_SUFFIXES | JSON_SUFFIXES | set(TABLE_SUFFIXES):
        return [], []
    rules = _Rules(redact_at_or_below, rounding_base, check_rounding=True)
    findings, _ = _check_file_counts(file.read_text(encoding="utf-8", errors="replace"), file.name, suffix, rules)
    return rules.seen, findings


class FolderChecker:
    """:func:`check_output_folder` in parts: files checked as they are finished (`check`, from any
    thread: the report checks each notebook's files as its worker renders it, while other notebooks
    run), then `finish` checks every file not checked yet, or changed since (by size and
    modification time), and returns the whole folder's report, in file order."""

    def __init__(self, path: str | Path, person_ids: Iterable = (), redact_at_or_below: int = REDACT_AT_OR_BELOW,
                 rounding_base: int = ROUNDING_BASE, check_rounding: bool = True):
        self.folder = Path(path)
        self.rules = _Rules(redact_at_or_below, rounding_base, check_rounding)
        self.ids = _IdScanner(person_ids)
        self._checked: dict[str, tuple[tuple[int, int], list[OutputFinding], bool]] = {}
        self._lock = threading.Lock()

    def check(self, files: Iterable[str | Path]) -> None:
        """Check these files of the folder (directories and missing files are skipped)."""
        for file in files:
            file = Path(file)
            if file.is_file():
                self._check_file(file)

    def _check_file(self, file: Path) -> None:
        rel = file.relative_to(self.folder).as_posix()
        stat = file.stat()
        findings = [OutputFinding(rel, "person_id", "file name", token) for _, token in self.ids.find(rel)]
        scanned = file.suffix.lower() in HTML_SUFFIXES | JSON_SUFFIXES | TEXT_SUFFIXES | set(TABLE_SUFFIXES)
        if scanned:
            text = file.read_text(encoding="utf-8", errors="replace")
            with self._lock:  # the rules keep what they have seen
                counts, searchable = _check_file_counts(text, rel, file.suffix.lower(), self.rules)
            findings += counts
            for secret in dict.fromkeys(find_secrets(searchable)):  # shown masked: never echo a secret
                findings.append(OutputFinding(rel, "credential", "a URL with a password or token", secret))
            seen = set()
            for line, token in self.ids.find(searchable):
                if token not in seen:  # one finding per identifier per file
                    seen.add(token)
                    findings.append(OutputFinding(rel, "person_id", f"line {line}", token))
        with self._lock:
            self._checked[rel] = ((stat.st_size, stat.st_mtime_ns), findings, scanned)

    def finish(self) -> OutputCheck:
        """Check what is left, and report on every file now in the folder."""
        report = OutputCheck(folder=self.folder)
        for file in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            rel = file.relative_to(self.folder).as_posix()
            stat = file.stat()
            if rel not in self._checked or self._checked[rel][0] != (stat.st_size, stat.st_mtime_ns):
                self._check_file(file)
            _, findings, scanned = self._checked[rel]
            report.findings += findings
            (report.scanned if scanned else report.not_scanned).append(rel)
        return report


def check_output_folder(
    path: str | Path,
    person_ids: Iterable = (),
    redact_at_or_below: int = REDACT_AT_OR_BELOW,
    rounding_base: int = ROUNDING_BASE,
    check_rounding: bool = True,
) -> OutputCheck:
    """Scan a finished output folder (recursively) for unredacted small counts, unrounded counts
    and any of ``person_ids``; see the module docstring for what it can and cannot see."""
    return FolderChecker(path, person_ids, redact_at_or_below, rounding_base, check_rounding).finish()


def assert_output_folder_clean(path: str | Path, person_ids: Iterable = (), **rules) -> OutputCheck:
    """:func:`check_output_folder`, raising :class:`DisclosureError` listing every finding."""
    report = check_output_folder(path, person_ids, **rules)
    if not report.ok:
        listing = "\n".join(f"  {f}" for f in report.findings)
        raise DisclosureError(f"{len(report.findings)} disclosure finding(s) in {report.folder}:\n{listing}")
    return report


def _read_ids(file: str, column: str) -> list[str]:
    path = Path(file)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path, columns=[column])[column].astype(str).tolist()
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, usecols=[column], dtype=str)[column].tolist()
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m outcomes.disclosure FOLDER [--person-ids FILE]``; exit 1 on findings."""
    parser = argparse.ArgumentParser(prog="outcomes.disclosure", description=main.__doc__)
    parser.add_argument("folder")
    parser.add_argument("--person-ids", help="file of identifiers: .csv/.parquet (see --id-column) or one per line")
    parser.add_argument("--id-column", default="Person_ID")
    parser.add_argument("--redact-at-or-below", type=int, default=REDACT_AT_OR_BELOW)
    parser.add_argument("--rounding-base", type=int, default=ROUNDING_BASE)
    parser.add_argument("--no-rounding-check", action="store_true")
    args = parser.parse_args(argv)
    ids = _read_ids(args.person_ids, args.id_column) if args.person_ids else []
    report = check_output_folder(args.folder, ids, args.redact_at_or_below, args.rounding_base,
                                 check_rounding=not args.no_rounding_check)
    for finding in report.findings:
        print(finding)
    if report.not_scanned:
        print(f"not scanned ({len(report.not_scanned)}): " + ", ".join(report.not_scanned), file=sys.stderr)
    print(f"{len(report.scanned)} file(s) scanned, {len(report.findings)} finding(s)", file=sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
