"""Inpatient cohorts from ward stays: CYP inpatients and CYP PICU episodes.

One row per ward stay (MHS502WardStay), with the person's birth date and LA of residence
(MHS001MPI) and the hospital spell's dates and admission method (MHS501HospProvSpell).

Age is taken on the first day of the *ward stay* by default (`age_at="ward_stay"`): bed days and
bed types belong to ward stays, so a young person who turns 18 during a long spell and is moved
to an adult ward is not counted on the adult ward. `age_at="spell"` takes it at admission to the
hospital spell instead (NHS England's "age at admission" for spells).

>>> cohort = cyp_inpatients()
>>> [rule.description for rule in cohort.rules]  # doctest: +NORMALIZE_WHITESPACE
['aged 0-17 on the first day of the ward stay', 'on a child and adolescent ward (WardType 01)',
 'ward for children or adolescents (WardAge 10, 11, 12)',
 'on a CYP bed (bed type 12 codes)',
 'resident in the footprint (LA 12 codes) or treated by a network provider (provider RPG, RV5, RQY)']
"""

from __future__ import annotations

from typing import Sequence

import ibis

from outcomes.cohort.codes import code_group, footprint_las, network_providers
from outcomes.cohort.core import Cohort, Entry, Exit, ExtractLike, Rule, attach
from outcomes.cohort.dates import age_on, days_between
from outcomes.cohort.shared import shared

__all__ = ["ward_stays", "cyp_inpatients", "picu_episodes", "AGE_AT", "IN_AREA", "OUT_OF_AREA"]

#: where age is measured: first day of the ward stay, or of the hospital provider spell
AGE_AT = {"ward_stay": "StartDateWardStay", "spell": "StartDateHospProvSpell"}
#: WardType of a child and adolescent mental health ward
CYP_WARD_TYPES = ("01",)
#: values of the `area` column: treated by a network provider or not
IN_AREA, OUT_OF_AREA = "in_area", "out_of_area"


def ward_stays(extract: ExtractLike, age_at: str = "ward_stay") -> ibis.Table:
    """Every ward stay with `PersonBirthDate`, `LADistrictAuth`, the spell's
    `StartDateHospProvSpell`, `DischDateHospProvSpell`, `MethAdmMHHospProvSpell`, and
    `age_at_admission` (whole years on the date `age_at` names). Built once per extract and
    shared by its inpatient measures (`outcomes.cohort.shared`): each of them joined the ward stays
    to the whole MHS001MPI again (4 million people at England scale for 180,000 stays)."""
    if age_at not in AGE_AT:
        raise ValueError(f"age_at must be one of {sorted(AGE_AT)}, not {age_at!r}")
    return shared(extract, "ward_stays", ("MHS502WardStay", "MHS001MPI", "MHS501HospProvSpell"),
                  lambda x: _ward_stays(x, age_at), age_at)


def _ward_stays(extract: ExtractLike, age_at: str) -> ibis.Table:
    stays = extract.tables["MHS502WardStay"]
    people = extract.tables["MHS001MPI"].select("Person_ID", "PersonBirthDate", "LADistrictAuth")
    spells = extract.tables["MHS501HospProvSpell"].select(
        "UniqHospProvSpellID", "StartDateHospProvSpell", "DischDateHospProvSpell", "MethAdmMHHospProvSpell"
    )
    joined = attach(attach(stays, people, "Person_ID"), spells, "UniqHospProvSpellID")
    admitted = joined[AGE_AT[age_at]].fill_null(joined.StartDateWardStay)
    return joined.mutate(age_at_admission=age_on(joined.PersonBirthDate, admitted))


def _cyp_rules(footprint: tuple[str, ...], providers: tuple[str, ...], age_at: str) -> tuple[Rule, ...]:
    where = "first day of the ward stay" if age_at == "ward_stay" else "first day of the hospital spell"
    return (
        Rule.age_between("age_at_admission", 0, 17, f"on the {where}"),
        Rule.isin("WardType", CYP_WARD_TYPES, "on a child and adolescent ward"),
        Rule.isin("WardAge", code_group("ward_age", "cyp"), "ward for children or adolescents"),
        Rule.isin("MHAdmittedPatientClass", code_group("bed_type", "cyp"), "on a CYP bed", field="bed type"),
        Rule.any_of(
            Rule.isin("LADistrictAuth", footprint, "resident in the footprint", field="LA"),
            Rule.isin("OrgIDProv", providers, "treated by a network provider", field="provider"),
        ),
    )


def _stay_exit(footprint: tuple[str, ...], providers: tuple[str, ...], with_los: bool) -> Exit:
    def apply(table: ibis.Table, extract: ExtractLike) -> ibis.Table:
        end = ibis.literal(extract.end_date)
        network = table.OrgIDProv.isin(providers)
        columns = {
            "resident_in_footprint": table.LADistrictAuth.isin(footprint).fill_null(False),
            "provider": table.OrgIDProv,
            "network_provider": network,
            "area": network.ifelse(IN_AREA, OUT_OF_AREA),
            "censored": table.EndDateWardStay.isnull(),
            "exit_date": table.EndDateWardStay.fill_null(end),
        }
        if with_los:
            columns["los_days"] = days_between(table.StartDateWardStay, table.EndDateWardStay.fill_null(end))
        return table.mutate(**columns)

    what = "; los_days = end - start (censored at the extract end)" if with_los else ""
    return Exit(f"end of the ward stay, or the extract end if still open (censored){what}", apply)


def cyp_inpatients(
    footprint: Sequence[str] | None = None,
    providers: Sequence[str] | None = None,
    age_at: str = "ward_stay",
) -> Cohort:
    """CYP inpatient ward stays: aged 0-17, on a CYP ward and bed, resident in `footprint` (LA
    codes; default the collaborative's) or treated by `providers` (ODS codes; default RPG, RV5,
    RQY). Rows are ward stays; the exit adds `resident_in_footprint`, `network_provider`, `area`
    ("in_area" = ward run by a network provider, else "out_of_area"), `censored` (open at the
    extract end), `exit_date` and `provider` (the ward's OrgIDProv)."""
    footprint = tuple(footprint or footprint_las())
    providers = tuple(providers or network_providers())
    return Cohort(
        name="cyp_inpatients",
        description="Ward stays of children and young people on CYP beds, for the collaborative",
        entry=Entry("ward stays (MHS502WardStay)", lambda x: ward_stays(x, age_at)),
        rules=_cyp_rules(footprint, providers, age_at),
        exit=_stay_exit(footprint, providers, with_los=False),
        unit="ward stays",
        parameters={"footprint": footprint, "providers": providers, "age_at": age_at},
    )


def picu_episodes(
    footprint: Sequence[str] | None = None,
    providers: Sequence[str] | None = None,
    age_at: str = "ward_stay",
) -> Cohort:
    """CYP PICU episodes: CYP inpatient ward stays on a PICU bed (bed type group cyp_picu, 309).

    One episode is one ward stay. The exit adds `los_days` (discharge date - admission date, days;
    for a stay open at the extract end, extract end - start) and `censored` (True for open
    stays, which are kept, never dropped), as well as the CYP inpatient exit columns.
    """
    base = cyp_inpatients(footprint, providers, age_at)
    picu = code_group("bed_type", "cyp_picu")
    footprint, providers = base.parameters["footprint"], base.parameters["providers"]
    return Cohort(
        name="picu_episodes",
        description="CYP psychiatric intensive care (PICU) ward stays, with length of stay",
        entry=base.entry,
        rules=base.rules + (Rule.isin("MHAdmittedPatientClass", picu, "on a CYP PICU bed", field="bed type"),),
        exit=_stay_exit(footprint, providers, with_los=True),
        unit="ward stays",
        parameters=dict(base.parameters),
    )
