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
