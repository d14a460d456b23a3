"""The index's key messages: three to six sentences a board reads first, each with its number, its
95% confidence interval and its evidence grade in words, written from `results.json`.

Grades are `outcomes.programme.evidence`'s words (confirmed; consistent, not confirmed; not
confirmed, estimate the other way; contradicted; matches, value withheld; no estimate). A result
that records its own `evidence` (a notebook grading a published claim) keeps it; `grade` grades
the others with `grade_direction`, against the published claim (a word such as "fewer", or a
published number's sign), else against the direction of the estimate itself ("is there a change?").

>>> grade({"kind": "ratio", "value": 0.67, "ci": [0.45, 1.0048], "published": {"value": "fewer"}})
'consistent, not confirmed'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from outcomes.programme.evidence import NO_ESTIMATE, WITHHELD, grade_direction

__all__ = ["grade", "claim_words", "KeyMessage", "key_messages", "MAX_MESSAGES"]

REDACTED = "[REDACTED]"
#: at most this many key messages (one per notebook)
MAX_MESSAGES = 6


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def claim_words(entry: dict) -> str | None:
    """The claim a result is graded against: the published claim's word ("fewer"), "lower" or
    "higher" for a published number, else the direction of the estimate itself; None if neither."""
    null = 1.0 if entry.get("kind") == "ratio" else 0.0
    published = entry.get("published") or {}
    claim = published.get("value") if isinstance(published, dict) else published
    if isinstance(claim, str) and claim != REDACTED:
        return claim
    number = _number(claim)
    if number is None:
        number = _number(entry.get("value"))
    if number is None or number == null:
        return None
    return "lower" if number < null else "higher"


def grade(entry: dict) -> str | None:
    """The evidence grade of a recorded result (one of `outcomes.programme.evidence.GRADES`, without
    its explanation); None for a result that is not an estimate (text, a table)."""
    if entry.get("evidence"):
        return str(entry["evidence"]).split(":")[0].split(" (")[0]
    if entry.get("value") == REDACTED:
        return WITHHELD
    point = _number(entry.get("value"))
    if point is None:
        return None
    claim = claim_words(entry)
    ci = entry.get("ci")
    bounds = [_number(b) for b in ci] if isinstance(ci, list) and len(ci) == 2 else [None, None]
    if claim is None or None in bounds:
        return NO_ESTIMATE
    try:
        return grade_direction(claim, point, min(bounds), max(bounds), ratio=entry.get("kind") == "ratio").grade
    except ValueError:  # a claim in words with no direction
        return NO_ESTIMATE


@dataclass
class KeyMessage:
    text: str  #: the sentence, with its number and CI
    evidence: str  #: one of outcomes.programme.evidence.GRADES
    notebook: str
    name: str


def _has_ci(entry: dict) -> bool:
    ci = entry.get("ci")
    return isinstance(ci, list) and len(ci) == 2 and all(_number(b) is not None for b in ci)


def key_messages(results: dict[str, dict[str, dict]], describe) -> list[KeyMessage]:
    """Up to `MAX_MESSAGES` sentences, one per notebook: its first headline result with a CI (else
    its first headline result), said in the result's `sentence`, or `describe(entry)` (the
    headline table's words: label, change and CI) where it has none."""
    chosen = []
    for notebook, entries in results.items():
        headline = [(name, e) for name, e in entries.items() if isinstance(e, dict) and e.get("headline")]
        if not headline:
            continue
        name, entry = next(((n, e) for n, e in headline if _has_ci(e)), headline[0])
        chosen.append((notebook, name, entry))
    chosen.sort(key=lambda item: not _has_ci(item[2]))  # (stable) results with a CI first
    messages = []
    for notebook, name, entry in chosen[:MAX_MESSAGES]:
        evidence = grade(entry)
        if evidence is None:
            continue
        text = entry.get("sentence")
        if not text or text == REDACTED:
            text = describe(entry)
        messages.append(KeyMessage(text.rstrip(". ") + ".", evidence, notebook, name))
    return messages
