"""Results of an interrupted time series fit: summary, effects, counterfactual, checks, placebo, plot."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.diagnostic import acorr_breusch_godfrey, acorr_ljungbox
from statsmodels.stats.stattools import durbin_watson
from statsmodels.tsa.stattools import acf, pacf

from . import _periods
from ._errors import ITSInputError
from ._estimation import LOG_LINK, fit_design
from ._sentence import PRE_TREND, effect_sentence
from ._terms import programme_terms


def _lincom_rows(its) -> dict[str, dict[str, float]]:
    """Summary rows as linear combinations of design columns (no slope rows for a level-only programme)."""
    extra = {}
    for t in its.terms[1:]:
        prefix = "treated:" if its.group is not None and t.programme else ""
        extra[t.rows[0]] = {prefix + t.level: 1.0}
        if t.has_slope:
            extra[t.rows[1]] = {prefix + t.slope: 1.0}
    slope = its.terms[0].has_slope
    if its.group is None:
        rows = {"pre_slope": {"time": 1.0}, "level_change": {"post": 1.0}}
        if slope:
            rows.update(slope_change={"time_post": 1.0}, post_slope={"time": 1.0, "time_post": 1.0})
        return {**rows, **extra}
    rows = {"pre_slope": {"time": 1.0, "treated:time": 1.0}, "level_change": {"treated:post": 1.0}}
    if slope:
        rows.update(slope_change={"treated:time_post": 1.0},
                    post_slope={"time": 1.0, "treated:time": 1.0, "time_post": 1.0, "treated:time_post": 1.0})
    rows.update(control_pre_slope={"time": 1.0}, control_level_change={"post": 1.0})
    if slope:
        rows.update(control_slope_change={"time_post": 1.0}, control_post_slope={"time": 1.0, "time_post": 1.0})
    rows.update(baseline_difference={"treated": 1.0}, pre_slope_difference={"treated:time": 1.0})
    return {**rows, **extra}


class ITSResult:
    """A fitted interrupted time series.

    Attributes
    ----------
    summary : DataFrame (rows pre_slope, level_change, slope_change, post_slope, extra
        interruptions, and control_* rows for a controlled design; columns estimate, ci_lower,
        ci_upper, p_value). Gaussian: outcome units (slopes per period). Count families: rate
        ratios (slopes: rate ratio per period). In a controlled design level_change and
        slope_change are treated minus control.
    coefficients : every coefficient on the link scale (estimate, std_error, statistic, p_value, CI).
    formula : the statsmodels formula that built the design (offset, if any, is log(offset column)).
    params, cov : coefficients and their covariance matrix (link scale).
    model_result : the statsmodels results object.
    rho, alpha, maxlags, scale, df_resid : AR(1) parameter, NB2 alpha, Newey-West lag, dispersion,
        residual degrees of freedom (t quantiles use df_resid throughout).
    data, design : the analysis frame and the design matrix (all rows, including any excluded).
    """

    def __init__(self, its, fitted, design: pd.DataFrame, level: float = 0.95):
        self.its = its
        self.formula = its.formula
        self.family, self.cov_type = its.family, its.cov_type
        self.data, self.design = its.data, design
        self.model_result = fitted.result
        self.params, self.cov, self.df_resid = fitted.params, fitted.cov, fitted.df_resid
        self.rho, self.alpha, self.maxlags, self.scale = fitted.rho, fitted.alpha, fitted.maxlags, fitted.scale
        self.log_link = its.family in LOG_LINK
        self.level = level
        self._b, self._V = self.params.to_numpy(), self.cov.to_numpy()
        self._col = {name: i for i, name in enumerate(self.params.index)}
        self.coefficients = self._coefficients()
        self.summary = self._summary()

    # ------------------------------------------------------------------ tables
    def _q(self, level: float) -> float:
        return float(stats.t.ppf(0.5 + level / 2, self.df_resid))

    def _lincom(self, weights: dict[str, float], level: float):
        w = np.zeros(len(self.params))
        for k, v in weights.items():
            w[self._col[k]] = v
        est = float(w @ self._b)
        se = float(np.sqrt(w @ self._V @ w))
        stat = est / se if se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(stat), self.df_resid))
        q = self._q(level)
        return est, se, stat, p, est - q * se, est + q * se

    def _coefficients(self) -> pd.DataFrame:
        est, se = self._b, np.sqrt(np.diag(self._V))
        stat = est / se
        q = self._q(self.level)
        return pd.DataFrame({"estimate": est, "std_error": se, "statistic": stat,
                             "p_value": 2 * stats.t.sf(np.abs(stat), self.df_resid),
                             "ci_lower": est - q * se, "ci_upper": est + q * se}, index=self.params.index)

    def _summary(self) -> pd.DataFrame:
        out = {}
        for row, w in _lincom_rows(self.its).items():
            est, _, _, p, lo, hi = self._lincom(w, self.level)
            if self.log_link:
                est, lo, hi = np.exp(est), np.exp(lo), np.exp(hi)
            out[row] = (est, lo, hi, p)
        table = pd.DataFrame.from_dict(out, orient="index", columns=["estimate", "ci_lower", "ci_upper", "p_value"])
        table.attrs["scale"] = "rate ratio" if self.log_link else "outcome units"
        return table

    # ------------------------------------------------------------------ predictions
    def _treated_rows(self) -> np.ndarray:
        return (self.data["treated"] == 1.0).to_numpy()

    def _counterfactual_design(self, basis: str | None, remove=None) -> pd.DataFrame:
        basis = basis or ("comparison" if self.its.group is not None else "pre_trend")
        if basis not in ("comparison", "pre_trend"):
            raise ITSInputError("basis must be 'comparison' or 'pre_trend'")
        if basis == "comparison" and self.its.group is None:
            raise ITSInputError("basis='comparison' needs a controlled design (group=...)")
        X0 = self.design.copy()
        cols = self.its.removed_columns(remove)
        if basis == "pre_trend" and self.its.group is not None:  # the control series' change goes too
            cols += [c.removeprefix("treated:") for c in cols]
        X0[cols] = 0.0
        return X0

    def treated_designs(self, *, basis: str | None = None, remove=None):
        """What a simulation of the treated series' means needs: its periods (labels), the design
        rows as fitted (X1) and with the ``remove`` d components taken away (X0, see :meth:`effect`),
        and the offset on the link scale; a mean is ``exp(X @ params + offset)`` for a log link
        (``X @ params + offset`` for gaussian). Used by ``outcomes.flow``."""
        rows = self._treated_rows()
        X1 = self.design.to_numpy()[rows]
        X0 = self._counterfactual_design(basis, remove).to_numpy()[rows]
        return pd.Index(self.data.loc[rows, "date"]), X1, X0, self._offset(rows)

    def _offset(self, rows) -> np.ndarray:
        if not self.its.offset:
            return np.zeros(int(np.sum(rows)))
        return self.data.loc[rows, f"log_{self.its.offset}"].to_numpy()

    def _mean(self, eta):
        return np.exp(eta) if self.log_link else eta

    def _interval_sums(self, rows, basis, level, method="delta", n_sim=4000, seed=0, remove=None):
        """Sums over ``rows`` of fitted and counterfactual means, and effect intervals."""
        X1 = self.design.to_numpy()[rows]
        X0 = self._counterfactual_design(basis, remove).to_numpy()[rows]
        off = self._offset(rows)
        b, V = self.params.to_numpy(), self.cov.to_numpy()
        eta1, eta0 = X1 @ b + off, X0 @ b + off
        F, C = self._mean(eta1).sum(), self._mean(eta0).sum()
        out = {"fitted": F, "counterfactual": C, "absolute": F - C,
               "relative": F / C - 1 if (F > 0 and C > 0) else np.nan}
        if method == "delta":
            d1 = self._mean(eta1) if self.log_link else np.ones_like(eta1)
            d0 = self._mean(eta0) if self.log_link else np.ones_like(eta0)
            gF, gC = d1 @ X1, d0 @ X0
            q = self._q(level)
            g = gF - gC
            se_abs = float(np.sqrt(g @ V @ g))
            out["absolute_lower"], out["absolute_upper"] = F - C - q * se_abs, F - C + q * se_abs
            if F > 0 and C > 0:
                gl = gF / F - gC / C
                se_log = float(np.sqrt(max(gl @ V @ gl, 0.0)))
                lr = np.log(F / C)
                out["relative_lower"], out["relative_upper"] = np.expm1(lr - q * se_log), np.expm1(lr + q * se_log)
            else:
                out["relative_lower"] = out["relative_upper"] = np.nan
        elif method == "simulation":
            rng = np.random.default_rng(seed)
            draws = rng.multivariate_normal(b, V, size=n_sim, method="eigh")
            Fs = self._mean(X1 @ draws.T + off[:, None]).sum(axis=0)
            Cs = self._mean(X0 @ draws.T + off[:, None]).sum(axis=0)
            tail = [50 * (1 - level), 50 * (1 + level)]
            out["absolute_lower"], out["absolute_upper"] = np.percentile(Fs - Cs, tail)
            with np.errstate(divide="ignore", invalid="ignore"):
                out["relative_lower"], out["relative_upper"] = np.percentile(Fs / Cs - 1, tail)
        else:
            raise ITSInputError("method must be 'delta' or 'simulation'")
        return out

    def _period(self, value, what) -> int:
        p = _periods.to_period(value, self.its.freq, what)
        if not self.its.start_period <= p <= self.its.end_period:
            raise ITSInputError(f"{what} {_periods.label(p, self.its.freq)} is outside the data")
        return p

    def effect(self, at=None, cumulative_from=None, *, basis: str | None = None, level: float = 0.95,
               method: str = "delta", n_sim: int = 4000, seed: int = 0, remove=None) -> pd.DataFrame:
        """Programme effect vs the counterfactual, at one period and summed over a span.

        Rows: "point" (period ``at``, default the last) and "cumulative" (``cumulative_from``,
        default the interruption, to ``at`` inclusive). ``absolute`` = fitted - counterfactual in
        outcome units (per period for "point", summed over periods for "cumulative");
        ``relative`` = fitted / counterfactual - 1 (a proportion: -0.2 is a 20% fall).
        Both compare model means, so they carry no observation noise.

        Intervals (the one calculation written by hand): ``method="delta"`` (default) uses the
        delta method on the coefficient covariance used by ``summary`` (AR(1), HAC or naive) with a
        t(df_resid) quantile; the relative interval is built on log(fitted / counterfactual) and
        exponentiated. ``method="simulation"`` draws ``n_sim`` coefficient vectors from
        N(params, cov) and takes percentiles.

        ``basis`` (controlled designs): "comparison" (default) removes only the treated x
        post terms, so the counterfactual follows the treated pre-trend plus the control series'
        change; "pre_trend" extrapolates the treated unit's own pre-period line (as ``itsa``
        figures do).

        ``remove`` names the components the counterfactual takes away (a name or a list; default
        every programme component, i.e. the combined programme effect). The default
        ``cumulative_from`` is then the earliest start among them.
        """
        at_p = self.its.end_period if at is None else self._period(at, "at")
        names = self.its.programme_names if remove is None else ([remove] if isinstance(remove, str) else list(remove))
        first = min(self.its.term(n).period for n in names) if names else self.its.interruption
        from_p = first if cumulative_from is None else self._period(cumulative_from, "cumulative_from")
        if from_p > at_p:
            raise ITSInputError(f"cumulative_from {_periods.label(from_p, self.its.freq)} is after at "
                                f"{_periods.label(at_p, self.its.freq)}")
        period, treated = self.data["period"].to_numpy(), self._treated_rows()
        observed = self.data[self.its.outcome].to_numpy()
        rows = {"point": treated & (period == at_p), "cumulative": treated & (period >= from_p) & (period <= at_p)}
        spans = {"point": (at_p, at_p), "cumulative": (from_p, at_p)}
        out = {}
        for name, r in rows.items():
            d = self._interval_sums(r, basis, level, method, n_sim, seed, remove)
            lo, hi = (_periods.label(p, self.its.freq) for p in spans[name])
            out[name] = {"from": lo, "to": hi, "observed": observed[r].sum(), **d}
        cols = ["from", "to", "observed", "fitted", "counterfactual", "absolute", "absolute_lower",
                "absolute_upper", "relative", "relative_lower", "relative_upper"]
        return pd.DataFrame.from_dict(out, orient="index")[cols]

    def effect_summary(self, what: str | None = None, at=None, *, remove=None, level: float = 0.95,
                       basis: str | None = None) -> str:
        """The relative effect at period ``at`` (default the last) as one sentence with its CI:
        "In February 2020 bed days were 28% (95% CI 12% to 41%) below what the pre-programme trend
        predicted." ``what`` names the outcome (default the outcome column); ``remove`` as in
        :meth:`effect`. Context interruptions kept in the counterfactual are named in it."""
        point = self.effect(at=at, basis=basis, level=level, remove=remove).loc["point"]
        comparison = PRE_TREND
        if self.its.group is not None and (basis or "comparison") == "comparison":
            comparison = "what the pre-programme trend and the comparison series predicted"
        context = [t.name for t in self.its.terms if not t.programme]
        if context:
            comparison += f" ({', '.join(context)} kept in the prediction)"
        return effect_sentence(what or self.its.outcome, point["relative"], point["relative_lower"],
                               point["relative_upper"], point["to"], comparison=comparison, level=level)

    def component_effects(self, at=None, *, level: float = 0.95, basis: str | None = None) -> pd.DataFrame:
        """One row per programme component, and ``combined`` (all of them removed together).

        Columns: ``start``; ``level_change`` and ``slope_change`` with CIs (summary scale: rate
        ratios for count families, outcome units for gaussian); at period ``at`` (default the last)
        the ``relative`` effect (fitted / counterfactual without that component - 1) with CI; and the
        ``cumulative`` effect (fitted - counterfactual, outcome units summed from the component's
        start to ``at``) with CI. A component that starts after ``at`` gets no effect (NaN).
        """
        at_p = self.its.end_period if at is None else self._period(at, "at")
        rows = {}
        for name in [*self.its.programme_names, "combined"]:
            if name == "combined":
                remove, start = None, min(self.its.term(n).period for n in self.its.programme_names)
                change = {}
            else:
                t = self.its.term(name)
                remove, start = [name], t.period
                change = {}
                for kind, row in zip(("level_change", "slope_change"), t.rows):
                    if row not in self.summary.index:  # a level-only component (slope=False)
                        continue
                    s = self.summary.loc[row]
                    change.update({kind: s["estimate"], f"{kind}_lower": s["ci_lower"], f"{kind}_upper": s["ci_upper"]})
            row = {"start": _periods.label(start, self.its.freq), "at": _periods.label(at_p, self.its.freq), **change}
            if start <= at_p:
                lab = (_periods.label(p, self.its.freq) for p in (at_p, start))
                e = self.effect(*lab, basis=basis, level=level, remove=remove)
                p, c = e.loc["point"], e.loc["cumulative"]
                row.update(relative=p["relative"], relative_lower=p["relative_lower"], relative_upper=p["relative_upper"],
                           cumulative=c["absolute"], cumulative_lower=c["absolute_lower"], cumulative_upper=c["absolute_upper"])
            rows[name] = row
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = "component"
        table.attrs["scale"] = self.summary.attrs["scale"]
        return table

    def counterfactual(self, *, basis: str | None = None, level: float = 0.95, remove=None) -> pd.DataFrame:
        """Per period (treated series): observed, fitted and counterfactual means in outcome units,
        with confidence intervals for both means, the effect (fitted - counterfactual) and whether
        the period was in the fit. The counterfactual removes only the programme terms (see
        :meth:`effect` for ``basis`` and ``remove``); before the first removed component starts it
        equals the fitted line."""
        rows = self._treated_rows()
        V = self.cov.to_numpy()
        off = self._offset(rows)
        q = self._q(level)
        out = pd.DataFrame(index=pd.Index(self.data.loc[rows, "date"], name="date"))
        out["observed"] = self.data.loc[rows, self.its.outcome].to_numpy()
        for name, X in (("fitted", self.design), ("counterfactual", self._counterfactual_design(basis, remove))):
            Xr = X.to_numpy()[rows]
            eta = Xr @ self.params.to_numpy() + off
            se = np.sqrt(np.einsum("ij,jk,ik->i", Xr, V, Xr))
            out[name] = self._mean(eta)
            out[f"{name}_lower"], out[f"{name}_upper"] = self._mean(eta - q * se), self._mean(eta + q * se)
        out["effect"] = out["fitted"] - out["counterfactual"]
        out["in_fit"] = self.data.loc[rows, "in_fit"].to_numpy()
        return out

    # ------------------------------------------------------------------ diagnostics
    def _pearson(self, rows) -> np.ndarray:
        y = self.data.loc[rows, self.its.outcome].to_numpy(float)
        mu = self._mean(self.design.to_numpy()[rows] @ self.params.to_numpy() + self._offset(rows))
        if not self.log_link:
            return y - mu
        var = mu + self.alpha * mu**2 if self.family == "negbin" else mu
        return (y - mu) / np.sqrt(var)

    def diagnostics(self, lags: int = 24, residuals: str = "pearson", segment: str = "all") -> "Diagnostics":
        """Residual checks on the treated series (fitted periods).

        ``residuals="pearson"``: (y - fitted) / sqrt(variance function) from the mean model
        (gaussian: raw residuals) - the autocorrelation the variance option has to handle.
        ``"whitened"``: the same after removing the fitted AR(1) (cov_type ar1/glsar) - what is
        left once AR(1) is modelled. ``segment="pre"`` keeps only periods before the interruption
        (large post-period residuals, e.g. epidemic waves, inflate the residual variance and so
        shrink every autocorrelation of the whole series). Returns Ljung-Box (lags 1..lags), Breusch-Godfrey (lag 12
        monthly, 1 yearly), Durbin-Watson, dispersion (Pearson chi2 / df_resid over all fitted
        rows; 1 means no overdispersion for count families, sigma^2 for gaussian) and ACF/PACF.
        """
        fit = self.data["in_fit"].to_numpy()
        rows = self._treated_rows() & fit
        if segment == "pre":
            rows &= (self.data["period"] < min(t.period for t in self.its.terms)).to_numpy()
        elif segment != "all":
            raise ITSInputError("segment must be 'all' or 'pre'")
        r = self._pearson(rows)
        if residuals == "whitened":
            if self.rho is None:
                raise ITSInputError("whitened residuals need cov_type 'ar1' or 'glsar'")
            t = self.data.loc[rows, "time"].to_numpy()
            rr = np.r_[0.0, self.rho ** np.diff(t)]
            r = (r - rr * np.r_[0.0, r[:-1]]) / np.sqrt(1 - rr**2)
        elif residuals != "pearson":
            raise ITSInputError("residuals must be 'pearson' or 'whitened'")
        n = len(r)
        lags = int(min(lags, n // 2 - 1))
        bg_lags = 12 if self.its.freq == "M" else 1
        Xr = self.design.to_numpy()[rows]
        Xr = np.unique(Xr[:, np.abs(Xr).sum(axis=0) > 0], axis=1)  # treated rows repeat some columns
        aux = OLS(r, Xr).fit()
        with warnings.catch_warnings():  # statsmodels 0.15 warns about a future return type
            warnings.simplefilter("ignore", FutureWarning)
            bg = acorr_breusch_godfrey(aux, nlags=min(bg_lags, n // 4))
        lb = acorr_ljungbox(r, lags=list(range(1, lags + 1)))
        lb.index.name = "lag"
        all_r = self._pearson(fit)
        corr = pd.DataFrame({"acf": acf(r, nlags=lags, fft=False)[1:],
                             "pacf": pacf(r, nlags=lags, method="ywm")[1:]},
                            index=pd.RangeIndex(1, lags + 1, name="lag"))
        corr["bound"] = 1.96 / np.sqrt(n)
        return Diagnostics(ljung_box=lb, breusch_godfrey={"statistic": bg[0], "p_value": bg[1], "lags": min(bg_lags, n // 4)},
                           durbin_watson=float(durbin_watson(r)),
                           dispersion=float(np.sum(all_r**2) / self.df_resid),
                           correlogram=corr, rho=self.rho, residuals=pd.Series(r, index=self.data.loc[rows, "date"]),
                           kind=residuals)

    # ------------------------------------------------------------------ placebo
    def placebo(self, dates=None, *, window: str = "pre", min_points: int = 12, n_jobs: int = 1) -> "PlaceboResult":
        """In-time placebo: refit with the programme interruption moved to other periods.

        ``window="pre"`` (default) uses only periods before the real interruption, so no
        placebo date can pick up the real effect; ``"all"`` moves the interruption across the
        whole series (dates near the real one pick up part of its effect). ``dates`` defaults to every
        period leaving ``min_points`` fitted periods on each side. Returns the placebo level and
        slope changes (summary scale) and rank p-values: (1 + #|placebo| >= |actual|) / (1 + N)
        on the link scale. ``n_jobs`` > 1 fits in that many processes. The negative binomial
        alpha is held at its full-data estimate (a nuisance parameter; saves an ML fit per date).
        """
        its = self.its
        if window not in ("pre", "all"):
            raise ITSInputError("window must be 'pre' or 'all'")
        period = self.data["period"].to_numpy()
        first = min(t.period for t in its.terms)
        keep = period < first if window == "pre" else np.ones(len(period), bool)
        lo_p, hi_p = int(period[keep].min()), int(period[keep].max())
        if dates is None:
            cands = list(range(lo_p + min_points, hi_p - min_points + 2))
        else:
            cands = [_periods.to_period(d, its.freq, "placebo date") for d in np.atleast_1d(dates)]
            bad = [d for d in cands if not lo_p < d <= hi_p]
            if bad:
                raise ITSInputError(f"placebo dates outside the {window!r} window: "
                                    f"{[_periods.label(d, its.freq) for d in bad]}")
        cands = [c for c in cands if c not in {t.period for t in its.terms}]
        if not cands:
            raise ITSInputError(f"no placebo dates leave {min_points} points each side in the {window!r} window")
        tasks = [self._placebo_task(c, keep) for c in cands]
        if n_jobs > 1:
            with ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("fork")) as ex:
                est = list(ex.map(_placebo_fit, tasks, chunksize=max(1, len(tasks) // (4 * n_jobs))))
        else:
            est = [_placebo_fit(t) for t in tasks]
        rows = ["level_change", "slope_change"][:len(its.programme_columns)]  # a level-only programme has no slope
        link = pd.DataFrame(est, columns=rows, index=pd.Index(_periods.labels(np.array(cands), its.freq), name="date"))
        link = link.dropna()
        actual = pd.Series({row: self.params[col] for row, col in zip(rows, its.programme_columns)})
        p = {k: (1 + int(np.sum(np.abs(link[k]) >= abs(actual[k]) - 1e-12))) / (1 + len(link)) for k in actual.index}
        tf = np.exp if self.log_link else (lambda x: x)
        return PlaceboResult(estimates=tf(link), actual=tf(actual), p_values=pd.Series(p), window=window,
                             scale=self.summary.attrs["scale"])

    def _placebo_task(self, cand: int, keep: np.ndarray) -> dict:
        its = self.its
        d = self.data[keep]
        X = self.design[keep].copy()
        time = d["time"].to_numpy()
        post, time_post, in_fit = programme_terms(time, cand - its.start_period, its.transition, its.transition_method)
        for t in its.terms[1:]:  # the other components' excluded windows stay out
            in_fit &= programme_terms(time, t.period - its.start_period, t.transition, t.transition_method)[2]
        moved = dict(zip(its.terms[0].design_columns(), (post, time_post)))
        tr = d["treated"].to_numpy()
        for col, values in moved.items():
            X[col] = values
            if its.group is not None:
                X[f"treated:{col}"] = tr * values
        X, d = X[in_fit], d[in_fit]
        X = X.loc[:, (X != 0).any(axis=0)]
        return {"y": d[its.outcome].astype(float), "X": X,
                "offset": d[f"log_{its.offset}"].to_numpy() if its.offset else None,
                "unit": pd.factorize(d["unit"])[0], "time": d["time"].to_numpy(), "family": its.family,
                "cov_type": its.cov_type, "maxlags": its.maxlags, "alpha": self.alpha,
                "cols": its.programme_columns}

    # ------------------------------------------------------------------ plot
    def plot(self, ax=None, *, basis: str | None = None, level: float = 0.95, show_controls: bool = True,
             remove=None):
        """Observed points, fitted line, counterfactual without ``remove`` (default every programme
        component; dashed) with its confidence ribbon, interruption lines (programme solid, context
        dotted) and any transition windows. Returns Axes."""
        import matplotlib.pyplot as plt

        its = self.its
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 4.5))
        cf = self.counterfactual(basis=basis, level=level, remove=remove)
        x = cf.index
        period = self.data.loc[self._treated_rows(), "period"].to_numpy()
        half = pd.Timedelta(days=15) if its.freq == "M" else 0.5
        lab = "treated" if its.group is not None else "observed"
        ax.scatter(x, cf["observed"], s=14, color="black", zorder=3, label=lab)
        cuts = sorted({t.period for t in its.terms})
        edges = [its.start_period, *cuts, its.end_period + 1]
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
            seg = (period >= lo) & (period < hi)
            ax.plot(x[seg], cf["fitted"][seg], color="C0", lw=2, label="fitted" if i == 0 else None)
        names = its.programme_names if remove is None else ([remove] if isinstance(remove, str) else list(remove))
        post = period >= min((its.term(n).period for n in names), default=its.interruption)
        ax.plot(x[post], cf["counterfactual"][post], color="C1", lw=2, ls="--", label="counterfactual")
        ax.fill_between(x[post], cf["counterfactual_lower"][post], cf["counterfactual_upper"][post],
                        color="C1", alpha=0.2, lw=0, label=f"{level:.0%} CI")
        if its.group is not None and show_controls:
            self._plot_controls(ax)
        to_x = lambda p: _periods.labels(np.array([p]), its.freq)[0] - half  # noqa: E731
        for i, t in enumerate(its.terms):
            if t.programme:
                ax.axvline(to_x(t.period), color="C3", lw=1.2, label="interruption" if i == 0 else None)
            else:
                ax.axvline(to_x(t.period), color="grey", lw=1, ls=":")
            if i:
                ax.annotate(t.name, (to_x(t.period), 1), xycoords=("data", "axes fraction"), va="top", ha="left",
                            fontsize=8, color="grey")
            if t.transition:
                ax.axvspan(to_x(t.period), to_x(t.period + t.transition), color="grey", alpha=0.12, lw=0,
                           label=f"transition ({t.transition_method})" if i == 0 else None)
        ax.set_xlabel("period")
        ax.set_ylabel(its.outcome)
        ax.legend(fontsize=8, frameon=False, ncols=2)
        return ax

    def _plot_controls(self, ax) -> None:
        ctrl = self.data["treated"] == 0.0
        d = self.data[ctrl]
        X = self.design[ctrl].to_numpy()
        off = self._offset(ctrl.to_numpy())
        d = d.assign(_fit=self._mean(X @ self.params.to_numpy() + off))
        g = d.groupby("period").agg(date=("date", "first"), obs=(self.its.outcome, "mean"), fit=("_fit", "mean"))
        ax.scatter(g["date"], g["obs"], s=14, facecolors="none", edgecolors="grey", label="controls")
        ax.plot(g["date"], g["fit"], color="grey", lw=1.5, label="controls fitted")

    def __repr__(self) -> str:
        return f"ITSResult({self.formula!r}, family={self.family!r}, cov_type={self.cov_type!r})\n{self.summary}"


def _placebo_fit(task: dict):
    """Level and slope change (link scale) for one placebo date; NaN if the fit fails."""
    X = task["X"]
    if any(c not in X.columns for c in task["cols"]) or np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        return (np.nan,) * len(task["cols"])
    try:
        f = fit_design(task["y"], X, offset=task["offset"], unit=task["unit"], time=task["time"],
                       family=task["family"], cov_type=task["cov_type"], maxlags=task["maxlags"],
                       alpha=task["alpha"])
    except (ValueError, np.linalg.LinAlgError):
        return (np.nan,) * len(task["cols"])
    return tuple(float(f.params[c]) for c in task["cols"])


@dataclass
class Diagnostics:
    """Residual diagnostics. ``table`` gathers the tests; ``correlogram`` has ACF/PACF by lag."""

    ljung_box: pd.DataFrame
    breusch_godfrey: dict
    durbin_watson: float
    dispersion: float
    correlogram: pd.DataFrame
    rho: float | None
    residuals: pd.Series = field(repr=False)
    kind: str = "pearson"

    @property
    def table(self) -> pd.DataFrame:
        """One row per test: statistic and p-value (Ljung-Box at lags 12 and 24 where available)."""
        rows = {}
        for lag in (12, 24):
            if lag in self.ljung_box.index:
                rows[f"ljung_box_{lag}"] = self.ljung_box.loc[lag, ["lb_stat", "lb_pvalue"]].to_numpy()
        rows[f"breusch_godfrey_{self.breusch_godfrey['lags']}"] = [self.breusch_godfrey["statistic"], self.breusch_godfrey["p_value"]]
        rows["durbin_watson"] = [self.durbin_watson, np.nan]
        rows["dispersion"] = [self.dispersion, np.nan]
        return pd.DataFrame.from_dict(rows, orient="index", columns=["statistic", "p_value"])

    def in_words(self, family: str | None = None, cov_type: str | None = None) -> str:
        """What the diagnostics mean for the model's confidence intervals, in sentences (for a
        notebook page): leftover autocorrelation (Ljung-Box at 12 lags, Durbin-Watson) and
        overdispersion of a count model, given the errors modelled (`cov_type`) and the `family`.
        With AR(1) errors, read the whitened residuals' diagnostics (what is left once AR(1) is
        modelled: `diagnostics(residuals="whitened")`)."""
        def p_text(p: float) -> str:
            return "p <0.001" if p < 0.001 else f"p = {p:.3f}"

        said = []
        lag = 12 if 12 in self.ljung_box.index else int(self.ljung_box.index.max())
        p = float(self.ljung_box.loc[lag, "lb_pvalue"])
        modelled = (f"the AR(1) errors (rho {self.rho:.2f}) already allow for a correlation from one period to the next"
                    if self.rho is not None else
                    "Newey-West standard errors allow for it over a few lags" if cov_type in ("newey", "hac") else
                    "the intervals assume independent periods")
        if p < 0.05:
            said.append(f"The {'whitened' if self.kind == 'whitened' else 'Pearson'} residuals are still correlated over "
                        f"time (Ljung-Box at {lag} lags, {p_text(p)}; Durbin-Watson {self.durbin_watson:.2f}, where 2 means "
                        f"none). {modelled[0].upper() + modelled[1:]}, but what is left means the 95% confidence intervals "
                        "are too narrow: read them as optimistic, and a change whose interval only just excludes no change "
                        "as uncertain.")
        else:
            said.append(f"No correlation is left in the residuals (Ljung-Box at {lag} lags, {p_text(p)}; Durbin-Watson "
                        f"{self.durbin_watson:.2f}): {modelled}, and the intervals need no further allowance for it.")
        if family in ("poisson", "quasipoisson") and self.dispersion > 1.5:
            scale = ("the quasi-Poisson scale widens the intervals by its square root "
                     f"({self.dispersion ** 0.5:.1f} times Poisson's), so they allow for it"
                     if family == "quasipoisson" else "a Poisson model's intervals would be too narrow by its square root")
            said.append(f"The variance is {self.dispersion:.1f} times what a Poisson count would have: {scale}.")
        return " ".join(said)

    def plot(self, axes=None):
        """ACF and PACF bars with +/-1.96/sqrt(n) bounds. Returns the two Axes."""
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
        for ax, col in zip(axes, ("acf", "pacf")):
            c = self.correlogram
            ax.vlines(c.index, 0, c[col], color="C0")
            ax.axhline(0, color="black", lw=0.8)
            ax.fill_between(c.index, -c["bound"], c["bound"], color="grey", alpha=0.2, lw=0)
            ax.set_title(f"{col.upper()} of {self.kind} residuals")
            ax.set_xlabel("lag")
        return axes


@dataclass
class PlaceboResult:
    """Placebo estimates (one row per placebo date), the actual estimates and rank p-values."""

    estimates: pd.DataFrame
    actual: pd.Series
    p_values: pd.Series
    window: str
    scale: str

    def plot(self, ax=None, term: str = "level_change"):
        """Histogram of placebo estimates with the actual estimate marked. Returns Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist(self.estimates[term], bins=20, color="C0", alpha=0.7, label=f"placebo ({self.window})")
        ax.axvline(self.actual[term], color="C3", lw=2, label=f"actual (rank p = {self.p_values[term]:.3f})")
        ax.set_xlabel(f"{term} ({self.scale})")
        ax.legend(fontsize=8, frameon=False)
        return ax
