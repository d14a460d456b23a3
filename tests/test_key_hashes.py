"""Key hashes sorted in numpy (outcomes.source.contract.key_hashes): repeats and orphans counted
exactly as pandas counts them on the values, with repeated, missing and empty keys."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from outcomes.source.contract.key_hashes import KeyHashes


def _keys(tables: dict[str, pd.DataFrame]) -> KeyHashes:
    con = ibis.duckdb.connect()
    as_text = {name: pa.Table.from_pandas(frame, schema=pa.schema([(c, pa.string()) for c in frame.columns]),
                                          preserve_index=False) for name, frame in tables.items()}
    return KeyHashes({name: con.create_table(name, table) for name, table in as_text.items()}, {("parent", "id")})


def _pandas_orphans(child: pd.Series, parent: pd.Series) -> int:
    return int((child.notna() & ~child.isin(parent.dropna())).sum())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_orphans_and_repeats_are_pandas_counts(seed):
    """A child naming 20,000 parents, many rows each; orphans planted several times over (each row
    counted, as the aggregate counted them), empty foreign keys not counted, a parent key repeated."""
    rng = np.random.default_rng(seed)
    parent = pd.Series([f"P{i}" for i in range(20_000)] + [None], dtype=object)
    child = pd.Series(rng.choice(parent.dropna().to_numpy(), 100_000), dtype=object)
    child[rng.choice(len(child), 300, replace=False)] = rng.choice(["X1", "X2", "X3", "P20000", "p1"], 300)
    child[rng.choice(len(child), 50, replace=False)] = None
    keys = _keys({"parent": pd.DataFrame({"id": parent}), "child": pd.DataFrame({"id": child, "ref": child})})
    try:
        expected = _pandas_orphans(child, parent)
        assert 250 <= expected <= 300  # the planted ones that a later None did not overwrite
        assert keys.orphans("child", "ref", "parent", "id").result() == expected
        assert keys.repeats("parent", "id") == 0
        assert keys.repeats("child", "id") == int(child.dropna().duplicated().sum()) > 0
    finally:
        keys.close()


def test_no_orphans_without_parent_keys_means_every_given_key():
    parent = pd.DataFrame({"id": pd.Series([None, None], dtype=object)})
    child = pd.DataFrame({"ref": ["A", "A", None, "B"]})
    keys = _keys({"parent": parent, "child": child})
    try:
        assert keys.orphans("child", "ref", "parent", "id").result() == 3
        assert keys.repeats("parent", "id") == 0
    finally:
        keys.close()


def test_an_empty_child_has_no_orphans():
    keys = _keys({"parent": pd.DataFrame({"id": ["A"]}), "child": pd.DataFrame({"ref": pd.Series([None], dtype=object)})})
    try:
        assert keys.orphans("child", "ref", "parent", "id").result() == 0
    finally:
        keys.close()


def test_a_key_repeated_once_is_one_repeat():
    keys = _keys({"parent": pd.DataFrame({"id": ["A", "B", "C", "B", "D", "B"]})})
    try:
        assert keys.repeats("parent", "id") == 2  # B three times: two rows equal the one before
    finally:
        keys.close()
