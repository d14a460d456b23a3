# %% [markdown]
# # DBT cohort: 12 months before and after
#
# A mirror-image comparison: the same young people, counted in the 12 months before and the 12 months
# after their first dialectical behaviour therapy session (SNOMED CT 405780009). People without 12
# months of follow-up by the period's end are excluded (see the attrition). For each outcome:
# totals, the rate ratio after/before with an exact (conditional binomial) 95% CI and P value, the
# Wilcoxon signed-rank test on per-person differences, an exact McNemar test on whether each person
# had any event, and a bootstrap CI of the relative reduction (people resampled).
#
# Regression to the mean: people start DBT after a bad year, so the year before is not a typical
# year. The 12 months before those 12 months (the "pre-pre" window) are in the table and the figure;
# the after window is tested against the pre-pre window too, and the table says how much of the fall
# the pre-pre window already shows. Only people whose pre-pre window lies inside the extract count in
# those columns.

# %% tags=["parameters"]
# 05_dbt_mirror_image: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("05_dbt_mirror_image", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from outcomes.figures import plots
from outcomes.cohort import dbt_cohort
from outcomes.mirror import MirrorImage
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
cohort = dbt_cohort().build(data)
people = cohort.table.to_pandas()
attrition = run.record_table("attrition_dbt", cohort.attrition,
                             counts=["people_in", "rows_in", "people_excluded", "rows_excluded", "people_remaining",
                                     "rows_remaining"], caption="Attrition of the DBT cohort")
run.show(attrition, caption="Attrition of the DBT cohort (counts rounded to 5, 1-7 suppressed)")
display(run.paragraph(paragraphs.cohort, "attrition_dbt"))

# %%
outcomes_of_interest = {"suicide_attempts": "Suicide attempts", "ae_attendances": "A&E attendances",
                        "bed_days": "Occupied bed days"}
rows = []
complete = people[people["pre_pre_complete"]]  # pre-pre window inside the extract
for name, label in outcomes_of_interest.items():
    mirror = MirrorImage(seed=20171001).fit(people, person="Person_ID", before=f"{name}_before", after=f"{name}_after")
    summary = mirror.to_dict()
    run.record(f"dbt_{name}", summary, kind="estimate", label=label,
               definition="12 months before vs after the first DBT session; exact conditional-binomial rate ratio")
    earlier = MirrorImage(seed=20171001).fit(complete, person="Person_ID", before=f"{name}_before", after=f"{name}_after",
                                             pre_pre=f"{name}_pre_pre")
    regression = earlier.to_dict()
    run.record(f"dbt_{name}_pre_pre", regression, kind="estimate", label=f"{label}: against the pre-pre year",
               sentence=earlier.regression_sentence(label if label[:2].isupper() else label.lower()),
               definition="People whose pre-pre window (the 12 months before the 12 months before) lies in the extract: "
                          "after vs pre-pre (exact rate ratio) and the share of the fall the pre-pre year already shows")
    rate_ratio, reduction = summary["rate_ratio"], summary["relative_reduction"]
    against = regression["regression_to_the_mean"]
    rows.append({
        "outcome": label, "people_n": summary["people_n"], "pre_pre_people_n": regression["people_n"],
        "pre_pre_n": regression["pre_pre_n"], "before_n": summary["before_n"], "after_n": summary["after_n"],
        "after_vs_pre_pre": against["after_vs_pre_pre"]["estimate"],
        "after_vs_pre_pre_lower": against["after_vs_pre_pre"]["lower"],
        "after_vs_pre_pre_upper": against["after_vs_pre_pre"]["upper"],
        "share_of_fall_in_pre_pre": against["share_of_fall"], "share_lower": against["share_of_fall_lower"],
        "share_upper": against["share_of_fall_upper"],
        "rate_ratio": rate_ratio["estimate"], "rate_ratio_lower": rate_ratio["lower"], "rate_ratio_upper": rate_ratio["upper"],
        "p_value": rate_ratio["p_value"], "relative_reduction": reduction["estimate"],
        "bootstrap_lower": reduction["lower"], "bootstrap_upper": reduction["upper"],
        "wilcoxon_p": summary["wilcoxon"]["p_value"], "mcnemar_p": summary["mcnemar"]["p_value"],
    })
table = run.record_table("dbt_mirror_image", pd.DataFrame(rows).set_index("outcome"),
                         caption="DBT cohort, 12 months before vs after, and the pre-pre year (counts rounded to 5, "
                                 "1-7 redacted)")
run.show(table, caption="DBT cohort, 12 months before vs after the first session, and the pre-pre year "
                        "(counts rounded to 5, 1-7 suppressed)",
         titles={"people_n": "People (n)", "pre_pre_people_n": "People with a pre-pre year (n)",
                 "pre_pre_n": "Events in the pre-pre year (n)", "before_n": "Events in the 12 months before (n)",
                 "after_n": "Events in the 12 months after (n)", "after_vs_pre_pre": "After vs pre-pre (rate ratio)",
                 "share_of_fall_in_pre_pre": "Share of the fall the pre-pre year shows",
                 "rate_ratio": "After vs before (rate ratio)", "relative_reduction": "Relative reduction",
                 "bootstrap": "Relative reduction, bootstrap", "share": "Share of the fall,"})
display(run.paragraph(paragraphs.mirror_image, "dbt_mirror_image"))
display(run.paragraph(paragraphs.estimates, *(f"dbt_{name}_pre_pre" for name in outcomes_of_interest)))

# %%
bars = table.reset_index()
for column in ("pre_pre_n", "before_n", "after_n"):
    bars[column] = pd.to_numeric(bars[column], errors="coerce")
whole = bool(people["pre_pre_complete"].all())  # the pre-pre bars count the same people only when everyone has one
axes = plots.before_after_panels(bars, category="outcome", before="before_n", after="after_n",
                                 earlier="pre_pre_n" if whole else None,
                                 labels=(("the 12 months before those (pre-pre)",) if whole else ())
                                 + ("12 months before DBT", "12 months after"),
                                 title="DBT cohort: events before and after", ylabel="count (rounded to 5)")
run.record_figure("dbt_before_after", axes[0].figure, key=True,
                  caption="DBT cohort events, 12 months before vs after the first session, and the 12 months before "
                          "those where every person has them (each outcome on its own scale)")
plt.show()
