"""Declared cohorts: an entry event, inclusion rules applied in order, and an exit.

In the spirit of OpenSAFELY's ehrQL and OHDSI cohort definitions, a cohort is *declared* (a
`Cohort` value) and only turned into a query by `Cohort.build(extract)`. Each rule reports its
attrition: people and rows going in, excluded and remaining. Building materialises nothing (but
a table shared by the measures of an extract is built the first time one asks for it:
`outcomes.cohort.shared`); the attrition table runs one query of counts when first asked for.

>>> import datetime as dt, ibis, pandas as pd
>>> from types import SimpleNamespace
>>> stays = ibis.memtable(pd.DataFrame({"Person_ID": ["a", "a", "b"], "days": [3, 0, 5]}))
>>> extract = SimpleNamespace(tables={"stays": stays}, end_date=dt.date(2024, 3, 31))
>>> long_stays = Cohort(
...     name="long stays",
...     entry=Entry("ward stays", lambda x: x.tables["stays"]),
...     rules=(Rule("at least one day", lambda t, x: t.days >= 1),),  # or a helper: Rule.isin(...)
... )
>>> built = long_stays.build(extract)
>>> built.attrition[["criterion", "people_remaining", "rows_remaining"]].values.tolist()
[['entry: ward stays', 2, 3], ['at least one day', 2, 2]]
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Protocol, Sequence

import ibis
import pandas as pd
from ibis.expr.operations import relations as _relations
from ibis.expr.operations.generic import Literal as _Literal

__all__ = ["Cohort", "Entry", "Rule", "Exit", "BuiltCohort", "ExtractLike", "ATTRITION_COLUMNS", "EXTRACT_END", "attach",
           "constant_of", "VARIES"]


class ExtractLike(Protocol):
    """What a cohort needs from an extract: its tables by name and the date it ends."""

    tables: dict[str, ibis.Table]
    end_date: Any


#: columns of `BuiltCohort.attrition`, in order
ATTRITION_COLUMNS = (
    "step",
    "criterion",
    "people_in",
    "rows_in",
    "people_excluded",
    "rows_excluded",
    "people_remaining",
    "rows_remaining",
)


def attach(left: ibis.Table, right: ibis.Table, on: str | list[str]) -> ibis.Table:
    """`left` with the columns of `right` matched on `on` (a left join keeping `left`'s keys once;
    unmatched rows get nulls). `right` should have one row per key."""
    keys = [on] if isinstance(on, str) else list(on)
    joined = left.left_join(right, keys)
    return joined.select(*[left[c] for c in left.columns], *[right[c] for c in right.columns if c not in keys])


@dataclass(frozen=True)
class Entry:
    """The entry events: `events(extract)` returns one row per candidate (stay, referral, person...)."""

    description: str
    events: Callable[[ExtractLike], ibis.Table]


#: a rule's date that is the extract's last day (`extract.end_date`), whatever extract it runs on
EXTRACT_END = "the extract end"


def _listed(codes: Sequence[str], limit: int = 8) -> str:
    return ", ".join(codes) if len(codes) <= limit else f"{len(codes)} codes"


def _date_of(date: dt.date | str, extract: ExtractLike) -> ibis.Value:
    """An Ibis date literal: `date`, or the extract's end date for `EXTRACT_END`."""
    value = extract.end_date if date == EXTRACT_END else date
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return ibis.literal(value)


def _date_label(date: dt.date | str) -> str:
    return date if date == EXTRACT_END else (date.isoformat() if isinstance(date, dt.date) else str(date))


#: `constant_of`'s answer for a column whose value varies from row to row (or is null)
VARIES = object()


def constant_of(column: ibis.Value) -> Any:
    """The one non-null value a column holds on every row because its table selected it as a
    literal (through filters, sorts and unions of such selections), else `VARIES`.

    >>> t = ibis.table({"n": "int64"}, name="t")
    >>> events = t.select("n", kind=ibis.literal("contact"))
    >>> constant_of(events.filter(events.n > 1).kind), constant_of(events.n) is VARIES
    ('contact', True)
    """
    node = column.op()
    while isinstance(node, _relations.Field):
        relation = node.rel
        while isinstance(relation, _relations.Simple):
            relation = relation.parent
        if isinstance(relation, _relations.Project):
            node = relation.values[node.name]
        elif isinstance(relation, _relations.Union):
            left, right = (constant_of(side.to_expr()[node.name]) for side in (relation.left, relation.right))
            return left if left is not VARIES and left == right else VARIES
        else:
            return VARIES
    return node.value if isinstance(node, _Literal) and node.value is not None else VARIES


def _conjuncts(kept: ibis.Value | tuple) -> tuple[ibis.Value, ...]:
    """A rule's `keep` result as the predicates that must all hold (a single one, or its tuple)."""
    return tuple(kept) if isinstance(kept, (tuple, list)) else (kept,)


def _every(predicates: tuple[ibis.Value, ...]) -> ibis.Value:
    """One boolean: every predicate true (null counts as false); true when there are none."""
    if not predicates:
        return ibis.literal(True)
    return functools.reduce(operator.and_, (p.fill_null(False) for p in predicates))


@dataclass(frozen=True)
class Rule:
    """An inclusion rule. Rows are kept where `keep(table, extract)` is true (null counts as false).
    `keep` may also give a tuple of booleans that must all hold (an empty tuple keeps every row):
    each becomes its own filter predicate, so an engine (DuckDB, PostgreSQL, Spark) can push one
    that reads a single side of a join below the join, where one expression around an AND that
    reads both sides stops it (`all_of`, `only_for` give tuples).

    A rule that needs another table (a semi-join, say) gives `restrict(table, extract) -> table`
    instead of `keep`; it must return a subset of the rows with the same columns.

    Build rules from the helpers below (`Rule.isin`, `Rule.age_between`, `Rule.on_or_before`,
    `Rule.not_ended_by`, `Rule.is_true`, `Rule.any_of`, `Rule.all_of`, `Rule.only_for`): each
    makes the predicate and its description from the same values, so the attrition table says
    what the code does.

    >>> Rule.isin("WardAge", ("10", "11", "12"), "on a ward for children or adolescents").description
    'on a ward for children or adolescents (WardAge 10, 11, 12)'
    >>> Rule.age_between("age_at_admission", 0, 17, "on admission").description
    'aged 0-17 on admission'
    >>> Rule.any_of(Rule.is_true("self_harm", "self-harm"), Rule.is_true("mental_health", "mental health")).description
    'self-harm or mental health'
    """

    description: str
    keep: Callable[[ibis.Table, ExtractLike], ibis.Value] | None = None
    restrict: Callable[[ibis.Table, ExtractLike], ibis.Table] | None = None

    def __post_init__(self) -> None:
        if (self.keep is None) == (self.restrict is None):
            raise ValueError(f"rule {self.description!r}: give exactly one of keep= or restrict=")

    def apply(self, table: ibis.Table, extract: ExtractLike) -> ibis.Table:
        """The rows of `table` that pass the rule."""
        if self.restrict is not None:
            return self.restrict(table, extract)
        predicates = _conjuncts(self.keep(table, extract))
        return table.filter(*[p.fill_null(False) for p in predicates]) if predicates else table

    def _predicates(self) -> Callable[[ibis.Table, ExtractLike], tuple[ibis.Value, ...]]:
        """The rule as a function giving the predicates that must all hold."""
        if self.keep is None:
            raise ValueError(f"rule {self.description!r} restricts by another table: it cannot be combined")
        keep = self.keep
        return lambda t, x: _conjuncts(keep(t, x))

    # ------------------------------------------------------------------ rules as data
    @classmethod
    def isin(cls, column: str, codes: Sequence[str], what: str, *, field: str | None = None) -> "Rule":
        """`column` holds one of `codes`: "`what` (`field` code, code...)" (`field` defaults to the column)."""
        codes = tuple(codes)
        if not codes:
            raise ValueError(f"rule {what!r}: no codes for {column}")
        return cls(f"{what} ({field or column} {_listed(codes)})", lambda t, x: t[column].isin(codes))

    @classmethod
    def age_between(cls, column: str, low: int, high: int, when: str) -> "Rule":
        """Whole-year age in `column` from `low` to `high` inclusive: "aged low-high `when`"."""
        if low > high:
            raise ValueError(f"age rule {column}: {low} is above {high}")
        return cls(f"aged {low}-{high} {when}", lambda t, x: t[column].between(low, high))

    @classmethod
    def on_or_before(cls, column: str, date: dt.date | str, what: str) -> "Rule":
        """The date in `column` is on or before `date` (a date, or `EXTRACT_END`): "`what` on or before ..."."""
        return cls(f"{what} on or before {_date_label(date)}", lambda t, x: t[column] <= _date_of(date, x))

    @classmethod
    def not_ended_by(cls, column: str, date: dt.date | str, what: str) -> "Rule":
        """The end date in `column` is empty (still open) or after `date`: "not `what` on or before ..."."""
        return cls(f"not {what} on or before {_date_label(date)}",
                   lambda t, x: t[column].isnull() | (t[column] > _date_of(date, x)))

    @classmethod
    def ends_by(cls, column: str, date: dt.date | str, what: str) -> "Rule":
        """A half-open window whose exclusive end is `column` is over by the end of `date`:
        "`what` complete by ..." (`column` <= `date` + 1 day)."""
        def keep(t: ibis.Table, x: ExtractLike) -> ibis.Value:
            return t[column] <= _date_of(date, x) + ibis.interval(days=1)

        return cls(f"{what} complete by {_date_label(date)}", keep)

    @classmethod
    def is_true(cls, column: str, what: str) -> "Rule":
        """The boolean `column` is true: "`what`"."""
        return cls(what, lambda t, x: t[column])

    @classmethod
    def any_of(cls, *rules: "Rule") -> "Rule":
        """At least one of `rules` holds: their descriptions joined by "or"."""
        predicates = [rule._predicates() for rule in rules]
        return cls(" or ".join(rule.description for rule in rules),
                   lambda t, x: functools.reduce(operator.or_, (_every(p(t, x)) for p in predicates)))

    @classmethod
    def all_of(cls, *rules: "Rule") -> "Rule":
        """Every one of `rules` holds: their descriptions joined by commas (one predicate each)."""
        predicates = [rule._predicates() for rule in rules]
        return cls(", ".join(rule.description for rule in rules),
                   lambda t, x: tuple(q for p in predicates for q in p(t, x)))

    @classmethod
    def only_for(cls, column: str, value: str, label: str, rule: "Rule") -> "Rule":
        """`rule` applies to the rows whose `column` is `value` (`label`); other rows pass:
        "`label`: `rule`". Where the table holds one literal in `column` (`constant_of`: a cohort
        of one kind of event), the rule reduces to `rule`'s own predicates, or to none."""
        predicates = rule._predicates()

        def keep(t: ibis.Table, x: ExtractLike) -> ibis.Value | tuple[ibis.Value, ...]:
            constant = constant_of(t[column])
            if constant is VARIES:
                return (t[column] != value) | _every(predicates(t, x))
            return predicates(t, x) if constant == value else ()

        return cls(f"{label}: {rule.description}", keep)


@dataclass(frozen=True)
class Exit:
    """How membership ends: `apply(table, extract)` adds exit columns (end dates, censoring flags,
    follow-up counts). An exit never drops rows; a rule does that, so the attrition shows it."""

    description: str
    apply: Callable[[ibis.Table, ExtractLike], ibis.Table]


@dataclass(frozen=True)
class Cohort:
    """A declared cohort: `name`, `entry` events, `rules` applied in order, and an optional `exit`.

    `unit` names what one row is ("ward stays", "referrals", "people"); `person` is the column
    counted as people in the attrition. `parameters` records the values the cohort was declared
    with (footprint, providers, windows...) so a report can print them.
    """

    name: str
    entry: Entry
    rules: tuple[Rule, ...] = ()
    exit: Exit | None = None
    description: str = ""
    unit: str = "rows"
    person: str = "Person_ID"
    parameters: dict = field(default_factory=dict, compare=False)

    def build(self, extract: ExtractLike) -> "BuiltCohort":
        """The cohort on `extract`: an Ibis table (lazy) plus its attrition."""
        table = self.entry.events(extract)
        steps = [(self.entry.description, table)]
        for rule in self.rules:
            table = rule.apply(table, extract)
            steps.append((rule.description, table))
        if self.exit is not None:
            table = self.exit.apply(table, extract)
        return BuiltCohort(cohort=self, table=table, steps=tuple(steps))

    def with_rules(self, *rules: Rule, name: str | None = None, description: str | None = None) -> "Cohort":
        """A new cohort with `rules` appended (same entry and exit)."""
        return Cohort(
            name=name or self.name,
            entry=self.entry,
            rules=self.rules + tuple(rules),
            exit=self.exit,
            description=self.description if description is None else description,
            unit=self.unit,
            person=self.person,
            parameters=dict(self.parameters),
        )


@dataclass(frozen=True)
class BuiltCohort:
    """A cohort applied to an extract. `table` is an Ibis expression; nothing has run yet."""

    cohort: Cohort
    table: ibis.Table
    steps: tuple[tuple[str, ibis.Table], ...]

    def attrition_query(self) -> ibis.Table:
        """Ibis expression: one row per step (`step_number`, `people`, `rows` remaining)."""
        person = self.cohort.person
        parts = [
            table.aggregate(people=table[person].nunique(), rows=table.count()).mutate(step_number=ibis.literal(number))
            for number, (_, table) in enumerate(self.steps)
        ]
        union = parts[0]
        for part in parts[1:]:
            union = union.union(part, distinct=False)
        return union

    @cached_property
    def attrition(self) -> pd.DataFrame:
        """People and rows in, excluded and remaining at each step (step 0 is the entry), as pandas.

        `people_excluded` counts people who lost all their remaining rows at that step. Runs one
        query of counts; no row-level data is materialised.
        """
        counts = self.attrition_query().to_pandas().sort_values("step_number").reset_index(drop=True)
        people = counts["people"].astype("int64").tolist()
        rows = counts["rows"].astype("int64").tolist()
        records = []
        for number, (description, _) in enumerate(self.steps):
            people_in = people[number - 1] if number else people[0]
            rows_in = rows[number - 1] if number else rows[0]
            records.append(
                {
                    "step": number,
                    "criterion": description if number else f"entry: {description}",
                    "people_in": people_in,
                    "rows_in": rows_in,
                    "people_excluded": people_in - people[number],
                    "rows_excluded": rows_in - rows[number],
                    "people_remaining": people[number],
                    "rows_remaining": rows[number],
                }
            )
        return pd.DataFrame.from_records(records, columns=list(ATTRITION_COLUMNS))

    def to_pandas(self) -> pd.DataFrame:
        """The cohort's rows as pandas (row-level data: keep it in the notebook's memory)."""
        return self.table.to_pandas()
