"""Provenance of a report (manifest.json): what code, what data, what parameters, how long.

The manifest is where everything that differs between two runs of the same quarter lives (the
generation time, timings, the machine), so that `results.json` can stay byte-identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from outcomes import __version__

__all__ = ["KEY_PACKAGES", "git_state", "library_versions", "sha256_file", "build_manifest"]

#: distributions whose versions can change a result or a page
KEY_PACKAGES = (
    "outcomes", "pandas", "numpy", "scipy", "statsmodels", "lifelines", "ibis-framework", "duckdb",
    "pyarrow", "pandera", "matplotlib", "seaborn", "tableone", "papermill", "nbconvert", "nbclient",
    "nbformat", "ipykernel", "jupyter_client",
)


def sha256_file(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_state(root: Path | None) -> dict[str, Any]:
    """{'commit': sha or None, 'dirty': bool or None} of the repository at `root` (None: an
    installed package, which has no repository)."""
    if root is None:
        return {"commit": None, "dirty": None}

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_manifest(
    *,
    root: Path | None,
    quarter: str,
    period_start: str,
    period_end: str,
    status: str,
    extract: Any,
    parameters: dict[str, Any],
    notebooks: list[dict[str, Any]],
    kernel: str,
    jobs: int,
    seconds: float,
    generated: dt.datetime,
    only: list[str] | None,
) -> dict[str, Any]:
    """The manifest as a dict (written as JSON by the caller)."""
    lock = root / "requirements.lock" if root else None
    return {
        "report": {
            "quarter": quarter,
            "period_start": period_start,
            "period_end": period_end,
            "status": status,
            "partial": bool(only),
            "only": only or None,
            "generated": generated.isoformat(timespec="seconds"),
            "wall_seconds": round(seconds, 2),
        },
        "package": {"name": "outcomes", "version": __version__, **git_state(root)},
        "requirements_lock_sha256": sha256_file(lock),
        "extract": {
            "source": str(extract.source),
            "end_date": extract.end_date.isoformat(),
            "metadata": {str(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in extract.metadata.items()},
            "files_sha256": dict(sorted(extract.file_hashes().items())),
        },
        "parameters": parameters,
        "notebooks": notebooks,
        "execution": {
            "kernel": kernel,
            "jobs": jobs,
            "machine": platform.machine(),
            "platform": platform.platform(terse=True),
            "executable": sys.executable,
        },
        "versions": library_versions(),
    }
