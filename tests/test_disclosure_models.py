"""Model tables withheld for small groups; Kaplan-Meier curves stop where few stays are at risk."""

import doctest
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import outcomes.disclosure.models
from outcomes.disclosure import REDACTED
from outcomes.disclosure.models import ALL, formula_term_groups, gate_model_table, group_counts
from outcomes.survival import LengthOfStay, last_time_at_risk


def test_docstring_example_runs():
    assert doctest.testmod(outcomes.disclosure.models).failed == 0


def stays(n=300, seed=5):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "period": rng.choice(["baseline", "post"], n),
        "sex": rng.choice(["female", "male", "other"], n, p=[0.5, 0.48, 0.02]),
        "age_band": rng.choice(["0-12", "13-15", "16-17"], n, p=[0.05, 0.5, 0.45]),
    })
    true_los = rng.exponential(30, n)
    follow_up = rng.uniform(10, 150, n)
    frame["los_days"] = np.ceil(np.minimum(true_los, follow_up))
    frame["discharged"] = true_los <= follow_up
    return frame


@pytest.fixture(scope="module")
def fitted():
    frame = stays()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        los = LengthOfStay(horizon_days=90, reference_group="baseline").fit(frame, covariates=["sex", "age_band"])
    return frame, los


def test_cox_and_ph_rows_of_small_groups_are_withheld_with_a_reason(fitted):
    frame, los = fitted
    counts = group_counts(frame, ["period", "sex", "age_band"], "discharged")
    small = {(v, lv) for (v, lv), row in counts.iterrows() if min(row.people_n, row.events_n) < 8}
    assert ("sex", "other") in small  # the planted small groups are small
    for table in (los.cox_summary_, los.ph_test_):
        groups = formula_term_groups(table.index, frame, ["period", "sex", "age_band"])
        assert groups["sex[T.male]"] == [("sex", "male"), ("sex", "female")]
        safe = gate_model_table(table, groups, counts, event_label="discharges")
        for term, row in safe.iterrows():
            rests_on_small = any(g in small for g in groups[term])
            assert (row["publication"] != "published") == rests_on_small, term
            numbers = [row[c] for c in table.columns]
            if rests_on_small:
                assert all(v == REDACTED for v in numbers)
                assert row["publication"].startswith("withheld: fewer than 8 people or 8 discharges in ")
            else:
                assert numbers == [table.loc[term, c] for c in table.columns]
        assert safe.attrs["disclosure"]["rows_withheld"] == sum(any(g in small for g in gs) for gs in groups.values())


def test_a_model_on_too_few_people_is_withheld_whole():
    frame = stays(n=6)
    counts = group_counts(frame, ["period"], "discharged")
    table = pd.DataFrame({"coef": [0.3]}, index=["period[T.post]"])
    safe = gate_model_table(table, formula_term_groups(table.index, frame, ["period"]), counts)
    assert safe.loc["period[T.post]", "coef"] == REDACTED
    assert "the whole model" in safe.loc["period[T.post]", "publication"]
    assert counts.loc[ALL, "people_n"] == 6


def test_unmapped_rows_are_an_error():
    frame = stays(n=50)
    table = pd.DataFrame({"coef": [0.3]}, index=["mystery"])
    with pytest.raises(KeyError, match="not mapped to groups, e.g. 'mystery'"):
        gate_model_table(table, {}, group_counts(frame, ["period"], "discharged"))


def test_km_curves_stop_where_fewer_than_the_threshold_are_at_risk(fitted):
    frame, los = fitted
    ax = los.plot(count_formatter=str, min_at_risk=8, ci_show=False)
    lines = [line for line in ax.lines if len(line.get_xdata()) > 1]
    assert len(lines) == 2
    for label, line in zip(los.groups_, lines, strict=True):
        part = frame[frame.period == label]
        last_x = float(np.max(line.get_xdata()))
        assert (part.los_days >= last_x).sum() >= 8  # the last step drawn rests on at least 8 stays
        assert last_x == last_time_at_risk(los.fitters_[label], 8)
        assert last_x < part.los_days.max()  # and the tail of the few longest stays is not drawn
    full = los.plot(count_formatter=str, ci_show=False)
    assert max(float(np.max(l.get_xdata())) for l in full.lines) == frame.los_days.max()


def test_flags_are_withheld_too_but_kept_columns_are_not():
    frame = stays(n=6)
    counts = group_counts(frame, ["period"], "discharged")
    table = pd.DataFrame({"planted": [2.5], "estimate": [2.1], "in_ci": [True]}, index=["period[T.post]"])
    safe = gate_model_table(table, formula_term_groups(table.index, frame, ["period"]), counts, keep=["planted"])
    assert safe.loc["period[T.post]"].tolist()[:3] == [2.5, REDACTED, REDACTED]
