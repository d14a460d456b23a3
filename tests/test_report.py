"""`outcomes report`: the runner end to end on tiny fixture notebooks (tests/notebooks/).

One good report is built once per session (shared by pytest-xdist workers) and only read; tests
that publish, fail or refuse work on a copy of its reports folder, so "the last good report is
untouched" is checked against real files.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest
import yaml
from extract_factory import tiny_tables, write_extract
from filelock import FileLock

from outcomes.cli import main
from outcomes.source import open_source
from outcomes.report.build import disclosure_problems
from outcomes.report.parameters import CONTRACT
from outcomes.report.render import external_references, relative_links

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "notebooks"
QUARTER = "2024Q1"
GOOD = ("01_records", "04_quick")


# ----------------------------------------------------------------------------- helpers
def fixture_notebooks(folder: Path, *names: str) -> Path:
    """A folder holding copies of the named fixture notebooks."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / f"{name}.ipynb", folder / f"{name}.ipynb")
    return folder


def synthetic_extract(folder: Path, tables=None) -> Path:
    """The tiny extract, labelled synthetic in its extract.yaml."""
    write_extract(folder, tables)
    meta = yaml.safe_load((folder / "extract.yaml").read_text())
    (folder / "extract.yaml").write_text(yaml.safe_dump({**meta, "source": "synthetic"}))
    return folder


def report_args(extract: Path, notebooks: Path, reports: Path, *extra: str) -> list[str]:
    return ["report", "--quarter", QUARTER, "--extract", str(extract), "--notebooks", str(notebooks),
            "--reports", str(reports), *extra]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under a folder, by relative path."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@contextmanager
def lock_held_by_another_process(path: Path, seconds: float):
    """Another process holds the quarter's lock for `seconds` (as a running report would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); "
         "lock.acquire(); print('held', flush=True); time.sleep(float(sys.argv[2]))", str(path), str(seconds)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.wait(timeout=60)


def leftovers(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


@pytest.fixture(scope="session")
def good_report(tmp_path_factory) -> dict:
    """A published report of 01_records and 04_quick, built once per session."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker else base  # xdist workers share their parent folder
    home = shared / "good_report"
    with FileLock(str(shared / "good_report.lock")):
        done = home / "done.json"
        if not done.exists():
            extract = synthetic_extract(home / "extract")
            notebooks = fixture_notebooks(home / "notebooks", *GOOD)
            reports = home / "reports"
            started = time.perf_counter()
            out, err = io.StringIO(), io.StringIO()
            with redirect_stdout(out), redirect_stderr(err):
                code = main(report_args(extract, notebooks, reports, "--jobs", "2"))
            done.write_text(json.dumps({
                "code": code, "out": out.getvalue(), "err": err.getvalue(),
                "seconds": time.perf_counter() - started,
                "extract": str(extract), "notebooks": str(notebooks), "reports": str(reports),
            }))
        info = json.loads(done.read_text())
    assert info["code"] == 0, info["err"]
    info["folder"] = str(Path(info["reports"]) / QUARTER)
    return info


@pytest.fixture
def quick_setup(tmp_path) -> tuple[Path, Path]:
    """(extract, notebooks) for tests that stop before running anything."""
    return synthetic_extract(tmp_path / "extract"), fixture_notebooks(tmp_path / "notebooks", "04_quick")


@pytest.fixture
def reports_copy(good_report, tmp_path) -> Path:
    """A private copy of the good report's reports/ folder."""
    copy = tmp_path / "reports"
    shutil.copytree(good_report["reports"], copy)
    return copy


# ----------------------------------------------------------------------------- success
def test_success_publishes_a_complete_report(good_report):
    folder = Path(good_report["folder"])
    reports = folder.parent
    assert "published" in good_report["out"] and str(folder / "index.html") in good_report["out"]
    for line in ("01_records", "04_quick"):
        assert re.search(rf"{line}\s+done\s+\d+\.\d s", good_report["err"]), good_report["err"]
    expected = {"index.html", "results.json", "manifest.json", "notebooks/01_records.ipynb", "notebooks/01_records.html",
                "notebooks/04_quick.ipynb", "notebooks/04_quick.html", "outputs/01_records/bed_days_series.png",
                "outputs/01_records/stays_by_provider.csv", "outputs/01_records/01_records.results.json",
                "outputs/04_quick/04_quick.results.json"}
    assert expected <= set(snapshot(folder))
    assert leftovers(reports) == [] and not (reports / f"{QUARTER}.failed").exists()
    assert oct(folder.stat().st_mode & 0o777) != oct(0o700), "the published folder is readable by others as usual"


def test_results_json_is_keyed_by_notebook_and_disclosure_controlled(good_report):
    results = json.loads((Path(good_report["folder"]) / "results.json").read_text())
    assert list(results) == ["01_records", "04_quick"]
    headline = results["01_records"]["bed_days_per_month"]
    assert headline["headline"] is True and headline["ci"] == [-20.25, -4.75]
    assert headline["published"] == {"value": 41, "source": "A published statistic"}
    assert results["01_records"]["people_n"]["value"] == "[REDACTED]"  # 3 people
    assert results["01_records"]["mean_stay_days"]["value"] == 39.0
    assert results["01_records"]["reporting_period_end"]["value"] == "2024-03-31"
    figure = results["01_records"]["bed_days_series"]
    assert figure["file"] == "outputs/01_records/bed_days_series.png" and (Path(good_report["folder"]) / figure["file"]).is_file()
    table = results["01_records"]["stays_by_provider"]
    assert [row["stays_n"] for row in table["rows"]] == [10, "[REDACTED]", 30]
    text = (Path(good_report["folder"]) / "results.json").read_text()
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "no timestamps in results.json"


def test_manifest_records_provenance(good_report):
    manifest = json.loads((Path(good_report["folder"]) / "manifest.json").read_text())
    extract = open_source(good_report["extract"])
    assert manifest["report"]["quarter"] == QUARTER and manifest["report"]["period_end"] == "2024-03-31"
    assert manifest["package"]["version"]
    if (ROOT / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}", manifest["package"]["commit"])
    lock = ROOT / "requirements.lock"
    assert manifest["requirements_lock_sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert manifest["extract"]["files_sha256"] == extract.file_hashes()
    assert manifest["extract"]["metadata"]["source"] == "synthetic"
    assert set(manifest["parameters"]) == set(CONTRACT) - {"output_dir"}
    assert [n["name"] for n in manifest["notebooks"]] == list(GOOD)
    assert all(n["status"] == "done" and n["seconds"] > 0 for n in manifest["notebooks"])
    assert manifest["versions"]["pandas"] and manifest["versions"]["papermill"]
    assert manifest["execution"]["kernel"].startswith("outcomes")


def test_notebooks_receive_the_contract_and_run_on_the_project_kernel(good_report):
    nb = nbformat.read(Path(good_report["folder"]) / "notebooks" / "04_quick.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    names = {t.id for node in ast.parse(injected.source).body for t in node.targets}
    assert names == set(CONTRACT)
    assert 'period_end = "2024-03-31"' in injected.source and "quarter" not in injected.source
    assert nb.metadata.kernelspec.name == "outcomes"
    assert nb.metadata.papermill.output_path == "notebooks/04_quick.ipynb"


def test_index_page_has_headline_figures_links_quality_and_provenance(good_report):
    folder = Path(good_report["folder"])
    html = (folder / "index.html").read_text()
    assert "CAMHS Tier 4 provider collaborative: outcomes report 2024Q1" in html
    assert "Synthetic data" in html
    assert "Bed days per month" in html and "\u221212.5 (95% CI \u221220.2 to \u22124.75)" in html
    assert "Key messages" in html and "Evidence: " in html  # graded in words
    assert 'href="tables.xlsx"' in html and 'href="output_check.html"' in html  # downloads
    results = json.loads((folder / "results.json").read_text())
    for entries in results.values():  # every table's CSV is linked
        for entry in entries.values():
            if isinstance(entry, dict) and entry.get("kind") == "table":
                assert f'href="{entry["file"]}"' in html
    assert "A published statistic" in html and ">41<" in html.replace("\n", "")
    assert html.count("<img ") == 2 and html.count('src="data:image/png;base64,') == 2
    assert 'href="notebooks/01_records.html"' in html and 'href="notebooks/04_quick.ipynb"' in html
    assert "EthnicCategory" in html  # the tiny extract's data-quality warning
    assert hashlib.sha256((ROOT / "requirements.lock").read_bytes()).hexdigest() in html
    for link in relative_links(html):
        assert (folder / link).is_file(), f"index.html links to missing {link}"


def test_pages_are_self_contained_and_hide_code(good_report):
    folder = Path(good_report["folder"])
    for page in sorted(folder.rglob("*.html")):
        text = page.read_text()
        assert external_references(text, include_links=True) == [], page
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), page
        for link in relative_links(text):
            assert (page.parent / link).resolve().is_file(), f"{page.name} links to missing {link}"
    notebook_page = (folder / "notebooks" / "01_records.html").read_text()
    assert "record_table(" not in notebook_page and "plots.use_house_style" not in notebook_page
    assert "stays_n" in notebook_page and "data:image/png;base64," in notebook_page
    assert "require.min.js" not in notebook_page and "mathjax" not in notebook_page.lower()


def test_published_report_passes_the_disclosure_checker(good_report):
    folder = Path(good_report["folder"])
    assert disclosure_problems(folder, open_source(good_report["extract"]).person_ids()) == []


def test_rerunning_a_quarter_gives_the_same_results(good_report, reports_copy, capsys):
    before = (reports_copy / QUARTER / "results.json").read_bytes()
    manifest_before = json.loads((reports_copy / QUARTER / "manifest.json").read_text())
    code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), Path(good_report["notebooks"]), reports_copy))
    assert code == 0, err
    assert (reports_copy / QUARTER / "results.json").read_bytes() == before
    manifest_after = json.loads((reports_copy / QUARTER / "manifest.json").read_text())
    assert manifest_after["notebooks"] != manifest_before["notebooks"] or manifest_after["report"] != manifest_before["report"]
    assert leftovers(reports_copy) == []


def test_fresh_kernels_give_the_results_of_kept_ones(good_report, tmp_path, capsys):
    reports = tmp_path / "reports"
    code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), Path(good_report["notebooks"]), reports,
                                              "--fresh-kernels", "--jobs", "1"))
    assert code == 0, err
    kept = Path(good_report["folder"])
    assert (reports / QUARTER / "results.json").read_bytes() == (kept / "results.json").read_bytes()
    outputs = sorted(p.relative_to(kept) for p in (kept / "outputs").rglob("*") if p.is_file())
    assert outputs and all((reports / QUARTER / p).read_bytes() == (kept / p).read_bytes() for p in outputs)
    assert json.loads((reports / QUARTER / "manifest.json").read_text())["execution"]["kernel"].endswith("one per notebook")


# ----------------------------------------------------------------------------- failure
def test_failing_notebook_names_notebook_and_cell_and_keeps_last_good(good_report, reports_copy, tmp_path, capsys):
    good_before = snapshot(reports_copy / QUARTER)
    notebooks = fixture_notebooks(tmp_path / "notebooks", "02_raises")
    code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), notebooks, reports_copy))
    assert code == 1
    assert '02_raises: cell 4 "compute-rates" raised ValueError: denominator is zero' in err
    assert "last good report is untouched" in err and f"{QUARTER}.failed" in err
    assert "Traceback" not in err
    assert snapshot(reports_copy / QUARTER) == good_before
    failed = reports_copy / f"{QUARTER}.failed"
    assert "denominator is zero" in (failed / "notebooks" / "02_raises.html").read_text()
    assert (failed / "notebooks" / "02_raises.ipynb").is_file()
    assert "Not published" in (failed / "index.html").read_text()
    assert json.loads((failed / "manifest.json").read_text())["report"]["status"] == "failed"
    assert leftovers(reports_copy) == []


def test_report_with_a_person_id_is_refused(good_report, reports_copy, tmp_path, capsys):
    good_before = snapshot(reports_copy / QUARTER)
    notebooks = fixture_notebooks(tmp_path / "notebooks", "03_prints_person_id")
    code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), notebooks, reports_copy))
    assert code == 1
    assert "REFUSED to publish" in err and "a Person_ID from the extract" in err
    assert "notebooks/03_prints_person_id.html" in err
    assert "P001" not in err + out, "identifiers are never echoed"
    assert snapshot(reports_copy / QUARTER) == good_before
    assert (reports_copy / f"{QUARTER}.failed" / "notebooks" / "03_prints_person_id.html").is_file()


def test_report_with_a_credential_is_refused(good_report, reports_copy, tmp_path, capsys):
    """A notebook that prints a URL with a password: refused, and the password is never echoed."""
    good_before = snapshot(reports_copy / QUARTER)
    notebooks = fixture_notebooks(tmp_path / "notebooks", "05_prints_credential")
    code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), notebooks, reports_copy))
    assert code == 1
    assert "REFUSED to publish" in err and "credential 'postgresql://analyst:***@db.trust.nhs.uk:5432/outcomes'" in err
    assert "hunter2" not in err + out
    assert snapshot(reports_copy / QUARTER) == good_before


def test_invalid_extract_stops_before_any_notebook_runs(tmp_path, capsys):
    tables = tiny_tables()
    tables["MHS502WardStay"].loc[0, "MHAdmittedPatientClass"] = "999"
    extract = write_extract(tmp_path / "broken", tables)
    reports = tmp_path / "reports"
    code, out, err = cli(capsys, *report_args(extract, fixture_notebooks(tmp_path / "nb", "04_quick"), reports))
    assert code == 2
    assert "MHS502WardStay.MHAdmittedPatientClass" in err and "Traceback" not in err
    assert "running" not in err
    assert not reports.exists() or [p.name for p in reports.iterdir() if not p.name.endswith(".lock")] == []


@pytest.mark.parametrize("args, words", [
    (["--quarter", "2024Q5"], "expected a calendar quarter"),
    (["--quarter", "2024Q2"], "before the end of 2024Q2"),
    (["--only", "99"], "is not a notebook"),
    (["--jobs", "0"], "give 1 or more"),
])
def test_user_errors_exit_2(quick_setup, tmp_path, capsys, args, words):
    base = report_args(*quick_setup, tmp_path / "reports")
    if "--quarter" in args:
        base = base[:1] + base[3:]
    code, out, err = cli(capsys, *base, *args)
    assert code == 2 and words in err, err


def test_params_file_unknown_key_lists_known_ones(quick_setup, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text("golive: 2021-10-01\n")
    code, out, err = cli(capsys, *report_args(*quick_setup, tmp_path / "r"), "--params", str(params))
    assert code == 2
    assert "unknown parameter(s) golive; known: go_live, transition_months, footprint, providers" in err


# ----------------------------------------------------------------------------- concurrency
def test_second_run_of_the_same_quarter_is_refused(good_report, reports_copy, capsys):
    good_before = snapshot(reports_copy / QUARTER)
    with lock_held_by_another_process(reports_copy / f".{QUARTER}.lock", 20) as holder:
        started = time.perf_counter()
        code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), Path(good_report["notebooks"]), reports_copy))
        assert time.perf_counter() - started < 10, "refused at once, not after the other run"
        holder.kill()
    assert code == 2
    assert "another run of the 2024Q1 report is in progress" in err and "--wait" in err
    assert snapshot(reports_copy / QUARTER) == good_before


def test_wait_queues_behind_the_running_report_then_publishes_partial(good_report, reports_copy, tmp_path, capsys):
    """--wait, and --only: a partial run (here with a go_live override) never replaces the full report."""
    full_before = snapshot(reports_copy / QUARTER)
    params = tmp_path / "params.yaml"
    params.write_text("go_live: 2020-04-01\ntransition_months: 3\n")
    with lock_held_by_another_process(reports_copy / f".{QUARTER}.lock", 1.5):
        code, out, err = cli(capsys, *report_args(Path(good_report["extract"]), Path(good_report["notebooks"]), reports_copy),
                             "--wait", "--only", "04", "--params", str(params))
    assert code == 0, err
    assert "waiting for the other run of 2024Q1" in err
    partial = reports_copy / f"{QUARTER}.partial"
    results = json.loads((partial / "results.json").read_text())
    assert list(results) == ["04_quick"] and results["04_quick"]["go_live_year"]["value"] == 2020
    assert "Partial report" in (partial / "index.html").read_text()
    assert snapshot(reports_copy / QUARTER) == full_before


# ----------------------------------------------------------------------------- notebooks in git
def _repo_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def _assigned_names(source: str) -> set[str]:
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


@pytest.mark.parametrize("path", _repo_notebooks() + sorted(FIXTURES.glob("*.ipynb")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_in_git_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {index} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {index} has an execution count"
    assert "papermill" not in nb.metadata, f"{path.name} is an executed notebook, not a source"
    parameters = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1, f"{path.name}: exactly one cell must be tagged `parameters`"


def test_every_report_carries_an_output_checking_summary(good_report):
    """output_check.html/.csv list every published file with its kind, smallest count, rounding and
    what was suppressed and why, beside the rules set against MHSDS and OpenSAFELY."""
    import csv

    folder = Path(good_report["folder"])
    rows = {r["file"]: r for r in csv.DictReader(open(folder / "output_check.csv", encoding="utf-8"))}
    published = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(rows) == published - {"output_check.csv", "output_check.html"}
    assert rows["index.html"]["kind"] == "index page (HTML)"
    assert all(r["all_counts_rounded"] in ("yes", "no counts", "drawn from rounded counts") for r in rows.values())
    page = (folder / "output_check.html").read_text(encoding="utf-8")
    assert "MHSDS" in page and "OpenSAFELY" in page
