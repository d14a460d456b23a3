"""Where the package's own data lives: the data dictionary, the published figures, the notebooks
and the validation data, all shipped inside the wheel and found with `importlib.resources`.

Everything here is a folder inside the installed `outcomes` package (an editable install from a
clone points at the clone's `outcomes/`). Wheels install unzipped, so `importlib.resources.files`
gives a real folder; `_folder` checks that and raises otherwise rather than handing back a
traversable that `pathlib` code cannot read.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["package_root", "package_folder", "dictionary_dir", "published_dir", "notebooks_dir", "validation_data_dir"]


def package_root() -> Path:
    """The folder of the imported `outcomes` package (site-packages/outcomes, or a clone's outcomes/)."""
    return Path(str(resources.files("outcomes")))


def package_folder(name: str) -> Path:
    """A data folder shipped inside the `outcomes` package, as a filesystem path."""
    folder = package_root() / name
    if not folder.is_dir():
        raise FileNotFoundError(f"the outcomes package has no data folder {name!r} at {folder}; "
                                "was it installed from a wheel built without its package data?")
    return folder


def dictionary_dir() -> Path:
    """The data contract shipped with the package (`outcomes/data_dictionary`)."""
    return package_folder("data_dictionary")


def published_dir() -> Path:
    """The published figures to reproduce, with sources and tolerances (`outcomes/published`)."""
    return package_folder("published")


def notebooks_dir() -> Path:
    """The analysis notebooks the quarterly report runs (`outcomes/notebooks`)."""
    return package_folder("notebooks")


def validation_data_dir() -> Path:
    """Published data sets the methods-validation notebook reproduces (`outcomes/validation_data`)."""
    return package_folder("validation_data")
