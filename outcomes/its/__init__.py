"""Interrupted time series: segmented regression on statsmodels, for plain pandas frames.

One object per analysis: :class:`InterruptedTimeSeries` owns the data, design and formula;
``fit()`` returns an :class:`ITSResult` with ``summary`` (a DataFrame), ``effect()``,
``counterfactual()``, ``diagnostics()``, ``placebo()`` and ``plot()`` (returns Axes).

Model (single series, monthly or yearly periods ``time`` = 0, 1, ...)::

    g(E y_t) = b0 + b1 time + b2 post + b3 time_post [+ extra interruptions] [+ seasonality] [+ log offset]

``post`` = 1 from the interruption, ``time_post`` = periods since it (0 at the interruption), so
b1 is the pre-period slope, b2 the level change and b3 the slope change (Linden's ``_t``,
``_x``, ``_x_t``). A controlled design stacks a comparison series and interacts every term with
``treated``. The counterfactual removes only the programme terms.

Components: a programme that came in pieces takes ``components=[Component("picu", "2016-06"),
Component("covid", "2020-03", programme=False)]``: each its own start, transition window and
level and slope terms; programme components are removed from the counterfactual (any chosen set:
``effect(remove=...)``), context stays in it (and is shared by both series of a controlled
design). ``Component(..., slope=False)`` is a level change only, the trend running on through it
(for a step response and a stretch too short to estimate a trend of its own).
``component_effects(at=...)`` gives each component's level and slope change, relative
effect at ``at`` and cumulative effect with CIs, and the combined programme effect;
``effect_summary("CYP bed days", at="2020-02")`` says the effect in one sentence with its CI.

Variance: the default ``cov_type="ar1"`` models AR(1) errors with rho chosen by REML and fits
statsmodels GLS (gaussian) or GEE with that AR(1) working correlation (count families). It is
the default because it is the option that kept the 95% interval for the level change at 93-95%
in a simulation of 120-month series with AR(1) errors (rho 0 and 0.5), where Newey-West HAC
gave 84-92% and naive OLS fell to 75% (``benchmarks/its_coverage.py``). ``cov_type="newey"``
reproduces Stata ``newey``/``itsa``: OLS (or GLM) coefficients, Bartlett HAC with ``maxlags``
(statsmodels ``cov_type="HAC"``, ``use_correction=True`` for the N/(N-k) factor, ``use_t=True``
with N-k df; for stacked controls ``"hac-panel"`` so lags stay within units).

Which to use. AR(1) GLS re-weights the periods, so it moves the point estimates, not only the
intervals: for Proposition 99 (31 years, residual rho at its 0.98 bound) the level change is
-5.9 packs under the default against Linden's -20.06 under OLS with Newey-West (notebook 07 shows
both). Use the default when the residuals are autocorrelated but stationary around the segmented
trend (rho well inside (-1, 1)) and the series is long enough to estimate rho (about 50+
periods): its intervals then hold their level where HAC's are too narrow. Use ``"newey"`` to
reproduce published OLS/GLM analyses, for short yearly series, and when the AR(1) parameter is at
its bound (a warning says so): the errors are then closer to a random walk than to AR(1) and GLS
differencing changes what the level change means.

What the intervals do not carry (``benchmarks/its_coverage.py``, 100 series per scenario, rho 0
and 0.5: coverage of the relative effect at month 12 after the transition, with COVID-19 simulated
as a dip and rebound while the model fits it as a level and slope change). Model error is not in
them, and the default falls short of 92-98% where the model is wrong:

* a component a year before the go-live: the default covered 99-100% (conservative: its intervals
  are wide, REML rho absorbs the COVID-19 misfit), Newey-West 73-83%, naive 93-99%;
* a go-live after COVID-19 (January 2021, in the rebound): every estimator was biased by -0.51 to
  -0.57 on the relative scale and covered 0-7%. A level-and-slope COVID-19 term cannot tell a
  programme from the end of the rebound, so a post-COVID go-live needs a comparison series (a
  controlled design, as notebook 08 uses) or a COVID-19 model that fits the dip and rebound; a
  wider interval would not mend it;
* bed days (monthly sums of log-normal stays, median 40 days, errors far from AR(1) white noise):
  the default covered 88-90% with a bias of -0.12 (stays admitted before the go-live carry over
  into the months after the transition window, a lagged response the model does not have);
  Newey-West 64-68%, naive 38-50%. Read a bed-day effect's interval as somewhat too narrow, and
  its size as somewhat too large; better, model the flow (``outcomes.flow``: an admissions ITS
  times lengths of stay before and after). On extracts of about 26 admissions a month falling 25%,
  stays unchanged (100 per rho, ``flow_scenario``), the bed-day ITS covered 97-98% with a median
  width of 0.55-0.56 and excluded no change in 29-30% of them; the flow on a level-only admissions
  ITS (``slope=False``) covered 96% with 0.44-0.46 and 48%; the admissions ITS alone, the floor,
  0.41-0.44.

Example (runs as is)::

    import numpy as np, pandas as pd
    from outcomes.its import InterruptedTimeSeries

    rng = np.random.default_rng(1)
    month = pd.date_range("2014-01-01", periods=120, freq="MS")
    t = np.arange(120)
    population = np.full(120, 250_000)
    rate = np.exp(np.log(4e-3) + 0.002 * t + np.log(0.8) * (month >= "2019-01-01")
                  + 0.1 * np.sin(2 * np.pi * t / 12))
    df = pd.DataFrame({"month": month, "population": population,
                       "bed_days": rng.poisson(rate * population)})
    its = InterruptedTimeSeries(df, outcome="bed_days", date="month", interruption="2019-01",
                                family="quasipoisson", offset="population", seasonality=2)
    res = its.fit()
    print(res.formula)      # bed_days ~ time + post + time_post + sin1 + cos1 + sin2 + cos2
    print(res.summary)      # rate ratios: level_change near 0.8
    print(res.effect(at="2023-12", cumulative_from="2019-01"))
    ax = res.plot()
"""

from importlib import import_module
from typing import TYPE_CHECKING

from ._errors import ITSInputError, ITSNotEstimable
from ._sentence import effect_sentence, period_words
from ._terms import Component

if TYPE_CHECKING:
    from ._design import InterruptedTimeSeries
    from ._result import Diagnostics, ITSResult, PlaceboResult

__all__ = ["InterruptedTimeSeries", "ITSResult", "ITSInputError", "ITSNotEstimable", "Component", "Diagnostics", "PlaceboResult",
           "effect_sentence", "period_words"]

#: names whose modules import statsmodels (about 3-6 s here): loaded on first use, so that
#: `from outcomes.its import ITSInputError, period_words` costs nothing
_LAZY = {"InterruptedTimeSeries": "._design", "ITSResult": "._result", "Diagnostics": "._result",
         "PlaceboResult": "._result"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
