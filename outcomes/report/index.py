"""The report's front page, index.html: one self-contained page a person can hand to a board.

Sections: title band (NHS blue), caveats, the headline table (results recorded with
`headline=True`), the monitoring dashboard (SPC variation and assurance of every measure, where a
notebook recorded `outcomes.spc.measures.DASHBOARD_TABLE`), key figures (embedded PNGs), the analyses (links to each notebook's page), the
extract's data-quality summary, and provenance. No script, style, font or image is fetched: CSS is
inline, figures are data URIs, and the only script is the inline image check the browser test reads.
The page is `outcomes/report/templates/report_index.html.j2` (its CSS `report_index.css`, its script
`image_check.html`).
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outcomes.resources import templates_dir
from outcomes.results import NOT_ESTIMABLE
from outcomes.spc.icons import icon_spec, icon_svg
from outcomes.spc.measures import DASHBOARD_TABLE


__all__ = ["IndexPage", "HeadlineRow", "DashboardRow", "KeyFigure", "NotebookEntry", "headline_rows", "dashboard_rows",
           "format_number", "render_index"]

MINUS = "\u2212"


def format_number(value: Any, unit: str | None = None, signed: bool = False) -> str:
    """A number as a person reads it: thousands separators, sensible decimals, '%' units attached."""
    if value is None:
        return "\u2013"
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or (isinstance(value, float) and not math.isfinite(value)):
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
        text = f"{magnitude:.2g}"
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    suffix = "%" if unit in ("%", "percent", "per cent") else ""
    return f"{sign}{text}{suffix}"


#: result kinds whose value is a proportion shown as a percentage (-0.32 -> "-32.0%")
PROPORTION_KINDS = ("percent_change", "proportion")


def format_percent(value: Any, signed: bool = False) -> str:
    """A proportion as a percentage: -0.32 -> '-32.0%' (strings and missing values pass through)."""
    if value is None or isinstance(value, (str, bool)) or not isinstance(value, int | float) or not math.isfinite(value):
        return format_number(value)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return f"{sign}{abs(value) * 100:.1f}%"


def _format_value(value: Any, kind: str | None, unit: str | None, signed: bool) -> str:
    if kind in PROPORTION_KINDS:
        return format_percent(value, signed)
    return format_number(value, unit, signed=signed and kind != "ratio")


@dataclass
class HeadlineRow:
    measure: str
    unit: str | None
    notebook: str
    baseline: str
    latest: str
    change: str
    published: str
    published_source: str | None
    definition: str | None
    sentence: str | None = None  #: the result in one plain sentence, with its CI and period


@dataclass
class DashboardRow:
    measure: str
    href: str
    latest_month: str
    value: str
    unit: str | None
    variation: Any  #: inline SVG icon (markup) or ""
    variation_words: str
    assurance: Any
    assurance_words: str
    note: str | None


@dataclass
class KeyFigure:
    data_uri: str
    caption: str
    alt: str
    notebook: str
    href: str


@dataclass
class NotebookEntry:
    name: str
    title: str
    html_href: str | None
    ipynb_href: str | None
    status: str
    seconds: float
    failure: str | None = None
    #: "<what>: not estimable: <reason>" for each analysis the data could not support
    not_estimable: list[str] = field(default_factory=list)


@dataclass
class IndexPage:
    title: str
    quarter: str
    period: str
    generated: dt.datetime
    status: str  #: "published", "failed" or "partial"
    caveats: list[str]
    headline: list[HeadlineRow]
    figures: list[KeyFigure]
    notebooks: list[NotebookEntry]
    quality: list[dict]
    provenance: list[tuple[str, str]]
    files: list[tuple[str, str]] = field(default_factory=list)  #: (file name, sha256) of the extract
    banner: str | None = None
    dashboard: list[DashboardRow] = field(default_factory=list)  #: the SPC board dashboard, if a notebook recorded it


def headline_rows(results: dict[str, dict[str, dict]]) -> list[HeadlineRow]:
    """One row per result recorded with headline=True, in notebook then recording order."""
    rows = []
    for notebook, entries in results.items():
        for name, entry in entries.items():
            if not entry.get("headline"):
                continue
            unit, kind = entry.get("unit"), entry.get("kind")
            if kind == NOT_ESTIMABLE:  # the row stays, saying why there is no number
                rows.append(HeadlineRow(measure=entry.get("label") or name, unit=None, notebook=notebook,
                                        baseline="\u2013", latest="\u2013", change="not estimable",
                                        published="\u2013", published_source=None, definition=None,
                                        sentence=entry.get("sentence")))
                continue
            change = _format_value(entry.get("value"), kind, unit, signed=True)
            ci = entry.get("ci")
            if isinstance(ci, list) and len(ci) == 2 and not isinstance(entry.get("value"), str):
                change += f" ({_format_value(ci[0], kind, unit, False)} to {_format_value(ci[1], kind, unit, False)})"
            published = entry.get("published") or {}
            # baseline and latest are levels in the measure's own units, not the change's
            level_unit = None if kind in PROPORTION_KINDS or kind == "ratio" else unit
            rows.append(HeadlineRow(
                measure=entry.get("label") or name,
                unit=None if unit in ("%",) or kind in PROPORTION_KINDS else unit,
                notebook=notebook,
                baseline=format_number(entry.get("baseline"), level_unit),
                latest=format_number(entry.get("latest"), level_unit),
                change=change,
                published=_format_value(published.get("value"), kind, unit, signed=kind in PROPORTION_KINDS) if published else "\u2013",
                published_source=published.get("source") if published else None,
                definition=entry.get("definition"),
                sentence=entry.get("sentence"),
            ))
    return rows


def dashboard_rows(results: dict[str, dict[str, dict]]) -> list[DashboardRow]:
    """The board dashboard: the rows of the SPC dashboard table a notebook recorded
    (`outcomes.spc.measures.DASHBOARD_TABLE`), each with its icons and a link to its chart."""
    from markupsafe import Markup

    rows = []
    for notebook, entries in results.items():
        entry = entries.get(DASHBOARD_TABLE)
        if not isinstance(entry, dict) or entry.get("kind") != "table":
            continue
        for row in entry.get("rows", []):
            variation, assurance = row.get("variation"), row.get("assurance")
            month = row.get("latest_month")
            notes = []
            if row.get("problem"):
                notes.append(f"not charted: {row['problem']}")
            if row.get("suppressed_months"):
                notes.append(f"{row['suppressed_months']} months suppressed (counts 1-7)")
            if row.get("target") is not None and not assurance:
                notes.append(f"target {format_number(row['target'])}")
            rows.append(DashboardRow(
                measure=row.get("label") or row.get("measure"),
                href=f"notebooks/{notebook}.html#{row.get('anchor', '')}",
                latest_month=dt.date.fromisoformat(month).strftime("%b %Y") if month else "\u2013",
                value=format_number(row.get("value")),
                unit=row.get("unit"),
                variation=Markup(icon_svg("variation", variation)),
                variation_words=icon_spec("variation", variation)[2] if variation else "\u2013",
                assurance=Markup(icon_svg("assurance", assurance)),
                assurance_words=(icon_spec("assurance", assurance)[2] + f" (target {format_number(row.get('target'))})"
                                 if assurance else "no target set"),
                note="; ".join(notes) or None,
            ))
    return rows


def png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


#: the front page's template, in outcomes/report/templates/
INDEX_TEMPLATE = "report_index.html.j2"


def render_index(page: IndexPage, path: Path) -> None:
    """Write the page to `path`."""
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(templates_dir()), autoescape=True, trim_blocks=False)
    html = env.get_template(INDEX_TEMPLATE).render(page=page)
    path.write_text(html, encoding="utf-8")
