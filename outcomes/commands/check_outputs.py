"""`outcomes check-outputs DIR`: the disclosure output checker over a finished folder
(`outcomes.disclosure.checker`; also `python -m outcomes.disclosure DIR`)."""

from __future__ import annotations

from outcomes.disclosure.checker import add_arguments, run

__all__ = ["HELP", "EXAMPLES", "add_arguments", "run"]

HELP = "check an output folder for small or unrounded counts, identifiers and credentials (exit 1 on findings)"
EXAMPLES = """\
examples:
  outcomes check-outputs reports/2024Q1/outputs
  outcomes check-outputs my-outputs --person-ids cohort.parquet --id-column Person_ID
  outcomes check-outputs tables --redact-at-or-below 4 --no-rounding-check
"""
