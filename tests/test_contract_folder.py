"""The data-contract folder: a missing, empty, unreadable or malformed one is an error naming it
(CLI: exit 2, no traceback), never an empty pass; the validation stamp is keyed on the contract
actually used."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import yaml
from extract_factory import write_extract

import outcomes.source.contract.extract as extract_module
from outcomes.cli import main
from outcomes.source.contract.dictionary import ContractError, dictionary_dir, load_dictionary
from outcomes.errors import UserError
from outcomes.source import open_source
from outcomes.resources import dictionary_dir as packaged_dictionary


def contract_copy(folder, change=None):
    """A copy of the packaged contract; `change(tables_folder)` edits it."""
    shutil.copytree(packaged_dictionary(), folder)
    if change:
        change(folder / "tables")
    return folder


def add_required_field(tables):
    """MHS001MPI gains a required field the tiny extract does not have."""
    path = tables / "MHS001MPI.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["fields"].append({"name": "NHSNumberStatus", "type": "string", "nullable": False, "description": "added"})
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def test_packaged_contract_is_the_default(monkeypatch):
    monkeypatch.delenv("OUTCOMES_DICTIONARY", raising=False)
    assert dictionary_dir() == packaged_dictionary()
    assert "MHS502WardStay" in load_dictionary().tables


@pytest.mark.parametrize("state, words", [
    ("missing", "does not exist"),
    ("file", "is not a folder"),
    ("empty", "has no such folder"),
    ("no_tables", "holds no *.yaml files"),
])
def test_missing_or_empty_contract_folder_is_an_error_naming_it(tmp_path, state, words):
    folder = tmp_path / "contract"
    if state == "file":
        folder.write_text("not a folder")
    elif state == "empty":
        folder.mkdir()
    elif state == "no_tables":
        contract_copy(folder)
        for path in (folder / "tables").glob("*.yaml"):
            path.unlink()
    with pytest.raises(ContractError, match=re.escape(words)) as raised:
        load_dictionary(folder)
    assert str(folder) in str(raised.value)
    assert isinstance(raised.value, UserError)


def test_unreadable_or_malformed_contract_file_is_named(tmp_path):
    unreadable = contract_copy(tmp_path / "a")
    (unreadable / "tables" / "MHS001MPI.yaml").unlink()
    (unreadable / "tables" / "MHS001MPI.yaml").mkdir()  # a folder where a file should be: cannot be read
    with pytest.raises(ContractError, match="cannot read .*MHS001MPI.yaml"):
        load_dictionary(unreadable)
    broken = contract_copy(tmp_path / "b")
    (broken / "codes" / "gender.yaml").write_text("name: gender\ncodes: {1: [unclosed\n")
    with pytest.raises(ContractError, match="gender.yaml is not valid YAML"):
        load_dictionary(broken)
    keyless = contract_copy(tmp_path / "c")
    (keyless / "tables" / "ECDS.yaml").write_text("table: ECDS\ndescription: no fields\n")
    with pytest.raises(ContractError, match="ECDS.yaml: missing or malformed entry .*fields"):
        load_dictionary(keyless)


def test_environment_contract_that_is_empty_stops_open_extract(tmp_path, monkeypatch):
    """The issue's symptom: an empty contract used to open any extract as valid, with no tables."""
    extract = write_extract(tmp_path / "extract")
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("OUTCOMES_DICTIONARY", str(tmp_path / "empty"))
    with pytest.raises(ContractError, match=r"empty.* \(\$OUTCOMES_DICTIONARY\)"):
        open_source(extract)


@pytest.mark.parametrize("how", ["env", "option"])
def test_cli_rejects_a_bad_contract_folder_with_exit_2(tmp_path, monkeypatch, capsys, how):
    extract = write_extract(tmp_path / "extract")
    missing = tmp_path / "no-such-contract"
    if how == "env":
        monkeypatch.setenv("OUTCOMES_DICTIONARY", str(missing))
        code = main(["validate", str(extract)])
    else:
        code = main(["validate", str(extract), "--dictionary", str(missing)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"outcomes validate: data dictionary {missing}" in err and "does not exist" in err


def test_cli_bad_contract_in_a_real_process_has_no_traceback(tmp_path):
    extract = write_extract(tmp_path / "extract")
    (tmp_path / "empty").mkdir()
    env = {**__import__("os").environ, "OUTCOMES_DICTIONARY": str(tmp_path / "empty")}
    done = subprocess.run([sys.executable, "-m", "outcomes.cli", "validate", str(extract)],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 2, done.stderr
    assert str(tmp_path / "empty") in done.stderr and "Traceback" not in done.stderr


def test_stamp_is_keyed_on_the_contract_passed_in(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_CACHE", str(tmp_path / "cache"))
    extract = write_extract(tmp_path / "extract")
    open_source(extract)  # passes against the packaged contract: stamped
    stricter = load_dictionary(contract_copy(tmp_path / "stricter", add_required_field))
    with pytest.raises(UserError, match="NHSNumberStatus"):  # checked again, not waved through by the stamp
        open_source(extract, contract=stricter)
    with pytest.raises(UserError, match="NHSNumberStatus"):
        open_source(extract, contract=stricter)  # a failure is never stamped


def test_stamp_is_keyed_on_the_environment_contract(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_CACHE", str(tmp_path / "cache"))
    extract = write_extract(tmp_path / "extract")
    open_source(extract)
    monkeypatch.setenv("OUTCOMES_DICTIONARY", str(contract_copy(tmp_path / "stricter", add_required_field)))
    with pytest.raises(UserError, match="NHSNumberStatus"):
        open_source(extract)


def test_same_contract_content_shares_a_stamp_wherever_it_is_read_from(tmp_path, monkeypatch):
    monkeypatch.setenv("OUTCOMES_CACHE", str(tmp_path / "cache"))
    extract = write_extract(tmp_path / "extract")
    open_source(extract)
    stamps = sorted((tmp_path / "cache" / "validated").glob("*.json"))
    assert len(stamps) == 1
    same = load_dictionary(contract_copy(tmp_path / "copy"))
    assert same.fingerprint == load_dictionary().fingerprint
    checked = []
    monkeypatch.setattr(extract_module, "validate_tables", lambda *a, **k: checked.append(1))
    open_source(extract, contract=same)
    assert checked == [] and sorted((tmp_path / "cache" / "validated").glob("*.json")) == stamps
    loose = load_dictionary(contract_copy(tmp_path / "loose", lambda tables: (tables / "ECDS.yaml").write_text(
        (tables / "ECDS.yaml").read_text().replace("description:", "description: changed", 1))))
    assert loose.fingerprint != same.fingerprint
    open_source(extract, contract=loose)  # another contract: checked, and stamped on its own
    assert checked == [1]


def test_two_files_for_one_table_is_a_clear_error_naming_both(tiny_extract_dir, capsys):
    import pandas as pd

    from outcomes.cli import main

    pd.read_parquet(tiny_extract_dir / "MHS502WardStay.parquet").to_csv(tiny_extract_dir / "MHS502WardStay.csv", index=False)
    assert main(["validate", "--extract", str(tiny_extract_dir)]) == 2
    err = capsys.readouterr().err
    assert "MHS502WardStay.parquet and MHS502WardStay.csv" in err and len(err.strip().splitlines()) == 1


def test_ragged_csv_rows_are_named_not_read_as_missing_columns(tmp_path, capsys):
    from extract_factory import write_extract

    from outcomes.cli import main

    folder = write_extract(tmp_path / "x", fmt="csv")
    path = folder / "MHS502WardStay.csv"
    lines = path.read_text().splitlines()
    lines[1] += ",extra,cells"
    lines[2] += ",x"
    path.write_text("\n".join(lines) + "\n")
    assert main(["validate", "--extract", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "MHS502WardStay.csv: line 2 has 13 fields where the header has 11" in err and "missing column" not in err
