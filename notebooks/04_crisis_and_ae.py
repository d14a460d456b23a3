# %% [markdown]
# # Crisis escalations and A&E attendances of known service users
#
# Known service users are children and young people with an open CYPMHS referral on the day.
# Crisis escalations are the outcomes the programme aims to reduce: a crisis that reached hospital,
# as an A&E attendance with a mental-health or self-harm presentation or an emergency admission.
# A&E attendances are their mental-health and self-harm attendances (attendances for other reasons
# are not crises). Contacts with crisis teams, the single point of access and the crisis line are
# kept apart as crisis activity: the services the programme added, expected to rise, shown as a
# process measure and never counted as escalations. The outcomes are per month per 100,000 CYP
# residents, each with an interrupted time series
# (segmented quasi-Poisson, population offset, seasonal harmonics, AR(1) errors, transition window
# left out, COVID-19 as its own interruption). Where the A&E source changes at the go-live (HES A&E,
# then ECDS) the single series is refused, and a controlled ITS of every resident's mental-health and
# self-harm A&E attendances against CYP living elsewhere, who change source in the same month, carries
# the A&E headline instead. The last section takes the programme in components:
# the enhanced crisis teams (April 2016) and the go-live, each with its own date, on the mental-health
# and self-harm A&E attendances of every CYP living in the footprint.

# %% tags=["parameters"]
# 04_crisis_and_ae: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("04_crisis_and_ae", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.programme import change_sentence, relative_change
from outcomes.programme.evidence import grade_direction
from outcomes.programme.design import check_design
from outcomes.programme.published_figures import published_value
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
programme = run.programme
windows = programme.windows()
series = {name: measures[name].to_pandas(data) for name in ("crisis_escalations", "ae_attendances")}
labels = {"crisis_escalations": "Crisis escalations of known service users",
          "ae_attendances": "A&E attendances of known service users"}
in_words = {"crisis_escalations": "crisis escalations of known service users",
            "ae_attendances": "A&E attendances of known service users"}

# %% [markdown]
# Before a single-series number is headlined the design is checked (go-live after COVID-19, a pre-period
# under 24 months, a change of data source at the go-live); each published "fewer" is graded on the
# level change's 95% CI: confirmed only when the interval excludes no change.

# %%
results, refused = {}, {}
changes = run.source_changes(*series)  # HES A&E, then ECDS: said in the report when the series spans both
run.population_note(*series)  # months after the last published population estimate: said, not invented
for name, monthly in series.items():
    design = check_design(programme, monthly["month"].min(), what=in_words[name], source_changes=changes)
    display(Markdown(design.sentence + (f" {design.warning}" if design.warning else "")))
    design.record(run.record, name, labels[name])
    refused[name] = design.refusal
    change = relative_change(monthly, windows)
    run.record(f"{name}_change", change["change"], kind="percent_change", unit="proportion",
               definition="Post year against baseline year, simple totals",
               sentence=change_sentence(labels[name], change, windows),
               counts={"baseline_n": change["baseline"], "post_n": change["post"]})
    result = run.estimate(f"its_{name}", f"{labels[name]}: interrupted time series", design.guard(programme.its), monthly,
                          seasonality=design.seasonality, headline=design.trusted)
    if result is None:  # too few events for this collaborative: said in the report, the rest goes on
        continue
    headline = programme.headline(result, what=in_words[name])
    results[name] = result
    published = published_value(f"{name}_change")
    evidence = grade_direction(published["value"], headline.level_change, headline.level_change_lower,
                               headline.level_change_upper)
    headline.record(name, lead="level" if design.trusted else None,
                    label=f"{labels[name]} per month: level change at go-live (rate ratio)",
                    level_definition="Segmented quasi-Poisson ITS with CYP population offset, AR(1) errors; baseline "
                                     "and latest are monthly means of the baseline and post years",
                    baseline=change["baseline"] / 12, latest=change["post"] / 12,
                    published=published, evidence=evidence.text,
                    counts={"baseline_n": change["baseline"], "post_n": change["post"]})
    run.record_table(f"its_{name}", result.summary.round(4), keep=list(result.summary.columns),
                     caption=f"{labels[name]}: rate ratios with 95% CI")
    run.show(result.summary, caption=f"{labels[name]}: rate ratios with 95% CI")
    display(run.paragraph(paragraphs.estimates, f"{name}_level_change", f"{name}_relative_effect"))

# %%
fig, axes = plt.subplots(max(len(results), 1), 1, figsize=(9, 3.5 * max(len(results), 1)), sharex=True, squeeze=False)
axes = axes[:, 0]
for ax, (name, result) in zip(axes, results.items()):
    programme.counterfactual_chart(result, ylabel="per month", title=labels[name], ax=ax)
run.record_figure("crisis_and_ae_counterfactual", fig, key=True,
                  caption="Crisis escalations and A&E attendances of known service users, with counterfactuals (95% CI)")
plt.show()

# %% [markdown]
# ## A&E across the change of source: footprint against CYP living elsewhere
#
# A controlled interrupted time series at the go-live: the mental-health and self-harm A&E attendances
# of every CYP living in the footprint (known to services or not) against those of CYP living
# elsewhere who use the same emergency departments, over the extract's months before COVID-19, with the
# enhanced crisis teams (April 2016, footprint only) as a further component when the series starts
# before them. Where the extract reads HES A&E before ECDS, both arms change source in the same month,
# so the coarser coding lowers both alike and cancels from the difference between them; a single series
# cannot tell that step from the programme's, so it is refused above, and this design carries the A&E
# headline instead. What it does not protect against: HES A&E recognising a different share of
# mental-health attendances in the footprint than elsewhere (different departments, different coding
# habits), which would leave a step of its own in the difference. The effect is on every resident, so
# an effect on known service users alone is diluted in it.

# %%
from outcomes.programme.design import controlled_across_sources

by_area = measures["cyp_mental_health_ae_by_area"].to_pandas(data)
ae_label = "MH/self-harm A&E attendances of CYP footprint residents against CYP living elsewhere"
ae_headline = refused["ae_attendances"] is not None  # the single series is refused: this design carries the headline
controlled = run.estimate("ae_controlled_level_change", f"{ae_label}: controlled ITS", controlled_across_sources,
                          programme, by_area, what="MH/self-harm A&E attendances of CYP footprint residents",
                          headline=ae_headline)
if controlled is not None:
    if controlled.seasonality_warning:
        display(Markdown(controlled.seasonality_warning))
    at, horizon = programme.headline_month(controlled)
    effect = controlled.component_effects(at=at).loc["programme"]
    published = published_value("ae_attendances_change")
    evidence = grade_direction(published["value"], effect["level_change"], effect["level_change_lower"],
                               effect["level_change_upper"])
    run.record("ae_controlled_level_change", effect["level_change"], kind="ratio", unit="rate ratio",
               ci=(effect["level_change_lower"], effect["level_change_upper"]), headline=ae_headline,
               label=f"{ae_label}: level change at go-live (rate ratio), controlled ITS",
               sentence=(f"From {programme.go_live:%B %Y}, mental-health and self-harm A&E attendances of CYP living in "
                         f"the footprint changed by a rate ratio of {effect['level_change']:.2f} (95% CI "
                         f"{effect['level_change_lower']:.2f} to {effect['level_change_upper']:.2f}) beyond the change "
                         "in CYP living elsewhere who use the same emergency departments (controlled ITS)."),
               definition=(f"Controlled ITS at go-live, footprint vs CYP living elsewhere at the same EDs; "
                           f"{controlled.window_note}; {programme.transition_months}-month transition excluded; "
                           "quasi-Poisson, AR(1) errors; runs across a change of A&E source (both arms switch together)"),
               published=published, evidence=evidence.text)
    run.record("ae_controlled_relative_effect", effect["relative"], kind="percent_change", unit="proportion",
               ci=(effect["relative_lower"], effect["relative_upper"]),
               sentence=controlled.effect_summary("mental-health and self-harm A&E attendances of CYP living in the "
                                                  "footprint", at=at, remove="programme"),
               definition=f"Fitted / counterfactual - 1 in {horizon}, footprint, against the comparison's change")
    run.record_table("its_ae_controlled", controlled.summary.round(4), keep=list(controlled.summary.columns),
                     caption=f"Controlled ITS of {ae_label}: rate ratios with 95% CI (level and slope changes are "
                             "footprint minus comparison)")
    run.show(controlled.summary, caption=f"Controlled ITS ({controlled.window_note}): rate ratios with 95% CI")
    display(run.paragraph(paragraphs.estimates, "ae_controlled_level_change", "ae_controlled_relative_effect"))

# %% [markdown]
# ## Crisis activity: a process measure
# Attended contacts of known service users with crisis teams, the single point of access and the
# 24/7 crisis line. The programme added these services, so contacts are expected to rise; the change
# is shown, not graded against a claim.

# %%
activity = measures["crisis_activity"].to_pandas(data)
activity_change = relative_change(activity, windows)
run.record("crisis_activity_change", activity_change["change"], kind="percent_change", unit="proportion",
           definition="Crisis-service contacts of known service users, post year against baseline year (simple totals): "
                      "a process measure, expected to rise",
           sentence=change_sentence("Crisis-service contacts of known service users", activity_change, windows),
           counts={"baseline_n": activity_change["baseline"], "post_n": activity_change["post"]})
run.said("crisis_activity_change")

# %% [markdown]
# ## The 2017 programme in components: enhanced crisis teams before the go-live
#
# The programme came in pieces. From April 2016 (illustrative: the first month of 2016/17, when
# transformation money paid for crisis teams to take same-day referrals of any young person in
# crisis, 18 months before the go-live) the enhanced crisis teams saw children and young people not
# yet known to services at home or school instead of in A&E; the go-live then brought the crisis
# line and intensive support for known service users. Both move the mental-health and self-harm A&E
# attendances of every CYP living in the footprint, each at its own date. A two-component ITS of
# that series (quasi-Poisson counts, seasonal harmonics, AR(1) errors) gives each its own level
# change: the crisis teams a step with the trend running on through it (a level-only component:
# 18 months are too few to estimate a trend of their own), the go-live a level and slope change
# after its transition window. The series stops before COVID-19, so neither COVID-19 nor the 2020
# extension (notebook 08) is in the comparison.

# %%
from outcomes.its import Component, ITSInputError
from outcomes.programme import against_planted
from outcomes.programme.core import ENHANCED_CRISIS_TEAMS
from outcomes.reference import read_truth

enhanced_crisis_teams = f"{ENHANCED_CRISIS_TEAMS.start}-01"  # the component's start (as planted in the reference extract)
footprint_ae = by_area[by_area["area"] == "footprint"].drop(columns="area")
teams = ENHANCED_CRISIS_TEAMS  # a level change only
single = check_design(programme, footprint_ae["month"].min(), what="MH/self-harm A&E attendances of CYP footprint residents",
                      source_changes=run.source_changes("cyp_mental_health_ae_by_area"))
try:
    parts = programme.components_its(footprint_ae, [teams]) if single.refusal is None else None
    reason = f"not evaluated: {single.refusal}"
except ITSInputError as error:  # a go-live on the crisis teams' month, after COVID-19, or too near either
    parts = None
    reason = f"not evaluated with go-live {programme.go_live}: {error}"
if parts is None:
    run.record("two_component_its", reason, kind="estimate",
               definition="Two-component ITS of MH/self-harm A&E attendances of CYP footprint residents before COVID-19")
    display(Markdown(reason))
if parts is not None:
    effects = parts.component_effects()
    what = "mental-health and self-harm A&E attendances of CYP living in the footprint"
    for name, label in (("enhanced_crisis_teams", "Enhanced crisis teams"), ("programme", "Main go-live")):
        e = effects.loc[name]
        words = (f"{label} (from {e['start']}): {what} changed by a rate ratio of {e['level_change']:.2f} "
                 f"(95% CI {e['level_change_lower']:.2f} to {e['level_change_upper']:.2f}), the other component held apart.")
        run.record(f"two_component_{name}_level_change", e["level_change"], kind="ratio", unit="rate ratio",
                   ci=(e["level_change_lower"], e["level_change_upper"]), sentence=words,
                   label=f"{label}: MH/self-harm A&E attendances of CYP footprint residents, level change (rate ratio)",
                   definition=f"Two-component ITS (enhanced crisis teams {enhanced_crisis_teams[:7]}, level only; go-live "
                              f"{programme.go_live}, {programme.transition_months}-month transition excluded); "
                              f"{parts.window_note}; quasi-Poisson, AR(1)")
    run.record_table("its_programme_components", parts.summary.round(4), keep=list(parts.summary.columns),
                     caption="Two-component ITS of MH/self-harm A&E attendances of CYP footprint residents: rate ratios with 95% CI")
    run.show(parts.summary, caption=f"Two components ({parts.window_note}): rate ratios with 95% CI")
    display(run.paragraph(paragraphs.estimates, "two_component_enhanced_crisis_teams_level_change",
                          "two_component_programme_level_change"))

# %% [markdown]
# ### Against the planted truth (synthetic reference extract only)
#
# truth.json gives each component's rate ratio on this series: the crisis teams' planted 0.70
# reaches only CYP not known to services, the go-live's 0.75 only known service users (and
# admissions), so on the whole series each is diluted; the ITS estimates the diluted ratios.

# %%
truth = read_truth(run.params.extract)
planted_go_live = None if truth is None else truth["programme"]["go_live"]
if truth is None or "enhanced_crisis_teams" not in truth:
    display(Markdown("No planted components beside the extract: a real extract has no truth to compare with."))
elif parts is None or planted_go_live[:7] != str(programme.go_live)[:7]:
    display(Markdown(f"The extract plants the go-live in {planted_go_live[:7]}; this run's go-live is "
                     f"{programme.go_live}: nothing to compare."))
else:
    planted = {"enhanced_crisis_teams": truth["enhanced_crisis_teams"]["series_rate_ratio"],
               "programme": truth["enhanced_crisis_teams"]["main_go_live_on_the_series"]["series_rate_ratio"]}
    recovered = against_planted(effects, planted).round(3)
    run.record_table("programme_components_truth", recovered.reset_index(), keep=list(recovered.reset_index().columns),
                     caption="Each component's level change beside its planted rate ratio on the series (truth.json)")
    run.record("programme_components_truth_recovered", bool(recovered["covered"].all()), kind="estimate",
               definition="Each component's planted rate ratio on the series inside its 95% CI")
    run.show(recovered, caption="Each component's level change beside its planted rate ratio (truth.json)")

# %% [markdown]
# The controlled A&E design beside the same truth: the go-live's planted rate ratio on the footprint
# series (known service users' 0.75 and admissions' 0.71, diluted in every resident's attendances)
# should lie inside its 95% CI; CYP living elsewhere are not exposed to the go-live (their admissions
# to network wards fall too, about one attendance in a hundred, too few to move the comparison).

# %%
if truth is not None and controlled is not None and "enhanced_crisis_teams" in truth \
        and planted_go_live[:7] == str(programme.go_live)[:7]:
    planted_ae = {"programme": truth["enhanced_crisis_teams"]["main_go_live_on_the_series"]["series_rate_ratio"]}
    recovered_ae = against_planted(controlled.component_effects(), planted_ae).round(3)
    run.record("ae_controlled_truth_covered", bool(recovered_ae["covered"].all()), kind="estimate",
               definition="The go-live's planted rate ratio on the footprint's MH/self-harm A&E series (truth.json) "
                          "inside the controlled ITS's 95% CI")
    run.show(recovered_ae.loc[:, ["planted", "estimate", "ci_lower", "ci_upper", "covered"]],
             caption="Controlled A&E design: level change at go-live beside the planted rate ratio (truth.json)")
