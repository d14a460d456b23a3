"""Code lists the cohorts use, read from the data dictionary (never written into code).

>>> code_group("bed_type", "cyp_picu")
('309',)
>>> network_providers()
('RPG', 'RV5', 'RQY')
"""

from __future__ import annotations

from outcomes.source.contract.dictionary import load_dictionary

__all__ = ["code_group", "codes_of", "footprint_las", "network_providers", "DBT_PROCEDURE", "SUICIDE_ATTEMPT"]

#: SNOMED CT concept of dialectical behaviour therapy (MHS202CareActivity.Procedure)
DBT_PROCEDURE = "405780009"
#: RiskEvents.EventType of a suicide attempt
SUICIDE_ATTEMPT = "suicide_attempt"


def code_group(code_list: str, group: str) -> tuple[str, ...]:
    """The codes of a named group of a code list (e.g. `code_group("service_team_type", "crisis")`)."""
    return load_dictionary().codes[code_list].group(group)


def codes_of(code_list: str) -> tuple[str, ...]:
    """Every (v6) code of a code list."""
    return load_dictionary().codes[code_list].codes


def footprint_las() -> tuple[str, ...]:
    """ONS LA codes of the collaborative's footprint (default for cohort parameters)."""
    return code_group("collaborative", "footprint")


def network_providers() -> tuple[str, ...]:
    """ODS codes of the collaborative's network providers (default for cohort parameters)."""
    return code_group("collaborative", "network_providers")
