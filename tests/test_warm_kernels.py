"""Kernels reused between a report's notebooks (outcomes.report.execution.warm_kernels): each notebook sees a
kernel as fresh as a new one, a failure takes its kernel with it, and --fresh-kernels opts out."""

import json
from pathlib import Path

import nbformat
import pytest

from outcomes.report.execution.pool import run_notebooks
from outcomes.report.execution.runner import NotebookJob

#: what a notebook finds when it starts, then everything it could leave behind for the next one
PROBE = """\
import json, os, sys, warnings
import matplotlib
import matplotlib.pyplot as plt
found = {
    "pid": os.getpid(),
    "left_behind": "left_behind" in globals(),
    "execution_count": get_ipython().execution_count,
    "cwd": os.getcwd(),
    "output_dir": output_dir,
    "runner_variables": sorted(k for k in os.environ if k in ("OUTCOMES_OUTPUT_DIR", "OUTCOMES_NOTEBOOK")),
    "leaked_variable": os.environ.get("LEAKED"),
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "open_figures": len(plt.get_fignums()),
    "filters": [str(f) for f in warnings.filters],
    "path_leak": "/leaked/path" in sys.path,
}
with open(os.path.join(output_dir, "found.json"), "w") as out:
    json.dump(found, out)
left_behind = 1
os.environ["LEAKED"] = "1"
matplotlib.rcParams["lines.linewidth"] = 7
plt.figure()
warnings.simplefilter("ignore")
sys.path.append("/leaked/path")
os.chdir("/")
"""


def _notebook(folder: Path, name: str, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("output_dir = None")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, *[nbformat.v4.new_code_cell(source) for source in cells]]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _run(tmp_path: Path, sources: dict[str, tuple[str, ...]], **options):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    jobs = []
    for name, cells in sources.items():
        source = _notebook(folder, name, *cells)
        jobs.append(NotebookJob(name, source, tmp_path / "out" / f"{name}.ipynb", tmp_path / "outputs" / name,
                                {"output_dir": str(tmp_path / "outputs" / name)}))
    runs, _ = run_notebooks(jobs, jobs=1, cwd=folder, **options)
    found = {}
    for job in jobs:
        path = job.output_dir / "found.json"
        found[job.name] = json.loads(path.read_text()) if path.exists() else None
    return runs, found, folder


def test_each_notebook_finds_the_kernel_as_fresh_as_a_new_one(tmp_path):
    runs, found, folder = _run(tmp_path, {name: (PROBE,) for name in ("a", "b", "c")})
    assert [run.status for run in runs] == ["done"] * 3
    first = found["a"]
    assert len({f["pid"] for f in found.values()}) == 1  # one kernel served all three
    for name, seen in found.items():
        assert seen["output_dir"] == str(tmp_path / "outputs" / name)  # its parameter: no variable names it
        assert seen["runner_variables"] == []
        assert seen["cwd"] == str(folder)
        assert not seen["left_behind"] and seen["leaked_variable"] is None and not seen["path_leak"]
        assert seen["linewidth"] == first["linewidth"] != 7 and seen["open_figures"] == 0
        assert seen["filters"] == first["filters"]
        assert seen["execution_count"] == first["execution_count"]  # counted from 1, as in a new kernel
    executed = nbformat.read(tmp_path / "out" / "c.ipynb", as_version=4)
    assert [cell.execution_count for cell in executed.cells] == [1, 2, 3]  # parameters, injected, probe


def test_a_warning_is_shown_in_every_notebook_that_triggers_it(tmp_path):
    warn = "import warnings\nwarnings.warn('probe warning')"
    # a warning raised in a package module is shown once per place, unless the filters change
    once = "import warnings, outcomes.source.contract.dictionary as d\nwarnings.warn_explicit('once per place', UserWarning, " \
           "'outcomes/source/contract/dictionary.py', 1, module='outcomes.source.contract.dictionary', registry=d.__dict__.setdefault('__warningregistry__', {}))"
    runs, _, _ = _run(tmp_path, {"a": (warn, once), "b": (warn, once)})
    assert [run.status for run in runs] == ["done", "done"]
    for name in ("a", "b"):
        cells = nbformat.read(tmp_path / "out" / f"{name}.ipynb", as_version=4).cells
        text = "".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.get("outputs", []))
        assert "probe warning" in text and "once per place" in text, name


def test_a_failed_notebook_takes_its_kernel_with_it(tmp_path):
    runs, found, _ = _run(tmp_path, {"a": (PROBE,), "b": (PROBE, "raise ValueError('broken')"), "c": (PROBE,)})
    assert [run.status for run in runs] == ["done", "failed", "done"]
    assert runs[1].failure.ename == "ValueError"
    assert found["a"]["pid"] == found["b"]["pid"] != found["c"]["pid"]


def test_a_dead_kernel_is_replaced_for_the_next_notebook(tmp_path):
    runs, found, _ = _run(tmp_path, {"a": (PROBE, "import os\nos._exit(3)"), "b": (PROBE,)})
    assert [run.status for run in runs] == ["failed", "done"]
    assert found["a"]["pid"] != found["b"]["pid"]


def test_fresh_kernels_give_every_notebook_its_own(tmp_path):
    runs, found, _ = _run(tmp_path, {name: (PROBE,) for name in ("a", "b")}, reuse_kernels=False)
    assert [run.status for run in runs] == ["done", "done"]
    assert found["a"]["pid"] != found["b"]["pid"]
    assert not found["b"]["left_behind"] and found["b"]["execution_count"] == found["a"]["execution_count"]


@pytest.mark.parametrize("jobs", [2])
def test_parallel_workers_each_keep_a_kernel_and_results_keep_the_given_order(tmp_path, jobs):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    names = ["n1", "n2", "n3", "n4"]
    job_list = [NotebookJob(n, _notebook(folder, n, PROBE), tmp_path / "out" / f"{n}.ipynb", tmp_path / "outputs" / n,
                            {"output_dir": str(tmp_path / "outputs" / n)}) for n in names]
    runs, _ = run_notebooks(job_list, jobs=jobs, cwd=folder)
    assert [run.name for run in runs] == names and all(run.ok for run in runs)
    pids = {json.loads((tmp_path / "outputs" / n / "found.json").read_text())["pid"] for n in names}
    assert 1 <= len(pids) <= jobs  # a worker whose kernel is ready first may take them all: never more kernels


def test_notebooks_start_longest_first_by_the_last_run_and_results_keep_their_order(tmp_path):
    from outcomes.report.execution.schedule import load_seconds, longest_first, record_seconds

    history = tmp_path / "cache" / "notebook-seconds.json"
    assert load_seconds(history) == {} and longest_first(["a", "b"], {}) == ["a", "b"]
    record_seconds({"a": 1.0, "b": 9.5, "c": 3.0}, history)
    record_seconds({"a": 2.0}, history)  # later runs update, others are kept
    assert load_seconds(history) == {"a": 2.0, "b": 9.5, "c": 3.0}
    assert longest_first(["a", "b", "c", "new"], load_seconds(history)) == ["new", "b", "c", "a"]
    history.write_text("not json")
    assert load_seconds(history) == {}


def test_a_first_run_starts_the_shipped_notebooks_by_their_typical_times(tmp_path):
    """With no run recorded, the longest shipped notebook starts first (not tenth, in name order);
    every shipped notebook has a typical time, and a recorded time overrides it."""
    from outcomes import resources
    from outcomes.report.execution.schedule import TYPICAL_SECONDS, expected_seconds, longest_first, record_seconds

    shipped = sorted(p.stem for p in resources.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    assert sorted(TYPICAL_SECONDS) == shipped
    history = tmp_path / "cache" / "notebook-seconds.json"
    order = longest_first(shipped, expected_seconds(history))
    assert order[0] == "09_spc_dashboard" and order.index("13_delivery_and_balancing") < order.index("00_cohort_profile")
    record_seconds({"00_cohort_profile": 99.0}, history)
    assert longest_first(shipped, expected_seconds(history))[0] == "00_cohort_profile"

    folder = tmp_path / "notebooks"
    folder.mkdir()
    stamp = "import os, time\nopen(os.path.join(output_dir, 'started'), 'w').write(str(time.time()))"
    job_list = [NotebookJob(n, _notebook(folder, n, stamp), tmp_path / "out" / f"{n}.ipynb", tmp_path / "outputs" / n,
                            {"output_dir": str(tmp_path / "outputs" / n)}) for n in ("a", "b", "c")]
    runs, _ = run_notebooks(job_list, jobs=1, cwd=folder, start_order=["c", "a", "b"])
    assert [run.name for run in runs] == ["a", "b", "c"]
    started = {n: float((tmp_path / "outputs" / n / "started").read_text()) for n in ("a", "b", "c")}
    assert started["c"] < started["a"] < started["b"]


def test_outputs_of_one_notebook_are_not_kept_for_the_next(tmp_path):
    keep = "big = list(range(10))\nbig"  # displayed: kept in Out and _ by IPython
    probe = ("import json, os\nip = get_ipython()\njson.dump({'out': len(ip.user_ns['Out']), 'last': repr(ip.displayhook._)},"
             " open(os.path.join(output_dir, 'found.json'), 'w'))")
    runs, found, _ = _run(tmp_path, {"a": (keep,), "b": (probe,)})
    assert [run.status for run in runs] == ["done", "done"]
    assert found["b"] == {"out": 0, "last": "''"}
