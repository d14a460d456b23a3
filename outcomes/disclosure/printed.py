"""Printed text read for counts: a page must not print a count that `results.json` would round or
suppress (notebook 01 once printed its unrounded bed-day totals, 44363, beside the recorded 44365).

What a page prints is prose, not a table with count-named columns, so a count is known by its
words. :func:`counts_in_text` reads as a count every whole number followed (within three words) by
a noun that counts people or their care (:data:`COUNT_NOUNS`: "44,363 bed days", "6 out-of-area
placements", "3 people"), written "n = 6", or listed after "Counts:" ("Counts (rounded to 5, 1-7
suppressed): baseline 4,545; post 3,080.", as `outcomes.notebook.Run.said` prints the counts a
sentence rests on). Not counts, as the issue's labels are not:

* numbers in a range or a threshold ("ages 13-15", "1-7 suppressed", "fewer than 8 admissions",
  "at least 8 stays and 8 discharges", "8 or more people", "< 8"), which state a rule, not data;
* labels: step, stage, row, line, table, figure, page, notebook, version or lag numbers, ages
  ("aged 16"), years ("in 2019 admissions", "March 2019 CYP", "2023/24", "2024-03"), a multiplier
  ("per 100,000 CYP");
* percentages, decimals (rates, ratios), and digits inside codes ("E09000022", "2024Q1", "RV5").

:func:`printed_text` gathers what an executed notebook prints (streams, Markdown, plain text where
nothing richer is shown, and the prose of HTML outputs outside their tables, which the output
checker reads by their headers); :func:`html_prose` the prose of an HTML page. Both
`outcomes check-outputs` (:mod:`outcomes.disclosure.checker`) and the report's test read printed
text this way, and hold each count to the rules results.json keeps (:func:`uncontrolled`: 0, or
above 7 and a multiple of 5).

:func:`printed_numbers` and :func:`unrounded_counts` keep the older, wider net: any whole number
printed within 2 of a recorded count of 100 or more without being it (an unrounded total printed
without its noun, as in a dict).
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from outcomes.disclosure.rules import REDACT_AT_OR_BELOW, ROUNDING_BASE

__all__ = ["COUNT_NOUNS", "PrintedCount", "counts_in_text", "printed_text", "html_prose", "uncontrolled",
           "printed_numbers", "recorded_counts", "unrounded_counts"]

#: nouns that make the whole number before them a count of people or of their care
COUNT_NOUNS = (
    "people", "persons?", "patients?", "child(?:ren)?", "young people", "CYP", "individuals?", "users?",
    "admissions?", "stays?", "spells?", "placements?", "escalations?", "attendances?", "referrals?",
    "contacts?", "events?", "episodes?", "discharges?", "detentions?", "deaths?", "bed[ -]days?",
    "records?", "rows?", "cases?", "incidents?", "attempts?", "assessments?",
)
#: words that may stand between a count and its noun ("44,365 occupied bed days") but not these,
#: which make the noun another number's ("3 times the admissions", "2 of 3 admissions")
_NOT_BETWEEN = {"times", "per", "of", "in", "than", "to", "and", "or", "from", "with", "for", "by", "at", "on",
                "the", "a", "an", "is", "are", "was", "were", "more", "fewer", "less", "over", "under", "vs"}
_NUMBER = re.compile(r"(?<![\w.,/£$€])(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?(?![\w%£$]|[.,/]\d)")
_NOUN = re.compile(r"\s+((?:[A-Za-z&'()-]+\s+){0,3}?)(?:%s)\b" % "|".join(COUNT_NOUNS), re.IGNORECASE)
_N_EQUALS = re.compile(r"\bn\s*[=:]\s*$", re.IGNORECASE)
#: the words just before a number that make it a label or a threshold
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:than|least|most|under|over|below|above|step|stage|row|line|table|figure|fig\.|page|notebook|cell|"
    r"version|lag|aged?|ages|per|top)|[<>\u2264\u2265=~#]|\d\s*[-\u2013])\s*$",
    re.IGNORECASE)
#: a threshold carried on: "at least 8 stays and 8 discharges"
_THRESHOLD_GOES_ON = re.compile(r"\b(?:than|least|most|under|over|below|above)\s+\d[\d,]*\s+(?:[A-Za-z&'-]+\s+){0,3}"
                                r"(?:and|or|nor)\s*$", re.IGNORECASE)
#: the words just before a year ("in 2019 admissions fell")
_YEAR_BEFORE = re.compile(r"\b(?:in|since|from|until|to|during|year|years|FY|of|by|before|after|"
                          r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
                          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?\s*$", re.IGNORECASE)
#: the words just after a number that make it a threshold or a range's start
_LABEL_AFTER = re.compile(r"^(?:\s*(?:[-\u2013]\s*\d|\+|or (?:more|fewer|over|under|less|above|below)|and (?:over|above)"
                          r"|to \d))", re.IGNORECASE)


@dataclass(frozen=True)
class PrintedCount:
    """A whole number printed as a count, with the words around it (for the finding)."""

    value: int
    context: str

    def __str__(self) -> str:
        return f"{self.value:,} in {self.context!r}"


#: a list of counts: "Counts (rounded to 5, 1-7 suppressed): baseline 4,545; post 3,080." (`Run.said`)
_COUNTS_LIST = re.compile(r"\bCounts?\b(?:\s*\([^)]*\))?\s*:([^\n]*?)(?:\.(?:\s|$)|\n|$)")


def counts_in_text(text: str) -> list[PrintedCount]:
    """Every whole number `text` presents as a count (see the module docstring)."""
    listed = {m.start(): m for part in _COUNTS_LIST.finditer(text)
              for m in _NUMBER.finditer(text, part.start(1), part.end(1))}
    found = []
    for match in _NUMBER.finditer(text):
        before, after = text[max(0, match.start() - 40):match.start()], text[match.end():match.end() + 80]
        year = "," not in match.group(1) and 1900 <= int(match.group(1)) <= 2100 and _YEAR_BEFORE.search(before)
        if _N_EQUALS.search(before) or match.start() in listed:
            counted = True
        elif year or _LABEL_BEFORE.search(before) or _THRESHOLD_GOES_ON.search(before) or _LABEL_AFTER.match(after):
            counted = False
        else:
            noun = _NOUN.match(after)
            counted = bool(noun) and not ({w.lower() for w in noun.group(1).split()} & _NOT_BETWEEN)
        if counted:
            context = " ".join(text[max(0, match.start() - 30):match.end() + 30].split())
            found.append(PrintedCount(int(match.group(1).replace(",", "")), context))
    return found


def uncontrolled(counts: Iterable[PrintedCount], redact_at_or_below: int = REDACT_AT_OR_BELOW,
                 rounding_base: int = ROUNDING_BASE) -> list[PrintedCount]:
    """The printed counts disclosure control would have changed: 1 to `redact_at_or_below`
    (suppressed in results.json), or any other not a multiple of `rounding_base`."""
    return [c for c in counts
            if c.value != 0 and (c.value <= redact_at_or_below or (rounding_base > 1 and c.value % rounding_base))]


class _Prose:
    """Text of an HTML fragment outside <table>, <script> and <style> (tables are read by their headers)."""

    _SKIP = re.compile(r"<(table|script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
    _TAG = re.compile(r"<[^>]+>")

    @classmethod
    def of(cls, fragment: str) -> str:
        text = cls._SKIP.sub(" ", fragment)
        text = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", " ", text)
        return html.unescape(cls._TAG.sub(" ", text))


def html_prose(page: str) -> str:
    """The prose of an HTML page or fragment: its text outside tables, scripts and styles."""
    return _Prose.of(page)


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def printed_text(notebook: Mapping | str | Path) -> str:
    """What an executed notebook's outputs print: streams, Markdown, the prose of HTML outputs, and
    plain text where the output has nothing richer (a DataFrame's text repr repeats its HTML table)."""
    if not isinstance(notebook, Mapping):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    texts = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                texts.append(_joined(output["text"]))
            data = output.get("data", {}) or {}
            if "text/markdown" in data:
                texts.append(_joined(data["text/markdown"]))
            if "text/html" in data:
                texts.append(html_prose(_joined(data["text/html"])))
            if "text/plain" in data and not ({"text/markdown", "text/html"} & set(data)
                                             or any(kind.startswith("image/") for kind in data)):
                texts.append(_joined(data["text/plain"]))
    return "\n".join(texts)


# ------------------------------------------------------------------ near a recorded count
_ANY_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?(?![\d.,]\d)")


def printed_numbers(notebook: str | Path) -> set[int]:
    """The whole numbers shown in an executed notebook's outputs (counts or not)."""
    import nbformat

    book = nbformat.read(str(notebook), as_version=4)
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            data = output.get("data", {})
            texts += [str(data.get(kind, "")) for kind in ("text/plain", "text/html", "text/markdown")]
    return {int(match.replace(",", "")) for match in _ANY_NUMBER.findall("\n".join(texts))}


def recorded_counts(entries: Mapping[str, dict]) -> set[int]:
    """The counts a notebook's recorded results rest on (`counts` of each entry), as recorded."""
    return {int(value) for entry in entries.values() if isinstance(entry, dict)
            for value in (entry.get("counts") or {}).values()
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)}


def unrounded_counts(printed: Iterable[int], recorded: Iterable[int], *, within: int = 2,
                     at_least: int = 100) -> list[tuple[int, int]]:
    """(printed, recorded) pairs: a printed number within `within` of a recorded count of at least
    `at_least` but not equal to it (rounding to 5 moves a count by at most 2)."""
    printed = set(printed)
    return sorted((n, c) for c in set(recorded) if c >= at_least for n in printed if n != c and abs(n - c) <= within)
