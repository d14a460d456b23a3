"""Inside a kernel kept for the next notebook: put it back as a fresh kernel would be.

`outcomes report` runs a worker's notebooks one after another in one kernel
(`outcomes.report.execution.warm_kernels`), so that pandas, matplotlib, ibis and statsmodels are imported
once per worker rather than once per notebook. Before each notebook the runner calls
`fresh_notebook` in the kernel. The first call records the kernel's state as it started (after
importing matplotlib's pyplot, which sets up the inline backend, and pandas); every call then:

* empties the namespace and the output history and restarts the execution count at 1 (IPython's
  `reset`, without its full garbage collection), so that a notebook cannot use a name another
  notebook left and its cells are numbered as in a new kernel;
* closes every figure and restores matplotlib's settings (the house style is applied anew by each
  notebook that wants it) and pandas' options;
* restores the warning filters and forgets which warnings were shown, so a warning is shown in
  every notebook that triggers it;
* restores the environment (then sets the notebook's own variables), `sys.path` and the working
  directory.

Modules stay imported, with whatever they cache: the package keeps no state between calls that a
notebook could see (its caches are keyed on their inputs). Hand-written: neither papermill nor
nbclient resets a kernel they reuse.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

__all__ = ["warm_up", "fresh_notebook"]

_STARTED: dict[str, Any] | None = None  #: the kernel's state before its first notebook


def _state_at_start() -> dict[str, Any]:
    import matplotlib
    import matplotlib.pyplot  # noqa: F401 - the inline backend sets its settings on import
    import pandas  # noqa: F401 - imported by every notebook; options restored below

    return {
        "rc": {k: v for k, v in matplotlib.rcParams.items() if k not in ("backend", "backend_fallback")},
        "filters": list(warnings.filters),
        "environ": dict(os.environ),
        "path": list(sys.path),
    }


def warm_up(modules: list[str]) -> None:
    """Import `modules` (those most notebooks use), then record the kernel's starting state.
    Called by the runner once, as the kernel starts, while the report is still opening its
    extract; a module that fails to import is left for the notebook that needs it to report."""
    import importlib

    global _STARTED
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001 - the notebook importing it shows the error where it belongs
            pass
    if _STARTED is None:
        _STARTED = _state_at_start()


def fresh_notebook(environ: dict[str, str], cwd: str) -> None:
    """Put this kernel back as it started, then set `environ` (added to the starting environment)
    and change to `cwd`. Called by the report runner before each notebook, never by a notebook."""
    global _STARTED
    if _STARTED is None:
        _STARTED = _state_at_start()
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        # namespace emptied, output history cleared, execution count back to 1; but not the display
        # hook's flush, which ends in a full gc.collect(): 0.2 s a notebook in a kernel holding pandas,
        # Ibis and matplotlib (cycles left are collected by the collector's own schedule)
        hook = shell.displayhook
        full_cache = hook.do_full_cache
        hook.do_full_cache = False
        try:
            shell.reset(new_session=True)
        finally:
            hook.do_full_cache = full_cache
        hook._, hook.__, hook.___ = "", "", ""  # the last three outputs it kept

    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd

    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # setting a deprecated setting or option warns
        matplotlib.rcParams.update(_STARTED["rc"])
        pd.reset_option("all")
    warnings.filters[:] = _STARTED["filters"]
    getattr(warnings, "_filters_mutated", lambda: None)()  # records of warnings already shown are forgotten
    os.environ.clear()
    os.environ.update(_STARTED["environ"])
    os.environ.update(environ)
    sys.path[:] = _STARTED["path"]
    os.chdir(cwd)
