"""The synthetic control figure: treated against synthetic, and the gap among the placebo gaps.

Disclosure control comes first: where the series are built from counts (a population column, or
the count form), every unit's observed counts are rounded to 5 and counts of 1-7 left out
(:func:`outcomes.disclosure.plottable_counts`, a gap in the line) before any rate or gap is drawn,
so no small count can be read off the figure. The synthetic control is a weighted mix of many
donors and is drawn as fitted. Colours are the colour cycle's first two (the house style's NHS blue
and orange once ``outcomes.figures.plots.use_house_style()`` has run), placebos grey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.disclosure.rules import plottable_counts

from ._panel import time_label


def _safe_values(sc, column: int) -> np.ndarray:
    """One unit's analysis values with its counts disclosure-controlled (as given if no counts)."""
    P = sc.panel
    if P.counts is None:
        return P.values[:, column]
    counts = plottable_counts(pd.Series(P.counts[:, column])).to_numpy(float)
    if sc.form == "count":
        return counts
    return counts / P.population[:, column] * sc.per


def _display(sc, values: np.ndarray) -> np.ndarray:
    """Count-form values shown as rates when there is a population (the treated unit's)."""
    P = sc.panel
    if sc.form == "count" and P.population is not None:
        return values / P.population[:, 0] * sc.per
    return values


def plot_control(sc, axes=None, *, placebo: bool = True, what: str | None = None):
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(8, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top, bottom = axes
    P = sc.panel
    x = P.times
    observed = _safe_values(sc, 0)
    synthetic = sc.synthetic_.to_numpy()
    unit_label = f"per {sc.per:,.0f}" if P.population is not None else ("(count)" if sc.form == "count" else "")
    top.plot(x, _display(sc, observed), color="C0", lw=2, label=str(sc.treated))
    top.plot(x, _display(sc, synthetic), color="C1", lw=2, ls="--", label=f"synthetic {sc.treated}")
    top.set_ylabel(" ".join(filter(None, [what or sc.outcome, unit_label])))
    relative = sc.form == "count"
    gap = observed / np.where(synthetic != 0, synthetic, np.nan) - 1 if relative else observed - synthetic
    if placebo and sc.placebo_ is not None:
        kept = sc.placebo_.loc[sc.placebo_["kept"] & ~sc.placebo_["treated"], "unit"]
        drawn = False
        for unit in kept:
            j = P.units.index(unit)
            raw = sc.placebo_gaps_[unit].to_numpy()
            syn = P.values[:, j] - raw if not relative else P.values[:, j] / (raw + 1)
            safe = _safe_values(sc, j)
            g = safe / np.where(syn != 0, syn, np.nan) - 1 if relative else safe - syn
            bottom.plot(x, 100 * g if relative else g, color="grey", lw=0.8, alpha=0.35,
                        label="placebo (donor as if treated)" if not drawn else None, zorder=1)
            drawn = True
    bottom.plot(x, 100 * gap if relative else gap, color="C0", lw=2, label=str(sc.treated), zorder=3)
    bottom.axhline(0, color="dimgrey", lw=0.8)
    bottom.set_ylabel("gap (% of synthetic)" if relative else f"gap {unit_label}".strip())
    start = pd.Timestamp(sc.start) - pd.Timedelta(days=15) if isinstance(x, pd.DatetimeIndex) else sc.start - 0.5
    for ax in axes:
        ax.axvline(start, color="firebrick", lw=1.2)
    top.annotate(f"start {time_label(sc.start)}", (start, 1), xycoords=("data", "axes fraction"), va="top",
                 ha="left", fontsize=8, color="dimgrey")
    if placebo and sc.placebo_ is not None:
        bottom.set_title(f"placebo p = {sc.p_value_:.3f}", loc="right", fontsize=9, fontweight="normal")
    top.legend(fontsize=9)
    bottom.legend(fontsize=8)
    return axes
