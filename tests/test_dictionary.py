"""The data contract: consistent, rendered for people, and kept in step with environment.yml."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from conftest import ROOT

import shutil

from outcomes import resources
from outcomes.source.contract.dictionary import ContractError, load_dictionary, table_order
from outcomes.source.contract.docs import render_markdown

DESIGN_TABLES = {"MHS001MPI", "MHS101Referral", "MHS201CareContact", "MHS202CareActivity", "MHS501HospProvSpell", "MHS502WardStay", "ECDS", "RiskEvents", "population", "deprivation", "area_statistics",
                 # issue 22: optional delivery and balancing tables
                 "MHS401MHActPeriod", "MHS505RestrictiveIntervention", "MHS607CodedScoreAssessment", "MHS903WardDetails",
                 # issue 20: A&E before ECDS
                 "HESAE"}


def test_every_design_table_is_in_the_contract():
    contract = load_dictionary()
    assert set(contract.tables) == DESIGN_TABLES
    assert sorted(contract.table_order) == sorted(DESIGN_TABLES)


def test_design_code_lists():
    codes = load_dictionary().codes
    assert set(codes["service_team_type"].group("crisis")) == {"A02", "A03", "A04", "A18", "A19"}
    assert set(codes["bed_type"].group("cyp")) >= {"300", "301", "302", "303", "304", "309", "310", "311"}
    assert codes["bed_type"].v5_to_v6["23"] == "300" and codes["bed_type"].v5_to_v6["34"] == "309"
    # NHS Digital's hospital bed types: 201 older adult acute, 202 adult PICU; NHS England's v5 -> v6 recoding
    bed = codes["bed_type"]
    assert "older adult" in bed.labels["201"].lower() and "intensive care" in bed.labels["202"].lower()
    assert {k: bed.v5_to_v6[k] for k in ("10", "11", "12", "13", "19", "20", "21", "26", "29", "33")} == {
        "10": "200", "11": "201", "12": "202", "13": "203", "19": "206", "20": "207", "21": "208", "26": "302", "29": "305", "33": "308"}
    assert not {"16", "17", "18"} & set(bed.v5_to_v6)  # no v6 successor: refused, not guessed
    assert set(codes["ward_age"].group("cyp")) == {"10", "11", "12"}
    assert codes["collaborative"].group("network_providers") == ("RPG", "RV5", "RQY")
    assert len(codes["collaborative"].group("footprint")) == 12


def test_every_v5_code_maps_to_a_v6_code():
    for codes in load_dictionary().codes.values():
        assert set(codes.v5_to_v6.values()) <= set(codes.codes), codes.name


def test_person_identifiers_are_marked():
    identifiers = load_dictionary().identifier_fields
    for name in DESIGN_TABLES - {"population", "deprivation", "area_statistics", "MHS202CareActivity", "MHS903WardDetails"}:
        assert "Person_ID" in identifiers[name], name


def test_table_order_is_derived_from_the_foreign_keys():
    contract = load_dictionary()
    order = contract.table_order
    for table in contract.tables.values():
        for fk in table.foreign_keys:
            assert order.index(fk.references) < order.index(table.name), (table.name, fk.references)
    # ties go by file order (name): the master patient index, then its children, each followed by theirs
    assert order == ("MHS001MPI", "ECDS", "HESAE", "MHS101Referral", "MHS201CareContact", "MHS202CareActivity", "MHS401MHActPeriod",
                     "MHS501HospProvSpell", "MHS502WardStay", "MHS505RestrictiveIntervention", "MHS607CodedScoreAssessment",
                     "MHS903WardDetails", "RiskEvents", "area_statistics", "deprivation", "population")
    assert contract.in_order(["population", "MHS502WardStay", "not_in_contract", "MHS001MPI"]) == [
        "MHS001MPI", "MHS502WardStay", "population", "not_in_contract"]  # an unknown name is kept, last


def _contract_with(tmp_path, **tables: str):
    folder = tmp_path / "contract"
    shutil.copytree(resources.dictionary_dir(), folder)
    for name, text in tables.items():
        (folder / "tables" / f"{name}.yaml").write_text(text)
    return folder


def test_a_table_added_to_the_contract_is_ordered_documented_and_templated(tmp_path):
    from outcomes.source.contract.mapping import template

    folder = _contract_with(
        tmp_path,
        AAFollowUp="table: AAFollowUp\ndescription: Follow-up calls.\nprimary_key: [CallID]\n"
        "foreign_keys:\n  - {fields: [UniqServReqID], references: MHS101Referral, to: [UniqServReqID]}\n"
        "fields:\n  - {name: CallID, type: string, nullable: false, description: Call.}\n"
        "  - {name: UniqServReqID, type: string, nullable: false, description: Referral.}\n",
    )
    contract = load_dictionary(folder)
    order = contract.table_order
    assert "AAFollowUp" in order and order.index("MHS101Referral") < order.index("AAFollowUp")
    assert "[AAFollowUp](#aafollowup)" in render_markdown(contract)
    assert "#   AAFollowUp: AAFollowUp" in template(contract)


def test_foreign_keys_in_a_cycle_are_a_contract_error(tmp_path):
    cycle = "table: {me}\ndescription: x.\nprimary_key: [a]\nforeign_keys:\n  - {{fields: [a], references: {other}, to: [a]}}\n" \
            "fields:\n  - {{name: a, type: string, nullable: false, description: a.}}\n"
    folder = _contract_with(tmp_path, Hen=cycle.format(me="Hen", other="Egg"), Egg=cycle.format(me="Egg", other="Hen"))
    with pytest.raises(ContractError, match="cycle among Egg, Hen"):
        load_dictionary(folder)
    assert table_order({}) == ()


def test_unknown_field_keys_are_rejected(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "codes").mkdir()
    (tmp_path / "tables" / "T.yaml").write_text(
        "table: T\nprimary_key: [a]\nfields:\n  - {name: a, type: string, nullable: false, description: one, two}\n"
    )
    with pytest.raises(ValueError, match="unknown keys"):
        load_dictionary(tmp_path)


def test_readme_is_up_to_date():
    committed = (ROOT / "data_dictionary" / "README.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run `python -m outcomes.source.contract.docs` and commit data_dictionary/README.md"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): r for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted.update({_name(r): r for r in extra})
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip_section = set(), []
    for item in environment["dependencies"]:
        if isinstance(item, dict):
            pip_section = item["pip"]
        else:
            conda.add(item)
    assert "-e ." in pip_section, "the package itself installs through pip: -e ."
    listed = {_name(spec.replace(" ", "")): spec.replace(" ", "") for spec in conda if not spec.startswith("python") and spec != "pip"}
    listed.update({_name(s): s for s in pip_section if s != "-e ."})
    assert set(listed) == set(wanted), f"only in pyproject: {set(wanted) - set(listed)}; only in environment.yml: {set(listed) - set(wanted)}"
    for name, requirement in wanted.items():
        bounds = re.sub(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?", "", requirement.split(";")[0]).replace(" ", "")
        conda_bounds = re.sub(r"^[A-Za-z0-9_.\-]+(\[[^\]]*\])?", "", listed[name])
        assert conda_bounds.replace("==", "=") == bounds.replace("==", "="), f"{name}: pyproject {bounds!r}, environment.yml {conda_bounds!r}"
    python = next(s for s in conda if s.startswith("python"))
    assert "3.11" in python


def test_a_contract_missing_a_required_table_is_refused_by_name(tmp_path):
    """A custom contract that leaves out a required table's YAML would let an extract validate
    without that table (and every analysis reading it fail later): it is a ContractError naming
    the file. Optional tables may be left out."""
    without_optional, without_required = tmp_path / "without_optional", tmp_path / "without_required"
    for folder in (without_optional, without_required):
        shutil.copytree(resources.dictionary_dir(), folder)
    (without_optional / "tables" / "MHS401MHActPeriod.yaml").unlink()  # optional: still a contract
    assert "MHS401MHActPeriod" not in load_dictionary(without_optional).tables
    (without_required / "tables" / "RiskEvents.yaml").unlink()  # nothing references it: only this rule sees it
    with pytest.raises(ContractError, match=r"required table\(s\).*RiskEvents \(e\.g\. tables/RiskEvents\.yaml\)"):
        load_dictionary(without_required)
