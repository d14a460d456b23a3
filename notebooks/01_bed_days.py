# %% [markdown]
# # CYP occupied bed days
#
# Occupied bed days (NHS England MHS24 rules) of children and young people on CYP beds, resident in
# the footprint or treated by the collaborative, per month per 100,000 CYP residents. An
# interrupted time series (segmented quasi-Poisson regression with the CYP population as offset,
# two Fourier harmonics for season, AR(1) errors, the transition window left out, and COVID-19 from
# March 2020 as its own interruption) estimates what changed at go-live.

# %% tags=["parameters"]
# 01_bed_days: None takes the runner's default (outcomes.report.parameters.notebook_parameters);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes.report.parameters import notebook_parameters
params = notebook_parameters("01_bed_days", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt

from outcomes.figures import plots
from outcomes.disclosure import plottable_counts
from outcomes.extract import open_analysis_extract
from outcomes.programme import (change_sentence, counterfactual_for_figure, its_headline, measure_its,
                                programme_windows, relative_change, window_label)
from outcomes.published_figures import published_value
from outcomes.measures import catalogue
from outcomes.results import record, record_figure, record_table

plots.use_house_style()
data = open_analysis_extract(extract)
measures = catalogue(footprint, providers)
monthly = measures["bed_days"].to_pandas(data, end=period_end)
by_area = measures["bed_days_by_area"].to_pandas(data, end=period_end)

# %% [markdown]
# ## Before and after: the baseline year against the year after the transition

# %%
windows = programme_windows(go_live, transition_months)
change = relative_change(monthly, windows)
record("bed_days_change", change["change"], kind="percent_change", unit="proportion",
       baseline=change["baseline"] / 12, latest=change["post"] / 12, headline=True,
       label="CYP occupied bed days per month (baseline year vs year after transition)",
       definition=f"Sum of monthly bed days {window_label(windows['post'])} against {window_label(windows['baseline'])}",
       published=published_value("bed_days_change"),
       sentence=change_sentence("CYP occupied bed days", change, windows),
       counts={"baseline_n": change["baseline"], "post_n": change["post"]})
change

# %% [markdown]
# ## Interrupted time series

# %%
result = measure_its(monthly, go_live, transition_months=transition_months)
summary = result.summary
record_table("its_bed_days", summary.round(4), keep=list(summary.columns),
             caption="Rate ratios per month (pre-slope, slope changes) and at go-live (level change), 95% CI")
headline = its_headline(result, go_live, transition_months=transition_months, what="CYP occupied bed days")
record("bed_days_level_change", headline["level_change"], kind="ratio", unit="rate ratio",
       ci=(headline["level_change_lower"], headline["level_change_upper"]), sentence=headline["level_sentence"],
       definition="Level change at go-live, segmented quasi-Poisson ITS, AR(1) errors")
record("bed_days_relative_effect", headline["relative"], kind="percent_change", unit="proportion",
       ci=(headline["relative_lower"], headline["relative_upper"]), headline=True,
       baseline=headline["counterfactual"], latest=headline["fitted"], sentence=headline["sentence"],
       label=f"CYP bed days, modelled effect in {headline['at']} (vs counterfactual)",
       definition=f"Fitted / counterfactual - 1 in {headline['horizon']}; delta-method CI")
record("bed_days_averted", -headline["averted"], kind="estimate", unit="bed days",
       ci=(-headline["averted_upper"], -headline["averted_lower"]),
       definition=f"Counterfactual - fitted bed days summed {headline['averted_from']} to {headline['at']}")
summary

# %%
line = counterfactual_for_figure(result)
ax = plots.monthly_series(line, "observed", fitted="fitted", counterfactual="counterfactual",
                          lower="counterfactual_lower", upper="counterfactual_upper", go_live=go_live,
                          transition_months=transition_months, ylabel="bed days per month",
                          title=f"CYP occupied bed days: observed, fitted and counterfactual (to {headline['at']})")
record_figure("bed_days_counterfactual", ax.figure, key=True,
              caption="CYP occupied bed days per month with the modelled counterfactual (95% CI) had the programme not started")
plt.show()

# %% [markdown]
# ## In area and out of area

# %%
split = by_area.assign(numerator=plottable_counts(by_area["numerator"]))
split = split.pivot(index="month", columns="area", values="numerator").reset_index()
ax = split.plot(x="month", figsize=(9, 3.5), title="CYP bed days by area of the ward's provider")
ax.set_ylabel("bed days per month")
record_figure("bed_days_by_area", ax.figure, caption="CYP bed days in network and out of area")
plt.show()

# %% [markdown]
# ## Diagnostics
# Residual autocorrelation after the seasonal terms and AR(1) errors.

# %%
diagnostics = result.diagnostics()
record_table("its_bed_days_diagnostics", diagnostics.table.round(4), keep=list(diagnostics.table.columns),
             caption="Residual diagnostics of the bed-day ITS")
diagnostics.table
