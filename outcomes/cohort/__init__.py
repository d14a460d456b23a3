"""Who is in: declared cohorts, each an entry event, inclusion rules and an exit.

A `Cohort` is a definition; `cohort.build(extract)` returns a `BuiltCohort` whose `.table` is an
Ibis expression (nothing runs, but for a table shared by every measure of the extract, built once
the first time: `outcomes.cohort.shared`) and whose `.attrition` is a pandas table of people and
rows in, excluded and remaining at every rule (one query of counts).

>>> from outcomes.cohort import cyp_inpatients
>>> built = cyp_inpatients().build(extract)            # doctest: +SKIP
>>> built.attrition                                     # doctest: +SKIP
>>> built.table.to_pandas()                             # doctest: +SKIP

Cohorts: `cyp_inpatients`, `picu_episodes` (ward stays); `cyp_referrals`,
`known_service_users(on=date)` (referrals -> people); `dbt_cohort(windows)` (people);
`crisis_escalations` (escalation outcomes) and `crisis_activity` (crisis-service contacts, a
process measure) (events). `COHORTS` maps their names to the functions that declare them.
"""

from outcomes.cohort.core import ATTRITION_COLUMNS, BuiltCohort, Cohort, Entry, Exit, ExtractLike, Rule
from outcomes.cohort.crisis import crisis_activity, crisis_escalations, crisis_events
from outcomes.cohort.dbt import MirrorWindows, dbt_cohort, first_dbt_contacts
from outcomes.cohort.inpatients import IN_AREA, OUT_OF_AREA, cyp_inpatients, picu_episodes, ward_stays
from outcomes.cohort.referrals import cyp_referrals, known_service_users, of_known_service_users

#: cohort name -> function declaring it with default parameters
COHORTS = {
    "cyp_inpatients": cyp_inpatients,
    "picu_episodes": picu_episodes,
    "cyp_referrals": cyp_referrals,
    "known_service_users": known_service_users,
    "dbt": dbt_cohort,
    "crisis_escalations": crisis_escalations,
    "crisis_activity": crisis_activity,
}

__all__ = [
    "ATTRITION_COLUMNS",
    "BuiltCohort",
    "COHORTS",
    "Cohort",
    "Entry",
    "Exit",
    "ExtractLike",
    "IN_AREA",
    "MirrorWindows",
    "OUT_OF_AREA",
    "Rule",
    "crisis_activity",
    "crisis_escalations",
    "crisis_events",
    "cyp_inpatients",
    "cyp_referrals",
    "dbt_cohort",
    "first_dbt_contacts",
    "known_service_users",
    "of_known_service_users",
    "picu_episodes",
    "ward_stays",
]
