"""Workers that run a report's notebooks, `jobs` at a time, each with its kernel started early.

`NotebookPool` starts its workers at once: each starts its kernel and imports what nearly every
notebook imports (`outcomes.report.execution.warm_kernels.WARM_UP_MODULES`) while the report is still
taking its lock and opening and validating the extract, so the first notebooks do not wait for
pandas, matplotlib and Ibis. `run` then hands it the notebooks, in the order to start them, and
returns their runs in the order given. A worker runs its notebooks one after another in its
kernel, reset before each (`outcomes.report.execution.warm_kernels`), or each in a kernel of its own with
`reuse_kernels=False`. `run_notebooks` is the one-call form.

Hand-written: papermill runs one notebook per call and nbclient one per kernel it is handed; the
pool, the order and the early start are the report's.
"""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from outcomes.report.execution.runner import (KERNEL_NAME, CellFailure, NotebookJob, NotebookRun, Progress, KernelRegistry,
                                    kernel_manager_class, kernel_spec_dirs, quiet_papermill, kernel_environment,
                                    run_notebook)
from outcomes.report.execution.warm_kernels import WARM_UP_MODULES, WarmKernel
from outcomes.workspace import run_temporary

__all__ = ["NotebookPool", "run_notebooks"]


@dataclass
class _Batch:
    """One `run` call: its notebooks, what to do with each, and their runs as they finish."""

    jobs: list[NotebookJob]
    env: dict[str, str]
    progress: Progress
    after: Callable[[NotebookJob, NotebookRun], None] | None
    runs: list[NotebookRun | None] = field(default_factory=list)
    remaining: int = 0
    done: threading.Event = field(default_factory=threading.Event)


def _import_papermill() -> None:
    """papermill and nbformat imported before the first notebook's timing starts (0.3 s)."""
    import nbformat  # noqa: F401
    import papermill  # noqa: F401


class NotebookPool:
    """`jobs` workers in `cwd` on kernel `kernel_name`, started (with their kernels, when reused)
    as the pool is made. Use as a context manager: leaving it stops the workers and their kernels."""

    def __init__(self, *, jobs: int, cwd: Path, kernel_name: str = KERNEL_NAME, reuse_kernels: bool = True,
                 warm_up: tuple[str, ...] = WARM_UP_MODULES):
        self.jobs = max(1, jobs)
        self.cwd = Path(cwd)
        self.kernel_name = kernel_name
        self.reuse_kernels = reuse_kernels
        self.registry = KernelRegistry()
        self.base_env = kernel_environment(self.jobs)
        # kernels' logs and connection files: removed at close, or by the next run if this one is killed
        self.scratch = run_temporary("kernels")
        self.spec_dirs, self.kernel_description = kernel_spec_dirs(kernel_name, self.scratch)
        self._waiting: list[tuple[_Batch, int]] = []
        self._condition = threading.Condition()
        self._closed = False
        self._quiet = quiet_papermill()
        self._quiet.__enter__()
        self._executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="notebook")
        self._workers = [self._executor.submit(self._work, number, warm_up) for number in range(self.jobs)]

    def __enter__(self) -> "NotebookPool":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            self.registry.cancel()  # interrupted or failed: no new kernels, running ones killed
        self.close()

    # ------------------------------------------------------------------------- the workers
    def _next(self) -> tuple[_Batch, int] | None:
        with self._condition:
            while not self._waiting and not self._closed:
                self._condition.wait()
            if self._closed or self.registry.cancelled:
                return None
            return self._waiting.pop(0)

    def _work(self, number: int, warm_up: tuple[str, ...]) -> None:
        log = self.scratch / f"worker-{number}.kernel.log"
        kernel = None
        if self.reuse_kernels:
            new_manager = kernel_manager_class(self.base_env, self.spec_dirs, log, self.registry)
            kernel = WarmKernel(lambda: new_manager(kernel_name=self.kernel_name), self.cwd)
            try:
                kernel.start(warm_up, while_starting=_import_papermill)
            except Exception:  # noqa: BLE001 - the first notebook starts another and reports what fails
                kernel.discard()
        else:
            _import_papermill()
        try:
            while (item := self._next()) is not None:
                batch, index = item
                self._run_one(batch, index, kernel, log)
        finally:
            if kernel is not None:
                kernel.discard()

    def _run_one(self, batch: _Batch, index: int, kernel: WarmKernel | None, log: Path) -> None:
        job = batch.jobs[index]
        batch.progress.started(job.name)
        run = run_notebook(job, kernel_name=self.kernel_name, env={**self.base_env, **batch.env},
                           spec_dirs=self.spec_dirs, scratch=self.scratch, registry=self.registry, cwd=self.cwd,
                           kernel=kernel, stderr_path=log)
        if batch.after is not None:
            try:
                batch.after(job, run)
            except Exception as error:  # noqa: BLE001 - rendering failed: the notebook failed
                run.status = "failed"
                run.failure = run.failure or CellFailure(None, None, type(error).__name__,
                                                         f"rendering {job.name}: {error}")
        batch.progress.finished(run)
        with self._condition:
            batch.runs[index] = run
            batch.remaining -= 1
            if batch.remaining == 0:
                batch.done.set()

    # ------------------------------------------------------------------------- running
    def run(self, jobs_list: list[NotebookJob], *, env: dict[str, str] | None = None,
            progress: Progress | None = None, after: Callable[[NotebookJob, NotebookRun], None] | None = None,
            start_order: list[str] | None = None) -> list[NotebookRun]:
        """Run every notebook, starting them in `start_order` (names; default: the given order, see
        `outcomes.report.execution.schedule`); return the runs in the given order.

        `env` is added to every notebook's kernel environment (the report's private source
        reference and measure cache). `after(job, run)` is called in the worker once a notebook has
        finished (the report renders its HTML there, while other notebooks run)."""
        if not jobs_list:
            return []
        batch = _Batch(list(jobs_list), dict(env or {}), progress or Progress([j.name for j in jobs_list]), after)
        batch.runs = [None] * len(batch.jobs)
        batch.remaining = len(batch.jobs)
        order = list(range(len(batch.jobs)))
        if start_order is not None:
            rank = {name: i for i, name in enumerate(start_order)}
            order.sort(key=lambda i: rank.get(batch.jobs[i].name, len(rank)))
        with self._condition:
            if self._closed:
                raise RuntimeError("the notebook pool is closed")
            self._waiting.extend((batch, i) for i in order)
            self._condition.notify_all()
        while not batch.done.wait(0.5):  # in slices, so that Ctrl-C reaches this thread
            if not any(not worker.done() for worker in self._workers):
                raise RuntimeError("every notebook worker stopped before the notebooks ran")
            for worker in self._workers:
                if worker.done() and worker.exception() is not None:
                    raise worker.exception()
        return [run for run in batch.runs if run is not None]

    def close(self) -> None:
        """Stop the workers (after the notebook each is running) and their kernels."""
        with self._condition:
            if self._closed:
                return
            self._closed = True
            self._waiting.clear()
            self._condition.notify_all()
        self._executor.shutdown(wait=True)
        self._quiet.__exit__(None, None, None)
        shutil.rmtree(self.scratch, ignore_errors=True)


def run_notebooks(
    jobs_list: list[NotebookJob],
    *,
    jobs: int,
    cwd: Path,
    kernel_name: str = KERNEL_NAME,
    progress: Progress | None = None,
    after: Callable[[NotebookJob, NotebookRun], None] | None = None,
    env: dict[str, str] | None = None,
    reuse_kernels: bool = True,
    start_order: list[str] | None = None,
) -> tuple[list[NotebookRun], str]:
    """Run every notebook, `jobs` at a time (`NotebookPool.run`); return (runs in the given
    order, kernel description)."""
    with NotebookPool(jobs=min(jobs, len(jobs_list)) or 1, cwd=cwd, kernel_name=kernel_name,
                      reuse_kernels=reuse_kernels) as pool:
        runs = pool.run(jobs_list, env=env, progress=progress, after=after, start_order=start_order)
    return runs, pool.kernel_description
