# %% [markdown]
# # Cohort profile
#
# Who is in each cohort, how many each rule excluded (attrition), the characteristics of CYP
# inpatients before and after go-live (Table 1), and the extract's data-quality warnings.
# Every count shown passes statistical disclosure control: counts of 1-7 are redacted and others
# rounded to the nearest 5.

# %% tags=["parameters"]
# 00_cohort_profile: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("00_cohort_profile", globals())  # every None above becomes the runner's default

# %%
import pandas as pd

from outcomes.cohort import cyp_inpatients, dbt_cohort, picu_episodes
from outcomes.measures.coverage import data_quality
from outcomes.report import paragraphs
from outcomes.source.contract.dictionary import load_dictionary
from outcomes.table_one import table_one

data = run.extract  # opened once, cut to period_end: nothing after the period is seen
cohorts = {
    "cyp_inpatients": cyp_inpatients(footprint, providers),
    "picu_episodes": picu_episodes(footprint, providers),
    "dbt_cohort": dbt_cohort(),
}
built = {name: cohort.build(data) for name, cohort in cohorts.items()}
COHORT_NAMES = {"cyp_inpatients": "CYP inpatient", "picu_episodes": "PICU episode", "dbt_cohort": "DBT"}

# %% [markdown]
# ## Attrition
# People and rows entering each rule, excluded by it, and remaining.

# %%
for name, cohort in built.items():
    shown = run.record_table(f"attrition_{name}", cohort.attrition,
                             counts=["people_in", "rows_in", "people_excluded", "rows_excluded",
                                     "people_remaining", "rows_remaining"],
                             caption=f"Attrition of the {COHORT_NAMES[name]} cohort")
    run.show(shown, caption=f"Attrition of the {COHORT_NAMES[name]} cohort (counts rounded to 5, 1-7 suppressed)")

# %% [markdown]
# ## Table 1: CYP inpatient ward stays, before and after go-live
# Stays starting in the 12 months before go-live and in the 12 months after the transition window.

# %%
windows = run.programme.windows()
stays = built["cyp_inpatients"].table
people = data["MHS001MPI"].select("Person_ID", "Gender", "EthnicCategory")
stays = stays.join(people, "Person_ID").select(
    "StartDateWardStay", "age_at_admission", "Gender", "EthnicCategory", "MHAdmittedPatientClass", "area", "provider"
).to_pandas()
start = pd.to_datetime(stays.StartDateWardStay).dt.date
stays["period"] = None
for label, (lo, hi) in windows.items():
    stays.loc[(start >= lo) & (start < hi), "period"] = label
codes = load_dictionary().codes
stays = stays.dropna(subset=["period"]).assign(  # codes shown by their labels in the data dictionary
    Gender=lambda f: f.Gender.map(codes["gender"].labels),
    EthnicCategory=lambda f: f.EthnicCategory.map(codes["ethnic_category"].labels).fillna("Not recorded"),
    MHAdmittedPatientClass=lambda f: f.MHAdmittedPatientClass.map(codes["bed_type"].labels),
    area=lambda f: f.area.str.replace("_", " "),
).rename(columns={"age_at_admission": "age at admission", "MHAdmittedPatientClass": "bed type",
                  "EthnicCategory": "ethnic category", "Gender": "gender"})
table = table_one(stays, continuous=["age at admission"], nonnormal=["age at admission"],
                  categorical=["gender", "ethnic category", "bed type", "area", "provider"], group="period")
shown = run.record_table("table_one_cyp_inpatients", table, keep=list(table.columns),
                         caption="CYP inpatient ward stays by period (counts rounded to 5, 1-7 redacted)")
run.show(shown, caption="CYP inpatient ward stays by period (counts rounded to 5, 1-7 suppressed)")

# %% [markdown]
# ## Data quality
# Quirks of the extract that do not stop the analysis, with how many rows each affects.

# %%
quality = data_quality(data).rename(columns={"rows": "rows_n"})
shown = run.record_table("data_quality", quality, caption="Data-quality warnings (rows rounded to 5, 1-7 redacted)")
run.record("cyp_inpatient_stays_n", int(built["cyp_inpatients"].attrition["rows_remaining"].iloc[-1]), kind="count",
           label="CYP inpatient ward stays in the extract")
run.show(shown, caption="Data-quality warnings (rows rounded to 5, 1-7 suppressed)")

# %% [markdown]
# ## Results

# %%
run.paragraph(paragraphs.cohort, *(f"attrition_{name}" for name in built), "cyp_inpatient_stays_n", "data_quality")
