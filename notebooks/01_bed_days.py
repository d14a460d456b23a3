# %% [markdown]
# # CYP occupied bed days
#
# Occupied bed days (NHS England MHS24 rules) of children and young people on CYP beds, resident in
# the footprint or treated by the collaborative, per month per 100,000 CYP residents. Bed days are a
# stock: admissions times length of stay. Two estimates of what changed at go-live stand side by side:
#
# * the **flow** (headlined): an interrupted time series of admissions (hospital spells; quasi-Poisson
#   with the CYP population as offset, AR(1) errors, COVID-19 from March 2020 as context, the
#   transition window left out) and lengths of stay before and after (open stays censored), combined
#   by simulation into bed days with and without the programme. It says how much of the change came
#   from fewer admissions and how much from shorter stays;
# * the **bed-day ITS**: the same segmented regression on the monthly bed days themselves (two
#   Fourier harmonics for season).
#
# The flow is headlined because it fits how bed days arise: stays admitted before the go-live carry
# on after it, which a segmented line through the stock does not describe. On simulated extracts
# (`benchmarks/its_coverage.py`) its 95% interval covered the true effect 96% of the time with a
# median width of 0.44-0.46, against 0.55-0.56 for the bed-day ITS. Before any single-series number is
# headlined the design is checked (go-live after COVID-19, a pre-period under 24 months, a change of
# data source at the go-live).

# %% tags=["parameters"]
# 01_bed_days: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("01_bed_days", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.disclosure import plottable_counts
from outcomes.programme import change_sentence, relative_change, window_label
from outcomes.programme.evidence import grade_direction
from outcomes.programme.design import check_design
from outcomes.programme.flow import flow, spells
from outcomes.programme.published_figures import published_value
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
monthly = measures["bed_days"].to_pandas(data)
by_area = measures["bed_days_by_area"].to_pandas(data)
carried = run.population_note("bed_days")  # rates after the last published ONS estimate use it, carried forward: said here

# %% [markdown]
# ## The design check
# A single series can carry a headline only when the go-live precedes COVID-19, the pre-period has
# at least 24 months and no change of data source falls at the go-live.

# %%
programme = run.programme
design = check_design(programme, monthly["month"].min(), what="CYP occupied bed days")
display(Markdown(design.sentence + (f" {design.warning}" if design.warning else "")))
design.record(run.record, "bed_days", "CYP occupied bed days")

# %% [markdown]
# ## Bed days by flow: admissions and length of stay

# %%
stays = spells(data, footprint, providers)
try:
    by_flow = flow(programme, monthly, stays, seasonality=design.seasonality)
except ValueError as reason:  # too few stays before or after, or a fit the data cannot support
    by_flow = None
    display(Markdown(f"The flow is not estimated: {reason}."))
    run.record("bed_days_flow_not_estimable", str(reason), kind="estimate",
               definition="Why the bed-day flow could not be estimated on this extract")
if by_flow is not None:
    point, post_year = by_flow.effect_.loc["point"], by_flow.effect_.loc["cumulative"]
    run.record("bed_days_flow_relative_effect", point["relative"], kind="percent_change", unit="proportion",
               ci=(point["relative_lower"], point["relative_upper"]), headline=design.trusted,
               label=f"CYP bed days by flow, modelled effect in {by_flow.at_} (vs counterfactual)",
               baseline=point["counterfactual"], latest=point["fitted"],
               sentence=by_flow.effect_summary("CYP occupied bed days"),
               definition="Admissions ITS (level-only programme term) x lengths of stay before and after; "
                          f"parametric bootstrap, 95% percentile CI; {by_flow.horizon_}")
    run.record("bed_days_flow_averted", -post_year["absolute"], kind="estimate", unit="bed days",
               ci=(-post_year["absolute_upper"], -post_year["absolute_lower"]),
               definition=f"Counterfactual - fitted bed days by flow, {post_year['from']} to {post_year['to']}")
    for part in ("admissions", "length_of_stay"):
        row = by_flow.split_.loc[part]
        run.record(f"bed_days_flow_{part}_part", row["relative"], kind="percent_change", unit="proportion",
                   ci=(row["relative_lower"], row["relative_upper"]),
                   definition=f"The part of the relative effect in {by_flow.at_} that came from {part.replace('_', ' ')} "
                              "(Shapley split; the two parts add up to the effect)")
    run.record_table("bed_days_flow", by_flow.summary.reset_index(), keep=["estimate", "lower", "upper"],
                     caption="Bed days by flow: the effect, bed days averted, and its split into admissions and "
                             "length of stay (95% CI)")
    run.record_table("bed_days_flow_length_of_stay", by_flow.length_of_stay_.reset_index(),
                     caption="Lengths of stay (days) before and after, from the piecewise-exponential fits "
                             "(open stays censored)")
    run.show(by_flow.summary, caption="Bed days by flow: the effect, bed days averted, and its split (95% CI)")
    display(run.paragraph(paragraphs.estimates, "bed_days_flow_relative_effect", "bed_days_flow_averted"))

# %% [markdown]
# ## Before and after: the baseline year against the year after the transition
# Simple totals carry no interval; the published claim is graded on the modelled post-year effect.

# %%
windows = programme.windows()
change = relative_change(monthly, windows)
published = published_value("bed_days_change")
evidence = None
if by_flow is not None:
    evidence = grade_direction("fewer" if published["value"] < 0 else "more", 1 + post_year["relative"],
                               1 + post_year["relative_lower"], 1 + post_year["relative_upper"]).text
run.record("bed_days_change", change["change"], kind="percent_change", unit="proportion",
           baseline=change["baseline"] / 12, latest=change["post"] / 12, headline=True,
           label="CYP occupied bed days per month (baseline year vs year after transition)",
           definition=f"Sum of monthly bed days {window_label(windows['post'])} against {window_label(windows['baseline'])}"
                      + ("; evidence graded on the flow's post-year effect and its 95% CI" if evidence else ""),
           published=published, evidence=evidence,
           sentence=change_sentence("CYP occupied bed days", change, windows),
           counts={"baseline_n": change["baseline"], "post_n": change["post"]})
run.said("bed_days_change")

# %% [markdown]
# ## The bed-day ITS, beside the flow

# %%
result = run.estimate("bed_days_its", "CYP bed-day interrupted time series", programme.its, monthly,
                      seasonality=design.seasonality, headline=design.trusted and by_flow is None)

# %%
if result is not None:
    summary = result.summary
    run.record_table("its_bed_days", summary.round(4), keep=list(summary.columns),
                     caption="Rate ratios per month (pre-slope, slope changes) and at go-live (level change), 95% CI")
    headline = programme.headline(result, what="CYP occupied bed days")
    headline.record("bed_days", lead="relative" if design.trusted and by_flow is None else None,
                    label=f"CYP bed days, modelled effect in {headline.at} (vs counterfactual)", averted="bed_days_averted")
    if by_flow is not None:
        beside = pd.DataFrame({
            "flow": [point["relative"], point["relative_lower"], point["relative_upper"]],
            "bed-day ITS": [headline.relative, headline.relative_lower, headline.relative_upper],
        }, index=["relative effect", "lower", "upper"]).T
        run.record_table("bed_days_flow_beside_its", beside.round(3).reset_index(), keep=list(beside.columns),
                         caption=f"The relative effect in {headline.at} by both methods (95% CI); the flow is headlined")
        run.show(beside, caption=f"The relative effect in {headline.at} by both methods (95% CI)")
    run.show(summary, caption="Rate ratios per month (pre-slope, slope change) and at go-live (level change), 95% CI")
    display(run.paragraph(paragraphs.estimates, "bed_days_level_change", "bed_days_relative_effect", "bed_days_averted"))

# %%
if result is not None:
    ax = programme.counterfactual_chart(result, ylabel="bed days per month",
                                        title=f"CYP occupied bed days: observed, fitted and counterfactual (to {headline.at})")
    run.record_figure("bed_days_counterfactual", ax.figure, key=True,
                      caption="CYP occupied bed days per month with the modelled counterfactual (95% CI) had the programme not started")
    plt.show()

# %% [markdown]
# ## In area and out of area

# %%
split = by_area.assign(numerator=plottable_counts(by_area["numerator"]))
split = split.pivot(index="month", columns="area", values="numerator").reset_index()
fig, ax = plt.subplots(figsize=(9, 3.5))
for area in split.columns.drop("month"):
    ax.plot(pd.to_datetime(split["month"]), split[area], label=area.replace("_", " "))
ax.set_title("CYP bed days by area of the ward's provider")
ax.set_ylabel("bed days per month")
plots.mark_events(ax, {"go-live": programme.go_live, **programme.markers()}, split["month"].min(), split["month"].max())
plots.legend_outside(ax)
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
    run.show(diagnostics.table, caption="Residual diagnostics of the bed-day ITS")
    # what is left once the AR(1) errors are modelled, in words: what it means for the intervals
    display(Markdown(result.diagnostics(residuals="whitened").in_words(family=result.family, cov_type=result.cov_type)))
