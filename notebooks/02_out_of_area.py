# %% [markdown]
# # Out-of-area bed days
#
# Bed days of children and young people resident in the footprint on wards of providers outside the
# collaborative's network ("out of area"), per month, and their share of all footprint residents'
# CYP bed days. An interrupted time series (segmented quasi-Poisson, population offset, seasonal
# harmonics, AR(1) errors, transition window left out, COVID-19 as its own interruption)
# estimates the change at go-live, and is headlined. Beside it, the flow (out-of-area placements
# times their lengths of stay, as notebook 01 models bed days): it says whether fewer placements or
# shorter stays did it, but it is not headlined here, because repatriation brings home young people
# whose stays were already under way, and a flow that follows stays by their admission date gives
# those stays their pre-programme length. It therefore understates the fall.

# %% tags=["parameters"]
# 02_out_of_area: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("02_out_of_area", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.its import ITSInputError
from outcomes.programme import change_sentence, relative_change, window_label, window_totals
from outcomes.programme.evidence import grade_direction
from outcomes.programme.design import check_design
from outcomes.programme.flow import flow, spells
from outcomes.programme.published_figures import published_value
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
out_of_area = measures["out_of_area_bed_days"].to_pandas(data)
resident_by_area = measures["resident_bed_days_by_area"].to_pandas(data)  # footprint residents only

# %% [markdown]
# ## The design check

# %%
programme = run.programme
design = check_design(programme, out_of_area["month"].min(), what="out-of-area CYP bed days")
display(Markdown(design.sentence + (f" {design.warning}" if design.warning else "")))
design.record(run.record, "out_of_area", "Out-of-area bed days")

# %% [markdown]
# ## Interrupted time series
# Out-of-area bed days fell to almost nothing after 2017. For a go-live long after that, a stretch
# between interruptions can hold only zero months, where a log-link model has no finite level: the
# ITS then says why it was not estimated (recorded as `out_of_area_its_not_estimable`), and the
# before/after comparison below stands alone.

# %%
try:
    result = programme.its(out_of_area, seasonality=design.seasonality)
except ITSInputError as reason:
    result = None
    run.record("out_of_area_its_not_estimable", str(reason), kind="estimate",
               definition="Why the out-of-area ITS could not be estimated for this go-live")
    display(Markdown(f"The out-of-area ITS was not estimated: {reason}."))
evidence = None
if result is not None:
    headline = programme.headline(result, what="out-of-area CYP bed days")
    run.record_table("its_out_of_area", result.summary.round(4), keep=list(result.summary.columns),
                     caption="Out-of-area bed days: rate ratios with 95% CI")
    headline.record("out_of_area", lead="level" if design.trusted else None,
                    label="Out-of-area bed days, level change at go-live (rate ratio)",
                    level_definition="Segmented quasi-Poisson ITS with population offset, AR(1) errors; baseline and "
                                     f"latest are counterfactual and fitted in {headline.horizon}",
                    averted="out_of_area_bed_days_averted",
                    averted_definition=f"Counterfactual - fitted out-of-area bed days, {headline.averted_from} to {headline.at}")
    run.show(result.summary, caption="Out-of-area bed days: rate ratios with 95% CI")
    display(run.paragraph(paragraphs.estimates, "out_of_area_level_change", "out_of_area_relative_effect",
                          "out_of_area_bed_days_averted"))
    at = headline.at
    post_year = result.effect(at=at, cumulative_from=min(headline.averted_from, at)).loc["cumulative"]
    evidence = grade_direction("fewer", 1 + post_year["relative"], 1 + post_year["relative_lower"],
                               1 + post_year["relative_upper"])

# %% [markdown]
# ## Before and after

# %%
windows = programme.windows()
change = relative_change(out_of_area, windows)
run.record("out_of_area_bed_days_change", change["change"], kind="percent_change", unit="proportion",
           baseline=change["baseline"] / 12, latest=change["post"] / 12, headline=True,
           label="Out-of-area CYP bed days per month (baseline year vs year after transition)",
           definition="Bed days of footprint residents on non-network wards, post year against baseline year"
                      + ("; evidence graded on the ITS's post-year effect and its 95% CI" if evidence else ""),
           published=published_value("out_of_area_bed_days_change"), evidence=evidence.text if evidence else None,
           sentence=change_sentence("Out-of-area CYP bed days", change, windows),
           counts={"baseline_n": change["baseline"], "post_n": change["post"]})
footprint_residents = resident_by_area.pivot(index="month", columns="area", values="numerator").reset_index()
totals = {area: window_totals(footprint_residents, windows, column=area) for area in ("in_area", "out_of_area")}
share = {w: totals["out_of_area"][w] / (totals["out_of_area"][w] + totals["in_area"][w]) for w in windows}
for window in windows:
    run.record(f"out_of_area_share_{window}", share[window], kind="proportion", unit="proportion",
               definition=f"Out-of-area share of footprint residents' CYP bed days in the {window} window "
                          "(residents only in numerator and denominator)",
               sentence=f"In the {window} window ({window_label(windows[window])}), {share[window]:.1%} of footprint "
                        "residents' CYP bed days were on wards outside the network.",
               counts={"out_of_area_n": totals["out_of_area"][window], "in_area_n": totals["in_area"][window]})
display(run.said("out_of_area_bed_days_change"))
display(run.said("out_of_area_share_baseline"), run.said("out_of_area_share_post"))

# %% [markdown]
# ## Out-of-area bed days by flow, beside the ITS (not headlined: see above)

# %%
try:
    by_flow = flow(programme, out_of_area, spells(data, footprint, providers, where="out_of_area"),
                   seasonality=design.seasonality)
except ValueError as reason:
    by_flow = None
    display(Markdown(f"The out-of-area flow is not estimated: {reason}."))
    run.record("out_of_area_flow_not_estimable", str(reason), kind="estimate",
               definition="Why the out-of-area flow could not be estimated on this extract")
if by_flow is not None:
    run.record_table("out_of_area_flow", by_flow.summary.reset_index(), keep=["estimate", "lower", "upper"],
                     caption="Out-of-area bed days by flow (placements x lengths of stay; 95% CI). Not headlined: "
                             "repatriation shortens stays already under way, which the flow cannot see")
    run.record("out_of_area_flow_relative_effect", by_flow.effect_.at["point", "relative"], kind="percent_change",
               unit="proportion", ci=tuple(by_flow.effect_.loc["point", ["relative_lower", "relative_upper"]]),
               sentence=by_flow.effect_summary("out-of-area CYP bed days"),
               definition="Out-of-area placements ITS x lengths of stay before and after; parametric bootstrap")
    run.show(by_flow.summary, caption="Out-of-area bed days by flow (placements x lengths of stay; 95% CI)")
    display(run.paragraph(paragraphs.estimate, "out_of_area_flow_relative_effect"))

# %%
if result is not None:
    ax = programme.counterfactual_chart(result, ylabel="bed days per month",
                                        title=f"Out-of-area CYP bed days (counterfactual to {headline.at})")
    run.record_figure("out_of_area_counterfactual", ax.figure, key=True,
                      caption="Out-of-area CYP bed days per month with the modelled counterfactual (95% CI)")
    plt.show()
