"""outcomes.programme.delivery (notebook 13): Newcombe's interval against his published example,
the before/after ratio and its dispersion, the components' table, and the front page's "What it
must not worsen" table."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from outcomes.measures import MEASURES
from outcomes.programme import delivery


@pytest.mark.parametrize("before, after, published", [
    ((48, 80), (56, 70), (0.2000, 0.0524, 0.3339)),
    ((3, 10), (9, 10), (0.6000, 0.1705, 0.8090)),
    ((2, 7), (6, 7), (0.5714, 0.0582, 0.8062)),
    ((0, 29), (5, 56), (0.0893, -0.0381, 0.1926)),
])
def test_proportion_change_reproduces_newcombe_1998(before, after, published):
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II examples (a)-(d), method 10
    # (hybrid score, no continuity correction): difference and interval to the 4 decimals published
    change = delivery.proportion_change(*before, *after)
    assert (change["difference"], change["lower"], change["upper"]) == pytest.approx(published, abs=5e-5)


def monthly(counts, denominators=None, start="2016-01-01"):
    months = pd.date_range(start, periods=len(counts), freq="MS").date
    return pd.DataFrame({"month": months, "numerator": counts,
                         "denominator": pd.array(denominators if denominators is not None else [None] * len(counts), dtype="Int64"),
                         "value": 0.0})


def test_before_after_is_the_exact_ratio_when_months_are_poisson():
    from outcomes.mirror import rate_ratio_exact

    rng = np.random.default_rng(4)
    frame = monthly(rng.poisson(40, 24).tolist())
    before, after = (dt.date(2016, 1, 1), dt.date(2017, 1, 1)), (dt.date(2017, 1, 1), dt.date(2018, 1, 1))
    change = delivery.before_after(MEASURES["cyp_on_adult_wards"], frame, before, after)
    a, b = frame.numerator[:12].sum(), frame.numerator[12:].sum()
    exact = rate_ratio_exact(a, b, 1.0)
    assert change["before"] == pytest.approx(a / 12) and change["ratio"] == pytest.approx(exact.estimate)
    if change["dispersion"] == 1.0:  # Pearson chi-square below its df: no widening
        assert (change["lower"], change["upper"]) == pytest.approx((exact.lower, exact.upper))


def test_before_after_widens_for_overdispersed_months():
    # months alternating 10 and 70 (mean 40, variance 900: dispersion about 22): the log-scale
    # interval is sqrt(dispersion) times the exact one's half-width
    frame = monthly([10, 70] * 12)
    before, after = (dt.date(2016, 1, 1), dt.date(2017, 1, 1)), (dt.date(2017, 1, 1), dt.date(2018, 1, 1))
    change = delivery.before_after(MEASURES["cyp_on_adult_wards"], frame, before, after)
    assert change["dispersion"] == pytest.approx(((30 ** 2) / 40 * 24) / 22, rel=1e-9)
    from outcomes.mirror import rate_ratio_exact

    exact = rate_ratio_exact(480, 480, 1.0)
    assert math.log(change["upper"]) == pytest.approx(math.log(exact.upper) * math.sqrt(change["dispersion"]), rel=1e-9)


def test_a_share_uses_its_denominator():
    frame = monthly([2, 1, 3, 0] * 6, [100, 100, 100, 100] * 3 + [50, 50, 50, 50] * 3)
    before, after = (dt.date(2016, 1, 1), dt.date(2017, 1, 1)), (dt.date(2017, 1, 1), dt.date(2018, 1, 1))
    change = delivery.before_after(MEASURES["readmissions_30d"], frame, before, after)
    assert change["before"] == pytest.approx(100 * 18 / 1200) and change["after"] == pytest.approx(100 * 18 / 600)
    assert change["ratio"] == pytest.approx(2.0)


def test_components_and_balancing_are_declared_against_the_catalogue():
    for component in delivery.components("2017-10-01"):
        measure = MEASURES[component["measure"]]
        assert component["start"].day == 1
        assert component["group"] is None or measure.group_by
    assert {b["measure"] for b in delivery.balancing()} <= set(MEASURES)
    starts = {c["name"]: c["start"] for c in delivery.components("2017-10-01")}
    assert starts["Single point of access"] == dt.date(2017, 10, 1)  # "go_live" resolves to the programme's


def test_the_front_page_shows_what_it_must_not_worsen(tmp_path):
    from outcomes.report import index as index_page

    rows = [
        {"measure": "Restrictive interventions per 1,000 occupied bed days", "unit": "per 1,000 occupied bed days",
         "baseline": 30.39, "post": 30.0, "ratio": 0.987, "ratio_lower": 0.907, "ratio_upper": 1.075,
         "grade": "consistent, not confirmed", "worsened": False},
        {"measure": "Emergency readmission within 30 days", "unit": "% of discharges", "baseline": "[REDACTED]",
         "post": "[REDACTED]", "ratio": "[REDACTED]", "ratio_lower": "[REDACTED]", "ratio_upper": "[REDACTED]",
         "grade": "not confirmed, estimate the other way", "worsened": False},
        {"measure": "CYP detained", "unit": "per 100,000 CYP", "baseline": 1.0, "post": 1.5, "ratio": 1.5,
         "ratio_lower": 1.2, "ratio_upper": 1.9, "grade": "contradicted", "worsened": True},
    ]
    results = {"13_delivery_and_balancing": {delivery.BALANCING_TABLE: {"kind": "table", "rows": rows}}}
    balancing = index_page.balancing_rows(results)
    assert [r.change for r in balancing] == ["\u22121.3% (\u22129.3% to +7.5%)", "withheld (small numbers)", "+50.0% (+20.0% to +90.0%)"]
    assert balancing[0].href == "notebooks/13_delivery_and_balancing.html#balancing"
    page = index_page.IndexPage(title="t", quarter="2024Q1", period="p", generated=dt.datetime(2024, 4, 1), status="published",
                                caveats=[], headline=[], figures=[], notebooks=[], quality=[], provenance=[], balancing=balancing)
    index_page.render_index(page, tmp_path / "index.html")
    html = (tmp_path / "index.html").read_text()
    assert "What it must not worsen" in html and html.count('class="worsened"') == 1
    assert "consistent, not confirmed" in html and "withheld (small numbers)" in html
