"""One notebook contract: the runner owns the defaults, `notebook_parameters` fills a notebook's
None parameters with them, the runner injects only what a notebook declares, and every notebook
starts one session (`outcomes.notebook.start`) that holds the extract cut to its period, the
measures, the programme and the recorders; where a run keeps things (outcomes.workspace);
`outcomes notebooks DIR` copies the collection without overwriting."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat
import pytest
from extract_factory import write_extract

import outcomes.reference as reference
import outcomes.workspace as workspace
from outcomes import __version__
from outcomes.cli import main
from outcomes.commands.notebooks import collection_files
from outcomes.source.contract.dictionary import load_dictionary
from outcomes.errors import UserError
from outcomes.report import build_report
from outcomes.report.parameters import (CONTRACT, DEFAULT_GO_LIVE, DEFAULT_TRANSITION_MONTHS, NotebookParameters,
                                        declared_parameters, notebook_parameters)
from outcomes.resources import notebooks_dir, package_root

ROOT = Path(__file__).resolve().parents[1]
COLLABORATIVE = load_dictionary().codes["collaborative"]


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The package as a wheel install sees it: no clone, the cache in tmp_path, cwd elsewhere."""
    monkeypatch.setattr(workspace, "source_checkout", lambda: None)
    monkeypatch.setenv("OUTCOMES_CACHE", str(tmp_path / "cache"))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def no_building(*args, **kwargs):
    raise AssertionError("the reference extract was built although it exists or was not needed")


def test_defaults_fill_every_none(installed, monkeypatch):
    reference = write_extract(installed / "cache" / f"reference-{__version__}")  # the built-in one, already there
    (reference / "truth.json").write_text("{}")
    monkeypatch.setattr("outcomes.reference.write_reference_extract", no_building)
    namespace = {name: None for name in CONTRACT}
    resolved = notebook_parameters("01_bed_days", namespace)
    assert resolved == NotebookParameters(
        extract=str(reference), period_end="2024-03-31", go_live=DEFAULT_GO_LIVE,
        transition_months=DEFAULT_TRANSITION_MONTHS, footprint=COLLABORATIVE.group("footprint"),
        providers=COLLABORATIVE.group("network_providers"), targets={},
        output_dir=str(installed / "work" / "reports" / "scratch" / "01_bed_days"))
    assert namespace["footprint"] == list(COLLABORATIVE.group("footprint")) and len(namespace["footprint"]) == 12
    assert namespace["extract"] == str(reference) and namespace["transition_months"] == 6


def test_the_reference_extract_is_built_once_on_first_use(installed, monkeypatch):
    built = []

    def fake_build(folder, **kwargs):
        built.append(kwargs)
        write_extract(Path(folder))
        (Path(folder) / "truth.json").write_text("{}")

    monkeypatch.setattr("outcomes.reference.write_reference_extract", fake_build)
    first = notebook_parameters("05_dbt_mirror_image", {"extract": None, "output_dir": None})
    second = notebook_parameters("05_dbt_mirror_image", {"extract": None, "output_dir": None})
    assert first.extract == second.extract == str(installed / "cache" / f"reference-{__version__}")
    assert built == [{"scale": reference.DEFAULT_REFERENCE_SCALE}]


def test_injected_values_are_kept_and_undeclared_names_left_alone(installed, monkeypatch, tmp_path):
    monkeypatch.setattr("outcomes.reference.write_reference_extract", no_building)
    extract = write_extract(tmp_path / "mine")
    namespace = {"extract": str(extract), "period_end": "2023-12-31", "go_live": "2021-10-01",
                 "transition_months": 3, "footprint": ["E09000022"], "providers": ["RV5"],
                 "output_dir": str(tmp_path / "out"), "other": 1}
    resolved = notebook_parameters("01_bed_days", namespace)
    assert resolved.go_live == "2021-10-01" and resolved.footprint == ("E09000022",)
    assert namespace["period_end"] == "2023-12-31" and namespace["output_dir"] == str(tmp_path / "out")
    only_output = {"output_dir": None, "validation_data": ""}
    resolved = notebook_parameters("07_methods_validation", only_output)
    assert only_output == {"output_dir": str(installed / "work" / "reports" / "scratch" / "07_methods_validation"),
                           "validation_data": ""}
    assert resolved.extract is None and resolved.footprint is None  # nothing built for a notebook without an extract


@pytest.mark.parametrize("given, words", [
    ({"go_live": "October 2017"}, "01_bed_days parameters: go_live: 'October 2017' is not a date"),
    ({"transition_months": -1}, "transition_months must be a whole number"),
    ({"footprint": ["Lambeth"]}, "'Lambeth' not codes like E09000022"),
    ({"period_end": "end of March"}, "period_end: 'end of March' is not a date"),
])
def test_bad_values_are_user_errors_naming_the_notebook(installed, given, words):
    with pytest.raises(UserError, match=words):
        notebook_parameters("01_bed_days", {"extract": "/x", "output_dir": "/y", **given})


def test_a_clone_uses_its_data_reference_and_reports_scratch(monkeypatch):
    assert workspace.source_checkout() == ROOT  # these tests run from a clone (editable install)
    assert reference.default_reference_extract(build=False) == ROOT / "data" / "reference"
    monkeypatch.chdir(notebooks_dir())  # JupyterLab on notebooks/
    assert workspace.scratch_dir("01_bed_days") == ROOT / "reports" / "scratch" / "01_bed_days"


def test_scratch_never_goes_inside_the_installed_package(installed, monkeypatch):
    monkeypatch.chdir(package_root())
    assert workspace.scratch_dir("01_bed_days") == installed / "cache" / "scratch" / "01_bed_days"


def test_declared_parameters_read_the_parameters_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("output_dir = go_live = None\nquarter = '2024Q1'\nmine = 2",
                                  metadata={"tags": ["parameters"]}),
    ])
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert declared_parameters(tmp_path / "n.ipynb") == ("go_live", "output_dir")  # contract order; quarter is not one


def _notebook_declaring(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Declares two"),
        nbformat.v4.new_code_cell(source, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('from outcomes import notebook\nrun = notebook.start("01_two", globals())'),
        nbformat.v4.new_code_cell("run.record('go_live_year', run.programme.go_live.year)"),
    ])
    nbformat.write(nb, folder / "01_two.ipynb")
    return folder


def test_the_runner_injects_only_what_a_notebook_declares(tmp_path):
    extract = write_extract(tmp_path / "extract")
    notebooks = _notebook_declaring(tmp_path / "notebooks", "go_live = output_dir = None")
    outcome = build_report("2024Q1", source=extract, notebooks_dir=notebooks, reports_dir=tmp_path / "reports", jobs=1)
    assert outcome.ok, [r.failure for r in outcome.runs]
    executed = nbformat.read(outcome.folder / "notebooks" / "01_two.ipynb", as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    names = {t.id for node in ast.parse(injected.source).body for t in node.targets}
    assert names == {"go_live", "output_dir"}


#: what a notebook reads from its session for each contract name it declares (footprint and
#: providers may also be read by name: cohorts declared in the notebook take them)
NEEDS = {"extract": {"extract", "measures"}, "period_end": {"extract", "measures"}, "go_live": {"programme"},
         "transition_months": {"programme"}, "footprint": {"measures"}, "providers": {"measures"}}
#: what charts SPC from the session's measures, and so needs the report's targets
SPC_CALLS = {"catalogue_spc", "measure_spc"}
#: the preamble and hidden channels the session replaces
OLD_PREAMBLE = ("notebook_parameters(", "open_analysis_extract", "outcomes.results", "catalogue(", ".until(", "end=period_end")


def _code_cells(nb, skip_tags=("parameters",)):
    for cell in nb.cells:
        if cell.cell_type == "code" and not set(cell.metadata.get("tags", [])) & set(skip_tags):
            yield "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.mark.parametrize("path", sorted(notebooks_dir().glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_notebook_starts_one_session_and_reads_the_run_through_it(path):
    """Contract names are None (the runner owns the defaults); the first code cell after the
    parameters starts the session; no cell repeats the old preamble or reads the extract, the
    period, the programme's dates or the output folder by name (one meaning each, in the session);
    a notebook declares exactly the names its session needs, plus output_dir."""
    nb = nbformat.read(path, as_version=4)
    index, cell = next((i, c) for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    values = {t.id: node.value for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
              for t in node.targets if isinstance(t, ast.Name)}
    declared = set(declared_parameters(path))
    assert "output_dir" in declared, f"{path.name}: declare output_dir = None (where results are recorded)"
    not_none = sorted(n for n in declared if not (isinstance(values[n], ast.Constant) and values[n].value is None))
    assert not not_none, f"{path.name}: contract parameters {not_none} must be None (defaults belong to the runner)"
    session = next(c for c in nb.cells[index + 1:] if c.cell_type == "code")
    assert f'run = notebook.start("{path.stem}", globals())' in session.source, \
        f"{path.name}: the first code cell after the parameters must start the session"
    code = "\n".join(_code_cells(nb))
    assert code.count("notebook.start(") == 1, f"{path.name}: one session per notebook"
    old = [words for words in OLD_PREAMBLE if words in code]
    assert not old, f"{path.name}: {old}: the session replaces these (run.extract, run.measures, run.record...)"
    trees = [ast.parse(source) for source in _code_cells(nb)]
    read = {n.id for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    by_name = read & {"extract", "period_end", "go_live", "transition_months", "output_dir"}
    assert not by_name, f"{path.name}: reads {sorted(by_name)} by name; use the session (run.extract, run.programme, ...)"
    used = {n.attr for tree in trees for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "run"}
    needed = {name for name, attributes in NEEDS.items() if used & attributes} | (read & {"footprint", "providers"})
    if read & SPC_CALLS and "measures" in used:  # a target is read by SPC charts only (run.measures carries it)
        needed.add("targets")
    unneeded = declared - {"output_dir"} - needed
    assert not unneeded, f"{path.name}: declares {sorted(unneeded)} but its session never needs them"
    missing = needed - {"transition_months"} - declared  # the programme's default transition serves go_live alone
    assert not missing, f"{path.name}: needs {sorted(missing)} without declaring them = None"
    assert path.with_suffix(".py").is_file(), f"{path.name}: no jupytext pair {path.stem}.py (see notebooks/README.md)"


def test_packaged_notebooks_declare_only_contract_names_or_their_own():
    for path in sorted(notebooks_dir().glob("*.ipynb")):
        assert set(declared_parameters(path)) <= set(CONTRACT) and "output_dir" in declared_parameters(path), path.name


def test_notebooks_command_copies_the_collection(tmp_path, capsys):
    target = tmp_path / "mine"
    assert main(["notebooks", str(target)]) == 0
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(p.name for p in collection_files())
    assert {"README.md", "jupytext.toml", "01_bed_days.ipynb", "01_bed_days.py"} <= set(names)
    for path in collection_files():
        assert (target / path.name).read_bytes() == path.read_bytes()
    notebooks = [n for n in names if n.endswith(".ipynb")]
    assert f"copied {len(notebooks)} notebooks" in capsys.readouterr().out and len(notebooks) >= 8


def test_notebooks_command_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "01_bed_days.py").write_text("# my edits\n")
    (target / "notes.txt").write_text("kept")
    assert main(["notebooks", str(target)]) == 2
    err = capsys.readouterr().err
    assert "1 file(s) already there, nothing copied" in err and "01_bed_days.py" in err
    assert sorted(p.name for p in target.iterdir()) == ["01_bed_days.py", "notes.txt"]
    assert (target / "01_bed_days.py").read_text() == "# my edits\n"
    (tmp_path / "file").write_text("")
    assert main(["notebooks", str(tmp_path / "file")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_report_defaults_to_reports_in_the_working_directory(installed, monkeypatch, tmp_path):
    extract = write_extract(tmp_path / "extract")
    notebooks = _notebook_declaring(tmp_path / "notebooks", "go_live = output_dir = None")
    assert main(["report", "--quarter", "2024Q1", "--extract", str(extract), "--notebooks", str(notebooks)]) == 0
    index = (installed / "work" / "reports" / "2024Q1" / "index.html").read_text()
    assert "installed package (not a git checkout)" in index  # no git state of the working directory
    shutil.rmtree(installed / "work" / "reports")


def test_notebooks_command_says_how_to_register_the_kernel_when_missing(tmp_path, monkeypatch, capsys):
    import outcomes.commands.notebooks as command

    monkeypatch.setattr(command, "_kernel_registered", lambda: False)
    assert main(["notebooks", str(tmp_path / "mine")]) == 0
    assert "-m ipykernel install --user --name outcomes" in capsys.readouterr().out
    monkeypatch.setattr(command, "_kernel_registered", lambda: True)
    assert main(["notebooks", str(tmp_path / "other")]) == 0
    assert "ipykernel install" not in capsys.readouterr().out
