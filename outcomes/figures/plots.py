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
    markers=None,
    ax=None,
):
    """A monthly series with the interruption marked.

    `data` has one row per month: `x` (dates or monthly periods) and the observed `y`; optionally
    model columns `fitted` (the segmented model's fit), `counterfactual` (the pre-go-live trend
    carried on) and an interval `lower`/`upper` around the counterfactual. `go_live` draws a
    dashed line; `transition_months` shades the transition after it; `markers` ({label: date}, e.g.
    `Programme.markers()`: COVID-19 and the programme's other components) are vertical lines named
    in the legend, drawn where they fall within the series. The legend sits outside the axes, to
    the right, so it never covers the data. Returns the Axes.
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
        ax.axvline(start, color=NHS["dark_grey"], linestyle=":", linewidth=1.5, zorder=1,
                   label=f"go-live ({start:%b %Y})")  # named in the legend: no text over the data
        if transition_months:
            ax.axvspan(start, pd.Timestamp(add_months(start, transition_months)), color=NHS["pale_grey"], alpha=.8, zorder=0,
                       label="transition")
    mark_events(ax, markers or {}, when.min(), when.max())
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("")
    _label(ax, ylabel, title)
    legend_outside(ax)
    return ax


def mark_events(ax, events, first=None, last=None) -> None:
    """Vertical lines at `events` ({label: date}: COVID-19, programme components) named in the
    legend as "label (Mon YYYY)", those after `first` and up to `last` (default: the x limits)."""
    if first is None or last is None:
        import matplotlib.dates as mdates

        low, high = (mdates.num2date(x).replace(tzinfo=None) for x in ax.get_xlim())
        first, last = first if first is not None else low, last if last is not None else high
    first, last = _as_datetime(first), _as_datetime(last)
    styles = iter([("-.", NHS["dark_grey"]), ("--", NHS["purple"]), (":", NHS["dark_blue"]), ("-.", NHS["orange"])])
    for name, at in events.items():
        at = _as_datetime(at)
        if first < at <= last:
            style, colour = next(styles, ("-.", NHS["dark_grey"]))
            ax.axvline(at, color=colour, linestyle=style, linewidth=1.2, zorder=1, label=f"{name} ({at:%b %Y})")


def legend_outside(ax, **options):
    """The axes' legend outside it, to the right (top-aligned), where it cannot cover the data."""
    options = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0, "fontsize": 9,
               "frameon": False, **options}
    return ax.legend(**options)


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
    _label(ax, ylabel, title)
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
    _label(ax, ylabel, title)
    ax.legend(fontsize=9)
    return ax


def _label(ax, ylabel: str | None, title: str | None) -> None:
    """The y-axis label and the title, each where given."""
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)


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
    return problems + overlapping(fig, renderer)


def _is_span(artist, ax) -> bool:
    """A shaded span or reference line across the whole axes (axvspan, axvline, axhline...): drawn
    with an axes-coordinate side, it is background, not data."""
    transform = artist.get_data_transform() if hasattr(artist, "get_data_transform") else artist.get_transform()
    return transform in (ax.get_xaxis_transform(), ax.get_yaxis_transform(), ax.transAxes)


def _data_paths(ax, with_reference_lines: bool):
    """(label, path in display pixels, filled) of the plotted data of `ax`: lines (and, with
    `with_reference_lines`, axvline/axhline), bars and other patches, bands and markers."""
    from matplotlib.collections import PathCollection

    for line in ax.lines:
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        if _is_span(line, ax) and not with_reference_lines:
            continue
        path = line.get_transform().transform_path(line.get_path())
        if line.get_linestyle() in ("None", "none", "") or len(line.get_xydata()) == 1:
            from matplotlib.path import Path

            for point in path.vertices:  # markers only (an error bar's caps): points, not the polygon they outline
                yield line.get_label(), Path([point, point]), True
            continue
        yield line.get_label(), path, False
    for patch in ax.patches:
        if patch.get_visible() and not _is_span(patch, ax):
            yield patch.get_label(), patch.get_transform().transform_path(patch.get_path()), True
    for collection in ax.collections:
        if not collection.get_visible() or _is_span(collection, ax):
            continue
        if isinstance(collection, PathCollection):  # markers: their positions
            from matplotlib.path import Path

            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            for point in offsets:
                yield collection.get_label(), Path([point, point]), True
            continue
        for path in collection.get_paths():
            yield collection.get_label(), collection.get_transform().transform_path(path), True


def _shrunk(box, pixels: float = 1.5):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(box.x0 + pixels, box.y0 + pixels, box.x1 - pixels, box.y1 - pixels)


def _hits(path, box, filled: bool) -> bool:
    vertices = path.vertices
    if len(vertices) and ((vertices[:, 0] > box.x0) & (vertices[:, 0] < box.x1) &
                          (vertices[:, 1] > box.y0) & (vertices[:, 1] < box.y1)).any():
        return True
    return bool(path.intersects_bbox(box, filled=filled))


def overlapping(fig, renderer) -> list[str]:
    """Legends and texts placed over plotted data or over each other, measured from the drawn
    artists' boxes (pixels, shrunk by 1.5 px so touching is not overlapping): a legend over a
    line, bar, band, marker or reference line of its axes (a figure legend: of any axes); an
    annotation (`ax.text`, `ax.annotate`) over plotted data, a legend, or another text."""
    from matplotlib.legend import Legend

    problems = []
    legends = [(ax.get_legend(), [ax]) for ax in fig.axes if isinstance(ax.get_legend(), Legend)]
    legends += [(legend, list(fig.axes)) for legend in fig.legends]
    boxes = []  # (what, box) of every legend and annotation, for text-on-text
    for legend, axes in legends:
        if not legend.get_visible():
            continue
        box = _shrunk(legend.get_window_extent(renderer))
        boxes.append(("the legend", box))
        for ax in axes:
            for label, path, filled in _data_paths(ax, with_reference_lines=True):
                if _hits(path, box, filled):
                    problems.append(f"the legend lies over plotted data ({label or 'unlabelled'}) in {_axes_name(ax)}")
                    break
    for ax in fig.axes:
        for text in ax.texts:
            if not text.get_visible() or not text.get_text().strip():
                continue
            box = _shrunk(text.get_window_extent(renderer))
            if box.width <= 0 or box.height <= 0:
                continue
            what = f"text {text.get_text()!r}"
            for label, path, filled in _data_paths(ax, with_reference_lines=False):
                if _hits(path, box, filled):
                    problems.append(f"{what} lies over plotted data ({label or 'unlabelled'}) in {_axes_name(ax)}")
                    break
            for other, other_box in boxes:
                if box.overlaps(other_box):
                    problems.append(f"{what} overlaps {other}")
            boxes.append((what, box))
    return problems


def _axes_name(ax) -> str:
    return f"the axes {ax.get_title()!r}" if ax.get_title() else "an axes"
