"""Bed days by flow: admissions (a count ITS) and length of stay (survival), combined by simulation.

Occupied bed days are a stock, admissions times length of stay: the bed days of a month are the
days, inside that month, of every stay admitted before its end. A single ITS of monthly bed days
cannot say whether a fall came from fewer admissions or from shorter stays. It also fits the stock
badly: stays admitted before the go-live run on into the months after it, a lagged response the
segmented model does not have. In ``benchmarks/its_coverage.py`` its intervals covered 88-90%.
:class:`BedDayFlow` models the flow and adds it up:

* **admissions**: a fitted count ITS of monthly admissions (``outcomes.its``, log link, e.g.
  quasi-Poisson with the population offset, COVID-19 as context and the transition window left
  out), passed in as its ``ITSResult``;
* **length of stay**, *before* (admitted from the series start, or the last context interruption
  before the go-live, up to the go-live) and *after* (admitted from the end of the transition
  window up to the next context interruption, e.g. COVID-19, or the series end): a
  piecewise-exponential model of time to discharge for each. Open stays are censored at their
  length so far, never dropped. The hazard is constant within pieces cut at quantiles of the
  pooled discharge times. Its maximum likelihood estimate is closed form, discharges / days at risk
  in each piece; lifelines' ``PiecewiseExponentialFitter`` finds the same by numerical
  optimisation in about a second per fit (``tests/test_flow.py`` checks they agree);
* **bed days of month m**: the sum over admission days d (admissions spread evenly over the days of
  their month) of admissions that day x expected days of a stay admitted on d that fall in m. MHS24
  counts the admission day and not the discharge day, so a stay of L days occupies days d to d + L - 1,
  and day d + t is occupied with probability S(t + 1/2): the fitted survival at mid-day.

Programme and counterfactual. With the programme, admissions follow the fitted ITS and stays
admitted after the transition window follow the *after* fit. Within an excluded transition window
both move linearly, (k + 1)/(w + 1) of the way in month k of w, as the ITS's ramp does.
Without it (the counterfactual), admissions follow the ITS with the programme terms removed and
every stay follows the *before* fit. Stays admitted before the series' first month are not
modelled; they matter only for bed days of the first year or so.

Intervals: a parametric bootstrap of both fits, ``n_draws`` draws of the ITS coefficients from
N(params, cov) (the covariance the ITS reports, e.g. AR(1)) and of each piece's log hazard from
N(log(discharges / days at risk), 1 / discharges), independently for before and after. Percentile
intervals of every quantity computed on each draw. Point estimates are at the fitted values.

The split of the change into **admissions** and **length of stay** is the Shapley decomposition
(each factor's change averaged over the two orders of changing them), so the two parts add up to
the total with no order chosen. Unit: bed days, or a proportion of the counterfactual bed days
at the horizon.

Why a module of its own, beside ``survival`` and ``mirror`` and not in ``outcomes.its``: it joins
two statistics modules (a count ITS and a survival model) on plain pandas. ``outcomes.its`` stays
segmented regression and knows nothing of stays.

Example (runs as is; about 2 s)::

    import numpy as np, pandas as pd
    from outcomes.its import InterruptedTimeSeries
    from outcomes.flow import BedDayFlow

    rng = np.random.default_rng(3)
    month = pd.date_range("2015-01-01", periods=60, freq="MS")
    rate = 25 * np.where(month >= "2018-01-01", 0.75, 1.0)
    admissions = pd.DataFrame({"month": month, "admissions": rng.poisson(rate)})
    days = np.concatenate([rng.integers(0, 28, n) for n in admissions["admissions"]])
    admitted = np.repeat(month, admissions["admissions"]) + pd.to_timedelta(days, "D")
    los = np.maximum(1, np.rint(rng.lognormal(np.log(40), 0.9, len(admitted))))
    end = pd.Timestamp("2020-01-01")
    stays = pd.DataFrame({"admitted": admitted, "discharged": admitted + pd.to_timedelta(los, "D") < end})
    stays["los_days"] = np.where(stays["discharged"], los, (end - stays["admitted"]).dt.days)
    its = InterruptedTimeSeries(admissions, "admissions", "month", "2018-01", family="quasipoisson",
                                transition=3, slope=False).fit()
    flow = BedDayFlow(n_draws=1000, seed=1).fit(its, stays)
    print(flow.effect_)   # bed days at the horizon and summed since the transition window: about -25%
    print(flow.split_)    # the admissions part near -25%, the length-of-stay part near 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.disclosure.rules import format_count

__all__ = ["BedDayFlow", "FlowInputError", "piecewise_exponential", "bed_day_kernel"]


class FlowInputError(ValueError):
    """Input the flow model cannot use: says which column, group or months."""


@dataclass(frozen=True)
class PiecewiseExponential:
    """A piecewise-exponential fit of time to discharge: pieces [edges[j], edges[j + 1]) in days
    (the last open-ended), discharges and days at risk in each, the hazard (per day) their ratio."""

    edges: np.ndarray
    events: np.ndarray
    exposure: np.ndarray

    @property
    def hazard(self) -> np.ndarray:
        return self.events / self.exposure

    def draw_log_hazards(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws of the log hazards from their large-sample normal law (variance 1 / discharges)."""
        sd = 1.0 / np.sqrt(self.events)
        return np.log(self.hazard) + rng.standard_normal((n, len(self.events))) * sd


def piecewise_exponential(durations, discharged, breakpoints) -> PiecewiseExponential:
    """Maximum likelihood piecewise-exponential fit (closed form: discharges / days at risk per
    piece). ``durations`` in days (open stays: days so far), ``discharged`` 1/True or 0/False
    (censored), ``breakpoints`` the inner cut points in days. A stay discharged at 0 days counts
    in the first piece."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(discharged, dtype=bool)
    edges = np.r_[0.0, np.asarray(breakpoints, dtype=float)]
    upper = np.r_[edges[1:], np.inf]
    piece = np.clip(np.searchsorted(edges, t, side="left") - 1, 0, len(edges) - 1)  # (lo, hi]; 0 in the first
    events = np.bincount(piece[e], minlength=len(edges)).astype(float)
    exposure = np.clip(t[:, None] - edges[None, :], 0.0, upper - edges).sum(axis=0)
    return PiecewiseExponential(edges=edges, events=events, exposure=exposure)


def _survival_at(log_hazards: np.ndarray, edges: np.ndarray, times: np.ndarray) -> np.ndarray:
    """S(times) for each row of log hazards: exp(-sum_j hazard_j x time spent in piece j)."""
    width = np.r_[np.diff(edges), np.inf]
    spent = np.clip(times[None, :] - edges[:, None], 0.0, width[:, None])  # pieces x times
    return np.exp(-(np.exp(log_hazards) @ spent))


def _cumulative_days(log_hazards: np.ndarray, edges: np.ndarray, n_days: int) -> np.ndarray:
    """C[:, k] = expected occupied days among the first k days of a stay (day t occupied with
    probability S(t + 1/2)); shape (draws, n_days + 1)."""
    s = _survival_at(np.atleast_2d(log_hazards), edges, np.arange(n_days) + 0.5)
    return np.concatenate([np.zeros((s.shape[0], 1)), np.cumsum(s, axis=1)], axis=1)


def bed_day_kernel(cumulative: np.ndarray, month_start: int, month_end: int, n_days: int) -> np.ndarray:
    """Expected days in the month [month_start, month_end) (day numbers) of a stay admitted on each
    day 0 .. n_days - 1, from ``_cumulative_days``; shape (draws, n_days). MHS24: the admission day
    counts, the discharge day does not."""
    d = np.arange(n_days)
    hi = np.clip(month_end - d, 0, None)
    lo = np.clip(month_start - d, 0, None)
    return cumulative[:, hi] - cumulative[:, lo]


def _breakpoints(durations: np.ndarray, discharged: np.ndarray, groups: list[np.ndarray], pieces: int,
                 min_events: int) -> np.ndarray:
    """Cut points at quantiles of the pooled discharge times, merged until each group has
    ``min_events`` discharges in every piece (half-days when the durations are whole days, so no
    discharge sits on a cut)."""
    times = durations[discharged]
    cuts = np.unique(np.quantile(times, np.arange(1, pieces) / pieces))
    if np.all(np.mod(durations, 1) == 0):
        cuts = np.unique(np.floor(cuts) + 0.5)
    cuts = cuts[cuts > 0]
    while len(cuts):
        counts = np.array([piecewise_exponential(durations[g], discharged[g], cuts).events for g in groups])
        low = counts.min(axis=0)
        if low.min() >= min_events:
            break
        j = int(np.argmin(low))  # merge the thinnest piece with a neighbour
        cuts = np.delete(cuts, min(j, len(cuts) - 1))
    return cuts


class BedDayFlow:
    """Bed days by flow: admissions ITS x length of stay, combined by a parametric bootstrap.

    Parameters
    ----------
    horizon_months : the headline month is this many months after the transition window (the
        12th month by default, as ``outcomes.programme.headline_month``), or the series' last
        month if it ends sooner; ``fit(at=...)`` overrides it.
    n_draws : bootstrap draws. seed : seed of the draws (results are reproducible).
    level : confidence level of every interval.
    pieces : pieces of the length-of-stay model before merging (each piece keeps at least
        ``min_events`` discharges in each group).

    Attributes after ``fit`` (bed days are counts of days; relative effects proportions, -0.25 a
    quarter fewer):
    effect_ : rows ``point`` (the horizon month) and ``cumulative`` (from the end of the
        transition window to the horizon): fitted and counterfactual bed days, ``absolute``
        (fitted - counterfactual; negative = bed days averted) and ``relative`` (fitted /
        counterfactual - 1) with CIs.
    split_ : rows ``admissions`` and ``length_of_stay``: each one's part of the change (Shapley),
        ``absolute`` (bed days, cumulative span) and ``relative`` (of the counterfactual bed days at
        the horizon) with CIs; the rows add up to ``effect_``.
    length_of_stay_ : rows ``before`` and ``after``: admission dates used, stays, discharges,
        censored, mean length of stay (days, from the fit) with CI; ``ratio_`` the after / before
        ratio of mean stays with CI.
    admissions_ : the admissions ITS's relative effect at the horizon (its own delta-method CI).
    draws_ : every draw (columns ``relative``, ``absolute``, ``admissions``, ``length_of_stay``,
        ``admissions_relative``, ``length_of_stay_relative``).
    at_, horizon_ : the horizon month ("YYYY-MM") and the rule that chose it.
    """

    def __init__(self, horizon_months: int = 12, n_draws: int = 2000, seed: int = 20261202,
                 level: float = 0.95, pieces: int = 8, min_events: int = 5) -> None:
        if horizon_months < 1 or n_draws < 100 or not 0 < level < 1 or pieces < 1 or min_events < 1:
            raise FlowInputError("horizon_months >= 1, n_draws >= 100, 0 < level < 1, pieces >= 1 and "
                                 "min_events >= 1 are needed")
        self.horizon_months, self.n_draws, self.seed = int(horizon_months), int(n_draws), seed
        self.level, self.pieces, self.min_events = level, int(pieces), int(min_events)

    # ------------------------------------------------------------------ fit
    def fit(self, admissions, stays: pd.DataFrame, *, admitted: str = "admitted", duration: str = "los_days",
            event: str = "discharged", at=None) -> BedDayFlow:
        """Fit to a fitted admissions ITS (``ITSResult``: monthly, log link) and one row per stay:
        ``admitted`` (date), ``duration`` (days; an open stay's days so far) and ``event`` (1/True
        discharged, 0/False open: censored). ``at`` is the horizon month (default: see
        ``horizon_months``). Returns self."""
        its = admissions.its
        if its.freq != "M" or not admissions.log_link or its.group is not None:
            raise FlowInputError("the admissions ITS must be a single monthly series with a log link "
                                 "(poisson, quasipoisson or negbin)")
        months, X1, X0, offset = admissions.treated_designs()
        months = pd.DatetimeIndex(months)
        n_months = len(months)
        go = its.interruption - its.start_period  # month index of the go-live
        window = its.transition
        first_full = go + window
        at_i = self._horizon(months, first_full, at)
        frame = self._stays(stays, admitted, duration, event)

        # which stays inform each length-of-stay fit
        context = sorted(t.period - its.start_period for t in its.terms if not t.programme)
        before_from = max([0] + [c for c in context if c <= go])
        after_to = min([n_months] + [c for c in context if c > first_full])
        starts = months.append(pd.DatetimeIndex([months[-1] + pd.DateOffset(months=1)]))
        spans = {"before": (starts[before_from], starts[go]), "after": (starts[first_full], starts[after_to])}
        groups = {}
        for name, (lo, hi) in spans.items():
            chosen = ((frame["admitted"] >= lo) & (frame["admitted"] < hi)).to_numpy()
            discharges = int(frame.loc[chosen, "event"].sum())
            if discharges < 2 * self.min_events:
                raise FlowInputError(
                    f"length of stay {name}: {format_count(discharges)} discharged stays admitted {lo:%Y-%m} to "
                    f"{(hi - pd.DateOffset(months=1)):%Y-%m}; at least {2 * self.min_events} are needed")
            groups[name] = chosen
        t, e = frame["duration"].to_numpy(float), frame["event"].to_numpy(bool)
        cuts = _breakpoints(t, e, list(groups.values()), self.pieces, self.min_events)
        fits = {name: piecewise_exponential(t[g], e[g], cuts) for name, g in groups.items()}

        # days from the first month's first day to the end of the horizon month
        day_of_month = np.r_[0, np.cumsum(months.days_in_month.to_numpy())]
        n_days = int(day_of_month[at_i + 1])
        month_of_day = np.repeat(np.arange(at_i + 1), months.days_in_month.to_numpy()[: at_i + 1])
        ramp = np.zeros(n_months)
        ramp[go:first_full] = (np.arange(window) + 1) / (window + 1)
        ramp[first_full:] = 1.0
        if its.transition_method == "ramp":  # the ITS itself ramps admissions through the window
            shift = np.zeros(n_months)
        else:
            shift = np.where((np.arange(n_months) >= go) & (np.arange(n_months) < first_full), ramp, 0.0)

        rng = np.random.default_rng(self.seed)
        b, V = admissions.params.to_numpy(), admissions.cov.to_numpy()
        coef = np.vstack([b, rng.multivariate_normal(b, V, size=self.n_draws, method="eigh")])
        los = {name: np.vstack([np.log(f.hazard), f.draw_log_hazards(rng, self.n_draws)]) for name, f in fits.items()}
        # row 0 of every array is the point estimate, rows 1.. the draws
        eta1, eta0 = X1 @ coef.T + offset[:, None], X0 @ coef.T + offset[:, None]  # months x (1 + draws)
        step = (eta1 - eta0)[min(first_full, n_months - 1)]
        eta1 = eta1 + shift[:, None] * step[None, :]
        per_day = lambda eta: (np.exp(eta) / months.days_in_month.to_numpy()[:, None])[month_of_day].T  # noqa: E731
        A1, A0 = per_day(eta1), per_day(eta0)  # (1 + draws) x days up to the horizon
        r = ramp[month_of_day][None, :]
        C = {name: _cumulative_days(lh, fits[name].edges, n_days) for name, lh in los.items()}

        span = range(first_full, at_i + 1)
        totals = {k: np.zeros(self.n_draws + 1) for k in ("f11", "f00", "f10", "f01")}
        for m in span:
            Wb = bed_day_kernel(C["before"], day_of_month[m], day_of_month[m + 1], n_days)
            Wa = bed_day_kernel(C["after"], day_of_month[m], day_of_month[m + 1], n_days)
            Wp = (1 - r) * Wb + r * Wa
            # f<admissions><stays>: 1 with the programme, 0 without
            month = {"f11": (A1 * Wp).sum(1), "f00": (A0 * Wb).sum(1), "f10": (A1 * Wb).sum(1), "f01": (A0 * Wp).sum(1)}
            for k, v in month.items():
                totals[k] += v
            if m == at_i:
                point = month
        self._tabulate(point, totals, months, first_full, at_i)
        self._length_of_stay(fits, los, groups, spans)
        self.admissions_ = admissions.effect(at=self.at_, level=self.level).loc["point"]
        self.admissions_result_ = admissions
        self.fits_ = fits
        return self

    def _horizon(self, months: pd.DatetimeIndex, first_full: int, at) -> int:
        if first_full >= len(months):
            raise FlowInputError(f"the series ends ({months[-1]:%Y-%m}) before the transition window does")
        if at is None:
            wanted = first_full + self.horizon_months - 1
            at_i = min(wanted, len(months) - 1)
            self.horizon_ = (f"month {self.horizon_months} after the transition window" if wanted == at_i else
                             f"the last month of the series: it ends before month {self.horizon_months} "
                             "after the transition window")
        else:
            stamp = pd.Timestamp(str(at)[:7] + "-01") if isinstance(at, str) else pd.Timestamp(at)
            hits = np.flatnonzero(months == stamp.to_period("M").to_timestamp())
            if not len(hits) or hits[0] < first_full:
                raise FlowInputError(f"at={at!r} must be a month of the series after the transition window "
                                     f"({months[first_full]:%Y-%m} to {months[-1]:%Y-%m})")
            at_i = int(hits[0])
            self.horizon_ = "chosen (at=)"
        self.at_ = f"{months[at_i]:%Y-%m}"
        return at_i

    @staticmethod
    def _stays(stays: pd.DataFrame, admitted: str, duration: str, event: str) -> pd.DataFrame:
        if not isinstance(stays, pd.DataFrame):
            raise FlowInputError("stays must be a pandas DataFrame, one row per stay")
        missing = [c for c in (admitted, duration, event) if c not in stays.columns]
        if missing:
            raise FlowInputError(f"stays has no column(s) {missing}; it has {list(stays.columns)}")
        frame = pd.DataFrame({"admitted": pd.to_datetime(stays[admitted], errors="coerce"),
                              "duration": pd.to_numeric(stays[duration], errors="coerce"), "event": stays[event]})
        bad = frame["admitted"].isna() | frame["duration"].isna() | (frame["duration"] < 0)
        if bad.any():
            rows = list(stays.index[bad.to_numpy()][:3])
            raise FlowInputError(f"stays: {int(bad.sum())} row(s) without an admission date or with a missing or "
                                 f"negative {duration!r} (e.g. rows {rows}); an open stay needs its days so far and "
                                 f"{event!r} False")
        if not frame["event"].isin([0, 1, True, False]).all():
            raise FlowInputError(f"stays: {event!r} must be 0/1 or True/False (False: still open, censored)")
        frame["event"] = frame["event"].astype(bool)
        return frame

    def _interval(self, values: np.ndarray) -> tuple[float, float]:
        tail = 50 * (1 - self.level)
        lo, hi = np.percentile(values[1:], [tail, 100 - tail])
        return float(lo), float(hi)

    def _tabulate(self, point: dict, totals: dict, months, first_full: int, at_i: int) -> None:
        rows = {}
        for name, f, frm in (("point", point, at_i), ("cumulative", totals, first_full)):
            absolute, relative = f["f11"] - f["f00"], f["f11"] / f["f00"] - 1
            rows[name] = {"from": f"{months[frm]:%Y-%m}", "to": self.at_, "fitted": f["f11"][0],
                          "counterfactual": f["f00"][0], "absolute": absolute[0],
                          **dict(zip(("absolute_lower", "absolute_upper"), self._interval(absolute))),
                          "relative": relative[0], **dict(zip(("relative_lower", "relative_upper"), self._interval(relative)))}
        self.effect_ = pd.DataFrame.from_dict(rows, orient="index")
        parts = {  # Shapley: each factor's change averaged over both orders
            "admissions": (0.5 * ((totals["f10"] - totals["f00"]) + (totals["f11"] - totals["f01"])),
                           0.5 * ((point["f10"] - point["f00"]) + (point["f11"] - point["f01"])) / point["f00"]),
            "length_of_stay": (0.5 * ((totals["f01"] - totals["f00"]) + (totals["f11"] - totals["f10"])),
                               0.5 * ((point["f01"] - point["f00"]) + (point["f11"] - point["f10"])) / point["f00"]),
        }
        split = {}
        for name, (absolute, relative) in parts.items():
            split[name] = {"absolute": absolute[0], **dict(zip(("absolute_lower", "absolute_upper"), self._interval(absolute))),
                           "relative": relative[0], **dict(zip(("relative_lower", "relative_upper"), self._interval(relative)))}
        self.split_ = pd.DataFrame.from_dict(split, orient="index")
        self.split_.attrs["span"] = f"{months[first_full]:%Y-%m} to {self.at_}"
        self.draws_ = pd.DataFrame({
            "relative": point["f11"][1:] / point["f00"][1:] - 1, "absolute": (totals["f11"] - totals["f00"])[1:],
            "admissions": parts["admissions"][0][1:], "length_of_stay": parts["length_of_stay"][0][1:],
            "admissions_relative": parts["admissions"][1][1:], "length_of_stay_relative": parts["length_of_stay"][1][1:]})

    def _length_of_stay(self, fits: dict, los: dict, groups: dict, spans: dict) -> None:
        means = {}
        rows = {}
        for name, fit in fits.items():
            width = np.r_[np.diff(fit.edges), np.inf]
            h = np.exp(los[name])  # (1 + draws) x pieces: mean = integral of S, piece by piece
            H = np.concatenate([np.zeros((len(h), 1)), np.cumsum(h[:, :-1] * width[None, :-1], axis=1)], axis=1)
            mean = (np.exp(-H[:, :-1]) * -np.expm1(-h[:, :-1] * width[None, :-1]) / h[:, :-1]).sum(1) + np.exp(-H[:, -1]) / h[:, -1]
            means[name] = mean
            lo, hi = spans[name]
            n, d = int(groups[name].sum()), int(fit.events.sum())
            rows[name] = {"admitted_from": f"{lo:%Y-%m}", "admitted_to": f"{(hi - pd.DateOffset(months=1)):%Y-%m}",
                          "stays_n": n, "discharged_n": d, "censored_n": n - d, "mean_days": mean[0],
                          **dict(zip(("mean_days_lower", "mean_days_upper"), self._interval(mean)))}
        self.length_of_stay_ = pd.DataFrame.from_dict(rows, orient="index")
        ratio = means["after"] / means["before"]
        self.ratio_ = {"estimate": float(ratio[0]), **dict(zip(("lower", "upper"), self._interval(ratio)))}

    # ------------------------------------------------------------------ output
    @property
    def summary(self) -> pd.DataFrame:
        """One row per headline quantity: estimate, lower, upper and its unit."""
        e, s, a = self.effect_, self.split_, self.admissions_
        rows = {
            "bed_days_relative": (e.at["point", "relative"], e.at["point", "relative_lower"], e.at["point", "relative_upper"],
                                  f"proportion of counterfactual bed days in {self.at_}"),
            "bed_days_averted": (-e.at["cumulative", "absolute"], -e.at["cumulative", "absolute_upper"],
                                 -e.at["cumulative", "absolute_lower"], f"bed days, {self.split_.attrs['span']}"),
            "admissions_part": (s.at["admissions", "relative"], s.at["admissions", "relative_lower"],
                                s.at["admissions", "relative_upper"], f"proportion of counterfactual bed days in {self.at_}"),
            "length_of_stay_part": (s.at["length_of_stay", "relative"], s.at["length_of_stay", "relative_lower"],
                                    s.at["length_of_stay", "relative_upper"], f"proportion of counterfactual bed days in {self.at_}"),
            "admissions_relative": (a["relative"], a["relative_lower"], a["relative_upper"],
                                    f"proportion of counterfactual admissions in {self.at_} (ITS, delta method)"),
            "length_of_stay_ratio": (self.ratio_["estimate"], self.ratio_["lower"], self.ratio_["upper"],
                                     "mean stay after / before"),
        }
        return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "lower", "upper", "unit"])

    def effect_summary(self, what: str = "bed days") -> str:
        """The relative effect at the horizon in one sentence with its CI, then what it came from."""
        from outcomes.its import effect_sentence

        p = self.effect_.loc["point"]
        first = effect_sentence(what, p["relative"], p["relative_lower"], p["relative_upper"], self.at_,
                                comparison="what admissions and lengths of stay before the programme predicted",
                                level=self.level)
        parts = []
        for name, words in (("admissions", "admissions"), ("length_of_stay", "length of stay")):
            r = self.split_.loc[name]
            parts.append(f"{words} {r['relative'] * 100:+.0f} points ({self.level:.0%} CI {r['relative_lower'] * 100:+.0f} "
                         f"to {r['relative_upper'] * 100:+.0f})")
        return f"{first} Of that change, {parts[0]}; {parts[1]}."

    def __repr__(self) -> str:
        fitted = hasattr(self, "effect_")
        return f"BedDayFlow(n_draws={self.n_draws}, seed={self.seed})" + (f"\n{self.summary}" if fitted else "")
