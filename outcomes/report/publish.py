"""Building a report folder beside its target and swapping it in whole, under a per-quarter lock.

Layout under `reports/`:

* `2024Q1/`            the last good report (replaced only by a complete, checked build);
* `2024Q1.failed/`     the last failed build (kept for diagnosis, with every secret the run knows
                       scrubbed out; removed by the next success);
* `.2024Q1.lock`       held while a run of 2024Q1 is in progress (a second run refuses or waits);
* `.2024Q1.tmp-XXXX/`  a build in progress (same file system, so the swap is a rename).

The swap uses Linux's `renameat2(RENAME_EXCHANGE)`, which exchanges the two folders in one atomic
step, so a reader sees either the old report or the new one, never neither; elsewhere (or on a
file system without it) two renames leave a gap of microseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from filelock import FileLock, Timeout

from outcomes.credentials import known_secrets, scrub, secret_hits
from outcomes.errors import UserError

__all__ = ["quarter_lock", "new_build_dir", "swap_in", "keep_failed", "remove_stale", "scrub_secrets"]


@contextmanager
def quarter_lock(reports: Path, label: str, *, wait: bool, stream: TextIO | None = None) -> Iterator[Path]:
    """Hold `reports/.<label>.lock`; refuse at once (UserError) if another run holds it, or wait."""
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f".{label}.lock"
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        if not wait:
            raise UserError(
                f"another run of the {label} report is in progress (lock {path}); "
                "wait for it to finish, or pass --wait to queue behind it"
            ) from None
        print(f"waiting for the other run of {label} to finish (lock {path})...", file=stream or sys.stderr, flush=True)
        lock.acquire(timeout=-1)
    try:
        yield path
    finally:
        lock.release()


def remove_stale(reports: Path, label: str) -> None:
    """Remove builds left by crashed runs of this quarter (call with the lock held)."""
    for stale in list(reports.glob(f".{label}.tmp-*")) + list(reports.glob(f".{label}.old-*")):
        shutil.rmtree(stale, ignore_errors=True)


def new_build_dir(reports: Path, label: str) -> Path:
    """A fresh `reports/.<label>.tmp-XXXX` with the permissions of an ordinary new folder."""
    build = Path(tempfile.mkdtemp(prefix=f".{label}.tmp-", dir=reports))
    umask = os.umask(0o022)
    os.umask(umask)
    os.chmod(build, 0o777 & ~umask)
    return build


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(RENAME_EXCHANGE); False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def swap_in(build: Path, target: Path) -> None:
    """Make `build` the folder at `target`, replacing any previous one in one step."""
    if target.exists():
        if _exchange(build, target):
            shutil.rmtree(build)  # `build` now holds the old report
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
        os.rename(build, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(build, target)


def keep_failed(build: Path, failed: Path) -> None:
    """Move a failed build to `failed` (replacing the previous failed build), its secrets scrubbed
    first (`scrub_secrets`)."""
    scrub_secrets(build)
    if failed.exists():
        shutil.rmtree(failed)
    os.rename(build, failed)


def scrub_secrets(folder: Path) -> list[str]:
    """Replace every form of every secret the run knows (`outcomes.credentials.scrub`) in each
    text file under `folder`, and delete any other file holding one; returns the files changed."""
    if not known_secrets():
        return []
    changed = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        text = data.decode("utf-8", errors="surrogateescape")
        if not secret_hits(text):
            continue
        try:
            data.decode("utf-8")
            path.write_text(scrub(text), encoding="utf-8")
            left = secret_hits(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:  # binary: cannot be scrubbed safely
            left = ["binary"]
        if left:
            path.unlink()
        changed.append(path.relative_to(folder).as_posix())
    return changed
