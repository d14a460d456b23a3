"""The experiment object: checks the input, builds the segmented-regression design and formula."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from statsmodels.regression.linear_model import OLS

from . import _periods
from ._errors import ITSInputError, ITSNotEstimable
from ._estimation import COV_TYPES, FAMILIES, LOG_LINK, fit_design
from ._result import ITSResult
from ._terms import Component, Term, programme_terms

_RESERVED = {"time", "post", "time_post", "treated", "month", "period", "date", "unit", "in_fit"}
_GENERATED = re.compile(r"^(post_|time_post_|log_|sin\d$|cos\d$)")


def _name(col: str) -> str:
    """A column as written in a formula (quoted when it is not a plain identifier)."""
    return col if col.isidentifier() else f'Q("{col}")'


class InterruptedTimeSeries:
    """Segmented regression for an interrupted time series (one object per analysis).

    Parameters
    ----------
    data : DataFrame, one row per period (per unit for a controlled design).
    outcome : column of the outcome (counts for count families; any number for gaussian).
    date : column of periods: first-of-month timestamps or 'YYYY-MM' strings (monthly), or
        integer years (yearly). ``freq`` ('M' or 'Y') overrides the inference.
    interruption : first period of the programme, e.g. "2017-10" or 1989.
    family : "gaussian" (OLS/GLS, effects in outcome units), "poisson", "quasipoisson" (Poisson
        with Pearson scale) or "negbin" (NB2, alpha by maximum likelihood); the count families
        use a log link and report rate ratios.
    offset : column of a population or exposure; its log enters as an offset (count families).
    seasonality : None, an int k (k Fourier harmonics of period 12: sin1, cos1, ... sink, cosk)
        or "month" (month indicators, January the reference). Monthly data only.
    cov_type : variance of the coefficients.
        "ar1" (default): AR(1) errors, rho by REML; gaussian is fitted by statsmodels GLS
        (Prais-Winsten GLS), count families by statsmodels GEE with that AR(1) working
        correlation (quasi-likelihood GLS). Default because it kept 95% intervals for the level
        change at 93-95% coverage with rho 0 and 0.5 in 120-month series, where Newey-West gave
        84-92% and naive OLS 75% (benchmarks/its_coverage.py; cf. Turner et al. 2021).
        "newey": coefficients of OLS/GLM with Newey-West (Bartlett) HAC errors, lag ``maxlags``
        (default floor(4 (n/100)^(2/9))), n/(n-k) correction and t(n-k) inference: Stata
        ``newey``/``itsa``. "glsar": statsmodels GLSAR (iterated Yule-Walker AR(1); gaussian,
        single series). "naive": model-based (OLS; GLM with Pearson scale for quasipoisson).
        When each is right, and what the intervals do not carry: the ``outcomes.its`` docstring.
    maxlags : Newey-West lag (cov_type="newey").
    transition : length in periods of a phase-in window starting at the interruption, either
        left out of the fit (``transition_method="exclude"``) or modelled as a linear ramp of
        the level change ("ramp"). The level change is the full step after the window; the
        slope change counts from the end of the window.
    extra_interruptions : {name: period} for context interruptions (e.g. {"covid": "2020-03"}),
        each with its own level (``post_<name>``) and slope (``time_post_<name>``) terms. They
        stay in the counterfactual: it removes only the programme terms. Shorthand for
        ``components=[Component(name, period, programme=False)]``.
    components : further :class:`Component` s: other parts of the programme (own start,
        transition window, level and slope terms; removed from the counterfactual) or context
        (kept in it). The ``interruption`` itself is the programme component named ``name``
        (default "programme"), whose rows stay ``level_change`` and ``slope_change``.
        ``effect``, ``counterfactual`` and ``component_effects`` remove any chosen set.
    name : the name of the ``interruption`` component (labels only).
    slope : False makes the programme a level change only (no ``time_post`` term, no
        ``slope_change`` or ``post_slope`` row): the pre-period trend runs on through it. A step is
        what a service that removes a share of events predicts, and leaving out the slope narrows
        the interval of an effect a year after the go-live (benchmarks/its_coverage.py measures both).
    group, treated, controls : a controlled ITS. ``group`` names the unit column, ``treated``
        the treated unit; every other unit is a control. ``controls="pooled"`` (default) makes one
        comparison series (the mean per period for gaussian, the sum of counts and offsets for
        count families); ``"stacked"`` keeps each control unit, as Stata ``itsa`` estimates it.
        The two are stacked with the treated series and interacted with ``treated``.
    covariates : extra columns adjusted for (kept in the counterfactual).
    min_points : fewest fitted periods allowed in each segment (before, between and after
        interruptions); two interruptions closer than that, or one with fewer periods after it,
        raise :class:`ITSInputError` naming both dates.
    """

    def __init__(self, data: pd.DataFrame, outcome: str, date: str, interruption, *,
                 family: str = "gaussian", offset: str | None = None, seasonality=None,
                 cov_type: str = "ar1", maxlags: int | None = None, freq: str | None = None,
                 transition: int = 0, transition_method: str = "exclude",
                 extra_interruptions: Mapping[str, object] | None = None,
                 group: str | None = None, treated=None, controls: str = "pooled",
                 covariates: Sequence[str] = (), min_points: int = 3,
                 components: Sequence[Component] = (), name: str = "programme", slope: bool = True):
        if not isinstance(data, pd.DataFrame):
            raise ITSInputError("data must be a pandas DataFrame")
        if len(data) == 0:
            raise ITSInputError("data has no rows")
        self.outcome, self.date, self.offset, self.group = outcome, date, offset, group
        self.treated, self.controls = treated, controls
        self.family, self.cov_type, self.maxlags = family, cov_type, maxlags
        self.seasonality, self.transition, self.transition_method = seasonality, int(transition), transition_method
        self.covariates = list(covariates)
        self.min_points = int(min_points)
        self._check_options(data)
        self.freq = freq or _periods.infer_freq(data[date])
        if self.freq not in _periods.FREQS:
            raise ITSInputError(f"freq must be 'M' or 'Y', not {freq!r}")
        if self.seasonality is not None and self.freq != "M":
            raise ITSInputError("seasonality needs monthly data")
        frame = self._long_frame(data)
        self.start_period = int(frame["period"].min())
        self.end_period = int(frame["period"].max())
        self.interruption = self._interruption(interruption, "interruption")
        extra = dict(extra_interruptions or {})
        for key in extra:
            if not (isinstance(key, str) and key.isidentifier()):
                raise ITSInputError(f"extra interruption names must be identifiers, not {key!r}")
        extras = [Component(k, v, programme=False) for k, v in extra.items()] + list(components)
        self.terms = [Term(name, self.interruption, self.transition, self.transition_method, True,
                           "post", "time_post", ("level_change", "slope_change"), bool(slope))]
        self.terms += [self._term(c) for c in extras]
        self._check_terms()
        self.extra_interruptions = {t.name: t.period for t in self.terms[1:] if not t.programme}
        self.data = self._add_terms(frame)
        self._check_segments()
        self.formula = self._formula()
        self.result = None

    # ------------------------------------------------------------------ checks
    def _check_options(self, data: pd.DataFrame) -> None:
        if self.family not in FAMILIES:
            raise ITSInputError(f"family must be one of {FAMILIES}, not {self.family!r}")
        if self.cov_type not in COV_TYPES:
            raise ITSInputError(f"cov_type must be one of {COV_TYPES}, not {self.cov_type!r}")
        if self.cov_type == "glsar" and (self.family != "gaussian" or self.group is not None):
            raise ITSInputError("cov_type='glsar' is for a single gaussian series")
        if self.offset is not None and self.family not in LOG_LINK:
            raise ITSInputError("an offset needs a count family (poisson, quasipoisson, negbin)")
        if self.transition < 0 or self.transition_method not in ("exclude", "ramp"):
            raise ITSInputError("transition must be >= 0 and transition_method 'exclude' or 'ramp'")
        if self.controls not in ("pooled", "stacked"):
            raise ITSInputError("controls must be 'pooled' or 'stacked'")
        if self.maxlags is not None and int(self.maxlags) < 0:
            raise ITSInputError("maxlags must be >= 0")
        s = self.seasonality
        if not (s is None or s == "month" or (isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 1 <= s <= 6)):
            raise ITSInputError("seasonality must be None, 'month' or a number of harmonics 1-6")
        needed = [self.outcome, self.date, self.offset, self.group, *self.covariates]
        missing = [c for c in needed if c is not None and c not in data.columns]
        if missing:
            raise ITSInputError(f"columns not in data: {missing}")
        clash = {c for c in (self.outcome, self.offset, *self.covariates)
                 if c in _RESERVED or (isinstance(c, str) and _GENERATED.match(c))}
        if clash:
            raise ITSInputError(f"rename columns {sorted(clash)}: the design uses those names")
        for col in [self.outcome, self.offset, *self.covariates]:
            if col is not None and not ptypes.is_numeric_dtype(data[col]):
                raise ITSInputError(f"column {col!r} must be numeric")
        y = data[self.outcome]
        if y.isna().any():
            where = data.loc[y.isna(), self.date].astype(str).tolist()[:5]
            raise ITSInputError(f"missing outcome values ({self.outcome!r}) at {where}")
        if not np.isfinite(y.to_numpy(dtype=float)).all():
            raise ITSInputError(f"infinite outcome values in {self.outcome!r}")
        if self.family in LOG_LINK and (y < 0).any():
            raise ITSInputError(f"negative counts in {self.outcome!r} with family {self.family!r}")
        if self.offset is not None and (data[self.offset].isna().any() or (data[self.offset] <= 0).any()):
            raise ITSInputError(f"offset column {self.offset!r} must be positive with no missing values")
        for col in self.covariates:
            if data[col].isna().any():
                raise ITSInputError(f"missing values in covariate {col!r}")
        if self.group is not None:
            if self.treated is None or self.treated not in set(data[self.group]):
                raise ITSInputError(f"treated={self.treated!r} is not a value of {self.group!r}")
            if data[self.group].nunique() < 2:
                raise ITSNotEstimable(f"a controlled design needs at least one control unit: {self.group!r} holds only "
                                      f"{self.treated!r}")

    def _interruption(self, value, what: str) -> int:
        p = _periods.to_period(value, self.freq, what)
        if not self.start_period <= p <= self.end_period:
            lo, hi = (_periods.label(x, self.freq) for x in (self.start_period, self.end_period))
            raise ITSInputError(f"the {what} {_periods.label(p, self.freq)} is outside the data ({lo} to {hi})")
        return p

    def _term(self, component) -> Term:
        if not isinstance(component, Component):
            raise ITSInputError(f"components must be outcomes.its.Component, not {type(component).__name__}")
        c = component
        if not (isinstance(c.name, str) and c.name.isidentifier()):
            raise ITSInputError(f"component names must be identifiers, not {c.name!r}")
        if int(c.transition) < 0 or c.transition_method not in ("exclude", "ramp"):
            raise ITSInputError(f"component {c.name!r}: transition must be >= 0 and transition_method 'exclude' or 'ramp'")
        what = f"{'programme component' if c.programme else 'extra interruption'} {c.name!r}"
        return Term(c.name, self._interruption(c.start, what), int(c.transition), c.transition_method,
                    bool(c.programme), f"post_{c.name}", f"time_post_{c.name}",
                    (f"{c.name}_level_change", f"{c.name}_slope_change"), bool(c.slope))

    def _check_terms(self) -> None:
        names = [t.name for t in self.terms]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ITSInputError(f"two interruptions share the name {twice[0]!r}")
        first = self.terms[0]
        for t in self.terms[1:]:
            if t.period == first.period:
                kind = "an extra interruption" if not t.programme else "component"
                raise ITSInputError(f"{kind} ({t.name!r}) falls on the programme interruption "
                                    f"{_periods.label(first.period, self.freq)}")

    def _label(self, t: Term) -> str:
        return f"{t.name} ({_periods.label(t.period, self.freq)})"

    def _check_segments(self) -> None:
        """Every stretch before, between and after interruptions keeps ``min_points`` fitted periods."""
        d = self.data[self.data["unit"] == self.data["unit"].iloc[0]]
        period, fit = d["period"].to_numpy(), d["in_fit"].to_numpy()
        terms = sorted(self.terms, key=lambda t: t.period)
        first, last = (_periods.label(p, self.freq) for p in (self.start_period, self.end_period))
        need = f"min_points={self.min_points}"
        for lo, hi in zip([None, *terms], [*terms, None]):
            a = self.start_period if lo is None else lo.period
            b = self.end_period + 1 if hi is None else hi.period
            n = int(np.sum(fit & (period >= a) & (period < b)))  # rows of an excluded window do not count
            if n >= self.min_points:
                continue
            if lo is not None and hi is not None and lo.period == hi.period:
                raise ITSInputError(f"interruptions {self._label(lo)} and {self._label(hi)} fall on the same period")
            if lo is None:
                where = f"before the first interruption {self._label(hi)}; the data start {first}"
            elif hi is None:
                where = f"after the interruption {self._label(lo)}; the data end {last}"
            else:
                where = f"between the interruptions {self._label(lo)} and {self._label(hi)}"
            raise ITSNotEstimable(f"too few points {where}: {n} fitted periods < {need} "
                                "(an excluded transition window does not count)")

    # ------------------------------------------------------------------ design
    def _long_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        cols = list(dict.fromkeys([self.outcome, *self.covariates] + ([self.offset] if self.offset else [])))
        frame = data[cols].copy()
        frame["period"] = _periods.to_periods(data[self.date], self.freq)
        frame["unit"] = data[self.group].to_numpy() if self.group else "treated"
        dup = frame.duplicated(["unit", "period"])
        if dup.any():
            where = [_periods.label(p, self.freq) for p in frame.loc[dup, "period"].head(5)]
            raise ITSInputError(f"duplicate periods in {self.date!r}: {where}")
        spans = frame.groupby("unit")["period"].agg(["min", "max", "count"])
        gaps = spans[spans["max"] - spans["min"] + 1 != spans["count"]]
        if len(gaps):
            u = gaps.index[0]
            have = set(frame.loc[frame["unit"] == u, "period"])
            lost = [_periods.label(p, self.freq) for p in range(int(gaps.loc[u, "min"]), int(gaps.loc[u, "max"]) + 1)
                    if p not in have][:5]
            raise ITSInputError(f"missing periods in {self.date!r}: {lost} (fill or impute them first)")
        if self.group is not None:
            if spans[["min", "max"]].nunique().max() > 1:
                raise ITSInputError("every unit must cover the same periods (a balanced panel)")
            frame["treated"] = (frame["unit"] == self.treated).astype(float)
            if self.controls == "pooled":
                frame = self._pool_controls(frame)
        else:
            frame["treated"] = 1.0
        order = np.where(frame["treated"] == 1.0, 0, 1)
        frame = frame.assign(_o=order).sort_values(["_o", "unit", "period"], kind="stable").drop(columns="_o")
        return frame.reset_index(drop=True)

    def _pool_controls(self, frame: pd.DataFrame) -> pd.DataFrame:
        ctrl = frame[frame["treated"] == 0]
        how = {c: "mean" for c in self.covariates}
        how[self.outcome] = "mean" if self.family == "gaussian" else "sum"
        if self.offset:
            how[self.offset] = "sum"
        pooled = ctrl.groupby("period", as_index=False).agg(how).assign(unit="controls", treated=0.0)
        return pd.concat([frame[frame["treated"] == 1], pooled], ignore_index=True)

    def _add_terms(self, frame: pd.DataFrame) -> pd.DataFrame:
        f = frame
        f["date"] = _periods.labels(f["period"].to_numpy(), self.freq)
        f["time"] = (f["period"] - self.start_period).astype(float)
        time = f["time"].to_numpy()
        f["in_fit"] = True
        for t in self.terms:
            post, time_post, in_fit = programme_terms(time, t.period - self.start_period, t.transition,
                                                      t.transition_method)
            f[t.level], f[t.slope] = post, time_post
            f["in_fit"] &= in_fit
        if self.seasonality is not None:
            f["month"] = f["period"] % 12 + 1
            if self.seasonality != "month":
                angle = 2 * np.pi * (f["period"] % 12).to_numpy() / 12
                for j in range(1, int(self.seasonality) + 1):
                    f[f"sin{j}"] = np.sin(j * angle)
                    f[f"cos{j}"] = np.cos(j * angle)
                if int(self.seasonality) == 6:
                    f = f.drop(columns="sin6")  # sin(pi m) is 0 for every month
        if self.offset:
            f[f"log_{self.offset}"] = np.log(f[self.offset].astype(float))
        return f

    def _seasonal_terms(self) -> list[str]:
        if self.seasonality is None:
            return []
        if self.seasonality == "month":
            return ["C(month)"]
        k = int(self.seasonality)
        return [t for j in range(1, k + 1) for t in (f"sin{j}", f"cos{j}") if t != "sin6"]

    def _formula(self) -> str:
        main = self.terms[0].design_columns()
        terms = ["time", *main]
        if self.group is not None:
            terms += ["treated", "treated:time", *(f"treated:{c}" for c in main)]
        for t in self.terms[1:]:
            terms += t.design_columns()
            if self.group is not None and t.programme:
                terms += [f"treated:{c}" for c in t.design_columns()]
        terms += self._seasonal_terms() + [_name(c) for c in self.covariates]
        return f"{_name(self.outcome)} ~ " + " + ".join(terms)

    @property
    def programme_columns(self) -> list[str]:
        """Design columns of the ``interruption`` component (what a placebo moves)."""
        return self.terms[0].columns(self.group is not None)

    @property
    def programme_names(self) -> list[str]:
        """Names of the programme components (removed from the default counterfactual)."""
        return [t.name for t in self.terms if t.programme]

    def term(self, name: str) -> Term:
        """The component called ``name`` as placed in the design."""
        for t in self.terms:
            if t.name == name:
                return t
        raise ITSInputError(f"no interruption named {name!r}; known: {', '.join(t.name for t in self.terms)}")

    def removed_columns(self, remove=None) -> list[str]:
        """Design columns zeroed for a counterfactual without the components ``remove`` (names;
        default every programme component)."""
        names = self.programme_names if remove is None else ([remove] if isinstance(remove, str) else list(remove))
        return [c for n in names for c in self.term(n).columns(self.group is not None)]

    def design(self, frame: pd.DataFrame | None = None) -> pd.DataFrame:
        """The design matrix statsmodels builds from ``self.formula`` (all rows of ``frame``)."""
        frame = self.data if frame is None else frame
        model = OLS.from_formula(self.formula, frame)  # = statsmodels.formula.api.ols, without importing statsmodels.api
        return pd.DataFrame(model.exog, columns=model.exog_names, index=frame.index)

    # ------------------------------------------------------------------ fit
    def fit(self) -> "ITSResult":
        """Fit the model; returns an :class:`ITSResult` (also kept as ``self.result``)."""
        X_all = self.design()
        fit_rows = self.data["in_fit"].to_numpy()
        X = X_all[fit_rows]
        if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
            raise ITSNotEstimable("the design is rank deficient: too few points for the terms requested")
        if X.shape[0] - X.shape[1] < 2:
            raise ITSNotEstimable(f"too few points ({X.shape[0]}) for {X.shape[1]} coefficients")
        d = self.data[fit_rows]
        if self.family in LOG_LINK:
            self._check_zero_segments(d)
        offset = d[f"log_{self.offset}"].to_numpy() if self.offset else None
        unit_codes = pd.factorize(d["unit"])[0]
        fitted = fit_design(d[self.outcome].astype(float), X, offset=offset, unit=unit_codes,
                            time=d["time"].to_numpy(), family=self.family, cov_type=self.cov_type,
                            maxlags=self.maxlags)
        bad = [c for c in X.columns if not (np.isfinite(fitted.params[c]) and np.isfinite(fitted.cov.loc[c, c]))]
        if bad:
            raise ITSNotEstimable(f"the fit gave no finite estimate for {bad}: the data cannot identify those terms "
                                "(check for long runs of zero counts or a change the model does not describe)")
        self.result = ITSResult(self, fitted, X_all)
        return self.result

    def _check_zero_segments(self, d: pd.DataFrame) -> None:
        """A stretch between interruptions whose counts are all 0 has no finite level on the log
        scale (the rate ratio's estimate is 0 and its interval undefined): say so before fitting."""
        cuts = sorted({t.period for t in self.terms})
        for unit, rows in d.groupby("unit", sort=False):
            for lo, hi in zip([self.start_period, *cuts], [*cuts, self.end_period + 1]):
                seg = rows[(rows["period"] >= lo) & (rows["period"] < hi)]
                if len(seg) and (seg[self.outcome] == 0).all():
                    a, b = (_periods.label(p, self.freq) for p in (int(seg["period"].min()), int(seg["period"].max())))
                    who = "" if self.group is None else f" of {unit!r}"
                    raise ITSNotEstimable(
                        f"every count of {self.outcome!r}{who} is 0 from {a} to {b}: a log-link model has no finite "
                        "level there (rate ratio 0, interval undefined); choose interruptions that do not isolate "
                        "an all-zero stretch, or report the counts instead")

    def __repr__(self) -> str:
        return (f"InterruptedTimeSeries({self.formula!r}, family={self.family!r}, "
                f"cov_type={self.cov_type!r}, interruption={_periods.label(self.interruption, self.freq)})")
