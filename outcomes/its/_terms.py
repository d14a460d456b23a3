"""Design terms of an interruption: level and slope columns and the rows a transition window leaves out.

Shared by the design (``_design``) and the placebo refits (``_result``), so neither imports the other.
"""

from __future__ import annotations

import numpy as np

def programme_terms(time: np.ndarray, start: int, transition: int, method: str):
    """Level and slope terms of the programme interruption at ``start`` (periods since series start).

    Returns (post, time_post, in_fit). ``post`` is 0 before the interruption and 1 once the
    transition window (``transition`` periods from ``start``) is over; with ``method='ramp'`` it
    rises 1/(w+1), 2/(w+1), ... through the window. ``time_post`` counts periods since the end of
    the window (0 in the first full period). ``in_fit`` is False in an excluded window.
    """
    full = start + transition
    post = (time >= full).astype(float)
    time_post = np.where(time >= full, time - full, 0).astype(float)
    window = (time >= start) & (time < full)
    in_fit = np.ones(len(time), dtype=bool)
    if transition and method == "ramp":
        post[window] = (time[window] - start + 1) / (transition + 1)
    elif transition:
        in_fit = ~window
    return post, time_post, in_fit
