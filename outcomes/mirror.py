"""Mirror-image comparisons: the same people, a window before and a window after an index date.

The design psychiatry uses for small cohorts (here the DBT cohort): each person's events (suicide
attempts, A&E attendances, bed days) in, say, the 12 months before starting treatment are compared
with the 12 months after. :class:`MirrorImage` takes one row per person (before, after) and
reports, in lifelines' style (``fit`` returns self; results end in ``_``; ``.summary`` a
DataFrame; ``.to_dict()`` for recording):

* totals and the rate ratio after/before with an exact CI and exact P value
  (:func:`rate_ratio_exact`);
* the Wilcoxon signed-rank test on per-person differences (``scipy.stats.wilcoxon``);
* the proportion with at least one event before vs after, exact McNemar test
  (``statsmodels`` ``mcnemar(exact=True)``: binomial test on the discordant pairs; it compares
  the windows as they are, so with unequal windows it is not adjusted for their lengths);
* a bootstrap CI of the relative reduction 1 - rate ratio, resampling people (seeded);
* with a **pre-pre** window (the window before the before window: with 12-month windows, the 12
  months before the 12 months before), regression to the mean. People start treatment after a bad
  year, so the year before is not a typical year. The exact rate ratio after / pre-pre tests the
  after window against a year that did not choose them, and the **share of the fall the pre-pre
  window already shows** is (before - pre-pre) / (before - after): 0 when the pre-pre year was as
  bad as the year before, 1 (or more) when it was already as low as the year after. Its CI
  comes from the same people-resampling bootstrap.

The exact rate ratio (conditional binomial). If before and after counts are independent Poisson
with rates lambda_b, lambda_a over person-time T_b, T_a, then given their sum n = before + after,
after ~ Binomial(n, p) with p = r RR / (1 + r RR), RR = lambda_a / lambda_b and r = T_a / T_b
(``time_ratio``; 1 for equal windows). So RR = p / ((1 - p) r). The CI is the Clopper-Pearson
interval for p (``scipy.stats.binomtest(...).proportion_ci(method="exact")``) transformed; the P
value is the exact binomial test of p = r / (1 + r) (p = 0.5 for equal windows). With no events
after, the estimate is 0, the lower limit 0 and the upper limit 1 - (alpha/2)^(1/n) transformed:
a one-sided (1 - alpha/2) upper bound, with no division by zero.

What it assumes: events are independent Poisson counts with one rate per period for the whole
cohort. That is rough for recurrent events clustered in a few people (over-dispersion makes the
interval too narrow), and for *durations* such as bed days it is only an approximation: days of
one stay are not independent events, so treating days as counts overstates the information
(605 -> 0 bed days gives an absurdly small P). Read the person-level companions, the Wilcoxon test
and the people-resampling bootstrap, as the robust analyses; they respect who contributed what.

Written by hand: the RR transformation of the Clopper-Pearson limits (two lines) and the bootstrap
(scipy.stats.bootstrap has no way to set aside resamples where the ratio is undefined because
nobody in the resample had an event before; here they are counted in ``undefined_resamples`` and
the percentile interval is taken over the others, using order statistics so -inf is handled).

Example
-------
>>> import pandas as pd
>>> people = pd.DataFrame({"Person_ID": list("ABCDE"),
...                        "before": [6, 5, 4, 5, 4], "after": [0, 1, 0, 0, 0]})
>>> mirror = MirrorImage(seed=1).fit(people)
>>> mirror.totals_["before_n"], mirror.totals_["after_n"]
(24, 1)
>>> round(mirror.rate_ratio_.estimate, 4), round(mirror.rate_ratio_.upper, 4)
(0.0417, 0.2555)
>>> rate_ratio_exact(before=605, after=0).lower
0.0
>>> people["pre_pre"] = [2, 3, 1, 2, 2]
>>> mirror = MirrorImage(seed=1).fit(people, pre_pre="pre_pre")
>>> mirror.totals_["pre_pre_n"], round(mirror.regression_["share_of_fall"], 4)   # (24 - 10) / (24 - 1)
(10, 0.6087)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

__all__ = ["RateRatio", "rate_ratio_exact", "counts_from_events", "MirrorImage"]


@dataclass(frozen=True)
class RateRatio:
    """Exact conditional-binomial rate ratio after/before (per unit of person-time)."""

    before: float
    after: float
    time_ratio: float
    estimate: float
    lower: float
    upper: float
    p_value: float
    confidence_level: float


def _odds_to_rate_ratio(p: float, time_ratio: float) -> float:
    with np.errstate(divide="ignore"):
        return float(np.float64(p) / ((1 - np.float64(p)) * time_ratio))


def rate_ratio_exact(
    before: float, after: float, time_ratio: float = 1.0, confidence_level: float = 0.95
) -> RateRatio:
    """Rate ratio after/before with a Clopper-Pearson CI and exact binomial P value.

    ``before``/``after`` are totals (counts; durations such as bed days are treated as counts, an
    approximation); ``time_ratio`` = after person-time / before person-time (1 for equal windows).
    Defined for after = 0 (estimate 0, lower 0) and before = 0 (estimate and upper inf).
    """
    if before < 0 or after < 0 or time_ratio <= 0:
        raise ValueError("counts must be >= 0 and time_ratio > 0")
    before_i, after_i = int(round(before)), int(round(after))
    n = before_i + after_i
    if n == 0:
        return RateRatio(before, after, time_ratio, np.nan, 0.0, np.inf, 1.0, confidence_level)
    null_p = time_ratio / (1 + time_ratio)
    from scipy import stats  # about 1-2 s to import: when a comparison is made

    test = stats.binomtest(after_i, n, p=null_p)
    ci = test.proportion_ci(confidence_level=confidence_level, method="exact")
    return RateRatio(
        before=before,
        after=after,
        time_ratio=time_ratio,
        estimate=_odds_to_rate_ratio(after_i / n, time_ratio),
        lower=_odds_to_rate_ratio(ci.low, time_ratio),
        upper=_odds_to_rate_ratio(ci.high, time_ratio),
        p_value=float(test.pvalue),
        confidence_level=confidence_level,
    )


def counts_from_events(
    events: pd.DataFrame,
    index_dates: pd.DataFrame,
    person: str = "Person_ID",
    date: str = "EventDate",
    index: str = "index_date",
    window_days: int = 365,
    value: str | None = None,
    pre_pre: bool = False,
) -> pd.DataFrame:
    """Per-person totals before and after each person's index date, from long events.

    ``index_dates`` has one row per person in the cohort (``person``, ``index``): everyone in it
    appears in the result, with 0 if they had no events. Windows, in days:
    before = [index - window_days, index), after = [index, index + window_days).
    Each event counts 1, or its ``value`` (e.g. bed days) if given; stays straddling the index
    date must be split upstream (the measures layer). Returns columns person, before, after, and
    with ``pre_pre`` also pre_pre = [index - 2 window_days, index - window_days).
    """
    cohort = index_dates[[person, index]].drop_duplicates(person)
    merged = events.merge(cohort, on=person, how="inner")
    days = (pd.to_datetime(merged[date]) - pd.to_datetime(merged[index])).dt.days
    weight = merged[value] if value else pd.Series(1, index=merged.index)
    merged = merged.assign(
        before=weight.where((days >= -window_days) & (days < 0), 0),
        after=weight.where((days >= 0) & (days < window_days), 0),
        pre_pre=weight.where((days >= -2 * window_days) & (days < -window_days), 0),
    )
    columns = ["pre_pre", "before", "after"] if pre_pre else ["before", "after"]
    totals = merged.groupby(person)[columns].sum()
    out = cohort[[person]].merge(totals, left_on=person, right_index=True, how="left")
    return out.fillna(dict.fromkeys(columns, 0)).reset_index(drop=True)


class MirrorImage:
    """Mirror-image before/after comparison for one outcome in one cohort.

    Parameters
    ----------
    time_ratio : after person-time / before person-time (1 for equal windows).
    confidence_level : for every interval.
    n_bootstrap : people-resamples for the relative-reduction CI.
    seed : seed of the bootstrap's random generator (results are reproducible).
    """

    def __init__(
        self,
        time_ratio: float = 1.0,
        confidence_level: float = 0.95,
        n_bootstrap: int = 2000,
        seed: int = 20240101,
    ) -> None:
        if time_ratio <= 0:
            raise ValueError("time_ratio must be positive")
        self.time_ratio = float(time_ratio)
        self.confidence_level = confidence_level
        self.n_bootstrap = n_bootstrap
        self.seed = seed

    def fit(
        self,
        df: pd.DataFrame,
        person: str = "Person_ID",
        before: str = "before",
        after: str = "after",
        pre_pre: str | None = None,
    ) -> MirrorImage:
        """Fit to one row per person: counts (or days) in the before and after windows, and in
        the ``pre_pre`` window (a column name; the window before the before window, of the same
        length) when given."""
        names = {before: "before", after: "after", **({pre_pre: "pre_pre"} if pre_pre else {})}
        frame = df[[person, *names]].rename(columns=names)
        windows = list(names.values())
        if frame[person].duplicated().any():
            raise ValueError(f"{person!r} is not unique: give one row per person")
        if frame[windows].isna().any().any() or (frame[windows] < 0).any().any():
            raise ValueError(f"{'/'.join(windows)} must be non-negative with no missing values")
        frame["difference"] = frame["after"] / self.time_ratio - frame["before"]
        self.per_person_ = frame.reset_index(drop=True)
        b = self.per_person_["before"].to_numpy(dtype=float)
        a = self.per_person_["after"].to_numpy(dtype=float)

        self.totals_ = {
            "people_n": len(frame), "before_n": _as_number(b.sum()), "after_n": _as_number(a.sum())
        }
        self.rate_ratio_ = rate_ratio_exact(b.sum(), a.sum(), self.time_ratio, self.confidence_level)
        self.p_value_ = self.rate_ratio_.p_value
        self.wilcoxon_ = self._wilcoxon(frame["difference"].to_numpy(dtype=float))
        self.mcnemar_ = self._mcnemar(b > 0, a > 0)
        draws = np.random.default_rng(self.seed).integers(0, len(b), size=(self.n_bootstrap, len(b)))
        self.relative_reduction_ = self._bootstrap_reduction(b, a, draws)
        self.regression_ = None
        if pre_pre:
            p = self.per_person_["pre_pre"].to_numpy(dtype=float)
            self.totals_["pre_pre_n"] = _as_number(p.sum())
            self.regression_ = self._regression(p, b, a, draws)
        return self

    def _share_of_fall(self, pre_pre_total, before_total, after_total):
        """(before - pre-pre) / (before - after), after scaled to the before window's length;
        undefined (NaN) where nothing fell."""
        fall = before_total - np.divide(after_total, self.time_ratio)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(fall > 0, (before_total - pre_pre_total) / np.where(fall > 0, fall, 1.0), np.nan)

    def _regression(self, p: np.ndarray, b: np.ndarray, a: np.ndarray, draws: np.ndarray) -> dict:
        """Regression to the mean: after and before against the pre-pre window (exact rate ratios,
        equal windows before and pre-pre) and the share of the fall the pre-pre window already
        shows, with a people-resampling bootstrap CI (the reduction's draws)."""
        share = float(self._share_of_fall(p.sum(), b.sum(), a.sum()))
        replicates = self._share_of_fall(p[draws].sum(axis=1), b[draws].sum(axis=1), a[draws].sum(axis=1))
        lower, upper, undefined = self._percentile_interval(replicates)
        return {
            "after_vs_pre_pre": rate_ratio_exact(p.sum(), a.sum(), self.time_ratio, self.confidence_level),
            "before_vs_pre_pre": rate_ratio_exact(p.sum(), b.sum(), 1.0, self.confidence_level),
            "share_of_fall": share, "share_of_fall_lower": lower, "share_of_fall_upper": upper,
            "undefined_resamples": undefined,
        }

    def regression_sentence(self, what: str = "events") -> str:
        """The pre-pre window in words: how the after window compares with it, and how much of
        the fall from before to after it already shows (percentages only, no counts)."""
        if self.regression_ is None:
            raise ValueError("fit with pre_pre=... to compare with the pre-pre window")
        r = self.regression_
        rr = r["after_vs_pre_pre"]
        level = f"{self.confidence_level:.0%} CI"
        versus = (f"After treatment began, {what} were at {rr.estimate:.0%} of their level two years before "
                  f"(the pre-pre window; {level} {rr.lower:.0%} to {rr.upper:.0%}, exact P {'< 0.001' if rr.p_value < 0.001 else f'= {rr.p_value:.2g}'}).")
        share = r["share_of_fall"]
        if np.isnan(share):
            return versus + f" {what[:1].upper() + what[1:]} did not fall from the window before to the window after."
        return (versus + f" The pre-pre window already shows {share:.0%} ({level} {r['share_of_fall_lower']:.0%} to "
                f"{r['share_of_fall_upper']:.0%}) of the fall from the window before treatment to the window after: "
                "that much would follow from an unusually bad year returning to its usual level (regression to the "
                "mean), without any effect of treatment.")

    @staticmethod
    def _wilcoxon(differences: np.ndarray) -> dict:
        nonzero = int((differences != 0).sum())
        if nonzero == 0:
            return {"statistic": np.nan, "p_value": 1.0, "nonzero_n": 0}
        from scipy import stats

        result = stats.wilcoxon(differences)  # zero differences dropped (zero_method="wilcox")
        return {"statistic": float(result.statistic), "p_value": float(result.pvalue), "nonzero_n": nonzero}

    @staticmethod
    def _mcnemar(any_before: np.ndarray, any_after: np.ndarray) -> dict:
        table = np.array(
            [
                [(any_before & any_after).sum(), (any_before & ~any_after).sum()],
                [(~any_before & any_after).sum(), (~any_before & ~any_after).sum()],
            ]
        )
        discordant = table[0, 1] + table[1, 0]
        from statsmodels.stats.contingency_tables import mcnemar  # statsmodels: only when testing

        p = float(mcnemar(table, exact=True).pvalue) if discordant else 1.0
        n = len(any_before)
        return {
            "with_event_before_n": int(any_before.sum()),
            "with_event_after_n": int(any_after.sum()),
            "before_only_n": int(table[0, 1]),
            "after_only_n": int(table[1, 0]),
            "with_event_before_proportion": float(any_before.sum() / n) if n else np.nan,
            "with_event_after_proportion": float(any_after.sum() / n) if n else np.nan,
            "p_value": min(p, 1.0),
        }

    def _relative_reduction(self, before_total, after_total):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1 - np.divide(np.divide(after_total, self.time_ratio), before_total)

    def _percentile_interval(self, replicates: np.ndarray) -> tuple[float, float, int]:
        """Percentile interval over the defined replicates (order statistics, so +-inf are kept)
        and how many were undefined (NaN)."""
        defined = replicates[~np.isnan(replicates)]
        alpha = 1 - self.confidence_level
        if defined.size:
            lower = float(np.percentile(defined, 100 * alpha / 2, method="lower"))
            upper = float(np.percentile(defined, 100 * (1 - alpha / 2), method="higher"))
        else:
            lower = upper = np.nan
        return lower, upper, int(len(replicates) - defined.size)

    def _bootstrap_reduction(self, b: np.ndarray, a: np.ndarray, draws: np.ndarray) -> dict:
        estimate = float(self._relative_reduction(b.sum(), a.sum()))
        replicates = self._relative_reduction(b[draws].sum(axis=1), a[draws].sum(axis=1))
        lower, upper, undefined = self._percentile_interval(replicates)
        return {"estimate": estimate, "lower": lower, "upper": upper, "undefined_resamples": undefined}

    @property
    def summary(self) -> pd.DataFrame:
        """One row per measure: estimate, lower, upper, p_value and the method used."""
        rr, red, w, m = self.rate_ratio_, self.relative_reduction_, self.wilcoxon_, self.mcnemar_
        rows = {
            "before_n": (self.totals_["before_n"], np.nan, np.nan, np.nan, "total, before window"),
            "after_n": (self.totals_["after_n"], np.nan, np.nan, np.nan, "total, after window"),
            "rate_ratio": (rr.estimate, rr.lower, rr.upper, rr.p_value,
                           "conditional binomial, Clopper-Pearson; exact binomial test"),
            "relative_reduction": (red["estimate"], red["lower"], red["upper"], np.nan,
                                   f"1 - rate ratio; percentile bootstrap over people (B={self.n_bootstrap})"),
            "wilcoxon_signed_rank": (w["statistic"], np.nan, np.nan, w["p_value"],
                                     "per-person after - before; zero differences dropped"),
            "with_event_before_proportion": (m["with_event_before_proportion"], np.nan, np.nan, np.nan,
                                             "people with >= 1 event before"),
            "with_event_after_proportion": (m["with_event_after_proportion"], np.nan, np.nan, m["p_value"],
                                            "people with >= 1 event after; exact McNemar"),
        }
        if self.regression_ is not None:
            r, pp = self.regression_, self.regression_["after_vs_pre_pre"]
            rows = {"pre_pre_n": (self.totals_["pre_pre_n"], np.nan, np.nan, np.nan, "total, pre-pre window"), **rows,
                    "rate_ratio_vs_pre_pre": (pp.estimate, pp.lower, pp.upper, pp.p_value,
                                              "after / pre-pre; conditional binomial, Clopper-Pearson"),
                    "share_of_fall_in_pre_pre": (r["share_of_fall"], r["share_of_fall_lower"], r["share_of_fall_upper"],
                                                 np.nan, "(before - pre-pre) / (before - after); percentile bootstrap "
                                                 f"over people (B={self.n_bootstrap})")}
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=["estimate", "lower", "upper", "p_value", "method"]
        ).rename_axis("measure")

    def to_dict(self) -> dict:
        """Plain nested dict for recording; count keys end in ``_n`` (the disclosure convention)."""
        rr = asdict(self.rate_ratio_)
        out = {
            "people_n": int(self.totals_["people_n"]),
            "before_n": self.totals_["before_n"],
            "after_n": self.totals_["after_n"],
            "time_ratio": self.time_ratio,
            "confidence_level": self.confidence_level,
            "rate_ratio": {k: rr[k] for k in ("estimate", "lower", "upper", "p_value")},
            "relative_reduction": dict(self.relative_reduction_),
            "wilcoxon": dict(self.wilcoxon_),
            "mcnemar": dict(self.mcnemar_),
            "bootstrap_resamples": self.n_bootstrap,
            "seed": self.seed,
        }
        if self.regression_ is not None:
            r = self.regression_
            out["pre_pre_n"] = self.totals_["pre_pre_n"]
            out["regression_to_the_mean"] = {
                "after_vs_pre_pre": {k: asdict(r["after_vs_pre_pre"])[k] for k in ("estimate", "lower", "upper", "p_value")},
                "before_vs_pre_pre": {k: asdict(r["before_vs_pre_pre"])[k] for k in ("estimate", "lower", "upper", "p_value")},
                **{k: r[k] for k in ("share_of_fall", "share_of_fall_lower", "share_of_fall_upper", "undefined_resamples")}}
        return out


def _as_number(x: float) -> float | int:
    """A plain Python int for whole numbers (counts), else a float (e.g. fractional days)."""
    return int(x) if float(x).is_integer() else float(x)
