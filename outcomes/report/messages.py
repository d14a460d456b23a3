"""The index's key messages: three to six sentences a board reads first, each with its number, its
95% confidence interval and its evidence grade in words, written from `results.json`.

Evidence words (docs/design.md, "Evidence words"): a claim set beside a reproduced value is
*confirmed* (the CI excludes no change, in the claimed direction), *consistent but not confirmed*
(the point is in the claimed direction, the CI includes no change, or there is no CI),
*contradicted* (the point lies the other way) or *matches with the value withheld* (disclosure
control withheld the number). A result that records its own `evidence` keeps it; this module
grades the others, in this one place. The claimed direction is the published claim's (a number's
sign, or a word such as "fewer"), else the result's own `claim`, else the direction of its point.

>>> grade({"kind": "ratio", "value": 0.67, "ci": [0.45, 1.0048], "published": {"value": "fewer"}})
'consistent but not confirmed'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["EVIDENCE_WORDS", "grade", "claimed_direction", "KeyMessage", "key_messages", "no_change_value",
           "MAX_MESSAGES"]

#: the four grades, strongest first
EVIDENCE_WORDS = ("confirmed", "consistent but not confirmed", "contradicted", "matches with the value withheld")
REDACTED = "[REDACTED]"
#: at most this many key messages (one per notebook)
MAX_MESSAGES = 6
_DOWN = ("fewer", "lower", "shorter", "less", "reduced", "decrease", "down", "smaller")
_UP = ("more", "higher", "longer", "greater", "increase", "up", "larger")


def no_change_value(kind: str | None) -> float:
    """The value meaning "no change": 1 for a ratio, 0 for a difference, percent change or estimate."""
    return 1.0 if kind == "ratio" else 0.0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def claimed_direction(entry: dict) -> int:
    """+1 (the claim is an increase), -1 (a decrease) or 0 (no claim), from the published figure or
    the entry's own `claim` ("increase"/"decrease")."""
    published = entry.get("published") or {}
    claim = published.get("value") if isinstance(published, dict) else published
    if claim is None:
        claim = entry.get("claim")
    number = _number(claim)
    if number is not None:
        null = no_change_value(entry.get("kind"))
        return (number > null) - (number < null)
    if isinstance(claim, str):
        words = claim.lower()
        if any(word in words for word in _DOWN):
            return -1
        if any(word in words for word in _UP):
            return 1
    return 0


def grade(entry: dict) -> str | None:
    """The evidence grade of a recorded result in words (`EVIDENCE_WORDS`); None for a result that
    is not an estimate (text, a table)."""
    if entry.get("evidence"):
        return str(entry["evidence"])
    value = entry.get("value")
    if value == REDACTED:
        return EVIDENCE_WORDS[3]
    point = _number(value)
    if point is None:
        return None
    null = no_change_value(entry.get("kind"))
    direction = claimed_direction(entry) or (1 if point > null else -1 if point < null else 0)
    if direction == 0 or (point - null) * direction < 0:
        return EVIDENCE_WORDS[2] if direction else EVIDENCE_WORDS[1]
    ci = entry.get("ci")
    bounds = [_number(b) for b in ci] if isinstance(ci, list) and len(ci) == 2 else [None, None]
    if None in bounds:
        return EVIDENCE_WORDS[1]
    excludes = min(bounds) > null if direction > 0 else max(bounds) < null
    return EVIDENCE_WORDS[0] if excludes else EVIDENCE_WORDS[1]


@dataclass
class KeyMessage:
    text: str  #: the sentence, with its number and CI
    evidence: str  #: one of EVIDENCE_WORDS
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
