"""What the bed days averted and the out-of-area days brought home are worth, with uncertainty.

Two money figures, each from plain numbers (never ITS internals; :func:`days_from_headline`
is the thin adapter from ``outcomes.programme.Programme.headline``):

* **bed days averted x unit cost** of an in-network CAMHS bed day;
* **out-of-area days brought home x (out-of-area cost - in-network cost)**: a day brought home is
  still a bed day, so only the price difference is saved.

Each comes with two kinds of uncertainty, kept apart: the **CI carried from the ITS** (the
days' interval times the central unit cost: sampling uncertainty) and a **low/high unit-cost
sensitivity** (the central days times the low and high unit cost: uncertainty in the price).

Unit costs come from a versioned table shipped in the package (``outcomes/published/unit_costs.csv``):
one row per figure with its setting, location (``in_network``, ``out_of_area`` or ``any``),
financial year, cost per bed day (GBP), low and high, ``status`` ("published" with its source and
year, or "illustrative" where no published figure was found) and the source. Every money figure
carries the word "illustrative" (:attr:`UnitCost.label`, :attr:`Saving.status`) when any unit
cost it uses is. Users override rows (``overrides={figure_id: {"cost_per_bed_day": ..., "source": ...}}``:
an override with a source becomes "published", else "user-supplied") or pass their own table.

Costs are inflated to a chosen price year with a stated index (``outcomes/published/cost_inflation.csv``:
the PSSRU NHS Cost Inflation Index, pay and prices, 2015/16 to 2024/25 (the latest provisional),
and the HCHS pay and prices index it replaced, 2008/09 to 2016/17; annual % change, with their
sources). The change labelled year Y takes a cost from financial year (Y-1)/Y to Y/(Y+1); a price
year outside the index is an error naming the years it covers (pass ``inflation=`` with more years).

Units: days are bed days; money is GBP at the price year's prices.

>>> costs = load_unit_costs()
>>> unit = unit_cost("camhs_general_in_network", price_year="2016/17", table=costs)
>>> round(unit.value, 2), unit.illustrative      # 700 at 2015/16 prices x 1.0209 (NHSCII 2016/17)
(714.63, True)
>>> saving = bed_days_saving(DaysEstimate(1000, 600, 1400), unit)
>>> round(saving.value), round(saving.lower), round(saving.upper)
(714630, 428778, 1000482)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from outcomes import resources
from outcomes.errors import UserError

__all__ = [
    "UNIT_COSTS_FILE", "INFLATION_FILE", "ILLUSTRATIVE", "DaysEstimate", "UnitCost", "Saving",
    "load_unit_costs", "load_inflation", "inflation_factor", "unit_cost", "days_from_headline",
    "bed_days_saving", "out_of_area_saving", "savings_table", "format_gbp",
]

UNIT_COSTS_FILE, INFLATION_FILE = "unit_costs.csv", "cost_inflation.csv"
DEFAULT_INDEX = "NHSCII pay and prices"  #: PSSRU's NHS Cost Inflation Index (HCHS index before 2015)
ILLUSTRATIVE = "illustrative"
STATUSES = ("published", ILLUSTRATIVE, "user-supplied")
COLUMNS = ["figure_id", "setting", "location", "financial_year", "cost_per_bed_day", "low", "high", "status",
           "source", "source_year"]
_YEAR = re.compile(r"^(\d{4})/(\d{2})$")


def _start_year(financial_year: str, what: str) -> int:
    match = _YEAR.match(str(financial_year).strip())
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        raise UserError(f"{what}: financial year {financial_year!r} is not like '2016/17'")
    return int(match[1])


def load_unit_costs(path: str | Path | None = None, overrides: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """The unit-cost table (default: the one shipped), checked, with ``overrides`` applied;
    indexed by ``figure_id``. Costs are GBP per bed day at ``financial_year`` prices."""
    path = Path(path) if path else resources.published_dir() / UNIT_COSTS_FILE
    if not path.is_file():
        raise UserError(f"unit-cost table {path}: no such file")
    table = pd.read_csv(path, dtype={"financial_year": str, "source_year": str}, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"unit-cost table {path}: missing column(s) {missing}; it needs {COLUMNS}")
    table = table.set_index("figure_id")
    for figure_id, changes in (overrides or {}).items():
        unknown = set(changes) - set(COLUMNS)
        if unknown:
            raise UserError(f"unit-cost override {figure_id!r}: unknown field(s) {sorted(unknown)}; use {COLUMNS[1:]}")
        if figure_id not in table.index:
            table.loc[figure_id] = {c: "" for c in table.columns}
        for key, value in changes.items():
            table.loc[figure_id, key] = value
        if "status" not in changes:
            table.loc[figure_id, "status"] = "published" if changes.get("source") else "user-supplied"
    _check_unit_costs(table, path)
    return table


def _check_unit_costs(table: pd.DataFrame, path: Path) -> None:
    for column in ("cost_per_bed_day", "low", "high"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    bad = table[table[["cost_per_bed_day", "low", "high"]].isna().any(axis=1)]
    if len(bad):
        raise UserError(f"unit-cost table {path}: {len(bad)} row(s) without a number in cost_per_bed_day/low/high, "
                        f"e.g. {bad.index[0]!r}")
    order = table[(table.low > table.cost_per_bed_day) | (table.cost_per_bed_day > table.high) | (table.low <= 0)]
    if len(order):
        raise UserError(f"unit-cost table {path}: {len(order)} row(s) where 0 < low <= cost <= high fails, "
                        f"e.g. {order.index[0]!r}")
    status = table[~table.status.isin(STATUSES)]
    if len(status):
        raise UserError(f"unit-cost table {path}: status must be one of {STATUSES}; {status.index[0]!r} has "
                        f"{status.status.iloc[0]!r}")
    unsourced = table[(table.status == "published") & (table.source.str.strip() == "")]
    if len(unsourced):
        raise UserError(f"unit-cost table {path}: published figure {unsourced.index[0]!r} names no source")
    for figure_id, year in table.financial_year.items():
        _start_year(year, f"unit-cost table {path}, {figure_id!r}")


def load_inflation(path: str | Path | None = None, index: str = DEFAULT_INDEX) -> pd.Series:
    """Annual % change of one cost index by year (default: the PSSRU NHS Cost Inflation Index, pay
    and prices, shipped with the HCHS index it replaced), with its name and source in ``.attrs``."""
    path = Path(path) if path else resources.published_dir() / INFLATION_FILE
    frame = pd.read_csv(path)
    chosen = frame[frame["index"] == index]
    if chosen.empty:
        raise UserError(f"cost-inflation table {path}: no index {index!r}; it has {sorted(frame['index'].unique())}")
    series = chosen.set_index("year")["pct_change"].astype(float).sort_index()
    series.attrs = {"index": index, "source": str(chosen["source"].iloc[0])}
    return series


def inflation_factor(from_year: str, to_year: str, inflation: pd.Series | Mapping[int, float]) -> float:
    """Multiplier taking a cost at ``from_year`` prices to ``to_year`` prices (financial years
    '2015/16'); the change labelled Y moves (Y-1)/Y to Y/(Y+1). Deflates when ``to_year`` is earlier."""
    start, end = _start_year(from_year, "from_year"), _start_year(to_year, "price_year")
    rates = dict(inflation)
    lo, hi = sorted((start, end))
    needed = list(range(lo + 1, hi + 1))
    absent = [y for y in needed if y not in rates]
    if absent:
        covered = f"{min(rates)}-{max(rates)}" if rates else "no years"
        raise UserError(f"no cost-inflation figure for {absent[0]} (needed to go from {from_year} to {to_year}); "
                        f"the index covers {covered}: pass cost_inflation with more years")
    factor = float(math.prod(1 + float(rates[y]) / 100 for y in needed))
    return factor if end >= start else 1 / factor


def format_gbp(value: float) -> str:
    """-409013.1 -> '−£409,013' (whole pounds, sign before the pound sign)."""
    return f"{'−' if value < 0 else ''}£{abs(value):,.0f}"


@dataclass(frozen=True)
class UnitCost:
    """One unit cost at the price year: GBP per bed day, with its low/high and provenance."""

    figure_id: str
    value: float
    low: float
    high: float
    price_year: str
    status: str
    source: str

    @property
    def illustrative(self) -> bool:
        return self.status == ILLUSTRATIVE

    @property
    def label(self) -> str:
        """'£727 per bed day (2016/17 prices; illustrative)' or with the source."""
        tail = ILLUSTRATIVE if self.illustrative else self.source
        return f"{format_gbp(self.value)} per bed day ({self.price_year} prices; {tail})"


def unit_cost(figure_id: str, price_year: str, table: pd.DataFrame | None = None,
              inflation: pd.Series | Mapping[int, float] | None = None) -> UnitCost:
    """The unit cost ``figure_id`` inflated to ``price_year`` ('2016/17')."""
    table = load_unit_costs() if table is None else table
    if figure_id not in table.index:
        raise UserError(f"no unit cost {figure_id!r}; the table has {', '.join(map(str, table.index))}")
    row = table.loc[figure_id]
    factor = inflation_factor(row.financial_year, price_year, load_inflation() if inflation is None else inflation)
    return UnitCost(str(figure_id), float(row.cost_per_bed_day) * factor, float(row.low) * factor,
                    float(row.high) * factor, price_year, str(row.status), str(row.source))


@dataclass(frozen=True)
class DaysEstimate:
    """Bed days (averted, or brought home) with the ITS's CI: ``value`` (``lower``, ``upper``)."""

    value: float
    lower: float
    upper: float

    def __post_init__(self) -> None:
        if not (self.lower <= self.value <= self.upper):
            raise ValueError(f"days estimate {self.value} is not inside its interval ({self.lower}, {self.upper})")


def days_from_headline(headline) -> DaysEstimate:
    """Bed days averted (positive = fewer than the counterfactual) from a
    :class:`~outcomes.programme.Headline`'s ``averted`` (fitted - counterfactual) and its interval."""
    return DaysEstimate(-float(headline.averted), -float(headline.averted_upper), -float(headline.averted_lower))


@dataclass(frozen=True)
class Saving:
    """A saving in GBP: ``value`` with the ITS ``lower``/``upper`` and the unit-cost ``low``/``high``."""

    name: str
    value: float
    lower: float  #: days' lower CI limit x central unit cost
    upper: float
    low: float  #: central days x low unit cost (or smallest price difference)
    high: float
    days: DaysEstimate
    unit_cost_per_day: float
    status: str  #: "illustrative" if any unit cost it uses is, else "published" / "user-supplied"
    sources: tuple[str, ...]


def _combined_status(statuses) -> str:
    statuses = set(statuses)
    return ILLUSTRATIVE if ILLUSTRATIVE in statuses else ("user-supplied" if "user-supplied" in statuses else "published")


def _status(*units: UnitCost) -> str:
    return _combined_status(u.status for u in units)


def bed_days_saving(days: DaysEstimate, unit: UnitCost, name: str = "bed_days_averted") -> Saving:
    """Bed days averted x the in-network unit cost (GBP)."""
    return Saving(name, days.value * unit.value, days.lower * unit.value, days.upper * unit.value,
                  days.value * unit.low, days.value * unit.high, days, unit.value, _status(unit), (unit.source,))


def out_of_area_saving(days: DaysEstimate, out_of_area: UnitCost, in_network: UnitCost,
                       name: str = "out_of_area_brought_home") -> Saving:
    """Out-of-area days brought home x (out-of-area - in-network cost per day), GBP. The sensitivity
    pairs the extremes: smallest difference (low out-of-area, high in-network) to largest."""
    if out_of_area.price_year != in_network.price_year:
        raise ValueError("both unit costs must be at the same price year")
    difference = out_of_area.value - in_network.value
    low, high = out_of_area.low - in_network.high, out_of_area.high - in_network.low
    return Saving(name, days.value * difference, days.lower * difference, days.upper * difference,
                  days.value * low, days.value * high, days, difference, _status(out_of_area, in_network),
                  (out_of_area.source, in_network.source))


def savings_table(*savings: Saving) -> pd.DataFrame:
    """One row per saving (GBP, rounded to the nearest £1,000) and a total; ``status`` says
    "illustrative" on every row that uses an illustrative unit cost.

    The total of bed days averted x in-network cost and out-of-area days brought home x the
    difference is the whole change in spend, without double counting: with in-network days down
    by dI and out-of-area days down by dO, dI*c_in + dO*c_out = (dI + dO)*c_in + dO*(c_out - c_in).
    The total has no CI: the two ITS share months and their errors are correlated, so their
    intervals do not add; its low/high unit-cost sensitivity does."""
    rows = []
    for s in savings:
        rows.append({"saving": s.name, "bed_days": s.days.value, "bed_days_lower": s.days.lower,
                     "bed_days_upper": s.days.upper, "gbp_per_day": s.unit_cost_per_day, "gbp": s.value,
                     "gbp_lower": s.lower, "gbp_upper": s.upper, "gbp_low_unit_cost": s.low,
                     "gbp_high_unit_cost": s.high, "status": s.status})
    frame = pd.DataFrame(rows)
    total = {"saving": "total", "status": _combined_status(s.status for s in savings)}
    for column in ("gbp", "gbp_low_unit_cost", "gbp_high_unit_cost"):
        total[column] = frame[column].sum()
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    money = [c for c in frame.columns if c.startswith("gbp") and c != "gbp_per_day"]
    frame[money] = frame[money].round(-3)
    days = [c for c in frame.columns if c.startswith("bed_days")]
    frame[days] = frame[days].round(-1)  # modelled days: tens are all the ITS can tell
    frame["gbp_per_day"] = frame["gbp_per_day"].round(2)
    return frame.set_index("saving")
