# %% [markdown]
# # Out-of-area bed days
#
# Bed days of children and young people resident in the footprint on wards of providers outside the
# collaborative's network ("out of area"), per month, and their share of all footprint residents'
# CYP bed days. An interrupted time series (segmented quasi-Poisson, population offset, seasonal
# harmonics, AR(1) errors, transition window left out, COVID-19 as its own interruption)
# estimates the change at go-live.

# %% tags=["parameters"]
# 02_out_of_area: None takes the runner's default (outcomes.report.parameters.notebook_parameters);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes.report.parameters import notebook_parameters
params = notebook_parameters("02_out_of_area", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt

from outcomes.figures import plots
from outcomes.extract import open_analysis_extract
from outcomes.its import ITSInputError
from outcomes.programme import (change_sentence, counterfactual_for_figure, its_headline, measure_its,
                                programme_windows, relative_change, window_totals)
from outcomes.published_figures import published_value
from outcomes.measures import catalogue
from outcomes.results import record, record_figure, record_table

plots.use_house_style()
data = open_analysis_extract(extract)
measures = catalogue(footprint, providers)
out_of_area = measures["out_of_area_bed_days"].to_pandas(data, end=period_end)
resident_by_area = measures["resident_bed_days_by_area"].to_pandas(data, end=period_end)  # footprint residents only

# %% [markdown]
# ## Before and after

# %%
windows = programme_windows(go_live, transition_months)
change = relative_change(out_of_area, windows)
record("out_of_area_bed_days_change", change["change"], kind="percent_change", unit="proportion",
       baseline=change["baseline"] / 12, latest=change["post"] / 12, headline=True,
       label="Out-of-area CYP bed days per month (baseline year vs year after transition)",
       definition="Bed days of footprint residents on non-network wards, post year against baseline year",
       published=published_value("out_of_area_bed_days_change"),
       sentence=change_sentence("Out-of-area CYP bed days", change, windows),
       counts={"baseline_n": change["baseline"], "post_n": change["post"]})
footprint_residents = resident_by_area.pivot(index="month", columns="area", values="numerator").reset_index()
totals = {area: window_totals(footprint_residents, windows, column=area) for area in ("in_area", "out_of_area")}
share = {w: totals["out_of_area"][w] / (totals["out_of_area"][w] + totals["in_area"][w]) for w in windows}
for window in windows:
    record(f"out_of_area_share_{window}", share[window], kind="proportion", unit="proportion",
           definition=f"Out-of-area share of footprint residents' CYP bed days in the {window} window "
                      "(residents only in numerator and denominator)",
           counts={"out_of_area_n": totals["out_of_area"][window], "in_area_n": totals["in_area"][window]})
change, share

# %% [markdown]
# ## Interrupted time series
# Out-of-area bed days fell to almost nothing after 2017. For a go-live long after that, a stretch
# between interruptions can hold only zero months, where a log-link model has no finite level: the
# ITS then says why it was not estimated (recorded as `out_of_area_its_not_estimable`), and the
# before/after comparison above stands alone.

# %%
try:
    result = measure_its(out_of_area, go_live, transition_months=transition_months)
except ITSInputError as reason:
    result = None
    record("out_of_area_its_not_estimable", str(reason), kind="estimate",
           definition="Why the out-of-area ITS could not be estimated for this go-live")
    print(f"The out-of-area ITS was not estimated: {reason}")
if result is not None:
    headline = its_headline(result, go_live, transition_months=transition_months, what="out-of-area CYP bed days")
    record_table("its_out_of_area", result.summary.round(4), keep=list(result.summary.columns),
                 caption="Out-of-area bed days: rate ratios with 95% CI")
    record("out_of_area_level_change", headline["level_change"], kind="ratio", unit="rate ratio",
           ci=(headline["level_change_lower"], headline["level_change_upper"]), headline=True,
           baseline=headline["counterfactual"], latest=headline["fitted"], sentence=headline["level_sentence"],
           label="Out-of-area bed days, level change at go-live (rate ratio)",
           definition=f"Segmented quasi-Poisson ITS with population offset, AR(1) errors; baseline and latest are "
                      f"counterfactual and fitted in {headline['horizon']}")
    record("out_of_area_relative_effect", headline["relative"], kind="percent_change", unit="proportion",
           ci=(headline["relative_lower"], headline["relative_upper"]), sentence=headline["sentence"],
           definition=f"Fitted / counterfactual - 1 in {headline['horizon']}; delta-method CI")
    record("out_of_area_bed_days_averted", -headline["averted"], kind="estimate", unit="bed days",
           ci=(-headline["averted_upper"], -headline["averted_lower"]),
           definition=f"Counterfactual - fitted out-of-area bed days, {headline['averted_from']} to {headline['at']}")
    display(result.summary)

# %%
if result is not None:
    line = counterfactual_for_figure(result)
    ax = plots.monthly_series(line, "observed", fitted="fitted", counterfactual="counterfactual",
                              lower="counterfactual_lower", upper="counterfactual_upper", go_live=go_live,
                              transition_months=transition_months, ylabel="bed days per month",
                              title=f"Out-of-area CYP bed days (counterfactual to {headline['at']})")
    record_figure("out_of_area_counterfactual", ax.figure, key=True,
                  caption="Out-of-area CYP bed days per month with the modelled counterfactual (95% CI)")
    plt.show()
