"""An XmR chart drawn in the NHS Making Data Count style (as NHSRplotthedots draws it).

Grey line and common-cause points, blue improvement, orange concern and purple neutral special
causes; the mean solid, the process limits dashed, the target red dashed; each rebase segment
has its own lines, with a gap between segments; months with no value (suppressed) are gaps; the
variation and assurance icons sit at the top right, above the plotting area; a note under the
chart says what was suppressed and where limits are trial limits.
"""

from __future__ import annotations

import numpy as np

from outcomes.spc.icons import COLOURS, draw_icon

__all__ = ["plot_chart", "POINT_COLOURS", "POINT_LABELS"]

POINT_COLOURS = {
    "common_cause": COLOURS["common_cause"],
    "special_cause_improvement": COLOURS["improvement"],
    "special_cause_concern": COLOURS["concern"],
    "special_cause_neutral_high": COLOURS["neutral"],
    "special_cause_neutral_low": COLOURS["neutral"],
}
POINT_LABELS = {
    "common_cause": "common cause",
    "special_cause_improvement": "special cause: improvement",
    "special_cause_concern": "special cause: concern",
    "special_cause_neutral_high": "special cause: neither better nor worse",
    "special_cause_neutral_low": "special cause: neither better nor worse",
}


def plot_chart(chart, ax=None, *, title: str | None = None, ylabel: str | None = None, note: str | None = None,
               icons: bool = True, figsize: tuple[float, float] = (9.5, 4.9)):
    """Draw a fitted `XmRChart` (values in their own units by month); returns the Axes."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        width, height = figsize
        # fixed margins in inches, room for the y labels, the title and icons above and the legend
        # and notes below: the saved PNG is cropped to what is drawn (outcomes.figures.png), so a
        # spare margin costs nothing, where tight_layout's measuring took 0.13 s a chart
        fig.subplots_adjust(left=1.1 / width, right=1 - 0.3 / width, top=1 - 1.1 / height, bottom=1.5 / height)
    table = chart.table_
    for _, part in table.groupby("segment", sort=True):
        months = part["month"]
        ax.plot(months, part["value"], "-", color=COLOURS["line"], linewidth=1.5, zorder=2)
        ax.plot(months, part["mean"], "-", color=COLOURS["mean"], linewidth=1.2, zorder=1)
        for limit in ("lpl", "upl"):
            ax.plot(months, part[limit], "--", color=COLOURS["limit"], linewidth=1.2, zorder=1)
    if chart.target is not None:
        ax.plot(table["month"], np.full(len(table), chart.target), "--", color=COLOURS["target"], linewidth=1.2,
                zorder=1, label=f"target ({chart.target:g})")
    drawn = set()
    for point_type, colour in POINT_COLOURS.items():
        chosen = table[table.point_type == point_type]
        if chosen.empty:
            continue
        label = POINT_LABELS[point_type]
        ax.plot(chosen["month"], chosen["value"], "o", color=colour, markersize=5, zorder=3,
                label=None if label in drawn else label)
        drawn.add(label)
    ax.plot([], [], "-", color=COLOURS["mean"], linewidth=1.2, label="mean")
    ax.plot([], [], "--", color=COLOURS["limit"], linewidth=1.2, label="process limits")
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, loc="left", pad=12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    notes = [note] if note else []
    if table["trial_limits"].any():
        notes.append("Trial limits: a segment has fewer than 13 points.")
    if notes:
        ax.annotate("\n".join(notes), xy=(0, -0.3), xycoords="axes fraction", va="top", ha="left", fontsize=8,
                    color="#425563")
    if icons:  # at the top right, the assurance icon (if there is a target) rightmost
        shown = [(kind, key) for kind, key in (("variation", chart.variation_), ("assurance", chart.assurance_)) if key]
        for k, (kind, key) in enumerate(shown):
            inset = ax.inset_axes([1.0 - (len(shown) - k) * 0.075, 1.01, 0.07, 0.16])
            draw_icon(inset, kind, key)
    return ax
