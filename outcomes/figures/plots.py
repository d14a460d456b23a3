"""The house style for figures: NHS colours, plain axes, and the two figures every report draws.

>>> from outcomes.figures import plots
>>> plots.use_house_style()                                              # once, at the top of a notebook
>>> ax = plots.monthly_series(frame, y="bed_days", go_live="2017-10-01",  # doctest: +SKIP
...                           transition_months=6, fitted="fitted", counterfactual="counterfactual",
...                           title="Out-of-area bed days", ylabel="bed days per month")
>>> ax = plots.before_after_bars(summary, category="measure", before="before", after="after")  # doctest: +SKIP

Helpers take pandas objects and return the matplotlib Axes (as lifelines' `.plot()` does), so a
notebook can add to them. Save figures for the report with `outcomes.results.record_figure`.
Figures are drawn with the Agg renderer (PNG): outside a Jupyter kernel the backend is set to Agg,
inside one the inline backend (which renders with Agg) is kept. Draw only disclosure-controlled
numbers: the checker cannot read pixels.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import matplotlib

from outcomes.dates import add_months, as_date

__all__ = ["NHS", "PALETTE", "HOUSE_STYLE", "use_house_style", "monthly_series", "before_after_bars", "before_after_panels",
           "unreadable_text", "unreadable_in_area"]

#: NHS identity colours (https://www.england.nhs.uk/nhsidentity/identity-guidelines/colours/)
NHS = {
    "blue": "#005EB8",
    "dark_blue": "#003087",
    "bright_blue": "#0072CE",
    "light_blue": "#41B6E6",
    "aqua_green": "#00A499",
    "warm_yellow": "#FFB81C",
    "orange": "#ED8B00",
    "red": "#DA291C",
    "purple": "#330072",
    "dark_grey": "#425563",
    "mid_grey": "#768692",
    "pale_grey": "#E8EDEE",
}
#: the order colours are used in: distinguishable, and dark enough on white
PALETTE = [NHS[c] for c in ("blue", "orange", "aqua_green", "purple", "red", "dark_grey", "light_blue", "warm_yellow")]


def _in_kernel() -> bool:
    return "ipykernel" in sys.modules


def _headless() -> None:
    if not _in_kernel() and "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")


#: the house style as matplotlib settings (seaborn's "whitegrid" look, without importing seaborn,
#: which costs seconds per notebook; seaborn plots drawn afterwards pick these up)
HOUSE_STYLE = {
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.facecolor": "white",
    "axes.edgecolor": NHS["mid_grey"],
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.labelcolor": NHS["dark_grey"],
    "axes.labelsize": 11,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.color": NHS["pale_grey"],
    "grid.linewidth": 1.0,
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "Liberation Sans", "DejaVu Sans"],
    "font.size": 11,
    "xtick.color": NHS["dark_grey"],
    "ytick.color": NHS["dark_grey"],
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.frameon": False,
    "legend.fontsize": 10,
    "lines.linewidth": 2,
    "figure.facecolor": "white",
    "figure.figsize": (8, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "savefig.facecolor": "white",
    "svg.hashsalt": "outcomes",  # reproducible SVG ids
}


def use_house_style(font_scale: float = 1.0) -> None:
    """Apply the house style to every later figure: white grid, NHS palette, readable sizes."""
    _headless()
    style = dict(HOUSE_STYLE)
    for key in ("axes.labelsize", "axes.titlesize", "font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        style[key] = style[key] * font_scale
    matplotlib.rcParams.update(style)


def _as_datetime(value):
    import pandas as pd

    return None if value is None else pd.Timestamp(as_date(value))


def monthly_series(
    data,
    y: str,
    *,
    x: str = "month",
    go_live: str | dt.date | None = None,
    transition_months: int = 0,
    fitted: str | None = None,
    counterfactual: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    label: str = "observed",
    ax=None,
):
    """A monthly series with the interruption marked.

    `data` has one row per month: `x` (dates or monthly periods) and the observed `y`; optionally
    model columns `fitted` (the segmented model's fit), `counterfactual` (the pre-go-live trend
    carried on) and an interval `lower`/`upper` around the counterfactual. `go_live` draws a
    dashed line; `transition_months` shades the transition after it. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    ax = ax or plt.subplots()[1]
    frame = data.copy()
    when = frame[x]
    if isinstance(when.dtype, pd.PeriodDtype):
        when = when.dt.to_timestamp()
    when = pd.to_datetime(when)
    ax.plot(when, frame[y], "o", color=NHS["blue"], markersize=4, label=label, zorder=3)
    if fitted is not None:
        ax.plot(when, frame[fitted], "-", color=NHS["dark_blue"], linewidth=2, label="model fit", zorder=2)
    if counterfactual is not None:
        after = when >= _as_datetime(go_live) if go_live is not None else slice(None)
        ax.plot(when[after], frame[counterfactual][after], "--", color=NHS["orange"], linewidth=2,
                label="if the pre-go-live trend had continued", zorder=2)
        if lower is not None and upper is not None:
            ax.fill_between(when[after], frame[lower][after], frame[upper][after], color=NHS["orange"], alpha=.15,
                            linewidth=0, zorder=1)
    if go_live is not None:
        start = _as_datetime(go_live)
        ax.axvline(start, color=NHS["dark_grey"], linestyle=":", linewidth=1.5, zorder=1)
        ax.annotate("go-live", xy=(start, 1), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", fontsize=9, color=NHS["dark_grey"])
        if transition_months:
            ax.axvspan(start, pd.Timestamp(add_months(start, transition_months)), color=NHS["pale_grey"], alpha=.8, zorder=0,
                       label="transition")
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize=9)
    return ax


def before_after_bars(
    data,
    *,
    category: str,
    before: str = "before",
    after: str = "after",
    before_ci: tuple[str, str] | None = None,
    after_ci: tuple[str, str] | None = None,
    labels: tuple[str, str] = ("before go-live", "after go-live"),
    title: str | None = None,
    ylabel: str | None = None,
    ax=None,
):
    """Paired bars, before and after, for each `category` (e.g. mirror-image comparisons).

    `data` has one row per category with the two values in columns `before` and `after`;
    `before_ci`/`after_ci` name (lower, upper) columns for error bars. Returns the Axes.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    ax = ax or plt.subplots()[1]
    positions = np.arange(len(data))
    width = 0.38
    for offset, column, ci, colour, text in (
        (-width / 2, before, before_ci, NHS["mid_grey"], labels[0]),
        (width / 2, after, after_ci, NHS["blue"], labels[1]),
    ):
        values = data[column].to_numpy(dtype=float)
        errors = None
        if ci is not None:
            low, high = (data[c].to_numpy(dtype=float) for c in ci)
            errors = np.vstack([values - low, high - values])
        ax.bar(positions + offset, values, width, color=colour, label=text, yerr=errors,
               error_kw={"ecolor": NHS["dark_grey"], "capsize": 3, "linewidth": 1})
    ax.set_xticks(positions, [str(c) for c in data[category]])
    ax.grid(axis="x", visible=False)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return ax


def before_after_panels(
    data,
    *,
    category: str,
    before: str = "before",
    after: str = "after",
    labels: tuple[str, ...] = ("before go-live", "after go-live"),
    title: str | None = None,
    ylabel: str | None = None,
    width: float = 3.0,
    earlier: str | None = None,
):
    """Paired bars, one panel per `category`, each with its own y axis, so that counts near 25 and
    near 600 can both be read; with `earlier` (a column), a third bar before them (e.g. a mirror
    image's pre-pre window; `labels` then names three). Missing values (redacted counts) are marked
    "suppressed" in their panel as "1-7 (suppressed)". Returns the array of Axes (one per category)."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    fig, axes = plt.subplots(1, len(data), figsize=(width * len(data), 3.6), squeeze=False)
    axes = axes[0]
    columns = [earlier, before, after] if earlier else [before, after]
    colours = ([NHS["light_blue"]] if earlier else []) + [NHS["mid_grey"], NHS["blue"]]
    ticks = (["pre-pre"] if earlier else []) + ["before", "after"]
    places = list(range(len(columns)))
    for ax, (_, row) in zip(axes, data.iterrows()):
        values = pd.to_numeric(pd.Series([row[c] for c in columns]), errors="coerce").to_numpy(dtype=float)
        ax.bar(places, np.nan_to_num(values), 0.6, color=colours)
        top = np.nanmax(values) if np.isfinite(values).any() else 1.0
        for x, value in zip(places, values):
            text = "1-7 (suppressed)" if not np.isfinite(value) else f"{value:,.0f}"
            ax.annotate(text, (x, 0 if not np.isfinite(value) else value), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=9, color=NHS["dark_grey"])
        ax.set_ylim(0, max(top, 1.0) * 1.18)
        ax.set_xticks(places, ticks)
        ax.grid(axis="x", visible=False)
        ax.set_title(str(row[category]), fontsize=11)
    if ylabel:
        axes[0].set_ylabel(ylabel)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour) for colour in colours]
    fig.legend(handles, labels, loc="lower center", ncol=len(handles), fontsize=9, bbox_to_anchor=(0.5, 0.0), frameon=False)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold", color="#212b32")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return axes


def lines_by_period(data, x: str, columns: dict[str, str], *, title: str | None = None, ylabel: str | None = None, ax=None):
    """One line per column of `columns` ({column: legend label}) over the periods in `x` (labels
    such as financial years "2017/18", in order); missing values (suppressed) are gaps. Returns the Axes."""
    import matplotlib.pyplot as plt
    import pandas as pd

    ax = ax or plt.subplots(figsize=(8, 4))[1]
    positions = range(len(data))
    for (column, label), colour in zip(columns.items(), PALETTE):
        values = pd.to_numeric(data[column], errors="coerce")
        ax.plot(list(positions), values, "o-", color=colour, label=label, linewidth=2, markersize=5)
    ax.set_xticks(list(positions), [str(v) for v in data[x]], rotation=45, ha="right")
    ax.set_ylim(bottom=0)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9)
    return ax


def _segments_cross(points, box) -> bool:
    """True if the polyline `points` (display coordinates) passes through `box`."""
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        if x0 == x1:  # vertical (a grid line)
            if box.x0 < x0 < box.x1 and min(y0, y1) < box.y1 and max(y0, y1) > box.y0:
                return True
        elif y0 == y1:  # horizontal
            if box.y0 < y0 < box.y1 and min(x0, x1) < box.x1 and max(x0, x1) > box.x0:
                return True
    return False


def unreadable_text(fig, bbox_inches: str | None = "tight") -> list[str]:
    """The texts of `fig` a reader would not see whole, described: any text (titles, labels, tick
    labels, legends, annotations) whose extent falls outside the figure as saved (with
    `bbox_inches`, as `outcomes.results.record_figure` saves it), and any legend text crossed by
    grid lines of axes drawn over it. An empty list means every text can be read."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    if bbox_inches == "tight":
        pad = matplotlib.rcParams["savefig.pad_inches"]
        area = fig.get_tightbbox(renderer).padded(pad).transformed(fig.dpi_scale_trans)
    else:
        area = fig.bbox
    return unreadable_in_area(fig, renderer, area)


def unreadable_in_area(fig, renderer, area) -> list[str]:
    """`unreadable_text` for a figure already drawn by `renderer`, saved as `area` (a Bbox in
    display pixels): what `outcomes.figures.png` uses, to check the figure from the draw it saves."""
    from matplotlib.legend import Legend
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    undrawn = set()  # labels of ticks outside an axis's view: matplotlib does not draw them
    for ax in fig.findobj(lambda artist: hasattr(artist, "get_xaxis") and hasattr(artist, "get_yaxis")):
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                loc = tick.get_loc()
                if loc is None or not (low - 1e-9 * max(1.0, abs(high - low)) <= loc <= high + 1e-9 * max(1.0, abs(high - low))):
                    undrawn.update({id(tick.label1), id(tick.label2)})
    problems = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or text.figure is None or id(text) in undrawn:
            continue
        extent = text.get_window_extent(renderer)
        if extent.width == 0 or extent.height == 0:
            continue
        if not Bbox.intersection(extent, area) or (extent.x0 < area.x0 - 0.5 or extent.x1 > area.x1 + 0.5
                                                   or extent.y0 < area.y0 - 0.5 or extent.y1 > area.y1 + 0.5):
            problems.append(f"{text.get_text()!r} is cut off at the figure's edge")
    axes = list(fig.axes)
    for index, ax in enumerate(axes):
        legend = ax.get_legend()
        if not isinstance(legend, Legend):
            continue
        above = [other for other in axes[index + 1:] if other.get_zorder() >= ax.get_zorder()]
        for entry in legend.get_texts():
            box = entry.get_window_extent(renderer)
            for other in above:
                for line in [*other.get_xgridlines(), *other.get_ygridlines()]:
                    if line.get_visible() and _segments_cross(line.get_transform().transform(line.get_xydata()), box):
                        problems.append(f"legend text {entry.get_text()!r} is crossed by a grid line of another axes")
                        break
    return problems
