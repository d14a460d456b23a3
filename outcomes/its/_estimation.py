"""Estimation: statsmodels estimators for each family and variance option.

Every estimate comes from a statsmodels estimator (OLS, GLS, GLSAR, GLM, GEE, NegativeBinomial).
The one addition is the AR(1) parameter of the ``"ar1"`` option, chosen by restricted maximum
likelihood (REML) on the (working) linear model before statsmodels' GLS / GEE is fitted with it:
the Yule-Walker estimate that GLSAR iterates is biased towards zero in short series with a trend
and a step, and that bias is what makes its intervals too narrow (see benchmarks/its_coverage.py).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod import families
from statsmodels.genmod.cov_struct import CovStruct
from statsmodels.genmod.generalized_estimating_equations import GEE
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.regression.linear_model import GLS, GLSAR, OLS
from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

from ._errors import ITSInputError, ITSNotEstimable

FAMILIES = ("gaussian", "poisson", "quasipoisson", "negbin")
COV_TYPES = ("ar1", "newey", "glsar", "naive")
LOG_LINK = ("poisson", "quasipoisson", "negbin")


@dataclass
class Fitted:
    """A statsmodels fit plus what this module chose for it."""

    result: object  # statsmodels results
    params: pd.Series
    cov: pd.DataFrame
    df_resid: float
    rho: float | None = None  # AR(1) parameter (ar1, glsar)
    alpha: float | None = None  # negative binomial NB2 alpha
    maxlags: int | None = None  # Newey-West lag
    scale: float = 1.0


def auto_maxlags(n: int) -> int:
    """Newey-West (1994) rule of thumb: floor(4 (n / 100) ** (2 / 9)) for a series of n periods."""
    return max(1, int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0))))


class _FixedAR1(CovStruct):
    """AR(1) working correlation rho ** |t_i - t_j| with a fixed rho (gaps in time respected)."""

    def __init__(self, rho: float):
        super().__init__()
        self.dep_params = float(rho)
        self._cache: dict = {}

    def update(self, params):  # rho is chosen by REML outside GEE
        pass

    def _corr(self, index):
        if index not in self._cache:
            t = np.asarray(self.model.time_li[index], dtype=float).ravel()
            r = self.dep_params ** np.abs(t[:, None] - t[None, :])
            self._cache[index] = (r, linalg.cho_factor(r, lower=True))
        return self._cache[index]

    def covariance_matrix(self, expval, index):
        return self._corr(index)[0], True

    def covariance_matrix_solve(self, expval, index, stdev, rhs):
        chol = self._corr(index)[1]
        out = []
        for x in rhs:
            s = stdev if x.ndim == 1 else stdev[:, None]
            out.append(linalg.cho_solve(chol, x / s) / s)
        return out

    def summary(self):
        return f"AR(1) working correlation, rho = {self.dep_params:.3f} (REML)"


def _lag_structure(unit: np.ndarray, time: np.ndarray):
    """For each row: does the previous row belong to the same unit, and how many periods back."""
    same = np.r_[False, unit[1:] == unit[:-1]]
    gap = np.r_[1.0, np.diff(time).astype(float)]
    gap[~same] = 1.0
    return same, gap


def reml_rho(y: np.ndarray, X: np.ndarray, unit: np.ndarray, time: np.ndarray) -> float:
    """AR(1) parameter of y = X b + e by REML (rows sorted by unit, then time; gaps allowed).

    Profile REML: -2 l(rho) = (n - k) log(s2) + log|R| + log|X' R^-1 X|, with R the AR(1)
    correlation matrix; the Prais-Winsten transform gives R^-1/2 in O(n).
    """
    n, k = X.shape
    same, gap = _lag_structure(unit, time)
    y_prev = np.r_[0.0, y[:-1]]
    X_prev = np.vstack([np.zeros((1, k)), X[:-1]])

    def neg_reml(rho):
        r = np.where(same, rho**gap, 0.0)
        s = np.sqrt(1.0 - r * r)
        ys = (y - r * y_prev) / s
        Xs = (X - r[:, None] * X_prev) / s[:, None]
        chol = linalg.cho_factor(Xs.T @ Xs, lower=True)
        e = ys - Xs @ linalg.cho_solve(chol, Xs.T @ ys)
        logdet_xtx = 2 * np.log(np.diag(chol[0])).sum()
        return 0.5 * ((n - k) * np.log(e @ e / (n - k)) + 2 * np.log(s).sum() + logdet_xtx)

    opt = optimize.minimize_scalar(neg_reml, bounds=(-0.98, 0.98), method="bounded",
                                   options={"xatol": 1e-5})
    return float(opt.x)


def _ar1_corr(rho: float, unit: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Block-diagonal AR(1) correlation matrix (one block per unit)."""
    t = time.astype(float)
    return np.where(unit[:, None] == unit[None, :], rho ** np.abs(t[:, None] - t[None, :]), 0.0)


def _glm_family(family: str, alpha: float | None):
    if family == "gaussian":
        return families.Gaussian()
    if family == "negbin":
        return families.NegativeBinomial(alpha=alpha)
    return families.Poisson()


def _nb_alpha(y, X, offset) -> float:
    """NB2 dispersion alpha by maximum likelihood (statsmodels NegativeBinomial, Newton steps
    from the Poisson fit and a moment estimate of alpha)."""
    model = NegativeBinomial(y, X, offset=offset)
    pois = GLM(y, X, family=families.Poisson(), offset=offset).fit()
    mu, yy = np.asarray(pois.mu), np.asarray(y, float)
    a0 = max(float(np.mean(((yy - mu) ** 2 - mu) / mu**2)), 1e-4)
    start = np.r_[np.asarray(pois.params), a0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (ConvergenceWarning, HessianInversionWarning, RuntimeWarning))
        nb = model.fit(start_params=start, method="newton", disp=0, maxiter=100)
        ok = nb.mle_retvals.get("converged", False) and np.all(np.isfinite(nb.params))
        if not ok:  # derivative-free start, then Newton again
            nm = model.fit(start_params=start, method="nm", disp=0, maxiter=20_000)
            nb = model.fit(start_params=nm.params, method="newton", disp=0, maxiter=100)
            ok = nb.mle_retvals.get("converged", False) and np.all(np.isfinite(nb.params))
    alpha = float(np.asarray(nb.params)[-1])
    if (not ok or alpha <= 0) and pois.pearson_chi2 / pois.df_resid <= 1.0:
        warnings.warn("no overdispersion: the negative binomial alpha is 0 (the fit is Poisson)", stacklevel=3)
        return 1e-8
    if not ok or alpha <= 0:
        raise ITSNotEstimable("the negative binomial fit did not converge (is the series overdispersed?); "
                            "try family='quasipoisson'")
    return alpha


def fit_design(y: pd.Series, X: pd.DataFrame, *, offset: np.ndarray | None, unit: np.ndarray,
               time: np.ndarray, family: str, cov_type: str, maxlags: int | None,
               alpha: float | None = None) -> Fitted:
    """Fit one design with the chosen family and variance option. Rows sorted by unit, time.

    ``alpha`` (negbin) fixes the NB2 dispersion instead of estimating it by maximum likelihood.
    """
    n_units = len(np.unique(unit))
    if family == "negbin" and alpha is None:
        alpha = _nb_alpha(y, X, offset)
    fam = _glm_family(family, alpha)
    scale = "X2" if family == "quasipoisson" else None
    rho = None
    lags = None

    if cov_type == "newey":
        lengths = pd.Series(unit).value_counts()
        lags = int(maxlags) if maxlags is not None else auto_maxlags(int(lengths.min()))
        if n_units > 1:  # lags within units only (stacked controls)
            kw = dict(cov_type="hac-panel", cov_kwds={"maxlags": lags, "groups": unit,
                                                       "use_correction": "hac", "df_correction": False})
        else:
            kw = dict(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
        if family == "gaussian":
            res = OLS(y, X).fit(use_t=True, **kw)
        else:
            res = GLM(y, X, family=fam, offset=offset).fit(scale=scale, use_t=True, **kw)
    elif cov_type == "naive":
        if family == "gaussian":
            res = OLS(y, X).fit(use_t=True)
        else:
            res = GLM(y, X, family=fam, offset=offset).fit(scale=scale, use_t=True)
    elif cov_type == "glsar":
        res = GLSAR(y, X, rho=1).iterative_fit(maxiter=20)
        rho = float(res.model.rho[0])
    elif cov_type == "ar1":
        if family == "gaussian":
            rho = reml_rho(np.asarray(y, float), np.asarray(X, float), unit, time)
            res = GLS(y, X, sigma=_ar1_corr(rho, unit, time)).fit()
        else:
            glm = GLM(y, X, family=fam, offset=offset).fit(scale=scale)
            Xa = np.asarray(X, float)
            eta = Xa @ np.asarray(glm.params)
            mu = np.exp(eta + (0.0 if offset is None else offset))
            weight = mu / (1.0 + alpha * mu) if family == "negbin" else mu
            working = eta + (np.asarray(y, float) - mu) / mu  # IRLS working response (log link)
            sw = np.sqrt(weight)
            rho = reml_rho(sw * working, sw[:, None] * Xa, unit, time)
            gee = GEE(y, X, groups=unit, time=time, family=fam, cov_struct=_FixedAR1(rho),
                         offset=offset)
            try:
                res = gee.fit(cov_type="naive", scale="X2" if family == "quasipoisson" else 1.0,
                              start_params=np.asarray(glm.params), maxiter=100)
            except (ValueError, np.linalg.LinAlgError) as error:
                raise ITSNotEstimable(f"the AR(1) (GEE) fit failed ({error}): the fitted means reach 0 or overflow; "
                                    "check for long runs of zero counts, or try cov_type='newey'") from None
    else:  # pragma: no cover - validated upstream
        raise ITSInputError(f"unknown cov_type {cov_type!r}")

    if rho is not None and abs(rho) > 0.97:
        warnings.warn(f"AR(1) parameter {rho:.2f} is at its bound: the errors look non-stationary around "
                      "the segmented trend (check the model, e.g. seasonality or a curved trend)", stacklevel=3)
    params = pd.Series(np.asarray(res.params), index=X.columns)
    cov = pd.DataFrame(np.asarray(res.cov_params()), index=X.columns, columns=X.columns)
    return Fitted(result=res, params=params, cov=cov, df_resid=float(res.df_resid), rho=rho,
                  alpha=alpha, maxlags=lags, scale=float(getattr(res, "scale", 1.0)))
