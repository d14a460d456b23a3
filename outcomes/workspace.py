"""Where a run keeps what it makes, outside the installed package: the user cache, the reports
folder and the scratch folders of notebooks run by hand (the default reference extract's folder is
`outcomes.reference.default_reference_extract`'s, which builds it there; nothing here builds anything).

The package folder itself is never written to: installed from a wheel it sits in site-packages,
and in a clone it is source code under git. Two ways in are supported:

* **a clone** (the package imported from a source checkout, as `make install` sets it up): the
  default reference extract is the clone's `data/reference` (what `make reference` builds) and
  notebooks run by hand write to the clone's `reports/scratch/` (both git-ignored);
* **an installed wheel**: the default reference extract is built once, on first use, into
  `$OUTCOMES_CACHE/reference-<version>` (default `~/.cache/outcomes`), and scratch goes to
  `./reports/scratch/` of the working directory.

`outcomes report` writes to `./reports` of the working directory unless `--reports` says otherwise.

A report run's private temporary folders (its measure cache of unsuppressed counts, its kernels'
logs and connection files) are `run_temporary(kind)`: `outcomes-run-<pid>-<kind>-XXXX` in the
system's temporary folder, mode 0700, removed when the run ends. A run killed outright (kill -9)
cannot remove them, so every run first removes those of runs no longer alive
(`remove_dead_runs`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from outcomes import resources

__all__ = ["cache_dir", "source_checkout", "reports_dir", "scratch_dir", "run_temporary", "remove_dead_runs"]

#: the start of a run's temporary folders' names; the process id follows
RUN_PREFIX = "outcomes-run-"
_RUN_NAME = re.compile(rf"{RUN_PREFIX}(?P<pid>\d+)-")

def cache_dir() -> Path:
    """The user's cache folder for outcomes (`$OUTCOMES_CACHE`, else ~/.cache/outcomes); not created."""
    return Path(os.environ.get("OUTCOMES_CACHE") or Path.home() / ".cache" / "outcomes")


def source_checkout() -> Path | None:
    """The repository the package is imported from (a clone with `pyproject.toml` naming the
    `outcomes` project beside the package folder), or None for an installed wheel."""
    package = resources.package_root()
    root = package.parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("name") == "outcomes" else None


def _inside_package(folder: Path) -> bool:
    return folder.resolve().is_relative_to(resources.package_root().resolve())


def reports_dir() -> Path:
    """Where `outcomes report` publishes by default: `./reports` of the working directory."""
    return Path.cwd() / "reports"


def scratch_dir(notebook: str) -> Path:
    """Where a notebook run by hand writes its results, figures and tables (not created).

    A clone's `reports/scratch/<notebook>`; otherwise `./reports/scratch/<notebook>` of the working
    directory, or `<cache>/scratch/<notebook>` when the working directory is inside the installed
    package.
    """
    checkout = source_checkout()
    if checkout:
        return checkout / "reports" / "scratch" / notebook
    if _inside_package(Path.cwd()):
        return cache_dir() / "scratch" / notebook
    return reports_dir() / "scratch" / notebook


def run_temporary(kind: str) -> Path:
    """A new private folder (mode 0700) for this process's run: `outcomes-run-<pid>-<kind>-XXXX` in
    the system's temporary folder. The caller removes it; `remove_dead_runs` removes it if the
    process dies first."""
    return Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-{kind}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_dead_runs(folder: Path | None = None) -> list[str]:
    """Remove the temporary folders of runs whose process is no longer alive (killed before they
    could clean up), and of older runs that did not record theirs; returns the names removed."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for path in folder.glob(f"{RUN_PREFIX}*"):
        match = _RUN_NAME.match(path.name)
        if match and _alive(int(match["pid"])):
            continue
        if path.is_dir() and path.stat().st_uid == os.getuid():  # only this user's
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed
