"""The headline of a programme's interrupted time series, typed: the numbers a report states
(`Programme.headline` makes it), as a table, as text, and recorded in a notebook's results.

Units are the outcome's per month: `level_change` is the rate ratio at go-live (log-link
families), `relative` the modelled relative effect (a proportion) at the horizon month `at`,
`averted` the cumulative fitted - counterfactual (negative: fewer than expected) from
`averted_from` to `at`, each with its 95% CI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from outcomes.its import effect_sentence

__all__ = ["Headline", "LEVEL_DEFINITION"]

#: what the level-change result says it is, unless a notebook words it otherwise
LEVEL_DEFINITION = "Level change at go-live, segmented quasi-Poisson ITS, AR(1) errors"


@dataclass(frozen=True)
class Headline:
    """A fitted ITS's headline numbers (see the module docstring); `sentence` says the relative
    effect in words and `level_sentence` the level change."""

    level_change: float
    level_change_lower: float
    level_change_upper: float
    level_change_p: float
    at: str  #: the headline month, YYYY-MM
    horizon: str  #: the rule that chose it
    fitted: float
    counterfactual: float
    relative: float
    relative_lower: float
    relative_upper: float
    averted_from: str  #: first month summed in `averted`, YYYY-MM
    averted: float
    averted_lower: float
    averted_upper: float
    sentence: str
    level_sentence: str
    #: where `record` writes by default (a notebook session's recorder); not part of the value
    record_to: Callable[..., Any] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_result(cls, result, *, at: str, horizon: str, start: str, what: str | None = None,
                    record_to: Callable[..., Any] | None = None) -> "Headline":
        """The headline of a fitted `ITSResult` at month `at` (chosen by the rule `horizon`), the
        cumulative effect summed from month `start`."""
        level = result.summary.loc["level_change"]
        effect = result.effect(at=at, cumulative_from=start)
        point, cumulative = effect.loc["point"], effect.loc["cumulative"]
        return cls(
            level_change=float(level["estimate"]),
            level_change_lower=float(level["ci_lower"]),
            level_change_upper=float(level["ci_upper"]),
            level_change_p=float(level["p_value"]),
            at=at,
            horizon=horizon,
            fitted=float(point["fitted"]),
            counterfactual=float(point["counterfactual"]),
            relative=float(point["relative"]),
            relative_lower=float(point["relative_lower"]),
            relative_upper=float(point["relative_upper"]),
            averted_from=start,
            averted=float(cumulative["absolute"]),
            averted_lower=float(cumulative["absolute_lower"]),
            averted_upper=float(cumulative["absolute_upper"]),
            sentence=result.effect_summary(what, at=at),
            level_sentence=effect_sentence(
                what or result.its.outcome, level["estimate"] - 1, level["ci_lower"] - 1, level["ci_upper"] - 1, start,
                comparison="the pre-programme trend (the step once the transition window was over)"),
            record_to=record_to,
        )

    @property
    def table(self) -> pd.DataFrame:
        """One row per statistic (`level_change`, `relative`, `averted`): estimate, lower, upper,
        unit and the months it refers to."""
        rows = {
            "level_change": (self.level_change, self.level_change_lower, self.level_change_upper, "rate ratio",
                             "at go-live"),
            "relative": (self.relative, self.relative_lower, self.relative_upper, "proportion", self.at),
            "averted": (self.averted, self.averted_lower, self.averted_upper, "outcome units (fitted - counterfactual)",
                        f"{self.averted_from} to {self.at}"),
        }
        table = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "lower", "upper", "unit", "when"])
        table.index.name = "statistic"
        return table

    @property
    def text(self) -> str:
        """The relative effect and the level change, one sentence each."""
        return f"{self.sentence} {self.level_sentence}"

    def record(self, prefix: str, *, lead: str | None = "relative", label: str | None = None,
               level_definition: str = LEVEL_DEFINITION, averted: str | None = None,
               averted_definition: str | None = None, averted_unit: str = "bed days",
               to: Callable[..., Any] | None = None, **lead_options: Any) -> None:
        """Record `<prefix>_level_change` (rate ratio) and `<prefix>_relative_effect` (proportion) with
        their intervals and sentences and, when `averted` names it, that result: the cumulative
        counterfactual - fitted (positive: fewer than expected) in `averted_unit`.

        `lead` ("relative", "level" or None) is the one of the two shown in the report's headline
        table, with `label`; the relative effect leads with the counterfactual and fitted values as
        its baseline and latest, and so does the level change unless `lead_options` (any other
        `outcomes.results.record` option: baseline, latest, published, counts) say otherwise.
        Writes through `to`, else the recorder the headline was made with (a notebook session's)."""
        record = to or self.record_to
        if record is None:
            raise RuntimeError("Headline.record: no recorder; use the programme of a notebook session "
                               "(outcomes.notebook.start) or pass to=record")
        if lead not in ("relative", "level", None):
            raise ValueError(f"Headline.record: lead must be 'relative', 'level' or None, not {lead!r}")
        leading: Mapping[str, Any] = {"headline": True, "label": label, "baseline": self.counterfactual,
                                      "latest": self.fitted, **lead_options}
        record(f"{prefix}_level_change", self.level_change, kind="ratio", unit="rate ratio",
               ci=(self.level_change_lower, self.level_change_upper), sentence=self.level_sentence,
               definition=level_definition, **(leading if lead == "level" else {}))
        record(f"{prefix}_relative_effect", self.relative, kind="percent_change", unit="proportion",
               ci=(self.relative_lower, self.relative_upper), sentence=self.sentence,
               definition=f"Fitted / counterfactual - 1 in {self.horizon}; delta-method CI",
               **(leading if lead == "relative" else {}))
        if averted:
            record(averted, -self.averted, kind="estimate", unit=averted_unit,
                   ci=(-self.averted_upper, -self.averted_lower),
                   definition=averted_definition or (f"Counterfactual - fitted {averted_unit} summed "
                                                     f"{self.averted_from} to {self.at}"))
