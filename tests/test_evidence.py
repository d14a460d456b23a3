"""Evidence words (outcomes.programme.evidence): every grade, the detectable change by hand, exact figures under
disclosure control."""

import doctest
import math

import pytest
from scipy import stats

import outcomes.programme.evidence as evidence_module
from outcomes.programme.evidence import GRADES, detectable_change, grade_direction, grade_exact


def test_docstring_example_runs():
    assert doctest.testmod(evidence_module).failed == 0


@pytest.mark.parametrize("estimate, lower, upper", [
    (0.67, 0.45, 1.00),  # crisis escalations, as the issue found them: the interval reaches no change
    (0.78, 0.55, 1.10),  # A&E attendances of known service users
    (0.82, 0.60, 1.11),  # the 2020 crisis-line extension
])
def test_the_issues_fewer_claims_are_consistent_not_confirmed(estimate, lower, upper):
    grade = grade_direction("fewer", estimate, lower, upper)
    assert grade.grade == "consistent, not confirmed"
    assert "includes no change" in grade.text and "80% of the time" in grade.text
    assert grade.detectable < 0


@pytest.mark.parametrize("claim, estimate, lower, upper, expected", [
    ("fewer", 0.70, 0.55, 0.90, "confirmed"),
    ("shorter", 0.70, 0.55, 0.999, "confirmed"),
    ("fewer", 1.30, 1.10, 1.50, "contradicted"),
    ("fewer", 1.10, 0.90, 1.35, "not confirmed, estimate the other way"),
    ("more", 1.30, 1.10, 1.50, "confirmed"),
    ("more", 0.70, 0.55, 0.90, "contradicted"),
    ("more", 1.05, 0.95, 1.16, "consistent, not confirmed"),
])
def test_every_grade_of_a_ratio(claim, estimate, lower, upper, expected):
    assert grade_direction(claim, estimate, lower, upper).grade == expected


def test_differences_and_missing_intervals():
    assert grade_direction("shorter", -5.0, -9.0, -1.0, ratio=False).grade == "confirmed"
    assert grade_direction("shorter", -5.0, -11.0, 1.0, ratio=False).grade == "consistent, not confirmed"
    assert grade_direction("fewer", float("nan"), 0.5, 1.2).grade == "no estimate"
    assert {g for g in GRADES} >= {"confirmed", "consistent, not confirmed", "contradicted", "matches, value withheld"}
    with pytest.raises(ValueError, match="cannot tell the direction"):
        grade_direction("different", 0.8, 0.6, 1.1)
    with pytest.raises(ValueError, match="lower limit above"):
        grade_direction("fewer", 0.8, 1.1, 0.6)


def test_detectable_change_by_hand():
    """CI 0.45 to 1.00 on the ratio scale: SE(log) = ln(1/0.45) / (2 x 1.959964) = 0.203705; a fall found 80%
    of the time at two-sided 5% sits (1.959964 + 0.841621) SE below no change: exp(-0.570697) - 1 = -0.4349.
    Its power, by the normal law, is 0.80 (4 decimals; the other tail adds less than 1e-6)."""
    smallest = detectable_change(0.45, 1.00, -1)
    assert smallest == pytest.approx(math.exp(-2.801585 * 0.203705) - 1, abs=2e-6)
    assert smallest == pytest.approx(-0.4349, abs=5e-5)
    se = math.log(1 / 0.45) / (2 * stats.norm.ppf(0.975))
    power = stats.norm.cdf(-math.log1p(smallest) / se - stats.norm.ppf(0.975))
    assert power == pytest.approx(0.80, abs=1e-4)
    # a difference: the interval's half-width / z x 2.8016
    assert detectable_change(-11.0, 1.0, -1, ratio=False) == pytest.approx(-6.0 / 1.959964 * 2.801585, rel=1e-6)
    assert grade_direction("fewer", 0.67, 0.45, 1.00).detectable == pytest.approx(smallest)


def test_exact_figures_say_what_disclosure_withholds():
    dbt = grade_exact({"before": 24, "after": 1}, {"before": 24, "after": 1})
    assert dbt.grade == "matches, value withheld"
    assert dbt.text == "matches (before: rounded to 25; after: fewer than 8)"
    assert grade_exact({"before": 605, "after": 0}, {"before": 605, "after": 0}).text == "matches"
    assert grade_exact({"before": 25, "after": 1}, {"before": 25, "after": 1}).text == "matches (after: fewer than 8)"
    differs = grade_exact({"before": 24, "after": 1}, {"before": 22, "after": 1})
    assert differs.grade == "does not match" and differs.text == "does not match (before differs)"
    # at a non-default rule: counts up to 10 hidden, others shown exactly
    assert grade_exact({"after": 9}, {"after": 9}, redact_at_or_below=10, rounding_base=1).text == "matches (after: fewer than 11)"
    assert grade_exact({"after": 11}, {"after": 11}, redact_at_or_below=10, rounding_base=1).text == "matches"
    with pytest.raises(ValueError, match="different counts"):
        grade_exact({"before": 1}, {"after": 1})
