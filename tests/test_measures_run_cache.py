"""A report run's measure cache: the same measure on the same extract and period is computed once
per run and read by the run's other notebooks; never across runs, never for a changed extract."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from outcomes.measures import catalogue, define_measure, sum_bed_days
from outcomes.measures.define import Measure
from outcomes.measures.run_cache import RUN_MEASURES, run_measure_cache
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


@pytest.fixture
def in_run(monkeypatch):
    """Enter a run's cache as a report run does, with its folder in this process's environment."""

    def enter():
        context = run_measure_cache()
        env = context.__enter__()
        monkeypatch.setenv(RUN_MEASURES, env[RUN_MEASURES])
        return context

    return enter


def test_two_notebooks_of_one_run_compute_a_measure_once(tiny_extract_dir, computed, in_run):
    run = in_run()
    first = catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    second = catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")  # another notebook
    assert len(computed) == 1
    pd.testing.assert_frame_equal(first, second)  # the same values and dtypes (month as date, Int64 denominator)
    assert first["numerator"].tolist()[-5:] == [0, 29, 30, 19, 0]
    # another measure, another period or another grouping is a frame of its own
    catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-07-31")
    catalogue()["bed_days"].by("provider").to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    catalogue()["admissions"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    assert len(computed) == 4
    run.__exit__(None, None, None)
    assert not os.path.exists(os.environ[RUN_MEASURES])  # deleted when the run ends


def test_a_second_run_never_reads_the_first_runs_frames(tiny_extract_dir, computed, in_run):
    first_run = in_run()
    catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    first_run.__exit__(None, None, None)
    second_run = in_run()
    catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    second_run.__exit__(None, None, None)
    assert len(computed) == 2


def test_a_changed_extract_or_period_end_never_hits(tiny_extract_dir, computed, in_run):
    run = in_run()
    before = catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    stays = tiny_extract_dir / "MHS502WardStay.parquet"
    table = pd.read_parquet(stays)
    table.iloc[:-1].to_parquet(stays, index=False)  # one ward stay fewer
    after = catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    assert len(computed) == 2
    assert after["numerator"].sum() <= before["numerator"].sum()
    # the extract as it stood at an earlier period end is other data
    catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir).until("2019-07-31"), end="2019-07-31")
    assert len(computed) == 3
    run.__exit__(None, None, None)


def test_outside_a_run_and_for_undeclared_measures_nothing_is_cached(tiny_extract_dir, computed, in_run, monkeypatch):
    monkeypatch.delenv(RUN_MEASURES, raising=False)
    for _ in range(2):
        catalogue()["bed_days"].to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    run = in_run()
    mine = define_measure("bed_days", sum_bed_days(lambda extract: extract.tables["MHS502WardStay"]))
    for _ in range(2):  # a measure declared by hand: no declaration to key it on
        mine.to_pandas(open_source(tiny_extract_dir), end="2019-08-31")
    run.__exit__(None, None, None)
    assert len(computed) == 4
