"""Known service users: people with an open CYPMHS referral.

A CYPMHS referral is a referral (MHS101Referral) received while the person was aged 0-17. It is
open on a date d when it was received on or before d and not yet discharged
(ServDischDate null or after d). A known service user on d has at least one open CYPMHS referral.

`known_service_users(on=d)` is the declared cohort (one row per person at the exit);
`of_known_service_users(events, "date_column", extract)` keeps the events (A&E attendances,
contacts, admissions) of people who were known service users *on the event's own date*, against
`cyp_referral_spans(extract)`: the CYPMHS referrals' intervals, built once per opened extract and
shared by every measure that asks (`outcomes.cohort.shared`).

>>> cohort = known_service_users(on="2024-03-31")
>>> [rule.description for rule in cohort.rules]
['aged 0-17 when the referral was received', 'received on or before 2024-03-31', 'not discharged on or before 2024-03-31']
"""

from __future__ import annotations

import datetime as dt

import ibis

from outcomes.cohort.core import EXTRACT_END, Cohort, Entry, Exit, ExtractLike, Rule, attach
from outcomes.cohort.dates import age_on, as_date
from outcomes.cohort.shared import shared

__all__ = ["referrals_with_age", "cyp_referrals", "known_service_users", "of_known_service_users", "cyp_referral_spans"]


def referrals_with_age(extract: ExtractLike) -> ibis.Table:
    """Every referral with `PersonBirthDate` and `age_at_referral` (whole years when received)."""
    referrals = extract.tables["MHS101Referral"]
    people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate")
    joined = attach(referrals, people, "Person_ID")
    return joined.mutate(age_at_referral=age_on(joined.PersonBirthDate, joined.ReferralRequestReceivedDate))


_CYP_RULE = Rule.age_between("age_at_referral", 0, 17, "when the referral was received")


def cyp_referrals() -> Cohort:
    """Referrals received while aged 0-17 (one row per referral)."""
    return Cohort(
        name="cyp_referrals",
        description="Referrals to mental health services received while aged 0-17 (CYPMHS referrals)",
        entry=Entry("referrals (MHS101Referral)", referrals_with_age),
        rules=(_CYP_RULE,),
        unit="referrals",
    )


def _one_row_per_person(table: ibis.Table, extract: ExtractLike) -> ibis.Table:
    return table.group_by("Person_ID").aggregate(
        open_referrals=table.count(),
        first_received=table.ReferralRequestReceivedDate.min(),
        teams=table.ServTeamTypeRefToMH.nunique(),
    )


def known_service_users(on: dt.date | str | None = None) -> Cohort:
    """People with an open CYPMHS referral on the date `on` (default: the extract's end date).

    Rows are referrals through the rules; the exit collapses them to one row per person with
    `open_referrals`, `first_received` and `teams` (distinct team types referred to).
    """
    date = as_date(on) if on is not None else EXTRACT_END
    label = date.isoformat() if on is not None else EXTRACT_END
    return Cohort(
        name="known_service_users",
        description=f"People with an open CYPMHS referral on {label}",
        entry=Entry("referrals (MHS101Referral)", referrals_with_age),
        rules=(
            _CYP_RULE,
            Rule.on_or_before("ReferralRequestReceivedDate", date, "received"),
            Rule.not_ended_by("ServDischDate", date, "discharged"),
        ),
        exit=Exit("one row per person", _one_row_per_person),
        unit="referrals",
        parameters={"on": label},
    )


def _spans(extract: ExtractLike) -> ibis.Table:
    referrals = cyp_referrals().build(extract).table
    referrals = referrals.filter(referrals.Person_ID.notnull(), referrals.ReferralRequestReceivedDate.notnull())
    return referrals.select("Person_ID", "ReferralRequestReceivedDate", "ServDischDate")


def cyp_referral_spans(extract: ExtractLike) -> ibis.Table:
    """`Person_ID`, `ReferralRequestReceivedDate`, `ServDischDate` (null: still open) of every CYPMHS
    referral with a person and a date received: open from the day received to the day before
    discharge. Shared by the measures of one extract (`outcomes.cohort.shared`)."""
    return shared(extract, "cyp_referral_spans", ("MHS101Referral", "MHS001MPI"), _spans)


def of_known_service_users(events: ibis.Table, date: str, extract: ExtractLike, person: str = "Person_ID") -> ibis.Table:
    """The rows of `events` whose person had an open CYPMHS referral on the row's `date` (a
    semi-join: each event kept once however many referrals were open)."""
    referrals = cyp_referral_spans(extract)
    return events.semi_join(
        referrals,
        [
            events[person] == referrals.Person_ID,
            referrals.ReferralRequestReceivedDate <= events[date],
            referrals.ServDischDate.isnull() | (referrals.ServDischDate > events[date]),
        ],
    )
