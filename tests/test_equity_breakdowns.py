"""Breakdowns by group: the optional deprivation table, person groups, window totals, and the
reference extract's planted inequality recovered from the files."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from extract_factory import tiny_tables, write_extract

from outcomes.programme import Programme
from outcomes.programme.breakdowns import MEASURES, breakdown_counts, breakdown_table, placements_by_group
from outcomes.cohort.groups import has_deprivation, person_groups, window_bed_days_by_group, window_totals_by_group
from outcomes.equity import rate_ratio_against_others
from outcomes.source import ExtractError, open_source
from outcomes.reference import read_truth

import ibis


def test_extract_without_the_optional_deprivation_table_opens_and_has_no_quintiles(tmp_path):
    extract = open_source(write_extract(tmp_path / "x"))
    assert not has_deprivation(extract)
    groups = person_groups(extract).to_pandas().set_index("Person_ID")
    assert groups.loc["P001", "ethnic_group"] == "White" and groups.loc["P002", "ethnic_group"] == "Black"
    assert groups.loc["P003", "ethnic_group"] == "Not recorded"
    assert groups.loc["P001", "sex"] == "Female" and groups.loc["P002", "sex"] == "Male"
    assert groups.imd_quintile.isna().all()


def test_deprivation_table_gives_quintiles_and_is_validated(tmp_path):
    tables = tiny_tables()
    tables["deprivation"] = pd.DataFrame({"LSOA2011": ["E01003000"], "IMDDecile": [3], "IMDYear": [2019]})
    extract = open_source(write_extract(tmp_path / "ok", tables))
    groups = person_groups(extract).to_pandas().set_index("Person_ID")
    assert groups.loc["P001", "imd_quintile"] == 2 and pd.isna(groups.loc["P002", "imd_quintile"])
    tables["deprivation"]["IMDDecile"] = [11]
    with pytest.raises(ExtractError, match="deprivation") as caught:
        open_source(write_extract(tmp_path / "bad", tables))
    assert any(f.table == "deprivation" and f.field == "IMDDecile" for f in caught.value.findings)


def test_window_totals_and_bed_days_follow_mhs24():
    stays = ibis.memtable(pd.DataFrame({
        "g": ["a", "a", "b"],
        "StartDateWardStay": [dt.date(2020, 1, 30), dt.date(2020, 2, 10), dt.date(2020, 3, 5)],
        "EndDateWardStay": [dt.date(2020, 2, 3), None, dt.date(2020, 3, 6)],
    }))
    windows = {"before": (dt.date(2020, 1, 1), dt.date(2020, 2, 1)), "after": (dt.date(2020, 2, 1), dt.date(2020, 4, 1))}
    days = window_bed_days_by_group(stays, windows, ["g"], end_date=dt.date(2020, 3, 31)).set_index(["g", "window"]).n
    # stay 1: Jan 30, 31 before; Feb 1, 2 after (discharge day not counted); stay 2 open: Feb 10..Mar 31 = 51
    assert days[("a", "before")] == 2 and days[("a", "after")] == 2 + 51 and days[("b", "before")] == 0
    counts = window_totals_by_group(stays, "StartDateWardStay", windows, ["g"]).set_index(["g", "window"]).n
    assert counts.tolist() == [1, 1, 0, 1]


@pytest.fixture(scope="module")
def reference_counts(small_reference_dir):
    extract = open_source(small_reference_dir)
    windows = Programme("2017-10-01", 6).whole_windows("2014-04-01", "2024-03-31")
    return windows, breakdown_counts(extract, windows), read_truth(small_reference_dir)


def test_breakdowns_add_up_to_the_same_totals_in_every_dimension(reference_counts):
    windows, counts, _ = reference_counts
    totals = {d: breakdown_table(counts, d, windows).loc["Total"] for d in counts.dimension.unique()}
    assert set(totals) == {"ethnic_group", "sex", "age_band", "imd_quintile"}
    first = next(iter(totals.values()))
    for dimension, total in totals.items():
        assert total.equals(first), dimension


def test_placements_by_ethnic_group_are_the_truth_files_realised_counts(reference_counts):
    """The cohort's admissions and out-of-area placements of footprint CYP, by ethnic group and
    window, are exactly what the generator planted them on (truth.json, realised_spells)."""
    _, counts, truth = reference_counts
    placements = placements_by_group(counts, "ethnic_group").set_index(["group", "period"])
    realised = truth["equity"]["realised_spells"]
    for window, groups in realised.items():
        for group, numbers in groups.items():
            label = "Not recorded" if group == "unknown" else group.capitalize()
            got = placements.loc[(label, window)] if (label, window) in placements.index else None
            assert (0 if got is None else got.exposure) == numbers["admissions"], (window, group)
            assert (0 if got is None else got.events) == numbers["out_of_area"], (window, group)


@pytest.mark.slow
def test_planted_inequality_and_its_narrowing_are_recovered_at_full_scale(tmp_path_factory, request):
    """At scale 1 the planted out-of-area rate ratio (Black CYP against others: 2.5 before, 1.0
    after) lies inside the estimate's 95% CI in both windows, and the before one excludes 1."""
    from conftest import shared_reference_dir

    folder = shared_reference_dir(tmp_path_factory, request, scale=1.0)
    windows = Programme("2017-10-01", 6).whole_windows("2014-04-01", "2024-03-31")
    counts = breakdown_counts(open_source(folder), windows)
    against = rate_ratio_against_others(placements_by_group(counts, "ethnic_group"), "Black")
    planted = read_truth(folder)["equity"]["planted_out_of_area_rate_ratio"]
    for window in ("before", "after"):
        row = against.loc[window]
        assert row.lower <= planted[window] <= row.upper, (window, row.to_dict())
    assert against.loc["before", "lower"] > 1
    assert np.isfinite(against.loc["after", "rate_ratio"])


def _synthetic_breakdown():
    windows = Programme("2017-10-01", 6).whole_windows("2014-04-01", "2024-03-31")
    rows = []
    for group, base in (("Black", 40), ("White", 200), ("Other", 3)):
        for i, measure in enumerate(MEASURES):
            for window in windows:
                rows.append({"dimension": "ethnic_group", "group": group, "measure": measure, "window": window,
                             "n": base * (i + 1) + (window == "after")})
    return windows, pd.DataFrame(rows)


def test_breakdown_table_protection_and_rates_from_the_published_counts():
    from outcomes.disclosure import REDACTED
    from outcomes.disclosure.margins import protect_margins
    from outcomes.programme.breakdowns import PER_MONTH, group_rates

    windows, counts = _synthetic_breakdown()
    table = breakdown_table(counts, "ethnic_group", windows)
    assert table.loc["Total", "admissions_before_n"] == 40 * 2 + 200 * 2 + 3 * 2
    safe = protect_margins(table, total_row="Total")
    assert safe.loc["Other", "bed_days_before_n"] == REDACTED and safe.loc["Black", "bed_days_before_n"] == REDACTED
    rates = group_rates(safe, windows).set_index(["group", "measure", "window"])
    months = {"before": 42.0, "after": 72.0}  # Apr 2014 - Sep 2017; Apr 2018 - Mar 2024 (whole months)
    white = rates.loc[("White", "admissions", "after")]  # 401 published as 400: 400 / 72 per month
    assert white["count"] == 400 and white.rate == pytest.approx(400 / months["after"], rel=1e-12)
    assert white.unit == PER_MONTH and white.ci == "Byar"
    other = rates.loc[("Other", "admissions", "before")]  # 6 is suppressed: no rate, and said so
    assert other.suppressed and other.ci == "suppressed" and np.isnan(other.rate)
    bed_days = rates.loc[("White", "bed_days", "after")]
    assert np.isnan(bed_days.lower) and bed_days.ci.startswith("no CI")
    assert "Total" not in rates.index.get_level_values("group")


def test_rates_per_100000_come_from_the_population_table_by_age_band_only(small_reference_dir, reference_counts):
    """Age bands are the population table's own (0-4, 5-9, 10-14, 15-17 on the reference extract),
    so each has its persons; person-years of a calendar year are that year's estimate times
    366/365.25 (2016) summed over the footprint's LAs; ethnic group, sex and IMD quintile have no
    population and the reason is given instead of a rate. Tolerance 1e-9 relative (sums)."""
    from outcomes.disclosure.margins import protect_margins
    from outcomes.programme.breakdowns import PER_POPULATION, group_person_years, group_rates
    from outcomes.cohort.codes import footprint_las

    windows, counts, _ = reference_counts
    extract = open_source(small_reference_dir)
    table = breakdown_table(counts, "age_band", windows)
    assert list(table.index[:4]) == ["0-4", "5-9", "10-14", "15-17"] and table.index[-1] == "Total"
    year_2016 = {"y2016": (dt.date(2016, 1, 1), dt.date(2017, 1, 1))}
    got = group_person_years(extract, year_2016, "age_band").set_index("group").person_years
    population = pd.read_parquet(small_reference_dir / "population.parquet")
    persons = population[(population.year == 2016) & population.LADistrictAuth.isin(footprint_las())]
    persons = persons.groupby("age_band").persons.sum()
    for band in ("0-4", "5-9", "10-14", "15-17"):
        assert got[band] == pytest.approx(persons[band] * 366 / 365.25, rel=1e-9), band
    for dimension, name in (("ethnic_group", "ethnic group"), ("sex", "sex"), ("imd_quintile", "IMD quintile")):
        reason = group_person_years(extract, windows, dimension)
        assert isinstance(reason, str) and f"not by {name}" in reason
    person_years = group_person_years(extract, windows, "age_band")
    rates = group_rates(protect_margins(table, total_row="Total"), windows, person_years)
    row = rates.set_index(["group", "measure", "window"]).loc[("15-17", "admissions", "after")]
    years = person_years.set_index(["group", "window"]).person_years[("15-17", "after")]
    assert row.unit == PER_POPULATION and row.rate == pytest.approx(row["count"] / years * 100_000, rel=1e-12)
    assert row.lower < row.rate < row.upper


def test_imd_quintiles_are_labelled_and_keep_their_order(reference_counts):
    from outcomes.programme.breakdowns import IMD_LABELS, quintile_of

    windows, counts, _ = reference_counts
    table = breakdown_table(counts, "imd_quintile", windows)
    assert list(table.index[:5]) == ["1 (most deprived)", "2", "3", "4", "5 (least deprived)"]
    assert [quintile_of(label) for label in table.index[:5]] == [1, 2, 3, 4, 5]
    assert set(placements_by_group(counts, "imd_quintile").group) <= set(IMD_LABELS.values()) | {"Not recorded"}
    with pytest.raises(ValueError, match="not an IMD quintile label"):
        quintile_of("1")


def test_small_multiples_draw_rates_with_cis_and_suppressed_apart_from_zero():
    """Bars at each group's rate with error bars; a suppressed value is a hatched placeholder with
    the word "suppressed" and no bar, a true zero a bar of height 0 whose CI still shows; the figure
    passes the overlap and cut-off checks."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.collections import LineCollection
    from outcomes.disclosure import REDACTED
    from outcomes.disclosure.margins import protect_margins
    from outcomes.figures.plots import unreadable_text
    from outcomes.programme.breakdowns import group_rates, plot_small_multiples

    windows, counts = _synthetic_breakdown()
    safe = protect_margins(breakdown_table(counts, "ethnic_group", windows), total_row="Total")
    safe.loc["White", "admissions_before_n"] = 0  # a true zero
    rates = group_rates(safe, windows)
    grid = plot_small_multiples(rates, windows, "test")
    assert grid.axes.shape == (len(MEASURES), 1) and unreadable_text(grid.figure) == []
    groups = ["Black", "Other", "White"]
    for r, measure in enumerate(MEASURES):
        panel = grid.axes[r][0]
        assert [tick.get_text() for tick in panel.get_xticklabels()] == groups
        bars = [p for p in panel.patches if not p.get_hatch()]
        placeholders = [p for p in panel.patches if p.get_hatch()]
        expected = {(g + (-0.2 if w == "before" else 0.2)): (g, w) for g, group in enumerate(groups) for w in windows
                    if safe.loc[group, f"{measure}_{w}_n"] == REDACTED}
        assert sorted(round(p.get_x() + p.get_width() / 2, 6) for p in placeholders) == pytest.approx(sorted(expected))
        assert all(p.get_height() == 1 and not p.get_fill() for p in placeholders)  # the axes' height: not a value
        suppressed_texts = [t for t in panel.texts if t.get_text() == "suppressed"]
        assert len(suppressed_texts) == len(placeholders)
        shown = rates[(rates.measure == measure) & ~rates.suppressed]
        assert len(bars) == len(shown)
        bar_places = {round(b.get_x() + b.get_width() / 2, 6) for b in bars}
        assert not bar_places & {round(x, 6) for x in expected}  # nothing drawn as a bar where suppressed
        errorbars = [c for c in panel.collections if isinstance(c, LineCollection)]
        assert (len(errorbars) > 0) == (measure != "bed_days")
    admissions = grid.axes[list(MEASURES).index("admissions")][0]
    zero = [b for b in admissions.patches if not b.get_hatch() and abs(b.get_x() + b.get_width() / 2 - (2 - 0.2)) < 1e-6]
    assert len(zero) == 1 and zero[0].get_height() == 0  # White before: a zero is a bar of height zero...
    segments = [s for c in admissions.collections if isinstance(c, LineCollection) for s in c.get_segments()]
    white_before = [s for s in segments if abs(s[0][0] - 1.8) < 1e-6]
    assert white_before and white_before[0][:, 1].max() == pytest.approx(3.689 / 42, abs=1e-4)  # ...with its CI
    hidden = int((safe.drop(index="Total") == REDACTED).to_numpy().sum())
    assert hidden > 0 and f"({hidden} suppressed)" in grid.figure._suptitle.get_text()
    placements = placements_by_group(counts, "ethnic_group").set_index(["group", "period"])
    assert placements.loc[("White", "after"), "events"] == 601 and placements.loc[("White", "after"), "exposure"] == 401


def test_the_results_paragraph_is_written_from_what_was_recorded():
    from outcomes.disclosure import REDACTED
    from outcomes.disclosure.margins import protect_margins
    from outcomes.programme.breakdowns import equity_paragraph, group_rates

    windows, counts = _synthetic_breakdown()
    rates = {"ethnic_group": group_rates(protect_margins(breakdown_table(counts, "ethnic_group", windows),
                                                        total_row="Total"), windows)}
    recorded = {"out_of_area_rate_ratio_black_after": {"value": 0.64, "sentence": "Black CYP: 0.64 (0.36 to 1.13)."},
                "out_of_area_change_heterogeneity": {"value": 0.0004}}
    sii = pd.DataFrame({"sii": [3.1], "sii_lower": [-1.0], "sii_upper": [7.4], "reason": ["published"]}, index=["after"])
    text = equity_paragraph(recorded.__getitem__, rates, sii)
    hidden = int(rates["ethnic_group"].suppressed.sum())
    assert text.startswith("Black CYP: 0.64 (0.36 to 1.13). Whether that change differed between ethnic groups: p < 0.001")
    assert "differed from the most deprived by +3.1 (slope index of inequality, 95% CI -1.0 to +7.4)" in text
    assert "no population by ethnic group, so those rates are per month" in text and f"{hidden} values are suppressed" in text
    recorded["out_of_area_rate_ratio_black_after"] = {"value": REDACTED, "sentence": REDACTED, "label": "The ratio"}
    recorded["out_of_area_change_heterogeneity"] = {"value": "not run: too few groups"}
    text = equity_paragraph(recorded.__getitem__, rates)
    assert text.startswith("The ratio is withheld by disclosure control") and "was not run: too few groups." in text
    assert REDACTED not in text


def test_without_one_banding_of_ages_0_to_17_there_is_no_rate_and_the_notebooks_bands_are_kept(tmp_path):
    """The population table must band 0-17 one way in every LA and year of the footprint, and cover
    it, for rates by age; otherwise the reason is given and the breakdown keeps 0-12, 13-15, 16-17."""
    from outcomes.measures.population import cyp_age_bands
    from outcomes.programme.breakdowns import group_person_years

    footprint = ["E09000022", "E09000028"]
    tables = tiny_tables()  # 10-14 and 15-17 in one LA, 10-14 alone in the other: ages 0-9 not covered either
    extract = open_source(write_extract(tmp_path / "x", tables))
    assert cyp_age_bands(extract, footprint) == "the population table bands ages 0-17 differently between LAs or years"
    windows = Programme("2019-10-01", 0).whole_windows("2019-04-01", "2020-03-31")
    assert "differently between LAs or years" in group_person_years(extract, windows, "age_band", footprint)
    tables["population"] = pd.DataFrame({"LADistrictAuth": ["E09000022", "E09000022", "E09000028", "E09000028"],
                                         "year": [2019] * 4, "age_band": ["10-14", "15-17"] * 2,
                                         "persons": [17000, 9500, 16000, 9000]})
    extract = open_source(write_extract(tmp_path / "y", tables))
    assert cyp_age_bands(extract, footprint) == "the population table's age bands do not cover ages 0-17 once each"
    bands = breakdown_counts(extract, windows, footprint).query("dimension == 'age_band'").group.unique()
    assert set(bands) <= {"0-12", "13-15", "16-17", "Not recorded"}
    tables["population"] = pd.DataFrame({"LADistrictAuth": ["E09000022"] * 2 + ["E09000028"] * 2, "year": [2019] * 4,
                                         "age_band": ["0-14", "15-17"] * 2, "persons": [50000, 9500, 48000, 9000]})
    extract = open_source(write_extract(tmp_path / "z", tables))
    assert cyp_age_bands(extract, footprint) == ((0, 14), (15, 17))
    person_years = group_person_years(extract, {"y": (dt.date(2019, 1, 1), dt.date(2020, 1, 1))}, "age_band", footprint)
    year = 365 / 365.25  # 2019: 365 days of a mean year
    assert person_years.set_index("group").person_years.to_dict() == pytest.approx({"0-14": 98000 * year, "15-17": 18500 * year})
