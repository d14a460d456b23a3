"""Cohort rules an engine can push below a join, and tables shared by the measures of one extract.

* `Rule.only_for` on a column the table holds as one literal (a cohort of one kind of event)
  reduces to its inner rule, or to nothing; `Rule.all_of` gives one filter predicate per rule. The
  rows kept are those of the rule as declared (null counts as false), and DuckDB's plan of crisis
  activity filters the referrals by team type in their scan, below the contacts' join.
* `outcomes.cohort.shared`: the CYPMHS referral intervals, the services' contacts and the ward
  stays are built once per extract object, materialised on DuckDB, new for a cut extract, and every catalogue
  measure gives exactly (check_exact) the frame it gives when nothing is shared.
"""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pytest

from outcomes.cohort import of_known_service_users
from outcomes.cohort.core import VARIES, Rule, constant_of
from outcomes.cohort.crisis import crisis_activity
from outcomes.cohort.referrals import cyp_referral_spans
from outcomes.measures import catalogue
from outcomes.measures.delivery import service_teams, team_contacts
from outcomes.source import open_source

ROWS = pd.DataFrame({
    "kind": ["a", "a", "b", "b", None, "a"],
    "x": [1, None, 1, 2, 1, 3],
    "y": ["p", "p", None, "q", "p", None],
})


def kept(rule: Rule, table: ibis.Table) -> list[int]:
    """Row numbers (`n`) of `table` that pass `rule`."""
    return sorted(rule.apply(table, None).n.to_pandas().tolist())


@pytest.fixture
def rows() -> ibis.Table:
    return ibis.memtable(ROWS.assign(n=range(len(ROWS))))


def test_constant_of_follows_literals_through_filters_and_unions(rows):
    events = rows.select("n", "x", kind=ibis.literal("contact"))
    assert constant_of(events.kind) == "contact"
    assert constant_of(events.filter(events.x > 1).order_by("n").kind) == "contact"
    assert constant_of(events.union(events).kind) == "contact"
    other = rows.select("n", "x", kind=ibis.literal("admission"))
    assert constant_of(events.union(other).kind) is VARIES
    assert constant_of(rows.kind) is VARIES and constant_of(events.x) is VARIES
    assert constant_of(rows.select(kind=ibis.literal(None, "string")).kind) is VARIES


def test_only_for_keeps_the_rows_it_declares_whether_or_not_it_reduces(rows):
    inner = Rule.all_of(Rule.isin("y", ("p",), "y is p"), Rule("x is 1", lambda t, x: t.x == 1))
    rule = Rule.only_for("kind", "a", "kind a", inner)
    # a column that varies: rows of another kind pass; rows of kind a, or of no kind, by the inner rule
    assert kept(rule, rows) == [0, 2, 3, 4]
    # the same column held as a literal: the rule is the inner rule (kind a) or keeps every row (kind b)
    as_a = rows.select("n", "x", "y", kind=ibis.literal("a"))
    as_b = rows.select("n", "x", "y", kind=ibis.literal("b"))
    assert kept(rule, as_a) == [0, 4]
    assert kept(rule, as_b) == list(range(len(ROWS)))
    assert "<>" not in ibis.to_sql(rule.apply(as_a, None)) and "WHERE" not in ibis.to_sql(rule.apply(as_b, None))


def test_all_of_gives_one_predicate_per_rule_and_any_of_combines_them(rows):
    both = Rule.all_of(Rule.isin("y", ("p",), "y is p"), Rule("x is 1", lambda t, x: t.x == 1))
    assert len(both.keep(rows, None)) == 2
    assert kept(both, rows) == [0, 4]
    either = Rule.any_of(both, Rule.isin("kind", ("b",), "kind b"))
    assert kept(either, rows) == [0, 2, 3, 4]


def _scans(plan: list | dict):
    """Every scan node of a DuckDB JSON plan."""
    for node in plan if isinstance(plan, list) else [plan]:
        if "SCAN" in node.get("name", "") or node.get("name") == "READ_PARQUET":
            yield node
        yield from _scans(node.get("children", []))


@pytest.fixture(scope="module")
def reference(small_reference_dir):
    return open_source(small_reference_dir)


def test_crisis_team_filter_reaches_the_referral_scan(reference):
    """The team-type rule of crisis activity is filtered in the referrals' scan, so the care
    contacts join only the crisis teams' referrals (before: a mark join after joining them all)."""
    built = crisis_activity().build(reference)
    sql = ibis.to_sql(built.steps[1][1], dialect="duckdb")
    assert "'crisis_contact' <>" not in sql
    plan = json.loads(reference.con.con.execute(f"EXPLAIN (FORMAT JSON) {sql}").fetchall()[0][1])
    filters = [str(scan.get("extra_info", {}).get("Filters", "")) for scan in _scans(plan)]
    assert any("ServTeamTypeRefToMH" in f for f in filters), filters


def test_shared_tables_are_built_once_per_extract_and_anew_when_cut(small_reference_dir):
    extract = open_source(small_reference_dir)
    spans = cyp_referral_spans(extract)
    assert cyp_referral_spans(extract) is spans
    assert "outcomes_shared" in ibis.to_sql(spans)  # a temporary table on DuckDB, not the join again
    cut = extract.until("2022-06-30")
    spans_cut = cyp_referral_spans(cut)
    assert spans_cut is not spans
    last = {name: pd.Timestamp(table.ReferralRequestReceivedDate.max().to_pandas()) for name, table in
            (("full", spans), ("cut", spans_cut))}
    assert last["cut"] <= pd.Timestamp("2022-06-30") < last["full"]
    events = extract.tables["ECDS"]
    assert of_known_service_users(events, "Arrival_Date", extract).count().to_pandas() > 0
    # a team set outside the shared services is built from the contacts, the same way
    assert not {"C10"} <= set(service_teams())
    assert team_contacts(["C10"])(extract).count().to_pandas() >= 0


def test_every_measure_is_the_same_whether_shared_or_not(small_reference_dir, monkeypatch):
    shared_extract = open_source(small_reference_dir)
    measures = catalogue()
    with_sharing = {name: m.to_pandas(shared_extract) for name, m in measures.items()}
    names = sorted(key[0] for key in shared_extract._outcomes_shared_tables)
    assert names == ["cyp_referral_spans", "cyp_service_contacts", "paired_scores", "ward_stays"]
    for module in ("outcomes.cohort.referrals", "outcomes.cohort.inpatients", "outcomes.measures.delivery"):
        monkeypatch.setattr(f"{module}.shared", lambda extract, name, reads, build, *parameters: build(extract))
    plain = open_source(small_reference_dir)
    for name, measure in measures.items():
        pd.testing.assert_frame_equal(with_sharing[name], measure.to_pandas(plain), check_exact=True, obj=name)
    assert not hasattr(plain, "_outcomes_shared_tables")
