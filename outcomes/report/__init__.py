"""The quarterly report: run the parameterised notebooks, render them, publish one checked folder.

`outcomes report --quarter 2024Q1` (see `outcomes.commands.report`) calls `build_report`, which
uses the modules here, one idea each:

* `parameters`  the quarter and the notebook contract: the parameters the runner owns, their defaults
* `execution/`  running the notebooks: `runner` (papermill, progress), `pool` (the workers), `warm_kernels`
                and `kernel_state` (a kernel kept between notebooks), `schedule` (longest first)
* `render`      executed notebooks as self-contained HTML (code hidden, nothing fetched remotely)
* `index`       the front page: headline table, key figures, analyses, data quality, provenance
* `messages`    its key messages, graded in evidence words; `attention` its "needs attention" list
                from the SPC charts, with names beside codes; `downloads` every table's CSV and tables.xlsx
* `manifest`    provenance: versions, git commit, lock file and extract hashes, timings
* `publish`     the per-quarter lock, the build folder and the atomic swap
* `build`       the whole run, in order

Notebooks record what the report shows with `outcomes.results` (`record`, `record_table`,
`record_figure`). Names are imported lazily so that `outcomes --help` stays quick.
"""

from __future__ import annotations

import importlib

__all__ = ["REPORT_TITLE", "CONTRACT", "Quarter", "ReportOutcome", "build_report", "find_notebooks", "parse_quarter", "notebook_parameters"]

_WHERE = {
    "REPORT_TITLE": "build", "ReportOutcome": "build", "build_report": "build", "find_notebooks": "build",
    "CONTRACT": "parameters", "Quarter": "parameters", "parse_quarter": "parameters",
    "notebook_parameters": "parameters",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"outcomes.report.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'outcomes.report' has no attribute {name!r}")
