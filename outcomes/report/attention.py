"""The index's "needs attention" list, read from the SPC dashboard a notebook recorded
(`outcomes.spc.measures.DASHBOARD_TABLE`), and names beside codes.

A measure (or group) needs attention when its Making Data Count chart shows a special cause of
concern in the last 12 months (a point beyond a limit, a run of 7 on the wrong side of the mean, a
trend of 7, or 2 of 3 near a limit: `XmRChart.recent_concern`), or when its target is missed
consistently or met only by chance. A target is only one an NHS standard or the report's
`--params` sets (`monitoring.yaml`); without one the dashboard says "no target" quietly.

Names: an ODS code or ONS area code is shown with its name from the data dictionary's
`collaborative` code list or the extract's `organisations` (extract.yaml), "N9A" ->
"N9A Synthetic independent hospital A (independent sector)".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["AttentionItem", "attention_items", "dashboard_table_rows", "code_names", "measure_titles", "dashboard_label"]


@dataclass
class AttentionItem:
    measure: str  #: the measure's title with its group named
    href: str  #: its chart on the dashboard page
    reasons: list[str]  #: what the chart shows, in words


def dashboard_table_rows(results: dict[str, dict[str, dict]]):
    """(notebook, row) for every row of the SPC dashboard tables notebooks recorded
    (`outcomes.spc.measures.DASHBOARD_TABLE`)."""
    from outcomes.spc.measures import DASHBOARD_TABLE

    for notebook, entries in results.items():
        entry = entries.get(DASHBOARD_TABLE)
        if isinstance(entry, dict) and entry.get("kind") == "table":
            for row in entry.get("rows", []):
                yield notebook, row


def code_names(extract_metadata: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Code -> name: the data dictionary's `collaborative` codes (network trusts, footprint boroughs),
    then the extract's `organisations` map (extract.yaml), which wins."""
    from outcomes.source.contract.dictionary import load_dictionary

    names: dict[str, str] = {}
    collaborative = load_dictionary().codes.get("collaborative")
    if collaborative is not None:
        names.update(collaborative.labels)
    organisations = (extract_metadata or {}).get("organisations")
    if isinstance(organisations, Mapping):
        names.update({str(code): str(name) for code, name in organisations.items()})
    return names


def measure_titles() -> dict[str, str]:
    """Measure name -> its title for people (`title` in monitoring.yaml, which every measure has)."""
    from outcomes.measures.catalogue import monitoring

    return {name: entry["title"] for name, entry in monitoring().items()}


def dashboard_label(row: Mapping[str, Any], titles: Mapping[str, str], names: Mapping[str, str]) -> str:
    """A dashboard row's measure for people: its title, and its group with the code's name
    ("CYP bed days by provider: RPG Oxleas NHS Foundation Trust")."""
    measure = row.get("measure") or row.get("label") or ""
    title = titles.get(measure, str(measure).replace("_", " "))
    group = row.get("group")
    if group is None or group != group:  # None or NaN: an ungrouped measure
        return title
    parts = [f"{code} {names[code]}" if code in names else code.replace("_", " ") for code in str(group).split(", ")]
    return f"{title}: {', '.join(parts)}"


#: NHSRplotthedots' special-cause labels in words
RULE_WORDS = {
    "Above UCL": "above the upper limit", "Below LCL": "below the lower limit",
    "7 Points Above CL": "a run of 7 or more months above the mean", "7 Points Below CL": "a run of 7 or more months below the mean",
    "7 Point Trend (Increasing)": "7 or more months rising", "7 Point Trend (Decreasing)": "7 or more months falling",
    "2 in 3 Above CL": "2 of 3 months close to the upper limit", "2 in 3 Below CL": "2 of 3 months close to the lower limit",
}


def _month(value: Any) -> str:
    return dt.date.fromisoformat(str(value)[:10]).strftime("%b %Y")


def _reasons(row: Mapping[str, Any]) -> list[str]:
    from outcomes.report.index import format_number

    reasons = []
    months = row.get("concern_months") or 0
    if months:
        first, last = _month(row["concern_first"]), _month(row["concern_last"])
        when = first if first == last else f"{first} to {last}"
        rules = "; ".join(RULE_WORDS.get(rule, rule) for rule in str(row.get("concern_rules") or "").split("; "))
        points = {"quarter": "quarters", "event": "events"}.get(row.get("grain") or "month", "months")
        if points == "events":  # a t-chart's points are events: a count, shown as disclosure control shows counts
            from outcomes.disclosure import format_count

            counted = f"{format_count(int(months))} events in the last 12 months"
        else:
            counted = f"{int(months)} of the last 12 months" if points == "months" else f"{int(months)} {points} of the last 12 months"
        reasons.append(f"special cause of concern in {counted} ({when}): {rules}")
    assurance, target = row.get("assurance"), row.get("target")
    if assurance == "consistent_fail":
        reasons.append(f"target of {format_number(target)} {row.get('unit') or ''} will not be met without "
                       "a change to the process (the limits lie beyond it)".replace("  ", " "))
    elif assurance == "inconsistent":
        reasons.append(f"target of {format_number(target)} {row.get('unit') or ''} met by chance only "
                       "(it lies within the limits)".replace("  ", " "))
    return reasons


def attention_items(results: dict[str, dict[str, dict]], titles: Mapping[str, str],
                    names: Mapping[str, str]) -> list[AttentionItem]:
    """Every dashboard row whose chart shows concern in the last 12 months or misses its target."""
    items = []
    for notebook, row in dashboard_table_rows(results):
        reasons = _reasons(row)
        if reasons:
            items.append(AttentionItem(dashboard_label(row, titles, names),
                                       f"notebooks/{notebook}.html#{row.get('anchor', '')}", reasons))
    return items
