# %% [markdown]
# # Published figures, reproduced
#
# Each figure the collaborative published, beside the value this toolkit reproduces from the
# extract, the definition used, and whether the reproduction lies within the stated tolerance
# (see `published/camhs_tier4_collaborative.yaml` for the figures, their source and why each
# tolerance is what it is). Reproduced counts pass disclosure control (1-7 redacted, others
# rounded to 5); the comparison with the published figure is made on the exact values.

# %% tags=["parameters"]
# parameters (outcomes report injects the real values after this cell)
extract = "../../data/reference"
quarter = "2024Q1"
period_start = "2024-01-01"
period_end = "2024-03-31"
go_live = "2017-10-01"
transition_months = 6
footprint = ["E09000004", "E09000006", "E09000008", "E09000011", "E09000021", "E09000022",
             "E09000023", "E09000024", "E09000027", "E09000028", "E09000029", "E09000032"]
providers = ["RPG", "RV5", "RQY"]
output_dir = "../../reports/scratch/06_published_figures"

# %%
import pandas as pd

from outcomes.cohort import dbt_cohort, picu_episodes
from outcomes.evaluation import open_analysis_extract, programme_windows, published_figures, reproduce_published
from outcomes.measures import catalogue
from outcomes.results import record, record_table

data = open_analysis_extract(extract).until(period_end)  # nothing after the period is seen
published = published_figures()
print(published.attrs["source"])
comparison = reproduce_published(data, published, go_live=go_live, transition_months=transition_months,
                                 footprint=footprint, providers=providers, end=period_end)

# %%
for name, row in comparison.iterrows():
    record(f"reproduced_{name}", row["within_tolerance"], kind="estimate", label=row["label"],
           definition=row["definition"])
table = record_table("published_vs_reproduced", comparison.reset_index(),
                     keep=["name", "label", "published", "reproduced", "difference", "tolerance", "within_tolerance", "definition"],
                     caption="Published figures beside the reproduced values")
table
