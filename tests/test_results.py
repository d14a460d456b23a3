"""outcomes.results: what a notebook records lands in its sidecar as plain, disclosure-controlled JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from outcomes.disclosure import REDACTED  # noqa: E402
from outcomes.results import (  # noqa: E402
    FLOAT_DIGITS,
    MAX_TABLE_ROWS,
    read_sidecar,
    record,
    record_figure,
    record_table,
    sidecar_path,
    to_json_value,
)


@pytest.fixture
def out(tmp_path):
    """A notebook's output_dir, as the runner would make it (named after the notebook)."""
    folder = tmp_path / "outputs" / "03_its_bed_days"
    folder.mkdir(parents=True)
    return folder


def entries(folder):
    return read_sidecar(folder / "03_its_bed_days.results.json")


def test_sidecar_is_named_after_the_notebook_and_keeps_recording_order(out):
    record("b", 1.0, output_dir=out)
    record("a", 2.0, output_dir=out)
    assert sidecar_path(out) == out / "03_its_bed_days.results.json"
    assert list(entries(out)) == ["b", "a"]


def test_recording_a_name_again_replaces_it_in_place(out):
    record("first", 1.0, output_dir=out)
    record("second", 2.0, output_dir=out)
    record("first", 3.0, output_dir=out)
    stored = entries(out)
    assert list(stored) == ["first", "second"] and stored["first"]["value"] == 3.0


def test_a_sentence_is_stored_and_redacted_with_its_counts(out):
    words = "In March 2019 CYP bed days were 28% (95% CI 12% to 41%) below what the pre-programme trend predicted."
    record("effect", -0.28, ci=(-0.41, -0.12), sentence=words, output_dir=out)
    record("small", -0.5, sentence="In March 2019 it halved.", counts={"baseline_n": 6}, output_dir=out)
    stored = entries(out)
    assert stored["effect"]["sentence"] == words
    assert stored["small"]["sentence"] == stored["small"]["value"] == "[REDACTED]"


def test_headline_fields_are_stored_for_the_index_table(out):
    record("oob_bed_days", np.float64(-118.4), kind="difference", unit="bed days per month", ci=(np.float64(-170.2), -66.5),
           baseline=412, latest=291.6, headline=True, label="Out-of-area bed days", definition="level change",
           published={"value": 405, "source": "NHS England"}, output_dir=out)
    entry = entries(out)["oob_bed_days"]
    assert entry == {
        "kind": "difference", "label": "Out-of-area bed days", "value": -118.4, "ci": [-170.2, -66.5],
        "unit": "bed days per month", "baseline": 412, "latest": 291.6,
        "published": {"value": 405, "source": "NHS England"}, "definition": "level change", "headline": True,
    }


def test_a_bare_published_number_gets_an_empty_source(out):
    record("x", 1.5, published=2.5, output_dir=out)
    assert entries(out)["x"]["published"] == {"value": 2.5, "source": None}


@pytest.mark.parametrize("value, expected", [
    (np.int64(7), 7),
    (np.float32(0.5), 0.5),
    (np.bool_(True), True),
    (float("nan"), None),
    (np.inf, None),
    (pd.NA, None),
    (pd.NaT, None),
    (dt.date(2024, 3, 31), "2024-03-31"),
    (pd.Timestamp("2024-03-31"), "2024-03-31"),
    (np.datetime64("2024-03-31"), "2024-03-31"),
    (pd.Timestamp("2024-03-31 12:30"), "2024-03-31T12:30:00"),
    (pd.Period("2024-03", freq="M"), "2024-03"),
    ((1, np.int32(2)), [1, 2]),
    ({"a": np.float64(1.25), 3: "x"}, {"a": 1.25, "3": "x"}),
    (1 / 3, float(f"{1 / 3:.{FLOAT_DIGITS}g}")),
])
def test_values_become_plain_json(value, expected):
    assert to_json_value(value) == expected
    json.dumps(to_json_value(value), allow_nan=False)


def test_frames_are_refused_as_values():
    with pytest.raises(TypeError, match="record_table"):
        to_json_value(pd.DataFrame({"a": [1]}))


def test_bad_names_and_kinds_are_refused(out):
    with pytest.raises(ValueError, match="result name"):
        record("bed days", 1, output_dir=out)
    with pytest.raises(ValueError, match="kind 'effect' is not one of"):
        record("x", 1, kind="effect", output_dir=out)
    with pytest.raises(ValueError, match=r"ci must be \(lower, upper\)"):
        record("x", 1, ci=(1, 2, 3), output_dir=out)


def test_counts_are_rounded_or_redacted(out):
    record("admissions_n", 3, output_dir=out)  # a count by its name
    record("people", 13, kind="count", baseline=52, latest=-12, ci=(4, 22), output_dir=out)  # a count by its kind
    stored = entries(out)
    assert stored["admissions_n"]["value"] == REDACTED
    assert stored["people"]["value"] == 15
    assert stored["people"]["baseline"] == 50 and stored["people"]["latest"] == -10
    assert stored["people"]["ci"] == [REDACTED, 20]


def test_a_result_built_on_a_small_count_is_redacted(out):
    record("readmission_rate", 0.4, kind="rate", ci=(0.1, 0.7), counts={"numerator": 2, "denominator": 5}, output_dir=out)
    record("admission_rate", 0.25, kind="rate", counts={"numerator": 12, "denominator": 48}, output_dir=out)
    stored = entries(out)
    assert stored["readmission_rate"]["value"] == REDACTED and stored["readmission_rate"]["ci"] == REDACTED
    assert stored["readmission_rate"]["counts"] == {"numerator": REDACTED, "denominator": REDACTED}
    assert stored["admission_rate"]["value"] == 0.25
    assert stored["admission_rate"]["counts"] == {"numerator": 10, "denominator": 50}


def test_results_dicts_go_through_redact_results(out):
    record("dbt", {"before_n": 24, "after_n": 1, "rate_ratio": 0.04}, output_dir=out)
    assert entries(out)["dbt"]["value"] == {"before_n": 25, "after_n": REDACTED, "rate_ratio": REDACTED}


def test_record_table_controls_disclosure_and_writes_csv(out):
    table = pd.DataFrame({"provider": ["RPG", "RV5", "RQY", "Total"], "admissions_n": [3, 12, 48, 63],
                          "pct": [4.8, 19.0, 76.2, 100.0]})
    shown = record_table("by_provider", table, total_rows=[3], caption="Admissions", output_dir=out)
    assert shown["admissions_n"].tolist() == [REDACTED, 10, 50, 60]
    assert shown["pct"].tolist()[0] == REDACTED
    csv = (out / "by_provider.csv").read_text()
    assert csv.splitlines()[0] == "provider,admissions_n,pct" and "[REDACTED]" in csv and ",3," not in csv
    entry = entries(out)["by_provider"]
    assert entry["kind"] == "table" and entry["file"] == "by_provider.csv" and entry["caption"] == "Admissions"
    assert entry["rows"][0] == {"provider": "RPG", "admissions_n": REDACTED, "pct": REDACTED}


def test_record_table_extra_count_columns_and_index(out):
    table = pd.DataFrame({"stays": [2, 40]}, index=pd.Index(["a", "b"], name="ward"))
    shown = record_table("stays", table, counts=["stays"], output_dir=out)
    assert shown["stays"].tolist() == [REDACTED, 40]
    assert entries(out)["stays"]["columns"] == ["ward", "stays"]


def test_record_table_refuses_row_level_data(out):
    with pytest.raises(ValueError, match="never row-level data"):
        record_table("people", pd.DataFrame({"x": range(MAX_TABLE_ROWS + 1)}), output_dir=out)


def test_record_figure_saves_png_and_records_it(out):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    path = record_figure("series", fig, caption="A series", key=True, output_dir=out)
    plt.close(fig)
    assert path == out / "series.png" and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert entries(out)["series"] == {"kind": "figure", "file": "series.png", "caption": "A series",
                                      "alt": "A series", "key": True}


def test_a_figure_never_replaces_a_table_of_the_same_name(out):
    record_table("savings", pd.DataFrame({"saving": ["beds"], "pounds": [1000.0]}), output_dir=out)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with pytest.raises(ValueError, match="'savings' is already recorded as a table; a figure of the same name"):
        record_figure("savings", fig, output_dir=out)
    with pytest.raises(ValueError, match="already recorded as a table; a result"):
        record("savings", 1.0, output_dir=out)
    record_figure("savings_figure", fig, output_dir=out)
    plt.close(fig)
    with pytest.raises(ValueError, match="already recorded as a figure; a table"):
        record_table("savings_figure", pd.DataFrame({"x": [10]}), output_dir=out)
    stored = entries(out)
    assert stored["savings"]["kind"] == "table" and stored["savings_figure"]["kind"] == "figure"
    # the same kind again replaces it, as a re-run cell does
    record_table("savings", pd.DataFrame({"saving": ["beds"], "pounds": [2000.0]}), output_dir=out)
    assert entries(out)["savings"]["rows"] == [{"saving": "beds", "pounds": 2000.0}]


def test_output_dir_is_given_never_read_from_the_notebook_or_the_environment(out, monkeypatch, tmp_path):
    import __main__

    # the old hidden channels: a notebook's global `output_dir` and the runner's environment
    monkeypatch.setattr(__main__, "output_dir", str(out), raising=False)
    monkeypatch.setenv("OUTCOMES_OUTPUT_DIR", str(out))
    with pytest.raises(RuntimeError, match=r"record through the notebook's session .*or pass output_dir="):
        record("x", 1)
    with pytest.raises(RuntimeError, match="no output_dir"):
        record_table("t", pd.DataFrame({"n": [10]}))
    assert not (out / "03_its_bed_days.results.json").exists()
    record("named", 2, output_dir=tmp_path / "runner_dir", notebook="05_survival")
    assert "named" in read_sidecar(tmp_path / "runner_dir" / "05_survival.results.json")


def test_a_session_records_into_its_notebooks_folder(tmp_path):
    from outcomes import notebook

    run = notebook.start("07_methods_validation", {"output_dir": str(tmp_path / "07"), "validation_data": ""})
    assert run.extract is None and run.measures is None and run.programme is None  # it declares none of them
    run.record("a", 1.5, unit="days")
    safe = run.record_table("t", pd.DataFrame({"people_n": [3, 20]}))
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    path = run.record_figure("f", fig)
    plt.close(fig)
    assert list(read_sidecar(tmp_path / "07" / "07_methods_validation.results.json")) == ["a", "t", "f"]
    assert safe["people_n"].tolist() == ["[REDACTED]", 20] and path == tmp_path / "07" / "f.png"
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.output_dir = tmp_path


def test_sidecar_is_reproducible(tmp_path):
    def write(folder):
        record("a", 1 / 7, ci=(0.1, 0.2), output_dir=folder)
        record_table("t", pd.DataFrame({"n": [10, 20]}), output_dir=folder)
        return (folder / f"{folder.name}.results.json").read_bytes()

    assert write(tmp_path / "one" / "nb") == write(tmp_path / "two" / "nb")
