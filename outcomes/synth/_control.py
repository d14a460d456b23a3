"""The synthetic control fitter: weights, path, placebos, conformal intervals, effects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.its import effect_sentence

from . import _conformal
from ._errors import SynthInputError
from ._panel import Panel, build_panel, parse_time, time_label
from ._weights import choose_penalty, nonnegative_weights, predictor_weights, simplex_weights

FORMS = ("classic", "count")


class SyntheticControl:
    """A synthetic control for one treated unit against a pool of donor units (see the package
    docstring for the method, the two forms and the validation).

    Parameters
    ----------
    frame : long DataFrame, one row per unit and period.
    unit, time, outcome : column names. ``time`` holds dates (monthly: first of the month) or
        numbers (years).
    treated : the treated unit's value in ``unit``; every other unit is a donor unless ``donors``
        lists them.
    start : the first period of the programme ('2019-04', a Timestamp, or 1989).
    population : column of the population the outcome is counted in. With it ``outcome`` is a
        count and the classic form compares rates per ``per`` people.
    covariates : columns whose pre-period means (with the outcome's pre-period mean) are matched
        with importances chosen to fit the pre-period outcome path (Abadie, Diamond & Hainmueller);
        without them the weights are fitted on the pre-period outcome path itself.
    form : "classic" (weights >= 0 summing to one, on the outcome or rate) or "count" (Bonander:
        weights >= 0 of any sum, on counts; effects are rate ratios against the weighted count).
    penalty : count form only: "cv" (Bonander's hold-out choice) or a relative penalty >= 0
        pulling the count weights towards the classic ones (0: plain non-negative least squares).
    per : rates are per this many people (default 100,000).

    Attributes after :meth:`fit`
    ----------------------------
    weights_ : Series by donor (non-negative; sums to one in the classic form).
    synthetic_, gap_ : Series by period (analysis units: see ``path_``); gap = treated - synthetic.
    pre_rmspe_, post_rmspe_ : root mean squared gap before and from ``start`` (analysis units in the
        classic form; in the count form a proportion of the unit's mean pre-period count, so units
        of any size compare).
    path_ : DataFrame by period: observed, synthetic, gap, relative, post; with a population also
        population, observed_count, synthetic_count, observed_rate, synthetic_rate.
    penalty_ : the relative penalty used (count form). predictor_importance_ : V (covariates).
    balance_ : predictors for the treated unit, its synthetic control and the donors' mean (covariates).
    donors_dropped_ : {donor: reason} for donors left out (missing or suppressed periods).
    After :meth:`placebo`: ``placebo_`` (the table), ``placebo_gaps_`` and ``p_value_``.
    """

    def __init__(self, frame: pd.DataFrame, *, unit: str, time: str, outcome: str, treated, start,
                 population: str | None = None, covariates=None, donors=None, form: str = "classic",
                 penalty="cv", per: float = 100_000):
        if form not in FORMS:
            raise SynthInputError(f"form {form!r}: give one of {', '.join(FORMS)}")
        if not (isinstance(per, int | float) and per > 0):
            raise SynthInputError(f"per {per!r}: give a positive number of people (e.g. 100000)")
        if not (penalty == "cv" or (isinstance(penalty, int | float) and penalty >= 0)):
            raise SynthInputError(f"penalty {penalty!r}: give 'cv' or a number >= 0")
        covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
        self.frame, self.unit, self.time, self.outcome, self.treated = frame, unit, time, outcome, treated
        self.population, self.covariates, self.form, self.penalty, self.per = population, covariates, form, penalty, per
        self._donor_arg = donors
        self.panel, self.start = build_panel(frame, unit=unit, time=time, outcome=outcome, treated=treated, start=start,
                                             population=population, covariates=covariates, donors=donors, form=form, per=per)
        self.donors_dropped_ = dict(self.panel.dropped)
        self._conformal: dict[float, pd.DataFrame] = {}
        self.placebo_ = None

    # ------------------------------------------------------------------ weights
    def _solve(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The weights for one treated series on the outcome rows given (the form's estimator)."""
        if self.form == "classic":
            return simplex_weights(X, y)
        return nonnegative_weights(X, y, self.penalty_)

    def _unit_weights(self, values: np.ndarray, target: int, donors: list[int], pre: np.ndarray):
        """Weights (and V with covariates) for unit column ``target`` on donor columns ``donors``."""
        y, Y = values[pre, target], values[pre][:, donors]
        if self.panel.predictors is None:
            return self._solve(Y, y), None
        P = self._standard_predictors
        return predictor_weights(P[:, target], P[:, donors], y, Y, self._solve)[::-1]

    @property
    def _standard_predictors(self) -> np.ndarray:
        P = self.panel.predictors.to_numpy(float)
        sd = P.std(axis=1, ddof=1, keepdims=True)
        return P / np.where(sd > 0, sd, 1.0)

    def _rmspe(self, gap: np.ndarray, values: np.ndarray, pre: np.ndarray) -> tuple[float, float]:
        """Pre- and post-period RMSPE of one unit (count form: over the unit's mean pre-period count)."""
        scale = max(float(np.mean(values[pre])), 1e-12) if self.form == "count" else 1.0
        return (float(np.sqrt(np.mean(gap[pre] ** 2))) / scale, float(np.sqrt(np.mean(gap[~pre] ** 2))) / scale)

    def fit(self) -> "SyntheticControl":
        """Fit the weights on the pre-period; set the attributes listed in the class docstring."""
        P = self.panel
        donors = list(range(1, len(P.units)))
        if self.form == "count":
            self.penalty_ = (choose_penalty(P.values[P.pre][:, 1:], P.values[P.pre, 0]) if self.penalty == "cv"
                             else float(self.penalty))
        else:
            self.penalty_ = None
        w, v = self._unit_weights(P.values, 0, donors, P.pre)
        synthetic = P.values[:, donors] @ w
        gap = P.values[:, 0] - synthetic
        index = pd.Index(P.times, name=self.time)
        self.weights_ = pd.Series(w, index=pd.Index(P.donors, name=self.unit), name="weight")
        self.synthetic_ = pd.Series(synthetic, index=index, name="synthetic")
        self.gap_ = pd.Series(gap, index=index, name="gap")
        self.pre_rmspe_, self.post_rmspe_ = self._rmspe(gap, P.values[:, 0], P.pre)
        self.path_ = self._path(synthetic, index)
        self.predictor_importance_ = self.balance_ = None
        if v is not None:
            self.predictor_importance_ = pd.Series(v, index=P.predictors.index, name="importance")
            self.balance_ = pd.DataFrame({"treated": P.predictors.iloc[:, 0],
                                          "synthetic": P.predictors.iloc[:, 1:].to_numpy() @ w,
                                          "donor_mean": P.predictors.iloc[:, 1:].mean(axis=1)})
        self._conformal = {}
        self.placebo_ = None
        return self

    def _path(self, synthetic: np.ndarray, index: pd.Index) -> pd.DataFrame:
        P = self.panel
        observed = P.values[:, 0]
        path = pd.DataFrame({"observed": observed, "synthetic": synthetic, "gap": observed - synthetic,
                             "relative": observed / np.where(synthetic != 0, synthetic, np.nan) - 1,
                             "post": ~P.pre}, index=index)
        if P.population is not None:
            pop = P.population[:, 0]
            syn_count = synthetic if self.form == "count" else synthetic * pop / self.per
            path["population"] = pop
            path["observed_count"] = P.counts[:, 0]
            path["synthetic_count"] = syn_count
            path["observed_rate"] = P.counts[:, 0] / pop * self.per
            path["synthetic_rate"] = syn_count / pop * self.per
        return path

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise SynthInputError("call fit() first")

    # ------------------------------------------------------------------ placebos
    def placebo(self, *, max_pre_rmspe: float | None = None) -> pd.DataFrame:
        """Placebo in space: every donor refitted as if it were treated, from the other donors.

        Returns one row per unit (the treated unit first, then the placebos by rank): ``unit``,
        ``pre_rmspe``, ``post_rmspe``, ``ratio`` (post / pre), ``treated``, ``kept`` and ``rank``
        (1 = the largest ratio among the units kept). ``max_pre_rmspe`` leaves out placebos whose
        pre-period RMSPE is more than that multiple of the treated unit's (Abadie, Diamond &
        Hainmueller used 20, 5 and 2): a placebo the donors cannot reproduce before the start says
        nothing about the treated unit after it. Sets ``p_value_`` = the treated unit's rank / (J + 1)
        for the J placebos kept (ties count against the treated unit), never 0, ``placebo_`` and
        ``placebo_gaps_`` (periods x donors, analysis units; count form: relative gaps).
        """
        self._check_fitted()
        if max_pre_rmspe is not None and not (isinstance(max_pre_rmspe, int | float) and max_pre_rmspe > 0):
            raise SynthInputError(f"max_pre_rmspe {max_pre_rmspe!r}: give a positive multiple (e.g. 5) or None")
        P = self.panel
        n = len(P.units)
        rows, gaps = [], {}
        rows.append({"unit": self.treated, "pre_rmspe": self.pre_rmspe_, "post_rmspe": self.post_rmspe_, "treated": True})
        for j in range(1, n):
            others = [k for k in range(1, n) if k != j]
            w, _ = self._unit_weights(P.values, j, others, P.pre)
            synthetic = P.values[:, others] @ w
            gap = P.values[:, j] - synthetic
            pre, post = self._rmspe(gap, P.values[:, j], P.pre)
            rows.append({"unit": P.units[j], "pre_rmspe": pre, "post_rmspe": post, "treated": False})
            gaps[P.units[j]] = gap / np.where(synthetic != 0, synthetic, np.nan) if self.form == "count" else gap
        table = pd.DataFrame(rows)
        table["ratio"] = table["post_rmspe"] / table["pre_rmspe"].where(table["pre_rmspe"] > 0)
        table["kept"] = True
        if max_pre_rmspe is not None:
            table["kept"] = table["treated"] | (table["pre_rmspe"] <= max_pre_rmspe * self.pre_rmspe_)
        kept = table[table["kept"]]
        table["rank"] = [int((kept["ratio"] >= r * (1 - 1e-12)).sum()) if k else pd.NA
                         for r, k in zip(table["ratio"], table["kept"])]
        table["rank"] = table["rank"].astype("Int64")
        treated_rank = int(table.loc[0, "rank"])
        self.p_value_ = treated_rank / len(kept)
        order = pd.concat([table.iloc[:1], table.iloc[1:].sort_values(["kept", "ratio"], ascending=[False, False])])
        self.placebo_ = order[["unit", "pre_rmspe", "post_rmspe", "ratio", "treated", "kept", "rank"]].reset_index(drop=True)
        self.placebo_gaps_ = pd.DataFrame(gaps, index=self.gap_.index)
        self.placebo_gaps_.columns.name = self.unit
        return self.placebo_

    def placebo_in_time(self, start) -> "SyntheticControl":
        """Placebo in time: the same analysis on the periods before the real start only, with the
        programme moved to ``start``. Returns the fitted :class:`SyntheticControl`; its gap should
        stay near zero (its ``post_rmspe_`` near its ``pre_rmspe_``) if the method is sound here."""
        self._check_fitted()
        when = parse_time(start, self.panel.times, "placebo start")
        if not when < self.start:
            raise SynthInputError(f"placebo start {time_label(when)} must be before the real start {time_label(self.start)}")
        times = pd.to_datetime(self.frame[self.time], errors="coerce") if isinstance(self.panel.times, pd.DatetimeIndex) \
            else pd.to_numeric(self.frame[self.time], errors="coerce")
        earlier = self.frame[(times < self.start).to_numpy()]
        penalty = self.penalty_ if self.form == "count" else self.penalty
        return SyntheticControl(earlier, unit=self.unit, time=self.time, outcome=self.outcome, treated=self.treated,
                                start=when, population=self.population, covariates=self.covariates,
                                donors=self._donor_arg, form=self.form, penalty=penalty, per=self.per).fit()

    # ------------------------------------------------------------------ conformal intervals
    def _conformal_solver(self):
        """The estimator the conformal refits use: the outcome-path fit of this form."""
        return self._solve

    def _scale(self) -> float:
        P = self.panel
        gap = self.gap_.to_numpy()[P.pre]
        rmspe = float(np.sqrt(np.mean(gap**2)))
        return rmspe if rmspe > 0 else max(float(np.mean(np.abs(P.values[P.pre, 0]))) * 1e-3, 1e-9)

    def conformal(self, level: float = 0.95) -> pd.DataFrame:
        """Conformal intervals for the effect in each period from ``start`` (Chernozhukov, Wuethrich &
        Zhu 2021; see :mod:`outcomes.synth._conformal`).

        One row per post period: ``observed``, ``counterfactual`` (the synthetic control),
        ``effect`` (the gap) with ``effect_lower``/``effect_upper``, ``relative`` (observed /
        counterfactual - 1) with its bounds (each theta maps to theta / (observed - theta)), and
        ``p_value`` for no effect in that period. Analysis units. With covariates the refits use
        the outcome path alone (the method needs the tested period inside the fit).
        """
        self._check_fitted()
        _check_level(level)
        if level in self._conformal:
            return self._conformal[level]
        P = self.panel
        alpha = 1 - level
        y, Y = P.values[:, 0], P.values[:, 1:]
        y_pre, Y_pre = y[P.pre], Y[P.pre]
        solve, scale = self._conformal_solver(), self._scale()
        rows = {}
        for t in np.flatnonzero(~P.pre):
            def p(theta, t=t):
                return _conformal.period_p_value(solve, y_pre, Y_pre, y[t], Y[t], theta)
            gap = float(self.gap_.iloc[t])
            lo, hi = _conformal.invert(p, gap, scale, alpha)
            rows[time_label(P.times[t])] = {"observed": y[t], "counterfactual": y[t] - gap, "effect": gap,
                                            "effect_lower": lo, "effect_upper": hi,
                                            **_relative(y[t], gap, lo, hi), "p_value": p(0.0)}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = self.time
        table.attrs["method"] = CONFORMAL_METHOD
        table.attrs["level"] = level
        self._conformal[level] = table
        return table

    # ------------------------------------------------------------------ effects
    def _period(self, value, what: str) -> int:
        when = parse_time(value, self.panel.times, what)
        hits = np.flatnonzero(self.panel.times == when)
        if not len(hits):
            raise SynthInputError(f"{what} {time_label(when)} is not a period of the data "
                                  f"({time_label(self.panel.times[0])} to {time_label(self.panel.times[-1])})")
        if self.panel.pre[hits[0]]:
            raise SynthInputError(f"{what} {time_label(when)} is before the start {time_label(self.start)}")
        return int(hits[0])

    def effect(self, at=None, cumulative_from=None, *, level: float = 0.95) -> pd.DataFrame:
        """The effect at one period and summed over a span, in the shape of the ITS result.

        Rows "point" (period ``at``, default the last) and "cumulative" (``cumulative_from``, default
        ``start``, to ``at`` inclusive). Columns: from, to, observed, counterfactual, absolute
        (observed - counterfactual, analysis units; summed over the span for "cumulative") with
        ``absolute_lower``/``absolute_upper``, and relative (observed / counterfactual - 1: in the
        count form the rate ratio less one) with its bounds; ``observed_count`` with counts.
        Intervals: conformal (:meth:`conformal`) for the point; for the span, the interval of a
        constant per-period effect over it, times its length (see :mod:`outcomes.synth._conformal`).
        """
        self._check_fitted()
        _check_level(level)
        P = self.panel
        last = len(P.times) - 1
        at_i = last if at is None else self._period(at, "at")
        from_i = int(np.flatnonzero(~P.pre)[0]) if cumulative_from is None else self._period(cumulative_from, "cumulative_from")
        if from_i > at_i:
            raise SynthInputError(f"cumulative_from {time_label(P.times[from_i])} is after at {time_label(P.times[at_i])}")
        y, Y = P.values[:, 0], P.values[:, 1:]
        gap = self.gap_.to_numpy()
        label = time_label(P.times[at_i])
        point = self.conformal(level).loc[label]
        out = {"point": {"from": label, "to": label, "observed": y[at_i], "counterfactual": y[at_i] - gap[at_i],
                         "absolute": gap[at_i], "absolute_lower": point["effect_lower"],
                         "absolute_upper": point["effect_upper"], "relative": point["relative"],
                         "relative_lower": point["relative_lower"], "relative_upper": point["relative_upper"]}}
        span = np.arange(from_i, at_i + 1)
        k = len(span)
        solve = self._conformal_solver()

        def p(c):
            return _conformal.span_p_value(solve, y[P.pre], Y[P.pre], y[span], Y[span], c)

        lo, hi = _conformal.invert(p, float(gap[span].mean()), self._scale() / np.sqrt(k), 1 - level)
        obs, total = float(y[span].sum()), float(gap[span].sum())
        out["cumulative"] = {"from": time_label(P.times[from_i]), "to": label, "observed": obs,
                             "counterfactual": obs - total, "absolute": total, "absolute_lower": k * lo,
                             "absolute_upper": k * hi, **_relative(obs, total, k * lo, k * hi, prefix="relative")}
        table = pd.DataFrame.from_dict(out, orient="index")
        if P.counts is not None:
            table["observed_count"] = [P.counts[at_i, 0], P.counts[span, 0].sum()]
        table.attrs["method"] = CONFORMAL_METHOD
        return table

    def effect_summary(self, what: str | None = None, at=None, *, level: float = 0.95) -> str:
        """The relative effect at ``at`` (default the last period) as one sentence with its
        conformal interval, e.g. "In March 2024 CYP bed days were 31% (95% CI 18% to 42%) below what
        a synthetic control of 6 donor areas predicted."."""
        row = self.effect(at=at, level=level).loc["point"]
        used = int((self.weights_ > 1e-6).sum())
        comparison = f"what a synthetic control of {used} donor {'unit' if used == 1 else 'units'} predicted"
        return effect_sentence(what or self.outcome, row["relative"], row["relative_lower"], row["relative_upper"],
                               row["to"], comparison=comparison, level=level)

    # ------------------------------------------------------------------ plot
    def plot(self, axes=None, *, placebo: bool = True, what: str | None = None):
        """Two panels: the treated unit against its synthetic control, and the gap with the
        placebo gaps drawn faintly behind it (those kept by the last :meth:`placebo`; run with
        defaults if none). Counts are disclosure-controlled before drawing (see
        :mod:`outcomes.synth._plot`). Returns the two Axes."""
        from ._plot import plot_control

        self._check_fitted()
        if placebo and self.placebo_ is None:
            self.placebo()
        return plot_control(self, axes, placebo=placebo, what=what)

    def __repr__(self) -> str:
        state = "unfitted" if not hasattr(self, "weights_") else f"pre_rmspe={self.pre_rmspe_:.4g}"
        return (f"SyntheticControl(treated={self.treated!r}, start={time_label(self.start)}, form={self.form!r}, "
                f"donors={len(self.panel.donors)}, {state})")


CONFORMAL_METHOD = ("conformal inference (Chernozhukov, Wuethrich & Zhu 2021): per-period intervals by test "
                    "inversion with refits on the pre-period and the tested period; spans as a constant effect "
                    "with moving-block permutations")


def _check_level(level) -> None:
    if not (isinstance(level, float) and 0 < level < 1):
        raise SynthInputError(f"level {level!r}: give a proportion between 0 and 1 (e.g. 0.95)")


def _relative(observed: float, effect: float, lo: float, hi: float, prefix: str = "relative") -> dict:
    """Relative effect effect / (observed - effect) and its bounds (increasing in the effect)."""
    def rel(theta):
        if np.isinf(theta):
            return -1.0 if theta < 0 else np.inf
        cf = observed - theta
        return theta / cf if cf > 0 else (np.inf if theta > 0 else np.nan)
    return {prefix: rel(effect), f"{prefix}_lower": rel(lo), f"{prefix}_upper": rel(hi)}
