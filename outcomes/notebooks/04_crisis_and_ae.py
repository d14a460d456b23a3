# %% [markdown]
# # Crisis escalations and A&E attendances of known service users
#
# Known service users are children and young people with an open CYPMHS referral on the day.
# Crisis escalations are their A&E attendances with a mental-health or self-harm flag, their
# attended crisis-team contacts and their emergency admissions; A&E attendances are all their ECDS
# attendances. Both per month per 100,000 CYP residents, each with an interrupted time series
# (segmented quasi-Poisson, population offset, seasonal harmonics, AR(1) errors, transition window
# left out, COVID-19 as its own interruption).

# %% tags=["parameters"]
# 04_crisis_and_ae: None takes the runner's default (outcomes.report.parameters.notebook_parameters);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes.report.parameters import notebook_parameters
params = notebook_parameters("04_crisis_and_ae", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt

from outcomes import plots
from outcomes.extract import open_analysis_extract
from outcomes.programme import (change_sentence, counterfactual_for_figure, its_headline, measure_its,
                                programme_windows, relative_change)
from outcomes.published_figures import published_value
from outcomes.measures import catalogue
from outcomes.results import record, record_figure, record_table

plots.use_house_style()
data = open_analysis_extract(extract)
measures = catalogue(footprint, providers)
windows = programme_windows(go_live, transition_months)
series = {name: measures[name].to_pandas(data, end=period_end) for name in ("crisis_escalations", "ae_attendances")}
labels = {"crisis_escalations": "Crisis escalations of known service users",
          "ae_attendances": "A&E attendances of known service users"}
in_words = {"crisis_escalations": "crisis escalations of known service users",
            "ae_attendances": "A&E attendances of known service users"}

# %%
results = {}
for name, monthly in series.items():
    result = measure_its(monthly, go_live, transition_months=transition_months)
    headline = its_headline(result, go_live, transition_months=transition_months, what=in_words[name])
    change = relative_change(monthly, windows)
    results[name] = result
    record(f"{name}_level_change", headline["level_change"], kind="ratio", unit="rate ratio",
           ci=(headline["level_change_lower"], headline["level_change_upper"]), headline=True,
           baseline=change["baseline"] / 12, latest=change["post"] / 12,
           label=f"{labels[name]} per month: level change at go-live (rate ratio)",
           definition="Segmented quasi-Poisson ITS with CYP population offset, AR(1) errors; baseline and "
                      "latest are monthly means of the baseline and post years",
           published=published_value(f"{name}_change"), sentence=headline["level_sentence"],
           counts={"baseline_n": change["baseline"], "post_n": change["post"]})
    record(f"{name}_relative_effect", headline["relative"], kind="percent_change", unit="proportion",
           ci=(headline["relative_lower"], headline["relative_upper"]), sentence=headline["sentence"],
           definition=f"Fitted / counterfactual - 1 in {headline['horizon']}; delta-method CI")
    record(f"{name}_change", change["change"], kind="percent_change", unit="proportion",
           definition="Post year against baseline year, simple totals",
           sentence=change_sentence(labels[name], change, windows),
           counts={"baseline_n": change["baseline"], "post_n": change["post"]})
    record_table(f"its_{name}", result.summary.round(4), keep=list(result.summary.columns),
                 caption=f"{labels[name]}: rate ratios with 95% CI")
    display(result.summary.style.set_caption(labels[name]))

# %%
fig, axes = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
for ax, (name, result) in zip(axes, results.items()):
    line = counterfactual_for_figure(result)
    plots.monthly_series(line, "observed", fitted="fitted", counterfactual="counterfactual",
                         lower="counterfactual_lower", upper="counterfactual_upper", go_live=go_live,
                         transition_months=transition_months, ylabel="per month", title=labels[name], ax=ax)
record_figure("crisis_and_ae_counterfactual", fig, key=True,
              caption="Crisis escalations and A&E attendances of known service users, with counterfactuals (95% CI)")
plt.show()
