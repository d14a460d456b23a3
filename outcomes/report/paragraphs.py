"""Results in words: the paragraph under each analysis of a notebook page, written from what the
notebook recorded (its `results.json` entries, after disclosure control), never from the numbers
in memory. One function per kind of analysis; each takes recorded entries and returns Markdown
prose with the number, its 95% CI and the evidence in words. A notebook calls them through its
session, `run.paragraph(paragraphs.survival, "picu_length_of_stay", "picu_rmst_difference")`.

Evidence words are `outcomes.programme.evidence`'s, as the index's key messages grade them
(`outcomes.report.messages.grade`): against the published claim where there is one, else "is
there a change?" (confirmed: the 95% CI excludes no change).

>>> estimate({"kind": "ratio", "value": 0.82, "ci": [0.6, 1.11], "unit": "rate ratio", "label": "Crisis-line extension"})
'Crisis-line extension: 0.82 (95% CI 0.60 to 1.11) (rate ratio (1 = no change)). Evidence: consistent, not confirmed (the 95% CI includes no change).'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from outcomes.programme.evidence import CONFIRMED, CONSISTENT, CONTRADICTED, MATCHES, NO_ESTIMATE, OTHER_WAY, WITHHELD
from outcomes.report.index import describe, format_money
from outcomes.report.messages import REDACTED, grade
from outcomes.report.tables import format_cell, format_number, format_p, row_label

__all__ = ["estimate", "estimates", "reproduced", "seasonality", "survival", "hazard_ratio", "mirror_image", "evidence_summary", "costs", "synthetic_control",
           "balancing", "ratios", "proportions", "first_and_last", "cohort", "attention", "EXPLAINED"]

#: each evidence grade with what it means, as a page says it
EXPLAINED = {
    CONFIRMED: "the 95% CI excludes no change",
    CONSISTENT: "the 95% CI includes no change",
    OTHER_WAY: "the estimate points the other way and the 95% CI includes no change",
    CONTRADICTED: "the 95% CI excludes no change, the other way",
    MATCHES: "the published count is reproduced",
    WITHHELD: "the published count is reproduced; disclosure control withholds part of it",
    NO_ESTIMATE: "no interval to grade on",
}


def _evidence(entry: Mapping) -> str:
    """"Evidence: <grade> (<what it means>)." for a recorded estimate; "" when it is not one."""
    if entry.get("evidence"):
        return f" Evidence: {str(entry['evidence']).rstrip('.')}."
    words = grade(dict(entry))
    if words is None or (words == NO_ESTIMATE and not entry.get("published")):  # nothing to grade, nothing claimed
        return ""
    return f" Evidence: {words} ({EXPLAINED[words]})." if words in EXPLAINED else f" Evidence: {words}."


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


def estimate(entry: Mapping, what: str | None = None) -> str:
    """One recorded estimate: its own sentence (which says the period and the CI), else its label,
    value and 95% CI in its unit, then the evidence in words. A suppressed result says so."""
    label = what or entry.get("label") or "The estimate"
    if entry.get("kind") == "not_estimable":
        return _sentence(entry["sentence"])
    if entry.get("value") == REDACTED or entry.get("sentence") == REDACTED:
        return f"{label}: withheld by disclosure control (it rests on a count of 1 to 7)."
    text = entry.get("sentence") or describe(dict(entry, label=label))
    return _sentence(text) + _evidence(entry)


def estimates(*entries: Mapping) -> str:
    """Several recorded estimates, one sentence each, as one paragraph."""
    return " ".join(estimate(entry) for entry in entries if entry)


def _rows(table: Mapping) -> list[dict]:
    return list(table.get("rows") or [])


def _ci(row: Mapping, name: str, lower: str | None = None, upper: str | None = None) -> str:
    """"26.0 days (95% CI 21.0 to 32.0)" style: a row's value with its bounds, or withheld."""
    value, low, high = row.get(name), row.get(lower or f"{name}_lower"), row.get(upper or f"{name}_upper")
    if value == REDACTED:
        return "withheld (small numbers)"
    if value is None:
        return "not estimable"
    if low is None or high is None or REDACTED in (low, high):
        return format_cell(value)
    return f"{format_cell(value)} (95% CI {format_cell(low)} to {format_cell(high)})"


def reproduced(table: Mapping, what: str = "published estimates") -> str:
    """A published-against-reproduced table (`within_tolerance` per row): how many reproduce, and
    the ones that do not."""
    rows = _rows(table)
    within = [r for r in rows if r.get("within_tolerance") is True]
    missed = [" ".join(str(r.get(k)) for k in ("model", "term") if r.get(k)) for r in rows if r not in within]
    text = f"{len(within)} of {len(rows)} {what} are reproduced within their tolerance"
    return text + (f"; not: {', '.join(missed)}." if missed else ".")


def seasonality(table: Mapping) -> str:
    """Seasonal models against the lag-12 residual autocorrelation (`removed` per model)."""
    rows = _rows(table)
    removed = [str(r.get("seasonality")) for r in rows if r.get("removed") is True]
    kept = [str(r.get("seasonality")) for r in rows if r.get("removed") is not True]
    return (f"The lag-12 autocorrelation is removed by: {', '.join(removed) or 'none of the models'}; "
            f"it remains under: {', '.join(kept) or 'none'} (the autocorrelation at lag 12 against its 95% bound).")


def survival(table: Mapping, difference: Mapping | None = None) -> str:
    """Length of stay by period (`LengthOfStay.summary` as recorded): each period's Kaplan-Meier
    median and restricted mean stay with their CIs, and the recorded RMST difference with its
    evidence."""
    parts = []
    for row in _rows(table):
        stays = row.get("n")
        horizon = format_number(row.get("horizon_days"))
        parts.append(f"{str(row.get('period')).capitalize()}: {format_cell(stays)} stays, median "
                     f"{_ci(row, 'median')} days, mean stay to {horizon} days {_ci(row, 'rmst')}")
    text = "; ".join(parts) + "." if parts else ""
    if difference:
        shown = _ci({"d": difference.get("value"), "l": (difference.get("ci") or [None, None])[0],
                     "u": (difference.get("ci") or [None, None])[1]}, "d", "l", "u")
        text += f" The restricted mean stay changed by {shown} days, post minus baseline." + _evidence(difference)
    return text.strip()


def hazard_ratio(table: Mapping, term: str, what: str, adjusted_for: str = "") -> str:
    """A Cox model's row (lifelines' summary as recorded, rows of small groups withheld): the hazard
    ratio of `term` with its CI and p-value, in words (`what`: "the hazard of discharge after
    go-live against before; above 1 means shorter stays")."""
    row = next((r for r in _rows(table) if r.get("covariate") == term), None)
    if row is None:
        return f"The model has no {term} row."
    if row.get("exp(coef)") == REDACTED or row.get("exp(coef)") is None:
        return f"The hazard ratio of {what} is withheld: {row.get('publication') or 'small numbers'}."
    shown = _ci(row, "exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%")
    p = row.get("p")
    return (f"Hazard ratio of {what}: {shown}" + (f", p {format_p(p)}" if isinstance(p, int | float) else "")
            + (f", adjusted for {adjusted_for}" if adjusted_for else "") + "; "
            + _direction_words(row.get("exp(coef)"), row.get("exp(coef) lower 95%"), row.get("exp(coef) upper 95%"),
                               ratio_scale=True) + ".")


def mirror_image(table: Mapping, outcome: str = "outcome") -> str:
    """A mirror-image (before/after in the same people) table as recorded: per outcome, the rate
    ratio after against before with its CI and p-value, in words; withheld rows say so."""
    sentences = []
    for row in _rows(table):
        name = row_label(row.get(outcome))
        ratio = row.get("rate_ratio")
        if ratio == REDACTED or ratio is None:
            sentences.append(f"{name}: withheld by disclosure control (a count of 1 to 7 after).")
            continue
        low, high = row.get("rate_ratio_lower"), row.get("rate_ratio_upper")
        words = _direction_words(ratio, low, high, ratio_scale=True)
        p = row.get("p_value")
        sentences.append(f"{name}: rate ratio after against before {_ci(row, 'rate_ratio')}"
                         + (f", p {format_p(p)}" if isinstance(p, int | float) else "") + f"; {words}.")
    return " ".join(sentences)


def _direction_words(value: Any, low: Any, high: Any, *, ratio_scale: bool) -> str:
    """"evidence: confirmed (...)" for a change against no change (1 for a ratio, 0 otherwise)."""
    entry = {"kind": "ratio" if ratio_scale else "difference", "value": value, "ci": [low, high]}
    words = grade(entry) or NO_ESTIMATE
    return f"evidence: {words} ({EXPLAINED.get(words, '')})".replace(" ()", "")


def evidence_summary(*entries: Mapping | None) -> str:
    """Published claims graded (06): how many of each grade, then each claim and its grade."""
    graded = [e for e in entries if e and e.get("kind") != "not_estimable" and e.get("value")]
    if not graded:
        return "No published claim could be graded on this extract."
    counts: dict[str, int] = {}
    for entry in graded:
        counts[str(entry["value"])] = counts.get(str(entry["value"]), 0) + 1
    tally = "; ".join(f"{n} {grade_words}" for grade_words, n in counts.items())
    listed = "; ".join(f"{e.get('label')}: {e.get('sentence') or e['value']}" for e in graded)
    return f"Of {len(graded)} published claims graded against this extract: {tally}. {_sentence(listed)}"


def costs(*entries: Mapping | None) -> str:
    """Savings (10): each recorded saving in £ with its CI and price year, and the total under the
    low and high unit costs (the entry whose value is {value, low_unit_cost, high_unit_cost, status})."""
    sensitivity = next((e for e in entries if e and isinstance(e.get("value"), Mapping)), None)
    text = estimates(*(e for e in entries if e and e is not sensitivity))
    if sensitivity:
        value = sensitivity["value"]
        year = str(sensitivity.get("unit") or "").removeprefix("GBP").strip()
        text += (f" In total {format_money(value.get('value'))}, between {format_money(value.get('low_unit_cost'))} and "
                 f"{format_money(value.get('high_unit_cost'))} with the low and high unit costs"
                 + (f" ({year} prices)" if year else "") + f"; {value.get('status', '')}.".replace("; .", "."))
    return text


def synthetic_control(effect: Mapping, p_value: Mapping | None = None, donors: Mapping | None = None,
                      averted: Mapping | None = None) -> str:
    """A synthetic control (12): the recorded effect with its conformal CI, bed days averted, the
    placebo p-value and the donor pool."""
    text = estimate(effect)
    if averted and isinstance(averted.get("value"), int | float):
        text += f" Over the year after the transition, {estimate(dict(averted, sentence=None, label='bed days averted'))}"
    if p_value and isinstance(p_value.get("value"), int | float):
        text += f" Placebo-in-space p-value {format_p(p_value['value'])} (the share of areas with an effect this large)."
    if donors and isinstance(donors.get("value"), Mapping):
        used, pool = donors["value"].get("used"), donors["value"].get("pool")
        text += f" The control is built from {used} of {pool} other areas."
    return text


def ratios(table: Mapping, label: str, what: str) -> str:
    """Each row's ratio (`ratio`, `ratio_lower`, `ratio_upper`) with its CI in words: "<row>: <what>
    2.31 (95% CI 2.10 to 2.54)"; rows with no ratio say why (`note`)."""
    parts = []
    for row in _rows(table):
        name = row_label(row.get(label))
        if row.get("ratio") is None:
            parts.append(f"{name}: no ratio" + (f" ({row['note']})" if row.get("note") else ""))
        else:
            parts.append(f"{name}: {what} {_ci(row, 'ratio')}")
    return "; ".join(parts) + "." if parts else ""


def proportions(table: Mapping, label: str) -> str:
    """Rows of "of_n out of out_of_n" with a percentage and, where recorded, its 95% CI."""
    parts = []
    for row in _rows(table):
        name = row_label(row.get(label))
        if row.get("percent") is None:
            parts.append(f"{name}: {format_cell(row.get('of_n'))}")
            continue
        shown = _ci(row, "percent", "lower", "upper")
        parts.append(f"{name}: {shown}% ({format_cell(row.get('of_n'))} of {format_cell(row.get('out_of_n'))})")
    return "; ".join(parts) + "." if parts else ""


def first_and_last(table: Mapping, label: str, columns: Mapping[str, str]) -> str:
    """How columns moved from a table's first row to its last ("From 2014/15 to 2023/24, the median
    distance from home went from 11.0 to 9.0 km; ..."); `columns` maps a column to its words with
    a "{}" for the number ("the median distance from home {} km"). Suppressed values say so."""
    rows = _rows(table)
    if len(rows) < 2:
        return ""
    first, last = rows[0], rows[-1]
    parts = [words.format(f"went from {format_cell(first.get(column))} to {format_cell(last.get(column))}")
             for column, words in columns.items()]
    return f"From {row_label(first.get(label))} to {row_label(last.get(label))}, " + "; ".join(parts) + "."


def balancing(table: Mapping) -> str:
    """What the programme must not worsen (13): each balancing measure's ratio after against
    before with its CI and grade; the ones that worsened named first."""
    rows = _rows(table)
    if not rows:
        return "No balancing measure could be compared on this extract."
    worse = [row_label(r.get("measure")) for r in rows if r.get("worsened") is True]
    lead = (f"{len(worse)} of {len(rows)} balancing measures worsened: {', '.join(worse)}." if worse
            else f"None of the {len(rows)} balancing measures worsened.")
    parts = []
    for row in rows:
        shown = _ci(row, "ratio")
        parts.append(f"{row_label(row.get('measure'))}: ratio after to before {shown}, {row.get('grade') or NO_ESTIMATE}")
    return lead + " " + "; ".join(parts) + "."


def cohort(*entries: Mapping | None) -> str:
    """Cohorts (00): each attrition table's people and rows remaining after its last rule, and any
    recorded count, as recorded (rounded)."""
    parts, counted = [], []
    for entry in filter(None, entries):
        if entry.get("kind") == "table" and "check" in (entry.get("columns") or []):
            checks = len(_rows(entry))
            counted.append(f"The extract has {checks} data-quality warning{'s' if checks != 1 else ''}, none stopping "
                           "the analysis (listed above)." if checks else "The extract has no data-quality warnings.")
        elif entry.get("kind") == "table" and _rows(entry):
            last, name = _rows(entry)[-1], str(entry.get("caption") or "a").removeprefix("Attrition of the ")
            rules = len(_rows(entry)) - 1
            parts.append(f"the {name} keeps {format_cell(last.get('people_remaining'))} people "
                         f"({format_cell(last.get('rows_remaining'))} rows) after {rules} rule{'s' if rules != 1 else ''}")
        elif entry.get("kind") == "count":
            counted.append(f"{entry.get('label')}: {format_cell(entry.get('value'))} (rounded to 5).")
    text = ("After its rules, " + "; ".join(parts) + ".") if parts else ""
    return " ".join([text, *counted]).strip()


def attention(dashboard: Mapping, titles: Mapping[str, str] | None = None) -> str:
    """The SPC dashboard (09): how many charts, how many show special cause of concern in the last
    12 months, and which."""
    rows = _rows(dashboard)
    charted = [r for r in rows if not r.get("problem")]
    concern = [r for r in charted if r.get("concern_months")]
    text = f"{len(charted)} of {len(rows)} measure charts could be drawn"
    if not concern:
        return text + "; none shows special cause of concern in the last 12 months."
    names = [str(r.get("label") or r.get("measure")) for r in concern]
    return (text + f"; {len(concern)} show special cause of concern in the last 12 months: " + "; ".join(names)
            + ". The report's index lists them under Needs attention, with the rule each breaks.")
