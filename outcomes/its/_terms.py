"""Interruptions and their design terms: programme components and context, level and slope columns,
and the rows a transition window leaves out.

Shared by the design (``_design``) and the placebo refits (``_result``), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def programme_terms(time: np.ndarray, start: int, transition: int, method: str):
    """Level and slope terms of an interruption at ``start`` (periods since series start).

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


@dataclass(frozen=True)
class Component:
    """One interruption of the series: a programme component or a piece of context.

    ``name`` (an identifier) labels its summary rows (``<name>_level_change``,
    ``<name>_slope_change``) and design columns (``post_<name>``, ``time_post_<name>``).
    ``start`` is its first period ("2017-10", 1989, a timestamp). ``transition`` periods from the
    start are a phase-in window, left out of the fit (``transition_method="exclude"``) or modelled
    as a linear ramp of the level change (``"ramp"``). ``programme=True`` marks a part of the
    programme: the counterfactual removes it. ``programme=False`` marks context (COVID-19, a
    policy change elsewhere): it stays in the counterfactual, and in a controlled design it is
    shared by the treated and control series. ``slope=False`` gives it a level change only (no
    slope term and no ``<name>_slope_change`` row): the trend runs on unchanged through it. Use it
    when a step is the expected response and the stretch to the next interruption is too short to
    estimate a trend of its own (a free slope there chases the noise and pulls the neighbouring
    level changes with it).
    """

    name: str
    start: object
    transition: int = 0
    transition_method: str = "exclude"
    programme: bool = True
    slope: bool = True


@dataclass(frozen=True)
class Term:
    """A component placed in a design: its period and the columns that carry it."""

    name: str
    period: int
    transition: int
    transition_method: str
    programme: bool
    level: str  # design column of the level change ("post" or "post_<name>")
    slope: str  # design column of the slope change
    rows: tuple[str, str]  # summary rows (level, slope)
    has_slope: bool = True  # False: a level change only (no slope column in the formula, no slope row)

    def design_columns(self) -> list[str]:
        """The design columns the formula carries for this component (before interaction with treatment)."""
        return [self.level, self.slope] if self.has_slope else [self.level]

    def columns(self, controlled: bool) -> list[str]:
        """The design columns the counterfactual zeroes to remove this component."""
        if controlled and self.programme:
            return [f"treated:{c}" for c in self.design_columns()]
        return self.design_columns()
