"""The reference extract's histories (issue 20): `full` is byte-identical to the generator before
histories existed; `real` is that full history cut as real data are (outcomes.reference._history):
MHSDS from 2016-01 with the episodes open then, ECDS from 2017-10 with HES A&E before it,
population estimates as ONS had published them by the extract end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from outcomes.reference import ReferenceParameterError, read_truth, write_reference_extract
from outcomes.reference._history import (
    DATED,
    ECDS_START,
    EPISODES,
    HES_RECORDED,
    MHSDS_START,
    last_published_mid_year,
)

#: sha256 of every file of `write_reference_extract(folder, scale=0.05)` as main's generator wrote it
#: before histories existed (commit 1a9cd2e); extract.yaml and truth.json with `generated_by` masked
#: (the package version is in them)
FULL_HISTORY_SHA256 = {
    "ECDS.parquet": "ae473ff51413b13c006510e26ef96104b90074f59a21b36b26532e746a202be1",
    "MHS001MPI.parquet": "376a84a89107243fb973da0157f70127a508e7d732a3cfb3247c862b6b9b11dd",
    "MHS101Referral.parquet": "482efd6838f1e2db3460d3254154fbaadbedc3ec7eec026497193a89ce82ab06",
    "MHS201CareContact.parquet": "1b49e4ca15fb43334c73a0475764755dd8b4b6536fb4ea4bfda12d2c1319698d",
    "MHS202CareActivity.parquet": "15fec3ebd2481f428593a80f5b879e58ea153bf851ff13169cef2880b34869b8",
    "MHS401MHActPeriod.parquet": "942c7b1647fbde3662dc09c9138e816eaf2ae342eb714b7d4128215de4cb843e",
    "MHS501HospProvSpell.parquet": "dca2af7b8ecebb605897fb42130bd073a051204412b09a8e971e2f3c6301e998",
    "MHS502WardStay.parquet": "fa887fff01eab1ccd4e81f9d8affc21a947fc6317bfb6949f786cd80a58267b1",
    "MHS505RestrictiveIntervention.parquet": "b852bba4767206f6269f8b3a72357af5c381cd5111940200dc4fd84eb0953d89",
    "MHS607CodedScoreAssessment.parquet": "f379ce39966a0fdfd7a88dfab10a1e6333a728a6ee6294dc28f0d47d54a9c3a6",
    "MHS903WardDetails.parquet": "e1c7286eb440b8bf97efebec723b081cd600eee432dbcadc8485481545b68fa6",
    "RiskEvents.parquet": "c78a227b9a34758dc54d86aafaf99198bd8aecbf536798d343af84824b3dd69a",
    "area_statistics.parquet": "667396d44bf088113964bfbdf3f4bd77b8e2b4c4b96451a7753503058023acd2",
    "deprivation.parquet": "0d89943caede604f1b321fb4197e3c33c393a18a8ea2fe35c50d1f8abdea1ec1",
    "population.parquet": "52af6ed6950e6fef2d40e52c05340d8b10c88d01cc981245700c9d5b76f303c4",
    "extract.yaml": "cd8a224fda30576df75ee0e63cee121a927d76d9afc49f9bc3304d3ea0d6fcc4",
    "truth.json": "be368ce362a7ff6a02046da43fdf0cc333ce6a4aa5d5024d593e80259a914456",
}
GENERATED_BY = re.compile(rb'"?generated_by"?: "?outcomes [^"\n]*"?')


def _sha(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix in (".yaml", ".json"):
        data = GENERATED_BY.sub(b"generated_by: MASKED", data)
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    """The same extract (scale 0.05) in both histories."""
    base = tmp_path_factory.mktemp("histories")
    return (write_reference_extract(base / "full", scale=0.05, history="full"),
            write_reference_extract(base / "real", scale=0.05))


def _read(folder: Path, table: str) -> pd.DataFrame:
    return pq.read_table(folder / f"{table}.parquet").to_pandas()


def test_full_history_is_byte_identical_to_the_generator_before_histories(pair):
    full, _ = pair
    assert {p.name: _sha(p) for p in sorted(full.iterdir())} == FULL_HISTORY_SHA256


def test_real_history_keeps_the_mhsds_episodes_open_on_2016_01_01_with_their_start_dates(pair):
    full, real = pair
    start = pd.Timestamp(MHSDS_START)
    for table, (begun, ended) in EPISODES.items():
        before, after = _read(full, table), _read(real, table)
        open_then = before[before[ended].isna() | (pd.to_datetime(before[ended]) >= start)]
        key = after.columns[0]
        assert sorted(after[key]) == sorted(open_then[key]), table
        assert len(after) < len(before), table
        if table in ("MHS101Referral", "MHS501HospProvSpell", "MHS502WardStay"):  # long episodes, open then
            assert (pd.to_datetime(after[begun]) < start).any(), table  # with their earlier start dates


def test_real_history_drops_mhsds_records_dated_before_2016(pair):
    full, real = pair
    start = pd.Timestamp(MHSDS_START)
    for table, date in DATED.items():
        before, after = _read(full, table), _read(real, table)
        assert pd.to_datetime(after[date]).min() >= start, table
        assert len(after) == (pd.to_datetime(before[date]) >= start).sum(), table
    contacts = set(_read(real, "MHS201CareContact")["UniqCareContID"])
    activities = _read(real, "MHS202CareActivity")
    assert set(activities["UniqCareContID"]) <= contacts
    every = _read(full, "MHS202CareActivity")
    assert len(activities) == every["UniqCareContID"].isin(contacts).sum()
    # not MHSDS, or not dated: not cut
    for table in ("MHS001MPI", "RiskEvents", "deprivation"):
        assert _read(real, table).equals(_read(full, table)), table


def test_ecds_starts_in_october_2017_with_hes_ae_before_it(pair):
    full, real = pair
    ecds, after, hes = _read(full, "ECDS"), _read(real, "ECDS"), _read(real, "HESAE")
    assert pd.to_datetime(after["Arrival_Date"]).min() >= pd.Timestamp(ECDS_START)
    assert pd.to_datetime(hes["ARRIVALDATE"]).max() < pd.Timestamp(ECDS_START)
    assert pd.to_datetime(hes["ARRIVALDATE"]).min() == pd.to_datetime(ecds["Arrival_Date"]).min()  # HES A&E goes back
    assert len(after) + len(hes) == len(ecds)
    moved = ecds[pd.to_datetime(ecds["Arrival_Date"]) < pd.Timestamp(ECDS_START)]
    assert list(hes["AEKEY"]) == list(moved["Generated_Record_ID"])
    assert list(hes["Person_ID"]) == list(moved["Person_ID"]) and list(hes["ARRIVALAGE"]) == list(moved["Age_At_Arrival"])


def test_hes_ae_codes_mental_health_coarsely(pair):
    """HES A&E recognises about 80% of the mental-health and self-harm attendances (diagnosis
    condition 35, patient group 30) and nothing else as such; tolerance 4 binomial standard errors."""
    _, real = pair
    truth = json.loads((real / "truth.json").read_text())["history"]["hes_ae"]
    hes = _read(real, "HESAE")
    psychiatric = hes["DIAG_01"].str[:2] == "35"
    self_harm = hes["AEPATGROUP"] == "30"
    assert psychiatric.sum() == truth["mental_health_recognised"] and self_harm.sum() == truth["self_harm_recognised"]
    for kind in ("mental_health", "self_harm"):
        n, share = truth[kind], HES_RECORDED[kind]
        assert n > 300
        assert abs(truth[f"{kind}_recognised"] / n - share) < 4 * (share * (1 - share) / n) ** 0.5, kind
    assert not (psychiatric & self_harm).any()
    assert (hes["DIAG_01"] == "38").sum() == truth["mental_health"] - truth["mental_health_recognised"]


def test_population_estimates_as_ons_had_published_them(pair):
    full, real = pair
    assert _read(full, "population")["year"].max() == 2024
    assert _read(real, "population")["year"].max() == 2022 == last_published_mid_year(dt.date(2024, 3, 31))
    assert last_published_mid_year(dt.date(2024, 8, 31)) == 2023


def test_extract_yaml_and_truth_say_which_history_was_written(pair):
    full, real = pair
    meta = yaml.safe_load((real / "extract.yaml").read_text())
    assert str(meta["extract_start_date"]) == "2016-01-01" and str(meta["extract_end_date"]) == "2024-03-31"
    assert "extract_start_date" not in yaml.safe_load((full / "extract.yaml").read_text())
    truth = read_truth(real)  # its row counts are the cut files': the truth is used
    assert truth is not None and truth["history"]["history"] == "real"
    assert truth["history"]["population_last_mid_year"] == 2022
    assert truth["row_counts"]["HESAE"] == pq.ParquetFile(real / "HESAE.parquet").metadata.num_rows
    assert "history" not in read_truth(full)
    # the planted inequality's realised spells are recounted on the cut files (the spells that ended
    # before 2016 are gone); the recount is the generator's own count on the full history
    from outcomes.reference._equity import realised_on_files

    full_equity = read_truth(full)["equity"]
    assert realised_on_files(full, full_equity["windows"]) == full_equity["realised_spells"]
    cut = truth["equity"]["realised_spells"]
    assert truth["equity"]["windows"]["before"] == ["2016-01-01", "2017-10-01"]
    assert truth["equity"]["windows"]["after"] == full_equity["windows"]["after"]
    assert cut == realised_on_files(real, truth["equity"]["windows"])
    before = sum(g["admissions"] for g in cut["before"].values())
    assert 0 < before < sum(g["admissions"] for g in full_equity["realised_spells"]["before"].values())
    assert cut["after"] == full_equity["realised_spells"]["after"]
    # the planted effects are the full history's
    full_truth = read_truth(full)
    assert truth["programme"] == full_truth["programme"] and truth["realised"] == full_truth["realised"]


def test_the_real_history_extract_is_valid(pair, capsys):
    from outcomes.cli import main

    _, real = pair
    assert main(["validate", str(real)]) == 0
    out = capsys.readouterr().out
    assert "valid against the data dictionary" in out and "HESAE" in out
    assert "no population estimate for 2023, 2024: the latest earlier estimate is carried forward" in out
    assert "extract_start_date not given" not in out


def test_history_must_be_real_or_full(tmp_path):
    with pytest.raises(ReferenceParameterError, match="history must be real or full"):
        write_reference_extract(tmp_path / "x", scale=0.05, history="partial")
    assert not (tmp_path / "x").exists()


# --- measures across the change of A&E source (HES A&E, then ECDS) ----------------------------------
def test_a_and_e_measures_read_hes_ae_before_ecds_and_declare_the_change(pair):
    """On the real history the A&E measures continue before October 2017 from HES A&E, at about
    the 80% its coarse coding recognises (tolerance: 0.6 to 0.95 of the full history's count over
    the 21 months 2016-01 to 2017-09); the change is declared, in its month; the full history has none."""
    from outcomes.measures.catalogue import catalogue
    from outcomes.measures.sources import changes_of
    from outcomes.source import open_source

    full, real = (open_source(folder) for folder in pair)
    measures = catalogue()
    for name in ("ae_attendances", "crisis_escalations", "cyp_mental_health_ae_by_area"):
        assert changes_of(measures[name], full) == {}
        (month, text), = changes_of(measures[name], real).items()
        assert month == dt.date(2017, 10, 1) and "HES A&E" in text and "from ECDS from October 2017" in text
    assert changes_of(measures["bed_days"], real) == {}
    window = dict(start="2016-01", end="2017-09")
    before = measures["cyp_mental_health_ae_by_area"].to_pandas(full, **window).numerator.sum()
    after = measures["cyp_mental_health_ae_by_area"].to_pandas(real, **window).numerator.sum()
    assert 0.6 * before < after < 0.95 * before, (before, after)
    later = dict(start="2017-10", end="2024-03")  # from ECDS on, identical
    assert (measures["ae_attendances"].to_pandas(full, **later).numerator.tolist()
            == measures["ae_attendances"].to_pandas(real, **later).numerator.tolist())


def test_a_single_series_its_at_a_change_of_source_is_refused_naming_the_controlled_design():
    from outcomes.errors import NotEstimable
    from outcomes.programme import Programme
    from outcomes.programme.design import check_design

    change = {dt.date(2017, 10, 1): "A&E attendances from HES A&E until September 2017, from ECDS from October 2017"}
    check = check_design(Programme("2017-10-01"), "2016-01-01", source_changes=change, what="A&E attendances")
    assert not check.trusted and check.seasonality == 1 and "21 months" in check.warning
    assert check.refusal.startswith("a single-series ITS of A&E attendances is not fitted: the data source changes")
    assert "controlled ITS against CYP living elsewhere" in check.refusal
    with pytest.raises(NotEstimable, match="not fitted"):
        check.guard(lambda *a: 1)("anything")
    # a change long before the go-live, or none: the fit runs
    fit = lambda *a: "fitted"  # noqa: E731
    assert check_design(Programme("2019-06-01"), "2016-01-01", source_changes=change).guard(fit)() == "fitted"
    assert check_design(Programme("2017-10-01"), "2016-01-01").guard(fit)() == "fitted"


# --- the report on real history ------------------------------------------------------------------
def test_the_whole_report_publishes_on_the_real_history(small_real_history_dir, tmp_path):
    """Every notebook runs on the real-history reference (scale 0.1) and the report publishes:
    the single-series A&E ITS refused at the change of source, naming the controlled design; the
    controlled design of notebook 08 run across it; the change said in results.json; the bed-day
    ITS fitted on 21 pre-period months with one harmonic and its warning; the population carried
    forward said in the report."""
    from conftest import ROOT
    from outcomes.report import build_report

    outcome = build_report("2024Q1", source=small_real_history_dir, reports_dir=tmp_path / "reports",
                           notebooks_dir=ROOT / "notebooks", jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    results = json.loads((outcome.folder / "results.json").read_text())
    ae = results["04_crisis_and_ae"]
    assert ae["source_change_2017_10"]["value"] == "October 2017"
    for name in ("its_ae_attendances", "its_crisis_escalations"):
        assert ae[name]["kind"] == "not_estimable" and "data source changes at the go-live" in ae[name]["reason"]
        assert "controlled ITS against CYP living elsewhere" in ae[name]["reason"]
    assert results["08_crisis_line_extension"]["source_change_2017_10"]["value"] == "October 2017"
    assert results["08_crisis_line_extension"]["crisis_line_extension_level_change"]["kind"] == "ratio"
    beds = results["01_bed_days"]
    assert "21 months (January 2016 to September 2017)" in beds["bed_days_seasonality_warning"]["value"]
    assert beds["bed_days_level_change"]["kind"] == "ratio"
    carried = "population for 2023 and 2024 carried forward from the mid-2022 estimate"
    assert results["01_bed_days"]["population_carried_forward"]["value"].startswith(carried)
    assert results["04_crisis_and_ae"]["population_carried_forward"]["value"].startswith(carried)
    published = results["06_published_figures"]  # the comparison says why it cannot grade the A&E claims
    for name in ("evidence_ae_attendances_change", "evidence_crisis_escalations_change"):
        assert published[name]["kind"] == "not_estimable" and "data source changes" in published[name]["reason"]
    assert published["evidence_bed_days_change"]["kind"] != "not_estimable"
    index = (outcome.folder / "index.html").read_text()
    assert "ONS publishes mid-year estimates one to two years behind" in index
    assert "HES A&amp;E" in index or "HES A&E" in index


# --- the population as ONS publishes it ----------------------------------------------------------------
def test_rates_after_the_last_published_estimate_carry_it_forward_and_say_so(pair, capsys):
    """2023 and 2024 have no estimate on the real history: their months use mid-2022's (the same
    denominator as December 2022), the measure's notes say so, and so does `outcomes measure`."""
    from outcomes.cli import main
    from outcomes.measures.catalogue import catalogue
    from outcomes.measures.population import carried_note
    from outcomes.source import open_source

    full, real = (open_source(folder) for folder in pair)
    bed_days = catalogue()["bed_days"]
    frame = bed_days.to_pandas(real, start="2022-12", end="2024-03").set_index("month")["denominator"]
    assert frame.nunique() == 1  # every month from December 2022 on: the mid-2022 estimate
    assert bed_days.to_pandas(full, start="2022-12", end="2024-03")["denominator"].nunique() == 3
    said = "population for 2023 and 2024 carried forward from the mid-2022 estimate; ONS publishes mid-year " \
           "estimates one to two years behind"
    assert bed_days.notes(real) == [said] and bed_days.notes(full) == []
    assert bed_days.notes(real, start="2018-01", end="2022-12") == []
    assert carried_note({2021: 2020, 2023: 2022, 2024: 2022}) == (
        "population for 2021 carried forward from the mid-2020 estimate; population for 2023 and 2024 carried "
        "forward from the mid-2022 estimate; ONS publishes mid-year estimates one to two years behind")
    assert main(["measure", "ae_attendances", "--extract", str(pair[1])]) == 0
    err = capsys.readouterr().err
    assert f"ae_attendances: note: {said}" in err and "ae_attendances: note: data source changes in October 2017" in err


def test_spc_limits_are_rebased_where_the_data_source_changes(pair):
    """Making Data Count rebases at known changes: an A&E measure's chart is rebased at the October
    2017 change of source on the real history (besides the go-live asked for), not on the full one,
    and a measure without a change keeps only the rebase asked for."""
    import warnings

    from outcomes.measures.catalogue import catalogue
    from outcomes.source import open_source
    from outcomes.spc.measures import catalogue_spc

    measures = catalogue()
    for folder, expected in ((pair[1], [pd.Timestamp("2019-04-01"), pd.Timestamp("2017-10-01")]),
                             (pair[0], [pd.Timestamp("2019-04-01")])):
        extract = open_source(folder)
        frames = {name: measures[name].to_pandas(extract) for name in ("ae_attendances", "bed_days")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            charts = catalogue_spc(measures, frames, rebase=["2019-04-01"], strict=False, extract=extract)
        assert [chart.rebase for chart in charts["ae_attendances"].charts.values()] == [expected]
        assert [chart.rebase for chart in charts["bed_days"].charts.values()] == [[pd.Timestamp("2019-04-01")]]


@pytest.mark.slow
def test_the_smallest_reference_publishes_on_the_real_history(tmp_path):
    """Scale 0.02 (a small collaborative) on the default, real history: the report publishes, the
    A&E single series refused at the change of source."""
    from conftest import ROOT
    from outcomes.report import build_report

    extract = write_reference_extract(tmp_path / "small", scale=0.02)
    outcome = build_report("2024Q1", source=extract, reports_dir=tmp_path / "reports", notebooks_dir=ROOT / "notebooks",
                           jobs=2)
    assert outcome.ok, [f"{r.name}: {r.failure.describe()}" for r in outcome.failed_runs] or outcome.problems
    ae = json.loads((outcome.folder / "results.json").read_text())["04_crisis_and_ae"]
    assert ae["its_ae_attendances"]["kind"] == "not_estimable"
    assert "data source changes at the go-live" in ae["its_ae_attendances"]["reason"]
