"""Secrets never published: URLs are shown masked, the report's checker refuses credentials, and a
password-protected PostgreSQL (scram-sha-256) is reached through a password in the URL,
PGPASSWORD, a password file or a service, while the password reaches no notebook, manifest, page
or message. A report run validates its warehouse once; its notebooks reuse that validation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.disclosure import check_output_folder
from outcomes.errors import UserError
from outcomes.source import SourceSpec
from outcomes.credentials import find_secrets, has_secret, mask_url, redact_secrets, without_secrets

SCHEMA = "secure"


# --------------------------------------------------------------------------- masking (no server)
@pytest.mark.parametrize(
    "url, masked, bare",
    [
        ("postgresql://analyst:PW@db:5432/outcomes/mhsds", "postgresql://analyst:***@db:5432/outcomes/mhsds",
         "postgresql://analyst@db:5432/outcomes/mhsds"),
        ("postgresql://analyst:p%40ss:word@db/outcomes", "postgresql://analyst:***@db/outcomes", "postgresql://analyst@db/outcomes"),
        ("postgresql://db/outcomes?sslmode=require&password=PW", "postgresql://db/outcomes?sslmode=require&password=***",
         "postgresql://db/outcomes?sslmode=require"),
        ("postgresql://db/outcomes?password=PW&sslmode=require", "postgresql://db/outcomes?password=***&sslmode=require",
         "postgresql://db/outcomes?sslmode=require"),
        ("sc://dbc.cloud:443/;token=dapiPW;x-databricks-cluster-id=01", "sc://dbc.cloud:443/;token=***;x-databricks-cluster-id=01",
         "sc://dbc.cloud:443/;x-databricks-cluster-id=01"),
        ("postgresql:///?service=mhsds", "postgresql:///?service=mhsds", "postgresql:///?service=mhsds"),
        ("sc://127.0.0.1:15002", "sc://127.0.0.1:15002", "sc://127.0.0.1:15002"),
    ],
)
def test_urls_are_shown_masked_and_opened_bare(url, masked, bare):
    assert mask_url(url) == masked and "PW" not in masked
    assert without_secrets(url) == bare
    assert has_secret(url) == (url != masked)
    assert not has_secret(masked)


def test_secrets_found_and_redacted_in_any_text():
    text = ('{"extract": "postgresql://analyst:hunter2@db:5432/x"} postgresql://a:***@db/x '
            'dsn: host=db password=hunter2 user=a; sc://h:443/;token=dapi42')
    assert find_secrets(text) == ["postgresql://analyst:***@db:5432/x", "sc://h:443/;token=***"]
    redacted = redact_secrets(text)
    assert "hunter2" not in redacted and "dapi42" not in redacted and "password=***" in redacted
    assert find_secrets(redacted) == []


def test_secrets_found_in_json_escapes_and_beside_embedded_images():
    image = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUg+/" * 20_000  # a long run of scheme-like characters
    text = image + ' "source": "x = 1\\npostgresql://a:pw@db/x" ' + image
    assert find_secrets(text) == ["npostgresql://a:***@db/x"]  # the escape's n is read as part of the scheme


def test_the_report_checker_refuses_a_credential(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01.ipynb").write_text(json.dumps(
        {"cells": [{"source": 'extract = "postgresql://analyst:hunter2@db:5432/outcomes/mhsds"'}]}))
    (tmp_path / "index.html").write_text("<p>postgresql://analyst:***@db:5432/outcomes/mhsds</p>")
    findings = check_output_folder(tmp_path).findings
    assert [(f.path, f.kind, f.value) for f in findings] == [
        ("notebooks/01.ipynb", "credential", "postgresql://analyst:***@db:5432/outcomes/mhsds")]
    assert "hunter2" not in str(findings[0])


def test_connection_errors_never_show_the_password(capsys):
    from outcomes.cli import main

    assert main(["validate", "--url", "postgresql://nobody:hunter2@127.0.0.1:1/postgres"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect to postgresql://nobody:***@127.0.0.1:1/postgres" in err and "hunter2" not in err


def test_a_run_shares_a_folder_with_its_end_date_and_checks(tiny_extract_dir, monkeypatch):
    """A report's --end-date holds in its notebooks, which do not check the folder again."""
    import datetime as dt
    import os

    import outcomes.source.contract.extract
    from outcomes.source import open_source
    from outcomes.source.share import RUN_SOURCES, share_with_notebooks

    opened = open_source(tiny_extract_dir, end_date="2024-06-30", use_cache=False)
    with share_with_notebooks(opened, SourceSpec(folder=tiny_extract_dir)) as (reference, env):
        assert reference == str(tiny_extract_dir.resolve())
        assert oct(os.stat(env[RUN_SOURCES]).st_mode & 0o777) == "0o600"
        monkeypatch.setenv(RUN_SOURCES, env[RUN_SOURCES])
        monkeypatch.setattr(outcomes.source.contract.extract, "validate_tables", lambda *a, **k: pytest.fail("checked twice in one run"))
        assert open_source(reference).end_date == dt.date(2024, 6, 30)


# --------------------------------------------------------------------------- a password-protected server
@pytest.fixture(scope="module")
def secured(postgres_password_server, small_reference_dir):
    """(URL without password, password, URL with it) of a server holding the small reference extract."""
    from outcomes.source.load import load_extract

    url, password = postgres_password_server
    with_password = url.replace("postgres@", f"postgres:{password}@")
    load_extract(small_reference_dir, with_password, schema=SCHEMA)
    return url, password, with_password


@pytest.mark.engines
def test_the_server_wants_the_password(secured, monkeypatch, tmp_path):
    from outcomes.source import open_source

    url, password, _ = secured
    for variable in ("PGPASSWORD", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))
    with pytest.raises(UserError, match="password authentication failed|no password supplied") as refused:
        open_source(url, schema=SCHEMA)
    assert password not in str(refused.value)


@pytest.mark.engines
def test_password_from_the_url_the_environment_a_password_file_or_a_service(secured, monkeypatch, tmp_path):
    from outcomes.source import open_source

    url, password, with_password = secured
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    for variable in ("PGPASSWORD", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))

    in_url = open_source(with_password, schema=SCHEMA)
    assert password not in in_url.source and "***" in in_url.source

    monkeypatch.setenv("PGPASSWORD", password)
    from_environment = open_source(f"{url}/{SCHEMA}")
    monkeypatch.delenv("PGPASSWORD")

    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{host}:{port}:*:postgres:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    from_password_file = open_source(url, schema=SCHEMA)

    services = tmp_path / "pg_service.conf"
    services.write_text(f"[mhsds]\nhost={host}\nport={port}\nuser=postgres\ndbname=postgres\n")
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    from_service = open_source("postgresql:///?service=mhsds", schema=SCHEMA)

    rows = [int(e["MHS502WardStay"].count().to_pandas()) for e in (in_url, from_environment, from_password_file, from_service)]
    assert len(set(rows)) == 1 and rows[0] > 0


@pytest.mark.engines
def test_notebooks_of_a_run_reuse_its_validation(secured, monkeypatch):
    """Inside a run, the masked reference opens the real URL and does not validate again."""
    import outcomes.source.contract.extract
    from outcomes.source import open_source
    from outcomes.source.share import RUN_SOURCES, share_with_notebooks

    _, password, with_password = secured
    opened = open_source(with_password, schema=SCHEMA)
    with share_with_notebooks(opened, SourceSpec(url=with_password, schema=SCHEMA)) as (reference, env):
        assert password not in reference and reference.endswith(f"/postgres/{SCHEMA}") and ":***@" in reference
        registry = env[RUN_SOURCES]
        monkeypatch.setenv(RUN_SOURCES, registry)

        def validate_again(*args, **kwargs):
            raise AssertionError("validated twice in one run")

        monkeypatch.setattr(outcomes.source.contract.extract, "validate_tables", validate_again)
        again = open_source(reference)
        assert again.end_date == opened.end_date
        assert again.quality.equals(opened.quality)
    assert not __import__("os").path.exists(registry), "the run's private source file outlives the run"


@pytest.mark.engines
def test_report_with_a_password_in_the_url_publishes_no_secret(secured, tmp_path):
    """The user's report of issue 15: `outcomes report --url postgresql://analyst:PASSWORD@...`."""
    from conftest import ROOT

    _, password, with_password = secured
    done = subprocess.run(
        [sys.executable, "-m", "outcomes.cli", "report", "--quarter", "2024Q1", "--url", f"{with_password}/{SCHEMA}",
         "--only", "05", "--notebooks", str(ROOT / "notebooks"), "--reports", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert password not in done.stdout + done.stderr
    published = tmp_path / "2024Q1.partial"
    leaks = [p.relative_to(tmp_path).as_posix() for p in published.rglob("*")
             if p.is_file() and password in p.read_text(encoding="utf-8", errors="replace")]
    assert leaks == []
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["parameters"]["extract"].startswith("postgresql://postgres:***@")
    results = json.loads((published / "results.json").read_text())
    assert results["05_dbt_mirror_image"]["dbt_bed_days"]["value"]["before_n"] == 605


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["://", "postgresql", "sc", "a:pw@h", "/db", " ", "\\n", "x", "9", "+.-", "'", "<",
                                 ";token=t", "?password=p", "http", "A" * 40]), max_size=30).map("".join))
def test_urls_are_found_from_each_separator_as_the_whole_pattern_finds_them(text):
    from outcomes.credentials import _URL, _urls

    assert _urls(text) == [m.group() for m in _URL.finditer(text)]
