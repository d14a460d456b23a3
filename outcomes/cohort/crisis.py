"""Crises of known service users, in two kinds that must not be mixed: escalation *outcomes*,
which the programme aims to reduce, and crisis *activity*, the services it added, which it
expects to rise. One row per event.

Escalation outcomes (`crisis_escalations`): what "fewer crisis escalations" claims. A crisis that
reached hospital:

* A&E attendance (ECDS) with a mental-health presentation, chief complaint in the
  ecds_mental_health_complaint code list (`mental_health`), or self-harm: injury intent 276853009
  or chief complaint 248062006 (`self_harm`); dated by `Arrival_Date`. Attendances for other
  reasons (a broken wrist) are not a crisis and are left out. Before ECDS (October 2017), HES A&E
  where the extract holds it (HESAE: diagnosis condition 35 or patient group 30, coarser);
* emergency admission: a hospital provider spell whose admission method is in group emergency
  (21-2D, 28); dated `StartDateHospProvSpell`.
* Detentions under the Mental Health Act are escalations too, where the data hold them: the
  optional MHS401MHActPeriod table gives them as their own measure (`cyp_detained`,
  `outcomes.measures.delivery`), kept apart so that this cohort runs on every extract.

Crisis activity (`crisis_activity`): a process measure. Attended care contacts (AttendOrDNACode
group attended: 5, 6) on referrals to the crisis services the programme added or extended
(service team type group crisis: A02, A03, A04 crisis resolution / home treatment, A18 single
point of access, A19 24/7 crisis line); dated `CareContDate`. More contacts mean the services are
used, not that more crises escalated.

Each kept only when the person is a known service user (open CYPMHS referral) on the event date.
Columns: `event_id`, `Person_ID`, `event_date`, `kind` ("ae_attendance", "emergency_admission";
"crisis_contact" for activity), `provider`, `mental_health`, `self_harm`.

>>> [rule.description for rule in crisis_escalations().rules]  # doctest: +NORMALIZE_WHITESPACE
['A&E attendances: mental-health presentation or self-harm presentation',
 'admissions: emergency admission method (MethAdmMHHospProvSpell 10 codes)',
 'known service user (open CYPMHS referral) on the event date']
>>> [rule.description for rule in crisis_activity().rules]  # doctest: +NORMALIZE_WHITESPACE
['crisis-team contacts: attended (AttendOrDNACode 5, 6), on a referral to a crisis team (team type A02, A03, A04, A18, A19)',
 'known service user (open CYPMHS referral) on the event date']
"""

from __future__ import annotations

import ibis

from outcomes.cohort.codes import code_group, codes_of
from outcomes.cohort.core import Cohort, Entry, Exit, ExtractLike, Rule, attach
from outcomes.cohort.referrals import of_known_service_users

__all__ = ["ae_attendances", "ae_ages", "ae_arrivals", "hes_ae_attendances", "crisis_contacts", "emergency_admissions", "crisis_events", "crisis_escalations",
           "crisis_activity", "KINDS", "ESCALATION_KINDS"]

#: values of the `kind` column
AE, CONTACT, ADMISSION = "ae_attendance", "crisis_contact", "emergency_admission"
KINDS = (AE, CONTACT, ADMISSION)
#: the kinds that are escalation outcomes (crisis contacts are activity)
ESCALATION_KINDS = (AE, ADMISSION)

_NO_FLAG = ibis.literal(None, "boolean")
_NO_CODE = ibis.literal(None, "string")
#: columns the rules read, dropped at the exit: attendance code, team type, admission method
RULE_COLUMNS = ("attendance", "team_type", "admission_method")


def ae_attendances(extract: ExtractLike) -> ibis.Table:
    """Every A&E attendance as an event, with `mental_health` and `self_harm` flags: ECDS's, and
    HES A&E's before ECDS where the extract holds the optional HESAE table (`hes_ae_attendances`)."""
    ecds = _ecds_attendances(extract)
    if "HESAE" not in extract.tables:
        return ecds
    return hes_ae_attendances(extract).union(ecds, distinct=False)


def ae_ages(extract: ExtractLike) -> ibis.Table:
    """`event_id`, `age` (whole years at arrival) of every A&E attendance of `ae_attendances`."""
    ecds = extract.tables["ECDS"].select(event_id="Generated_Record_ID", age="Age_At_Arrival")
    if "HESAE" not in extract.tables:
        return ecds
    return extract.tables["HESAE"].select(event_id="AEKEY", age="ARRIVALAGE").union(ecds, distinct=False)


def ae_arrivals(extract: ExtractLike) -> ibis.Table:
    """`Person_ID`, `Arrival_Date` of every A&E attendance (any reason), HES A&E's included."""
    ecds = extract.tables["ECDS"].select("Person_ID", "Arrival_Date")
    if "HESAE" not in extract.tables:
        return ecds
    return extract.tables["HESAE"].select("Person_ID", Arrival_Date="ARRIVALDATE").union(ecds, distinct=False)


def hes_ae_attendances(extract: ExtractLike) -> ibis.Table:
    """Every HES A&E attendance (the optional HESAE table, A&E before ECDS) as an event. Its coarse
    coding gives the flags: `mental_health` when the first diagnosis's condition (DIAG_01's first
    two characters) is 35, psychiatric conditions; `self_harm` when the patient group is 30,
    deliberate self-harm. Fewer attendances are recognisable than in ECDS: a series spanning both
    declares the change of source (`outcomes.measures.sources`)."""
    hes = extract.tables["HESAE"]
    condition = hes.DIAG_01.substr(0, 2)
    return _ae_events(hes, hes.AEKEY, hes.ARRIVALDATE, hes.PROCODE3,
                      condition.isin(code_group("hes_ae_diagnosis_condition", "mental_health")).fill_null(False),
                      hes.AEPATGROUP.isin(code_group("hes_ae_patient_group", "self_harm")).fill_null(False))


def _ae_events(table: ibis.Table, event_id, date, provider, mental_health, self_harm) -> ibis.Table:
    """A&E attendances of `table` in the events' columns (see the module)."""
    return table.select(event_id=event_id, Person_ID=table.Person_ID, event_date=date, kind=ibis.literal(AE),
                        provider=provider, mental_health=mental_health, self_harm=self_harm, attendance=_NO_CODE,
                        team_type=_NO_CODE, admission_method=_NO_CODE)


def _ecds_attendances(extract: ExtractLike) -> ibis.Table:
    """Every ECDS attendance as an event, with `mental_health` and `self_harm` flags."""
    ecds = extract.tables["ECDS"]
    complaint, intent = ecds.EC_Chief_Complaint_SNOMED_CT, ecds.EC_Injury_Intent_SNOMED_CT
    self_harm = intent.isin(code_group("ecds_mental_health_complaint", "self_harm_intent")).fill_null(False) | complaint.isin(
        code_group("ecds_mental_health_complaint", "self_harm_complaint")
    ).fill_null(False)
    return _ae_events(ecds, ecds.Generated_Record_ID, ecds.Arrival_Date, ecds.Der_Provider_Code,
                      complaint.isin(codes_of("ecds_mental_health_complaint")).fill_null(False), self_harm)


def crisis_contacts(extract: ExtractLike) -> ibis.Table:
    """Every care contact as an event, with its `attendance` code and its referral's `team_type`."""
    contacts = extract.tables["MHS201CareContact"]
    referrals = extract.tables["MHS101Referral"].select("UniqServReqID", "OrgIDProv", "ServTeamTypeRefToMH")
    joined = attach(contacts, referrals, "UniqServReqID")
    return joined.select(
        event_id=joined.UniqCareContID,
        Person_ID=joined.Person_ID,
        event_date=joined.CareContDate,
        kind=ibis.literal(CONTACT),
        provider=joined.OrgIDProv,
        mental_health=_NO_FLAG,
        self_harm=_NO_FLAG,
        attendance=joined.AttendOrDNACode,
        team_type=joined.ServTeamTypeRefToMH,
        admission_method=_NO_CODE,
    )


def emergency_admissions(extract: ExtractLike) -> ibis.Table:
    """Every hospital provider spell as an event, with its `admission_method`."""
    spells = extract.tables["MHS501HospProvSpell"]
    return spells.select(
        event_id=spells.UniqHospProvSpellID,
        Person_ID=spells.Person_ID,
        event_date=spells.StartDateHospProvSpell,
        kind=ibis.literal(ADMISSION),
        provider=spells.OrgIDProv,
        mental_health=_NO_FLAG,
        self_harm=_NO_FLAG,
        attendance=_NO_CODE,
        team_type=_NO_CODE,
        admission_method=spells.MethAdmMHHospProvSpell,
    )


def crisis_events(extract: ExtractLike) -> ibis.Table:
    """A&E attendances, care contacts and hospital spells as one table of candidate events."""
    return ae_attendances(extract).union(crisis_contacts(extract), distinct=False).union(emergency_admissions(extract), distinct=False)


def _known_user() -> Rule:
    return Rule("known service user (open CYPMHS referral) on the event date",
                restrict=lambda t, x: of_known_service_users(t, "event_date", x))


def _one_row_per_event() -> Exit:
    return Exit("one row per event (the event date is the exit)", lambda t, x: t.drop(*RULE_COLUMNS))


def escalation_events(extract: ExtractLike) -> ibis.Table:
    """A&E attendances and hospital spells as one table of candidate escalations."""
    return ae_attendances(extract).union(emergency_admissions(extract), distinct=False)


def crisis_escalations() -> Cohort:
    """Escalation outcomes of known service users: mental-health and self-harm A&E attendances and
    emergency admissions (one row per event; see the module docstring)."""
    return Cohort(
        name="crisis_escalations",
        description="Mental-health and self-harm A&E attendances and emergency admissions of known service users",
        entry=Entry("A&E attendances and hospital spells", escalation_events),
        rules=(
            Rule.only_for("kind", AE, "A&E attendances", Rule.any_of(
                Rule.is_true("mental_health", "mental-health presentation"),
                Rule.is_true("self_harm", "self-harm presentation"),
            )),
            Rule.only_for("kind", ADMISSION, "admissions", Rule.isin(
                "admission_method", code_group("admission_method", "emergency"), "emergency admission method",
                field="MethAdmMHHospProvSpell")),
            _known_user(),
        ),
        exit=_one_row_per_event(),
        unit="events",
    )


def crisis_activity() -> Cohort:
    """Crisis activity of known service users: attended contacts with the crisis services (crisis
    resolution / home treatment, single point of access, 24/7 crisis line); a process measure."""
    return Cohort(
        name="crisis_activity",
        description="Attended contacts of known service users with crisis teams, the single point of access and the crisis line",
        entry=Entry("care contacts", crisis_contacts),
        rules=(
            Rule.only_for("kind", CONTACT, "crisis-team contacts", Rule.all_of(
                Rule.isin("attendance", code_group("attendance", "attended"), "attended", field="AttendOrDNACode"),
                Rule.isin("team_type", code_group("service_team_type", "crisis"), "on a referral to a crisis team",
                          field="team type"),
            )),
            _known_user(),
        ),
        exit=_one_row_per_event(),
        unit="events",
    )
