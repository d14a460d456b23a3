"""Sources and denominators of the delivery, balancing and outcome measures (issue 22).

Each source is a function extract -> Ibis table that `count_events`, `sum_bed_days` or `median_of`
counts; each denominator has `.monthly(extract, period)` -> `month, denominator` like the
population. They read the optional tables (MHS401MHActPeriod, MHS505RestrictiveIntervention,
MHS607CodedScoreAssessment, MHS903WardDetails) and optional fields (WardLocDistanceHome,
UniqWardCode, CareContTime); an extract without one gets a `MissingData` error naming it.

* readmissions: CYP hospital spells (admitted on a CYP bed) discharged in the month with full
  follow-up, and those followed by an emergency admission of the same person within 30 (90) days;
* restrictive interventions on CYP inpatients' ward stays, over their occupied bed days;
* distance from home: footprint residents' CYP ward stays open at each month end (MHS21a-like
  census; MHS22a counts those 50 km or more from home);
* MHA detentions of CYP (aged 0-17 when the detention starts) resident in the footprint;
* CYP (0-17 on the first day of the stay) on wards that are not CYP wards;
* occupancy: occupied bed days on the network's CYP wards (or its PICU) over their available bed days;
* crisis-team contacts (A02-A04) and crisis-line contacts (A19), the latter by hours
  (in_hours / out_of_hours / time_not_recorded); outreach-team contacts (A08); DBT sessions (the
  contact measures of the crisis and outreach services read one shared table of their attended
  contacts, `service_teams`, built once per extract: one scan of the care contacts, not one each);
* single point of access (A18): days from referral to the first attended contact;
* paired outcome scores (first and last of a tool within a referral, >= 14 days apart) and those
  showing reliable improvement (codes/scored_assessment_tool.yaml gives direction and threshold).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import ibis
import yaml

from outcomes import resources
from outcomes.cohort import cyp_inpatients
from outcomes.cohort.codes import code_group, footprint_las, network_providers
from outcomes.cohort.core import ExtractLike, attach
from outcomes.cohort.dates import age_on, as_date, days_between
from outcomes.cohort.shared import shared
from outcomes.errors import UserError
from outcomes.measures.intervals import Period, monthly_intervals

__all__ = ["MissingData", "readmission_index_spells", "restrictive_interventions", "ward_stays_open_at_month_end",
           "cyp_detentions", "cyp_on_adult_wards", "ward_bed_stays", "WardCapacity", "Counted", "team_contacts",
           "crisis_line_contacts", "dbt_sessions", "service_teams", "spa_first_contacts", "paired_scores", "reliable_change", "OUT_OF_HOURS", "IN_HOURS",
           "TIME_NOT_RECORDED", "MIN_PAIR_DAYS"]

#: values of `hours` on crisis-line contacts
IN_HOURS, OUT_OF_HOURS, TIME_NOT_RECORDED = "in_hours", "out_of_hours", "time_not_recorded"
#: paired scores must be at least this many days apart (NHS England's CYP outcomes metric)
MIN_PAIR_DAYS = 14


class MissingData(UserError):
    """The extract lacks an optional table or field a measure needs."""


def _table(extract: ExtractLike, name: str, why: str) -> ibis.Table:
    table = extract.tables.get(name)
    if table is None:
        raise MissingData(f"the extract has no {name} (optional table), needed for {why}")
    return table


def _field(table: ibis.Table, name: str, table_name: str, why: str) -> ibis.Value:
    """A column that must hold something: an optional field left out opens as all-null."""
    if name not in table.columns:
        raise MissingData(f"{table_name} has no {name}, needed for {why}")
    return table[name]


@dataclass(frozen=True)
class Counted:
    """Denominator: the monthly numerator of a count (`count_events`, `sum_bed_days`) used as the
    denominator of a share or rate. Months where it is 0 give no value (never an error)."""

    numerator: Any
    description: str = ""
    allows_empty: bool = True

    def monthly(self, extract: ExtractLike, period: Period) -> ibis.Table:
        frame = self.numerator.monthly(extract, period, ())
        return frame.select("month", denominator=frame.numerator.cast("int64"))


# --- readmissions --------------------------------------------------------------------------------
def readmission_index_spells(footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None):
    """Source: CYP hospital spells (their first ward stay in the CYP inpatient cohort) discharged
    with full follow-up (discharge + 90 days on or before the extract end), with `readmitted_30`
    and `readmitted_90`: another spell of the same person admitted by an emergency method 1-30
    (1-90) days after the discharge. A same-day transfer (repatriation) is not a readmission."""
    cohort = cyp_inpatients(footprint, providers)

    def source(extract: ExtractLike) -> ibis.Table:
        stays = cohort.build(extract).table
        first = stays.filter(stays.StartDateWardStay == stays.StartDateHospProvSpell.fill_null(stays.StartDateWardStay))
        spells = first.select("UniqHospProvSpellID", "Person_ID", "StartDateHospProvSpell", "DischDateHospProvSpell").distinct()
        end = ibis.literal(extract.end_date)
        index = spells.filter(spells.DischDateHospProvSpell.notnull(),
                              days_between(spells.DischDateHospProvSpell, end) >= 90)
        every = extract.tables["MHS501HospProvSpell"]
        emergency = every.filter(every.MethAdmMHHospProvSpell.isin(code_group("admission_method", "emergency")))
        later = emergency.select(person=emergency.Person_ID, readmitted=emergency.StartDateHospProvSpell)
        pairs = index.join(later, [index.Person_ID == later.person, later.readmitted > index.DischDateHospProvSpell])
        gap = days_between(pairs.DischDateHospProvSpell, pairs.readmitted)
        first_back = pairs.group_by("UniqHospProvSpellID").aggregate(days_to_readmission=gap.min())
        joined = index.left_join(first_back, "UniqHospProvSpellID")
        days = joined.days_to_readmission
        return joined.select(*[joined[c] for c in index.columns], days_to_readmission=days,
                             readmitted_30=(days <= 30).fill_null(False), readmitted_90=(days <= 90).fill_null(False))

    return source


# --- restrictive interventions -------------------------------------------------------------------
def restrictive_interventions(footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None):
    """Source: restrictive interventions (MHS505) during ward stays of the CYP inpatient cohort."""
    cohort = cyp_inpatients(footprint, providers)

    def source(extract: ExtractLike) -> ibis.Table:
        events = _table(extract, "MHS505RestrictiveIntervention", "restrictive interventions")
        stays = cohort.build(extract).table.select("UniqWardStayID")
        return events.semi_join(stays, "UniqWardStayID")

    return source


# --- distance from home --------------------------------------------------------------------------
def _month_ends(end: dt.date, first: str = "2000-01") -> ibis.Table:
    """Memtable of months to the extract end: `census_date` (last day) and `next_month_day` (day number)."""
    months = monthly_intervals(first, f"{end:%Y-%m}").to_pandas()
    months["census_date"] = [dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + int(d) - 1) for d in months["next_month_day"]]
    return ibis.memtable(months[["census_date", "next_month_day"]], schema={"census_date": "date", "next_month_day": "int64"})


def ward_stays_open_at_month_end(footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None):
    """Source: footprint residents' CYP ward stays open at the end of each month (started on or
    before its last day, not ended by then), one row per stay and month, dated `census_date` (the
    month's last day), with `WardLocDistanceHome` (km) and `far_from_home` (50 km or more)."""
    cohort = cyp_inpatients(footprint, providers)

    def source(extract: ExtractLike) -> ibis.Table:
        stays = cohort.build(extract).table
        stays = stays.filter(stays.resident_in_footprint)
        km = _field(stays, "WardLocDistanceHome", "MHS502WardStay", "distance from home")
        stays = stays.select("UniqWardStayID", "StartDateWardStay", "EndDateWardStay", km=km)
        months = _month_ends(as_date(extract.end_date))
        start_day, end_day = stays.StartDateWardStay.epoch_days(), stays.EndDateWardStay.epoch_days()
        open_ = months.join(stays, [start_day < months.next_month_day,
                                    stays.EndDateWardStay.isnull() | (end_day >= months.next_month_day)])
        return open_.select("UniqWardStayID", census_date=open_.census_date, WardLocDistanceHome=open_.km,
                            far_from_home=(open_.km >= 50).fill_null(False), distance_known=open_.km.notnull())

    source.census = True  # rows are stays counted at each month end, not events (no t-chart)
    return source


# --- Mental Health Act ---------------------------------------------------------------------------
def cyp_detentions(footprint: Sequence[str] | None = None):
    """Source: MHA detentions (legal status in group detained) of people aged 0-17 on the first
    day and resident in the footprint, one row per detention period, dated by its start."""
    las = tuple(footprint or footprint_las())

    def source(extract: ExtractLike) -> ibis.Table:
        periods = _table(extract, "MHS401MHActPeriod", "detentions under the Mental Health Act")
        detained = periods.filter(periods.LegalStatusCode.isin(code_group("mha_legal_status", "detained")))
        people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate", "LADistrictAuth")
        joined = attach(detained, people, "Person_ID")
        age = age_on(joined.PersonBirthDate, joined.StartDateMHActLegalStatusClass)
        return joined.filter(age.between(0, 17), joined.LADistrictAuth.isin(las).fill_null(False))

    return source


# --- CYP on adult wards --------------------------------------------------------------------------
def cyp_on_adult_wards(footprint: Sequence[str] | None = None, providers: Sequence[str] | None = None):
    """Source: ward stays of people aged 0-17 on their first day on a ward that is not a CYP ward
    (WardType other than 01 or a bed type outside the CYP group), resident in the footprint or on
    a network provider's ward."""
    from outcomes.cohort.inpatients import ward_stays

    las = tuple(footprint or footprint_las())
    orgs = tuple(providers or network_providers())

    def source(extract: ExtractLike) -> ibis.Table:
        stays = ward_stays(extract)
        adult_ward = (stays.WardType != "01") | ~stays.MHAdmittedPatientClass.isin(code_group("bed_type", "cyp"))
        ours = stays.LADistrictAuth.isin(las).fill_null(False) | stays.OrgIDProv.isin(orgs)
        return stays.filter(stays.age_at_admission.between(0, 17), adult_ward, ours)

    return source


# --- occupancy -----------------------------------------------------------------------------------
def _wards(extract: ExtractLike, picu: bool, providers: tuple[str, ...]) -> ibis.Table:
    wards = _table(extract, "MHS903WardDetails", "occupancy of commissioned beds")
    picu_codes = code_group("bed_type", "cyp_picu")
    kind = wards.MHAdmittedPatientClass.isin(picu_codes) if picu else (
        wards.MHAdmittedPatientClass.isin(code_group("bed_type", "cyp")) & ~wards.MHAdmittedPatientClass.isin(picu_codes))
    return wards.filter(kind, wards.OrgIDProv.isin(providers))


def ward_bed_stays(picu: bool, providers: Sequence[str] | None = None):
    """Source: every ward stay (any age) on the network's commissioned CYP wards (`picu`: its CYP
    PICU wards; else the other CYP wards), by UniqWardCode, ward stays bounded by the months the
    ward is listed (its bed days count from the month it opens)."""
    orgs = tuple(providers or network_providers())

    def source(extract: ExtractLike) -> ibis.Table:
        wards = _wards(extract, picu, orgs)
        stays = extract.tables["MHS502WardStay"]
        code = _field(stays, "UniqWardCode", "MHS502WardStay", "occupancy of commissioned beds")
        listed = wards.group_by("UniqWardCode").aggregate(first_month=wards.ReportingPeriodStartDate.min())
        joined = stays.mutate(ward=code).join(listed, ibis._.ward == listed.UniqWardCode)
        start = ibis.greatest(joined.StartDateWardStay, joined.first_month)
        return joined.select("UniqWardStayID", "EndDateWardStay", StartDateWardStay=start)

    return source


@dataclass(frozen=True)
class WardCapacity:
    """Denominator: available bed days (MHS903 AvailBedDays) of the network's CYP wards in the
    month (`picu`: its CYP PICU wards only). Months with none give no value."""

    picu: bool
    providers: tuple[str, ...] | None = None
    allows_empty: bool = True

    @property
    def description(self) -> str:
        return f"available bed days of the network's {'CYP PICU' if self.picu else 'CYP (not PICU)'} wards"

    def monthly(self, extract: ExtractLike, period: Period) -> ibis.Table:
        wards = _wards(extract, self.picu, tuple(self.providers or network_providers()))
        per_month = wards.group_by(month=wards.ReportingPeriodStartDate).aggregate(available=wards.AvailBedDays.sum())
        months = period.months().select("month")
        joined = months.left_join(per_month, "month")
        return joined.select(months.month, denominator=joined.available.cast("int64"))


# --- crisis teams, crisis line, single point of access -------------------------------------------
def service_teams() -> tuple[str, ...]:
    """The team types of the services the programme added or extended (crisis and outreach): their
    attended contacts of CYP are read from the care contacts once per extract and shared."""
    return tuple(sorted({*code_group("service_team_type", "crisis"), *code_group("service_team_type", "outreach")}))


def _cyp_contacts(extract: ExtractLike, teams: tuple[str, ...]) -> ibis.Table:
    """Attended contacts of people aged 0-17 on referrals to `teams`, with the referral's team type
    and date received and the person's birth date. For teams among `service_teams()`, the rows of
    one table of their contacts shared by the measures of the extract (`outcomes.cohort.shared`:
    one scan of the care contacts instead of one per measure)."""
    services = service_teams()
    if not set(teams) <= set(services):
        return _cyp_contacts_on(extract, teams)
    contacts = shared(extract, "cyp_service_contacts", ("MHS201CareContact", "MHS101Referral", "MHS001MPI"),
                      lambda x: _cyp_contacts_on(x, services), services)
    return contacts.filter(contacts.ServTeamTypeRefToMH.isin(teams))


def _cyp_contacts_on(extract: ExtractLike, teams: tuple[str, ...]) -> ibis.Table:
    contacts = extract.tables["MHS201CareContact"]
    referrals = extract.tables["MHS101Referral"].select("UniqServReqID", "ServTeamTypeRefToMH", "ReferralRequestReceivedDate")
    people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate")
    joined = attach(attach(contacts, referrals, "UniqServReqID"), people, "Person_ID")
    attended = joined.AttendOrDNACode.isin(code_group("attendance", "attended"))
    return joined.filter(joined.ServTeamTypeRefToMH.isin(teams), attended,
                         age_on(joined.PersonBirthDate, joined.CareContDate).between(0, 17))


def team_contacts(teams: Sequence[str]):
    """Source: attended care contacts of people aged 0-17 on referrals to `teams` (team types)."""
    teams = tuple(teams)
    return lambda extract: _cyp_contacts(extract, teams)


def dbt_sessions(extract: ExtractLike) -> ibis.Table:
    """Source: attended care contacts of CYP with a DBT care activity (MHS202 Procedure 405780009)."""
    from outcomes.cohort.codes import DBT_PROCEDURE

    contacts = extract.tables["MHS201CareContact"]
    people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate")
    activities = extract.tables["MHS202CareActivity"]
    dbt = activities.filter(activities.Procedure == DBT_PROCEDURE).select("UniqCareContID")
    joined = attach(contacts.semi_join(dbt, "UniqCareContID"), people, "Person_ID")
    return joined.filter(joined.AttendOrDNACode.isin(code_group("attendance", "attended")),
                         age_on(joined.PersonBirthDate, joined.CareContDate).between(0, 17))


def crisis_line_contacts(extract: ExtractLike) -> ibis.Table:
    """Source: attended contacts of CYP with the crisis line (A19), with `hours`: out_of_hours on a
    weekend or before 09:00 / from 17:00 on a weekday (CareContTime), in_hours, or time_not_recorded."""
    contacts = _cyp_contacts(extract, code_group("service_team_type", "crisis_line"))
    time = _field(contacts, "CareContTime", "MHS201CareContact", "crisis-line calls out of hours").cast("string")
    weekend = contacts.CareContDate.day_of_week.index() >= 5
    hhmm = time.substr(0, 5)
    out = weekend | (hhmm < "09:00") | (hhmm >= "17:00")
    hours = ibis.cases((time.isnull(), TIME_NOT_RECORDED), (out, OUT_OF_HOURS), else_=IN_HOURS)
    return contacts.mutate(hours=hours)


def spa_first_contacts(extract: ExtractLike) -> ibis.Table:
    """Source: referrals of people aged 0-17 to the single point of access (A18) with their first
    attended contact, dated `first_contact`, with `days_to_first_contact` (days from receipt)."""
    contacts = _cyp_contacts(extract, code_group("service_team_type", "single_point_of_access"))
    first = contacts.group_by(["UniqServReqID", "ReferralRequestReceivedDate"]).aggregate(first_contact=contacts.CareContDate.min())
    return first.mutate(days_to_first_contact=days_between(first.ReferralRequestReceivedDate, first.first_contact).cast("float64"))


# --- paired outcome scores -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def reliable_change() -> dict[str, tuple[float, int]]:
    """{tool code: (reliable change threshold in points, +1 if higher is better else -1)} from
    codes/scored_assessment_tool.yaml."""
    raw = yaml.safe_load((resources.dictionary_dir() / "codes" / "scored_assessment_tool.yaml").read_text(encoding="utf-8"))
    higher = set(map(str, raw["groups"]["higher_is_better"]))
    return {str(code): (float(points), 1 if str(code) in higher else -1) for code, points in raw["reliable_change"].items()}


def paired_scores(footprint: Sequence[str] | None = None):
    """Source: one row per referral and tool with two or more scores at least MIN_PAIR_DAYS apart
    (first and last), of people aged 0-17 at the first score and resident in the footprint, dated
    `last_date`, with `change` (last - first) and `reliable_improvement` (change of at least the
    tool's threshold in its better direction). Built once per extract and shared by the measures
    that count them (`outcomes.cohort.shared`: paired outcomes, and reliable improvement over them)."""
    las = tuple(footprint or footprint_las())

    def source(extract: ExtractLike) -> ibis.Table:
        _table(extract, "MHS607CodedScoreAssessment", "paired outcome scores")
        return shared(extract, "paired_scores", ("MHS607CodedScoreAssessment", "MHS001MPI"), pairs, las)

    def pairs(extract: ExtractLike) -> ibis.Table:
        scores = extract.tables["MHS607CodedScoreAssessment"]
        keys = ["UniqServReqID", "Person_ID", "CodedAssToolType"]
        ranked = scores.mutate(
            first_rank=ibis.row_number().over(group_by=keys, order_by=[scores.AssToolCompDate, scores.UniqCodedScoreAssID]),
            last_rank=ibis.row_number().over(group_by=keys, order_by=[scores.AssToolCompDate.desc(), scores.UniqCodedScoreAssID.desc()]))
        first = ranked.filter(ranked.first_rank == 0).select(*keys, first_date=ranked.AssToolCompDate, first_score=ranked.PersScore)
        last = ranked.filter(ranked.last_rank == 0).select(*keys, last_date=ranked.AssToolCompDate, last_score=ranked.PersScore)
        pairs = first.join(last, keys)
        pairs = pairs.filter(days_between(pairs.first_date, pairs.last_date) >= MIN_PAIR_DAYS)
        people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate", "LADistrictAuth")
        pairs = attach(pairs, people, "Person_ID")
        pairs = pairs.filter(age_on(pairs.PersonBirthDate, pairs.first_date).between(0, 17),
                             pairs.LADistrictAuth.isin(las).fill_null(False))
        rules = reliable_change()
        change = (pairs.last_score - pairs.first_score).cast("float64")
        improved = ibis.literal(False)
        for code, (points, sign) in rules.items():
            improved = improved | ((pairs.CodedAssToolType == code) & (change * sign >= points))
        return pairs.mutate(change=change, reliable_improvement=improved)

    return source
