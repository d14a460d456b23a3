# %% [markdown]
# # Did every group benefit?
#
# Bed days, admissions, out-of-area placements and crisis escalations of children and young people
# resident in the footprint, by ethnic group (the five top-level groups), sex, age band and IMD
# quintile, every month before go-live against every month after the transition. Then the
# inequality the collaborative set out to reduce: the rate at which admissions are placed out of
# area, for each ethnic group, before and after, with a test of whether the change differs between
# groups and the slope index of inequality across IMD quintiles. Tables with totals use secondary
# suppression, so no suppressed cell can be worked out from the totals; model rows of groups with
# fewer than 8 admissions or placements are withheld.

# %% tags=["parameters"]
# 11_equity: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("11_equity", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
import pandas as pd

from outcomes.figures import plots
from outcomes.programme.breakdowns import (DIMENSIONS, breakdown_counts, breakdown_table, equity_paragraph,
                                           group_person_years, group_rates, placements_by_group, plot_small_multiples,
                                           quintile_of)
from outcomes.cohort.groups import has_deprivation
from outcomes.disclosure.margins import protect_margins
from outcomes.disclosure.models import gate_model_table
from outcomes.equity import (heterogeneity_test, rate_ratio_against_others, rate_ratios_by_group,
                             slope_index_of_inequality)
from outcomes.measures.define import default_period
from outcomes.reference import read_truth
from outcomes.report.tables import format_cell

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
first_month = default_period(run.measures["admissions"], data).first_day
windows = run.programme.whole_windows(first_month, data.end_date)  # every month before go-live, every month after the transition
counts = breakdown_counts(data, windows, footprint, providers)
truth = read_truth(run.params.extract)  # the planted inequality, on the synthetic reference extract only
display(Markdown("Windows: " + "; ".join(f"{label}, {lo:%B %Y} to {pd.Timestamp(hi) - pd.Timedelta(days=1):%B %Y}"
                                          for label, (lo, hi) in windows.items()) + "."))

# %% [markdown]
# ## Breakdowns, before and after
# Counts in each window (bed days in days); the Total row is the true total, so cells are
# suppressed in pairs where needed.

# %%
safe_tables = {}
for dimension, label in DIMENSIONS.items():
    if dimension not in set(counts.dimension):
        print(f"{label}: not run: the extract has no deprivation table (optional in the data dictionary)")
        continue
    safe_tables[dimension] = run.record_table(
        f"breakdown_{dimension}", protect_margins(breakdown_table(counts, dimension, windows), total_row="Total"),
        caption=f"{label}: bed days, admissions, out-of-area placements and crisis escalations, before and after")
    run.show(safe_tables[dimension], caption=f"{label}: bed days, admissions, out-of-area placements and crisis "
                                             "escalations, before and after (rounded to 5, 1-7 suppressed)")

# %% [markdown]
# ## Rates by group, before and after
# Each group's rate with its 95% CI, from the counts as published above (rounded to 5): per 100,000
# CYP of the group a year where the population table gives the group's population (age bands),
# otherwise per month of the window, and the page says why. The CIs follow the Fingertips
# technical guide (Byar's method from 10 events, exact Poisson limits below); bed days have none,
# as the days of one stay are not independent events. A suppressed value is a hatched placeholder
# marked "suppressed", never a bar of height zero.

# %%
rates = {}
for dimension, safe in safe_tables.items():
    label = DIMENSIONS[dimension]
    person_years = group_person_years(data, windows, dimension, footprint)
    if isinstance(person_years, str):
        display(Markdown(f"{label}: {person_years}; rates are per month of each window."))
    table = group_rates(safe, windows, person_years)
    unit = table.unit.iloc[0]
    rates[dimension] = run.record_table(
        f"rates_{dimension}", table, derived={c: ["count"] for c in ("rate", "lower", "upper")},
        caption=f"{label}: each group's rate {unit} with its 95% CI, before and after, from the published counts")
    grid = plot_small_multiples(rates[dimension], windows, f"{label}: rates {unit}, before and after, with 95% CIs")
    run.record_figure(f"breakdown_{dimension}_figure", grid.figure, key=dimension == "ethnic_group",
                      caption=f"Main measures by {label.lower()}, {unit}, before and after, with 95% CIs "
                              "(one panel per measure; hatched: suppressed)")
    plt.show()

# %% [markdown]
# ## Out-of-area placements by ethnic group
# Placements per admission. First, each group against every other group in each window (the
# inequality); then each group's change, after against before, and whether the change differs
# between groups (Wald test of the group x period interaction, Poisson).

# %%
placements = placements_by_group(counts, "ethnic_group")
focus = "Black"
against = rate_ratio_against_others(placements, focus)
sizes = pd.DataFrame(  # admissions and placements behind each side of each ratio, for the publication rule
    [(side, period, row[f"{side}_exposure"], row[f"{side}_events"])
     for period, row in against.iterrows() for side in ("focus", "others")],
    columns=["side", "period", "people_n", "events_n"]).set_index(["side", "period"])
against_safe = gate_model_table(against[["rate_ratio", "lower", "upper"]].round(3),
                                {p: [("focus", p), ("others", p)] for p in against.index}, sizes,
                                event_label="out-of-area placements")
run.record_table("out_of_area_black_vs_others", against_safe.reset_index(),
                 caption=f"Out-of-area placements per admission, {focus} CYP against all others, by window (rate ratio, 95% CI)")
by_group = rate_ratios_by_group(placements)
group_sizes = placements.groupby("group").agg(people_n=("exposure", "min"), events_n=("events", "min"))
group_sizes.index = pd.MultiIndex.from_tuples([("ethnic_group", g) for g in group_sizes.index])
change_safe = gate_model_table(by_group[["rate_ratio", "lower", "upper"]].round(3),
                               {g: [("ethnic_group", g)] for g in by_group.index}, group_sizes,
                               event_label="out-of-area placements")
run.record_table("out_of_area_change_by_group", change_safe.reset_index(),
                 caption="Out-of-area placements per admission, after against before, by ethnic group (rate ratio, 95% CI)")
publishable = by_group.loc[change_safe.publication == "published"]
if len(publishable) >= 2:
    heterogeneity = heterogeneity_test(publishable)
    run.record("out_of_area_change_heterogeneity", heterogeneity["p_value"], kind="p_value",
               definition=f"Wald test that the after/before rate ratio of out-of-area placements is the same in every "
                      f"ethnic group with 8+ admissions and placements in each window (chi-squared "
                      f"{heterogeneity['statistic']:.2f} on {heterogeneity['df']} df)")
else:
    heterogeneity = "not run: fewer than two ethnic groups have 8+ admissions and placements in each window"
    run.record("out_of_area_change_heterogeneity", heterogeneity, kind="p_value")
run.show(against_safe, caption=f"Out-of-area placements per admission, {focus} CYP against all others (rate ratio, 95% CI)")
run.show(change_safe, caption="Out-of-area placements per admission, after against before, by ethnic group (rate ratio, 95% CI)")
display(Markdown(f"Whether the change differs between ethnic groups (Wald test): {format_cell(heterogeneity)}."))

# %%
before, after = against.loc["before"], against.loc["after"]
run.record("out_of_area_rate_ratio_black_after", float(after["rate_ratio"]), kind="ratio",
           unit=f"rate ratio, {focus} CYP against other CYP (1 = the same rate)",
           ci=(float(after["lower"]), float(after["upper"])), headline=True,
           baseline=float(before["rate_ratio"]), latest=float(after["rate_ratio"]),
           label=f"Out-of-area placement rate of {focus} CYP against other CYP, after go-live",
           definition="Out-of-area placements per admission of footprint CYP, rate ratio with Wald 95% CI; "
                  f"before {before['rate_ratio']:.2f} ({before['lower']:.2f} to {before['upper']:.2f})",
           sentence=f"After go-live, {focus} CYP admitted were placed out of area at {after['rate_ratio']:.2f} times the "
                    f"rate of other CYP (95% CI {after['lower']:.2f} to {after['upper']:.2f}), against "
                    f"{before['rate_ratio']:.2f} ({before['lower']:.2f} to {before['upper']:.2f}) before",
           counts={"focus_before_n": before["focus_events"], "focus_after_n": after["focus_events"],
               "others_before_n": before["others_events"], "others_after_n": after["others_events"]})

# %% [markdown]
# ## Against the planted truth (synthetic reference extract only)

# %%
if truth is None:
    print("No truth.json beside the extract: a real extract has no planted truth to compare with.")
else:
    planted = truth["equity"]["planted_out_of_area_rate_ratio"]
    realised = truth["equity"]["realised_spells"]
    rows = []
    for period in ("before", "after"):
        spells = realised[period]
        focus_key = focus.lower()
        f_adm, f_ooa = spells[focus_key]["admissions"], spells[focus_key]["out_of_area"]
        o_adm = sum(v["admissions"] for k, v in spells.items() if k != focus_key)
        o_ooa = sum(v["out_of_area"] for k, v in spells.items() if k != focus_key)
        est = against.loc[period]
        rows.append({"window": period, "planted": planted[period],
                     "realised": (f_ooa / f_adm) / (o_ooa / o_adm) if f_adm and o_adm and o_ooa else np.nan,
                     "estimate": est["rate_ratio"], "lower": est["lower"], "upper": est["upper"],
                     "planted_in_ci": bool(est["lower"] <= planted[period] <= est["upper"])})
    recovered = pd.DataFrame(rows).set_index("window")
    safe_recovered = gate_model_table(recovered.round(3), {p: [("focus", p), ("others", p)] for p in recovered.index},
                                      sizes, event_label="out-of-area placements", keep=["planted"])
    run.record_table("equity_truth", safe_recovered.reset_index(), keep=["planted"],
                     caption="Planted and realised inequality (truth.json) against the estimate; realised "
                             "counts every admission, the plant acts on first admissions, so it is a little diluted")
    shown = (safe_recovered.publication == "published").all()
    run.record("equity_truth_recovered", bool(recovered.planted_in_ci.all()) if shown else "withheld: small groups",
               kind="estimate", definition="Planted out-of-area rate ratio inside the estimate's 95% CI in both windows")
    run.show(safe_recovered, caption="Planted and realised inequality (truth.json) against the estimate")

# %% [markdown]
# ## Deprivation: slope and relative index of inequality
# Out-of-area placements per 100 admissions across IMD quintiles (1 = most deprived), as
# PHEindicatormethods' `phe_sii` for rates (standard errors on the log scale, 1/sqrt(placements));
# the SII is the modelled difference from the most to the least deprived end. Population by group
# is not in the data contract, so population-based rates and directly standardised rates are not run.

# %%
if not has_deprivation(data):
    print("Not run: the extract has no deprivation table (optional in the data dictionary).")
else:
    imd = placements_by_group(counts, "imd_quintile")
    imd = imd[imd.group != "Not recorded"]
    rows = {}
    for period, part in imd.groupby("period"):
        part = part.assign(quantile=part.group.map(quintile_of), population=part.exposure,
                           value=100 * part.events / part.exposure, se=1 / np.sqrt(part.events))
        if len(part) == 5 and (part.events >= 8).all() and (part.exposure >= 8).all():
            rows[period] = slope_index_of_inequality(part, value_type="rate")
            rows[period]["reason"] = "published"
        else:
            rows[period] = {"reason": "withheld: a quintile has fewer than 8 admissions or placements"}
    sii = pd.DataFrame(rows).T.reindex(columns=["sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper", "reason"])
    numbers = sii.columns[:-1]
    sii[numbers] = sii[numbers].astype(float).round(3)
    run.record_table("out_of_area_sii_imd", sii.reset_index(names="window"), keep=list(sii.columns),
                     caption="Slope and relative index of inequality of out-of-area placements per 100 admissions across IMD quintiles")
    if truth is not None:
        display(Markdown(f"Planted: {truth['equity']['deprivation']}."))
    run.show(sii, caption="Slope and relative index of inequality of out-of-area placements per 100 admissions "
                          "across IMD quintiles", titles={"reason": "Publication"})

# %% [markdown]
# ## Results

# %%
display(Markdown(equity_paragraph(run.recorded, rates, sii if has_deprivation(data) else None)))
