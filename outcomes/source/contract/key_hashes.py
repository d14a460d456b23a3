"""One-field keys on DuckDB as sorted numpy arrays of their 64-bit hashes: how validation
(`outcomes.source.contract.validation`) finds repeated primary keys and the orphans of a table
smaller than its parent.

DuckDB reads and hashes a key column (`hash`: 8 bytes a key, whatever the key's text) and numpy
sorts the hashes: 28 million care contact hashes sort in 0.8 CPU s, where DuckDB's sort (a window
over them) took 2.5 and a hash table of them (a semi-join of 16 million care activities) 2.4. A
primary key repeats only if a hash equals the one before it (then counted on the values); a
foreign key's hashes, sorted, are looked up in the parent's (`np.searchsorted`, in order, so the
parent's array is walked once). A parent's sorted hashes are kept for the run: the MPI's are read
once for its ten children, not once per child, and serve as the build side of the semi-joins of
larger children (`parent_table`). Equal keys have equal hashes, so no repeat is missed; an orphan
is missed only if its hash equals one of its parent's (`outcomes.source.contract.validation._key`).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import ibis
import ibis.expr.datatypes as idt
import numpy as np
import pyarrow as pa

__all__ = ["KeyHashes", "hash64"]


@ibis.udf.scalar.builtin(name="hash")
def hash64(value: str) -> idt.uint64:  # DuckDB's HASH: a 64-bit hash of any value
    ...


class KeyHashes:
    """The sorted key hashes of `tables` (on DuckDB). DuckDB reads a column's hashes when asked
    (`read`); a worker thread sorts them and counts orphans while the caller's next queries run, so
    numpy's single thread works beside DuckDB's. Those of `parents` ((table, column) pairs some
    foreign key references) are kept for the run. `close` when done."""

    def __init__(self, tables: dict[str, ibis.Table], parents: set[tuple[str, str]]):
        self.tables, self.parents = tables, parents
        self._sorted: dict[tuple[str, str], Future] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="key-hashes")

    def read(self, table: str, column: str) -> None:
        """Read the hashes of `table.column`'s non-null values now; they are sorted beside."""
        if (table, column) in self._sorted:
            return
        data = self.tables[table]
        query = ibis.to_sql(data.filter(data[column].notnull()).select(h=hash64(data[column])), dialect="duckdb")
        hashes = data.get_backend().con.sql(query).to_arrow_table().column("h")  # as DuckDB made them
        self._sorted[(table, column)] = self._worker.submit(_sorted, hashes)

    def _take(self, table: str, column: str) -> Future:
        self.read(table, column)
        key = (table, column)
        return self._sorted[key] if key in self.parents else self._sorted.pop(key)

    def repeats(self, table: str, column: str) -> int:
        """Rows whose key hash equals the one before in hash order: 0 proves the key does not repeat."""
        hashes = self._take(table, column).result()
        return int(np.count_nonzero(hashes[1:] == hashes[:-1]))

    def orphans(self, table: str, column: str, parent: str, to: str) -> Future:
        """Rows of `table` whose `column` is given and whose hash is none of `parent.to`'s, counted
        beside (a future int)."""
        keys, wanted = self._take(parent, to), self._take(table, column)
        # one worker runs tasks in order: both sorts were submitted before this count
        return self._worker.submit(lambda: _orphans(keys.result(), wanted.result()))

    def close(self) -> None:
        """Wait for the worker and drop every array."""
        self._worker.shutdown(wait=True)
        self._sorted.clear()


def _sorted(hashes: pa.ChunkedArray) -> np.ndarray:
    values = hashes.to_numpy()  # the chunks joined: a new, writable array (a single chunk: a view)
    if not values.flags.writeable:
        values = values.copy()
    values.sort()  # in place: a copy of 28 million hashes costs as much as sorting them
    return values.astype(np.uint64, copy=False)


def _orphans(keys: np.ndarray, wanted: np.ndarray) -> int:
    """How many of the sorted `wanted` are not in the sorted `keys`: each distinct value is looked
    up once (28 million care contacts name 4 million people)."""
    if not len(wanted) or not len(keys):
        return len(wanted)
    starts = np.flatnonzero(np.concatenate(([True], wanted[1:] != wanted[:-1])))
    distinct = wanted[starts]
    at = np.minimum(np.searchsorted(keys, distinct), len(keys) - 1)
    missing = keys[at] != distinct
    if not missing.any():
        return 0
    rows = np.diff(np.append(starts, len(wanted)))
    return int(rows[missing].sum())
