# %% [markdown]
# # A synthetic South London
#
# What happened elsewhere? A fall in bed days means little if every area fell as far. Here the
# footprint's CYP bed days and out-of-area bed days per 100,000 CYP are set against a **synthetic
# control**: a weighted mix of other areas of England that had no programme, chosen so that it
# tracks the footprint before go-live (Abadie, Diamond & Hainmueller). Its path after go-live is the
# counterfactual. The areas come from the published area statistics (the optional table
# `area_statistics`: NHS England's MHSDS monthly statistics by area), the footprint being the sum of
# its boroughs. Weights are non-negative and sum to one, fitted on the monthly rate before go-live;
# the placebo p-value ranks the footprint's post/pre-period fit ratio among every other area refitted
# as if it had had the programme; intervals are conformal (Chernozhukov, Wüthrich & Zhu 2021).
# Counts are disclosure-controlled before they are drawn. This design does not lean on the
# footprint's own past, so it can judge a go-live the single-series ITS cannot (after COVID-19, or a
# short pre-period).

# %% tags=["parameters"]
# 12_synthetic_control: None takes the runner's default (outcomes.notebook.start);
# `outcomes report` injects the report's values after this cell
extract = period_end = go_live = transition_months = footprint = output_dir = None

# %%
from outcomes import notebook

run = notebook.start("12_synthetic_control", globals())  # every None above becomes the runner's default

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from outcomes.figures import plots
from outcomes.programme.synthetic import AREA_MEASURES, area_control, has_area_statistics, synthetic_headline
from outcomes.reference import read_truth
from outcomes.report import paragraphs

plots.use_house_style()
available = has_area_statistics(run.extract)
run.record("synthetic_control_available", available, kind="estimate",
           definition="Whether the extract holds the published area statistics table (area_statistics)")
if not available:
    display(Markdown("This extract has no area_statistics table: there are no other areas to build a synthetic "
                     "control from. See the data dictionary (area_statistics) for how to fill it from NHS England's MHSDS "
                     "monthly statistics; a reference extract written before the table existed gains it when rebuilt "
                     "(make reference)."))
# a measure whose donor areas are too few once suppressed months are left out says so (not estimable)
fitted = {m: run.estimate(f"synthetic_control_{m}", f"Synthetic control of {AREA_MEASURES[m]}", area_control,
                          run.extract, m, run.programme, footprint) for m in AREA_MEASURES} if available else {}
controls = {m: control for m, control in fitted.items() if control is not None}
headlines = {m: synthetic_headline(c, run.programme, AREA_MEASURES[m]) for m, c in controls.items()}

# %% [markdown]
# ## The synthetic footprint: which areas, and how well it tracks before go-live
# The weights (areas with weight under 0.5% left out), the root mean squared gap before go-live
# (per 100,000 CYP a month) and the donors left out of the pool because a month of theirs was
# suppressed at source.

# %%
for measure, control in controls.items():
    weights = control.weights_[control.weights_ > 0.005].sort_values(ascending=False).rename("weight")
    run.record_table(f"synthetic_control_{measure}_weights", weights.round(3).reset_index(),
                     caption=f"Synthetic control of {AREA_MEASURES[measure]}: the areas and their weights")
    run.record(f"synthetic_control_{measure}_pre_rmspe", control.pre_rmspe_, kind="estimate",
               unit=f"per {control.per:,.0f} CYP a month",
               definition="Root mean squared gap between the footprint and its synthetic control before go-live")
    run.record(f"synthetic_control_{measure}_donors", {"used": headlines[measure].donors_used,
                                                      "pool": headlines[measure].donors_in_pool,
                                                      "dropped_suppressed": sorted(control.donors_dropped_)},
               kind="estimate", definition="Donor areas given weight, in the pool, and left out for suppressed months")
    display(Markdown(f"{AREA_MEASURES[measure]}: pre-period RMSPE {control.pre_rmspe_:.1f} per 100,000 CYP a month; "
                     f"{len(control.donors_dropped_)} areas left out for suppressed months; "
                     f"{control.panel_attrs['footprint_cells_suppressed']} suppressed footprint cells counted as 2.5."))
    run.show(weights.head(12), caption=f"Synthetic control of {AREA_MEASURES[measure]}: the areas and their weights",
             titles={"unit": "Area"})

# %% [markdown]
# ## The footprint against its synthetic control, and the gap among the placebos
# Top: the footprint and its synthetic control. Bottom: the gap, with every other area's gap when it
# is refitted as if it had had the programme (grey; areas the donors cannot track before go-live,
# more than 5 times the footprint's pre-period RMSPE, left out).

# %%
for measure, control in controls.items():
    axes = control.plot(what=AREA_MEASURES[measure])
    axes[0].set_title(f"{AREA_MEASURES[measure]}: footprint and synthetic control")
    run.record_figure(f"synthetic_control_{measure}", axes[0].figure, key=measure == "cyp_bed_days",
                      caption=f"{AREA_MEASURES[measure]} per 100,000 CYP: the footprint against a synthetic control of "
                              "other areas, and the gap among the placebo gaps (counts rounded, 1-7 left out)")
    plt.show()

# %% [markdown]
# ## The effect: at the headline horizon, over the post year, and the placebo p-value

# %%
for measure, headline in headlines.items():
    headline.record(f"synthetic_control_{measure}", what=AREA_MEASURES[measure], to=run.record)
    run.show(headline.table, caption=f"Synthetic control of {AREA_MEASURES[measure]}: the effect (95% intervals)")
    display(run.paragraph(paragraphs.synthetic_control, *(f"synthetic_control_{measure}_{part}" for part in
                                                          ("relative_effect", "p_value", "donors", "averted"))))

# %% [markdown]
# ## Conformal intervals month by month
# Each month's effect with its 95% conformal interval: the weights refitted with that month's value
# moved by a hypothesised effect, kept where the month's gap is not extreme among the pre-period's.

# %%
for measure, control in controls.items():
    conformal = control.conformal()
    monthly = conformal[["counterfactual", "observed", "relative", "relative_lower", "relative_upper", "p_value"]]
    monthly = monthly.assign(observed_count=control.path_.loc[~control.panel.pre, "observed_count"].to_numpy())
    shown = run.record_table(f"synthetic_control_{measure}_conformal", monthly.round(3).reset_index(),
                             caption=f"{AREA_MEASURES[measure]}: effect by month, 95% conformal intervals "
                                     f"({conformal.attrs['method']})")
    run.show(shown.head(18), caption=f"{AREA_MEASURES[measure]}: effect by month, 95% conformal intervals (the first "
                                     "18 months; counts rounded to 5)")  # the disclosure-controlled table

# %% [markdown]
# ## Against what was planted (reference extract only)
# The reference extract's truth gives the footprint's planted effect against its own no-programme
# path over the post year; the synthetic control's post-year effect should find it.

# %%
truth = read_truth(run.params.extract)
planted = (truth or {}).get("area_statistics", {}).get("planted_footprint_effect")
if planted and headlines:
    rows = {}
    for measure, headline in headlines.items():
        p = planted[measure]["relative"]
        rows[measure] = {"planted": p, "post_year": headline.cumulative_relative,
                         "lower": headline.cumulative_relative_lower, "upper": headline.cumulative_relative_upper,
                         "covered": headline.cumulative_relative_lower <= p <= headline.cumulative_relative_upper,
                         "horizon_covered": headline.relative_lower <= p <= headline.relative_upper}
        run.record(f"synthetic_control_{measure}_planted_covered", bool(rows[measure]["covered"]), kind="estimate",
                   definition=f"The planted post-year effect ({p:.3f}) lies in the synthetic control's post-year interval")
    against = pd.DataFrame.from_dict(rows, orient="index")
    run.record_table("synthetic_control_against_planted", against.round(3).reset_index(),
                     caption="Synthetic control's post-year relative effect against the planted effect")
    run.show(against, caption="Synthetic control's post-year relative effect against the planted effect")
