"""Age bands of the population denominator, in whole years: `a-b` (a to b inclusive), `a+` (a and
over) or a single year `a`.

ONS mid-year estimates come by single year of age, published tables in five-year bands, local
denominators often as `0-17` and `18+`; any of them works as long as, for one LA and year, no two
bands overlap. Children and young people (CYP) are aged 0-17, so a band that straddles 17/18
(`15-19`, `0+`) cannot be split and is an error. `band_bounds` gives the first and last year of a
band as portable Ibis integers (the same SQL on DuckDB, PostgreSQL and Spark); `parse_band` does
it in Python.

>>> parse_band("15-17"), parse_band("65+"), parse_band("7")
((15, 17), (65, None), (7, 7))
"""

from __future__ import annotations

import re

import ibis

__all__ = ["AGE_BAND_PATTERN", "CYP_AGES", "band_bounds", "parse_band", "inside", "straddles"]

#: what an age band looks like
AGE_BAND_PATTERN = r"^[0-9]{1,3}(-[0-9]{1,3}|\+)?$"
#: first and last year of age of children and young people
CYP_AGES = (0, 17)
#: stands in for "no upper bound" (a band `a+`) in comparisons
OPEN_END = 999


def parse_band(band: str) -> tuple[int, int | None]:
    """(first, last) year of age of a band; last is None for `a+`. ValueError when not a band."""
    text = str(band).strip()
    if not re.fullmatch(AGE_BAND_PATTERN, text):
        raise ValueError(f"{band!r} is not an age band (a-b, a+ or a single year)")
    if text.endswith("+"):
        return int(text[:-1]), None
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def band_bounds(band: ibis.Value) -> tuple[ibis.Value, ibis.Value]:
    """Ibis int64 (first, last) year of age of a string column of bands; last is OPEN_END for `a+`."""
    first = band.re_extract(r"^([0-9]+)", 1).cast("int64")
    last_text = band.re_extract(r"-([0-9]+)$", 1)
    last = band.endswith("+").ifelse(ibis.literal(OPEN_END, "int64"), last_text.nullif("").cast("int64").fill_null(first))
    return first, last


def inside(band: ibis.Value, ages: tuple[int, int] = CYP_AGES) -> ibis.Value:
    """Ibis boolean: the band lies wholly inside `ages` (inclusive)."""
    first, last = band_bounds(band)
    return (first >= ages[0]) & (last <= ages[1])


def straddles(band: ibis.Value, ages: tuple[int, int] = CYP_AGES) -> ibis.Value:
    """Ibis boolean: the band holds ages both inside and outside `ages`."""
    first, last = band_bounds(band)
    low, high = ages
    return ((first < low) & (last >= low)) | ((first <= high) & (last > high))


def overlapping_bands(table: ibis.Table, band: str, group: list[str]) -> ibis.Table:
    """Pairs of different bands of one group (LA and year) that share an age: Ibis table of the
    group columns, `band`, `other_band` (each pair once). Bands must already be well formed."""
    first, last = band_bounds(table[band])
    left = table.select(*group, band=table[band], first=first, last=last)
    right = left.select(*[left[g].name(f"__other_{g}") for g in group], other_band=left.band, other_first=left.first, other_last=left.last)
    same_group = [left[g] == right[f"__other_{g}"] for g in group]
    pairs = left.join(right, [*same_group, left.band < right.other_band, left.first <= right.other_last, right.other_first <= left.last])
    return pairs.select(*group, "band", "other_band")


def uncovered_ages(table: ibis.Table, band: str, group: list[str], ages: tuple[int, int] = CYP_AGES) -> ibis.Table:
    """Groups (LA and year) whose bands inside `ages` leave some of those ages out: Ibis table of
    the group columns and `years_covered` (of `ages[1] - ages[0] + 1`). Bands must not overlap."""
    first, last = band_bounds(table[band])
    width = ages[1] - ages[0] + 1
    years = inside(table[band], ages).ifelse(last - first + 1, 0)
    covered = table.group_by(group).aggregate(years_covered=years.sum().cast("int64"))
    return covered.filter(covered.years_covered < width)
