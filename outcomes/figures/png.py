"""A figure drawn once: saved as PNG, checked for unreadable text and shown in the notebook.

`fig.savefig(path, bbox_inches="tight")` lays a figure out to measure its tight box, then draws it;
checking its text for `outcomes.figures.plots.unreadable_text` drew it again, and the inline backend drew
it a fourth time to show it: about 0.4 s a chart, most of the SPC dashboard's run time. Here it is
drawn once, with the Agg renderer at the saved resolution: the tight box and the text checks are
measured on that draw, and the PNG is the drawn pixels cropped to the box (padded with the white
background where the padding reaches past the figure's edge), which is savefig's picture to
within a fraction of a pixel. When something is drawn outside the figure's own area (a legend
anchored below it), cropping cannot show it: `savefig` is given the box measured, and grows the
canvas to draw it a second time. In a Jupyter kernel with the inline backend the saved PNG is
what the notebook shows (at the inline backend's size), and the figure is closed so that it is
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
    to its tight bounding box (padded by `savefig.pad_inches`), as `savefig(bbox_inches="tight")`
    would, drawing it once. The texts a reader could not see whole are measured on the same draw
    (`outcomes.figures.plots.unreadable_in_area`)."""
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from outcomes.figures.plots import unreadable_in_area

    path = Path(path)
    figure_dpi, facecolor = fig.dpi, fig.get_facecolor()
    if not isinstance(fig.canvas, FigureCanvasAgg):  # an interactive backend drawing elsewhere
        FigureCanvasAgg(fig)
    try:
        fig.set_dpi(dpi)
        fig.set_facecolor("white")
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        drawn = fig.get_tightbbox(renderer)  # inches
        box = drawn.padded(matplotlib.rcParams["savefig.pad_inches"])
        area = box.transformed(fig.dpi_scale_trans)  # display pixels, origin at the bottom left
        unreadable = unreadable_in_area(fig, renderer, area)
        pixels = np.asarray(fig.canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        inside = drawn.transformed(fig.dpi_scale_trans)
        if inside.x0 >= -0.5 and inside.y0 >= -0.5 and inside.x1 <= width + 0.5 and inside.y1 <= height + 0.5:
            left, top = round(area.x0), round(height - area.y1)  # nearest whole pixel to savefig's origin
            right, bottom = left + int(area.width), top + int(area.height)  # savefig's size: truncated
            crop = pixels[max(top, 0):min(bottom, height), max(left, 0):min(right, width)]
            # the padding may reach past the figure's edge, where savefig shows the white background
            margins = ((max(-top, 0), max(bottom - height, 0)), (max(-left, 0), max(right - width, 0)), (0, 0))
            crop = np.pad(crop, margins, constant_values=255)
            matplotlib.image.imsave(path, crop, format="png", dpi=dpi, metadata={"Software": None})
        else:  # drawn beyond the figure's edge: savefig, given the box, grows the canvas to show it
            fig.savefig(path, dpi=dpi, bbox_inches=box, facecolor="white", metadata={"Software": None})
    finally:
        fig.set_dpi(figure_dpi)
        fig.set_facecolor(facecolor)
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
