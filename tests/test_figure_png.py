"""outcomes.figures.png: one draw gives the PNG savefig(bbox_inches="tight") writes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from outcomes.figures import plots  # noqa: E402
from outcomes.figures.png import save_png, show_saved  # noqa: E402


def _pixels(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _unmatched(image, reference):
    """Share of `image`'s pixels more than 64 levels from every pixel within one of the same place
    in `reference`."""
    height, width = image.shape[:2]
    image, reference = image[1:height - 1, 1:width - 1], reference[:height, :width]
    nearest = np.min([np.abs(image - reference[1 + dy:height - 1 + dy, 1 + dx:width - 1 + dx]).max(axis=2)
                      for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=0)
    return np.mean(nearest > 64)


def _line_figure(title):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(range(12), [3, 5, 4, 6, 8, 7, 9, 8, 10, 12, 11, 13])
    ax.set_title(title)
    ax.set_ylabel("bed days per month")
    return fig


@pytest.mark.parametrize("title", ["Bed days", "A long title that reaches well past the right edge of the axes"])
def test_a_figure_inside_its_area_is_savefig_tight_to_within_a_pixel(tmp_path, title):
    plots.use_house_style()
    saved = save_png(_line_figure(title), tmp_path / "once.png", dpi=150)
    _line_figure(title).savefig(tmp_path / "tight.png", dpi=150, bbox_inches="tight", facecolor="white")
    once, tight = _pixels(saved.path), _pixels(tmp_path / "tight.png")
    assert once.shape == tight.shape and (saved.width, saved.height) == (once.shape[1], once.shape[0])
    # the crop is drawn at a whole-pixel offset, savefig at a fractional one (under half a pixel
    # away), so anti-aliased edges differ by shades: every pixel must match one of its neighbours
    assert _unmatched(once, tight) < 0.005
    other = _line_figure(title)
    other.axes[0].lines[0].set_ydata(list(range(13, 1, -1)))  # the same figure with the line reversed
    other.savefig(tmp_path / "other.png", dpi=150, bbox_inches="tight", facecolor="white")
    assert _unmatched(once, _pixels(tmp_path / "other.png")) > 0.005  # which the check tells apart
    assert saved.unreadable == [] and saved.dpi == 150 and saved.figure_dpi == plt.rcParams["figure.dpi"]


def test_a_legend_below_the_figure_is_kept_as_savefig_keeps_it(tmp_path):
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], label="observed")
    fig.legend(loc="upper center", bbox_to_anchor=(0.5, -0.05))  # wholly below the figure's area
    saved = save_png(fig, tmp_path / "legend.png")
    fig.savefig(tmp_path / "tight.png", dpi=150, bbox_inches="tight", facecolor="white")
    assert Image.open(saved.path).size == Image.open(tmp_path / "tight.png").size
    assert saved.height > 3 * 150  # taller than the figure: the canvas grew to show the legend


def test_text_cut_off_is_found_on_the_same_draw_and_the_figure_is_left_as_it_was(tmp_path):
    fig = _line_figure("x")
    fig.axes[0].annotate("far outside", (0.5, 0.5), xytext=(5000, 0), textcoords="offset points")
    face, dpi = fig.get_facecolor(), fig.dpi
    saved = save_png(fig, tmp_path / "cut.png", dpi=120)
    assert saved.unreadable == plots.unreadable_text(fig) != []
    assert fig.dpi == dpi and fig.get_facecolor() == face


def test_outside_a_kernel_nothing_is_shown_and_the_figure_stays_open(tmp_path):
    fig = _line_figure("x")
    assert show_saved(fig, save_png(fig, tmp_path / "x.png")) is False
    assert plt.fignum_exists(fig.number)


def test_one_draw(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    passes = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (passes.append(1), draw(self, renderer))[1])
    save_png(_line_figure("x"), tmp_path / "x.png")
    assert len(passes) == 1  # savefig(bbox_inches="tight") and a text check on its own would take four


def test_padding_past_the_figure_edge_is_white_as_savefig_makes_it(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.arange(12).reshape(3, 4), aspect="auto")
    ax.set_axis_off()
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)  # drawn to the edges: the padding lies outside
    saved = save_png(fig, tmp_path / "edge.png")
    fig.savefig(tmp_path / "tight.png", dpi=150, bbox_inches="tight", facecolor="white")
    once, tight = _pixels(saved.path), _pixels(tmp_path / "tight.png")
    assert once.shape == tight.shape and once.shape[1] > 4 * 150  # wider than the figure: padded
    assert (once[:5] == 255).all() and (once[:, :5] == 255).all()  # white margins, as savefig's
    assert _unmatched(once, tight) < 0.005
