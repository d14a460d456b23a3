"""Where the package's own data lives: the notebooks, the data dictionary, the published figures,
the validation data and the report's templates. This module is the one place that finds them.

In a clone (or an editable install of one) `notebooks/` and `data_dictionary/` are read from the
repository's top level, where the design card puts them; `published/`, `validation_data/` and
`report/templates/` live inside the package. Installed from a wheel, all are folders inside the
installed `outcomes` package (setup.py's build_py copies the top-level two in), found with
`importlib.resources`.
Wheels install unzipped, so `importlib.resources.files` gives a real folder; `package_folder`
checks that and raises otherwise rather than handing back a traversable `pathlib` code cannot read.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

__all__ = ["package_root", "repository_root", "package_folder", "dictionary_dir", "published_dir", "notebooks_dir",
           "validation_data_dir",
           "templates_dir"]

#: folders kept at the repository's top level in a clone, and inside the package in a wheel
TOP_LEVEL = ("notebooks", "data_dictionary")


def package_root() -> Path:
    """The folder of the imported `outcomes` package (site-packages/outcomes, or a clone's outcomes/)."""
    return Path(str(resources.files("outcomes")))


def repository_root() -> Path | None:
    """The clone the package is imported from (the folder above the package, whose `pyproject.toml`
    names the `outcomes` project), or None for a package installed from a wheel."""
    root = package_root().parent
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return root if project.get("name") == "outcomes" else None


def package_folder(name: str) -> Path:
    """A data folder of the package, as a filesystem path: for `notebooks` and `data_dictionary`
    the clone's top-level folder, else (and in an installed wheel) the folder inside the package."""
    root = repository_root() if name in TOP_LEVEL else None
    folder = (root if root is not None else package_root()) / name
    if not folder.is_dir():
        raise FileNotFoundError(f"the outcomes package has no data folder {name!r} at {folder}; "
                                "was it installed from a wheel built without its package data?")
    return folder


def dictionary_dir() -> Path:
    """The data contract (`data_dictionary/`; `outcomes/data_dictionary` in a wheel)."""
    return package_folder("data_dictionary")


def published_dir() -> Path:
    """The published figures to reproduce, with sources and tolerances (`outcomes/published`)."""
    return package_folder("published")


def notebooks_dir() -> Path:
    """The analysis notebooks the quarterly report runs (`notebooks/`; `outcomes/notebooks` in a wheel)."""
    return package_folder("notebooks")


def validation_data_dir() -> Path:
    """Published data sets the methods-validation notebook reproduces (`outcomes/validation_data`)."""
    return package_folder("validation_data")


def templates_dir() -> Path:
    """The report's Jinja templates: front page, notebook page, their CSS and script (`outcomes/report/templates`)."""
    return package_folder("report/templates")
