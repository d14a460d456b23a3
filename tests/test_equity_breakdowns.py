"""Breakdowns by group: the optional deprivation table, person groups, window totals, and the
reference extract's planted inequality recovered from the files."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from extract_factory import tiny_tables, write_extract

from outcomes.programme import Programme
from outcomes.programme.breakdowns import breakdown_counts, breakdown_table, placements_by_group
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


def test_breakdown_table_protection_and_small_multiples_from_counts():
    import matplotlib

    matplotlib.use("Agg")
    from outcomes.programme.breakdowns import MEASURES, plot_small_multiples
    from outcomes.disclosure import REDACTED
    from outcomes.disclosure.margins import protect_margins

    windows = Programme("2017-10-01", 6).whole_windows("2014-04-01", "2024-03-31")
    rows = []
    for group, base in (("Black", 40), ("White", 200), ("Other", 3)):
        for i, measure in enumerate(MEASURES):
            for window in windows:
                rows.append({"dimension": "ethnic_group", "group": group, "measure": measure, "window": window,
                             "n": base * (i + 1) + (window == "after")})
    counts = pd.DataFrame(rows)
    table = breakdown_table(counts, "ethnic_group", windows)
    assert table.loc["Total", "admissions_before_n"] == 40 * 2 + 200 * 2 + 3 * 2
    safe = protect_margins(table, total_row="Total")
    assert safe.loc["Other", "bed_days_before_n"] == REDACTED and safe.loc["Black", "bed_days_before_n"] == REDACTED
    grid = plot_small_multiples(safe, windows, "test")
    assert grid.axes.shape == (len(MEASURES), 1)
    assert "suppressed values not drawn" in grid.figure._suptitle.get_text()
    gappy = safe.copy()
    gappy.loc["White", "bed_days_before_n"] = REDACTED  # "after" alone must stay in its own place
    grid = plot_small_multiples(gappy, windows, "test")
    groups = list(gappy.index.drop("Total"))
    for r, measure in enumerate(MEASURES):  # each bar in its window's place; a suppressed one leaves a gap
        panel = grid.axes[r][0]
        expected = sorted(g + (-0.2 if w == "before" else 0.2) for g, group in enumerate(groups)
                          for w in windows if gappy.loc[group, f"{measure}_{w}_n"] != REDACTED)
        assert sorted(round(bar.get_x() + bar.get_width() / 2, 6) for bar in panel.patches) == pytest.approx(expected)
        assert [tick.get_text() for tick in panel.get_xticklabels()] == groups
    white = groups.index("White")
    assert [round(b.get_x() + b.get_width() / 2, 6) for b in grid.axes[0][0].patches if abs(b.get_x() - white) < 1] \
        == [pytest.approx(white + 0.2)]  # White's "before" bed days suppressed: only "after", in its place
    placements = placements_by_group(counts, "ethnic_group").set_index(["group", "period"])
    assert placements.loc[("White", "after"), "events"] == 601 and placements.loc[("White", "after"), "exposure"] == 401
