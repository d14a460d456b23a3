"""Printed output against recorded results: a page must not print a count that `results.json`
rounds or suppresses (notebook 01 once printed its unrounded bed-day totals, 44363, beside the
recorded 44365).

`printed_numbers(notebook)` reads the whole numbers a notebook's outputs show (streams, text and
HTML), thousands separators allowed; `unrounded_counts(printed, recorded)` lists each printed number
within `within` of a recorded (rounded) count of at least `at_least` without being equal to it:
the unrounded count leaking beside its rounded value. Numbers in labels (step numbers, age bands)
are not counts and are not near a recorded count by chance once counts of 100 or more are compared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

__all__ = ["printed_numbers", "recorded_counts", "unrounded_counts"]

_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?(?![\d.,]\d)")


def printed_numbers(notebook: str | Path) -> set[int]:
    """The whole numbers shown in an executed notebook's outputs."""
    import nbformat

    book = nbformat.read(str(notebook), as_version=4)
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            data = output.get("data", {})
            texts += [str(data.get(kind, "")) for kind in ("text/plain", "text/html", "text/markdown")]
    return {int(match.replace(",", "")) for match in _NUMBER.findall("\n".join(texts))}


def recorded_counts(entries: Mapping[str, dict]) -> set[int]:
    """The counts a notebook's recorded results rest on (`counts` of each entry), as recorded."""
    return {int(value) for entry in entries.values() if isinstance(entry, dict)
            for value in (entry.get("counts") or {}).values()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def unrounded_counts(printed: Iterable[int], recorded: Iterable[int], *, within: int = 2,
                     at_least: int = 100) -> list[tuple[int, int]]:
    """(printed, recorded) pairs: a printed number within `within` of a recorded count of at least
    `at_least` but not equal to it (rounding to 5 moves a count by at most 2)."""
    printed = set(printed)
    return sorted((n, c) for c in set(recorded) if c >= at_least for n in printed if n != c and abs(n - c) <= within)
