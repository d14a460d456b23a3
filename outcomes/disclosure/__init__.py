"""Statistical disclosure control for anything published (docs/design.md, "Statistical disclosure control").

* :mod:`outcomes.disclosure.rules`: thresholds, the count-naming convention, redaction and rounding;
* :mod:`outcomes.disclosure.checker`: the output checker of a finished folder (`outcomes check-outputs DIR`,
  `python -m outcomes.disclosure DIR`);
* :mod:`outcomes.disclosure.printed`: printed text read for counts (by their words), for the checker;
* :mod:`outcomes.disclosure.margins`: secondary suppression for tables published with their totals;
* :mod:`outcomes.disclosure.models`: model tables only for groups of 8+ people and events;
* :mod:`outcomes.disclosure.summary`: the output-checking summary written with every report.

The names below are re-exported so ``from outcomes.disclosure import redact_table`` keeps working.
"""

from outcomes.disclosure.checker import (DisclosureError, FolderChecker, OutputCheck, OutputFinding,
                                         assert_output_folder_clean, check_output_folder, counts_in_file, main)
from outcomes.disclosure.rules import (COUNT_NAMES, COUNT_PREFIXES, COUNT_SUFFIXES, DEFAULT_KEEP, REDACT_AT_OR_BELOW,
                                       REDACTED, ROUNDING_BASE, format_count, is_count_name, plottable_counts,
                                       redact_derived_columns, redact_results, redact_table, round_count)

__all__ = [
    "plottable_counts", "REDACT_AT_OR_BELOW", "ROUNDING_BASE", "REDACTED", "COUNT_NAMES", "COUNT_SUFFIXES",
    "COUNT_PREFIXES", "DEFAULT_KEEP", "is_count_name", "round_count", "format_count", "redact_table", "redact_results",
    "OutputFinding", "OutputCheck", "DisclosureError", "check_output_folder", "FolderChecker",
    "redact_derived_columns", "counts_in_file", "assert_output_folder_clean", "main",
]
