"""The programme as delivered and what it must not worsen (notebook 13_delivery_and_balancing).

* `components(go_live)`: the programme's components with their starts and activity measures
  (`outcomes/published/programme_components.yaml`); `balancing()`: the measures it must not worsen,
  with the claim each is graded against.
* `before_after(measure, frame, before, after)`: a measure's rate in two windows (sum of
  numerators over sum of denominators, per the measure's `per`; a count without a denominator per
  month) and their ratio with a 95% CI: exact conditional binomial (Clopper-Pearson) on the two
  totals, widened on the log scale by the square root of the quasi-Poisson dispersion of the
  windows' months when it is above 1 (bed days and clustered contacts are not Poisson).
* `proportion_change(k0, n0, k1, n1)`: two shares and their difference with Newcombe's hybrid
  score 95% CI (paired outcomes).
* `picu_first_years(extract, opens, years)`: the new PICU's occupancy, the share of the
  footprint's CYP PICU admissions placed in it, and out-of-area PICU bed days against the same
  span before it opened.
* `distance_by_year(...)`: median distance from home, share 50 km or more, and the out-of-area
  share of bed days, by financial year.
* `planted_checks(extract, measures, truth, windows)`: the reference extract's planted truth beside
  what the measures estimate (interval and whether it holds the truth).

Units: rates per the measure's `per` (per 100,000 CYP, per 1,000 bed days, %), counts per month
where a measure has no denominator; days; km.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from outcomes.dates import add_months, as_date
from outcomes.programme.evidence import grade_direction
from outcomes.resources import published_dir

__all__ = ["components", "balancing", "before_after", "proportion_change", "activity_table", "balancing_table",
           "picu_first_years", "distance_by_year", "planted_checks", "BALANCING_TABLE", "Z95"]

#: the table notebook 13 records for the report's front page ("What it must not worsen")
BALANCING_TABLE = "must_not_worsen"
Z95 = 1.959963984540054


def _config() -> dict:
    return yaml.safe_load((published_dir() / "programme_components.yaml").read_text(encoding="utf-8"))


def components(go_live: Any) -> list[dict]:
    """The components (name, start as a date, measure, group, what); "go_live" resolved."""
    out = []
    for entry in _config()["components"]:
        start = as_date(go_live) if str(entry["start"]) == "go_live" else as_date(entry["start"])
        out.append({**entry, "start": start, "group": entry.get("group")})
    return out


def balancing() -> list[dict]:
    """The balancing measures: measure, claim ("lower"/"fewer": it must not rise), label."""
    return list(_config()["balancing"])


def _in(frame: pd.DataFrame, window: tuple[dt.date, dt.date]) -> pd.DataFrame:
    month = pd.to_datetime(frame["month"]).dt.date
    return frame[(month >= window[0]) & (month < window[1])]


def _dispersion(parts: list[pd.DataFrame], has_denominator: bool) -> float:
    """Pearson chi-square / df of monthly counts about each window's own rate (>= 1)."""
    chi2, months = 0.0, 0
    for part in parts:
        y = part["numerator"].astype(float).to_numpy()
        exposure = part["denominator"].astype(float).to_numpy() if has_denominator else np.ones(len(y))
        ok = exposure > 0
        if ok.sum() == 0 or y[ok].sum() == 0:
            continue
        rate = y[ok].sum() / exposure[ok].sum()
        expected = rate * exposure[ok]
        chi2 += float(((y[ok] - expected) ** 2 / expected).sum())
        months += int(ok.sum())
    df = months - len(parts)
    return max(1.0, chi2 / df) if df > 0 else 1.0


def before_after(measure, frame: pd.DataFrame, before: tuple[dt.date, dt.date], after: tuple[dt.date, dt.date],
                 group: Mapping[str, Any] | None = None) -> dict:
    """A measure's rate before and after, and their ratio with a 95% CI (see the module docstring).
    `frame` is the measure's monthly frame; `group` picks one group of a grouped measure."""
    from outcomes.mirror import rate_ratio_exact

    data = frame
    for column, value in (group or {}).items():
        data = data[data[column] == value]
    if measure.group_by and not group:  # a grouped measure read whole: its groups summed per month
        data = data.groupby("month", as_index=False)[["numerator", "denominator"]].sum(min_count=1)
    has_denominator = measure.denominator is not None
    parts = [_in(data, before), _in(data, after)]
    a, b = (float(p["numerator"].sum()) for p in parts)
    if has_denominator:
        ea, eb = (float(p["denominator"].astype(float).sum()) for p in parts)
    else:
        ea, eb = float(len(parts[0])), float(len(parts[1]))
    scale = measure.per if has_denominator else 1.0
    rate_before = a / ea * scale if ea else math.nan
    rate_after = b / eb * scale if eb else math.nan
    phi = _dispersion(parts, has_denominator)
    if ea and eb:
        exact = rate_ratio_exact(a, b, eb / ea)
        estimate, lower, upper = exact.estimate, exact.lower, exact.upper
        if phi > 1 and 0 < estimate < math.inf:  # quasi-Poisson: widen on the log scale
            widen = math.sqrt(phi)
            lower = estimate * (lower / estimate) ** widen if lower > 0 else 0.0
            upper = estimate * (upper / estimate) ** widen if math.isfinite(upper) else upper
    else:
        estimate = lower = upper = math.nan
    return {"before": rate_before, "after": rate_after, "before_n": a, "after_n": b, "ratio": estimate,
            "lower": lower, "upper": upper, "dispersion": phi, "months_before": len(parts[0]), "months_after": len(parts[1])}


def proportion_change(k0: int, n0: int, k1: int, n1: int) -> dict:
    """Shares k0/n0 and k1/n1 and their difference (after - before) with Newcombe's hybrid score
    95% CI (method 10 of Newcombe 1998), from Wilson intervals of each share."""
    if not (n0 and n1):
        return {"before": math.nan, "after": math.nan, "difference": math.nan, "lower": math.nan, "upper": math.nan}
    p0, p1 = k0 / n0, k1 / n1
    (l0, u0), (l1, u1) = _wilson(k0, n0), _wilson(k1, n1)
    d = p1 - p0
    lower = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return {"before": p0, "after": p1, "difference": d, "lower": lower, "upper": upper,
            "before_ci": (l0, u0), "after_ci": (l1, u1)}


def activity_table(measures: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], go_live: Any, months: int = 12) -> pd.DataFrame:
    """Each component's activity in the `months` before its start and the `months` from it, with
    the ratio and its 95% CI (`before_after`)."""
    rows = []
    for component in components(go_live):
        measure = measures[component["measure"]]
        start = component["start"]
        group = {measure.group_by[0]: component["group"]} if component["group"] else None
        change = before_after(measure, frames[component["measure"]], (add_months(start, -months), start),
                              (start, add_months(start, months)), group)
        new = change["before_n"] == 0  # nothing before it started: no ratio, the activity is new
        rows.append({"component": component["name"], "short": component.get("short", component["name"]), "start": start,
                     "activity": component["what"],
                     "unit": measure.unit or (f"per {measure.per:,} CYP" if measure.denominator is not None else "a month"),
                     "before": change["before"], "after": change["after"], "before_n": change["before_n"],
                     "after_n": change["after_n"], "ratio": math.nan if new else change["ratio"],
                     "ratio_lower": math.nan if new else change["lower"], "ratio_upper": math.nan if new else change["upper"],
                     "note": "none before its start" if new else ""})
    return pd.DataFrame(rows)


def balancing_table(measures: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], windows: Mapping[str, tuple]) -> pd.DataFrame:
    """Each balancing measure in the programme's baseline and post windows, the ratio post/baseline
    with its 95% CI and the evidence grade against its claim (it must not rise)."""
    rows = []
    for entry in balancing():
        measure = measures[entry["measure"]]
        change = before_after(measure, frames[entry["measure"]], windows["baseline"], windows["post"])
        evidence = grade_direction(entry["claim"], change["ratio"], change["lower"], change["upper"])
        rows.append({"measure": entry["label"], "name": entry["measure"],
                     "unit": measure.unit or (f"per {measure.per:,} CYP" if measure.denominator is not None else "a month"),
                     "baseline": change["before"], "post": change["after"], "baseline_n": change["before_n"],
                     "post_n": change["after_n"], "ratio": change["ratio"], "ratio_lower": change["lower"],
                     "ratio_upper": change["upper"], "grade": evidence.grade, "evidence": evidence.text,
                     "worsened": evidence.grade == "contradicted"})
    return pd.DataFrame(rows)


def picu_first_years(extract, opens: Any, years: int = 2, footprint=None, providers=None) -> dict:
    """The new PICU in its first `years` (wards with a CYP PICU bed type first listed in
    MHS903WardDetails on or after `opens`): occupied and available bed days and occupancy; the
    footprint's CYP PICU admissions (ward stays) starting then and those on the new ward; and the
    footprint's out-of-area PICU bed days then and in as many years before the opening."""
    from outcomes.cohort import OUT_OF_AREA, picu_episodes
    from outcomes.cohort.codes import code_group
    from outcomes.measures import bed_days_by_month
    from outcomes.measures.intervals import Period

    opens = as_date(opens)
    window = (opens, add_months(opens, 12 * years))
    earlier = (add_months(opens, -12 * years), opens)
    wards = extract.tables["MHS903WardDetails"]
    picu = wards.filter(wards.MHAdmittedPatientClass.isin(code_group("bed_type", "cyp_picu")))
    first = picu.group_by("UniqWardCode").aggregate(first_month=picu.ReportingPeriodStartDate.min()).to_pandas()
    new = sorted(first.loc[pd.to_datetime(first.first_month).dt.date >= opens, "UniqWardCode"])
    if not new:
        raise ValueError(f"no CYP PICU ward is first listed on or after {opens} in MHS903WardDetails")
    available = picu.filter(picu.UniqWardCode.isin(new), picu.ReportingPeriodStartDate >= window[0],
                            picu.ReportingPeriodStartDate < window[1]).AvailBedDays.sum().to_pyarrow().as_py() or 0
    stays = extract.tables["MHS502WardStay"].filter(lambda t: t.UniqWardCode.isin(new))
    period = Period(window[0], add_months(window[1], -1))
    occupied = int(bed_days_by_month(stays, period, as_date(extract.end_date)).to_pandas()["bed_days"].sum())
    episodes = picu_episodes(footprint, providers).build(extract).table
    residents = episodes.filter(episodes.resident_in_footprint)
    started = residents.filter(residents.StartDateWardStay >= window[0], residents.StartDateWardStay < window[1])
    admissions = started.count().to_pyarrow().as_py()
    placed = started.filter(started.UniqWardCode.isin(new)).count().to_pyarrow().as_py()
    away = residents.filter(residents.area == OUT_OF_AREA)
    ooa = {}
    for name, (lo, hi) in (("before", earlier), ("after", window)):
        span = Period(lo, add_months(hi, -1))
        ooa[name] = int(bed_days_by_month(away, span, as_date(extract.end_date)).to_pandas()["bed_days"].sum())
    return {"wards": new, "window": window, "earlier": earlier, "occupied_bed_days": occupied, "available_bed_days": int(available),
            "occupancy": occupied / available if available else math.nan, "admissions_n": int(admissions),
            "placed_n": int(placed), "ooa_bed_days_before": ooa["before"], "ooa_bed_days_after": ooa["after"]}


def _financial_year(months: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(months)
    start = stamps.dt.year - (stamps.dt.month < 4)
    return start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)


def distance_by_year(measures: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], extract, first: dt.date, last: dt.date) -> pd.DataFrame:
    """By financial year: the median distance from home of footprint CYP in hospital at month ends,
    the share of them 50 km or more away (MHS22a-like), and the share of footprint CYP bed days out
    of area (the measure it is set against)."""
    rows = measures["median_distance_from_home"].rows(extract, first, last)
    rows["year"] = _financial_year(rows["date"])
    medians = rows.groupby("year")["value"].agg(median_km="median", stay_months_n="size")
    far = frames["ward_stays_50km_from_home"].assign(year=lambda f: _financial_year(f["month"]))
    far = far.groupby("year")[["numerator", "denominator"]].sum().rename(columns={"numerator": "far_n", "denominator": "open_n"})
    area = frames["resident_bed_days_by_area"].pivot_table(index="month", columns="area", values="numerator", aggfunc="sum").reset_index()
    area["year"] = _financial_year(area["month"])
    area = area.groupby("year")[["in_area", "out_of_area"]].sum()
    table = medians.join(far, how="outer").join(area, how="outer")
    table["share_50km_pct"] = 100 * table["far_n"] / table["open_n"]
    table["out_of_area_share_pct"] = 100 * table["out_of_area"] / (table["in_area"] + table["out_of_area"])
    table = table.rename(columns={"in_area": "in_area_bed_days", "out_of_area": "out_of_area_bed_days"})
    return table.reset_index()


def _wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _poisson_rate(k: float, exposure: float, level: float = 0.95) -> tuple[float, float]:
    from scipy import stats

    alpha = 1 - level
    lo = stats.chi2.ppf(alpha / 2, 2 * k) / 2 if k else 0.0
    hi = stats.chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    return lo / exposure, hi / exposure


def planted_checks(extract, measures: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], truth: Mapping, windows: Mapping,
                   first_years: Mapping | None = None) -> pd.DataFrame:
    """The reference extract's planted truth (truth.json `delivery`) beside the measures' estimates
    with 95% intervals (exact Poisson for rates, Wilson for shares), or the exact count where the
    truth is a realised count (`first_years`: `picu_first_years` already computed, if it is for the
    planted opening); `within`: the interval holds the planted value (or it matches);
    `events_n`: the count each estimate rests on (for disclosure control)."""
    delivery, scale = truth["delivery"], truth["generator"]["scale"]
    rows = []

    def add(item: str, planted: float, estimate: float, lower: float | None, upper: float | None, how: str, events: float):
        within = (abs(estimate - planted) < 1e-9) if lower is None else (lower <= planted <= upper)
        rows.append({"item": item, "planted": planted, "estimate": estimate, "lower": lower, "upper": upper,
                     "within": bool(within), "how": how, "events_n": events})

    restrictive = frames["restrictive_interventions"]
    for name, window in windows.items():
        part = _in(restrictive, window)
        k, exposure = float(part["numerator"].sum()), float(part["denominator"].sum()) / 1000
        add(f"Restrictive interventions per 1,000 occupied bed days, {name}",
            delivery["restrictive_interventions"]["planted_per_1000_occupied_bed_days"], k / exposure,
            *_poisson_rate(k, exposure), "exact Poisson 95% CI", k)
    improvement = frames["reliable_improvement"]
    paired = delivery["paired_outcomes"]
    for name, window, planted in (("baseline", windows["baseline"], paired["planted_p_reliable_improvement_before"]),
                                  ("post", windows["post"], paired["planted_p_reliable_improvement_after"])):
        part = _in(improvement, window)
        k, n = float(part["numerator"].sum()), float(part["denominator"].sum())
        add(f"Paired outcomes reliably improved, {name} (share)", planted, k / n, *_wilson(k, n), "Wilson 95% CI", k)
    distance = delivery["distance_from_home"]
    far = frames["ward_stays_50km_from_home"]
    for name in ("baseline", "post"):
        part = _in(far, tuple(as_date(d) for d in distance["windows"][name]))
        k = float(part["numerator"].sum())
        add(f"CYP in hospital 50 km or more from home, {name} (share of stays at month ends)",
            distance["realised"][name]["share_50km_or_more"], k / float(part["denominator"].sum()),
            None, None, "realised count: must match exactly", k)
    picu = delivery["picu"]
    if first_years is None or as_date(first_years["window"][0]) != as_date(picu["opens"]):
        first_years = picu_first_years(extract, picu["opens"], 2)
    add("New PICU occupancy, first two years", picu["occupancy"], first_years["occupancy"], None, None,
        "realised count: must match exactly", first_years["occupied_bed_days"])
    adult = delivery["activity"]["cyp_on_adult_wards"]
    frame = frames["cyp_on_adult_wards"]
    for name, planted in (("before_picu", adult["planted_per_month_scale_1"][f"before {picu['opens']}"]),
                          ("after_picu", adult["planted_per_month_scale_1"][f"from {picu['opens']}"])):
        window = tuple(as_date(d) for d in adult["admissions"][name]["window"])
        k = float(_in(frame, window)["numerator"].sum())
        months = len(_in(frame, window))
        add(f"Under-18s admitted to adult wards a month, {name.replace('_', ' ')}", planted * scale, k / months,
            *_poisson_rate(k, months), "exact Poisson 95% CI", k)
    hours = delivery["crisis_line_out_of_hours"]
    calls = frames["crisis_line_calls"]
    month = pd.to_datetime(calls["month"]).dt.date
    line_from = as_date(hours["from"])
    for name, planted, part in (("before", hours["expected_share_before"], calls[month < line_from]),
                                ("after", hours["expected_share_after"], calls[month >= line_from])):
        k = float(part.loc[part["hours"] == "out_of_hours", "numerator"].sum())
        n = float(part.loc[part["hours"] != "time_not_recorded", "numerator"].sum())
        add(f"Crisis-line contacts out of hours, {name} {hours['from']} (share)", planted, k / n, *_wilson(k, n), "Wilson 95% CI", k)
    return pd.DataFrame(rows)
