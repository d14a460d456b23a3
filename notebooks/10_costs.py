# %% [markdown]
# # What the programme saved
#
# The bed days averted (CYP occupied bed days, interrupted time series) priced at an in-network
# CAMHS bed day, and the out-of-area bed days brought home priced at the difference between an
# out-of-area (independent sector) bed day and an in-network one. Each saving has two intervals,
# kept apart: the 95% CI carried from the ITS (uncertainty in the days) and a low/high unit-cost
# sensitivity (uncertainty in the price). Unit costs come from the versioned table shipped with the
# package, inflated to one price year with the stated index; a figure with no published source is
# marked *illustrative*, and so is every saving it feeds.

# %% tags=["parameters"]
# 10_costs: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = providers = output_dir = None
# this notebook's own settings (papermill -p to change): price year, the table's figures to use, overrides
price_year = "2023/24"
in_network_cost = "camhs_general_in_network"
out_of_area_cost = "camhs_general_out_of_area"
unit_cost_overrides = {}  # {figure_id: {"cost_per_bed_day": 812, "low": 700, "high": 950, "source": "..."}}

# %%
from outcomes import notebook

run = notebook.start("10_costs", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.programme.costs import (bed_days_saving, days_from_headline, format_gbp, load_inflation, load_unit_costs,
                                      out_of_area_saving, savings_table, unit_cost)
from outcomes.report import paragraphs

plots.use_house_style()
data = run.extract  # opened once, cut to period_end: nothing after the period is seen
measures = run.measures
table = load_unit_costs(overrides=unit_cost_overrides)
inflation = load_inflation()
in_network = unit_cost(in_network_cost, price_year, table, inflation)
out_of_area = unit_cost(out_of_area_cost, price_year, table, inflation)

# %% [markdown]
# ## Unit costs
# Every figure in the table, with its source; the ones used here are inflated to the price year with
# the index below.

# %%
run.record_table("unit_costs", table.reset_index()[["figure_id", "setting", "location", "financial_year",
                                                    "cost_per_bed_day", "low", "high", "status", "source"]],
                 keep=["cost_per_bed_day", "low", "high"], caption="Unit costs per bed day (GBP at their own year's prices)")
run.show(table.reset_index(), caption="Unit costs per bed day (£ at their own year's prices)",
         columns=["setting", "location", "financial_year", "cost_per_bed_day", "low", "high", "status", "source"])
display(Markdown(f"Inflated to {price_year} prices with the {inflation.attrs['index']} ({inflation.attrs['source']}). "
                 f"In network: {in_network.label}. Out of area: {out_of_area.label}."))

# %% [markdown]
# ## Days from the interrupted time series
# A saving needs both series' ITS; where the data cannot support one (a small collaborative, no
# out-of-area stays), the report says the saving is not estimable and why.

# %%
programme = run.programme
fits = {name: run.estimate(saving, what, programme.its, measures[name].to_pandas(data), headline=True)
        for name, saving, what in (("bed_days", "cost_bed_days_averted", "Saving from CYP bed days averted"),
                                   ("out_of_area_bed_days", "cost_out_of_area_brought_home",
                                    "Saving from out-of-area bed days brought home"))}
estimable = None not in fits.values()

# %%
if estimable:
    its = {name: programme.headline(fit) for name, fit in fits.items()}
    averted = days_from_headline(its["bed_days"])
    brought_home = days_from_headline(its["out_of_area_bed_days"])
    window = f"{its['bed_days'].averted_from} to {its['bed_days'].at}"

# %% [markdown]
# ## Savings

# %%
if estimable:
    beds = bed_days_saving(averted, in_network)
    home = out_of_area_saving(brought_home, out_of_area, in_network)
    savings = savings_table(beds, home)
    run.record_table("savings", savings.reset_index(), keep=list(savings.columns),
                     caption=f"Savings in GBP ({price_year} prices), {window}: ITS 95% CI and low/high unit-cost sensitivity")
    total = savings.loc["total"]
    flag = " (illustrative unit costs)" if total["status"] == "illustrative" else ""
    run.record("cost_bed_days_averted", beds.value, kind="estimate", unit=f"GBP {price_year}",
               ci=(beds.lower, beds.upper), headline=True,
               label=f"Saving from CYP bed days averted, {window}{' (illustrative)' if beds.status == 'illustrative' else ''}",
               definition=f"Bed days averted (ITS, 95% CI) x {in_network.label}; unit-cost sensitivity "
                          f"{format_gbp(beds.low)} to {format_gbp(beds.high)}")
    run.record("cost_out_of_area_brought_home", home.value, kind="estimate", unit=f"GBP {price_year}",
               ci=(home.lower, home.upper), headline=True,
               label=f"Saving from out-of-area bed days brought home, {window}{' (illustrative)' if home.status == 'illustrative' else ''}",
               definition=f"Out-of-area bed days averted (ITS, 95% CI) x (out of area {out_of_area.label} - in network "
                          f"{in_network.label}); unit-cost sensitivity {format_gbp(home.low)} to {format_gbp(home.high)}")
    run.record("cost_total_sensitivity", {"value": total["gbp"], "low_unit_cost": total["gbp_low_unit_cost"],
                                          "high_unit_cost": total["gbp_high_unit_cost"], "status": total["status"]},
               kind="estimate", unit=f"GBP {price_year}",
               definition=f"Total change in spend{flag}; no CI because the two ITS share months (see outcomes.programme.costs)")
    run.show(savings, caption=f"Savings in £ ({price_year} prices), {window}: ITS 95% CI and low/high unit-cost sensitivity",
             titles={"bed_days": "Bed days averted", "gbp": "Saving (£)"})
    display(run.paragraph(paragraphs.costs, "cost_bed_days_averted", "cost_out_of_area_brought_home",
                          "cost_total_sensitivity"))

# %%
if estimable:
    shown = savings.drop(index="total").reset_index()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for i, row in shown.iterrows():
        ax.errorbar(row["gbp"] / 1e6, i, xerr=[[(row["gbp"] - row["gbp_lower"]) / 1e6], [(row["gbp_upper"] - row["gbp"]) / 1e6]],
                    fmt="o", color="#005EB8", capsize=4, label="ITS 95% CI" if i == 0 else None)
        ax.plot([row["gbp_low_unit_cost"] / 1e6, row["gbp_high_unit_cost"] / 1e6], [i + 0.2] * 2, color="#ED8B00",
                linewidth=3, label="unit-cost low/high" if i == 0 else None)
    ax.set_yticks(range(len(shown)), [f"{s.replace('_', ' ')}{' (illustrative)' if st == 'illustrative' else ''}"
                                      for s, st in zip(shown.saving, shown.status)])
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(f"GBP million, {price_year} prices")
    plots.legend_outside(ax)
    run.record_figure("savings_figure", fig, key=True,
                      caption=f"Savings with the ITS 95% CI and the unit-cost sensitivity{flag}")
    plt.show()
