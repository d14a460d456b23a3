# %% [markdown]
# # The 2020 crisis-line extension
#
# During COVID-19 the collaborative opened its out-of-hours crisis line, until then for known
# service users, to every child and family in the footprint; its published account credits this
# with helping to reduce A&E attendances. Mental-health and self-harm A&E attendances (ECDS) of
# every child and young person resident in the footprint, known to services or not, are compared
# with those of children and young people living elsewhere who use the same emergency departments:
# they share COVID-19 but not the extension. A controlled interrupted time series (quasi-Poisson
# counts, seasonal harmonics, AR(1) errors, COVID-19 as context shared by both series) estimates
# the change at the extension in the footprint beyond the change in the comparison series.

# %% tags=["parameters"]
# 08_crisis_line_extension: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None
crisis_line_extension = "2020-09-01"

# %%
from outcomes import notebook

run = notebook.start("08_crisis_line_extension", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.disclosure import plottable_counts
from outcomes.its import period_words
from outcomes.programme.evidence import grade_direction
from outcomes.programme.published_figures import published_value
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
by_area = run.measures["cyp_mental_health_ae_by_area"].to_pandas(data)
# an extract reaching back before ECDS reads HES A&E first: both arms change source in the same month,
# so the controlled design runs across it (a single series would not; notebook 04)
source_changes = run.source_changes("cyp_mental_health_ae_by_area")

# %% [markdown]
# ## Controlled interrupted time series: footprint against the rest

# %%
programme = run.programme
result = run.estimate("crisis_line_extension_level_change",
                      "Crisis-line extension: MH/self-harm A&E attendances of CYP residents against CYP living elsewhere",
                      programme.later_component_its, by_area, crisis_line_extension, name="crisis_line_extension",
                      headline=True)

# %%
if result is not None:
    display(Markdown(f"Window: {result.window_note}."))
    at, horizon = programme.headline_month(result)
    effects = result.component_effects(at=at)
    extension = effects.loc["crisis_line_extension"]
    what = "mental-health and self-harm A&E attendances of CYP living in the footprint"
    level_words = (f"From {period_words(extension['start'])}, {what} changed by a rate ratio of {extension['level_change']:.2f} "
                   f"(95% CI {extension['level_change_lower']:.2f} to {extension['level_change_upper']:.2f}) beyond the "
                   "change in CYP living elsewhere who use the same emergency departments.")
    run.record("crisis_line_extension_level_change", extension["level_change"], kind="ratio", unit="rate ratio",
               ci=(extension["level_change_lower"], extension["level_change_upper"]), headline=True,
               label="Crisis-line extension: MH/self-harm A&E attendances of CYP residents, level change (rate ratio)",
               definition=f"Controlled ITS, footprint vs CYP living elsewhere at the same EDs, from {extension['start']}; "
                          f"{result.window_note}; quasi-Poisson, AR(1) errors, COVID-19 shared context",
               published=published_value("crisis_line_extension_ae_change"), sentence=level_words,
               evidence=grade_direction(published_value("crisis_line_extension_ae_change")["value"], extension["level_change"],
                                        extension["level_change_lower"], extension["level_change_upper"]).text)
    run.record("crisis_line_extension_relative_effect", extension["relative"], kind="percent_change", unit="proportion",
               ci=(extension["relative_lower"], extension["relative_upper"]),
               sentence=result.effect_summary(what, at=at, remove="crisis_line_extension"),
               definition=f"Fitted / counterfactual - 1 in {horizon} (counterfactual: without the extension)")
    run.record_table("its_crisis_line_extension", result.summary.round(4), keep=list(result.summary.columns),
                     caption="Controlled ITS of the crisis-line extension: rate ratios with 95% CI (level and slope changes "
                             "are footprint minus comparison)")
    run.show(result.summary, caption="Controlled ITS of the crisis-line extension: rate ratios with 95% CI (level and "
                                     "slope changes are footprint minus comparison)")
    display(run.paragraph(paragraphs.estimates, "crisis_line_extension_level_change", "crisis_line_extension_relative_effect"))

# %%
fig, ax = plt.subplots(figsize=(9, 4))
series = by_area.assign(numerator=plottable_counts(by_area["numerator"]))
series = series.pivot(index="month", columns="area", values="numerator")
series.plot(ax=ax, color={"footprint": "C0", "rest": "grey"})
ax.axvline(crisis_line_extension, color="C3", lw=1.2, label="crisis line extended")
ax.axvline("2020-03-01", color="grey", lw=1, ls=":", label="COVID-19")
ax.set_ylabel("attendances per month")
ax.set_title("MH/self-harm A&E attendances of CYP: footprint residents and CYP living elsewhere")
plots.legend_outside(ax, fontsize=8)
run.record_figure("crisis_line_extension_series", fig, key=True,
                  caption="Mental-health and self-harm A&E attendances of CYP per month by residence (disclosure-controlled)")
plt.show()
