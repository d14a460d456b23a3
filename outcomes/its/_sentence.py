"""Effects as one sentence a board member reads, with the interval and the period it refers to.

In the spirit of CausalPy's ``effect_summary``, but always with the confidence interval and the
horizon, and worded by direction ("below"/"above") so that no reader has to interpret a sign:

>>> effect_sentence("CYP bed days", -0.28, -0.41, -0.12, "2020-02")
'In February 2020 CYP bed days were 28% (95% CI 12% to 41%) below what the pre-programme trend predicted.'
"""

from __future__ import annotations

import math

import pandas as pd

PRE_TREND = "what the pre-programme trend predicted"


def period_words(period) -> str:
    """'February 2020' for a month ('2020-02', a timestamp), '1995' for a year."""
    text = str(period)
    if text.isdigit():
        return text
    return pd.Timestamp(text).strftime("%B %Y")


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}%"


def effect_sentence(what: str, relative: float, lower: float, upper: float, at, *,
                    comparison: str = PRE_TREND, level: float = 0.95, since=None) -> str:
    """One sentence for a relative effect (a proportion: -0.28 is 28% below) with its CI.

    ``at`` is the period the effect refers to (the horizon); ``since`` (optional) the period a
    cumulative effect started. An interval that crosses no change is said so in words.
    """
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (relative, lower, upper)):
        return f"In {period_words(at)} the effect on {what} could not be estimated."
    direction = "below" if relative < 0 else "above"
    ci = f"{level:.0%} CI"
    if lower < 0 < upper:
        interval = f"{ci} {_pct(lower)} below to {_pct(upper)} above"
    elif relative < 0:
        interval = f"{ci} {_pct(upper)} to {_pct(lower)}"
    else:
        interval = f"{ci} {_pct(lower)} to {_pct(upper)}"
    start = f" (effect counted from {period_words(since)})" if since is not None else ""
    return f"In {period_words(at)} {what} were {_pct(relative)} ({interval}) {direction} {comparison}{start}."
