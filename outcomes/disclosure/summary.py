"""The output-checking summary written with every report, for a human output checker to sign off.

OpenSAFELY's Airlock asks a researcher to say, for each file released, what it is and how its
counts were made safe, and shows the checker the files. This module writes that summary for a
report folder: ``output_check.html`` (a page linked from the index) and ``output_check.csv``, one
row per published file with

* ``kind``: table (CSV), figure (PNG), notebook page (HTML), executed notebook (ipynb), results
  or manifest (JSON), the index page, this summary;
* ``smallest_nonzero_count``: the smallest non-zero number the checker
  (:func:`outcomes.disclosure.counts_in_file`) reads as a count in it ("none" if it holds none;
  "not machine-readable" for images, which must be drawn from controlled counts);
* ``all_counts_rounded``: "yes" if every such count is a multiple of the rounding base;
* ``suppressed_cells``: how many "[REDACTED]" markers it shows; ``why``: the rule that put them
  there, from what :func:`outcomes.results.record_table` recorded (cells of 1-7, cells
  suppressed to protect them from totals, values built on them, model rows of small groups).

The rules it documents, against NHS England's MHSDS publication rules and OpenSAFELY's, are in
:data:`RULES` (shown on the page) and in :mod:`outcomes.disclosure`.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Mapping
from pathlib import Path

from outcomes.disclosure.checker import counts_in_file
from outcomes.disclosure.rules import REDACT_AT_OR_BELOW, REDACTED, ROUNDING_BASE

__all__ = ["RULES", "SUMMARY_CSV", "SUMMARY_HTML", "output_check_rows", "write_output_check"]

SUMMARY_CSV, SUMMARY_HTML = "output_check.csv", "output_check.html"
COLUMNS = ["file", "kind", "smallest_nonzero_count", "all_counts_rounded", "suppressed_cells", "why"]

#: the rules applied here, beside NHS England's MHSDS rules and OpenSAFELY's (rule, here, MHSDS, OpenSAFELY)
RULES = [
    ("Small counts", f"1-{REDACT_AT_OR_BELOW} redacted; 0 shown",
     "under 5 suppressed", "1-7 redacted"),
    ("Rounding", f"other counts rounded to the nearest {ROUNDING_BASE}",
     "other counts rounded to the nearest 5", "other counts rounded to the nearest 5"),
    ("Rates, percentages", "suppressed when any count they are built on is",
     "suppressed when the numerator or denominator is small",
     "suppressed with the counts they are built on"),
    ("Totals and margins", "recomputed from the rounded cells, or the true total rounded with "
     "secondary suppression so no suppressed cell is recoverable by subtraction",
     "totals rounded like any other count", "secondary suppression where a redacted cell could be derived from totals; output checkers review"),
    ("Model outputs", f"rows published only for groups with at least {REDACT_AT_OR_BELOW + 1} people "
     "and events; otherwise withheld with the reason", "not covered", "reviewed by output checkers"),
    ("Survival curves", f"each curve stops where fewer than {REDACT_AT_OR_BELOW + 1} are at risk; "
     "numbers at risk rounded", "not covered", "underlying counts must pass the small-number rule"),
]

_KINDS = {".csv": "table (CSV)", ".tsv": "table (TSV)", ".png": "figure (PNG)", ".svg": "figure (SVG)",
          ".html": "notebook page (HTML)", ".ipynb": "executed notebook (ipynb)", ".json": "results (JSON)"}


def _kind(rel: str) -> str:
    if rel == "index.html":
        return "index page (HTML)"
    if rel == "manifest.json":
        return "manifest (JSON)"
    if rel.endswith(".results.json"):
        return "recorded results (JSON)"
    return _KINDS.get(Path(rel).suffix.lower(), f"other ({Path(rel).suffix or 'no suffix'})")


def _why(note: Mapping | None) -> list[str]:
    if not note:
        return []
    reasons = []
    primary, secondary = note.get("primary_suppressed"), note.get("secondary_suppressed")
    if primary is not None:
        reasons.append(f"{primary} count(s) of 1-{REDACT_AT_OR_BELOW} and {secondary} more so that none "
                       "is recoverable from the totals")
    elif note.get("count_cells_redacted"):
        reasons.append(f"{note['count_cells_redacted']} count(s) of 1-{REDACT_AT_OR_BELOW}")
    if note.get("derived_cells_redacted"):
        reasons.append(f"{note['derived_cells_redacted']} value(s) built on a suppressed count")
    if note.get("rows_withheld"):
        reasons.append(f"{note['rows_withheld']} model row(s) withheld: {note.get('rule', '')}")
    return reasons


def _table_notes(results: Mapping) -> dict[str, list[str]]:
    """{report-relative file: reasons} from the tables recorded in results.json."""
    notes: dict[str, list[str]] = {}
    for entries in results.values():
        for entry in entries.values():
            if isinstance(entry, Mapping) and entry.get("kind") == "table" and entry.get("file"):
                notes[entry["file"]] = _why(entry.get("disclosure"))
    return notes


def output_check_rows(folder: str | Path, results: Mapping | None = None) -> list[dict]:
    """One dict per file in the report ``folder`` (see the module docstring), given its gathered
    ``results`` (notebook -> name -> entry, as results.json)."""
    folder = Path(folder)
    notes = _table_notes(results or {})
    rows = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        if rel in (SUMMARY_CSV, SUMMARY_HTML):
            continue
        kind = _kind(rel)
        suffix = file.suffix.lower()
        if suffix in (".png", ".jpg", ".jpeg", ".svg", ".pdf"):
            rows.append({"file": rel, "kind": kind, "smallest_nonzero_count": "not machine-readable",
                         "all_counts_rounded": "drawn from rounded counts", "suppressed_cells": "",
                         "why": "figures are drawn from disclosure-controlled counts; check by eye"})
            continue
        seen, _ = counts_in_file(file)
        positive = [v for v in seen if v > 0 and not math.isnan(v)]
        smallest = f"{min(positive):g}" if positive else "none"
        rounded = all(math.isclose(v % ROUNDING_BASE, 0, abs_tol=1e-9) for v in positive)
        text = file.read_text(encoding="utf-8", errors="replace") if suffix in (".csv", ".tsv", ".html", ".json",
                                                                                ".ipynb") else ""
        markers = text.count(REDACTED)
        why = notes.get(rel, [])
        if markers and not why:
            why = [f"shows counts of 1-{REDACT_AT_OR_BELOW} and values built on them, redacted as in its tables "
                   "and recorded results"]
        rows.append({"file": rel, "kind": kind, "smallest_nonzero_count": smallest,
                     "all_counts_rounded": ("yes" if rounded else "NO") if positive else "no counts",
                     "suppressed_cells": str(markers), "why": "; ".join(why)})
    return rows


def write_output_check(folder: str | Path, results: Mapping | None = None) -> Path:
    """Write ``output_check.csv`` and ``output_check.html`` into the report ``folder``; returns the page."""
    folder = Path(folder)
    rows = output_check_rows(folder, results)
    with open(folder / SUMMARY_CSV, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    esc = html.escape
    body = "".join("<tr>" + "".join(f"<td>{esc(str(row[c]))}</td>" for c in COLUMNS) + "</tr>\n" for row in rows)
    rules = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in rule) + "</tr>\n" for rule in RULES)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Output-checking summary</title>
<style>body{{font-family:Arial,sans-serif;margin:2em;color:#212b32}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #d8dde0;padding:4px 8px;text-align:left;vertical-align:top}}th{{background:#f0f4f5}}</style>
</head><body>
<p><a href="index.html">Back to the report</a></p>
<h1>Output-checking summary</h1>
<p>Every file in this report, with what an output checker needs to sign it off (as OpenSAFELY's Airlock
asks): its kind, the smallest non-zero count the disclosure checker reads in it, whether every such count
is rounded to {ROUNDING_BASE}, how many values are suppressed ("{esc(REDACTED)}") and why.
Figures cannot be read by the checker: they are drawn from disclosure-controlled counts.</p>
<table><thead><tr>{"".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in COLUMNS)}</tr></thead>
<tbody>
{body}</tbody></table>
<h2>The rules, beside NHS England's MHSDS publication rules and OpenSAFELY's</h2>
<table><thead><tr><th>what</th><th>this report</th><th>NHS England MHSDS statistics</th><th>OpenSAFELY</th></tr></thead>
<tbody>
{rules}</tbody></table>
</body></html>
"""
    path = folder / SUMMARY_HTML
    path.write_text(page, encoding="utf-8")
    return path
