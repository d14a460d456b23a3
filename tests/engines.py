"""Engines beyond the embedded DuckDB, for cross-engine tests: a throwaway PostgreSQL server (trust
or password authentication), a local-mode Spark session and a local Spark Connect server. Each
skips with a clear reason where it cannot run here."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path | None:
    """Folder of Debian's PostgreSQL server binaries (initdb, pg_ctl), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_server(settings: dict[str, str] | None = None, password: str | None = None):
    """Start PostgreSQL on a loopback port in a temporary data directory; yield its URL.

    `settings` are extra server settings (e.g. {"work_mem": "256MB"}, for benchmarks). With
    `password`, the `postgres` user has that password and TCP connections must give it
    (scram-sha-256 authentication); the URL yielded carries no password. Raises RuntimeError (the
    caller skips) when the server binaries are missing or cannot start. PostgreSQL refuses to run
    as root, so as root the server runs as the `postgres` user.
    """
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (Debian package postgresql; .ci/system-packages installs it)")
    root = Path(tempfile.mkdtemp(prefix="outcomes-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root without runuser: cannot start PostgreSQL as another user")
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    log = root / "server.log"
    auth = ["--auth=trust"]
    if password is not None:
        secret = root / "password"
        secret.write_text(password + "\n")
        if as_user:
            shutil.chown(secret, "postgres")
        auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={secret}"]
    try:
        subprocess.run(as_user + [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", *auth, "-E", "UTF8", "--locale=C"],
                       check=True, capture_output=True)
        subprocess.run(
            as_user + [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start",
                       "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                             + "".join(f" -c {key}={value}" for key, value in (settings or {}).items())],
            check=True, capture_output=True,
        )
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or [""]
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail[0]}") from None
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def spark_session():
    """The local-mode Spark session the product starts (`outcomes.source.engines.local_spark_session`)
    with 2 threads and 2 GB, Spark's own defaults otherwise (ANSI SQL on, as on Databricks); or
    RuntimeError to skip (the product's own UserError: no Java, no pyspark). The session outlives the module: a later module in the same worker
    reuses it instead of starting another JVM."""
    from outcomes.errors import UserError
    from outcomes.source.engines import local_spark_session

    started = time.perf_counter()
    try:
        session = local_spark_session(threads=2, memory="2g")
    except UserError as error:
        raise RuntimeError(str(error)) from None
    session.outcomes_start_seconds = time.perf_counter() - started
    return session


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.5)
    return False


@contextmanager
def spark_connect_server(memory: str = "1g", threads: int = 2):
    """Start a local Spark Connect server (the jar pyspark 4 ships) on a loopback port; yield its
    URL, `sc://127.0.0.1:PORT`. The server is a JVM of its own, as a Databricks cluster is to its
    clients; tables written there go to a temporary warehouse folder. Raises RuntimeError (the
    caller skips) without Java, pyspark's connect client (grpcio) or when it does not start."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise RuntimeError("Java is not installed: Spark Connect needs Java 17")
    try:
        import grpc  # noqa: F401
        import pyspark
    except ImportError as missing:
        raise RuntimeError(f"the Spark Connect client is not installed (the engines extra): {missing}") from None
    spark_home = Path(pyspark.__file__).parent
    root = Path(tempfile.mkdtemp(prefix="outcomes-spark-connect-"))
    port = _free_port()
    env = dict(os.environ, SPARK_HOME=str(spark_home), SPARK_LOCAL_IP="127.0.0.1")
    command = [
        str(spark_home / "bin" / "spark-submit"), "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--master", f"local[{threads}]", "--name", "outcomes-spark-connect",
        "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.driver.memory={memory}", "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.session.timeZone=UTC", "--conf", f"spark.sql.shuffle.partitions={2 * threads}",
        "--conf", f"spark.sql.warehouse.dir={root / 'warehouse'}",
        "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={root}",
        "spark-internal",
    ]
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not _wait_for_port(port, process, seconds=180):
            tail = (root / "server.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError("Spark Connect server did not start: " + " | ".join(tail))
        yield f"sc://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(process.pid, 15)
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            os.killpg(process.pid, 9)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
