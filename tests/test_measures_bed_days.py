"""Bed days per month (MHS24) against a brute-force day-by-day oracle in plain pandas.

Random stays (hypothesis): open stays, same-day stays, stays spanning many months or the whole
period, stays outside the period, back-to-back transfers. One query per example computes bed days
per stay and month (grouped by stay id), so both the monthly totals and each stay's clipped
length are checked against the oracle.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes.measures.bed_days import bed_days_by_month
from outcomes.measures.intervals import Period

DAY = dt.timedelta(days=1)
EARLIEST = dt.date(2018, 6, 1)


def oracle(stays: pd.DataFrame, period: Period, open_until: dt.date) -> dict:
    """Bed days per (stay, month) by listing every occupied day: start counts, end does not."""
    counts: dict[tuple[str, dt.date], int] = {}
    for stay in stays.itertuples():
        end = open_until + DAY if stay.end is None else min(stay.end, open_until + DAY)
        day = stay.start
        while day < end:
            if period.start <= day < period.end_exclusive:
                key = (stay.stay_id, day.replace(day=1))
                counts[key] = counts.get(key, 0) + 1
            day += DAY
    return counts


def compute(stays: pd.DataFrame, period: Period, open_until: dt.date) -> pd.DataFrame:
    table = ibis.memtable(stays, schema={"stay_id": "string", "start": "date", "end": "date"})
    result = bed_days_by_month(table, period, open_until, start="start", end="end", group_by=["stay_id"])
    return result.to_pandas()


@st.composite
def chains_of_stays(draw):
    """A list of stays; each chain is 1-3 back-to-back ward stays (a transfer: next start = end)."""
    open_until = draw(st.dates(dt.date(2020, 3, 1), dt.date(2021, 2, 28)))
    rows = []
    for chain in range(draw(st.integers(1, 6))):
        start = draw(st.dates(EARLIEST, open_until))
        for link in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["closed", "closed", "same_day", "open", "long"]))
            if kind == "open":
                end = None
            elif kind == "same_day":
                end = start
            else:
                length = draw(st.integers(0, 900 if kind == "long" else 60))
                end = min(start + dt.timedelta(days=length), open_until)
            rows.append({"stay_id": f"s{chain}.{link}", "start": start, "end": end})
            if end is None:
                break
            start = end
    first = draw(st.dates(dt.date(2019, 1, 1), dt.date(2020, 12, 1)))
    last = draw(st.dates(first, dt.date(2021, 3, 1)))
    return pd.DataFrame(rows, columns=["stay_id", "start", "end"]), Period.of(first, last), open_until


def as_dict(frame: pd.DataFrame) -> dict:
    frame = frame[frame.bed_days != 0]
    return {(s, pd.Timestamp(m).date()): int(n) for s, m, n in zip(frame.stay_id, frame.month, frame.bed_days)}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains_of_stays())
def test_bed_days_match_day_by_day_oracle(case):
    stays, period, open_until = case
    result = compute(stays, period, open_until)
    expected = oracle(stays, period, open_until)
    assert as_dict(result) == expected
    # every stay x month of the period is present (zero-filled), nothing outside the period
    assert len(result) == len(period.month_keys) * stays.stay_id.nunique()
    assert (result.bed_days >= 0).all()
    # the sum over months is each stay's clipped length
    for stay in stays.itertuples():
        end = open_until + DAY if stay.end is None else min(stay.end, open_until + DAY)
        clipped = max(0, (min(end, period.end_exclusive) - max(stay.start, period.start)).days)
        assert result.loc[result.stay_id == stay.stay_id, "bed_days"].sum() == clipped


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (dt.date(2024, 1, 10), dt.date(2024, 1, 10), [0, 0, 0]),  # same day: no bed days
        (dt.date(2024, 1, 10), dt.date(2024, 1, 11), [1, 0, 0]),  # admission day counts, discharge day not
        (dt.date(2024, 1, 31), dt.date(2024, 2, 1), [1, 0, 0]),
        (dt.date(2023, 5, 1), None, [31, 29, 15]),  # open: whole months, then up to the extract end inclusive
        (dt.date(2023, 5, 1), dt.date(2023, 12, 31), [0, 0, 0]),  # before the period
        (dt.date(2024, 2, 29), dt.date(2024, 3, 2), [0, 1, 1]),  # leap day
    ],
)
def test_mhs24_examples(start, end, expected):
    stays = pd.DataFrame({"stay_id": ["x"], "start": [start], "end": [end]})
    result = compute(stays, Period.of("2024-01", "2024-03"), open_until=dt.date(2024, 3, 15))
    assert result.bed_days.tolist() == expected


def test_groups_add_up_to_the_total():
    stays = pd.DataFrame(
        {
            "StartDateWardStay": [dt.date(2023, 12, 20), dt.date(2024, 1, 5), dt.date(2024, 2, 1)],
            "EndDateWardStay": [dt.date(2024, 1, 10), None, dt.date(2024, 2, 3)],
            "provider": ["RV5", None, "RV5"],
        }
    )
    table = ibis.memtable(stays)
    period = Period.of("2024-01", "2024-02")
    by_provider = bed_days_by_month(table, period, dt.date(2024, 2, 29), group_by=["provider"]).to_pandas()
    total = bed_days_by_month(table, period, dt.date(2024, 2, 29)).to_pandas()
    assert set(by_provider.provider) == {"RV5", "(missing)"}
    assert by_provider.groupby("month").bed_days.sum().tolist() == total.bed_days.tolist() == [9 + 27, 29 + 2]
