"""Calendar, random streams, geography, providers and the rate model shared by the generators.

Dates are handled as int64 day numbers (days since 1970-01-01, numpy's datetime64[D]); a missing
date is `NULL_DAY`. The extract covers the 120 months 2014-04 to 2024-03.

The rate model of every event process (admissions, referrals, A&E attendances, crisis episodes...)
is a product of multiplicative terms on a daily grid:

    rate(d) = base * population(d) * exp(trend * years(d)) * season(d)**s * covid(m)**c
              * AR1(m) * frailty(m) * programme(d)

season: school-year pattern (month-of-year table, late-December and early-January troughs);
covid: a dip from March 2020 then a rebound; AR1: an autocorrelated monthly log-rate multiplier
(mean 1); frailty: an independent monthly gamma multiplier (mean 1, overdispersion); programme:
1 + (theta - 1) * ramp(d), ramp rising linearly from 0 at go-live to 1 after the phase-in.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from outcomes.reference._codes import CODES

# ---------------------------------------------------------------------------------------------
# calendar
EXTRACT_START = np.datetime64("2014-04-01", "D")
EXTRACT_END = np.datetime64("2024-03-31", "D")
START = int(EXTRACT_START.astype(np.int64))
END = int(EXTRACT_END.astype(np.int64))
N_DAYS = END - START + 1
N_MONTHS = 120
DAYS = np.arange(START, END + 1, dtype=np.int64)
#: sentinel for a missing (null) date
NULL_DAY = np.int64(-(2**40))
_MONTH0 = EXTRACT_START.astype("datetime64[M]").astype(np.int64)
#: first day of each month 2014-04 .. 2024-04 (121 values: the last is the day after the extract)
MONTH_STARTS = (EXTRACT_START.astype("datetime64[M]") + np.arange(N_MONTHS + 1)).astype("datetime64[D]").astype(np.int64)
#: index (0..119) of the month of each day of the extract
DAY_MONTH = (DAYS.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - _MONTH0).astype(np.int64)
COVID_MONTH = 71  # 2020-03
#: admissions and referrals are drawn from two years before the extract start, and those still
#: open on 2014-04-01 are kept, so the extract starts with beds occupied and caseloads open
BURN_IN_DAYS = 730  # 2012-04-01 .. 2014-03-31
BURN_START = START - BURN_IN_DAYS
EXT_DAYS = np.arange(BURN_START, END + 1, dtype=np.int64)


def with_burn_in(daily: np.ndarray, trend: float) -> np.ndarray:
    """A daily rate on EXT_DAYS: the first two years of `daily` (on DAYS), two years earlier and
    scaled back by the trend, then `daily`."""
    return np.concatenate([daily[:BURN_IN_DAYS] * np.exp(-2 * trend), daily])


def to_day(value) -> int:
    """Day number of a date (ISO string, date or datetime64)."""
    return int(np.datetime64(str(value)[:10], "D").astype(np.int64))


def iso(day) -> str:
    return str(np.datetime64(int(day), "D"))


def month_of(days: np.ndarray) -> np.ndarray:
    """Month index (0 = 2014-04) of day numbers."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) - _MONTH0


def month_start(days: np.ndarray) -> np.ndarray:
    """First day of the month of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(day: int, months: int) -> int:
    """`day` (the first of a month) plus whole months."""
    return int((np.datetime64(int(day), "D").astype("datetime64[M]") + months).astype("datetime64[D]").astype(np.int64))


def shift_years(days: np.ndarray, years) -> np.ndarray:
    """Same calendar day `years` later (29 February -> 28 February), as day numbers."""
    d = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    dom = (d - months.astype("datetime64[D]")).astype(np.int64)
    target = months + 12 * np.asarray(years, dtype=np.int64)
    last = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64) - 1
    return target.astype("datetime64[D]").astype(np.int64) + np.minimum(dom, last)


def age_on(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Age in completed years on day `on` of people born on day `birth` (vectorised)."""
    b = np.asarray(birth, dtype=np.int64).astype("datetime64[D]")
    o = np.asarray(on, dtype=np.int64).astype("datetime64[D]")
    by, oy = b.astype("datetime64[Y]").astype(np.int64), o.astype("datetime64[Y]").astype(np.int64)
    bm, om = b.astype("datetime64[M]").astype(np.int64) % 12, o.astype("datetime64[M]").astype(np.int64) % 12
    bd = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    od = (o - o.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    return oy - by - ((om * 100 + od) < (bm * 100 + bd)).astype(np.int64)


def birth_for_age(rng: np.random.Generator, on: np.ndarray, age: np.ndarray) -> np.ndarray:
    """Birth dates (first of the month, as in pseudonymised extracts) of people aged `age` on `on`."""
    on = np.asarray(on, dtype=np.int64)
    frac = rng.uniform(0.08, 0.92, len(on))
    raw = on - np.rint((np.asarray(age) + frac) * 365.25).astype(np.int64)
    birth = month_start(raw)
    # exact: move by a month until the age on `on` is the one asked for
    for _ in range(3):
        got = age_on(birth, on)
        too_old, too_young = got > age, got < age
        if not (too_old.any() or too_young.any()):
            break
        birth = np.where(too_old, month_start(birth + 32), birth)
        birth = np.where(too_young, month_start(birth - 1), birth)
    return birth


# ---------------------------------------------------------------------------------------------
# random streams
class Streams:
    """Independent, named random streams derived from one seed: `streams("referrals", 3)`."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __call__(self, *keys) -> np.random.Generator:
        words = [self.seed & 0xFFFFFFFF, (self.seed >> 32) & 0xFFFFFFFF]
        words += [zlib.crc32(str(k).encode()) for k in keys]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def choice(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    """`n` indices drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=float)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)


# ---------------------------------------------------------------------------------------------
# geography: the footprint (12 south London boroughs) and places patients come from elsewhere
@dataclass(frozen=True)
class LA:
    code: str
    name: str
    pop_2017: int  # residents mid-2017 before rescaling to the 3.6 million total
    cyp_share: float  # share aged 0-17
    old_share: float  # share aged 65+
    trust: str  # the network provider whose CAMHS covers it ('' outside the footprint)
    acute: str  # emergency department most residents use (ECDS provider code)


FOOTPRINT = (
    LA("E09000004", "Bexley", 247_000, 0.232, 0.170, "RPG", "R9F"),
    LA("E09000006", "Bromley", 330_000, 0.222, 0.180, "RPG", "R9G"),
    LA("E09000008", "Croydon", 386_000, 0.245, 0.135, "RV5", "R9H"),
    LA("E09000011", "Greenwich", 280_000, 0.242, 0.105, "RPG", "R9F"),
    LA("E09000021", "Kingston upon Thames", 175_000, 0.220, 0.135, "RQY", "R9K"),
    LA("E09000022", "Lambeth", 326_000, 0.190, 0.085, "RV5", "R9J"),
    LA("E09000023", "Lewisham", 301_000, 0.225, 0.100, "RV5", "R9F"),
    LA("E09000024", "Merton", 206_000, 0.232, 0.125, "RQY", "R9L"),
    LA("E09000027", "Richmond upon Thames", 195_000, 0.232, 0.155, "RQY", "R9K"),
    LA("E09000028", "Southwark", 317_000, 0.200, 0.085, "RV5", "R9J"),
    LA("E09000029", "Sutton", 202_000, 0.235, 0.150, "RQY", "R9L"),
    LA("E09000032", "Wandsworth", 321_000, 0.190, 0.090, "RQY", "R9L"),
)
#: LAs outside the footprint whose residents are treated by network providers
ELSEWHERE = (
    LA("E09000002", "Barking and Dagenham", 0, 0, 0, "", "R9M"),
    LA("E09000030", "Tower Hamlets", 0, 0, 0, "", "R9M"),
    LA("E09000033", "Westminster", 0, 0, 0, "", "R9M"),
    LA("E07000111", "Sevenoaks", 0, 0, 0, "", "R9N"),
    LA("E07000207", "Elmbridge", 0, 0, 0, "", "R9N"),
    LA("E07000215", "Tandridge", 0, 0, 0, "", "R9N"),
    LA("E06000043", "Brighton and Hove", 0, 0, 0, "", "R9N"),
)
ALL_LAS = FOOTPRINT + ELSEWHERE
N_FOOTPRINT = len(FOOTPRINT)
LA_CODES = np.array([la.code for la in ALL_LAS])
LSOAS_PER_LA = 150
TOTAL_POPULATION_2017 = 3_600_000
AGE_BANDS = ("0-4", "5-9", "10-14", "15-17", "18-64", "65+")
#: share of the CYP population in each CYP band, and yearly growth of each band
CYP_BAND_SPLIT = (0.30, 0.29, 0.26, 0.15)
BAND_GROWTH = (-0.006, 0.004, 0.018, 0.016, 0.006, 0.014)
POPULATION_YEARS = tuple(range(2014, 2025))

# ---------------------------------------------------------------------------------------------
# providers (ODS-like codes; everything outside the network is invented)
NETWORK = CODES["collaborative"].groups["network_providers"]  #: the contract's network providers
PROVIDERS = {
    "RPG": ("Oxleas NHS Foundation Trust", "network", "NHS"),
    "RV5": ("South London and Maudsley NHS Foundation Trust", "network", "NHS"),
    "RQY": ("South West London and St George's Mental Health NHS Trust", "network", "NHS"),
    "R9A": ("Synthetic Kent CAMHS inpatient unit (NHS trust)", "out_of_network", "NHS"),
    "R9B": ("Synthetic Surrey and Sussex Tier 4 unit (NHS trust)", "out_of_network", "NHS"),
    "R9C": ("Synthetic North London adolescent unit (NHS trust)", "out_of_network", "NHS"),
    "N9A": ("Synthetic independent hospital A (independent sector)", "out_of_network", "independent"),
    "N9B": ("Synthetic independent hospital B (independent sector)", "out_of_network", "independent"),
    "N9C": ("Synthetic independent hospital C (independent sector)", "out_of_network", "independent"),
    "N9D": ("Synthetic independent hospital D (independent sector)", "out_of_network", "independent"),
    "R9D": ("Synthetic community CAMHS outside the footprint (NHS trust)", "out_of_network", "NHS"),
    "R9F": ("Synthetic acute trust, south-east London (emergency department)", "acute", "NHS"),
    "R9G": ("Synthetic acute trust, Bromley (emergency department)", "acute", "NHS"),
    "R9H": ("Synthetic acute trust, Croydon (emergency department)", "acute", "NHS"),
    "R9J": ("Synthetic acute trust, Lambeth and Southwark (emergency department)", "acute", "NHS"),
    "R9K": ("Synthetic acute trust, Kingston and Richmond (emergency department)", "acute", "NHS"),
    "R9L": ("Synthetic acute trust, Merton, Sutton and Wandsworth (emergency department)", "acute", "NHS"),
    "R9M": ("Synthetic acute trust, north and east London (emergency department)", "acute", "NHS"),
    "R9N": ("Synthetic acute trust, Kent, Surrey and Sussex (emergency department)", "acute", "NHS"),
}
ORG_CODES = np.array(list(PROVIDERS))
ORG = {code: i for i, code in enumerate(ORG_CODES)}
OOA_INPATIENT = ("N9A", "N9B", "N9C", "N9D", "R9A", "R9B", "R9C")
OOA_INPATIENT_WEIGHTS = (0.25, 0.20, 0.15, 0.10, 0.12, 0.10, 0.08)
ACUTE = ("R9F", "R9G", "R9H", "R9J", "R9K", "R9L", "R9M", "R9N")
LA_TRUST = np.array([ORG[la.trust] if la.trust else ORG["R9D"] for la in ALL_LAS])
LA_ACUTE = np.array([ORG[la.acute] for la in ALL_LAS])
NETWORK_IDX = np.array([ORG[c] for c in NETWORK])
OOA_IDX = np.array([ORG[c] for c in OOA_INPATIENT])


# ---------------------------------------------------------------------------------------------
# the rate model
#: school-year seasonality: log multipliers by calendar month (January first)
SEASON_LOG_BY_MONTH = (0.00, 0.04, 0.07, -0.03, 0.06, 0.05, -0.04, -0.30, -0.02, 0.07, 0.09, 0.02)
#: extra log multiplier on 20-31 December and 1-3 January (school holidays)
LATE_DECEMBER_LOG, EARLY_JANUARY_LOG = -0.45, -0.25
#: COVID-19: multipliers of the months March-August 2020 (the dip), then a rebound
COVID_DIP = (0.85, 0.55, 0.65, 0.80, 0.90, 0.97)
COVID_REBOUND, COVID_REBOUND_RISE, COVID_REBOUND_PEAK, COVID_REBOUND_DECAY = 0.30, 4.0, 18, 24.0
AR_PHI, AR_SIGMA, FRAILTY_SHAPE = 0.6, 0.07, 60.0


def _season_log() -> np.ndarray:
    d = DAYS.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    moy = months.astype(np.int64) % 12
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    log = np.asarray(SEASON_LOG_BY_MONTH)[moy]
    log = log + np.where((moy == 11) & (dom >= 20), LATE_DECEMBER_LOG, 0.0)
    log = log + np.where((moy == 0) & (dom <= 3), EARLY_JANUARY_LOG, 0.0)
    first_year = log[:365]  # 2014-04-01 .. 2015-03-31: normalise to a yearly mean multiplier of 1
    return log - np.log(np.exp(first_year).mean())


SEASON_LOG = _season_log()


def covid_multiplier_by_month() -> np.ndarray:
    """COVID-19 multiplier of each month 2014-04 .. 2024-03 (1 before March 2020)."""
    k = np.arange(N_MONTHS) - COVID_MONTH
    out = np.ones(N_MONTHS)
    dip = (k >= 0) & (k < len(COVID_DIP))
    out[dip] = np.asarray(COVID_DIP)[k[dip]]
    after = k >= len(COVID_DIP)
    ka = k[after].astype(float)
    rise = 1 - np.exp(-(ka - (len(COVID_DIP) - 1)) / COVID_REBOUND_RISE)
    decay = np.exp(-np.maximum(0, ka - COVID_REBOUND_PEAK) / COVID_REBOUND_DECAY)
    out[after] = 1 + COVID_REBOUND * rise * decay
    return out


COVID_BY_MONTH = covid_multiplier_by_month()
YEARS = (DAYS - to_day("2017-04-01")) / 365.25  # years since 2017-04-01 (rates are quoted then)


def monthly_noise(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(AR(1) multiplier, gamma frailty) per month, both with mean 1."""
    sd = AR_SIGMA / np.sqrt(1 - AR_PHI**2)
    x = np.empty(N_MONTHS)
    x[0] = rng.normal(0, sd)
    eps = rng.normal(0, AR_SIGMA, N_MONTHS)
    for t in range(1, N_MONTHS):
        x[t] = AR_PHI * x[t - 1] + eps[t]
    frailty = rng.gamma(FRAILTY_SHAPE, 1 / FRAILTY_SHAPE, N_MONTHS)
    return np.exp(x - sd**2 / 2), frailty


@dataclass(frozen=True)
class Programme:
    """The collaborative's programme: go-live (first of a month) and a linear phase-in."""

    go_live: int
    phase_in_months: int

    @property
    def phase_end(self) -> int:
        return add_months(self.go_live, self.phase_in_months)

    def ramp(self, days: np.ndarray) -> np.ndarray:
        days = np.asarray(days, dtype=np.int64)
        if self.phase_end == self.go_live:
            return (days >= self.go_live).astype(float)
        return np.clip((days - self.go_live) / (self.phase_end - self.go_live), 0.0, 1.0)

    def multiplier(self, theta: float, days: np.ndarray) -> np.ndarray:
        return 1.0 + (theta - 1.0) * self.ramp(days)

    @property
    def baseline(self) -> tuple[int, int]:
        """The 12 months before go-live, [start, end)."""
        return add_months(self.go_live, -12), self.go_live

    @property
    def post(self) -> tuple[int, int]:
        """The 12 months after the phase-in ends, [start, end)."""
        return self.phase_end, add_months(self.phase_end, 12)


@dataclass(frozen=True)
class Process:
    """One event process of the rate model (see the module docstring)."""

    name: str
    trend: float  # log-rate change per year
    season: float  # strength of the school-year pattern (power of its multiplier)
    covid: float  # strength of the COVID-19 term


def deterministic_log_rate(process: Process) -> np.ndarray:
    """log of trend x season x covid per day (no population, noise or programme)."""
    return process.trend * YEARS + process.season * SEASON_LOG + process.covid * np.log(COVID_BY_MONTH)[DAY_MONTH]
