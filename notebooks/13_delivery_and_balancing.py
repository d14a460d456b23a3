# %% [markdown]
# # The programme as delivered, and what it must not worsen
#
# The other notebooks measure what the programme was meant to prevent. This one asks two further
# questions. Was each part of the programme delivered? Did the gains cost something elsewhere?
#
# * **Delivery.** For each component named in the collaborative's accounts, the activity that
#   shows it working, in the 12 months before it started and the 12 months from its start. The
#   components and their starts are in `outcomes/published/programme_components.yaml`.
# * **Balancing measures.** Emergency readmissions, restrictive interventions, detentions under
#   the Mental Health Act, under-18s on adult wards and CYP far from home. Each is compared in the
#   12 months before go-live and the 12 months after the transition. The change has a 95% CI and
#   a grade in words.
# * **The new adolescent PICU** in its first two years: how full it was, how many of the
#   footprint's PICU admissions it took, and what happened to out-of-area PICU bed days.
# * **Care nearer home:** the distance from home (MHS22a-like) set against the out-of-area share.
# * **Outcomes of CYP with complex needs:** paired outcome scores showing reliable improvement.
#
# Ratios come with 95% intervals: exact (Clopper-Pearson) on the two totals, widened by the
# quasi-Poisson dispersion of the months (`outcomes.programme.delivery`). Counts are disclosure
# controlled before anything is shown.

# %% tags=["parameters"]
# 13_delivery_and_balancing: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("13_delivery_and_balancing", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Markdown, display

from outcomes.figures import plots
from outcomes.programme import delivery
from outcomes.reference import read_truth
from outcomes.report import paragraphs

plots.use_house_style()
data, measures, programme = run.extract, run.measures, run.programme  # the extract is cut to period_end
windows = programme.windows()  # baseline: 12 months before go-live; post: 12 months after the transition
needed = ({c["measure"] for c in delivery.components(programme.go_live)} | {b["measure"] for b in delivery.balancing()}
          | {"reliable_improvement", "paired_outcomes", "median_distance_from_home", "ward_stays_50km_from_home",
             "resident_bed_days_by_area", "restrictive_interventions", "cyp_on_adult_wards", "crisis_line_calls"})
frames = {name: measures[name].to_pandas(data) for name in sorted(needed)}

# %% [markdown]
# ## Was each component delivered?
#
# Each component's activity in the 12 months before its start and the 12 months from it. A
# component with no activity before it started shows no ratio.

# %%
activity = delivery.activity_table(measures, frames, programme.go_live)
shown = run.record_table("component_activity", activity, counts=["before_n", "after_n"],
                         derived={"before": ["before_n"], "after": ["after_n"],
                                  "ratio": ["before_n", "after_n"], "ratio_lower": ["before_n", "after_n"],
                                  "ratio_upper": ["before_n", "after_n"]},
                         caption="Each component's activity, 12 months before and 12 months from its start "
                                 "(ratio after/before with its 95% CI; counts rounded to 5, 1-7 redacted)")
run.show(shown, caption="Each component's activity, 12 months before and 12 months from its start (counts rounded to 5, "
                        "1-7 suppressed)",
         columns=["component", "start", "activity", "unit", "before", "after", "ratio", "ratio_lower", "ratio_upper", "note"],
         titles={"ratio": "After / before"})
display(run.paragraph(paragraphs.ratios, "component_activity", label="component",
                      what="activity from its start against the 12 months before,"))

# %%
axes = plots.before_after_panels(shown, category="short", before="before", after="after", width=2.1,
                                 labels=("12 months before its start", "12 months from its start"),
                                 title="Each component's activity before and after it started", ylabel="activity (own units)")
run.record_figure("component_activity_figure", axes[0].figure,
                  caption="Each component's activity before and after its start, each on its own scale (units in the table)")
plt.show()

# %% [markdown]
# ## What it must not worsen
#
# The claim each balancing measure is graded against is that it did not rise. The words are those of
# the evidence grading (`outcomes.programme.evidence`): **confirmed** (the CI excludes no change, in
# the claimed direction), **consistent, not confirmed** (the estimate is lower but the CI includes
# no change), **not confirmed, estimate the other way** (higher, but the CI includes no change) or
# **contradicted** (it rose). The front page of the report shows this table beside the headline.

# %%
display(HTML('<span id="balancing"></span>'))
balancing = delivery.balancing_table(measures, frames, windows)
table = run.record_table(delivery.BALANCING_TABLE, balancing, counts=["baseline_n", "post_n"],
                         derived={"baseline": ["baseline_n"], "post": ["post_n"], "ratio": ["baseline_n", "post_n"],
                                  "ratio_lower": ["baseline_n", "post_n"], "ratio_upper": ["baseline_n", "post_n"]},
                         keep=["measure", "name", "unit", "grade", "evidence", "worsened"],
                         caption="Balancing measures, 12 months before go-live vs 12 months after the transition: "
                                 "ratio with its 95% CI and the grade against 'no rise'")
run.show(table, caption="Balancing measures, 12 months before go-live vs 12 months after the transition (95% CI; "
                        "graded against 'no rise')",
         columns=["measure", "unit", "baseline", "post", "ratio", "ratio_lower", "ratio_upper", "grade"],
         titles={"ratio": "Post / baseline"})
display(run.paragraph(paragraphs.balancing, delivery.BALANCING_TABLE))

# %% [markdown]
# ## The new adolescent PICU: its first two years
#
# Occupancy of its commissioned beds (occupied / available bed days), the share of the footprint's
# CYP PICU admissions placed in it, and the footprint's out-of-area PICU bed days in its first two
# years against the two years before it opened.

# %%
picu = next(c for c in delivery.components(programme.go_live) if c["measure"] == "occupancy_picu")
first_years = delivery.picu_first_years(data, picu["start"], years=2, footprint=footprint, providers=providers)
placed = delivery.proportion_change(0, 1, first_years["placed_n"], first_years["admissions_n"])
rows = pd.DataFrame([
    {"what": "Occupancy of its commissioned beds", "of_n": first_years["occupied_bed_days"],
     "out_of_n": first_years["available_bed_days"], "percent": 100 * first_years["occupancy"]},
    {"what": "Footprint CYP PICU admissions placed in it", "of_n": first_years["placed_n"],
     "out_of_n": first_years["admissions_n"], "percent": 100 * placed["after"], "lower": 100 * placed["after_ci"][0],
     "upper": 100 * placed["after_ci"][1]},
    {"what": "Footprint CYP out-of-area PICU bed days, two years before it opened", "of_n": first_years["ooa_bed_days_before"]},
    {"what": "Footprint CYP out-of-area PICU bed days, its first two years", "of_n": first_years["ooa_bed_days_after"]},
]).set_index("what")
first_two = run.record_table("picu_first_two_years", rows, counts=["of_n", "out_of_n"],
                 derived={"percent": ["of_n", "out_of_n"], "lower": ["of_n", "out_of_n"], "upper": ["of_n", "out_of_n"]},
                 caption=f"The new PICU ({', '.join(first_years['wards'])}) from {picu['start']:%B %Y}: its first two years "
                         "(bed days and admissions rounded to 5, 1-7 redacted; percentages from the exact counts, the "
                         "share with its Wilson 95% CI)")
run.show(first_two, caption=f"The new PICU from {picu['start']:%B %Y}: its first two years (counts rounded to 5, 1-7 "
                            "suppressed; the share with its Wilson 95% CI)",
         titles={"of_n": "Of (n)", "out_of_n": "Out of (n)", "percent": "Percent"})
display(run.paragraph(paragraphs.proportions, "picu_first_two_years", label="what"))

# %% [markdown]
# ## Care nearer home: distance from home against out of area
#
# NHS England's monthly statistics count CYP in hospital 50 km or more from home (MHS22a beside
# MHS21a). The report's out-of-area measure proxies "care nearer home" by the provider. By financial
# year: the median distance of footprint CYP in hospital at each month end, the share 50 km or
# more away, and the share of their bed days out of area.

# %%
first_month = min(frames["median_distance_from_home"]["month"])
last_month = max(frames["median_distance_from_home"]["month"])
by_year = delivery.distance_by_year(measures, frames, data, first_month, last_month)
nearer = run.record_table("distance_by_year", by_year,
                 counts=["stay_months_n", "far_n", "open_n", "in_area_bed_days", "out_of_area_bed_days"],
                 derived={"median_km": ["stay_months_n"], "share_50km_pct": ["far_n", "open_n"],
                          "out_of_area_share_pct": ["in_area_bed_days", "out_of_area_bed_days"]},
                 caption="By financial year: median distance from home (km), share of CYP in hospital 50 km or more from "
                         "home and share of bed days out of area (counts rounded to 5, 1-7 redacted)")
run.show(nearer, caption="By financial year: median distance from home, CYP in hospital 50 km or more from home and "
                         "bed days out of area (counts rounded to 5, 1-7 suppressed)",
         titles={"far_n": "50 km or more from home (n)", "open_n": "In hospital at month ends (n)",
                 "share_50km_pct": "50 km or more from home (%)", "out_of_area_share_pct": "Bed days out of area (%)"})
display(run.paragraph(paragraphs.first_and_last, "distance_by_year", label="year",
                      columns={"median_km": "the median distance from home of footprint CYP in hospital {} km",
                               "share_50km_pct": "the share 50 km or more from home {}%",
                               "out_of_area_share_pct": "the share of their bed days out of area {}%"}))

# %%
ax = plots.lines_by_period(nearer, "year", {"share_50km_pct": "CYP in hospital 50 km or more from home",
                                            "out_of_area_share_pct": "bed days out of area"},
                           title="Care nearer home: distance against provider", ylabel="% (financial year)")
run.record_figure("distance_and_out_of_area", ax.figure,
                  caption="Share of footprint CYP in hospital 50 km or more from home (MHS22a-like) and share of their bed days out of area, by financial year")
plt.show()

# %% [markdown]
# ## Outcomes of CYP with complex needs: paired scores
#
# NHS England's CYP outcomes metric: of CYP with paired scores (the first and last of a tool within a
# referral, at least 14 days apart), the share whose change reaches the tool's reliable change
# threshold in its better direction. The baseline and post windows are dated by the last score.

# %%
improved = frames["reliable_improvement"]
totals = {name: improved[(pd.to_datetime(improved["month"]).dt.date >= lo) & (pd.to_datetime(improved["month"]).dt.date < hi)]
          [["numerator", "denominator"]].sum() for name, (lo, hi) in windows.items()}
change = delivery.proportion_change(int(totals["baseline"]["numerator"]), int(totals["baseline"]["denominator"]),
                                    int(totals["post"]["numerator"]), int(totals["post"]["denominator"]))
paired = pd.DataFrame([
    {"window": "baseline", "improved_n": totals["baseline"]["numerator"], "paired_n": totals["baseline"]["denominator"],
     "share_pct": 100 * change["before"], "lower_pct": 100 * change["before_ci"][0], "upper_pct": 100 * change["before_ci"][1]},
    {"window": "post", "improved_n": totals["post"]["numerator"], "paired_n": totals["post"]["denominator"],
     "share_pct": 100 * change["after"], "lower_pct": 100 * change["after_ci"][0], "upper_pct": 100 * change["after_ci"][1]},
]).set_index("window")
paired = run.record_table("paired_outcomes", paired, counts=["improved_n", "paired_n"],
                          caption="CYP paired outcome scores showing reliable improvement (Wilson 95% CIs; counts rounded to 5, 1-7 redacted)")
run.record("reliable_improvement_change", change["difference"], kind="estimate", unit="proportion",
           ci=[change["lower"], change["upper"]], label="Paired outcomes reliably improved (post - baseline)",
           definition="Difference in the share of CYP paired outcome scores showing reliable improvement, post window minus "
                      "baseline (Newcombe hybrid score 95% CI)")
run.show(paired, caption="CYP paired outcome scores showing reliable improvement (Wilson 95% CIs; counts rounded to 5, "
                         "1-7 suppressed)", titles={"share_pct": "Reliably improved (%)"})
display(run.paragraph(paragraphs.estimate, "reliable_improvement_change"))

# %% [markdown]
# ### Against the planted truth (synthetic reference extract only)
#
# truth.json's `delivery` gives what the reference extract planted. Each estimate above should
# hold it within its 95% interval (about one in twenty would miss by chance). A realised count,
# such as the PICU's occupancy or the census of CYP far from home, should match it exactly.

# %%
truth = read_truth(run.params.extract)
if truth is None or "delivery" not in truth:
    display(Markdown("No planted truth beside the extract: a real extract has none to compare with."))
else:
    checks = delivery.planted_checks(data, measures, frames, truth, windows, first_years)
    safe = run.record_table("delivery_planted_truth", checks.set_index("item"), counts=["events_n"],
                            derived={"estimate": ["events_n"], "lower": ["events_n"], "upper": ["events_n"]},
                            keep=["planted", "within", "how"],
                            caption="Planted truth beside the estimates (synthetic reference extract; an estimate resting "
                                    "on 1-7 events is withheld)")
    run.show(safe, caption="Planted truth beside the estimates (synthetic reference extract; an estimate resting on 1-7 "
                           "events is withheld)")
    display(Markdown(f"{int(checks['within'].sum())} of {len(checks)} planted values recovered within their interval."))
