"""The synthetic reference extract: an MHSDS-shaped extract with planted programme effects and
their truth, the project's embedded default (real NHS data cannot be shipped).

>>> from outcomes.reference import write_reference_extract
>>> folder = write_reference_extract("data/reference")          # doctest: +SKIP

`write_reference_extract(out_dir, seed, scale, go_live, ...)` writes, deterministically (same seed
and parameters, byte-identical files):

* one parquet file per table of the contract (MHS001MPI, MHS101Referral, MHS201CareContact,
  MHS202CareActivity, MHS501HospProvSpell, MHS502WardStay, ECDS, RiskEvents, population, and the
  optional deprivation, MHS903WardDetails, MHS505RestrictiveIntervention, MHS401MHActPeriod and
  MHS607CodedScoreAssessment tables, synthetic), with exactly the contract's columns and types;
  optional deprivation and area_statistics tables, synthetic), with exactly the contract's columns
  and types;
* `extract.yaml` (extract_end_date 2024-03-31, mhsds_version 6, source, seed, scale, generated_by,
  notes, and `organisations`: the name of each ODS code, which reports show beside it);
* `truth.json`: the planted effects, their functional form, go-live and phase-in, the windows, the
  rate model (seasonality, trend, COVID-19 terms, noise), and the values the files give by simple
  counts (realised), including the monthly series and the DBT cohort's counts.

What is in it (scale 1): 3.6 million residents of the 12 south London boroughs (22% aged 0-17),
months 2014-04 to 2024-03; community CYPMHS referrals with contacts and activities; about 28 CYP
admissions a month of footprint residents (a few thousand occupied bed days a month, 25-35% of
them out of network before the programme), CYP from elsewhere treated on network wards, adult
admissions; A&E attendances, crisis-team contacts and incidents of known service users. Demand has
a school-year seasonality, a secular upward trend, AR(1) and gamma month-to-month noise, and a
COVID-19 dip then rebound from March 2020. The programme (go-live a parameter, default 2017-10-01,
phased in linearly over `phase_in_months`) cuts CYP occupied bed days by 32% and out-of-area bed
days by 93% (post-programme year against the baseline year, calibrated so that simple counts
give these figures to the day), shortens PICU stays and lowers A&E attendances and crisis
episodes of known service users. A second component has its own date (`_crisis_teams.py`): the
enhanced crisis teams from April 2016 cut mental-health and self-harm A&E attendances of CYP
footprint residents not known to services by a rate ratio of 0.70 (truth.json `enhanced_crisis_teams`
gives it, and the main go-live's, rate ratio on the footprint series of all CYP residents); the
September 2020 crisis-line extension (`_crisis_line.py`) cuts those of every CYP footprint resident
by 0.75. A fixed DBT cohort of 30 eligible young people (plus 5 starters
without full follow-up) gives exactly 24 -> 1 suicide attempts, 23 -> 2 A&E attendances and
605 -> 0 occupied bed days in the 12 months before and after their first DBT contact. An
inequality is planted too (`_equity.py`): Black footprint CYP are placed out of area at 2.5 times the
rate of others before go-live and 1.0 times once phased in, by choosing people's ethnic group given
their first spell, so no spell and no other planted figure changes.

The programme as delivered and what it must not worsen (issue 22; `_delivery.py`, `_activity.py`,
truth.json `delivery`): distances from home (falling as out-of-area placements are repatriated),
the network's CYP wards and commissioned beds with a new 8-bed adolescent PICU from April 2018 (at
larger scales a site needing more than 24 beds has several wards, so a scale-15 extract passes the
contract's 200-bed limit for a ward),
restrictive interventions at a steady 30 per 1,000 occupied bed days, MHA detentions of 40% of CYP
admissions, paired CGAS/HoNOSCA scores reliably improved for 45% of young people before go-live and
60% after, crisis-line contact times (out of hours rising from April 2016), crisis-line calls and
single point of access referrals of CYP not known to services, and under-18s on adult wards falling
once the PICU opens. Each is drawn from its own stream and written after the other rows, so the
other tables' rows are unchanged.
Published area statistics (`_areas.py`): the footprint's 12 boroughs, counted on the written files,
and 36 donor areas with no programme drawn from their own random stream (every other table is
byte-identical to an extract without them), as NHS England publishes them (rounded to 5, 1-4
suppressed); truth.json's `area_statistics` gives each donor's parameters and the footprint's
planted effect against its own no-programme path over the post year (bed days x0.62, out-of-area
bed days x0.06 at the defaults), the target of notebook 12's synthetic control.

`scale` multiplies the population and every volume with it (15 is about England); the DBT cohort
keeps its size at every scale.

`history` (`_history.py`): the generator always writes the full history above; by default ("real")
it is then cut as a collaborative's real extract is: MHSDS from January 2016 (episodes open then
kept with their start dates), ECDS from October 2017 with the earlier attendances in the optional
HES A&E table (coarse mental-health coding), population estimates as ONS had published them by
the extract end (mid-2022). `history="full"` keeps the long history, byte-identical to the
extracts written before histories existed.
"""

from __future__ import annotations

import os
import sys
import shutil
import tempfile
import time
from pathlib import Path

from outcomes import __version__, workspace
from outcomes.errors import UserError

__all__ = ["write_reference_extract", "default_reference_extract", "read_truth", "ReferenceParameterError", "DEFAULT_SEED", "DEFAULT_GO_LIVE", "TABLES",
           "HISTORIES", "DEFAULT_HISTORY"]

DEFAULT_SEED = 20171001
#: where the reference extract plants the programme's effects, and so the programme's default go-live
#: (`outcomes.programme.DEFAULT_GO_LIVE`): the South London Partnership's CAMHS Tier 4 programme
DEFAULT_GO_LIVE = "2017-10-01"
MIN_SCALE, MAX_SCALE = 0.02, 50.0
#: the histories an extract can have (`outcomes.reference._history`, which owns what real history looks like)
HISTORIES = ("real", "full")
DEFAULT_HISTORY = "real"


def __getattr__(name: str):
    if name == "TABLES":  # the tables written (the contract's, checked by tests/test_reference.py); loaded lazily
        from outcomes.reference._write import TABLES

        return TABLES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ReferenceParameterError(UserError, ValueError):
    """A parameter of the reference extract is out of range, or the output folder is not usable."""


def _check(seed, scale, go_live, phase_in_months, bed_day_reduction, ooa_reduction, history="full") -> tuple[int, float, str, int]:
    import datetime as dt

    # the generator (numpy, pyarrow) loads when an extract is written: `outcomes --help` reads DEFAULT_SEED here
    from outcomes.reference._model import add_months, iso, to_day

    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise ReferenceParameterError(f"seed must be an integer, not {seed!r}") from None
    if not 0 <= seed < 2**63:
        raise ReferenceParameterError(f"seed must be between 0 and 2**63 - 1, not {seed}")
    try:
        scale = float(scale)
    except (TypeError, ValueError):
        raise ReferenceParameterError(f"scale must be a number, not {scale!r}") from None
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ReferenceParameterError(f"scale must be between {MIN_SCALE} and {MAX_SCALE}, not {scale}")
    try:
        day = dt.date.fromisoformat(str(go_live))
    except ValueError:
        raise ReferenceParameterError(f"go-live must be a date YYYY-MM-DD, not {go_live!r}") from None
    if day.day != 1:
        raise ReferenceParameterError(f"go-live must be the first day of a month, not {day.isoformat()}")
    if not (isinstance(phase_in_months, int) and 0 <= phase_in_months <= 24):
        raise ReferenceParameterError(f"phase_in_months must be a whole number of months from 0 to 24, not {phase_in_months!r}")
    first, last = to_day("2015-04-01"), add_months(to_day("2024-04-01"), -(12 + phase_in_months))
    if not first <= to_day(day.isoformat()) <= last:
        raise ReferenceParameterError(
            f"go-live must leave a baseline year inside the extract (from 2015-04-01) and a post year ending by 2024-03-31 "
            f"(with a {phase_in_months}-month phase-in: {iso(first)} to {iso(last)})"
        )
    for name, value in (("bed_day_reduction", bed_day_reduction), ("ooa_reduction", ooa_reduction)):
        if not 0 < float(value) < 1:
            raise ReferenceParameterError(f"{name} must be between 0 and 1 (a proportion), not {value!r}")
    if history not in HISTORIES:
        raise ReferenceParameterError(f"history must be {' or '.join(HISTORIES)}, not {history!r}")
    return seed, scale, day.isoformat(), phase_in_months


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReferenceParameterError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "extract.yaml").is_file():
        raise ReferenceParameterError(f"{out} is not empty and does not hold a reference extract; remove it or choose another folder")


def write_reference_extract(
    out_dir: str | os.PathLike,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    go_live: str = DEFAULT_GO_LIVE,
    *,
    history: str = DEFAULT_HISTORY,
    phase_in_months: int = 6,
    bed_day_reduction: float = 0.32,
    ooa_reduction: float = 0.93,
) -> Path:
    """Write the synthetic reference extract into `out_dir` and return its path.

    The files are written into a temporary folder beside `out_dir` and renamed into place at the
    end, so a crash never leaves a half extract; an existing reference extract (a folder holding
    extract.yaml) or an empty folder at `out_dir` is replaced, anything else is refused.

    seed: the random seed (same seed and parameters -> byte-identical files).
    scale: multiplies the population and every volume (0.02 to 50; 15 is about England).
    go_live: first day of the month the programme starts (its baseline year and post year must fit
        in 2014-04 .. 2024-03).
    history: "real" (the default: MHSDS from January 2016 with the episodes open then, ECDS from
        October 2017 and HES A&E before it, population estimates as ONS had published them by the
        extract end; `outcomes.reference._history`) or "full" (every data set from 2014-04: for
        method work; byte-identical to the extracts written before histories existed).
    phase_in_months: months over which the effects ramp up linearly (0 = a step).
    bed_day_reduction, ooa_reduction: the published reductions the post year shows against the
        baseline year (CYP occupied bed days, out-of-area bed days of footprint residents).
    """
    from outcomes.reference._build import generate  # numpy and pyarrow load only to write (see _check)
    from outcomes.reference._history import apply_history

    seed, scale, go_live, phase_in_months = _check(seed, scale, go_live, phase_in_months, bed_day_reduction, ooa_reduction,
                                                   history)
    out = Path(out_dir)
    _prepare(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        generate(tmp, seed=seed, scale=scale, go_live=go_live, phase_in_months=phase_in_months,
                 bed_day_reduction=float(bed_day_reduction), ooa_reduction=float(ooa_reduction), version=__version__)
        apply_history(tmp, history, seed=seed)
        _prepare(out)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{time.monotonic_ns()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_truth(extract: str | os.PathLike) -> dict | None:
    """The planted truth written beside a reference extract (its truth.json), or None for any other
    source (a real extract, a database URL): notebooks compare with it only when it is there.

    Only a truth.json this generator wrote for these very files counts: one written by another
    tool (no `generator.generated_by` of "outcomes ..."), or one whose tables no longer hold the
    rows it counted (an extract cut down from the reference, e.g. to the footprint's residents,
    with the truth.json copied along), is None, with a warning saying why."""
    import json
    import warnings

    if "://" in str(extract):
        return None
    path = Path(extract) / "truth.json"
    if not path.is_file():
        return None
    try:
        truth = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        warnings.warn(f"{path}: not JSON ({error}); no planted truth to compare with", stacklevel=2)
        return None
    generator = truth.get("generator") if isinstance(truth, dict) else None
    if not (isinstance(generator, dict) and str(generator.get("generated_by", "")).startswith("outcomes ")):
        warnings.warn(f"{path} was not written by the outcomes reference generator: no planted truth to compare with",
                      stacklevel=2)
        return None
    changed = _changed_tables(Path(extract), truth.get("row_counts") or {})
    if changed:
        warnings.warn(f"{path} does not describe these files ({'; '.join(changed)}): no planted truth to compare with",
                      stacklevel=2)
        return None
    return truth


def _changed_tables(folder: Path, row_counts: dict) -> list[str]:
    """Tables whose parquet file holds other than the rows truth.json counted (read from the footers)."""
    import pyarrow.parquet as pq

    changed = []
    for table, rows in row_counts.items():
        file = folder / f"{table}.parquet"
        if file.is_file() and (found := pq.ParquetFile(file).metadata.num_rows) != rows:
            # no row counts in the words: the warning reaches the published notebook, and counts there are controlled
            changed.append(f"{table} has {'more' if found > rows else 'fewer'} rows than truth.json counted")
    return changed


#: the scale of the default reference extract (1 = the south London collaborative, 3.6 million residents)
DEFAULT_REFERENCE_SCALE = 1.0


def default_reference_extract(*, build: bool = True) -> Path:
    """The folder of the built-in synthetic reference extract, generated on first use (about 30 s).

    A clone's `data/reference` (what `make reference` builds); for an installed package `<cache>/reference-<version>` (a new
    version of the generator gets a new folder). `build=False` only names the folder.
    """

    checkout = workspace.source_checkout()
    folder = checkout / "data" / "reference" if checkout else workspace.cache_dir() / f"reference-{__version__}"
    if build and not (folder / "truth.json").is_file():
        from filelock import FileLock

        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder) + ".lock"):  # two notebooks started together build it once
            if not (folder / "truth.json").is_file():
                print(f"building the synthetic reference extract in {folder} (first use only, about 30 s)",
                      file=sys.stderr, flush=True)
                write_reference_extract(folder, scale=DEFAULT_REFERENCE_SCALE)
    return folder
