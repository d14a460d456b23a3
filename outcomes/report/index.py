"""The report's front page, index.html: one self-contained page a person can hand to a board.

Sections: title band (NHS blue), caveats, the headline table (results recorded with
`headline=True`), the monitoring dashboard (SPC variation and assurance of every measure, where a
notebook recorded `outcomes.spc.measures.DASHBOARD_TABLE`), key figures (embedded PNGs), the analyses (links to each notebook's page), the
extract's data-quality summary, and provenance. No script, style, font or image is fetched: CSS is
inline, figures are data URIs, and the only script is the inline image check the browser test reads.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from outcomes.report.render import IMAGE_CHECK_SCRIPT
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


_CSS = """
:root { --nhs-blue: #005EB8; --nhs-dark-blue: #003087; --nhs-dark-grey: #425563; --nhs-mid-grey: #768692;
        --nhs-pale-grey: #E8EDEE; --nhs-warm-yellow: #FFB81C; --nhs-red: #DA291C; --nhs-green: #009639; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 Arial, Helvetica, sans-serif; color: #212b32; background: #f0f4f5; }
header { background: var(--nhs-blue); color: #fff; padding: 28px 0 24px; }
.wrap { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header h1 { margin: 0 0 6px; font-size: 28px; line-height: 1.25; }
header p { margin: 0; opacity: .92; }
main { padding: 8px 0 48px; }
section { background: #fff; margin: 24px 0; padding: 20px 24px; border-radius: 4px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { color: var(--nhs-dark-blue); font-size: 22px; margin: 0 0 12px; }
h3 { font-size: 17px; margin: 16px 0 6px; }
table { border-collapse: collapse; width: 100%; font-size: 15px; }
caption { text-align: left; color: var(--nhs-dark-grey); font-size: 14px; padding-bottom: 6px; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid #d8dde0; vertical-align: top; }
thead th { border-bottom: 2px solid var(--nhs-dark-blue); color: var(--nhs-dark-blue); }
td.icon svg { vertical-align: middle; margin-right: 6px; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.unit, .source, .muted { color: var(--nhs-dark-grey); font-size: 13px; }
.caveats { border-left: 8px solid var(--nhs-warm-yellow); }
.caveats ul { margin: 0; padding-left: 20px; }
.banner { background: var(--nhs-red); color: #fff; padding: 14px 24px; font-weight: bold; margin-top: 24px; border-radius: 4px; }
.banner.partial { background: var(--nhs-warm-yellow); color: #212b32; }
figure { margin: 0 0 28px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--nhs-pale-grey); }
figcaption { color: var(--nhs-dark-grey); font-size: 14px; margin-top: 4px; }
.status-done { color: var(--nhs-green); font-weight: bold; }
.status-failed { color: var(--nhs-red); font-weight: bold; }
a { color: var(--nhs-blue); }
a:visited { color: #330072; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; font-size: 14px; }
dl.provenance dt { font-weight: bold; color: var(--nhs-dark-grey); }
dl.provenance dd { margin: 0; word-break: break-all; }
code { font-family: Consolas, "Courier New", monospace; font-size: 13px; }
footer { color: var(--nhs-dark-grey); font-size: 13px; padding: 0 0 32px; }
@media print {
  body { background: #fff; } section { box-shadow: none; padding: 0; margin: 18px 0; }
  header { background: none; color: #000; border-bottom: 4px solid var(--nhs-blue); }
  figure, tr { break-inside: avoid; }
}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ page.title }}</title>
<link rel="icon" href="data:,">
<style>{{ css }}</style>
</head>
<body data-report-status="{{ page.status }}">
<header><div class="wrap">
  <h1>{{ page.title }}</h1>
  <p>Reporting period {{ page.period }} &middot; generated {{ page.generated.strftime("%-d %B %Y, %H:%M") }}</p>
</div></header>
<div class="wrap">
{% if page.banner %}<div class="banner{% if page.status == 'partial' %} partial{% endif %}" role="alert">{{ page.banner }}</div>{% endif %}
<main>
{% if page.caveats %}
<section class="caveats" aria-labelledby="caveats"><h2 id="caveats">Read this first</h2>
<ul>{% for caveat in page.caveats %}<li>{{ caveat }}</li>{% endfor %}</ul>
</section>
{% endif %}

<section aria-labelledby="headline"><h2 id="headline">Headline measures</h2>
{% if page.headline %}
<table>
<caption>Change is the estimated effect since go-live with its 95% confidence interval; published figures are the nearest official statistic, where there is one.</caption>
<thead><tr><th scope="col">Measure</th><th scope="col" class="num">Baseline</th><th scope="col" class="num">Latest</th><th scope="col" class="num">Change (95% CI)</th><th scope="col" class="num">Published</th></tr></thead>
<tbody>
{% for row in page.headline %}<tr>
<td>{{ row.measure }}{% if row.unit %}<br><span class="unit">{{ row.unit }}</span>{% endif %}{% if row.sentence %}<br><span class="sentence">{{ row.sentence }}</span>{% endif %}{% if row.definition %}<br><span class="muted">{{ row.definition }}</span>{% endif %}</td>
<td class="num">{{ row.baseline }}</td><td class="num">{{ row.latest }}</td><td class="num">{{ row.change }}</td>
<td class="num">{{ row.published }}{% if row.published_source %}<br><span class="source">{{ row.published_source }}</span>{% endif %}</td>
</tr>
{% endfor %}</tbody>
</table>
{% else %}<p class="muted">No headline measures were recorded.</p>{% endif %}
</section>

{% if page.dashboard %}
<section aria-labelledby="dashboard"><h2 id="dashboard">Monitoring: is each measure in control?</h2>
<table>
<caption>Making Data Count XmR charts, limits recomputed from go-live. Variation: common cause (grey) or a special cause of improvement (blue), concern (orange) or neither (purple), H/L for high or low, in the latest month. Assurance: whether the latest limits make the target always met (P), never met (F) or met by chance (?). Select a measure for its chart.</caption>
<thead><tr><th scope="col">Measure</th><th scope="col">Latest month</th><th scope="col" class="num">Value</th><th scope="col">Variation</th><th scope="col">Assurance</th></tr></thead>
<tbody>
{% for row in page.dashboard %}<tr>
<td><a href="{{ row.href }}">{{ row.measure }}</a>{% if row.note %}<br><span class="muted">{{ row.note }}</span>{% endif %}</td>
<td>{{ row.latest_month }}</td>
<td class="num">{{ row.value }}{% if row.unit %}<br><span class="unit">{{ row.unit }}</span>{% endif %}</td>
<td class="icon">{{ row.variation }}<span class="muted">{{ row.variation_words }}</span></td>
<td class="icon">{{ row.assurance }}<span class="muted">{{ row.assurance_words }}</span></td>
</tr>
{% endfor %}</tbody>
</table>
</section>
{% endif %}

{% if page.figures %}
<section aria-labelledby="figures"><h2 id="figures">Key figures</h2>
{% for figure in page.figures %}<figure>
<img src="{{ figure.data_uri }}" alt="{{ figure.alt }}">
<figcaption>{% if figure.caption %}{{ figure.caption }} &middot; {% endif %}<a href="{{ figure.href }}">{{ figure.notebook }}</a></figcaption>
</figure>
{% endfor %}
</section>
{% endif %}

<section aria-labelledby="analyses"><h2 id="analyses">Analyses</h2>
<table>
<thead><tr><th scope="col">Analysis</th><th scope="col">Notebook</th><th scope="col">Status</th><th scope="col" class="num">Run time</th></tr></thead>
<tbody>
{% for nb in page.notebooks %}<tr>
<td>{% if nb.html_href %}<a href="{{ nb.html_href }}">{{ nb.title }}</a>{% else %}{{ nb.title }}{% endif %}</td>
<td>{% if nb.ipynb_href %}<a href="{{ nb.ipynb_href }}"><code>{{ nb.name }}.ipynb</code></a>{% else %}<code>{{ nb.name }}</code>{% endif %}</td>
<td class="status-{{ nb.status }}">{{ nb.status }}{% if nb.failure %}<br><span class="muted">{{ nb.failure }}</span>{% endif %}</td>
<td class="num">{{ "%.1f"|format(nb.seconds) }} s</td>
</tr>
{% endfor %}</tbody>
</table>
</section>

<section aria-labelledby="quality"><h2 id="quality">Data quality</h2>
{% if page.quality %}
<table>
<caption>Warnings found when the extract was validated against the data dictionary; they did not stop the report. Row figures are rounded as counts are.</caption>
<thead><tr><th scope="col">Table</th><th scope="col">Field</th><th scope="col">Check</th><th scope="col" class="num">Rows</th><th scope="col">Severity</th></tr></thead>
<tbody>
{% for q in page.quality %}<tr><td>{{ q.table }}</td><td>{{ q.field }}</td><td>{{ q.check }}</td><td class="num">{{ q.rows }}</td><td>{{ q.severity }}</td></tr>
{% endfor %}</tbody>
</table>
{% else %}<p>The extract passed every check of the data dictionary with no warnings.</p>{% endif %}
</section>

<section aria-labelledby="provenance"><h2 id="provenance">Provenance</h2>
<dl class="provenance">
{% for key, value in page.provenance %}<dt>{{ key }}</dt><dd>{{ value }}</dd>
{% endfor %}</dl>
{% if page.files %}
<h3>Extract files (sha256)</h3>
<table><thead><tr><th scope="col">File</th><th scope="col">sha256</th></tr></thead><tbody>
{% for name, digest in page.files %}<tr><td><code>{{ name }}</code></td><td><code>{{ digest }}</code></td></tr>
{% endfor %}</tbody></table>
{% endif %}
<p class="muted">Machine-readable: <a href="results.json">results.json</a> (every recorded result) &middot; <a href="manifest.json">manifest.json</a> (versions, hashes, parameters, timings).</p>
</section>
</main>
<footer>Produced with <code>outcomes report</code>. Statistical disclosure control: counts of 1 to 7 are suppressed and other counts rounded to the nearest 5.</footer>
</div>
{{ script }}
</body>
</html>
"""


def render_index(page: IndexPage, path: Path) -> None:
    """Write the page to `path`."""
    from jinja2 import Environment
    from markupsafe import Markup

    env = Environment(autoescape=True, trim_blocks=False)
    html = env.from_string(_TEMPLATE).render(page=page, css=Markup(_CSS), script=Markup(IMAGE_CHECK_SCRIPT))
    path.write_text(html, encoding="utf-8")
