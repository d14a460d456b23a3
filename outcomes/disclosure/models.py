"""Model tables (Cox coefficients, the PH test, group rate ratios) published only for groups big enough.

A hazard ratio, a Schoenfeld test or a rate ratio for a group of three people carries no counts,
so cell-wise redaction (:func:`outcomes.disclosure.redact_table`) passes it, yet its coefficient
and interval describe those three. The rule here: a row of a model table is published only if
every group it compares (a term's level *and* its reference level) has at least ``min_count``
people and at least ``min_count`` events; otherwise each of its numbers is replaced with
:data:`outcomes.disclosure.REDACTED` and the row's ``publication`` column states why (without
saying how small). ``min_count`` defaults to one more than the redaction threshold (8: OpenSAFELY
redacts 1-7), so no published model rests on a group whose own count would be redacted. A model
whose whole data have fewer than ``min_count`` people or events is withheld whole.

Rows are matched to groups by the term names formulaic/patsy give categorical levels
(``sex[T.male]``, ``C(age_band)[T.13-15]``, :func:`formula_term_groups`); a numeric covariate's
slope rests on the whole model. Any other table passes its own mapping of rows to groups.

>>> import pandas as pd
>>> stays = pd.DataFrame({"sex": ["female"] * 20 + ["male"] * 20 + ["other"] * 3,
...                       "discharged": [1] * 43})
>>> cox = pd.DataFrame({"exp(coef)": [1.1, 0.6]}, index=["sex[T.male]", "sex[T.other]"])
>>> safe = gate_model_table(cox, formula_term_groups(cox.index, stays, ["sex"]),
...                         group_counts(stays, ["sex"], "discharged"), event_label="discharges")
>>> safe["exp(coef)"].tolist()
[1.1, '[REDACTED]']
>>> safe.loc["sex[T.other]", "publication"]
'withheld: fewer than 8 people or 8 discharges in sex = other'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from outcomes.disclosure.rules import REDACT_AT_OR_BELOW, REDACTED

__all__ = ["MIN_MODEL_COUNT", "ALL", "group_counts", "formula_term_groups", "gate_model_table"]

MIN_MODEL_COUNT = REDACT_AT_OR_BELOW + 1  #: people and events a group needs for its model rows
ALL = ("(all)", "(all)")  #: the group key of the whole model (slopes of numeric covariates)

_TERM = re.compile(r"^(?:C\()?`?(?P<var>[^`\[\(\)]+?)`?\)?\[T\.(?P<level>.+)\]$")


def group_counts(frame: pd.DataFrame, variables: Sequence[str], event: str) -> pd.DataFrame:
    """People (rows) and events (sum of the 0/1 ``event`` column) per level of each variable, plus
    :data:`ALL` for the whole frame: a frame indexed by (variable, level) with ``people_n``, ``events_n``."""
    missing = [c for c in [*variables, event] if c not in frame.columns]
    if missing:
        raise KeyError(f"columns not in the frame: {missing}; it has {list(frame.columns)}")
    events = pd.to_numeric(frame[event].astype(int))
    rows = {ALL: (len(frame), int(events.sum()))}
    for var in variables:
        for level, part in events.groupby(frame[var].astype(str), observed=True):
            rows[(var, str(level))] = (len(part), int(part.sum()))
    index = pd.MultiIndex.from_tuples(list(rows), names=["variable", "level"])
    return pd.DataFrame(list(rows.values()), index=index, columns=["people_n", "events_n"])


def formula_term_groups(terms: Iterable, frame: pd.DataFrame, variables: Sequence[str]) -> dict:
    """{term: [(variable, level), (variable, reference level)]} for model terms named the formulaic
    way (``var[T.level]``); the reference is the level of ``var`` in ``frame`` that no term names.
    Terms that are not categorical levels (slopes, intercepts) rest on :data:`ALL`."""
    parsed = {term: _TERM.match(str(term)) for term in terms}
    named: dict[str, set[str]] = {}
    for match in filter(None, parsed.values()):
        named.setdefault(match["var"], set()).add(match["level"])
    groups = {}
    for term, match in parsed.items():
        if match is None or match["var"] not in variables:
            groups[term] = [ALL]
            continue
        var, level = match["var"], match["level"]
        levels = set(frame[var].astype(str).unique())
        references = sorted(levels - named[var])
        groups[term] = [(var, level)] + [(var, ref) for ref in references]
    return groups


def gate_model_table(
    table: pd.DataFrame,
    row_groups: Mapping[object, Sequence[tuple]],
    counts: pd.DataFrame,
    min_count: int = MIN_MODEL_COUNT,
    event_label: str = "events",
    marker: object = REDACTED,
    keep: Sequence = (),
) -> pd.DataFrame:
    """A copy of ``table`` with a ``publication`` column: "published", or "withheld: ..." with every
    number and flag (boolean) of that row, but the columns in ``keep`` (e.g. a planted value that
    is not a statistic of the data), replaced by ``marker``. ``row_groups`` maps each row label to the groups
    (keys of ``counts``, a :func:`group_counts` frame) it is built on; a row missing from it, or
    naming a group missing from ``counts``, is an error. The whole model's counts (:data:`ALL`,
    when present) gate every row."""
    unknown = [label for label in table.index if label not in row_groups]
    if unknown:
        raise KeyError(f"{len(unknown)} model row(s) not mapped to groups, e.g. {unknown[0]!r}")
    out = table.copy()
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c not in keep]
    for col in numeric:
        out[col] = out[col].astype(object)
    status = []
    for label in table.index:
        groups = list(row_groups[label]) + ([ALL] if ALL in counts.index else [])
        absent = [g for g in groups if g not in counts.index]
        if absent:
            raise KeyError(f"row {label!r}: no counts for group {absent[0]!r}")
        small = [g for g in dict.fromkeys(groups)
                 if counts.loc[g, "people_n"] < min_count or counts.loc[g, "events_n"] < min_count]
        if small:
            where = ", ".join("the whole model" if g == ALL else f"{g[0]} = {g[1]}" for g in small)
            status.append(f"withheld: fewer than {min_count} people or {min_count} {event_label} in {where}")
            out.loc[label, numeric] = marker
        else:
            status.append("published")
    out["publication"] = status
    withheld = sum(s != "published" for s in status)
    out.attrs["disclosure"] = {
        "rows_withheld": withheld,
        "rule": f"model rows published only for groups with at least {min_count} people and {min_count} {event_label}",
    }
    return out
