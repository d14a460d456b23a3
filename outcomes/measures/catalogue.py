"""The named measures the CLI and the notebooks use, each declared once.

CYP measures are built on the declared cohorts (`outcomes.cohort`) with their default parameters
(the collaborative's footprint and network providers); rates are per 100,000 CYP residents of the
footprint. `measure_named(name)` returns one; `MEASURES` maps every name to its declaration.

>>> sorted(MEASURES)[:4]
['admissions', 'ae_attendances', 'bed_days', 'bed_days_by_area']
>>> measure_named("bed_days").description
'Occupied bed days (MHS24) of CYP inpatients per month, per 100,000 CYP residents of the footprint'
>>> measure_named("bed_days").improvement      # how its SPC chart is read (monitoring.yaml)
'decrease'
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

import ibis
import yaml

from outcomes.cohort import (OUT_OF_AREA, crisis_activity, crisis_escalations, cyp_inpatients, of_known_service_users,
                             picu_episodes)
from outcomes.cohort.codes import footprint_las
from outcomes.cohort.core import ExtractLike, attach
from outcomes.cohort.crisis import ae_ages, ae_attendances
from outcomes.errors import UserError
from outcomes.measures.define import Measure, count_events, define_measure, median_of, sum_bed_days
from outcomes.measures.population import cyp_population
from outcomes.measures.sources import A_AND_E

__all__ = ["MEASURES", "measure_named", "catalogue", "monitoring", "with_targets", "known_users_ae_attendances", "first_stays_of_spells",
           "resident_mental_health_ae", "FOOTPRINT_AREA", "REST_AREA"]

PER_POP = "per 100,000 CYP residents of the footprint"
#: improvement direction, optional target and disclosure pairing of each measure (for SPC charts)
MONITORING = Path(__file__).with_name("monitoring.yaml")
IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")


def monitoring(path: Path = MONITORING) -> dict[str, dict]:
    """How each measure is monitored: {name: {title, improvement, target, counts_from, why}} from
    monitoring.yaml; every measure has a title for people (a code shown on a board report is a bug)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for name, entry in entries.items():
        if not str(entry.get("title") or "").strip():
            raise ValueError(f"{path.name}: {name}: no title (the measure's name for people)")
        if entry.get("improvement") not in IMPROVEMENT_DIRECTIONS:
            raise ValueError(f"{path.name}: {name}: improvement {entry.get('improvement')!r} is not one of "
                             f"{', '.join(IMPROVEMENT_DIRECTIONS)}")
    return entries


def _monitored(measures: dict[str, Measure]) -> dict[str, Measure]:
    """The measures with their title, improvement direction, target and counts_from from monitoring.yaml."""
    entries = monitoring()
    missing, unknown = sorted(set(measures) - set(entries)), sorted(set(entries) - set(measures))
    if missing or unknown:
        raise ValueError(f"{MONITORING.name} must list every catalogue measure: missing {missing}, unknown {unknown}")
    return {name: replace(measure, improvement=entries[name]["improvement"], target=entries[name].get("target"),
                          counts_from=entries[name].get("counts_from"), title=entries[name]["title"])
            for name, measure in measures.items()}


def with_targets(measures: dict[str, Measure], targets: dict[str, float | None] | None) -> dict[str, Measure]:
    """The measures with the targets a report's `--params` sets ({name: target in the measure's own
    units, or None for no target}) in place of `monitoring.yaml`'s; the others as they are."""
    unknown = sorted(set(targets or {}) - set(measures))
    if unknown:
        raise ValueError(f"targets for measures not in the catalogue: {unknown}")
    return {name: replace(measure, target=(targets or {})[name]) if name in (targets or {}) else measure
            for name, measure in measures.items()}


def known_users_ae_attendances(extract: ExtractLike) -> ibis.Table:
    """ECDS attendances with a mental-health or self-harm presentation (as crisis escalations define
    them) of people who were known service users on the arrival date: the attendances that "result
    from crises", as the published claim says; attendances for other reasons are left out."""
    events = ae_attendances(extract).filter(lambda t: t.mental_health | t.self_harm)
    return of_known_service_users(events, "event_date", extract)


#: values of `area` in `cyp_mental_health_ae_by_area`
FOOTPRINT_AREA, REST_AREA = "footprint", "rest"


def resident_mental_health_ae(footprint: Sequence[str] | None = None):
    """A source for `count_events`: ECDS attendances with a mental-health or self-harm presentation
    (as crisis escalations define them) of people aged 0-17 on arrival (`Age_At_Arrival`), known to
    services or not, with `area` = "footprint" for residents of `footprint` (LA codes, MHS001MPI)
    and "rest" for everyone else attending the same emergency departments."""
    las = tuple(footprint or footprint_las())

    def source(extract: ExtractLike) -> ibis.Table:
        events = ae_attendances(extract).filter(lambda t: t.mental_health | t.self_harm)
        events = events.join(ae_ages(extract), "event_id").filter(lambda t: t.age.between(0, 17))
        people = attach(events, extract.tables["MHS001MPI"].select("Person_ID", "LADistrictAuth"), "Person_ID")
        resident = people.LADistrictAuth.isin(las).fill_null(False)
        return people.mutate(area=resident.ifelse(FOOTPRINT_AREA, REST_AREA))

    return source


def first_stays_of_spells(table: ibis.Table) -> ibis.Value:
    """True for the ward stay that starts its hospital spell (an admission, not a transfer)."""
    return table.StartDateWardStay == table.StartDateHospProvSpell.fill_null(table.StartDateWardStay)


def catalogue(footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None) -> dict[str, Measure]:
    """Every named measure, for the given footprint (LA codes) and network providers (ODS codes)."""
    inpatients = cyp_inpatients(footprint, providers)
    picu = picu_episodes(footprint, providers)
    population = cyp_population(footprint)
    bed_days = define_measure(
        "bed_days",
        sum_bed_days(inpatients),
        population,
        description=f"Occupied bed days (MHS24) of CYP inpatients per month, {PER_POP}",
    )
    crisis = define_measure(
        "crisis_escalations",
        count_events(crisis_escalations(), "event_date"),
        population,
        description="Escalation outcomes: mental-health/self-harm A&E attendances and emergency admissions of known service "
        "users, " + PER_POP,
        source_changes=(A_AND_E,),
    )
    measures = [
        bed_days,
        define_measure(
            "bed_days_by_area",
            bed_days.numerator,
            population,
            group_by=["area"],
            description=f"CYP bed days split in_area (network provider's ward) / out_of_area, {PER_POP}",
        ),
        define_measure(
            "bed_days_by_provider",
            bed_days.numerator,
            population,
            group_by=["provider"],
            description=f"CYP bed days by the ODS code of the provider running the ward, {PER_POP}",
        ),
        define_measure(
            "resident_bed_days_by_area",
            sum_bed_days(inpatients, where=lambda t: t.resident_in_footprint),
            population,
            group_by=["area"],
            description="CYP bed days of footprint residents only, split in_area (network provider's ward) / "
            f"out_of_area: the numerator and denominator of the out-of-area share, {PER_POP}",
        ),
        define_measure(
            "out_of_area_bed_days",
            sum_bed_days(inpatients, where=lambda t: t.resident_in_footprint & (t.area == OUT_OF_AREA)),
            population,
            description=f"CYP bed days of footprint residents on wards of providers outside the network, {PER_POP}",
        ),
        define_measure(
            "admissions",
            count_events(inpatients, "StartDateHospProvSpell", where=first_stays_of_spells, distinct="UniqHospProvSpellID"),
            population,
            description=f"CYP inpatient admissions (hospital spells starting on a CYP bed) by month of admission, {PER_POP}",
        ),
        define_measure(
            "picu_discharges",
            count_events(picu, "EndDateWardStay"),
            population,
            description=f"CYP PICU episodes (ward stays, bed type 309) ending in the month, {PER_POP}",
        ),
        define_measure(
            "picu_median_los",
            median_of(picu, "los_days", "EndDateWardStay"),
            None,
            description="Median length of stay (days) of CYP PICU episodes ending in the month (no denominator)",
        ),
        define_measure(
            "ae_attendances",
            count_events(known_users_ae_attendances, "event_date"),
            population,
            description="A&E attendances (ECDS; HES A&E before it) with a mental-health or self-harm presentation of known "
            f"service users (open CYPMHS referral), {PER_POP}",
            source_changes=(A_AND_E,),
        ),
        crisis,
        define_measure(
            "crisis_activity",
            count_events(crisis_activity(), "event_date"),
            population,
            description="Crisis activity, a process measure expected to rise: attended contacts of known service users with "
            f"crisis teams, the single point of access and the 24/7 crisis line, {PER_POP}",
        ),
        define_measure(
            "cyp_mental_health_ae_by_area",
            count_events(resident_mental_health_ae(footprint), "event_date"),
            None,
            group_by=["area"],
            description="A&E attendances (ECDS; HES A&E before it) with a mental-health or self-harm presentation of everyone "
            "aged 0-17 on arrival, known to services or not, by residence: footprint or rest (counts; no population for "
            "the rest)",
            source_changes=(A_AND_E,),
        ),
        define_measure(
            "crisis_escalations_by_kind",
            crisis.numerator,
            population,
            group_by=["kind"],
            description=f"Crisis escalations split by kind (ae_attendance, emergency_admission), {PER_POP}",
            source_changes=(A_AND_E,),
        ),
    ]
    measures += delivery_measures(footprint, providers, population, inpatients)
    declared_by = ("catalogue", tuple(footprint) if footprint is not None else None,
                   tuple(providers) if providers is not None else None)
    return _monitored({m.name: replace(m, declared_by=declared_by) for m in measures})


def delivery_measures(footprint, providers, population, inpatients) -> list[Measure]:
    """The programme as delivered and what it must not worsen (issue 22; `outcomes.measures.delivery`)."""
    from outcomes.cohort.codes import code_group
    from outcomes.measures import delivery as dl

    spells = dl.readmission_index_spells(footprint, providers)
    discharges = count_events(spells, "DischDateHospProvSpell")
    census = dl.ward_stays_open_at_month_end(footprint, providers)
    open_stays = count_events(census, "census_date", where=lambda t: t.distance_known)
    pairs = dl.paired_scores(footprint)
    spa = dl.spa_first_contacts
    share = "% of "
    return [
        define_measure("cyp_discharges", discharges, None,
                       description="CYP hospital spells discharged in the month with 90 days' follow-up in the extract (the readmission denominator)"),
        define_measure("readmissions_30d", count_events(spells, "DischDateHospProvSpell", where=lambda t: t.readmitted_30),
                       dl.Counted(discharges), per=100, unit=share + "discharges",
                       description="CYP discharges followed by an emergency readmission within 30 days, % of discharges (by month of discharge)"),
        define_measure("readmissions_90d", count_events(spells, "DischDateHospProvSpell", where=lambda t: t.readmitted_90),
                       dl.Counted(discharges), per=100, unit=share + "discharges",
                       description="CYP discharges followed by an emergency readmission within 90 days, % of discharges (by month of discharge)"),
        define_measure("restrictive_interventions", count_events(dl.restrictive_interventions(footprint, providers), "StartDateRestrictiveIntType"),
                       dl.Counted(sum_bed_days(inpatients)), per=1000, unit="per 1,000 occupied bed days",
                       description="Restrictive interventions (MHS505) on CYP inpatients per 1,000 of their occupied bed days"),
        define_measure("cyp_ward_stays_open_month_end", open_stays, None,
                       description="Footprint residents' CYP ward stays open at the month end with a distance from home (MHS21a-like)"),
        define_measure("median_distance_from_home", median_of(census, "WardLocDistanceHome", "census_date"), None, unit="km",
                       description="Median distance from home (km, WardLocDistanceHome) of footprint residents' CYP ward stays open at the month end"),
        define_measure("ward_stays_50km_from_home", count_events(census, "census_date", where=lambda t: t.far_from_home),
                       dl.Counted(open_stays), per=100, unit=share + "open CYP ward stays",
                       description="Footprint residents' CYP ward stays open at the month end 50 km or more from home, % of those open (MHS22a / MHS21a-like)"),
        define_measure("cyp_detained", count_events(dl.cyp_detentions(footprint), "StartDateMHActLegalStatusClass", distinct="Person_ID"),
                       population, description=f"CYP detained under the Mental Health Act (people with a detention starting in the month), {PER_POP}"),
        define_measure("cyp_on_adult_wards", count_events(dl.cyp_on_adult_wards(footprint, providers), "StartDateWardStay"), None,
                       description="Ward stays of under-18s on wards that are not CYP wards, starting in the month (counts)"),
        define_measure("occupancy_cyp_beds", sum_bed_days(dl.ward_bed_stays(False, providers)), dl.WardCapacity(False, providers),
                       per=100, unit="% of available bed days",
                       description="Occupancy of the network's commissioned CYP beds (not PICU): occupied / available bed days, %"),
        define_measure("occupancy_picu", sum_bed_days(dl.ward_bed_stays(True, providers)), dl.WardCapacity(True, providers),
                       per=100, unit="% of available bed days",
                       description="Occupancy of the network's commissioned CYP PICU beds: occupied / available bed days, %"),
        define_measure("crisis_team_contacts", count_events(dl.team_contacts(code_group("service_team_type", "crisis_resolution")), "CareContDate"),
                       population, description=f"Attended contacts of CYP with crisis resolution / home treatment teams (A02-A04), {PER_POP}"),
        define_measure("crisis_line_calls", count_events(dl.crisis_line_contacts, "CareContDate"), None, group_by=["hours"],
                       description="Attended contacts of CYP with the 24/7 crisis line (A19), in hours / out of hours (weekends, before 09:00, from 17:00) (counts)"),
        define_measure("outreach_contacts", count_events(dl.team_contacts(code_group("service_team_type", "outreach")), "CareContDate"),
                       population, description=f"Attended contacts of CYP with the (enhanced) outreach team (A08), {PER_POP}"),
        define_measure("dbt_sessions", count_events(dl.dbt_sessions, "CareContDate"), None,
                       description="Attended care contacts of CYP with a DBT care activity (SNOMED CT 405780009) (counts)"),
        define_measure("spa_first_contacts", count_events(spa, "first_contact"), None,
                       description="CYP referrals to the single point of access (A18) with their first attended contact in the month (counts)"),
        define_measure("spa_days_to_first_contact", median_of(spa, "days_to_first_contact", "first_contact"), None, unit="days",
                       description="Median days from referral to the first attended contact, single point of access (A18), by month of the contact"),
        define_measure("paired_outcomes", count_events(pairs, "last_date"), None,
                       description="CYP with paired outcome scores (first and last of a tool within a referral, 14+ days apart), by month of the last (counts)"),
        define_measure("reliable_improvement", count_events(pairs, "last_date", where=lambda t: t.reliable_improvement),
                       dl.Counted(count_events(pairs, "last_date")), per=100, unit=share + "paired scores",
                       description="CYP paired outcome scores showing reliable improvement, % of paired scores (NHS England's CYP outcomes metric)"),
    ]


#: every named measure with the collaborative's defaults
MEASURES: dict[str, Measure] = catalogue()


def measure_named(name: str) -> Measure:
    """The measure called `name`; UserError listing the valid names if there is none."""
    try:
        return MEASURES[name]
    except KeyError:
        raise UserError(f"unknown measure {name!r}; valid names: {', '.join(sorted(MEASURES))}") from None
