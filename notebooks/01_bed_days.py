# %% [markdown]
# # CYP occupied bed days
#
# Occupied bed days (NHS England MHS24 rules) of children and young people on CYP beds, resident in
# the footprint or treated by the collaborative, per month per 100,000 CYP residents. An
# interrupted time series (segmented quasi-Poisson regression with the CYP population as offset,
# two Fourier harmonics for season, AR(1) errors, the transition window left out, and COVID-19 from
# March 2020 as its own interruption) estimates what changed at go-live.

# %% tags=["parameters"]
# 01_bed_days: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("01_bed_days", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt

from outcomes.figures import plots
from outcomes.disclosure import plottable_counts
from outcomes.programme import change_sentence, relative_change, window_label
from outcomes.programme.published_figures import published_value

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
monthly = measures["bed_days"].to_pandas(data)
by_area = measures["bed_days_by_area"].to_pandas(data)

# %% [markdown]
# ## Before and after: the baseline year against the year after the transition

# %%
programme = run.programme
windows = programme.windows()
change = relative_change(monthly, windows)
run.record("bed_days_change", change["change"], kind="percent_change", unit="proportion",
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
result = run.estimate("bed_days_its", "CYP bed-day interrupted time series", programme.its, monthly, headline=True)

# %%
if result is not None:
    summary = result.summary
    run.record_table("its_bed_days", summary.round(4), keep=list(summary.columns),
                     caption="Rate ratios per month (pre-slope, slope changes) and at go-live (level change), 95% CI")
    headline = programme.headline(result, what="CYP occupied bed days")
    headline.record("bed_days", label=f"CYP bed days, modelled effect in {headline.at} (vs counterfactual)",
                    averted="bed_days_averted")
    display(summary)

# %%
if result is not None:
    line = programme.counterfactual(result)
    ax = plots.monthly_series(line, "observed", fitted="fitted", counterfactual="counterfactual",
                              lower="counterfactual_lower", upper="counterfactual_upper", go_live=programme.go_live,
                              transition_months=programme.transition_months, ylabel="bed days per month",
                              title=f"CYP occupied bed days: observed, fitted and counterfactual (to {headline.at})")
    run.record_figure("bed_days_counterfactual", ax.figure, key=True,
                      caption="CYP occupied bed days per month with the modelled counterfactual (95% CI) had the programme not started")
    plt.show()

# %% [markdown]
# ## In area and out of area

# %%
split = by_area.assign(numerator=plottable_counts(by_area["numerator"]))
split = split.pivot(index="month", columns="area", values="numerator").reset_index()
ax = split.plot(x="month", figsize=(9, 3.5), title="CYP bed days by area of the ward's provider")
ax.set_ylabel("bed days per month")
run.record_figure("bed_days_by_area", ax.figure, caption="CYP bed days in network and out of area")
plt.show()

# %% [markdown]
# ## Diagnostics
# Residual autocorrelation after the seasonal terms and AR(1) errors.

# %%
if result is not None:
    diagnostics = result.diagnostics()
    run.record_table("its_bed_days_diagnostics", diagnostics.table.round(4), keep=list(diagnostics.table.columns),
                     caption="Residual diagnostics of the bed-day ITS")
    display(diagnostics.table)
