# %% [markdown]
# # PICU length of stay
#
# Lengths of CYP psychiatric intensive care (PICU, bed type 309) ward stays admitted in the year
# before go-live against those admitted in the year after the transition window. Stays still open
# at the period's end are censored, never dropped: Kaplan-Meier medians, restricted mean length of
# stay (RMST) to 90 days and its difference, the log-rank test, and a Cox model of the hazard of
# discharge (a hazard ratio above 1 means shorter stays) adjusted for age band, sex and provider.
# Each window needs at least 10 stays; with fewer (a small collaborative), the report says the
# comparison is not estimable and why, and the notebook goes on.

# %% tags=["parameters"]
# 03_picu_length_of_stay: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("03_picu_length_of_stay", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from outcomes.figures import plots
from outcomes.cohort import picu_episodes
from outcomes.disclosure import format_count
from outcomes.disclosure.models import MIN_MODEL_COUNT, formula_term_groups, gate_model_table, group_counts
from outcomes.programme.evidence import grade_direction
from outcomes.programme.published_figures import published_value
from outcomes.report import paragraphs
from outcomes.survival import LengthOfStay

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
episodes = picu_episodes(footprint, providers).build(data).table
people = data["MHS001MPI"].select("Person_ID", "Gender")
stays = episodes.join(people, "Person_ID").select(
    "StartDateWardStay", "los_days", "censored", "age_at_admission", "Gender", "provider").to_pandas()
windows = run.programme.windows()
start = pd.to_datetime(stays.StartDateWardStay).dt.date
stays["period"] = None
for label, (lo, hi) in windows.items():
    stays.loc[(start >= lo) & (start < hi), "period"] = label
stays = stays.dropna(subset=["period"]).assign(
    discharged=lambda f: ~f.censored.astype(bool),
    age_band=lambda f: pd.cut(f.age_at_admission, [0, 13, 16, 18], right=False, labels=["0-12", "13-15", "16-17"]).astype(str),
    sex=lambda f: f.Gender.map({"1": "male", "2": "female"}).fillna("other"),
    provider=lambda f: f.provider.where(f.provider.isin(providers), "out of network"),
)

# %%
los = run.estimate("picu_median_los_change", "PICU length of stay, post year against baseline year",
                   LengthOfStay(horizon_days=90, reference_group="baseline", min_stays=10).fit, stays,
                   duration="los_days", event="discharged", group="period", covariates=["age_band", "sex", "provider"],
                   headline=True)

# %%
if los is not None:
    summary = run.record_table("picu_length_of_stay", los.summary.reset_index(),
                               derived=los.summary_depends_on,
                               caption="PICU stays by period: Kaplan-Meier median and RMST (days) with 95% CI")
    medians = los.medians_
    difference = los.rmst_difference_.loc["post"]
    published = published_value("picu_median_los_change")
    # the "shorter" claim is graded on the restricted mean stay's difference and its CI, not on the medians alone
    evidence = grade_direction(published["value"], difference["difference"], difference["lower"], difference["upper"],
                               ratio=False)
    run.record("picu_median_los_change", float(medians.loc["post", "median"] - medians.loc["baseline", "median"]),
               kind="difference", unit="days", headline=True,
               baseline=float(medians.loc["baseline", "median"]), latest=float(medians.loc["post", "median"]),
               label="PICU median length of stay (days), post year minus baseline year",
               definition="Kaplan-Meier medians of PICU stays admitted in each window; open stays censored; evidence graded "
                          "on the restricted mean stay to 90 days (post minus baseline) and its 95% CI",
               published=published, evidence=evidence.text,
               counts={"baseline_n": int((stays.period == "baseline").sum()), "post_n": int((stays.period == "post").sum())})
    run.record("picu_rmst_difference", float(difference["difference"]), kind="difference", unit="days",
               ci=(float(difference["lower"]), float(difference["upper"])),
               definition="Restricted mean length of stay to 90 days, post minus baseline; Wald CI from the two variances",
               counts={"baseline_n": int(difference["reference_n"]), "post_n": int((stays.period == "post").sum())})
    run.show(summary, caption="PICU stays by period: Kaplan-Meier median and restricted mean stay (days), 95% CI",
             columns=["period", "n", "events_n", "censored_n", "median", "median_lower", "median_upper", "horizon_days",
                      "rmst", "rmst_lower", "rmst_upper", "rmst_difference", "rmst_difference_lower",
                      "rmst_difference_upper", "rmst_difference_p"])
    display(run.paragraph(paragraphs.survival, "picu_length_of_stay", "picu_rmst_difference"))

# %%
# numbers at risk disclosure-controlled ("<8" or rounded to 5); each curve stops where fewer than 8 stays are at risk
if los is not None:
    ax = los.plot(count_formatter=format_count, min_at_risk=MIN_MODEL_COUNT)
    run.record_figure("picu_km", ax.figure, key=True,
                      caption="Kaplan-Meier curves of PICU length of stay by period, with numbers at risk (rounded)")
    plt.show()

# %% [markdown]
# ## Cox model and proportional hazards

# %% [markdown]
# A model row is published only when every group it compares (the level and its reference) has at
# least 8 stays and 8 discharges; other rows are withheld with the reason. A model that does not
# converge (few stays) is reported as not estimable.

# %%
cox_tables = None if los is None else run.estimate("picu_cox", "Cox model of the hazard of PICU discharge",
                                                     los.cox_tables)
if cox_tables is not None:
    cox_summary, ph_summary = cox_tables
    model_groups = ["period", "age_band", "sex", "provider"]
    group_sizes = group_counts(stays, model_groups, "discharged")
    cox = gate_model_table(cox_summary.round(4), formula_term_groups(cox_summary.index, stays, model_groups),
                           group_sizes, event_label="discharges")
    run.record_table("picu_cox", cox.reset_index(), keep=list(cox.columns) + ["covariate"],
                     caption="Cox model of the hazard of discharge (rows of small groups withheld)")
    run.show(cox, caption="Cox model of the hazard of discharge (rows of small groups withheld)",
             columns=["covariate", "exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p", "publication"])
    display(run.paragraph(paragraphs.hazard_ratio, "picu_cox", term="period[T.post]",
                          what="discharge after go-live against before (above 1: shorter stays)",
                          adjusted_for="age band, sex and provider"))
    ph_test = gate_model_table(ph_summary.round(4), formula_term_groups(ph_summary.index, stays, model_groups),
                               group_sizes, event_label="discharges")
    run.record_table("picu_ph_test", ph_test.reset_index(), keep=list(ph_test.columns) + ["index"],
                     caption="Proportional-hazards test (rank time; rows of small groups withheld)")
    run.show(ph_test, caption="Proportional-hazards test (rank time; rows of small groups withheld)",
             columns=["index", "test_statistic", "p", "publication"], titles={"index": "Term"})
