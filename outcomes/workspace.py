"""Where a run keeps what it makes, outside the installed package: the user cache, the default
reference extract, the reports folder and the scratch folders of notebooks run by hand.

The package folder itself is never written to: installed from a wheel it sits in site-packages,
and in a clone it is source code under git. Two ways in are supported:

* **a clone** (the package imported from a source checkout, as `make install` sets it up): the
  default reference extract is the clone's `data/reference` (what `make reference` builds) and
  notebooks run by hand write to the clone's `reports/scratch/` (both git-ignored);
* **an installed wheel**: the default reference extract is built once, on first use, into
  `$OUTCOMES_CACHE/reference-<version>` (default `~/.cache/outcomes`), and scratch goes to
  `./reports/scratch/` of the working directory.

`outcomes report` writes to `./reports` of the working directory unless `--reports` says otherwise.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from outcomes import resources

__all__ = ["cache_dir", "source_checkout", "default_reference_extract", "reports_dir", "scratch_dir"]

#: the scale of the default reference extract (1 = the south London collaborative, 3.6 million residents)
DEFAULT_REFERENCE_SCALE = 1.0


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


def default_reference_extract(*, build: bool = True) -> Path:
    """The folder of the built-in synthetic reference extract, generated on first use (about 30 s).

    A clone's `data/reference`; for an installed package `<cache>/reference-<version>` (a new
    version of the generator gets a new folder). `build=False` only names the folder.
    """
    from outcomes import __version__

    checkout = source_checkout()
    folder = checkout / "data" / "reference" if checkout else cache_dir() / f"reference-{__version__}"
    if build and not (folder / "truth.json").is_file():
        from filelock import FileLock

        from outcomes.reference import write_reference_extract

        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder) + ".lock"):  # two notebooks started together build it once
            if not (folder / "truth.json").is_file():
                print(f"building the synthetic reference extract in {folder} (first use only, about 30 s)",
                      file=sys.stderr, flush=True)
                write_reference_extract(folder, scale=DEFAULT_REFERENCE_SCALE)
    return folder


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
