"""The ITS code against published numbers and a real seasonal series, for the methods notebook.

`reproduce_linden(folder)` fits Linden's (2015) single- and multiple-group Proposition 99 models
with `outcomes.its` and sets every published coefficient and P value beside the reproduced one;
`deaths_seasonality(folder)` shows how the seasonal terms remove the 12-month autocorrelation of
monthly deaths in England and Wales; `prop99_estimators(folder)` sets the default AR(1) estimate of
Proposition 99 beside Linden's OLS with Newey-West. `folder` is the shared validation data (read in place).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from outcomes.its import InterruptedTimeSeries
from outcomes.resources import published_dir, validation_data_dir

__all__ = ["VALIDATION_DIR", "LINDEN", "reproduce_linden", "deaths_seasonality", "prop99_estimators"]

#: the validation data shipped inside the package (see its README.md for sources and licences)
VALIDATION_DIR = validation_data_dir()
#: Linden's published numbers
LINDEN = published_dir() / "linden_2015_prop99.yaml"


def _single_group(wide: pd.DataFrame) -> dict[str, float]:
    california = wide[["Year", "California"]].rename(columns={"California": "cigsale"})
    result = InterruptedTimeSeries(california, "cigsale", "Year", 1989, cov_type="newey", maxlags=1).fit()
    summary = result.summary
    return {
        "intercept": result.params["Intercept"],
        "pre_slope": summary.loc["pre_slope", "estimate"],
        "level_change": summary.loc["level_change", "estimate"],
        "post_slope": summary.loc["post_slope", "estimate"],
        "counterfactual_1989": result.counterfactual().loc[1989, "counterfactual"],
    }


def _multiple_group(wide: pd.DataFrame) -> dict[str, float]:
    long = wide.melt(id_vars="Year", var_name="state", value_name="cigsale")
    result = InterruptedTimeSeries(long, "cigsale", "Year", 1989, group="state", treated="California",
                                   controls="stacked", cov_type="newey", maxlags=1).fit()
    summary = result.summary
    return {
        "intercept": result.params["Intercept"],
        "control_pre_slope": summary.loc["control_pre_slope", "estimate"],
        "control_level_change": summary.loc["control_level_change", "estimate"],
        "control_post_slope": summary.loc["control_post_slope", "estimate"],
        "level_change": summary.loc["level_change", "estimate"],
        "level_change_p": summary.loc["level_change", "p_value"],
        "slope_change_p": summary.loc["slope_change", "p_value"],
    }


def reproduce_linden(folder: str | Path = VALIDATION_DIR, published: str | Path = LINDEN) -> pd.DataFrame:
    """Published vs reproduced Proposition 99 estimates: model, term, published, reproduced,
    difference, tolerance, within_tolerance (OLS with Newey-West lag-1 standard errors)."""
    spec = yaml.safe_load(Path(published).read_text(encoding="utf-8"))
    wide = pd.read_csv(Path(folder) / spec["data"])
    reproduced = {"single_group": _single_group(wide), "multiple_group": _multiple_group(wide)}
    rows = []
    for model, values in reproduced.items():
        for term in spec[model]["terms"]:
            value = float(values[term["term"]])
            difference = value - term["published"]
            rows.append({"model": model, "term": term["term"], "published": term["published"], "reproduced": value,
                         "difference": difference, "tolerance": term["tolerance"],
                         "within_tolerance": abs(difference) <= term["tolerance"]})
    return pd.DataFrame(rows)


def deaths_seasonality(folder: str | Path = VALIDATION_DIR, interruption: str = "2020-01-01") -> pd.DataFrame:
    """Lag-12 residual autocorrelation of monthly deaths (pre-interruption fit) by seasonal model:
    seasonality, acf_12, bound (1.96/sqrt(n)), ljung_box_12_p, removed (|acf_12| < bound)."""
    deaths = pd.read_csv(Path(folder) / "deaths_and_temps_england_wales.csv")
    rows = []
    for seasonality in (None, 2, 4, "month"):
        result = InterruptedTimeSeries(deaths, "deaths", "date", interruption, family="quasipoisson",
                                       seasonality=seasonality).fit()
        diagnostics = result.diagnostics(lags=24, segment="pre")
        acf, bound = diagnostics.correlogram.loc[12, ["acf", "bound"]]
        rows.append({"seasonality": "none" if seasonality is None else str(seasonality), "acf_12": acf, "bound": bound,
                     "ljung_box_12_p": diagnostics.ljung_box.loc[12, "lb_pvalue"], "removed": abs(acf) < bound})
    return pd.DataFrame(rows)


def prop99_estimators(folder: str | Path = VALIDATION_DIR) -> pd.DataFrame:
    """California's Proposition 99 (single group, 1970-2000, interruption 1989) under the default
    estimator (`cov_type="ar1"`: AR(1) errors, rho by REML, GLS) and under Linden's OLS with
    Newey-West errors (lag 1), side by side: pre-slope, level change and slope change (packs per
    person) with 95% CIs, the AR(1) parameter and the Durbin-Watson statistic of the residuals.

    GLS re-weights the years by the AR(1) structure, so its point estimates differ from OLS (not
    only its intervals): with 19 pre-years and strongly autocorrelated residuals the level change
    moves from OLS's -20 to about -6."""
    wide = pd.read_csv(Path(folder) / "california_prop99.csv")
    california = wide[["Year", "California"]].rename(columns={"California": "cigsale"})
    rows = {}
    for label, options in (("AR(1) GLS (default)", {"cov_type": "ar1"}),
                           ("OLS, Newey-West lag 1 (Linden 2015)", {"cov_type": "newey", "maxlags": 1})):
        result = InterruptedTimeSeries(california, "cigsale", "Year", 1989, **options).fit()
        row = {}
        for term in ("pre_slope", "level_change", "slope_change"):
            est = result.summary.loc[term]
            row[term] = est["estimate"]
            row[f"{term}_ci"] = f"{est['ci_lower']:.2f} to {est['ci_upper']:.2f}"
        row["rho"] = result.rho
        row["durbin_watson"] = result.diagnostics(lags=6).durbin_watson
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("estimator")
