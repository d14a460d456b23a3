"""Donor weights: the least-squares problems a synthetic control solves, on scipy's NNLS.

All three are solved with :func:`scipy.optimize.nnls` (Lawson-Hanson active set, scipy >= 1.12):

* :func:`simplex_weights` - the classic form (Abadie, Diamond & Hainmueller 2010): min ||y - X w||^2
  with w >= 0 and sum(w) = 1. The equality is imposed as one extra row, ``M (1'w - 1)``, weighted
  ``M`` = 1e4 times the largest column norm over sqrt(rows), which holds sum(w) to 1 within about 1e-10;
  the weights are then divided by their sum. On Proposition 99 this agrees with scipy's SLSQP to
  4e-7 in every weight.
* :func:`nonnegative_weights` - the count form (Bonander 2021): w >= 0 with no sum, optionally
  penalised towards an anchor (the classic weights): min ||y - X w||^2 + lam ||w - anchor||^2, solved
  as NNLS on ``[X; sqrt(lam) I] w ~ [y; sqrt(lam) anchor]``.
* :func:`choose_penalty` - Bonander's hold-out choice of ``lam``: leave each pre-period out in turn,
  refit (anchor included) and keep the penalty with the smallest mean squared prediction error.

Rows are periods (or predictors), columns donors. Every function takes and returns numpy arrays.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, nnls

#: relative penalties tried by :func:`choose_penalty` (times mean squared column norm of X)
PENALTY_GRID = np.r_[0.0, np.logspace(-6, 2, 17)]
_SUM_WEIGHT = 1e4


def simplex_weights(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights on the simplex (non-negative, summing to one) minimising ||y - X w||^2."""
    n, k = X.shape
    if k == 1:
        return np.ones(1)
    big = _SUM_WEIGHT * max(float(np.sqrt((X**2).sum(axis=0)).max()), float(np.linalg.norm(y)), 1e-12) / np.sqrt(n)
    A = np.vstack([X, np.full(k, big)])
    b = np.r_[y, big]
    w, _ = nnls(A, b, maxiter=50 * k)
    total = w.sum()
    return w / total if total > 0 else np.full(k, 1.0 / k)


def _scale(X: np.ndarray) -> float:
    """Mean squared column norm of X: the unit a relative penalty is multiplied by."""
    return float(np.mean((X**2).sum(axis=0))) or 1.0


def nonnegative_weights(X: np.ndarray, y: np.ndarray, penalty: float = 0.0, anchor: np.ndarray | None = None) -> np.ndarray:
    """Non-negative weights (any sum) minimising ||y - X w||^2 + lam ||w - anchor||^2, with
    lam = ``penalty`` x mean squared column norm of X (so ``penalty`` is scale-free)."""
    k = X.shape[1]
    if penalty > 0:
        anchor = simplex_weights(X, y) if anchor is None else anchor
        root = np.sqrt(penalty * _scale(X))
        X = np.vstack([X, root * np.eye(k)])
        y = np.r_[y, root * anchor]
    w, _ = nnls(X, y, maxiter=50 * k)
    return w


def choose_penalty(X: np.ndarray, y: np.ndarray, grid: np.ndarray = PENALTY_GRID) -> float:
    """The relative penalty with the smallest leave-one-period-out prediction error (first on ties)."""
    n = X.shape[0]
    errors = np.zeros(len(grid))
    for t in range(n):
        keep = np.arange(n) != t
        Xk, yk = X[keep], y[keep]
        anchor = simplex_weights(Xk, yk)
        for i, lam in enumerate(grid):
            w = nonnegative_weights(Xk, yk, lam, anchor)
            errors[i] += (y[t] - X[t] @ w) ** 2
    return float(grid[int(np.argmin(errors))])


def predictor_weights(P1: np.ndarray, P0: np.ndarray, y: np.ndarray, Y: np.ndarray, solve) -> tuple[np.ndarray, np.ndarray]:
    """Abadie, Diamond & Hainmueller's nested choice of predictor importances V.

    ``P1`` (k,) and ``P0`` (k, J): the treated unit's and donors' predictors, already standardised;
    ``y`` (T0,) and ``Y`` (T0, J): the pre-period outcome path. For V = softmax(theta) the weights
    minimise sum_i V_i (P1_i - P0_i w)^2 (``solve(X, y)``); V is chosen (Nelder-Mead from equal
    importances, scipy) to minimise the pre-period outcome MSPE. Returns (V, weights).
    """
    k = P0.shape[0]

    def weights(theta):
        v = np.exp(theta - theta.max())
        v /= v.sum()
        root = np.sqrt(v)[:, None]
        return v, solve(root * P0, root[:, 0] * P1)

    def loss(theta):
        return float(np.mean((y - Y @ weights(theta)[1]) ** 2))

    if k == 1:
        return np.ones(1), weights(np.zeros(1))[1]
    best = minimize(loss, np.zeros(k), method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-10, "maxiter": 400 * k})
    return weights(best.x)
