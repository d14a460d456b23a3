"""The package stands on its own: the wheel and sdist carry the data dictionary, published figures,
notebooks and validation data, and the wheel, installed into a fresh virtual environment, works
from a folder outside the repository; nothing in the repository reads files from beside it.

The wheel is built offline from the working tree's files (tracked and new, not ignored) with the
locked setuptools' PEP 517 hooks, and installed with `--no-deps --no-index` into a venv layered on
the locked environment: a `.pth` line puts `.venv`'s site-packages on the path without running its
`.pth` files, so the repository's editable `outcomes` is not importable there (checked).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from outcomes import __version__
from outcomes import resources
from outcomes.resources import TOP_LEVEL

ROOT = Path(__file__).resolve().parents[1]
#: package data every distribution must carry, as (folder inside outcomes/, a file that must be there)
PACKAGE_DATA = {
    "data_dictionary": ("tables/MHS502WardStay.yaml", "codes/collaborative.yaml", "README.md"),
    "published": ("camhs_tier4_collaborative.yaml", "linden_2015_prop99.yaml"),
    "notebooks": ("01_bed_days.ipynb", "01_bed_days.py", "README.md", "jupytext.toml"),
    "validation_data": ("california_prop99.csv", "deaths_and_temps_england_wales.csv", "README.md"),
    "report/templates": ("report_index.html.j2", "report_index.css", "notebook_page.html.j2", "image_check.html"),
}


def _source_files() -> list[str]:
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def _expected_data() -> set[str]:
    """Every package-data file of the source tree, relative to outcomes/ of the wheel (the top-level
notebooks/ and data_dictionary/ of a clone land in outcomes/notebooks/ and outcomes/data_dictionary/)."""
    wanted = set()
    for folder in PACKAGE_DATA:
        source = ROOT / folder if folder in TOP_LEVEL else ROOT / "outcomes" / folder
        for path in source.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".yaml", ".md", ".ipynb", ".py", ".toml", ".csv", ".j2", ".css", ".html"}:
                wanted.add(f"{folder}/{path.relative_to(source).as_posix()}")
    return wanted


@pytest.fixture(scope="module")
def distributions(tmp_path_factory) -> dict[str, Path]:
    """{'sdist': ..., 'wheel': ...} built offline from a copy of the working tree."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the distributions are built from the files git knows")
    source = tmp_path_factory.mktemp("source")
    for name in _source_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = source / "dist"
    built = subprocess.run(
        [sys.executable, "-c", "import sys; from setuptools import build_meta as b; out = sys.argv[1]; "  # (setuptools rewrites sys.argv)
         "sdist = b.build_sdist(out); wheel = b.build_wheel(out); print('BUILT', sdist, wheel)", str(dist)],
        cwd=source, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    sdist, wheel = next(line for line in built.stdout.splitlines() if line.startswith("BUILT ")).split()[1:]
    return {"sdist": dist / sdist, "wheel": dist / wheel}


def test_wheel_carries_the_package_data(distributions):
    names = set(zipfile.ZipFile(distributions["wheel"]).namelist())
    for folder, files in PACKAGE_DATA.items():
        for name in files:
            assert f"outcomes/{folder}/{name}" in names, f"the wheel lacks outcomes/{folder}/{name}"
    missing = {f"outcomes/{name}" for name in _expected_data()} - names
    assert not missing, f"package data left out of the wheel: {sorted(missing)}"
    assert not [n for n in names if n.startswith(("tests/", "data/", "reports/", "notebooks/", "data_dictionary/"))]


def test_sdist_carries_the_same_package_data(distributions):
    """The sdist keeps the clone's layout: notebooks/ and data_dictionary/ at its top level."""
    with tarfile.open(distributions["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    in_sdist = {name if name.split("/")[0] in TOP_LEVEL else f"outcomes/{name}" for name in _expected_data()}
    missing = in_sdist - names
    assert not missing, f"package data left out of the sdist: {sorted(missing)}"
    assert {"pyproject.toml", "README.md"} <= names


@pytest.fixture(scope="module")
def installed(distributions, tmp_path_factory) -> dict:
    """A fresh venv holding only the wheel, on top of the locked environment's site-packages."""
    home = tmp_path_factory.mktemp("installed")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # a plain path line: the locked site-packages, without processing its .pth files (the editable install)
    Path(purelib, "locked-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(distributions["wheel"])], check=True)
    # the locked environment's Jupyter data files (nbconvert's templates...), but not its kernels,
    # whose "outcomes" runs the editable install
    locked_data = Path(sysconfig.get_paths()["data"]) / "share" / "jupyter"
    (venv / "share" / "jupyter").mkdir(parents=True)
    for entry in locked_data.iterdir():
        if entry.name != "kernels":
            (venv / "share" / "jupyter" / entry.name).symlink_to(entry)
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "outcomes",
                    "--display-name", "Python (outcomes, wheel)"], check=True, capture_output=True)
    work = home / "work"  # the working directory: outside the repository
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "OUTCOMES_DICTIONARY"}}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", OUTCOMES_CACHE=str(home / "cache"),
               JUPYTER_DATA_DIR=str(home / "jupyter"), JUPYTER_PATH="", JUPYTER_PLATFORM_DIRS="1",
               MPLBACKEND="Agg")
    return {"home": home, "venv": venv, "python": python, "work": work, "env": env}


def run(installed: dict, *args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd or installed["work"], env={**installed["env"], **(env or {})},
                          capture_output=True, text=True, timeout=300)


def start(installed: dict, *args: str) -> subprocess.Popen:
    """A command running in the background (the report runs while the quicker checks do)."""
    return subprocess.Popen(list(args), cwd=installed["work"], env=installed["env"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_installed_wheel_works_from_any_folder(installed):
    started = time.perf_counter()
    outcomes = str(installed["venv"] / "bin" / "outcomes")
    work, cache = installed["work"], installed["home"] / "cache"
    where = run(installed, str(installed["python"]), "-c", "import outcomes, outcomes.workspace as w, outcomes.resources as r; "
                "print(outcomes.__file__); print(w.source_checkout()); print(r.notebooks_dir()); print(r.dictionary_dir())")
    package_file, checkout, notebooks, dictionary = where.stdout.split()
    assert package_file.startswith(str(installed["venv"])), f"not the wheel: {where.stdout}{where.stderr}"
    assert checkout == "None"
    package = Path(package_file).parent
    assert (Path(notebooks), Path(dictionary)) == (package / "notebooks", package / "data_dictionary")

    # the small reference extract, written where the built-in one is looked for
    reference = cache / f"reference-{__version__}"
    done = run(installed, outcomes, "reference", "--out", str(reference), "--scale", "0.1")
    assert done.returncode == 0, done.stderr
    report = start(installed, outcomes, "report", "--quarter", "2024Q1", "--extract", str(reference),
                   "--reports", str(work / "published"), "--only", "01")
    try:
        done = run(installed, outcomes, "validate", str(reference))
        assert done.returncode == 0, done.stderr
        assert "valid against the data dictionary" in done.stdout and "MHS502WardStay" in done.stdout

        done = run(installed, outcomes, "measure", "bed_days", "--extract", str(reference), "--start", "2017-01", "--end", "2017-12")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        assert lines[0].startswith("month,") and len(lines) == 13

        (work / "empty-contract").mkdir()
        done = run(installed, outcomes, "validate", str(reference), env={"OUTCOMES_DICTIONARY": str(work / "empty-contract")})
        assert done.returncode == 2 and str(work / "empty-contract") in done.stderr and "Traceback" not in done.stderr

        # the notebooks to edit: copied, never overwritten, and one runs on its defaults from the copy
        assert run(installed, outcomes, "notebooks", "mine").returncode == 0
        again = run(installed, outcomes, "notebooks", "mine")
        assert again.returncode == 2 and "nothing copied" in again.stderr
        done = run(installed, str(installed["python"]), "-m", "papermill", "05_dbt_mirror_image.ipynb", "ran.ipynb",
                   "-k", "outcomes", cwd=work / "mine")
        assert done.returncode == 0, done.stderr[-3000:]
        assert (work / "mine" / "reports" / "scratch" / "05_dbt_mirror_image" / "05_dbt_mirror_image.results.json").is_file()
        assert not list((work / "mine").glob("*.results.json"))

        out, err = report.communicate(timeout=300)
    finally:
        if report.poll() is None:
            report.kill()
    assert report.returncode == 0, err
    published = work / "published" / "2024Q1.partial"
    assert (published / "notebooks" / "01_bed_days.html").is_file()
    manifest = json.loads((published / "manifest.json").read_text())
    assert str(installed["venv"]) in manifest["execution"]["kernel"], manifest["execution"]["kernel"]
    assert manifest["package"]["commit"] is None  # an installed package has no git state
    assert manifest["versions"]["outcomes"] == __version__
    print(f"installed-wheel commands took {time.perf_counter() - started:.1f} s")


def test_a_clone_reads_notebooks_and_contract_from_its_top_level():
    """The design card's layout: in a clone (or its editable install) the notebooks and the data
    dictionary are the repository's top-level folders, not copies inside the package."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert resources.repository_root() == ROOT
    assert resources.notebooks_dir() == ROOT / "notebooks"
    assert resources.dictionary_dir() == ROOT / "data_dictionary"
    assert resources.published_dir() == ROOT / "outcomes" / "published"
    assert not (ROOT / "outcomes" / "notebooks").exists() and not (ROOT / "outcomes" / "data_dictionary").exists()


def test_nothing_in_the_repository_reads_files_from_beside_it():
    """A clone has nothing beside it: no tracked file may name the old shared folder."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    forbidden = ("../" + "shared", "shared/" + "validation")  # spelt in two parts so this file does not match
    offenders = []
    for name in _source_files():
        text = (ROOT / name).read_bytes().decode("utf-8", errors="replace")
        offenders += [f"{name}: {word}" for word in forbidden if word in text]
    assert not offenders, offenders
