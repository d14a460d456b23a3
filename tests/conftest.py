"""Shared fixtures: the packaged validation data, a tiny hand-made extract, the small reference extract, engines."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))  # tests/extract_factory.py
# validation stamps of this test session go to a fresh folder, never the user's cache
os.environ["OUTCOMES_CACHE"] = tempfile.mkdtemp(prefix="outcomes-test-cache-")


@pytest.fixture(scope="session")
def validation_data() -> Path:
    """Published data to reproduce, shipped inside the package (outcomes/validation_data)."""
    from outcomes.resources import validation_data_dir

    return validation_data_dir()


@pytest.fixture
def tiny_extract_dir(tmp_path) -> Path:
    """A small valid extract folder (parquet), written fresh for each test."""
    from extract_factory import write_extract

    return write_extract(tmp_path / "extract")


#: scale of the reference extract the test suite shares (about 1,400 ward stays; DBT counts exact)
REFERENCE_SCALE = 0.1


def shared_reference_dir(tmp_path_factory, request, scale: float = REFERENCE_SCALE, history: str = "full") -> Path:
    """A reference extract built once per test session at `scale` and `history` (under pytest-xdist,
    once for all workers: a file lock guards the session's shared temp folder). The full history by
    default: the numbers the tests pin are those of the long, complete history."""
    from filelock import FileLock

    from outcomes.reference import write_reference_extract

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base
    folder = shared / f"reference_scale_{scale}" if history == "full" else shared / f"reference_scale_{scale}_{history}"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "truth.json").is_file():
            write_reference_extract(folder, scale=scale, history=history)
    return folder


@pytest.fixture(scope="session")
def small_reference_dir(tmp_path_factory, request) -> Path:
    """Folder of the session's small reference extract, full history (see `shared_reference_dir`)."""
    return shared_reference_dir(tmp_path_factory, request)


@pytest.fixture(scope="session")
def small_real_history_dir(tmp_path_factory, request) -> Path:
    """Folder of the session's small reference extract with real data history (MHSDS from 2016,
    ECDS from 2017-10 with HES A&E before it, population as published)."""
    return shared_reference_dir(tmp_path_factory, request, history="real")


@pytest.fixture(scope="module")
def postgres_url():
    """URL of a throwaway PostgreSQL server for one test module (skips where it cannot start)."""
    from engines import postgres_server

    try:
        with postgres_server() as url:
            yield url
    except RuntimeError as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def postgres_password_server():
    """(URL without a password, password) of a throwaway PostgreSQL server whose TCP connections
    need the password (scram-sha-256), for one test module."""
    from engines import postgres_server

    password = "s3cret-Pa55"
    try:
        with postgres_server(password=password) as url:
            yield url, password
    except RuntimeError as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def spark_connect_url():
    """`sc://127.0.0.1:PORT` of a local Spark Connect server, started once for one test module."""
    from engines import spark_connect_server

    try:
        with spark_connect_server() as url:
            yield url
    except RuntimeError as reason:
        pytest.skip(str(reason))


@pytest.fixture(scope="module")
def spark():
    """A local-mode Spark session for one test module (skips without Java or pyspark)."""
    from engines import spark_session

    try:
        session = spark_session()
    except RuntimeError as reason:
        pytest.skip(str(reason))
    yield session
