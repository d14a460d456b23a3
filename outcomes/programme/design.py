"""The design check before a single-series headline (docs/design.md, "Evidence words").

A single-series ITS cannot carry a headline when the go-live follows the start of COVID-19 (one
series cannot tell the programme from the pandemic's rebound: in ``benchmarks/its_coverage.py`` such
intervals covered the truth 0-7% of the time), when the pre-period is shorter than 24 months, or
when the data source changes at the go-live. :func:`check_design` says which, in one sentence that
names the design that can (the controlled ITS or the synthetic control). A short pre-period also
gets fewer seasonal terms, with a warning naming its months.

>>> from outcomes.programme import Programme
>>> check_design(Programme("2021-01-01"), "2014-04-01").trusted
False
>>> check_design(Programme("2016-10-01"), "2015-04-01").warning
'Seasonality of this measure reduced from 2 harmonics to one harmonic: the pre-period has only 18 months (April 2015 to September 2016).'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from outcomes.dates import add_months, as_date
from outcomes.errors import NotEstimable
from outcomes.programme.core import ENHANCED_CRISIS_TEAMS, Programme

__all__ = ["DesignCheck", "check_design", "controlled_across_sources", "MIN_PRE_MONTHS", "TRUSTED_DESIGNS"]

#: a pre-period shorter than this many months cannot carry a single-series headline
MIN_PRE_MONTHS = 24
#: the designs that can carry a headline when a single series cannot
TRUSTED_DESIGNS = ("the controlled ITS against a comparison series (notebooks 04 and 08) or the synthetic control "
                   "of other areas (notebook 12)")
#: the design that runs across a change of data source: both arms change source together
CONTROLLED_ACROSS_SOURCES = ("a controlled ITS against CYP living elsewhere, who change source at the same time "
                             "(notebooks 04 and 08)")


@dataclass(frozen=True)
class DesignCheck:
    """Whether a single-series ITS can carry a headline: `trusted`, the `reasons` it cannot (one
    clause each), `sentence` (one sentence for the page), the `seasonality` to fit (reduced for a
    short pre-period) and `warning` (the months that reduced it), or None."""

    trusted: bool
    reasons: tuple[str, ...]
    sentence: str
    seasonality: int | str | None
    warning: str | None
    pre_months: int
    #: why the single series is not fitted at all (a change of data source at the go-live: its step
    #: would be read as the programme's), or None
    refusal: str | None = None

    def guard(self, fit: Callable[..., Any]) -> Callable[..., Any]:
        """`fit`, or, when the check refuses the single series (`refusal`), a function raising
        `NotEstimable` with the refusal, naming the controlled design (for `run.estimate`)."""
        if self.refusal is None:
            return fit

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise NotEstimable(self.refusal)

        return refused

    def record(self, record, prefix: str, label: str) -> None:
        """Record the check through `record` (a notebook's `run.record`): `<prefix>_design_check`
        ("passed" or "not headlined", the sentence; a headline row when the single series cannot carry
        one, labelled `label`) and `<prefix>_seasonality_warning` when the seasonal terms were reduced."""
        if self.warning:
            record(f"{prefix}_seasonality_warning", self.warning, kind="estimate",
                   definition="Seasonal terms reduced for a short pre-period")
        record(f"{prefix}_design_check", "passed" if self.trusted else "not headlined", kind="estimate",
               sentence=self.sentence, headline=not self.trusted,
               label=f"{label}: the single-series design" if not self.trusted else None,
               definition="Go-live before COVID-19, a pre-period of 24+ months, no change of data source at the go-live")


def _months_between(first: Any, last_exclusive: Any) -> int:
    a, b = as_date(first), as_date(last_exclusive)
    return (b.year - a.year) * 12 + b.month - a.month


def check_design(programme: Programme, first_month: Any, *, seasonality: int | str | None = 2,
                 source_changes: Mapping[Any, str] | None = None, what: str = "this measure") -> DesignCheck:
    """Check a single-series ITS design before its number is headlined (docs/design.md, "Evidence
    words"): the go-live is not after the start of COVID-19, the pre-period (`first_month` to the
    go-live) has at least `MIN_PRE_MONTHS` months, and no change of data source (``source_changes``:
    {date: what changed}, e.g. `outcomes.measures.sources.changes_of`) falls between 12 months
    before the go-live and the end of its transition window; such a change also refuses the single
    series outright (`refusal`, `guard`). A pre-period under 24 months keeps one harmonic (12-23
    months) or none (under 12)."""
    go_live, settled = programme.go_live, programme.settled
    pre = _months_between(first_month, go_live)
    last_pre = add_months(go_live, -1)
    span = f"{as_date(first_month):%B %Y} to {last_pre:%B %Y}"
    reasons = []
    if programme.covid_start is not None and go_live >= programme.covid_start:
        reasons.append(f"the go-live ({go_live:%B %Y}) follows the start of COVID-19 ({programme.covid_start:%B %Y}), "
                       "and one series cannot tell the programme from the pandemic's rebound")
    if pre < MIN_PRE_MONTHS:
        reasons.append(f"the pre-period has {pre} months ({span}), fewer than {MIN_PRE_MONTHS}, too few to tell "
                       "the trend from the season")
    changes = []
    for when, change in sorted((source_changes or {}).items(), key=lambda kv: as_date(kv[0])):
        if add_months(go_live, -12) <= as_date(when) < settled:
            month = f"{as_date(when):%B %Y}"
            changes.append(f"the data source changes at the go-live ({change if month in change else f'{change}, {month}'})")
    reasons += changes
    reduced, warning = seasonality, None
    if isinstance(seasonality, str) or (seasonality or 0) > 1:
        if pre < 12:
            reduced = None
        elif pre < MIN_PRE_MONTHS:
            reduced = 1
    if reduced != seasonality:
        before = "month indicators" if isinstance(seasonality, str) else f"{seasonality} harmonics"
        after = "no seasonal terms" if reduced is None else "one harmonic"
        warning = (f"Seasonality of {what} reduced from {before} to {after}: the pre-period has only {pre} months "
                   f"({span}).")
    if reasons:
        sentence = (f"A single-series ITS cannot carry the headline for {what}: {'; '.join(reasons)}. "
                    f"The design that can is {TRUSTED_DESIGNS}.")
    else:
        sentence = (f"Design check passed for {what}: the go-live precedes COVID-19, the pre-period has {pre} months "
                    "and no change of data source falls at the go-live.")
    refusal = None
    if changes:
        refusal = (f"a single-series ITS of {what} is not fitted: {'; '.join(changes)}, and one series cannot tell the "
                   f"programme from the change of source. The design that can is {CONTROLLED_ACROSS_SOURCES}.")
    return DesignCheck(not reasons, tuple(reasons), sentence, reduced, warning, pre, refusal)


def controlled_across_sources(programme: Programme, by_area, *, what: str = "this measure",
                              components: tuple = (ENHANCED_CRISIS_TEAMS,)):
    """The controlled ITS at the go-live that runs where a change of data source refuses the single
    series: `by_area` (a measure split into the footprint and CYP living elsewhere, e.g.
    `cyp_mental_health_ae_by_area`) through `Programme.controlled_its` with the programme's earlier
    `components` (the enhanced crisis teams by default), on the months before COVID-19 (the whole
    series, COVID-19 shared context, when the go-live is not before it). The coding
    change moves both arms in the same month, so it cancels from the difference; what it does not
    remove is a share recognised under the old coding that differs between the arms. Seasonal terms
    are reduced for a short pre-period as `check_design` reduces them (`result.seasonality_warning`,
    or None); effects are rate ratios, footprint against the rest."""
    check = check_design(programme, by_area["month"].min(), what=what)
    # a go-live from COVID-19 on has no months before it to stop at: COVID-19 is then shared context
    covid = programme.covid_start
    before = covid if covid is not None and programme.go_live < covid else None
    # a component starting inside the programme's interruption (go-live to the end of its transition)
    # cannot be told from it: the programme's step carries both
    apart = [c for c in components
             if not programme.go_live <= as_date(getattr(c, "start", programme.go_live)) < programme.settled]
    result = programme.controlled_its(by_area, apart, before=before, seasonality=check.seasonality)
    result.seasonality_warning = check.warning
    return result
