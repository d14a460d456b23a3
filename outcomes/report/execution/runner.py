"""Running notebooks with papermill: on the project's kernel, in parallel, with progress.

Notebooks run `jobs` at a time, each worker taking the next notebook in the order given. A worker
keeps one kernel for its notebooks, reset before each (`outcomes.report.execution.warm_kernels`), unless
`reuse_kernels=False` gives every notebook a kernel of its own. Kernels start from the
kernelspec named "outcomes" (registered by `make install`), whatever kernel the notebook file
names. If that kernelspec is missing, or names a Python that no longer exists, a temporary
kernelspec running this interpreter (`sys.executable`) stands in, so tests and CI work without
registering anything. A notebook learns where it writes from its `output_dir` parameter (its
session, `outcomes.notebook`, binds the recorders to it); its kernel has the run's variables,
`PYTHONHASHSEED=0` (reproducible set/dict order) and BLAS/OpenMP threads capped so that parallel
kernels do not oversubscribe the cores. Kernel
stderr (not the notebook's outputs, which go in the notebook) is kept in a private log and
quoted if a kernel dies.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager

from outcomes.report.execution.warm_kernels import WarmKernel, answered_client_class

__all__ = ["KERNEL_NAME", "NotebookJob", "NotebookRun", "CellFailure", "Progress", "KernelRegistry", "run_notebook",
           "available_cores", "kernel_environment", "kernel_manager_class", "kernel_spec_dirs", "quiet_papermill"]

#: the project's kernelspec (`python -m ipykernel install --sys-prefix --name outcomes`)
KERNEL_NAME = "outcomes"
#: cell tags that are papermill's or ours, never a cell's "name"
SYSTEM_TAGS = {"parameters", "injected-parameters", "papermill-error-cell-tag", "key-figure",
               "remove-cell", "remove-output", "remove-input"}
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")


#: seconds to wait for a finished cell's outputs (`output_timeout`)
OUTPUT_TIMEOUT = 60


def available_cores() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# ----------------------------------------------------------------------------- results of a run
@dataclass
class CellFailure:
    """Where and how a notebook failed."""

    cell: int | None  #: 1-based position of the cell in the source notebook (None: not a cell)
    cell_name: str | None  #: the cell's first own tag, else its first line of code
    ename: str
    evalue: str

    def describe(self) -> str:
        where = "" if self.cell is None else f"cell {self.cell}" + (f' "{self.cell_name}"' if self.cell_name else "") + " raised "
        return f"{where}{self.ename}: {self.evalue}".strip()


@dataclass
class NotebookJob:
    """One notebook to run: where from, where to, with what."""

    name: str
    source: Path
    output: Path  #: the executed .ipynb
    output_dir: Path  #: the notebook's own folder for results, figures, tables
    parameters: dict[str, Any]


@dataclass
class NotebookRun:
    """What happened to one notebook."""

    name: str
    status: str  #: "done" or "failed"
    seconds: float
    failure: CellFailure | None = None
    kernel_log: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "done"


# ----------------------------------------------------------------------------- progress display
class Progress:
    """Per-notebook status lines: redrawn in place on a terminal, one plain line per event otherwise."""

    def __init__(self, names: list[str], stream: TextIO | None = None, tty: bool | None = None):
        self.names = list(names)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.state = {name: ("waiting", None, None, "") for name in self.names}  # status, start, seconds, note
        self.width = max((len(n) for n in self.names), default=8)
        self._lock = threading.Lock()
        self._drawn = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> "Progress":
        if self.tty:
            self._draw()
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join()
        if self.tty:
            with self._lock:
                self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()

    def _line(self, name: str) -> str:
        status, start, seconds, note = self.state[name]
        if status == "running":
            seconds = time.perf_counter() - start
        shown = "" if seconds is None else f"{seconds:6.1f} s"
        return f"  {name:<{self.width}}  {status:<8} {shown}{('  ' + note) if note else ''}"

    def _draw(self) -> None:
        lines = [self._line(n) for n in self.names]
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")  # back to the first line of the block
        self.stream.write("".join(f"\x1b[2K{line}\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def _update(self, name: str, status: str, start=None, seconds=None, note: str = "") -> None:
        with self._lock:
            self.state[name] = (status, start, seconds, note)
            if self.tty:
                self._draw()
            else:
                self.stream.write(self._line(name).rstrip() + "\n")
                self.stream.flush()

    def started(self, name: str) -> None:
        self._update(name, "running", start=time.perf_counter())

    def finished(self, run: NotebookRun) -> None:
        note = run.failure.describe() if run.failure else ""
        self._update(run.name, run.status, seconds=run.seconds, note=note[:100])


# ----------------------------------------------------------------------------- the kernel
def kernel_spec_dirs(kernel_name: str, scratch: Path) -> tuple[list[str] | None, str]:
    """(kernel dirs to search or None for the default ones, description) for `kernel_name`."""
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
        python = spec.argv[0] if spec.argv else ""
        if not os.path.isabs(python) or os.path.exists(python):
            return None, f"{kernel_name} ({python})"
        reason = f"kernelspec {kernel_name!r} names {python}, which does not exist"
    except NoSuchKernel:
        reason = f"kernelspec {kernel_name!r} is not registered"
    folder = scratch / "kernels" / kernel_name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python ({kernel_name}, fallback)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return [str(folder.parent)], f"{kernel_name} (fallback: {reason}; using {sys.executable})"


class KernelRegistry:
    """The kernels started by one run, so that an interrupted run can stop them (and start no more)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.managers: set = set()
        self.cancelled = False

    def add(self, km) -> None:
        with self._lock:
            self.managers.add(km)
            cancelled = self.cancelled
        if cancelled:  # started while the run was being cancelled
            self._kill(km)

    def cancel(self) -> None:
        """Start no more kernels and kill those running."""
        with self._lock:
            self.cancelled = True
            managers = list(self.managers)
        for km in managers:
            self._kill(km)

    @staticmethod
    def _kill(km) -> None:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)
            except (OSError, AttributeError):
                process.kill()


class _OutcomesKernelManager(AsyncKernelManager):
    """A kernel manager that adds environment variables and logs the kernel's stderr to a file."""

    extra_env: dict[str, str] = {}
    spec_dirs: list[str] | None = None
    stderr_path: str | None = None
    registry: KernelRegistry | None = None

    def __init__(self, **kw: Any) -> None:
        if self.stderr_path and "connection_file" not in kw:  # beside its log, in the run's own folder
            kw["connection_file"] = str(Path(self.stderr_path).parent / f"kernel-{uuid.uuid4()}.json")
        if self.spec_dirs and "kernel_spec_manager" not in kw:
            kw["kernel_spec_manager"] = KernelSpecManager(kernel_dirs=list(self.spec_dirs))
        super().__init__(**kw)
        self.clients: list = []  #: clients nbclient made; it leaves them connected to a kernel it did not start
        self.answered = False  #: set by a WarmKernel once the kernel has answered (its clients skip a wait)
        self.client_factory = answered_client_class()

    def client(self, **kw: Any):  # type: ignore[override]
        made = super().client(**kw)
        self.clients.append(made)
        return made

    async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
        env = dict(kw.pop("env", None) or os.environ)
        env.update(self.extra_env)
        kw["env"] = env
        if self.registry is not None and self.registry.cancelled:
            raise RuntimeError("the run was interrupted")
        if self.stderr_path:
            kw["stderr"] = open(self.stderr_path, "ab")  # noqa: SIM115 - the child holds its own copy
        try:
            return await super().start_kernel(**kw)
        finally:
            if self.stderr_path:
                kw["stderr"].close()
            if self.registry is not None:
                self.registry.add(self)


def kernel_manager_class(env: dict[str, str], spec_dirs, stderr_path: Path, registry: KernelRegistry):
    attrs = {"extra_env": env, "spec_dirs": spec_dirs, "stderr_path": str(stderr_path), "registry": registry}
    return type("OutcomesKernelManager", (_OutcomesKernelManager,), attrs)


# ----------------------------------------------------------------------------- one notebook
def _cell_name(cell) -> str | None:
    tags = [t for t in cell.get("metadata", {}).get("tags", []) if t not in SYSTEM_TAGS]
    if tags:
        return tags[0]
    name = cell.get("metadata", {}).get("name")
    if name:
        return str(name)
    for line in str(cell.get("source", "")).splitlines():
        line = line.strip()
        if line:
            return line[:60] + ("..." if len(line) > 60 else "")
    return None


def _locate(source_nb, executed_nb, index: int | None) -> tuple[int | None, str | None]:
    """(1-based position in the source notebook, name) of the executed notebook's cell `index`."""
    if index is None or executed_nb is None or not (0 <= index < len(executed_nb.cells)):
        return None, None
    cell = executed_nb.cells[index]
    cell_id = cell.get("id")
    for position, candidate in enumerate(source_nb.cells, start=1):
        if cell_id and candidate.get("id") == cell_id:
            return position, _cell_name(candidate)
    return index + 1, _cell_name(cell)


def _failed_cell_index(executed, fallback: int | None) -> int | None:
    """The cell that raised, counted in the notebook as papermill wrote it: papermill's own index
    is into the notebook before it inserted its error banner cells."""
    if executed is None:
        return fallback
    for index, cell in enumerate(executed.cells):
        if cell.cell_type == "code" and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return index
    return fallback


def _tail(path: Path, lines: int = 15, start: int = 0) -> str:
    """The last `lines` lines of the log at `path` written after byte `start`."""
    try:
        with open(path, "rb") as log:
            log.seek(start)
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    keep = [line for line in text.splitlines() if "without encryption" not in line]
    return "\n".join(keep[-lines:])


def run_notebook(job: NotebookJob, *, kernel_name: str, env: dict[str, str], spec_dirs, scratch: Path,
                 registry: KernelRegistry, cwd: Path, start_timeout: int = 120, kernel: WarmKernel | None = None,
                 stderr_path: Path | None = None) -> NotebookRun:
    """Execute one notebook with papermill; never raises for a failing notebook.

    `env` (the run's variables) is added to its kernel's environment. With `kernel` (a
    worker's `WarmKernel`, whose kernel logs to `stderr_path`) the notebook runs in that kernel, put
    back as fresh first, and a failure discards the kernel; without, in a kernel of its own started
    for it (in `cwd`) and shut down after."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    job.output.parent.mkdir(parents=True, exist_ok=True)
    job.output_dir.mkdir(parents=True, exist_ok=True)
    if kernel is None:
        stderr_path = scratch / f"{job.name}.kernel.log"
        own = {"cwd": str(cwd), "kernel_manager_class": kernel_manager_class(
            env, spec_dirs, stderr_path, registry)}
    log_start = stderr_path.stat().st_size if stderr_path and stderr_path.exists() else 0
    started = time.perf_counter()
    failure = None
    try:
        if kernel is not None:
            own = {"km": kernel.ready(env)}
        papermill.execute_notebook(
            str(job.source),
            str(job.output),
            parameters=job.parameters,
            kernel_name=kernel_name,
            language="python",
            progress_bar=False,
            start_timeout=start_timeout,
            iopub_timeout=output_timeout(),
            **own,
        )
    except PapermillExecutionError as error:
        source_nb = nbformat.read(job.source, as_version=4)
        executed = nbformat.read(job.output, as_version=4) if job.output.exists() else None
        cell, name = _locate(source_nb, executed, _failed_cell_index(executed, error.cell_index))
        message = str(error.evalue).strip().splitlines()
        failure = CellFailure(cell, name, error.ename, message[0] if message else "")
    except Exception as error:  # noqa: BLE001 - a dead kernel, a timeout, a bad notebook file
        message = str(error).strip().splitlines()
        failure = CellFailure(None, None, type(error).__name__, message[0] if message else "")
    seconds = time.perf_counter() - started
    if kernel is not None:
        kernel.disconnect_clients()
    run = NotebookRun(job.name, "failed" if failure else "done", seconds, failure)
    if failure and failure.cell is None:
        run.kernel_log = _tail(stderr_path, start=log_start)
    if failure and kernel is not None:
        kernel.discard()  # the next notebook gets a new kernel
    return run


def output_timeout() -> int:
    """Seconds to wait for a cell's last output after it finished (nbclient's `iopub_timeout`,
    4 s by default, failed notebooks on a loaded machine): `$OUTCOMES_OUTPUT_TIMEOUT`, else
    OUTPUT_TIMEOUT."""
    value = os.environ.get("OUTCOMES_OUTPUT_TIMEOUT", "")
    try:
        seconds = int(value) if value else OUTPUT_TIMEOUT
    except ValueError:
        seconds = OUTPUT_TIMEOUT
    return max(1, seconds)


# ----------------------------------------------------------------------------- many notebooks
def kernel_environment(jobs: int) -> dict[str, str]:
    """Variables added to every kernel's environment."""
    env = {"PYTHONHASHSEED": "0"}
    threads = str(max(1, available_cores() // max(1, jobs)))
    for variable in THREAD_VARIABLES:
        if variable not in os.environ:
            env[variable] = threads
    return env


@contextmanager
def quiet_papermill() -> Iterator[None]:
    """papermill warns about each injected parameter a notebook does not declare: the contract
    test covers that; keep the terminal for progress."""
    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
