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
from outcomes.credentials import (find_secrets, forget_secrets, has_secret, mask_url, redact_secrets, remember_url,
                                  scrub, secret_forms, secret_hits, without_secrets)

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

    spec = SourceSpec(folder=tiny_extract_dir, end_date="2024-06-30", end_date_beyond_data=True)
    opened = open_source(spec, use_cache=False)
    with share_with_notebooks(opened, SourceSpec(folder=tiny_extract_dir)) as (reference, env):
        assert reference == str(tiny_extract_dir.resolve())
        assert not os.path.exists(env[RUN_SOURCES][:200]) and json.loads(env[RUN_SOURCES])  # in the environment, no file
        monkeypatch.setenv(RUN_SOURCES, env[RUN_SOURCES])
        monkeypatch.setattr(outcomes.source.contract.extract, "validate_tables", lambda *a, **k: pytest.fail("checked twice in one run"))
        assert open_source(reference).end_date == dt.date(2024, 6, 30)
        stays = tiny_extract_dir / "MHS502WardStay.parquet"  # replaced during the run: a notebook stops
        replacement = stays.with_name("replacement.parquet")
        replacement.write_bytes(stays.read_bytes())
        replacement.replace(stays)
        with pytest.raises(UserError, match="MHS502WardStay.parquet changed during the report run"):
            open_source(reference)
    assert [p.name for p in opened.changed_files()] == []  # same bytes: the report's own check (sha256) passes
    stays.write_bytes(stays.read_bytes()[:-1] + b"\0")
    assert [p.name for p in opened.changed_files()] == ["MHS502WardStay.parquet"]


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


# --------------------------------------------------------------------------- secrets by value (issue 23)
#: the passwords of issue 23, with fragments that must not survive either (what a pattern left)
PASSWORDS = {
    "p@ss4": ["@ss4"],
    'pa ss"6': ['ss"6', "pa ss"],
    "pa'ss<w>rd3": ["'ss<w>rd3", "ss<w>", "<w>rd3"],
    "Plain2Secret9": ["Plain2Secret9"],
}


def _leaks(text: str, password: str) -> list[str]:
    """Which of the password's forms, or its fragments' forms, `text` holds."""
    return sorted({form for value in [password, *PASSWORDS[password]] for form in secret_forms(value) if form in text})


@pytest.mark.parametrize("password", list(PASSWORDS))
def test_a_password_of_any_shape_is_parsed_masked_and_scrubbed_by_value(password):
    url = f"postgresql://analyst:{password}@db.nhs.uk:5432/outcomes/mhsds"
    query = f"postgresql://db.nhs.uk/outcomes?sslmode=require&password={password}"
    assert mask_url(url) == "postgresql://analyst:***@db.nhs.uk:5432/outcomes/mhsds"
    assert mask_url(query) == "postgresql://db.nhs.uk/outcomes?sslmode=require&password=***"
    from outcomes.source.engines import postgres_arguments

    assert postgres_arguments(url)["password"] == password and postgres_arguments(url)["schema"] == "mhsds"
    assert postgres_arguments(query)["password"] == password
    forget_secrets()
    try:
        remember_url(url)
        page = (f"<td>{__import__('html').escape(url)}</td> {json.dumps(url)} {__import__('urllib.parse').parse.quote(password)} "
                f"{url!r} {json.dumps(repr(url))}")
        assert secret_hits(page) and _leaks(page, password)
        assert _leaks(scrub(page), password) == [] and secret_hits(scrub(page)) == []
        assert _leaks(redact_secrets(f"cannot connect: {url}"), password) == []
    finally:
        forget_secrets()


@pytest.mark.parametrize("name", ["auth_token", "private_key_passphrase", "credentials_base64", "x-databricks-token",
                                  "password", "token"])
def test_every_secret_parameter_is_masked_and_detected(name):
    for url in (f"sc://dbc.cloud:443/;{name}=dapiSECRET42;x-databricks-cluster-id=01",
                f"postgresql://db/outcomes?{name}=dapiSECRET42&sslmode=require"):
        assert "dapiSECRET42" not in mask_url(url) and f"{name}=***" in mask_url(url)
        assert "dapiSECRET42" not in without_secrets(url) and has_secret(url)
        assert find_secrets(f"see {url} here") == [mask_url(url)]


@pytest.mark.parametrize("url, why", [("postgresql://analyst@db:99999/x", "Port out of range"),
                                      ("postgresql://analyst@[::1/x", "Invalid IPv6 URL"),
                                      ("postgresql://analyst:pw@db:port/x", "Port could not be cast")])
def test_a_bad_port_or_ipv6_address_is_a_clear_error(url, why, capsys):
    from outcomes.cli import main

    assert main(["validate", "--url", url]) == 2
    err = capsys.readouterr().err
    assert why in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err and ":pw@" not in err


def test_a_duckdb_url_is_a_clear_error(capsys, tmp_path):
    from outcomes.cli import main

    assert main(["validate", "--url", f"duckdb:///{tmp_path}/x.db"]) == 2
    assert "give the extract's folder" in capsys.readouterr().err


def test_the_console_is_scrubbed_of_every_form_of_a_remembered_secret():
    import io

    from outcomes.credentials import ScrubbedStream

    forget_secrets()
    try:
        remember_url('postgresql://a:pa ss"6@h/db')
        out = io.StringIO()
        stream = ScrubbedStream(out)
        stream.write('error: password "pa ss')  # a secret split across writes
        stream.write('\\"6" rejected; pa%20ss%226\n')
        stream.write("tail pa ss&quot;6")
        stream.flush()
        assert _leaks(out.getvalue(), 'pa ss"6') == [] and out.getvalue().count("***") == 3
    finally:
        forget_secrets()


def test_leftovers_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    import os

    from outcomes.workspace import remove_dead_runs

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f"outcomes-run-{dead.stdout.strip()}-measures-x").mkdir()
    (tmp_path / f"outcomes-run-{dead.stdout.strip()}-kernels-y").mkdir()
    (tmp_path / f"outcomes-run-{os.getpid()}-measures-z").mkdir()
    (tmp_path / "outcomes-run-sources-old").mkdir()  # an older version's, which did not record its process
    assert sorted(remove_dead_runs(tmp_path)) == [f"outcomes-run-{dead.stdout.strip()}-kernels-y",
                                                  f"outcomes-run-{dead.stdout.strip()}-measures-x",
                                                  "outcomes-run-sources-old"]
    assert [p.name for p in tmp_path.iterdir()] == [f"outcomes-run-{os.getpid()}-measures-z"]


def test_a_failed_build_keeps_no_secret(tmp_path):
    from outcomes.report.publish import keep_failed

    build = tmp_path / ".2024Q1.tmp-x"
    (build / "notebooks").mkdir(parents=True)
    (build / "notebooks" / "01.ipynb").write_text(json.dumps({"text": "postgresql://a:pa'ss<w>rd3@h/db"}))
    (build / "notebooks" / "01.html").write_text("<pre>pa&#x27;ss&lt;w&gt;rd3</pre>")
    (build / "figure.png").write_bytes(b"\x89PNG\xff\xfe pa'ss<w>rd3")
    forget_secrets()
    try:
        remember_url("postgresql://a:pa'ss<w>rd3@h/db")
        keep_failed(build, tmp_path / "2024Q1.failed")
    finally:
        forget_secrets()
    left = {p.relative_to(tmp_path / "2024Q1.failed").as_posix(): p.read_text(errors="replace")
            for p in (tmp_path / "2024Q1.failed").rglob("*") if p.is_file()}
    assert sorted(left) == ["notebooks/01.html", "notebooks/01.ipynb"]  # the binary file holding it is deleted
    assert all(_leaks(text, "pa'ss<w>rd3") == [] for text in left.values())


def _leak_notebook(folder):
    """A notebook that prints the real URL its run hands it (as a careless analysis might)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('extract = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import json, os\nsources = json.loads(os.environ['OUTCOMES_RUN_SOURCES'])\n"
                                          "print([entry['url'] for entry in sources.values()])\n"
                                          "raise RuntimeError(list(sources.values())[0]['url'])")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(folder / "99_leak.ipynb"))


@pytest.fixture(scope="module")
def analysts(secured):
    """{password: URL with it} of one role per password of issue 23, each able to read the extract."""
    import psycopg
    from psycopg import sql

    url, _, with_password = secured
    parts = __import__("outcomes.source.engines", fromlist=["x"]).postgres_arguments(with_password)
    urls = {}
    with psycopg.connect(host=parts["host"], port=parts["port"], user="postgres", password=parts["password"],
                         dbname="postgres", autocommit=True) as con:
        for number, password in enumerate(PASSWORDS, start=1):
            role = f"analyst{number}"
            con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
            con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), sql.Identifier(role)))
            con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), sql.Identifier(role)))
            urls[password] = url.replace("postgres@", f"{role}:{password}@") + f"/{SCHEMA}"
    return urls


def _run_dirs(pid: int) -> list[str]:
    import tempfile
    from pathlib import Path

    return [p.name for p in Path(tempfile.gettempdir()).glob(f"outcomes-run-{pid}-*")]


@pytest.mark.engines
@pytest.mark.parametrize("password", list(PASSWORDS))
def test_no_password_of_any_shape_is_left_anywhere_by_a_report_run(analysts, password, tmp_path):
    """Issue 23: `outcomes report --url postgresql://analyst:PASSWORD@...` with a notebook that
    shows the real URL: the run refuses to publish, and no form of the password nor of a fragment
    of it is on the console or in any file the run leaves (the failed build included)."""
    import shutil

    from conftest import ROOT

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(ROOT / "notebooks" / "05_dbt_mirror_image.ipynb", notebooks)
    _leak_notebook(notebooks)
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "outcomes.cli", "report", "--quarter", "2024Q1", "--url", analysts[password],
         "--notebooks", str(notebooks), "--reports", str(reports), "--jobs", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1, err[-2000:]
    assert "REFUSED" in err or "FAILED" in err
    assert _leaks(out + err, password) == []
    left = {p.relative_to(tmp_path).as_posix(): p.read_text(encoding="utf-8", errors="replace")
            for p in reports.rglob("*") if p.is_file()}
    assert "reports/2024Q1.failed/notebooks/05_dbt_mirror_image.html" in left
    assert {name: _leaks(text, password) for name, text in left.items() if _leaks(text, password)} == {}
    assert _run_dirs(process.pid) == []


@pytest.mark.engines
def test_sigterm_mid_run_leaves_no_secret_on_disk(analysts, tmp_path):
    """SIGTERM (timeout, schedulers, CI) mid-run stops it as Ctrl-C does: exit 143, no build, no
    temporary folder of the run, no secret in any file it leaves."""
    import signal
    import time

    import nbformat

    password = "pa'ss<w>rd3"
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    started = tmp_path / "started"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('extract = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(f"open({str(started)!r}, 'w').close()\nimport time\ntime.sleep(120)")]
    nbformat.write(nb, str(notebooks / "01_slow.ipynb"))
    reports = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "outcomes.cli", "report", "--quarter", "2024Q1", "--url", analysts[password],
         "--notebooks", str(notebooks), "--reports", str(reports)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not started.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert started.exists(), process.communicate()[1][-2000:]
    assert _run_dirs(process.pid), "the run keeps its measure cache and kernels' files in folders of its own"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143 and "terminated" in err, err[-2000:]
    assert _run_dirs(process.pid) == []
    assert [p.name for p in reports.iterdir() if p.name.startswith(".2024Q1.tmp")] == []
    left = [p for p in reports.rglob("*") if p.is_file()]
    assert all(_leaks(p.read_text(errors="replace"), password) == [] for p in left) and _leaks(out + err, password) == []


@pytest.mark.engines
def test_a_schema_that_does_not_exist_is_a_clear_error(secured, capsys):
    from outcomes.cli import main

    _, password, with_password = secured
    assert main(["validate", "--url", f"{with_password}/no_such_schema"]) == 2
    err = capsys.readouterr().err
    assert "does the schema exist?" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert password not in err
