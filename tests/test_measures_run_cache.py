"""A report run's measure cache: the same measure on the same extract and period is computed once
per run and read by the run's other notebooks; never across runs, never for a changed extract. The
measures get the folder from the notebook's session, never from the environment."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from filelock import FileLock

from outcomes.measures import catalogue, define_measure, sum_bed_days
from outcomes.measures.define import Measure
from outcomes.measures import run_cache
from outcomes.measures.run_cache import RUN_MEASURES, cached_frame, run_measure_cache
from outcomes.source import open_source


@pytest.fixture
def computed(monkeypatch):
    """The (measure, start, end) of every frame actually computed (not read from a cache)."""
    calls: list[tuple[str, str, str]] = []
    original = Measure._compute

    def counting(self, extract, start, end):
        calls.append((self.name, start.isoformat(), end.isoformat()))
        return original(self, extract, start, end)

    monkeypatch.setattr(Measure, "_compute", counting)
    return calls


class _Run:
    """A report run's cache entered as `outcomes.report.build` does; `measures` are the catalogue's
    as a notebook session of the run gives them (`Measure.cached_in` the run's folder)."""

    def __init__(self):
        self.context = run_measure_cache()
        self.folder = self.context.__enter__()[RUN_MEASURES]

    def catalogue(self):
        return {name: measure.cached_in(self.folder) for name, measure in catalogue().items()}

    def __exit__(self, *exc):
        self.context.__exit__(*exc)


@pytest.fixture
def in_run():
    return _Run


def test_two_notebooks_of_one_run_compute_a_measure_once(tiny_extract_dir, computed, in_run):
    run = in_run()
    first = run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    second = run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")  # another notebook
    assert len(computed) == 1
    pd.testing.assert_frame_equal(first, second)  # the same values and dtypes (month as date, Int64 denominator)
    assert first["numerator"].tolist()[-5:] == [0, 29, 30, 19, 0]
    # another measure, another period or another grouping is a frame of its own
    run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-07-31")
    run.catalogue()["bed_days"].by("provider").to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    run.catalogue()["admissions"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    assert len(computed) == 4
    run.__exit__(None, None, None)
    assert not os.path.exists(run.folder)  # deleted when the run ends


def test_a_second_run_never_reads_the_first_runs_frames(tiny_extract_dir, computed, in_run):
    first_run = in_run()
    first_run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    first_run.__exit__(None, None, None)
    second_run = in_run()
    second_run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    second_run.__exit__(None, None, None)
    assert len(computed) == 2


def test_a_changed_extract_or_period_end_never_hits(tiny_extract_dir, computed, in_run):
    run = in_run()
    before = run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    stays = tiny_extract_dir / "MHS502WardStay.parquet"
    table = pd.read_parquet(stays)
    table.iloc[:-1].to_parquet(stays, index=False)  # one ward stay fewer
    after = run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    assert len(computed) == 2
    assert after["numerator"].sum() <= before["numerator"].sum()
    # the extract as it stood at an earlier period end is other data
    run.catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir).until("2019-07-31"))
    assert len(computed) == 3
    run.__exit__(None, None, None)


def test_outside_a_run_and_for_undeclared_measures_nothing_is_cached(tiny_extract_dir, computed, in_run, monkeypatch):
    run = in_run()
    monkeypatch.setenv(RUN_MEASURES, run.folder)  # the kernels' environment is no channel to the measures
    for _ in range(2):
        catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    mine = define_measure("bed_days", sum_bed_days(lambda extract: extract.tables["MHS502WardStay"])).cached_in(run.folder)
    for _ in range(2):  # a measure declared by hand: no declaration to key it on
        mine.to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    run.__exit__(None, None, None)
    assert len(computed) == 4


def test_a_notebook_session_gives_its_measures_the_runs_cache(tiny_extract_dir, computed, in_run, monkeypatch, tmp_path):
    from outcomes import notebook

    run = in_run()
    monkeypatch.setenv(RUN_MEASURES, run.folder)  # as outcomes.report sets it in the kernels
    namespace = {"extract": str(tiny_extract_dir), "period_end": "2019-08-31", "footprint": None, "providers": None,
                 "output_dir": str(tmp_path / "out")}
    sessions = [notebook.start(name, dict(namespace)) for name in ("01_bed_days", "09_spc_dashboard")]
    assert all(s.measure_cache == Path(run.folder) for s in sessions)
    frames = [s.measures["bed_days"].to_pandas(s.extract) for s in sessions]
    assert len(computed) == 1
    pd.testing.assert_frame_equal(*frames)
    run.__exit__(None, None, None)
    monkeypatch.delenv(RUN_MEASURES)
    alone = notebook.start("01_bed_days", dict(namespace))  # JupyterLab: no run, nothing cached
    assert alone.measure_cache is None and alone.measures["bed_days"].cache is None


def test_a_frame_being_computed_is_waited_for_not_computed_again(tmp_path):
    """Two notebooks asking for the same frame at once: the second waits for the first's and reads it."""
    started, computed, frames = threading.Event(), [], []

    def slow():
        computed.append(threading.current_thread().name)
        started.set()
        time.sleep(0.5)
        return pd.DataFrame({"month": ["2024-01"], "numerator": [len(computed)]})

    first = threading.Thread(target=lambda: frames.append(cached_frame(tmp_path, {"m": 1}, slow)), name="first")
    first.start()
    assert started.wait(5)
    frames.append(cached_frame(tmp_path, {"m": 1}, slow))  # asks while the first is computing
    first.join()
    assert computed == ["first"]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not list(tmp_path.glob("*.tmp"))


def test_a_lock_held_too_long_is_not_waited_for(tmp_path, monkeypatch):
    """A frame whose lock outlives LOCK_SECONDS is computed anyway: a run never hangs on the cache."""
    monkeypatch.setattr(run_cache, "LOCK_SECONDS", 0.2)
    key = {"m": 2}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    held = FileLock(tmp_path / f".{digest}.lock", thread_local=False)
    held.acquire()
    result = []
    waiter = threading.Thread(target=lambda: result.append(
        run_cache.cached_frame(tmp_path, key, lambda: pd.DataFrame({"numerator": [7]}))))
    waiter.start()
    waiter.join(10)
    held.release()
    assert result and result[0]["numerator"].tolist() == [7]
