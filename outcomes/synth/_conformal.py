"""Conformal inference for a synthetic control: Chernozhukov, Wuethrich & Zhu (2021).

"An exact and robust conformal inference method for counterfactual and synthetic controls",
JASA 116(536): 1849-1864 (the method of R's ``scinference`` and pysyncon's ``ConformalInference``).

To test the null that the effect in post-period t is theta: subtract theta from the treated value
in t, so that under the null the treated series is its own no-programme path; refit the weights on
the pre-period *and* t together (the same estimator, every period entering it alike); take the
residuals u_s = y_s - synthetic_s over those T0 + 1 periods. Under the null they are exchangeable
(the estimator is stable and the errors stationary), so the p-value is the share of periods whose
|u_s| is at least |u_t|: p(theta) = #{s: |u_s| >= |u_t|} / (T0 + 1). The confidence interval is
every theta with p(theta) > alpha, found by test inversion: a grid around the estimate in steps of
half the pre-period RMSPE, widened until both ends are rejected, each edge refined by bisection to
1/200 of the RMSPE. The smallest attainable p-value is 1 / (T0 + 1), so a 95% interval needs at
least 19 pre-periods (fewer give an unbounded interval, with a warning).

A span of periods (the cumulative effect) is tested as a constant per-period effect c over its
T* periods: subtract c in each, refit on pre-period + span, and compare S = |sum of the span's
residuals| / sqrt(T*) with the same statistic over the T0 + T* moving-block (cyclic) permutations
of the residuals (CWZ's moving-block scheme, which keeps serial dependence within blocks). The
interval for c times T* is the interval for the cumulative effect: an average effect held constant
over the span, not a bound on each period.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

Solver = Callable[[np.ndarray, np.ndarray], np.ndarray]
_TIE = 1e-9


def period_p_value(solve: Solver, y_pre, Y_pre, y_t: float, Y_t, theta: float) -> float:
    """p-value of H0: effect = ``theta`` in one post period (refit on pre-period + that period)."""
    yy = np.r_[y_pre, y_t - theta]
    YY = np.vstack([Y_pre, Y_t])
    u = np.abs(yy - YY @ solve(YY, yy))
    return float(np.mean(u >= u[-1] * (1 - _TIE)))


def span_p_value(solve: Solver, y_pre, Y_pre, y_span, Y_span, c: float) -> float:
    """p-value of H0: a constant effect ``c`` in every period of a span (moving-block permutations)."""
    yy = np.r_[y_pre, y_span - c]
    YY = np.vstack([Y_pre, Y_span])
    u = yy - YY @ solve(YY, yy)
    n, k = len(u), len(y_span)
    # block sums of every cyclic shift: the last k periods of the series rotated by j
    ext = np.r_[u, u[:k]]
    sums = np.abs(np.convolve(ext, np.ones(k), mode="valid")[:n])
    stat = sums[n - k]  # the span itself (unshifted)
    return float(np.mean(sums >= stat * (1 - _TIE)))


def invert(p_value: Callable[[float], float], center: float, scale: float, alpha: float,
           max_scales: float = 1e4) -> tuple[float, float]:
    """The interval {theta: p(theta) > alpha} around ``center``, as described in the module docstring."""
    step = scale / 2
    tol = scale / 200
    k = 16
    cache: dict[float, bool] = {}

    def accepted(x: float) -> bool:
        if x not in cache:
            cache[x] = p_value(x) > alpha
        return cache[x]

    while True:
        grid = center + step * np.arange(-k, k + 1)
        ok = np.array([accepted(x) for x in grid])
        if not ok.any():
            return (np.nan, np.nan)
        lo_i, hi_i = int(np.argmax(ok)), len(ok) - 1 - int(np.argmax(ok[::-1]))
        if lo_i > 0 and hi_i < len(ok) - 1:
            break
        if step * k > max_scales * scale:
            warnings.warn("the conformal interval is unbounded at this level (too few pre-periods, or a poor "
                          "pre-period fit)", stacklevel=4)
            lo = -np.inf if lo_i == 0 else grid[lo_i]
            hi = np.inf if hi_i == len(ok) - 1 else grid[hi_i]
            return (lo, hi)
        k *= 4

    def edge(inside: float, outside: float) -> float:
        while abs(outside - inside) > tol:
            mid = (inside + outside) / 2
            if accepted(mid):
                inside = mid
            else:
                outside = mid
        return inside

    return edge(grid[lo_i], grid[lo_i - 1]), edge(grid[hi_i], grid[hi_i + 1])
