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

from outcomes.report.tables import MINUS, format_number
from outcomes.resources import templates_dir
from outcomes.results import NOT_ESTIMABLE
from outcomes.spc.icons import icon_spec, icon_svg


__all__ = ["IndexPage", "HeadlineRow", "DashboardRow", "BalancingRow", "KeyFigure", "NotebookEntry", "headline_rows",
           "dashboard_rows", "balancing_rows", "format_number", "render_index"]

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
    unit: str | None  #: the unit of the estimate, stated in its row ("% change", "rate ratio", "£, 2023/24 prices")
    notebook: str
    change: str  #: the estimate with its 95% CI
    published: str
    published_source: str | None
    definition: str | None
    sentence: str | None = None  #: the result in one plain sentence, with its CI and period
    no_ci: str | None = None  #: why the estimate has no CI, where it has none
    evidence: str | None = None  #: the evidence grade in words (outcomes.report.messages)
    previous: str | None = None  #: the same estimate in the previous quarter's published report


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
class BalancingRow:
    """A row of "What it must not worsen": a balancing measure before and after, its change and grade."""

    measure: str
    unit: str | None
    href: str
    baseline: str
    post: str
    change: str
    grade: str
    worsened: bool


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
    balancing: list[BalancingRow] = field(default_factory=list)  #: what the programme must not worsen, if recorded
    messages: list = field(default_factory=list)  #: key messages (outcomes.report.messages.KeyMessage)
    data_line: str | None = None  #: one line on the data: its source, its date and its quality
    attention: list = field(default_factory=list)  #: outcomes.report.attention.AttentionItem
    methods_figures: list[KeyFigure] = field(default_factory=list)  #: methods validation, apart from the board's figures
    tables: list = field(default_factory=list)  #: outcomes.report.downloads.TableFile
    workbook: str | None = None  #: the workbook of every table, relative to the report
    previous: str | None = None  #: the previous quarter's label, when its report was found


def is_money(unit: str | None) -> bool:
    """A unit of pounds sterling ("GBP 2023/24", "£")."""
    return bool(unit) and (unit.startswith("GBP") or unit.startswith("\u00a3"))


def format_money(value: Any, signed: bool = False) -> str:
    """Pounds: 11723641.5 -> '£11.7 million', 86800 -> '£86,800' (strings and missing values pass through)."""
    if value is None or isinstance(value, (str, bool)) or not isinstance(value, int | float) or not math.isfinite(value):
        return format_number(value)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    magnitude = abs(value)
    text = f"{magnitude / 1e6:,.1f} million" if magnitude >= 1e6 else f"{magnitude:,.0f}"
    return f"{sign}\u00a3{text}"


def estimate_unit(entry: dict) -> str | None:
    """The unit an estimate is stated in, in words: '% change', 'rate ratio (1 = no change)',
    '£, 2023/24 prices', or the recorded unit."""
    kind, unit = entry.get("kind"), entry.get("unit")
    if kind in PROPORTION_KINDS:
        return "% change"
    if kind == "ratio":
        return unit if unit and "(" in unit else f"{unit or 'ratio'} (1 = no change)"
    if is_money(unit):
        year = unit.removeprefix("GBP").removeprefix("\u00a3").strip()
        return f"\u00a3, {year} prices" if year else "\u00a3"
    if kind == "difference" and unit:
        return f"difference in {unit}"
    return unit


def format_estimate(value: Any, entry: dict, signed: bool = True) -> str:
    """One value of an entry in the entry's unit."""
    kind = entry.get("kind")
    if is_money(entry.get("unit")):
        return format_money(value, signed=False)
    return _format_value(value, kind, entry.get("unit"), signed=signed and kind != "ratio")


def estimate_with_ci(entry: dict) -> str:
    """The estimate and its 95% CI as the headline table shows it: '\u221233.2% (95% CI \u221250.7% to \u22129.6%)'."""
    text = format_estimate(entry.get("value"), entry)
    ci = entry.get("ci")
    if isinstance(ci, list) and len(ci) == 2 and not isinstance(entry.get("value"), str):
        low, high = (format_estimate(bound, entry, signed=False) for bound in ci)
        text += f" (95% CI {low} to {high})"
    return text


#: why an estimate of this kind has no interval, where it was recorded without one
NO_CI_REASONS = {
    "percent_change": "no CI: a direct comparison of two years' totals, not a model (see the modelled row)",
    "difference": "no CI: a direct comparison of two periods, not a model",
}


def describe(entry: dict) -> str:
    """A headline result in words for a key message: its label, estimate with CI, and unit."""
    unit, shown = estimate_unit(entry), estimate_with_ci(entry)
    if is_money(entry.get("unit")):
        return f"{entry.get('label') or 'Result'}: {shown}" + (f", in {unit.split(', ', 1)[1]}" if ", " in unit else "")
    return f"{entry.get('label') or 'Result'}: {shown}" + (f" ({unit})" if unit and entry.get("kind") not in PROPORTION_KINDS else "")


def headline_rows(results: dict[str, dict[str, dict]], previous: dict[str, dict[str, dict]] | None = None) -> list[HeadlineRow]:
    """One row per result recorded with headline=True, in notebook then recording order; `previous`,
    the previous quarter's results, fills the comparison where it holds the same result."""
    from outcomes.report.messages import grade

    rows = []
    for notebook, entries in results.items():
        for name, entry in entries.items():
            if not entry.get("headline"):
                continue
            kind, unit = entry.get("kind"), entry.get("unit")
            if kind == NOT_ESTIMABLE:  # the row stays, saying why there is no number
                rows.append(HeadlineRow(measure=entry.get("label") or name, unit=None, notebook=notebook,
                                        change="not estimable", published="\u2013", published_source=None,
                                        definition=None, sentence=entry.get("sentence"),
                                        no_ci=None))
                continue
            ci = entry.get("ci")
            has_ci = isinstance(ci, list) and len(ci) == 2
            published = entry.get("published") or {}
            before = ((previous or {}).get(notebook) or {}).get(name)
            rows.append(HeadlineRow(
                measure=entry.get("label") or name,
                unit=estimate_unit(entry),
                notebook=notebook,
                change=estimate_with_ci(entry),
                published=(format_estimate(published.get("value"), entry, signed=kind in PROPORTION_KINDS)
                           if published else "\u2013"),
                published_source=published.get("source") if published else None,
                definition=entry.get("definition"),
                sentence=entry.get("sentence"),
                no_ci=None if has_ci or isinstance(entry.get("value"), str) else
                entry.get("no_ci") or NO_CI_REASONS.get(kind, "no CI recorded"),
                evidence=grade(entry),
                previous=estimate_with_ci(before) if isinstance(before, dict) else None,
            ))
    return rows


def dashboard_rows(results: dict[str, dict[str, dict]], names: dict[str, str] | None = None) -> list[DashboardRow]:
    """The board dashboard: the rows of the SPC dashboard table a notebook recorded
    (`outcomes.spc.measures.DASHBOARD_TABLE`), each with its icons and a link to its chart; measures
    by their titles, with `names` (code -> name) beside provider and area codes."""
    from markupsafe import Markup

    from outcomes.report.attention import dashboard_label, dashboard_table_rows, measure_titles

    titles = measure_titles()
    rows = []
    for notebook, row in dashboard_table_rows(results):
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
            measure=dashboard_label(row, titles, names or {}),
            href=f"notebooks/{notebook}.html#{row.get('anchor', '')}",
            latest_month=dt.date.fromisoformat(month).strftime("%b %Y") if month else "\u2013",
            value=format_number(row.get("value")),
            unit=row.get("unit"),
            variation=Markup(icon_svg("variation", variation)),
            variation_words=icon_spec("variation", variation)[2] if variation else "\u2013",
            assurance=Markup(icon_svg("assurance", assurance)),
            assurance_words=(icon_spec("assurance", assurance)[2] + f" (target {format_number(row.get('target'))})"
                             if assurance else "no target"),
            note="; ".join(notes) or None,
        ))
    return rows


def balancing_rows(results: dict[str, dict[str, dict]]) -> list[BalancingRow]:
    """"What it must not worsen": the rows of the balancing table a notebook recorded
    (`outcomes.programme.delivery.BALANCING_TABLE`), the change as a percentage with its 95% CI
    and the evidence grade in words (`outcomes.programme.evidence`); withheld values stay withheld."""
    from outcomes.programme.delivery import BALANCING_TABLE

    def change(ratio, lower, upper) -> str:
        values = [r - 1 if isinstance(r, int | float) and not isinstance(r, bool) and math.isfinite(r) else r
                  for r in (ratio, lower, upper)]
        if any(not isinstance(v, int | float) for v in values):
            return "withheld (small numbers)" if any(isinstance(v, str) for v in values) else "–"
        return f"{format_percent(values[0], signed=True)} ({format_percent(values[1], signed=True)} to {format_percent(values[2], signed=True)})"

    def shown(value) -> str:  # a redacted value (a marker string) says so in words
        return "withheld" if isinstance(value, str) and value.startswith("[") else format_number(value)

    rows = []
    for notebook, entries in results.items():
        entry = entries.get(BALANCING_TABLE)
        if not isinstance(entry, dict) or entry.get("kind") != "table":
            continue
        for row in entry.get("rows", []):
            rows.append(BalancingRow(
                measure=row.get("measure"), unit=row.get("unit"), href=f"notebooks/{notebook}.html#balancing",
                baseline=shown(row.get("baseline")), post=shown(row.get("post")),
                change=change(row.get("ratio"), row.get("ratio_lower"), row.get("ratio_upper")),
                grade=str(row.get("grade") or "–"), worsened=bool(row.get("worsened")),
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
