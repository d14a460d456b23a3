"""Tables as a reader sees them: the one formatter of every table a notebook page or the report
shows (the CSV and `results.json` keep the recorded values; this is presentation only).

`reader_table(frame)` returns a `ReaderTable` (shown as HTML in a notebook, as text in a console):

* headers in words, with units: a catalogue measure's title (monitoring.yaml), the statistics'
  names (`estimate` -> "Estimate", `p_value` -> "p-value", `events_n` -> "Events (n)",
  `median_days` -> "Median (days)", `gbp` -> "£"), never snake_case;
* an estimate and its interval in one column: `x`, `x_lower`, `x_upper` (also `lower`/`upper`,
  `ci_lower`/`ci_upper` after `estimate`, lifelines' `x lower 95%`) become "X (95% CI)" with
  cells "0.82 (0.60 to 1.11)";
* p-values as "<0.001" or 3 significant digits (never "0.0" or "4.9e-30"); booleans as "yes" /
  "no"; missing as "–"; whole numbers with thousands separators, other numbers to 3 significant
  digits (`format_number`: 1,234 / 31.2 / 0.242), a minus sign for negatives; dates as
  "1 Mar 2019"; a dict as "key value; key value" (never `{'baseline': 44363.0}` or
  `np.float64(...)`); text whole (wrapped by the page, never cut with "...");
* a default 0, 1, 2... index dropped, a named one kept as the first column;
* a wide table of few rows turned (`MAX_COLUMNS`): one column per row, so no column hides off
  the page at 1280 px or on A4 (the page's CSS wraps headers and text; the browser test measures
  every table of the report against its page).

`format_number` and `format_p` are the same numbers the index page shows (`outcomes.report.index`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import Any

__all__ = ["ReaderTable", "reader_table", "header", "format_cell", "format_number", "format_p", "MAX_COLUMNS",
           "MINUS", "DASH"]

MINUS = "\u2212"
DASH = "\u2013"  #: a missing value
#: a table with more columns than this and no more rows than columns is shown turned
MAX_COLUMNS = 8
#: p-values below this are shown as "<0.001"
P_FLOOR = 0.001

# ----------------------------------------------------------------------------- numbers


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def format_number(value: Any, unit: str | None = None, signed: bool = False) -> str:
    """A number as a person reads it: thousands separators, sensible decimals, '%' units attached
    (31.226 -> '31.2', 1234.5 -> '1,234', -0.2416 -> '−0.24', 0.6 -> '0.60', 0.000123 -> '0.00012')."""
    if value is None:
        return DASH
    if isinstance(value, str):
        return value
    if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return str(value)
    magnitude = abs(value)
    if isinstance(value, int) or (magnitude >= 100 and float(value).is_integer()):
        text = f"{magnitude:,.0f}"
    elif magnitude >= 100:
        text = f"{magnitude:,.0f}"
    elif magnitude >= 10:
        text = f"{magnitude:.1f}"
    elif magnitude >= 1:
        text = f"{magnitude:.2f}"
    elif magnitude == 0:
        text = "0"
    else:
        text = f"{magnitude:#.2g}"  # two significant digits, a trailing zero kept: 0.60 beside 1.11
        if "e" in text:  # below 0.0001: as a decimal, never 1.2e-05
            text = f"{magnitude:.{1 - math.floor(math.log10(magnitude))}f}"
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    suffix = "%" if unit in ("%", "percent", "per cent") else ""
    return f"{sign}{text}{suffix}"


def format_p(value: Any) -> str:
    """A p-value: '<0.001' below 0.001, else 3 significant digits ('0.0361', '0.306', '1.00')."""
    if not _is_number(value) or not math.isfinite(value):
        return format_cell(value)
    if value < P_FLOOR:
        return f"<{P_FLOOR:g}"
    digits = max(2 - math.floor(math.log10(value)), 0)
    return f"{value:.{digits}f}"


def _format_date(value: dt.date) -> str:
    if isinstance(value, dt.datetime) and value.time() != dt.time(0):
        return f"{value.day} {value:%b %Y %H:%M}"
    return f"{value.day} {value:%b %Y}"


def format_cell(value: Any, *, p_value: bool = False) -> str:
    """One cell in words (see the module docstring); `p_value` formats a number as a p-value."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and math.isnan(value):
        return DASH
    if _is_number(value):
        return format_p(value) if p_value else format_number(value)
    if isinstance(value, pd.Timestamp | dt.date):
        return _format_date(value)
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{str(k).replace('_', ' ')} {format_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(format_cell(v) for v in value)
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


# ----------------------------------------------------------------------------- headers
#: words of column names read as they are written for people
WORDS = {
    "ci": "CI", "imd": "IMD", "picu": "PICU", "cyp": "CYP", "its": "ITS", "los": "LOS", "rmst": "RMST", "se": "SE",
    "ods": "ODS", "ae": "A&E", "dbt": "DBT", "spa": "SPA", "sii": "SII", "rii": "RII", "acf": "ACF", "km": "km",
    "gbp": "£", "pct": "%", "nhs": "NHS", "mhsds": "MHSDS", "id": "ID", "ljung": "Ljung", "box": "Box",
    "durbin": "Durbin", "watson": "Watson", "cox": "Cox", "wilcoxon": "Wilcoxon", "mcnemar": "McNemar",
    "rho": "ρ (AR1)", "vs": "vs", "pre": "pre", "mh": "MH", "coef": "coefficient", "exp(coef)": "hazard ratio",
}
#: whole column names with a header of their own (units stated)
HEADERS = {
    "p": "p-value", "p_value": "p-value", "pvalue": "p-value", "p>|z|": "p-value", "n": "n",
    "z": "z", "coef": "Coefficient (log hazard ratio)", "exp(coef)": "Hazard ratio", "se(coef)": "SE (coefficient)",
    "cmp to": "Compared with", "-log2(p)": "−log2(p)", "test_statistic": "Test statistic",
    "horizon_days": "Horizon (days)", "median": "Median (days)", "rmst": "RMST (days)", "rmst_difference": "RMST difference (days)",
    "gbp": "Saving (£)", "gbp_per_day": "£ per bed day", "cost_per_bed_day": "Cost per bed day (£)",
    "gbp_low_unit_cost": "Saving at the low unit cost (£)", "gbp_high_unit_cost": "Saving at the high unit cost (£)",
    "low": "Low (£)", "high": "High (£)", "estimate": "Estimate", "index": "",
    "relative effect": "Relative effect", "rate_ratio": "Rate ratio", "mean_days": "Mean (days)", "median_km": "Median (km)",
    "within_tolerance": "Within tolerance", "planted_in_ci": "Planted value in the CI", "stay_months_n": "Stay-months (n)",
    "in_area_bed_days": "In-area bed days", "out_of_area_bed_days": "Out-of-area bed days",
    "Missing": "Missing", "Overall": "Overall", "acf_12": "ACF at lag 12", "ljung_box_12_p": "Ljung-Box p-value (12 lags)",
    "durbin_watson": "Durbin-Watson", "rho": "ρ (AR(1))", "weight": "Weight", "observed_count": "Observed (count)",
    "relative_reduction": "Relative reduction", "after_vs_pre_pre": "After vs the year before the baseline (rate ratio)",
    "share_of_fall_in_pre_pre": "Share of the fall already before the baseline", "wilcoxon_p": "Wilcoxon p-value",
    "mcnemar_p": "McNemar p-value", "placebo_p_value": "Placebo p-value", "rmst_difference_p": "RMST difference p-value",
}
#: suffixes that state a unit: name_suffix -> (words kept, unit)
UNIT_SUFFIXES = (("_days", "days"), ("_km", "km"), ("_pct", "%"), ("_gbp", "£"), ("_n", "n"), ("_count", "n"))


@lru_cache(maxsize=1)
def _measure_titles() -> dict[str, str]:
    from outcomes.measures.catalogue import monitoring

    return {name: entry["title"] for name, entry in monitoring().items()}


def _words(name: str) -> str:
    """snake_case as words, with the report's acronyms ("imd_quintile" -> "IMD quintile")."""
    words = [WORDS.get(word.lower(), word) for word in re.split(r"[_\s]+", name.strip()) if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text and not words[0][:1].isupper() else text


def header(name: Any, titles: Mapping[str, str] | None = None) -> str:
    """A column's header for people: `titles` (a table's own), a catalogue measure's title, the
    statistics' names (`HEADERS`), else its words with a unit from its suffix ("people_n" ->
    "People (n)", "mean_days" -> "Mean (days)")."""
    name = str(name)
    if titles and name in titles:
        return titles[name]
    if name in HEADERS:
        return HEADERS[name]
    measures = _measure_titles()
    if name in measures:
        return measures[name]
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return f"{measures.get(stem) or _words(stem)} ({unit})"
    if name.startswith("n_"):
        return f"{_words(name[2:])} (n)"
    return _words(name)


_TERM = re.compile(r"^(?P<name>\w+)\[T\.(?P<level>.+)\]$")  #: a model term: "age_band[T.13-15]"


def row_label(value: Any) -> str:
    """A row's name for people: a catalogue measure's title, an identifier in words
    ("level_change" -> "Level change"), a model term as its variable and level ("age_band[T.13-15]"
    -> "Age band: 13-15"), anything else as `format_cell` shows it."""
    if isinstance(value, str):
        if value in _measure_titles():
            return _measure_titles()[value]
        if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", value):
            return _words(value)
        term = _TERM.match(value)
        if term:
            return f"{_words(term['name'])}: {term['level']}"
    return format_cell(value)


def _text_cell(value: Any) -> str:
    """A text cell: a code of lowercase words joined by "_" read as words ("in_network" -> "in
    network"), anything else as `format_cell` shows it."""
    if isinstance(value, str) and re.fullmatch(r"[a-z]+(?:_[a-z]+)+", value):
        return value.replace("_", " ")
    return format_cell(value)


def _is_p(name: str) -> bool:
    name = name.lower()
    return name in ("p", "pvalue", "p>|z|") or name == "p_value" or name.endswith("_p") or name.endswith("_p_value") \
        or name.startswith("p_value")


# ----------------------------------------------------------------------------- intervals
def _stem(lower: str) -> str:
    """What a lower bound bounds, by its name: "median_lower" -> "median", "coef lower 95%" ->
    "coef", "ci_lower" / "lower" / "lower_pct" -> "" (the column before)."""
    stem = lower.replace("lower", "").replace("95%", "").strip("_ ")
    return "" if stem in ("ci", "pct") else stem


def _intervals(columns: Sequence[str]) -> dict[str, tuple[str | None, str, str, str]]:
    """{lower column: (estimate column or None, lower, upper, stem)} for each lower/upper pair; a
    bare `lower`/`ci_lower` bounds `estimate`, else the column before it."""
    found = {}
    for position, lower in enumerate(columns):
        upper = lower.replace("lower", "upper")
        if "lower" not in lower or upper not in columns:
            continue
        stem = base = _stem(lower)
        if not stem:
            before = [c for c in columns[:position] if "upper" not in c and "lower" not in c]
            base = "estimate" if "estimate" in before else (before[-1] if before else None)
        elif base not in columns:  # "its_lower" bounds the "its_..." column just before it, else nothing shown
            before = columns[position - 1] if position else ""
            base = before if before.startswith(stem + "_") and "upper" not in before else None
        found[lower] = (base, lower, upper, stem)
    return found


def _ci_cell(estimate: Any, lower: Any, upper: Any, *, p_value: bool = False) -> str:
    if any(isinstance(v, float) for v in (estimate, lower, upper)):  # one column's numbers alike: 1.0 as 1.00
        estimate, lower, upper = (float(v) if _is_number(v) else v for v in (estimate, lower, upper))
    low, high = format_cell(lower), format_cell(upper)
    interval = DASH if low == DASH and high == DASH else (low if low == high else f"{low} to {high}")
    if estimate is _NO_ESTIMATE:
        return interval
    shown = format_cell(estimate, p_value=p_value)
    if interval == DASH or not any(_is_number(v) and not (isinstance(v, float) and math.isnan(v)) for v in (lower, upper)):
        return shown
    return f"{shown} ({interval})"


_NO_ESTIMATE = object()


# ----------------------------------------------------------------------------- the table
@dataclass
class ReaderTable:
    """A table in words: headers and cells as strings, shown as HTML (`_repr_html_`) or text."""

    headers: list[str]
    rows: list[list[str]]
    caption: str | None = None
    #: columns holding numbers (right-aligned)
    numeric: list[bool] = field(default_factory=list)
    #: the first column names its row (a <th scope="row">)
    row_headers: bool = False
    turned: bool = False

    def to_html(self) -> str:
        """The table as HTML, class "reader-table" (styled by the notebook page's CSS)."""
        numeric = self.numeric or [False] * len(self.headers)
        right = ' class="num"'
        parts = ['<table class="reader-table">']
        if self.caption:
            parts.append(f"<caption>{escape(self.caption)}</caption>")
        parts.append("<thead><tr>" + "".join(
            f'<th scope="col"{right if numeric[i] else ""}>{escape(text)}</th>'
            for i, text in enumerate(self.headers)) + "</tr></thead><tbody>")
        for row in self.rows:
            cells = []
            for i, text in enumerate(row):
                if i == 0 and self.row_headers:
                    cells.append(f'<th scope="row">{escape(text)}</th>')
                else:
                    cells.append(f'<td{right if numeric[i] else ""}>{escape(text)}</td>')
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        widths = [max([len(h), *(len(r[i]) for r in self.rows)]) for i, h in enumerate(self.headers)]
        lines = ([self.caption] if self.caption else []) + ["  ".join(h.ljust(w) for h, w in zip(self.headers, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in self.rows]
        return "\n".join(lines)

    __repr__ = __str__


def reader_table(frame, *, caption: str | None = None, columns: Sequence[str] | None = None,
                 titles: Mapping[str, str] | None = None, turn: bool | None = None) -> ReaderTable:
    """`frame` (a DataFrame, or a Series as one column) as a `ReaderTable`: `columns` chooses and
    orders the columns shown (the recorded CSV keeps them all), `titles` gives headers of the
    table's own, `turn` forces (or forbids) one column per row; by default a table wider than
    `MAX_COLUMNS` with no more rows than columns is turned."""
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if hasattr(frame, "data") and hasattr(frame, "set_caption"):  # a pandas Styler: its frame and caption
        caption = caption or frame.caption
        frame = frame.data
    frame = frame.copy()
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    frame.columns = [str(c) for c in frame.columns]
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"reader_table: no column(s) {missing}; the table has {list(frame.columns)}")
        frame = frame[list(columns)]
    names = list(frame.columns)
    intervals = _intervals(names)
    merged = {c for base, low, high, _ in intervals.values() for c in (base, low, high) if c}
    headers, cells, numeric = [], [], []
    for name in names:
        values = frame[name].tolist()
        pairs = [v for v in intervals.values() if v[0] == name]
        lone = intervals.get(name)
        if pairs:  # the estimate with its interval
            _, low, high, _ = pairs[0]
            headers.append(f"{header(name, titles)} (95% CI)")
            cells.append([_ci_cell(e, lo, hi, p_value=_is_p(name))
                          for e, lo, hi in zip(values, frame[low].tolist(), frame[high].tolist())])
        elif lone and lone[0] is None:  # an interval of no column shown: "95% CI"
            _, low, high, stem = lone
            headers.append(f"{header(stem, titles)} 95% CI" if stem else "95% CI")
            cells.append([_ci_cell(_NO_ESTIMATE, lo, hi) for lo, hi in zip(values, frame[high].tolist())])
        elif name in merged:
            continue
        elif not headers and not any(_is_number(v) for v in values):  # the rows' names
            headers.append(header(name, titles))
            cells.append([row_label(v) for v in values])
        else:
            headers.append(header(name, titles))
            cells.append([_text_cell(v) if isinstance(v, str) else format_cell(v, p_value=_is_p(name)) for v in values])
        numeric.append(all(_is_number(v) or v is None or (isinstance(v, float) and math.isnan(v)) or isinstance(v, str)
                           and v.startswith("[") for v in values) and any(_is_number(v) for v in values)
                       or bool(pairs) or bool(lone))
    rows = [list(row) for row in zip(*cells)] if cells else []
    row_headers = bool(names) and not numeric[0]
    if turn is None:
        turn = len(headers) > MAX_COLUMNS and len(rows) <= len(headers) and row_headers
    if turn:
        turned_headers = [headers[0] or ""] + [row[0] for row in rows]
        turned_rows = [[headers[i]] + [row[i] for row in rows] for i in range(1, len(headers))]
        return ReaderTable(turned_headers, turned_rows, caption, [False] + [True] * len(rows), True, True)
    return ReaderTable(headers, rows, caption, numeric, row_headers)
