"""Length of stay as time to discharge: Kaplan-Meier, RMST and Cox, on lifelines.

One fitter, :class:`LengthOfStay`, in lifelines' style: ``fit(...)`` returns self, results are
attributes with a trailing underscore, ``.summary`` is a DataFrame and ``.plot()`` returns an Axes.
It takes a plain pandas frame with one row per stay; the column names are arguments.

The "event" is discharge, so the survival curve is the proportion of stays still in hospital
``t`` days after admission. Stays still open at the extract date are *censored* at their length so
far (event = False), never dropped: dropping them, or treating them as discharged, shortens the
estimated length of stay.

What comes from lifelines: the Kaplan-Meier fit, the median and its confidence interval
(``median_survival_times`` on the KM pointwise log(-log) interval), the RMST point estimate
(``restricted_mean_survival_time``), the log-rank test (``multivariate_logrank_test``; with two
groups it equals ``logrank_test``), the Cox model (``CoxPHFitter`` with a formula) and the
proportional-hazards test (``proportional_hazard_test``, scaled Schoenfeld residuals against rank
time, the test ``check_assumptions`` runs).

What is written by hand, and why: the *standard error* of the RMST. lifelines'
``restricted_mean_survival_time(..., return_variance=True)`` returns the variance of the truncated
time min(T, tau) (a property of the distribution, lifelines issues #1456 and #1682), not the
sampling variance of the estimate, so confidence intervals built on it are far too wide. We use the
Greenwood-type estimator of Klein & Moeschberger (2003, eq. 4.4.4), as R's ``survRM2::rmst2``::

    Var(RMST(tau)) = sum over event times t_i < tau of  A_i^2 d_i / (n_i (n_i - d_i)),
    A_i = integral from t_i to tau of S(u) du

(terms with n_i = d_i contribute 0). The between-group RMST difference and its CI are then
computed by hand: difference = RMST_group - RMST_reference, SE = sqrt(Var_1 + Var_2) (independent
groups), normal-theory Wald interval and two-sided P value.

Units: durations, horizon, medians and RMSTs are in days. Hazard ratios are hazards of
*discharge*: HR > 1 means faster discharge, i.e. shorter stays.

Disclosure: the summary's count columns (``n``, ``events_n``, ``censored_n`` and, on rows with
an RMST difference, the reference group's ``reference_n``...) follow the naming convention in
:mod:`outcomes.disclosure`, so ``redact_table(los.summary)`` redacts every statistic built on a
small count (strictly: any small count in a row redacts the whole row; pass
``derived=los.summary_depends_on`` for the precise dependencies). ``logrank_``, ``cox_summary_`` and ``ph_test_`` carry no counts: publish them through
:func:`outcomes.disclosure.models.gate_model_table`, which withholds the rows of groups with too
few people or discharges. The number-at-risk table in :meth:`LengthOfStay.plot` takes a
``count_formatter`` (e.g. ``outcomes.disclosure.format_count``), and ``min_at_risk`` stops each
curve where fewer stays are at risk (the steps of a curve over a handful of stays show their
counts; the output checker cannot see inside figures).

Example
-------
>>> import pandas as pd
>>> stays = pd.DataFrame({
...     "los_days":   [2, 3, 3, 5, 8, 4, 6, 9, 12, 15],
...     "discharged": [1, 1, 0, 1, 1, 1, 1, 1, 0, 1],
...     "period": ["before"] * 5 + ["after"] * 5,
... })
>>> los = LengthOfStay(horizon_days=6, reference_group="before").fit(stays)
>>> float(los.medians_.loc["before", "median"])
5.0
>>> round(float(los.rmst_.loc["before", "rmst"]), 2)   # 2*1 + 1*0.8 + 2*0.6 + 1*0.3
4.3
>>> los.summary.columns[:4].tolist()
['n', 'events_n', 'censored_n', 'median']
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from typing import TYPE_CHECKING

from outcomes.errors import NotEstimable

if TYPE_CHECKING:  # lifelines takes about 4.5 s to import here: loaded by `fit`, when a model is fitted
    from lifelines import CoxPHFitter, KaplanMeierFitter
    from lifelines.statistics import StatisticalResult

__all__ = ["LengthOfStay", "last_time_at_risk", "rmst_variance"]


def rmst_variance(kmf: KaplanMeierFitter, horizon: float) -> float:
    """Sampling variance (days^2) of the Kaplan-Meier RMST up to ``horizon`` days.

    Greenwood-type estimator, Klein & Moeschberger eq. 4.4.4 (as ``survRM2``); written by hand
    because lifelines' ``return_variance`` gives Var(min(T, horizon)) instead.
    """
    table = kmf.event_table
    times = table.index.to_numpy(dtype=float)
    at_risk = table["at_risk"].to_numpy(dtype=float)
    deaths = table["observed"].to_numpy(dtype=float)
    keep = (times < horizon) & (deaths > 0)  # an event at the horizon has area 0
    if not keep.any():
        return 0.0
    survival = kmf.survival_function_.iloc[:, 0]
    # S is a right-continuous step function; its knots up to the horizon, then the horizon itself
    knots = survival.index.to_numpy(dtype=float)
    values = survival.to_numpy(dtype=float)
    inside = knots < horizon
    knots, values = knots[inside], values[inside]
    widths = np.diff(np.append(knots, horizon))
    # area_from[k] = integral from knots[k] to horizon of S(u) du
    area_from = np.cumsum((widths * values)[::-1])[::-1]
    area = np.interp(times[keep], knots, area_from)  # event times are knots, so this is a lookup
    n, d = at_risk[keep], deaths[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(n > d, area**2 * d / (n * (n - d)), 0.0)
    return float(term.sum())


def _formula_term(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"`{name}`"


class LengthOfStay:
    """Length of stay by group: KM medians, RMST at a horizon, log-rank and a Cox model.

    Parameters
    ----------
    horizon_days : RMST horizon tau, in days (e.g. 90).
    confidence_level : for every interval (default 0.95).
    reference_group : the group the others are compared with (RMST difference = group minus
        reference; Cox reference level). Default: the first category if ``group`` is categorical,
        else the first in sorted order.
    min_stays : fewest stays a group needs (default 2); with fewer, or none in the reference
        group, ``fit`` raises :class:`outcomes.errors.NotEstimable` saying so (the count given as
        disclosure control shows it: "<8 stays"). A Cox model that does not converge leaves the
        Kaplan-Meier results standing: ``cox_tables()`` then raises NotEstimable with the reason.
    """

    def __init__(
        self,
        horizon_days: float,
        confidence_level: float = 0.95,
        reference_group: object | None = None,
        min_stays: int = 2,
    ) -> None:
        if not horizon_days > 0:
            raise ValueError("horizon_days must be positive")
        if min_stays < 1:
            raise ValueError("min_stays must be at least 1")
        self.min_stays = int(min_stays)
        self.horizon_days = float(horizon_days)
        self.confidence_level = confidence_level
        self.reference_group = reference_group

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        df: pd.DataFrame,
        duration: str = "los_days",
        event: str = "discharged",
        group: str | None = "period",
        covariates: Sequence[str] | None = None,
        formula: str | None = None,
    ) -> LengthOfStay:
        """Fit to one row per stay: ``duration`` in days (open stays: days so far), ``event`` 1/True
        if discharged (0/False = still open, censored), ``group`` the period or other grouping.

        ``covariates`` are added to the Cox model (non-numeric ones as categorical, first sorted
        level the reference); ``formula`` replaces the Cox right-hand side entirely (formulaic
        syntax, as lifelines; it may use the group and covariate columns only).
        Returns self.
        """
        covariates = list(covariates or [])
        frame = self._model_frame(df, duration, event, group, covariates)
        self.duration_col_, self.event_col_, self.group_col_ = duration, event, group
        self.covariates_ = covariates
        groups = list(frame[group].cat.categories) if group else ["all"]
        self._check_estimable(frame, group, groups)
        self.groups_ = groups
        from lifelines import CoxPHFitter, KaplanMeierFitter
        from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test
        from lifelines.utils import median_survival_times, restricted_mean_survival_time
        from scipy import stats

        alpha = 1 - self.confidence_level
        z = stats.norm.ppf(1 - alpha / 2)

        self.fitters_: dict[object, KaplanMeierFitter] = {}
        counts, medians, rmsts = [], [], []
        for label in groups:
            part = frame[frame[group] == label] if group else frame
            kmf = KaplanMeierFitter(alpha=alpha).fit(
                part[duration], part[event], label=str(label)
            )
            self.fitters_[label] = kmf
            n_events = int(part[event].sum())
            counts.append((len(part), n_events, len(part) - n_events))
            ci = median_survival_times(kmf.confidence_interval_)
            medians.append((float(kmf.median_survival_time_), *map(float, ci.iloc[0, :2])))
            if part[duration].max() < self.horizon_days:
                warnings.warn(
                    f"group {label!r}: horizon {self.horizon_days:g} days is beyond the longest "
                    f"follow-up ({part[duration].max():g} days); its RMST assumes the last KM "
                    "value carries on",
                    stacklevel=2,
                )
            rmst = float(restricted_mean_survival_time(kmf, t=self.horizon_days))
            se = float(np.sqrt(rmst_variance(kmf, self.horizon_days)))
            rmsts.append((rmst, se, rmst - z * se, rmst + z * se))
        index = pd.Index(groups, name=group or "group")
        self.counts_ = pd.DataFrame(counts, index=index, columns=["n", "events_n", "censored_n"])
        self.medians_ = pd.DataFrame(medians, index=index, columns=["median", "lower", "upper"])
        self.rmst_ = pd.DataFrame(rmsts, index=index, columns=["rmst", "se", "lower", "upper"])
        self.rmst_difference_ = self._rmst_differences(z)

        self.logrank_: StatisticalResult | None = None
        if group and len(groups) > 1:
            self.logrank_ = multivariate_logrank_test(frame[duration], frame[group], frame[event])

        self.cox_: CoxPHFitter | None = None
        self.cox_summary_: pd.DataFrame | None = None
        self.cox_problem_: str | None = None
        self.ph_test_: pd.DataFrame | None = None
        terms = ([group] if group and len(groups) > 1 else []) + covariates
        if formula is None and terms:
            formula = " + ".join(_formula_term(t) for t in terms)
        if formula:
            self.cox_formula_ = formula
            from lifelines.exceptions import ConvergenceError

            try:
                cph = CoxPHFitter(alpha=alpha).fit(frame, duration, event, formula=formula)
            except (ConvergenceError, np.linalg.LinAlgError) as error:
                self.cox_problem_ = ("the Cox model did not converge on these stays (" +
                                     str(error).split(".")[0].strip() + ")")
            else:
                self.cox_ = cph
                self.cox_summary_ = cph.summary
                self.ph_test_ = proportional_hazard_test(cph, frame, time_transform="rank").summary
        return self

    def cox_tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The Cox model's summary and its proportional-hazards test; NotEstimable (with the
        reason) when the model was not fitted or did not converge."""
        if self.cox_summary_ is None:
            raise NotEstimable(self.cox_problem_ or "no Cox model: no group or covariate to compare")
        return self.cox_summary_, self.ph_test_

    def _check_estimable(self, frame: pd.DataFrame, group: str | None, groups: list) -> None:
        """NotEstimable unless every group holds `min_stays` stays (and the reference group is there)."""
        from outcomes.disclosure import format_count

        sizes = frame[group].value_counts() if group else pd.Series({"all": len(frame)})
        for label in groups:
            n = int(sizes.get(label, 0))
            if n < self.min_stays:
                where = "" if group is None else f" in the {label!r} group"
                raise NotEstimable(f"{format_count(n) if n else 0} stays{where}; at least {self.min_stays} are needed")

    def _model_frame(self, df, duration, event, group, covariates) -> pd.DataFrame:
        columns = [duration, event] + ([group] if group else []) + covariates
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise KeyError(f"columns not in the frame: {missing}")
        frame = df[columns].copy()
        if frame[[duration, event]].isna().any().any():
            raise ValueError(
                f"{duration!r}/{event!r} have missing values: an open stay needs its length so far "
                "and event = False (censored), not NaN"
            )
        if (frame[duration] < 0).any():
            raise ValueError(f"{duration!r} has negative lengths of stay")
        if not frame[event].isin([0, 1, True, False]).all():
            raise ValueError(f"{event!r} must be 0/1 or boolean")
        frame[event] = frame[event].astype(int)
        frame[duration] = frame[duration].astype(float)
        if frame[covariates].isna().any().any():
            raise ValueError("covariates have missing values: code them as a category, e.g. 'unknown'")
        if group:
            if frame[group].isna().any():
                raise ValueError(f"{group!r} has missing values")
            levels = (
                list(frame[group].cat.categories)
                if isinstance(frame[group].dtype, pd.CategoricalDtype)
                else sorted(frame[group].unique())
            )
            levels = [lv for lv in levels if (frame[group] == lv).any()]
            if self.reference_group is not None:
                if self.reference_group not in levels:
                    raise NotEstimable(f"no stays in the reference group {self.reference_group!r} "
                                       f"({group!r} holds {', '.join(map(repr, levels)) or 'no stays'})")
                levels.remove(self.reference_group)
                levels.insert(0, self.reference_group)
            frame[group] = pd.Categorical(frame[group], categories=levels)
        for name in covariates:
            if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name]):
                if not isinstance(frame[name].dtype, pd.CategoricalDtype):
                    frame[name] = pd.Categorical(frame[name].astype(str))
        return frame

    def _rmst_differences(self, z: float) -> pd.DataFrame:
        """Each group minus the reference; the reference's counts ride along (``reference_n``...)
        so that row-wise disclosure control redacts a difference built on a small reference."""
        from scipy import stats

        rows, labels = [], []
        reference = self.groups_[0]
        ref = self.rmst_.loc[reference]
        ref_counts = self.counts_.loc[reference].tolist()
        for label in self.groups_[1:]:
            this = self.rmst_.loc[label]
            diff = this["rmst"] - ref["rmst"]
            se = float(np.hypot(this["se"], ref["se"]))
            p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
            rows.append((reference, diff, se, diff - z * se, diff + z * se, p, *ref_counts))
            labels.append(label)
        return pd.DataFrame(
            rows,
            index=pd.Index(labels, name=self.rmst_.index.name),
            columns=["reference", "difference", "se", "lower", "upper", "p",
                     "reference_n", "reference_events_n", "reference_censored_n"],
        )

    # --------------------------------------------------------------- output
    @property
    def summary(self) -> pd.DataFrame:
        """One row per group: counts, KM median (days) with CI, RMST (days) with CI, and the RMST
        difference from the reference group with CI and P (NaN on the reference row), next to
        the reference group's counts (``reference_n``, ...) so row-wise disclosure control sees
        every count a row is built on."""
        medians = self.medians_.add_prefix("median_").rename(columns={"median_median": "median"})
        rmst = self.rmst_.add_prefix("rmst_").rename(columns={"rmst_rmst": "rmst"})
        counts = ["reference_n", "reference_events_n", "reference_censored_n"]
        diff = self.rmst_difference_.drop(columns="reference")
        diff = pd.concat(
            [diff.drop(columns=counts).add_prefix("rmst_difference_")
             .rename(columns={"rmst_difference_difference": "rmst_difference"}), diff[counts]],
            axis=1,
        )
        out = pd.concat([self.counts_, medians, rmst], axis=1).join(diff)
        out.insert(out.columns.get_loc("rmst"), "horizon_days", self.horizon_days)
        return out

    @property
    def summary_depends_on(self) -> dict[str, list[str]]:
        """For each statistic in :attr:`summary`, the count columns it is built on: pass as
        ``redact_table(los.summary, derived=los.summary_depends_on)`` so a small reference group
        redacts only the differences, not the other group's own median and RMST."""
        own = ["n", "events_n", "censored_n"]
        reference = ["reference_n", "reference_events_n", "reference_censored_n"]
        return {
            col: own + reference if col.startswith("rmst_difference") else own
            for col in self.summary.columns
            if col not in own + reference + ["horizon_days"]
        }

    def plot(
        self,
        ax=None,
        at_risk_counts: bool = True,
        count_formatter: Callable[[int], str] | None = None,
        ci_show: bool = True,
        min_at_risk: int | None = None,
    ):
        """KM curves (proportion still in hospital by days since admission), one per group, with a
        number-at-risk table under the axis. ``count_formatter`` maps each at-risk count to the
        text shown (pass a disclosure-control formatter for anything published).
        ``min_at_risk`` (e.g. 8, one more than the redaction threshold): each curve stops at the
        last time at least that many stays were at risk, so no step shows a smaller group (a
        group never that big draws no curve). Returns the Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        for kmf in self.fitters_.values():
            stop = last_time_at_risk(kmf, min_at_risk) if min_at_risk else np.inf
            if stop is None:
                continue
            kmf.plot_survival_function(ax=ax, ci_show=ci_show, loc=slice(None, stop))
        ax.set_xlabel("days since admission")
        ax.set_ylabel("proportion still in hospital")
        ax.set_ylim(0, 1.02)
        if at_risk_counts:
            before = set(ax.figure.axes)
            _add_at_risk_counts(list(self.fitters_.values()), ax)
            for table_ax in set(ax.figure.axes) - before:
                # the table's axes lie over the curves: with the house style's grid, its lines
                # would cross the legend drawn beneath them (a board read "aseline")
                table_ax.grid(False)
                if count_formatter is not None:
                    _reformat_counts(table_ax, count_formatter)
        return ax


def last_time_at_risk(kmf: KaplanMeierFitter, min_at_risk: int) -> float | None:
    """The last time (days) at which at least ``min_at_risk`` stays were at risk in a fitted KM
    (so every step up to it rests on that many), or None if there never were."""
    at_risk = kmf.event_table["at_risk"]
    enough = at_risk.index[at_risk >= min_at_risk]
    return float(enough.max()) if len(enough) else None


def _add_at_risk_counts(fitters, ax) -> None:
    from lifelines.plotting import add_at_risk_counts

    add_at_risk_counts(*fitters, ax=ax, fig=ax.figure, rows_to_show=["At risk"])


def _reformat_counts(table_ax, count_formatter: Callable[[int], str]) -> None:
    """Rewrite the count at the end of each line of the at-risk tick labels."""
    labels = []
    for tick in table_ax.get_xticklabels():
        text = re.sub(
            r"(\d+)(?=[ \t]*$)",
            lambda m: str(count_formatter(int(m.group(1)))),
            tick.get_text(),
            flags=re.MULTILINE,
        )
        labels.append(text)
    table_ax.set_xticks(table_ax.get_xticks())
    table_ax.set_xticklabels(labels, ha="right")
