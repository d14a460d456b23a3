"""`outcomes notebooks DIR`: copy the packaged report notebooks into DIR to read, edit and run.

Copies every notebook (`.ipynb` with its jupytext `.py` pair), the notebooks' README and
`jupytext.toml`. Nothing is overwritten: if any of those files already exists in DIR, nothing is
copied and the command exits 2 naming them. The copies run top to bottom on their defaults from
DIR (the built-in reference extract is built on first use; results go to ./reports/scratch), and
`outcomes report --notebooks DIR` runs the edited collection as the quarterly report.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from outcomes.errors import UserError
from outcomes.resources import notebooks_dir

HELP = "copy the report notebooks (with their .py pairs, README and jupytext.toml) into DIR to edit; never overwrites"
EXAMPLES = """\
examples:
  outcomes notebooks my-notebooks        # then open them: jupyter lab my-notebooks

Run the edited collection as the quarterly report with `outcomes report --notebooks my-notebooks`.
"""

#: the kernel the notebooks name (outcomes.report.execution.runner.KERNEL_NAME, without importing the runner)
KERNEL_NAME = "outcomes"
#: what a copy of the collection holds, by file pattern
PATTERNS = ("*.ipynb", "*.py", "README.md", "jupytext.toml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="folder to copy the notebooks into (created if missing)")


def collection_files() -> list[Path]:
    """The packaged notebook files a copy holds, sorted by name."""
    source = notebooks_dir()
    return sorted({path for pattern in PATTERNS for path in source.glob(pattern) if path.is_file()})


def copy_notebooks(folder: str | Path) -> list[Path]:
    """Copy the collection into `folder`; raise UserError naming every file already there."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} exists and is not a folder")
    files = collection_files()
    taken = [folder / f.name for f in files if (folder / f.name).exists()]
    if taken:
        shown = ", ".join(p.name for p in taken[:8]) + (f" and {len(taken) - 8} more" if len(taken) > 8 else "")
        raise UserError(f"{folder}: {len(taken)} file(s) already there, nothing copied (never overwritten): {shown}; "
                        "choose an empty folder or move them away")
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(f, folder / f.name)) for f in files]


def run(args: argparse.Namespace) -> int:
    copied = copy_notebooks(args.folder)
    notebooks = sorted(p.stem for p in copied if p.suffix == ".ipynb")
    print(f"copied {len(notebooks)} notebooks ({', '.join(notebooks)}) with their .py pairs, README.md and "
          f"jupytext.toml into {Path(args.folder).resolve()}")
    print(f"  open them with `jupyter lab {args.folder}`; run them as the report with "
          f"`outcomes report --quarter 2024Q1 --notebooks {args.folder}`")
    if not _kernel_registered():
        print(f"  they run on the Jupyter kernel named {KERNEL_NAME!r}; register this Python under that name with "
              f"`{Path(sys.executable).name} -m ipykernel install --user --name {KERNEL_NAME} "
              f"--display-name \"Python (outcomes)\"`")
    return 0


def _kernel_registered() -> bool:
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME in KernelSpecManager().find_kernel_specs()
