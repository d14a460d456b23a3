"""One-field keys on DuckDB as sorted numpy arrays of their 64-bit hashes: how validation
(`outcomes.source.contract.validation`) finds repeated primary keys and orphan foreign keys there.

DuckDB reads and hashes a key column (`hash`: 8 bytes a key, whatever the key's text) and numpy
sorts the hashes in place, in a worker thread beside DuckDB's next queries: 28 million care
contact hashes sort in 0.3 CPU s, where DuckDB's window over them (each row against the one
before in hash order) took 2.5, and a semi-join of 16 million care activities to them (a hash
table of 28 million entries) 2.4. A primary key repeats only if a hash equals the one before it
(then counted on the values); each distinct hash of a foreign key is looked up once among its
parent's sorted hashes (`np.searchsorted`: 28 million contacts name 4 million people), and its
rows are counted. A parent's sorted hashes are kept for the run: the MPI's are read once for its
ten children, not once per child.

Equal keys have equal hashes, so no repeated key is missed; an orphan whose hash equals one of its
parent's key hashes would be (at most orphans x parent keys / 2^64: under 1e-4 even were all 16
million care activities of the England-scale extract orphans of its 28 million care contacts; none
for an extract without orphans).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import ibis
import ibis.expr.datatypes as idt
import numpy as np
import pyarrow as pa

__all__ = ["KeyHashes", "hash64"]

#: threads sorting and counting beside DuckDB's queries: with one, the last tables' checks waited
#: 2.2 s for the care contacts' and activities' counts at scale 15 while a core was idle, with
#: two 0.2 s. An orphan count waits only for sorts submitted before it, which the pool has then
#: started (it takes tasks in order), so no worker waits on a task no worker runs.
WORKERS = 2


@ibis.udf.scalar.builtin(name="hash")
def hash64(value: str) -> idt.uint64:  # DuckDB's HASH: a 64-bit hash of any value
    ...


class KeyHashes:
    """The sorted key hashes of `tables` (on DuckDB). DuckDB reads a column's hashes when asked
    (`read`); worker threads sort them and count orphans while the caller's next queries run.
    Those of `parents` ((table, column) pairs some foreign key references) are kept for the run.
    `close` when done."""

    def __init__(self, tables: dict[str, ibis.Table], parents: set[tuple[str, str]]):
        self.tables, self.parents = tables, parents
        self._sorted: dict[tuple[str, str], Future] = {}
        self._worker = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="key-hashes")

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
        return self._worker.submit(lambda: _orphans(keys.result(), wanted.result()))

    def close(self) -> None:
        """Wait for the workers and drop every array."""
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
