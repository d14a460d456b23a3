"""Evidence words: a published claim set beside a reproduced value, graded in words.

A claim of direction ("fewer", "shorter") against an estimate with a confidence interval:

* **confirmed**: the CI excludes no change, in the claimed direction;
* **consistent, not confirmed**: the estimate is in the claimed direction but the CI includes
  no change. The grade carries the smallest change this design would detect 80% of the time
  (:func:`detectable_change`), so a reader can tell "no effect" from "too little data";
* **not confirmed, estimate the other way**: the CI includes no change and the estimate points
  against the claim;
* **contradicted**: the CI excludes no change, in the other direction.

An exact published figure (a count) against the count reproduced from the extract:

* **matches**: equal and shown;
* **matches, value withheld**: equal, but disclosure control hides or rounds what would show it.
  Said in words, e.g. "matches (after: fewer than 8)", never as a bare "[REDACTED]" beside
  "difference: none";
* **does not match**: the counts differ (how they differ is not shown when a count is small).

**no estimate** when the data gave no interval. No grade rests on a point estimate alone. Pure functions, no data access.

>>> grade_direction("fewer", 0.67, 0.45, 1.00).grade
'consistent, not confirmed'
>>> grade_direction("fewer", 0.67, 0.45, 0.98).grade
'confirmed'
>>> grade_exact({"before": 24, "after": 1}, {"before": 24, "after": 1}).text
'matches (before: rounded to 25; after: fewer than 8)'
>>> grade_exact({"before": 25, "after": 1}, {"before": 25, "after": 1}).text
'matches (after: fewer than 8)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["GRADES", "Evidence", "grade_direction", "grade_exact", "detectable_change"]

CONFIRMED = "confirmed"
CONSISTENT = "consistent, not confirmed"
OTHER_WAY = "not confirmed, estimate the other way"
CONTRADICTED = "contradicted"
MATCHES = "matches"
WITHHELD = "matches, value withheld"
DIFFERS = "does not match"
NO_ESTIMATE = "no estimate"
#: every grade, strongest support first
GRADES = (CONFIRMED, CONSISTENT, OTHER_WAY, CONTRADICTED, MATCHES, WITHHELD, DIFFERS, NO_ESTIMATE)

#: words of a claim that say "down" (a ratio below 1, a difference below 0) or "up"
_DOWN = {"fewer", "shorter", "lower", "less", "down", "fall", "reduction", "decrease"}
_UP = {"more", "longer", "higher", "greater", "up", "rise", "increase"}


@dataclass(frozen=True)
class Evidence:
    """A grade (one of :data:`GRADES`), the words a page shows (``text``) and, for a claim that is
    not confirmed, ``detectable``: the smallest change (a proportion, -0.35 is a 35% fall) this
    design detects 80% of the time at a two-sided 5% level, at this data's size."""

    grade: str
    text: str
    detectable: float | None = None

    def __str__(self) -> str:
        return self.text


def _direction(claim: str) -> int:
    words = {w.strip(".,;:()").lower() for w in str(claim).split()}
    if words & _DOWN and not words & _UP:
        return -1
    if words & _UP and not words & _DOWN:
        return 1
    raise ValueError(f"cannot tell the direction of the claim {claim!r}: say fewer/shorter/lower or more/longer/higher")


def detectable_change(lower: float, upper: float, direction: int = -1, *, ratio: bool = True,
                      level: float = 0.95, power: float = 0.8) -> float:
    """The smallest true change detected with probability ``power`` by a two-sided test at
    1 - ``level``, from the interval the design gave: SE = CI width / (2 z), on the log scale for a
    ratio. Returned as a proportion (ratio - 1) for a ratio, else in the estimate's units;
    ``direction`` -1 for a fall, +1 for a rise. (z_{1-alpha/2} + z_power) x SE: 2.80 SE at 95%
    and 80%."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    shift = (z + NormalDist().inv_cdf(power))
    if ratio:
        if not (lower > 0 and upper > 0):
            return math.nan
        se = (math.log(upper) - math.log(lower)) / (2 * z)
        return math.expm1(direction * shift * se)
    return direction * shift * (upper - lower) / (2 * z)


def grade_direction(claim: str, estimate: float, lower: float, upper: float, *, ratio: bool = True,
                    level: float = 0.95) -> Evidence:
    """Grade a claim of direction ("fewer", "shorter", "more"...) against an estimate and its CI:
    a ratio (no change = 1, ``ratio=True``) or a difference (no change = 0)."""
    sign = _direction(claim)
    null = 1.0 if ratio else 0.0
    values = (estimate, lower, upper)
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return Evidence(NO_ESTIMATE, f"{NO_ESTIMATE}: the data gave no interval")
    if lower > upper:
        raise ValueError(f"the interval ({lower}, {upper}) has its lower limit above its upper")
    below, above = upper < null, lower > null
    if (below and sign < 0) or (above and sign > 0):
        return Evidence(CONFIRMED, f"{CONFIRMED}: the {level:.0%} CI excludes no change")
    if below or above:
        return Evidence(CONTRADICTED, f"{CONTRADICTED}: the {level:.0%} CI excludes no change, in the other direction")
    smallest = detectable_change(lower, upper, sign, ratio=ratio, level=level)
    size = f"{abs(smallest):.0%}" if ratio else f"{abs(smallest):.3g}"
    detect = f"this design would detect a {'fall' if sign < 0 else 'rise'} of {size} or more 80% of the time"
    if (estimate - null) * sign > 0:
        return Evidence(CONSISTENT, f"{CONSISTENT}: the {level:.0%} CI includes no change; {detect}", smallest)
    return Evidence(OTHER_WAY, f"{OTHER_WAY}: the {level:.0%} CI includes no change; {detect}", smallest)


def grade_exact(published: Mapping[str, int], reproduced: Mapping[str, int], *, redact_at_or_below: int = 7,
                rounding_base: int = 5) -> Evidence:
    """Grade exact published counts ({"before": 24, "after": 1}) against the counts reproduced
    from the extract, saying in words what disclosure control withholds: a count of 1 to
    ``redact_at_or_below`` shows as "fewer than N" (N = ``redact_at_or_below`` + 1), a count
    rounded to the nearest ``rounding_base`` as e.g. "rounded to 25"."""
    if set(published) != set(reproduced):
        raise ValueError(f"published {sorted(published)} and reproduced {sorted(reproduced)} name different counts")
    if any(int(v) != v or v < 0 for v in [*published.values(), *reproduced.values()]):
        raise ValueError("exact figures are whole, non-negative counts")
    if dict(published) != dict(reproduced):
        differ = [k for k in published if published[k] != reproduced[k]]
        return Evidence(DIFFERS, f"{DIFFERS} ({', '.join(differ)} differ{'s' if len(differ) == 1 else ''})")
    notes = []
    for name, value in reproduced.items():
        value = int(value)
        if 0 < value <= redact_at_or_below:
            notes.append(f"{name}: fewer than {redact_at_or_below + 1}")
        elif rounding_base > 1 and value % rounding_base:
            shown = int(rounding_base * math.floor(value / rounding_base + 0.5))
            notes.append(f"{name}: rounded to {shown}")
    if not notes:
        return Evidence(MATCHES, MATCHES)
    return Evidence(WITHHELD, f"matches ({'; '.join(notes)})")
