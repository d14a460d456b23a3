"""The population table (ONS-like mid-year estimates) and the daily CYP population index.

3.6 million residents of the 12 south London boroughs in mid-2017 (times `scale`), about 22% aged
0-17, in the contract's age bands, for the mid-years 2014..2024; each band grows (or shrinks)
slowly at its own yearly rate. No randomness: the denominator is the same for every seed.
"""

from __future__ import annotations

import numpy as np

from outcomes.reference._model import (
    AGE_BANDS,
    BAND_GROWTH,
    CYP_BAND_SPLIT,
    DAYS,
    FOOTPRINT,
    POPULATION_YEARS,
    TOTAL_POPULATION_2017,
    to_day,
)


def population_rows(scale: float) -> dict[str, np.ndarray]:
    """Columns LADistrictAuth, year, age_band, persons (one row per LA, year and band)."""
    factor = TOTAL_POPULATION_2017 / sum(la.pop_2017 for la in FOOTPRINT)
    las, years, bands, persons = [], [], [], []
    for la in FOOTPRINT:
        total = la.pop_2017 * factor
        cyp = total * la.cyp_share
        shares = [cyp * s for s in CYP_BAND_SPLIT] + [total * (1 - la.cyp_share - la.old_share), total * la.old_share]
        for year in POPULATION_YEARS:
            for band, base, growth in zip(AGE_BANDS, shares, BAND_GROWTH):
                las.append(la.code)
                years.append(year)
                bands.append(band)
                persons.append(int(round(scale * base * (1 + growth) ** (year - 2017))))
    return {
        "LADistrictAuth": np.array(las),
        "year": np.array(years, dtype=np.int64),
        "age_band": np.array(bands),
        "persons": np.array(persons, dtype=np.int64),
    }


def _by_year(rows: dict[str, np.ndarray], bands: tuple[str, ...]) -> np.ndarray:
    chosen = np.isin(rows["age_band"], bands)
    return np.array([rows["persons"][chosen & (rows["year"] == y)].sum() for y in POPULATION_YEARS], dtype=float)


def daily_index(rows: dict[str, np.ndarray], bands: tuple[str, ...]) -> np.ndarray:
    """Footprint residents in `bands` on each day of the extract (linear between mid-years),
    relative to mid-2017."""
    per_year = _by_year(rows, bands)
    mid_years = np.array([to_day(f"{y}-06-30") for y in POPULATION_YEARS], dtype=float)
    series = np.interp(DAYS.astype(float), mid_years, per_year)
    return series / per_year[POPULATION_YEARS.index(2017)]


def cyp_share_by_la(rows: dict[str, np.ndarray]) -> np.ndarray:
    """Weights of each footprint LA in the CYP population (mid-2017)."""
    chosen = np.isin(rows["age_band"], AGE_BANDS[:4]) & (rows["year"] == 2017)
    per_la = np.array([rows["persons"][chosen & (rows["LADistrictAuth"] == la.code)].sum() for la in FOOTPRINT], dtype=float)
    return per_la / per_la.sum()


def adult_share_by_la(rows: dict[str, np.ndarray]) -> np.ndarray:
    chosen = np.isin(rows["age_band"], AGE_BANDS[4:]) & (rows["year"] == 2017)
    per_la = np.array([rows["persons"][chosen & (rows["LADistrictAuth"] == la.code)].sum() for la in FOOTPRINT], dtype=float)
    return per_la / per_la.sum()
