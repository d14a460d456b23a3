"""The programme glue (windows, before/after totals, the measure ITS, the headline), Table 1 and the
published-figure comparison, checked against planted values and the reference extract's truth."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from outcomes import disclosure
from outcomes.disclosure import plottable_counts
from outcomes.programme import Headline, Programme, relative_change
from outcomes.programme.published_figures import published_figures, published_value, reproduce_published
from outcomes.table_one import table_one


def test_windows_are_half_open_years_around_the_transition():
    windows = Programme("2017-10-01", transition_months=6).windows()
    assert windows["baseline"] == (dt.date(2016, 10, 1), dt.date(2017, 10, 1))
    assert windows["post"] == (dt.date(2018, 4, 1), dt.date(2019, 4, 1))
    assert Programme("2020-01-01", 0).windows(months=3)["post"] == (dt.date(2020, 1, 1), dt.date(2020, 4, 1))


def test_one_definition_of_the_windows_serves_years_and_the_whole_extract():
    programme = Programme(dt.datetime(2017, 10, 1, 0, 0), 6)  # a datetime, a Timestamp or an ISO string
    assert programme == Programme("2017-10-01") == Programme(pd.Timestamp("2017-10-01"))
    whole = programme.whole_windows("2014-04-01", "2024-03-31")
    assert whole == {"before": (dt.date(2014, 4, 1), dt.date(2017, 10, 1)), "after": (dt.date(2018, 4, 1), dt.date(2024, 4, 1))}
    assert whole["after"][0] == programme.windows()["post"][0] == programme.settled
    with pytest.raises(ValueError, match="transition_months must be a whole number"):
        Programme("2017-10-01", -1)
    with pytest.raises(ValueError, match="'October 2017' is not a date"):
        Programme("October 2017")


def _monthly(values, start="2016-10-01"):
    months = pd.date_range(start, periods=len(values), freq="MS").date
    return pd.DataFrame({"month": months, "numerator": values, "denominator": 100_000})


def test_relative_change_counts_whole_months_in_each_window():
    # 12 baseline months of 100, 6 transition months of 999 (ignored), 12 post months of 68: -32%
    frame = _monthly([100] * 12 + [999] * 6 + [68] * 12)
    change = relative_change(frame, Programme("2017-10-01", 6).windows())
    assert change == {"baseline": 1200.0, "post": 816.0, "change": pytest.approx(-0.32)}


def _planted_series(rate_ratio=0.7, seed=3):
    rng = np.random.default_rng(seed)
    months = pd.date_range("2014-04-01", periods=120, freq="MS")
    t = np.arange(120)
    post = months >= "2017-10-01"
    mean = 3000 * np.exp(0.1 * np.sin(2 * np.pi * t / 12)) * np.where(post, rate_ratio, 1.0)
    return pd.DataFrame({"month": months.date, "numerator": rng.poisson(mean), "denominator": 800_000})


def test_the_its_recovers_a_planted_level_change():
    programme = Programme("2017-10-01", transition_months=0, covid_start=None)
    result = programme.its(_planted_series(0.7))
    level = result.summary.loc["level_change"]
    # Poisson noise on ~3,000 a month: the level change is estimated to within a few per cent, and
    # its 95% interval must cover the planted 0.7
    assert level["ci_lower"] <= 0.7 <= level["ci_upper"]
    assert level["estimate"] == pytest.approx(0.7, abs=0.05)
    headline = programme.headline(result)
    assert headline.relative == pytest.approx(-0.3, abs=0.05)
    assert headline.averted < 0 and headline.averted_lower < headline.averted < headline.averted_upper
    assert headline.table.loc["level_change", "estimate"] == headline.level_change == level["estimate"]
    assert headline.text == f"{headline.sentence} {headline.level_sentence}"
    # a programme at another go-live or transition does not own this model's headline
    from outcomes.its import ITSInputError

    with pytest.raises(ITSInputError, match="go_live 2018-01-01 is not the fitted model's interruption 2017-10"):
        Programme("2018-01-01", 0).headline(result)
    with pytest.raises(ITSInputError, match="transition_months=6 is not the fitted model's 0"):
        Programme("2017-10-01", 6).headline(result)


def test_a_headline_records_its_three_results_through_the_session(tmp_path):
    from functools import partial

    from outcomes.results import read_sidecar, record, sidecar_path

    recorder = partial(record, output_dir=tmp_path, notebook="nb")
    programme = Programme("2017-10-01", transition_months=6).bound(recorder)
    headline = programme.headline(programme.its(_planted_series(0.8)), what="bed days")
    assert headline.record_to is recorder and headline == Headline(**{**headline.__dict__, "record_to": None})
    headline.record("bed_days", label="Bed days", averted="bed_days_averted")
    entries = read_sidecar(sidecar_path(tmp_path, "nb"))
    assert list(entries) == ["bed_days_level_change", "bed_days_relative_effect", "bed_days_averted"]
    relative = entries["bed_days_relative_effect"]
    assert relative["headline"] and relative["label"] == "Bed days" and relative["sentence"] == headline.sentence
    assert relative["baseline"] == pytest.approx(headline.counterfactual) and relative["latest"] == pytest.approx(headline.fitted)
    assert not entries["bed_days_level_change"]["headline"]
    assert entries["bed_days_averted"]["value"] == pytest.approx(-headline.averted)
    assert entries["bed_days_averted"]["ci"] == pytest.approx([-headline.averted_upper, -headline.averted_lower])
    assert entries["bed_days_averted"]["definition"] == f"Counterfactual - fitted bed days summed {headline.averted_from} to {headline.at}"
    headline.record("other", lead="level", label="Level", baseline=1.0, to=partial(record, output_dir=tmp_path, notebook="b"))
    level = read_sidecar(sidecar_path(tmp_path, "b"))["other_level_change"]
    assert level["headline"] and level["baseline"] == 1.0 and level["latest"] == pytest.approx(headline.fitted)
    with pytest.raises(RuntimeError, match="no recorder"):
        Programme().headline(programme.its(_planted_series(0.8))).record("x")


def test_covid_is_its_own_interruption_and_the_figure_stops_at_the_horizon():
    programme = Programme("2017-10-01", transition_months=6)
    result = programme.its(_planted_series(0.8))
    assert "covid_level_change" in result.summary.index
    line = programme.counterfactual(result)
    # the headline month: 12 months after the transition window (April 2018 to March 2019)
    assert line.attrs["through"] == "2019-03"
    late = line["month"] > pd.Timestamp("2019-03-01")
    assert line.loc[late, "counterfactual"].isna().all()
    assert line.loc[~late, "counterfactual"].notna().all()


@pytest.mark.parametrize("go_live, at", [("2016-04-01", "2017-09"), ("2017-10-01", "2019-03"), ("2019-06-01", "2020-11"),
                                         ("2020-09-01", "2022-02"), ("2021-01-01", "2022-06"), ("2023-01-01", "2024-03")])
def test_the_headline_is_evaluated_at_a_horizon_every_go_live_has(go_live, at):
    frame = _planted_series(0.8)
    programme = Programme(go_live, transition_months=6)
    result = programme.its(frame)
    headline = programme.headline(result, what="bed days")
    assert headline.at == at == programme.headline_month(result)[0]
    assert ("last month of the series" in headline.horizon) == (go_live == "2023-01-01")
    assert headline.averted_from <= headline.at
    assert headline.relative_lower < headline.relative < headline.relative_upper
    assert headline.sentence.startswith(f"In {pd.Timestamp(at):%B %Y} bed days were ")
    assert "95% CI" in headline.sentence and "covid kept" in headline.sentence
    assert programme.counterfactual(result).attrs["through"] == at
    # COVID-19 stays context whatever the go-live
    assert result.summary.loc["covid_level_change", "estimate"] > 0
    assert result.its.term("covid").programme is False


def test_a_go_live_too_close_to_covid_names_both_dates():
    from outcomes.its import ITSInputError

    with pytest.raises(ITSInputError, match=r"covid \(2020-03\) and programme \(2020-04\)"):
        Programme("2020-04-01", transition_months=0).its(_planted_series(0.8))


def test_the_its_never_drops_the_population_offset_silently():
    from outcomes.its import ITSInputError

    frame = _planted_series(0.8).astype({"denominator": float})
    programme = Programme("2017-10-01")
    assert programme.its(frame).its.offset == "denominator"
    frame.loc[frame.index[-14:], "denominator"] = np.nan  # two population years not yet published
    with pytest.raises(ITSInputError, match=r"missing or zero in 14 month\(s\) \(2023-02, .*population=False"):
        programme.its(frame)
    assert programme.its(frame, population=False).its.offset is None
    with pytest.raises(ITSInputError, match="family='gaussian' takes no offset"):
        programme.its(_planted_series(0.8), family="gaussian")


def test_change_sentence_names_both_windows():
    from outcomes.programme import change_sentence

    windows = Programme("2017-10-01", 6).windows()
    sentence = change_sentence("CYP bed days", {"baseline": 100.0, "post": 68.0, "change": -0.32}, windows)
    assert sentence == ("CYP bed days in April 2018 to March 2019 were 32% lower than in October 2016 to "
                        "September 2017 (simple totals, no confidence interval).")


def test_plottable_counts_round_and_hide_small_counts():
    shown = plottable_counts(pd.Series([0, 3, 7, 8, 12, 1234]))
    assert shown.iloc[0] == 0 and shown.iloc[1:3].isna().all()
    assert shown.iloc[3:].tolist() == [10, 10, 1235]


def test_table_one_controls_every_count():
    people = pd.DataFrame({"period": ["before"] * 40 + ["after"] * 33,
                           "sex": ["F"] * 27 + ["M"] * 13 + ["F"] * 30 + ["M"] * 3,
                           "age": np.arange(73) % 18})
    table = table_one(people, continuous=["age"], categorical=["sex"], group="period")
    assert table.loc[("n", ""), "before"] == 40 and table.loc[("n", ""), "after"] == 35  # 33 -> 35
    assert table.loc[("sex, n (%)", "M"), "after"] == disclosure.REDACTED
    assert table.loc[("sex, n (%)", "F"), "before"] == "25 (62.5)"  # 27 -> 25, of 40
    assert table.loc[("sex, n (%)", "F"), "after"] == "30 (85.7)"  # of the rounded 35


def test_published_figures_have_sources_and_tolerances():
    figures = published_figures()
    assert figures.attrs["source"]
    assert figures.loc["bed_days_change", "published"] == -0.32
    assert figures.loc["dbt_bed_days", "published"] == {"before": 605, "after": 0}
    relative = figures[figures.kind == "relative_change"]
    assert relative.tolerance.notna().all() and relative.tolerance_reason.notna().all()


@pytest.fixture(scope="module")
def reference_extract(tmp_path_factory, request):
    from conftest import shared_reference_dir

    from outcomes.source import open_source

    folder = shared_reference_dir(tmp_path_factory, request)
    return open_source(folder), json.loads((folder / "truth.json").read_text())


def test_published_figures_are_graded_on_the_reference_extract(reference_extract):
    """Every row graded in words, none on a point estimate alone: a row whose interval includes no change
    is never "confirmed" (the intervals are read back from the reproduced text), and the DBT counts
    match, with what disclosure control withholds said in words."""
    import re

    from outcomes.programme.evidence import GRADES

    extract, truth = reference_extract
    comparison = reproduce_published(extract)
    assert comparison["grade"].isin(GRADES).all() and comparison["evidence"].str.startswith(tuple(GRADES)).all()
    assert "contradicted" not in set(comparison["grade"])
    for name, row in comparison[comparison["tolerance"] != "exact"].iterrows():
        text = row["reproduced"]
        found = re.search(r"\((?:95% CI )?([-+]?[\d.]+)%? to ([-+]?[\d.]+)%?[;)]", text)
        assert found, (name, text)
        lower, upper = map(float, found.groups())
        null = 1.0 if text.startswith("rate ratio") else 0.0
        if lower <= null <= upper:
            assert row["grade"] != "confirmed" and not row["within_tolerance"], name
            assert "would detect a" in row["evidence"], name
        else:
            assert row["grade"] in ("confirmed", "contradicted"), name
    # the DBT counts are exact and shown disclosure-controlled, and the grade says so in words
    assert comparison.loc["dbt_suicide_attempts", "reproduced"] == "25 -> [REDACTED]"
    assert comparison.loc["dbt_suicide_attempts", "evidence"] == "matches (before: rounded to 25; after: fewer than 8)"
    assert comparison.loc["dbt_bed_days", "reproduced"] == "605 -> 0"
    assert comparison.loc["dbt_bed_days", "grade"] == "matches"


def test_methods_validation_reproduces_linden_and_the_deaths_finding(validation_data):
    from outcomes.programme.methods_validation import deaths_seasonality, reproduce_linden

    linden = reproduce_linden(validation_data)
    assert len(linden) == 12 and linden.within_tolerance.all(), linden[~linden.within_tolerance]
    seasonality = deaths_seasonality(validation_data).set_index("seasonality")
    # without seasonal terms the lag-12 autocorrelation is far outside the bound; month indicators remove it
    assert not seasonality.loc["none", "removed"] and seasonality.loc["month", "removed"]
    assert seasonality.loc["2", "acf_12"] < seasonality.loc["none", "acf_12"] / 1.5


def test_published_value_is_read_from_the_yaml():
    assert published_value("bed_days_change") == {"value": -0.32, "source": "collaborative's published evaluation"}
    assert published_value("picu_median_los_change")["value"] == "shorter"
    with pytest.raises(KeyError, match="no published figure"):
        published_value("nonsense")


def test_importing_the_programme_or_a_notebook_session_loads_no_model_library():
    """statsmodels and scipy (~3 s) load when a model is first fitted, not when a notebook starts."""
    import subprocess
    import sys

    code = ("import sys, outcomes.programme, outcomes.notebook, outcomes.report.parameters; "
            "print(sorted(m for m in ('statsmodels', 'scipy', 'lifelines', 'nbconvert') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
