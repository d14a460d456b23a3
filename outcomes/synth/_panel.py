"""The analysis panel: a long frame (one row per unit and period) checked and laid out as matrices.

Everything a user can get wrong is caught here with a :class:`SynthInputError` naming the field,
the rows and an example. Donors with a missing value (a cell suppressed at source, a period not
published) cannot enter a weighted mix and are dropped, each with its reason; the treated unit
must be complete.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._errors import SynthInputError, SynthNotEstimable

WHAT = "synthetic control frame"


@dataclass
class Panel:
    """Periods x units matrices, the treated unit in column 0 and the donors after it.

    ``values``: the series the weights are fitted on (counts in the count form; rates per ``per``
    with a population in the classic form; otherwise the outcome as given). ``counts`` and
    ``population`` are set when there is a population (counts also in the count form).
    """

    times: pd.Index
    units: list
    values: np.ndarray
    pre: np.ndarray
    counts: np.ndarray | None = None
    population: np.ndarray | None = None
    predictors: pd.DataFrame | None = None
    dropped: dict = field(default_factory=dict)

    @property
    def donors(self) -> list:
        return self.units[1:]

    def labels(self) -> list[str]:
        """Period labels: '2019-01' for months, '1989' for years."""
        return [time_label(t) for t in self.times]

    def restrict(self, keep: np.ndarray, pre: np.ndarray) -> "Panel":
        """The same units over the periods ``keep`` (a boolean mask), with a new pre-period mask."""
        sub = lambda a: None if a is None else a[keep]  # noqa: E731
        return Panel(self.times[keep], self.units, self.values[keep], pre, sub(self.counts), sub(self.population),
                     self.predictors, dict(self.dropped))


def time_label(t) -> str:
    if isinstance(t, pd.Timestamp):
        return t.strftime("%Y-%m") if t.day == 1 else t.strftime("%Y-%m-%d")
    if isinstance(t, float | np.floating) and float(t).is_integer():
        return str(int(t))
    return str(t)


def parse_time(value, times: pd.Index, what: str):
    """``value`` on the scale of the time column: a Timestamp for dates ('2019-01' works), else a number."""
    if isinstance(times, pd.DatetimeIndex):
        try:
            return pd.Timestamp(str(value) if not isinstance(value, pd.Timestamp) else value)
        except (ValueError, TypeError):
            raise SynthInputError(f"{what} {value!r} is not a date like the time column (e.g. {time_label(times[0])})") from None
    try:
        return float(value)
    except (ValueError, TypeError):
        raise SynthInputError(f"{what} {value!r} is not a number like the time column (e.g. {time_label(times[0])})") from None


def _numeric(frame: pd.DataFrame, column: str, role: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna() & (frame[column].astype(str).str.strip() != "*")
    if bad.any():
        rows = frame.index[bad]
        raise SynthInputError(f"{WHAT}: field {column!r} ({role}) has {int(bad.sum())} values that are not numbers, "
                              f"e.g. {frame.loc[rows[0], column]!r} at row {rows[0]} (rows {', '.join(map(str, rows[:5]))})")
    return values


def _times(frame: pd.DataFrame, time: str) -> pd.Series:
    col = frame[time]
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_numeric_dtype(col):
        return col
    parsed = pd.to_datetime(col, errors="coerce")
    bad = parsed.isna()
    if bad.any():
        row = frame.index[bad][0]
        raise SynthInputError(f"{WHAT}: field {time!r} has {int(bad.sum())} values that are not dates or numbers, "
                              f"e.g. {col.loc[row]!r} at row {row}")
    return parsed


def build_panel(frame: pd.DataFrame, *, unit: str, time: str, outcome: str, treated, start, population: str | None,
                covariates: list[str], donors, form: str, per: float) -> tuple[Panel, object]:
    """Check ``frame`` and lay it out. Returns the panel and ``start`` on the time column's scale."""
    if not isinstance(frame, pd.DataFrame):
        raise SynthInputError(f"{WHAT}: expected a pandas DataFrame, got {type(frame).__name__}")
    needed = [unit, time, outcome, *([population] if population else []), *covariates]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise SynthInputError(f"{WHAT}: no column {', '.join(map(repr, missing))} (columns: {', '.join(map(str, frame.columns))})")
    if frame.empty:
        raise SynthInputError(f"{WHAT}: the frame has no rows")
    units = pd.unique(frame[unit])
    if treated not in set(units):
        raise SynthInputError(f"{WHAT}: treated unit {treated!r} is not in field {unit!r} "
                              f"(units: {', '.join(map(str, units[:8]))}{', ...' if len(units) > 8 else ''})")
    if donors is None:
        donor_list = [u for u in units if u != treated]
    else:
        donor_list = [d for d in donors if d != treated]
        unknown = [d for d in donor_list if d not in set(units)]
        if unknown:
            raise SynthInputError(f"{WHAT}: donors not in field {unit!r}: {', '.join(map(str, unknown[:5]))}")
    f = frame[frame[unit].isin([treated, *donor_list])].copy()
    f[time] = _times(f, time)
    key = f.duplicated([unit, time], keep=False)
    if key.any():
        first = f[key].iloc[0]
        rows = f.index[key & (f[unit] == first[unit]) & (f[time] == first[time])]
        raise SynthInputError(f"{WHAT}: {int(key.sum())} rows repeat a unit and period, e.g. unit {first[unit]!r} at "
                              f"{time_label(first[time])} (rows {', '.join(map(str, rows))})")
    value = _numeric(f, outcome, "outcome")
    counted = population is not None or form == "count"
    if counted:
        negative = value < 0
        if negative.any():
            row = f.index[negative][0]
            raise SynthInputError(f"{WHAT}: field {outcome!r} holds counts and cannot be negative: "
                                  f"{int(negative.sum())} rows, e.g. {f.loc[row, outcome]!r} at row {row}")
    pop = None
    if population is not None:
        pop = _numeric(f, population, "population")
        bad = pop.notna() & (pop <= 0)
        if bad.any():
            row = f.index[bad][0]
            raise SynthInputError(f"{WHAT}: field {population!r} must be positive: {int(bad.sum())} rows, "
                                  f"e.g. {f.loc[row, population]!r} at row {row}")
    f["_value"], f["_pop"] = value, (pop if pop is not None else np.nan)
    times = pd.Index(sorted(f[time].unique()))
    if isinstance(times[0], pd.Timestamp):
        times = pd.DatetimeIndex(times)
    start = parse_time(start, times, "start")
    pre = np.asarray(times < start)
    if pre.sum() < 2 or (~pre).sum() < 1:
        raise SynthInputError(f"{WHAT}: start {time_label(start)} leaves {int(pre.sum())} periods before it and "
                              f"{int((~pre).sum())} from it (the data run {time_label(times[0])} to {time_label(times[-1])}); "
                              "at least 2 before and 1 after are needed")

    wide = f.pivot(index=time, columns=unit, values="_value").reindex(index=times)
    wide_pop = f.pivot(index=time, columns=unit, values="_pop").reindex(index=times)
    incomplete = wide[treated].isna() | (wide_pop[treated].isna() if pop is not None else False)
    if incomplete.any():
        gaps = [time_label(t) for t in times[np.asarray(incomplete)]]
        raise SynthInputError(f"{WHAT}: the treated unit {treated!r} has no {outcome!r}"
                              f"{' or ' + repr(population) if pop is not None else ''} in {len(gaps)} periods, "
                              f"e.g. {', '.join(gaps[:5])} (suppressed or missing cells cannot be compared)")
    dropped = {}
    for d in donor_list:
        miss = wide[d].isna() | (wide_pop[d].isna() if pop is not None else False)
        if miss.any():
            gaps = [time_label(t) for t in times[np.asarray(miss)]]
            dropped[d] = f"{len(gaps)} periods missing or suppressed, e.g. {gaps[0]}"
    if dropped:
        warnings.warn(f"{len(dropped)} donors dropped for missing or suppressed periods: "
                      f"{', '.join(map(str, list(dropped)[:5]))}{', ...' if len(dropped) > 5 else ''}", stacklevel=3)
    kept = [d for d in donor_list if d not in dropped]
    if len(kept) < 2:
        raise SynthNotEstimable(f"{len(kept)} donor unit{'' if len(kept) == 1 else 's'} with every period present and published ({len(dropped)} left out for missing or suppressed periods); a synthetic control needs at least 2")
    cols = [treated, *kept]
    counts = wide[cols].to_numpy(float) if counted else None
    popm = wide_pop[cols].to_numpy(float) if pop is not None else None
    if form == "count" or pop is None:
        values = wide[cols].to_numpy(float)
    else:
        values = counts / popm * per
    predictors = None
    if covariates:
        pre_rows = f[f[time] < start]
        means = {}
        for c in covariates:
            v = _numeric(pre_rows, c, "covariate")
            means[c] = v.groupby(pre_rows[unit]).mean()
        means[f"{outcome} (pre-period mean)"] = pd.Series(values[pre].mean(axis=0), index=cols)
        predictors = pd.DataFrame(means).reindex(cols).T
        gaps = predictors.columns[predictors.isna().any(axis=0)]
        if treated in gaps:
            raise SynthInputError(f"{WHAT}: the treated unit {treated!r} has no value before start for covariate(s) "
                                  f"{', '.join(predictors.index[predictors[treated].isna()])}")
        if len(gaps):
            raise SynthInputError(f"{WHAT}: donors with no covariate value before start: {', '.join(map(str, gaps[:5]))}")
    return Panel(times, cols, values, pre, counts, popm, predictors, dropped), start
