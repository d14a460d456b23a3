"""Issue 23's list of errors that must be clear: exit 2, one line naming the input, no traceback,
no hang, before any notebook runs."""

from __future__ import annotations

import os

import pytest

from outcomes.cli import main


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_a_quarter_of_year_zero(capsys, tmp_path):
    assert "a year from 1900" in _one_line_error(capsys, ["report", "--quarter", "0000Q1", "--reports", str(tmp_path)])


def test_reports_pointing_at_a_file_or_a_read_only_folder(capsys, tmp_path):
    file = tmp_path / "reports.txt"
    file.write_text("")
    assert "is a file, not a folder" in _one_line_error(capsys, ["report", "--quarter", "2024Q1", "--reports", str(file)])
    assert "is a file" in _one_line_error(capsys, ["report", "--quarter", "2024Q1", "--reports", str(file / "sub")])
    if os.geteuid() == 0:
        pytest.skip("root writes in read-only folders")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "is not writable" in _one_line_error(capsys, ["report", "--quarter", "2024Q1", "--reports", str(locked)])


def test_a_quarter_or_transition_outside_the_extract_stops_before_any_notebook(capsys, tmp_path, tiny_extract_dir):
    import yaml

    (tiny_extract_dir / "extract.yaml").write_text(yaml.safe_dump({"extract_end_date": "2024-03-31",
                                                                   "extract_start_date": "2019-01-01"}))
    base = ["report", "--extract", str(tiny_extract_dir), "--reports", str(tmp_path / "r"), "--only", "01"]
    err = _one_line_error(capsys, base + ["--quarter", "2018Q4"])
    assert "before the extract starts (2019-01-01)" in err
    params = tmp_path / "params.yaml"
    params.write_text("transition_months: 1000000\n")
    err = _one_line_error(capsys, base + ["--quarter", "2024Q1", "--params", str(params)])
    assert "transition_months 1000000" in err
    assert not any(p.name.startswith(".2024Q1.tmp") for p in (tmp_path / "r").iterdir())


def test_extract_values_are_printed_safe_for_a_terminal(capsys, tiny_extract_dir):
    import pandas as pd

    path = tiny_extract_dir / "MHS001MPI.parquet"
    mpi = pd.read_parquet(path)
    mpi.loc[0, "Gender"] = "\x1b[31m\x07\x00"
    mpi.to_parquet(path)
    code = main(["validate", "--extract", str(tiny_extract_dir)])
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert code == 2 and "\x1b" not in printed and "\x07" not in printed and "\x00" not in printed
    assert "\\x1b[31m\\x07\\x00" in printed


def _notebook(folder, name: str, code: str) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('extract = ""\noutput_dir = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(folder / f"{name}.ipynb"))


def test_a_file_swapped_during_a_run_stops_it(capsys, tmp_path, tiny_extract_dir):
    """Issue 23: a valid subset put in place of a validated file after the first notebook: the run
    stops (exit 2, naming the file), publishes nothing, and its manifest records what was validated."""
    import json

    from outcomes.source.contract.extract import sha256

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    stays = tiny_extract_dir / "MHS502WardStay.parquet"
    validated = sha256(stays)
    _notebook(notebooks, "01_swap", "import pandas as pd, pathlib\n"
              "p = pathlib.Path(extract) / 'MHS502WardStay.parquet'\n"
              "pd.read_parquet(p).iloc[:2].to_parquet(p.with_name('subset.parquet'))\n"
              "p.with_name('subset.parquet').replace(p)")
    _notebook(notebooks, "02_read", "from outcomes.source import open_source\nopen_source(extract)")
    code = main(["report", "--quarter", "2024Q1", "--extract", str(tiny_extract_dir), "--notebooks", str(notebooks),
                 "--reports", str(tmp_path / "r"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "MHS502WardStay.parquet changed during the report run" in err, err
    assert not (tmp_path / "r" / "2024Q1").exists()
    manifest = json.loads((tmp_path / "r" / "2024Q1.failed" / "manifest.json").read_text())
    assert manifest["extract"]["files_sha256"]["MHS502WardStay.parquet"] == validated != sha256(stays)
    page = (tmp_path / "r" / "2024Q1.failed" / "notebooks" / "02_read.html").read_text()
    assert "changed during the report run" in page  # the notebook after the swap stopped too


def test_a_parquet_output_is_not_published(capsys, tmp_path, tiny_extract_dir):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks, "01_parquet", "import pandas as pd, pathlib\n"
              "pd.DataFrame({'Person_ID': ['P001'], 'n': [3]}).to_parquet(pathlib.Path(output_dir) / 'people.parquet')")
    code = main(["report", "--quarter", "2024Q1", "--extract", str(tiny_extract_dir), "--notebooks", str(notebooks),
                 "--reports", str(tmp_path / "r"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "outputs/01_parquet/people.parquet: unreadable" in err, err
    assert not (tmp_path / "r" / "2024Q1").exists()


def test_a_relative_dictionary_is_read_as_the_run_read_it(monkeypatch, tmp_path):
    """A relative OUTCOMES_DICTIONARY is made absolute as it is first read, so a report's kernels,
    which start in the notebooks' folder, read the same contract (not every notebook failing)."""
    import shutil

    from outcomes import resources
    from outcomes.source.contract.dictionary import ENV_DICTIONARY, dictionary_dir, load_dictionary

    shutil.copytree(resources.dictionary_dir(), tmp_path / "contract")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_DICTIONARY, "contract")
    assert dictionary_dir() == tmp_path / "contract" and os.environ[ENV_DICTIONARY] == str(tmp_path / "contract")
    monkeypatch.chdir("/")
    assert "MHS502WardStay" in load_dictionary().tables


def test_the_output_timeout_comes_from_the_run_settings(monkeypatch):
    from outcomes.report.execution.runner import OUTPUT_TIMEOUT, output_timeout

    monkeypatch.delenv("OUTCOMES_OUTPUT_TIMEOUT", raising=False)
    assert output_timeout() == OUTPUT_TIMEOUT == 60  # nbclient's 4 s failed notebooks under load
    monkeypatch.setenv("OUTCOMES_OUTPUT_TIMEOUT", "300")
    assert output_timeout() == 300


def test_an_unanswering_spark_connect_host_times_out(monkeypatch):
    pytest.importorskip("grpc")
    import socket
    import time

    from outcomes.errors import UserError
    from outcomes.source.engines import spark_connect_session

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("OUTCOMES_CONNECT_TIMEOUT", "3")
        started = time.monotonic()
        with pytest.raises(UserError, match="cannot connect to Spark Connect"):
            spark_connect_session(f"sc://127.0.0.1:{silent.getsockname()[1]}/;token=dapiSECRET")
        assert time.monotonic() - started < 30
