"""The footprint against a synthetic control of other areas (outcomes.programme.synthetic): the
panel from the published area statistics, the headline, and an extract without the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcomes.errors import UserError
from outcomes.source import open_source
from outcomes.programme import Programme
from outcomes.programme.synthetic import (AREA_MEASURES, area_control, area_panel, has_area_statistics,
                                          synthetic_headline)
from outcomes.reference import read_truth

FOOTPRINT = ["E09000004", "E09000006", "E09000008", "E09000011", "E09000021", "E09000022", "E09000023",
             "E09000024", "E09000027", "E09000028", "E09000029", "E09000032"]


@pytest.fixture(scope="module")
def reference(small_reference_dir):
    return open_source(small_reference_dir)


def test_the_panel_sums_the_footprint_and_keeps_donors_as_published(reference, small_reference_dir):
    raw = pd.read_parquet(small_reference_dir / "area_statistics.parquet")
    raw = raw[raw.measure == "cyp_out_of_area_bed_days"]
    panel = area_panel(reference, "cyp_out_of_area_bed_days", FOOTPRINT)
    fp = raw[raw.area_code.isin(FOOTPRINT)]
    suppressed = int(fp["count"].isna().sum())
    assert panel.attrs["footprint_cells_suppressed"] == suppressed > 0  # scale 0.1: small boroughs' counts
    assert panel.attrs["footprint_areas"] == sorted(FOOTPRINT)
    mine = panel[panel.unit == "footprint"].set_index("month")
    expected = fp.assign(count=fp["count"].fillna(2.5)).groupby("month")[["count", "population"]].sum()
    np.testing.assert_allclose(mine["count"].to_numpy(), expected["count"].to_numpy())  # suppressed = 2.5
    assert (mine["population"].to_numpy() == expected["population"].to_numpy()).all()
    donors = panel[panel.unit != "footprint"]
    assert len(donors) == int((~raw.area_code.isin(FOOTPRINT)).sum())
    assert donors["count"].isna().sum() == raw[~raw.area_code.isin(FOOTPRINT)]["count"].isna().sum()


def test_headline_at_the_horizon_and_over_the_post_year(reference, small_reference_dir):
    programme = Programme("2017-10-01", 6)
    control = area_control(reference, "cyp_bed_days", programme, FOOTPRINT)
    head = synthetic_headline(control, programme, AREA_MEASURES["cyp_bed_days"])
    assert (head.at, head.cumulative_from) == ("2019-03", "2018-04")
    effect = control.effect(at="2019-03", cumulative_from="2018-04")
    assert head.relative == pytest.approx(effect.loc["point", "relative"])
    assert head.cumulative_relative == pytest.approx(effect.loc["cumulative", "relative"])
    # averted: synthetic - observed bed days, the rates times the footprint's CYP over the post year
    span = control.path_.loc["2018-04":"2019-03"]
    assert head.averted == pytest.approx((span["synthetic_count"] - span["observed_count"]).sum())
    assert head.averted_lower <= head.averted <= head.averted_upper
    assert 0 < head.p_value <= 1 and head.placebos + 1 >= 1 / head.p_value
    assert head.sentence.startswith("In March 2019 CYP bed days were")
    assert list(head.table.index) == ["relative", "cumulative_relative", "averted", "placebo_p_value"]
    planted = read_truth(small_reference_dir)["area_statistics"]["planted_footprint_effect"]["cyp_bed_days"]
    assert head.cumulative_relative_lower <= planted["relative"] <= head.cumulative_relative_upper
    recorded = {}
    head.record("synthetic_control_cyp_bed_days", what="CYP bed days",
                to=lambda name, value, **kw: recorded.update({name: (value, kw)}))
    assert set(recorded) == {f"synthetic_control_cyp_bed_days_{s}" for s in
                             ("relative_effect", "cumulative_relative_effect", "averted", "p_value")}
    assert recorded["synthetic_control_cyp_bed_days_relative_effect"][1]["ci"] == (head.relative_lower, head.relative_upper)


def test_an_extract_without_the_table_says_so(tiny_extract_dir):
    extract = open_source(tiny_extract_dir)
    assert not has_area_statistics(extract)
    with pytest.raises(UserError, match="no area_statistics table"):
        area_panel(extract, "cyp_bed_days", FOOTPRINT)
    with pytest.raises(UserError, match="give one of cyp_bed_days"):
        area_panel(extract, "bed_days", FOOTPRINT)


def test_footprint_codes_missing_from_the_table_are_a_clear_error(reference):
    with pytest.raises(UserError, match="no cyp_bed_days rows for the footprint's areas"):
        area_panel(reference, "cyp_bed_days", ["E38000001"])
