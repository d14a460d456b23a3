# %% [markdown]
# # Published figures, reproduced
#
# Each figure the collaborative published, beside the value this toolkit reproduces from the
# extract, the definition used, and whether the reproduction lies within the stated tolerance
# (see `published/camhs_tier4_collaborative.yaml` for the figures, their source and why each
# tolerance is what it is). Reproduced counts pass disclosure control (1-7 redacted, others
# rounded to 5); the comparison with the published figure is made on the exact values.

# %% tags=["parameters"]
# 06_published_figures: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("06_published_figures", globals())  # every None above becomes the runner's default

# %%
import pandas as pd

from outcomes.cohort import dbt_cohort, picu_episodes
from outcomes.programme.published_figures import published_figures, reproduce_published

data = run.extract  # opened once, cut to period_end: nothing after the period is seen
published = published_figures()
print(published.attrs["source"])
comparison = reproduce_published(data, published, programme=run.programme, measures=run.measures,
                                 footprint=footprint, providers=providers)

# %%
# a figure these data cannot reproduce (a small collaborative, no comparison area) says why
for name, row in comparison.iterrows():
    if row["not_estimable"]:
        run.not_estimable(f"reproduced_{name}", row["label"], row["not_estimable"])
    else:
        run.record(f"reproduced_{name}", row["within_tolerance"], kind="estimate", label=row["label"],
                   definition=row["definition"])
table = run.record_table("published_vs_reproduced", comparison.reset_index(),
                         keep=["name", "label", "published", "reproduced", "difference", "tolerance", "within_tolerance",
                               "definition", "not_estimable"],
                         caption="Published figures beside the reproduced values")
table
