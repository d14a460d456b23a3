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
design). ``component_effects(at=...)`` gives each component's level and slope change, relative
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

from ._design import InterruptedTimeSeries
from ._errors import ITSInputError
from ._result import Diagnostics, ITSResult, PlaceboResult
from ._sentence import effect_sentence, period_words
from ._terms import Component

__all__ = ["InterruptedTimeSeries", "ITSResult", "ITSInputError", "Component", "Diagnostics", "PlaceboResult",
           "effect_sentence", "period_words"]
