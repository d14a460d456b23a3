"""A figure drawn once: saved as PNG, checked for unreadable text and shown in the notebook.

`fig.savefig(path, bbox_inches="tight")` lays a figure out to measure its tight box, then draws it;
checking its text for `outcomes.plots.unreadable_text` drew it again, and the inline backend drew
it a fourth time to show it: about 0.4 s a chart, most of the SPC dashboard's run time. Here the
figure is laid out once (no pixels drawn), the tight box and the text checks are measured on that
layout, and `savefig` is given the box, so it draws once and measures nothing: the file is what
`savefig(bbox_inches="tight")` writes. In a Jupyter kernel with the inline backend the saved PNG
is what the notebook shows (at the inline backend's size), and the figure is closed so that it is
not drawn again.

Hand-written because matplotlib has no "save as shown" call: `savefig` always draws anew.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SavedFigure", "save_png", "show_saved"]


@dataclass(frozen=True)
class SavedFigure:
    """A PNG written from a figure: its path, size in pixels, resolution and unreadable texts."""

    path: Path
    width: int  #: pixels
    height: int  #: pixels
    dpi: float  #: pixels per inch of the PNG
    figure_dpi: float  #: the figure's own dpi (the inline backend shows it at this resolution)
    unreadable: list[str]


def save_png(fig, path: str | os.PathLike, *, dpi: float = 150) -> SavedFigure:
    """Write `fig` to `path` as a PNG at `dpi` pixels per inch, on a white background and cropped
    to its tight bounding box (padded by `savefig.pad_inches`): what `savefig(bbox_inches="tight")`
    writes, drawn once. The texts a reader could not see whole are measured on the same layout
    (`outcomes.plots.unreadable_in_area`)."""
    import matplotlib

    from outcomes.plots import unreadable_in_area

    path = Path(path)
    figure_dpi = fig.dpi
    try:
        fig.set_dpi(dpi)
        fig.draw_without_rendering()  # lays out (ticks, text, layout engine) without drawing a pixel
        renderer = fig.canvas.get_renderer()
        box = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])  # inches
        unreadable = unreadable_in_area(fig, renderer, box.transformed(fig.dpi_scale_trans))
        # given the box, savefig neither lays the figure out again nor measures it: one draw
        fig.savefig(path, dpi=dpi, bbox_inches=box, facecolor="white", metadata={"Software": None})
    finally:
        fig.set_dpi(figure_dpi)
    width, height = _png_size(path)
    return SavedFigure(path, width, height, dpi, figure_dpi, unreadable)


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) in pixels, from the PNG's header."""
    with open(path, "rb") as png:
        header = png.read(24)
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


def show_saved(fig, saved: SavedFigure) -> bool:
    """In a Jupyter kernel drawing inline, show `saved` (the PNG, at the size the inline backend
    shows figures) in place of `fig`, and close `fig` so that it is not drawn again. Elsewhere
    (a script, an interactive backend) do nothing. True if shown."""
    import sys

    import matplotlib

    if "ipykernel" not in sys.modules or "inline" not in matplotlib.get_backend():
        return False
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    display(Image(data=saved.path.read_bytes(), format="png",
                  width=round(saved.width * saved.figure_dpi / saved.dpi)))
    plt.close(fig)
    return True
