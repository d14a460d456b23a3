"""Results paragraphs (outcomes.report.paragraphs): prose written from recorded entries, each with
its number, its 95% CI and the evidence in words; a suppressed result says so."""

from __future__ import annotations

import pandas as pd

from outcomes.report import paragraphs
from outcomes.results import read_sidecar, record, record_table, sidecar_path


def test_an_estimate_says_its_number_ci_and_evidence():
    entry = {"kind": "ratio", "value": 0.82, "ci": [0.6043, 1.1087], "unit": "rate ratio", "label": "Crisis-line extension"}
    assert paragraphs.estimate(entry) == ("Crisis-line extension: 0.82 (95% CI 0.60 to 1.11) (rate ratio (1 = no change)). "
                                          "Evidence: consistent, not confirmed (the 95% CI includes no change).")
    confirmed = dict(entry, ci=[0.6, 0.95], sentence="Attendances fell by a rate ratio of 0.82 (95% CI 0.60 to 0.95)")
    assert paragraphs.estimate(confirmed).endswith("(95% CI 0.60 to 0.95). Evidence: confirmed (the 95% CI excludes no change).")
    graded = dict(entry, evidence="consistent, not confirmed: the 95% CI includes no change")
    assert paragraphs.estimate(graded).endswith("Evidence: consistent, not confirmed: the 95% CI includes no change.")
    # money in pounds with its price year; a value with no interval and no claim is not graded
    money = {"kind": "estimate", "value": 11723641.5, "ci": [1717911.4, 21729371.6], "unit": "GBP 2023/24", "label": "Saving"}
    assert paragraphs.estimate(money).startswith("Saving: \u00a311.7 million (95% CI \u00a31.7 million to \u00a321.7 million), "
                                                 "in 2023/24 prices.")
    plain = {"kind": "estimate", "value": -5.91, "unit": "packs per person", "label": "Level change"}
    assert paragraphs.estimate(plain) == "Level change: \u22125.91 (packs per person)."


def test_a_suppressed_or_not_estimable_result_says_so():
    redacted = {"kind": "ratio", "value": "[REDACTED]", "ci": "[REDACTED]", "label": "Suicide attempts", "sentence": "[REDACTED]"}
    assert paragraphs.estimate(redacted) == "Suicide attempts: withheld by disclosure control (it rests on a count of 1 to 7)."
    missing = {"kind": "not_estimable", "sentence": "PICU length of stay: not estimable: <8 stays"}
    assert paragraphs.estimate(missing) == "PICU length of stay: not estimable: <8 stays."
    assert paragraphs.estimates(None, missing) == "PICU length of stay: not estimable: <8 stays."


def test_paragraphs_read_the_recorded_numbers_not_the_ones_in_memory(tmp_path):
    """A count recorded as 44365 (rounded) is said as 44,365, though memory held 44363."""
    frame = pd.DataFrame({"period": ["baseline", "post"], "n": [55, 46], "events_n": [55, 44], "censored_n": [0, 2],
                          "median": [26.0, 16.0], "median_lower": [21.0, 13.0], "median_upper": [32.0, 20.0],
                          "horizon_days": [90, 90], "rmst": [31.23, 19.3], "rmst_lower": [26.3, 15.88],
                          "rmst_upper": [36.16, 22.73]})
    record_table("picu_length_of_stay", frame, output_dir=tmp_path, notebook="03")
    record("picu_rmst_difference", -11.92, kind="difference", unit="days", ci=(-17.93, -5.92), output_dir=tmp_path,
           notebook="03")
    recorded = read_sidecar(sidecar_path(tmp_path, "03"))
    text = paragraphs.survival(recorded["picu_length_of_stay"], recorded["picu_rmst_difference"])
    assert text.startswith("Baseline: 55 stays, median 26.0 (95% CI 21.0 to 32.0) days, mean stay to 90 days "
                           "31.2 (95% CI 26.3 to 36.2); Post: 45 stays")  # 46 stays recorded as 45
    assert text.endswith("changed by \u221211.9 (95% CI \u221217.9 to \u22125.92) days, post minus baseline. "
                         "Evidence: confirmed (the 95% CI excludes no change).")


def test_rows_of_ratios_hazards_and_mirror_images_in_words():
    mirror = {"rows": [{"outcome": "Occupied bed days", "rate_ratio": 0.2, "rate_ratio_lower": 0.1, "rate_ratio_upper": 0.4,
                        "p_value": 1.5e-182},
                       {"outcome": "Suicide attempts", "rate_ratio": "[REDACTED]"}]}
    assert paragraphs.mirror_image(mirror) == (
        "Occupied bed days: rate ratio after against before 0.20 (95% CI 0.10 to 0.40), p <0.001; evidence: confirmed "
        "(the 95% CI excludes no change). Suicide attempts: withheld by disclosure control (a count of 1 to 7 after).")
    cox = {"rows": [{"covariate": "period[T.post]", "exp(coef)": 2.7309, "exp(coef) lower 95%": 1.7009,
                     "exp(coef) upper 95%": 4.3848, "p": 0.0}]}
    assert paragraphs.hazard_ratio(cox, "period[T.post]", "discharge after go-live") == (
        "Hazard ratio of discharge after go-live: 2.73 (95% CI 1.70 to 4.38), p <0.001; evidence: confirmed (the 95% "
        "CI excludes no change).")
    balancing = {"rows": [{"measure": "cyp_detained", "ratio": 0.74, "ratio_lower": 0.52, "ratio_upper": 1.05,
                           "grade": "consistent, not confirmed", "worsened": False},
                          {"measure": "Restrictive interventions", "ratio": 1.4, "ratio_lower": 1.1, "ratio_upper": 1.8,
                           "grade": "contradicted", "worsened": True}]}
    assert paragraphs.balancing(balancing) == (
        "1 of 2 balancing measures worsened: Restrictive interventions. CYP detained under the Mental Health Act: "
        "ratio after to before 0.74 (95% CI 0.52 to 1.05), consistent, not confirmed; Restrictive interventions: ratio "
        "after to before 1.40 (95% CI 1.10 to 1.80), contradicted.")


def test_published_claims_cohorts_and_the_dashboard_are_summed_up():
    claims = [{"kind": "estimate", "value": "confirmed", "label": "Bed days", "sentence": "confirmed: the 95% CI excludes no change"},
              {"kind": "estimate", "value": "matches", "label": "DBT bed days", "sentence": "matches"},
              {"kind": "not_estimable", "sentence": "A&E: not estimable"}]
    assert paragraphs.evidence_summary(*claims) == ("Of 2 published claims graded against this extract: 1 confirmed; 1 "
                                                    "matches. Bed days: confirmed: the 95% CI excludes no change; DBT bed "
                                                    "days: matches.")
    attrition = {"kind": "table", "caption": "Attrition of the DBT cohort", "columns": ["step", "people_remaining"],
                 "rows": [{"step": 0, "people_remaining": 35, "rows_remaining": 35},
                          {"step": 1, "people_remaining": 30, "rows_remaining": 30}]}
    quality = {"kind": "table", "columns": ["table", "field", "check", "rows_n"], "rows": [{"check": "unknown"}]}
    assert paragraphs.cohort(attrition, quality) == ("After its rules, the DBT cohort keeps 30 people (30 rows) after 1 "
                                                     "rule. The extract has 1 data-quality warning, none stopping the "
                                                     "analysis (listed above).")
    dashboard = {"rows": [{"label": "CYP occupied bed days", "concern_months": 5}, {"label": "Admissions", "concern_months": 0},
                          {"label": "PICU", "problem": "too few months"}]}
    assert paragraphs.attention(dashboard).startswith("2 of 3 measure charts could be drawn; 1 show special cause of "
                                                      "concern in the last 12 months: CYP occupied bed days.")


def test_a_table_by_year_says_where_it_started_and_ended():
    table = {"rows": [{"year": "2014/15", "median_km": 11.0, "share_50km_pct": 28.8},
                      {"year": "2015/16", "median_km": 13.0, "share_50km_pct": 30.3},
                      {"year": "2023/24", "median_km": 9.0, "share_50km_pct": "[REDACTED]"}]}
    assert paragraphs.first_and_last(table, "year", {"median_km": "the median distance {} km",
                                                     "share_50km_pct": "the share far from home {}%"}) == (
        "From 2014/15 to 2023/24, the median distance went from 11.0 to 9.00 km; the share far from home went from "
        "28.8 to [REDACTED]%.")
