"""outcomes.figure_png: one layout and one draw give the PNG savefig(bbox_inches="tight") writes."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from outcomes import plots  # noqa: E402
from outcomes.figure_png import save_png, show_saved  # noqa: E402


def _pixels(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _line_figure(title):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(range(12), [3, 5, 4, 6, 8, 7, 9, 8, 10, 12, 11, 13])
    ax.set_title(title)
    ax.set_ylabel("bed days per month")
    return fig


@pytest.mark.parametrize("title", ["Bed days", "A long title that reaches well past the right edge of the axes"])
def test_the_png_is_the_one_savefig_tight_writes(tmp_path, title):
    plots.use_house_style()
    saved = save_png(_line_figure(title), tmp_path / "once.png", dpi=150)
    _line_figure(title).savefig(tmp_path / "tight.png", dpi=150, bbox_inches="tight", facecolor="white")
    once, tight = _pixels(saved.path), _pixels(tmp_path / "tight.png")
    assert once.shape == tight.shape and (saved.width, saved.height) == (once.shape[1], once.shape[0])
    assert np.array_equal(once, tight)  # the same file savefig(bbox_inches="tight") writes, from one draw
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


def test_one_layout_pass_and_one_draw(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    passes = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: (passes.append(1), draw(self, renderer))[1])
    save_png(_line_figure("x"), tmp_path / "x.png")
    assert len(passes) == 2  # savefig(bbox_inches="tight") and a text check on its own would take four
