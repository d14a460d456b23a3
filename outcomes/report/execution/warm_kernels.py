"""Kernels kept warm between a report's notebooks: one per worker, reset before each notebook.

In a fresh kernel each notebook pays about 1 s to start the kernel and 2-4 s to import pandas,
matplotlib, ibis and statsmodels, most of a report's run time. So each worker thread of
`outcomes.report.execution.runner` keeps one kernel and runs its notebooks one after another in it, passing
it to papermill as nbclient's `km` (a kernel nbclient did not start, it leaves running). Before
each notebook the kernel is put back as a fresh one would be (`outcomes.report.execution.kernel_state`:
empty namespace, execution count 1, figures closed, settings, warning filters, environment and
working directory restored), and given the notebook's own environment. A notebook that fails, or
whose kernel dies, takes the kernel with it: the next notebook starts a new one. `outcomes report
--fresh-kernels` runs every notebook in a kernel of its own instead.

Hand-written: papermill starts and stops a kernel per notebook and has no pool of its own.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Callable

__all__ = ["WarmKernel", "KernelPreparationError", "answered_client_class", "HISTORY_IN_MEMORY", "WARM_UP_MODULES"]

#: as nbclient starts kernels: IPython history kept in memory, never in ~/.ipython
HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"
#: imported as a kernel starts, while the report opens its extract: what nearly every notebook
#: imports (the statistics modules, which only some use, are left to those)
WARM_UP_MODULES = ("pandas", "matplotlib.pyplot", "ibis", "duckdb", "outcomes.source.open", "outcomes.measures",
                   "outcomes.figures.plots", "outcomes.results", "outcomes.disclosure", "outcomes.programme")


class KernelPreparationError(RuntimeError):
    """The kernel could not be put back as fresh before a notebook."""


@functools.cache
def answered_client_class():
    """The client class for kernels a `WarmKernel` has prepared (built on first use: it imports
    jupyter_client's asynchronous client)."""
    from jupyter_client.asynchronous import AsyncKernelClient

    class AnsweredKernelClient(AsyncKernelClient):
        """nbclient's client for a kernel that has already answered a request (a warm kernel, just
        reset): its readiness is proven without `wait_for_ready`'s 0.2 s of listening for IOPub.

        What has to be proven is this client's IOPub subscription (a cell's outputs published
        before it would be lost): it asks for the kernel's info until the kernel's "idle" status
        for that very request arrives on IOPub, typically at the first asking. A kernel that has
        not answered yet is waited for as jupyter_client does."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            from queue import Empty

            if not getattr(self.parent, "answered", False):
                return await super().wait_for_ready(timeout=timeout)
            deadline = time.monotonic() + (timeout or 60)
            while time.monotonic() < deadline:
                msg_id = self.kernel_info()
                try:
                    while (await self.get_shell_msg(timeout=5))["parent_header"].get("msg_id") != msg_id:
                        pass
                    while True:
                        message = await self.get_iopub_msg(timeout=0.05)
                        if (message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "status"
                                and message["content"].get("execution_state") == "idle"):
                            return None
                except Empty:  # IOPub not subscribed in time for this request: ask again
                    continue
            raise RuntimeError(f"kernel did not answer on IOPub within {timeout} s")

    return AnsweredKernelClient


class WarmKernel:
    """One worker's kernel: started on first use, reset before each notebook, replaced after a
    failure. `new_manager()` makes an (unstarted) kernel manager; kernels start in `cwd`."""

    def __init__(self, new_manager: Callable[[], object], cwd: Path, *, start_timeout: float = 120,
                 reset_timeout: float = 120):
        self._new_manager = new_manager
        self.cwd = Path(cwd)
        self.start_timeout = start_timeout
        self.reset_timeout = reset_timeout
        self.km = None
        self.started = 0  #: kernels started so far
        self.notebooks = 0  #: notebooks prepared in the current kernel

    def start(self, modules: tuple[str, ...] = WARM_UP_MODULES, while_starting: Callable[[], None] | None = None) -> None:
        """Start the kernel now, and import `modules` in it (`kernel_state.warm_up`); call
        `while_starting()` (in this process) while the kernel starts."""
        if self.km is None:
            self._launch()
        if while_starting is not None:
            while_starting()
        self._execute(f"__import__('outcomes.report.execution.kernel_state', fromlist=['warm_up']).warm_up({list(modules)!r})")

    def _launch(self) -> None:
        from jupyter_core.utils import run_sync

        km = self._new_manager()
        self.km = km  # kept before starting, so a kernel that fails to start is still shut down
        run_sync(km.start_kernel)(extra_arguments=[HISTORY_IN_MEMORY], cwd=str(self.cwd))
        self.started += 1
        self.notebooks = 0

    def ready(self, environ: dict[str, str]):
        """A started kernel's manager, put back as fresh, with `environ` set in its environment."""
        from jupyter_core.utils import run_sync

        if self.km is not None and not run_sync(self.km.is_alive)():
            self.discard()
        if self.km is None:
            self._launch()
        code = ("__import__('outcomes.report.execution.kernel_state', fromlist=['fresh_notebook'])"
                f".fresh_notebook({dict(environ)!r}, {str(self.cwd)!r})")
        self._execute(code)
        self.notebooks += 1
        return self.km

    def _execute(self, code: str) -> None:
        """Run `code` in the kernel and wait for its reply on the shell channel only: its output is
        not wanted, and waiting for IOPub (as `execute_interactive` and `wait_for_ready` do) costs
        0.2 s or more a notebook. A kernel that has not answered yet is first waited for. Between
        waits the kernel's process is checked, so a kernel that dies (or is killed because the run
        stopped) is noticed within half a second, not after the heartbeat gives up."""
        client = self.km.blocking_client()
        client.start_channels()
        try:
            if not getattr(self.km, "answered", False):
                deadline = time.monotonic() + self.start_timeout
                while self._reply(client, client.kernel_info(), deadline=min(deadline, time.monotonic() + 1)) is None:
                    if time.monotonic() > deadline:
                        raise KernelPreparationError(f"the kernel did not answer within {self.start_timeout:g} s")
            reply = self._reply(client, client.execute(code, silent=True, store_history=False),
                                deadline=time.monotonic() + self.reset_timeout)
            if reply is None:
                raise KernelPreparationError(f"preparing the kernel: no reply within {self.reset_timeout:g} s")
        finally:
            client.stop_channels()
        self.km.answered = True  # later requests, and nbclient's client for the notebook, skip the long wait
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise KernelPreparationError(f"preparing the kernel: {content.get('ename')}: {content.get('evalue')}")

    def _reply(self, client, msg_id: str, *, deadline: float) -> dict | None:
        """The shell reply to `msg_id`, or None at `deadline`; KernelPreparationError if the kernel's
        process has ended."""
        from queue import Empty

        from jupyter_core.utils import run_sync

        while time.monotonic() < deadline:
            try:
                reply = client.get_shell_msg(timeout=0.5)
            except Empty:
                if not run_sync(self.km.is_alive)():
                    raise KernelPreparationError("preparing the kernel: the kernel's process ended") from None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply
        return None

    def disconnect_clients(self) -> None:
        """Close the connections nbclient opened to the kernel for a notebook (it closes them only
        for kernels it started itself); the kernel keeps running."""
        for client in getattr(self.km, "clients", []):
            try:
                client.stop_channels()
            except Exception:  # noqa: BLE001 - already closed
                pass
        if self.km is not None and hasattr(self.km, "clients"):
            self.km.clients.clear()

    def discard(self) -> None:
        """Shut the kernel down now (the next `ready` starts another)."""
        from jupyter_core.utils import run_sync

        self.disconnect_clients()
        km, self.km = self.km, None
        if km is None:
            return
        try:
            run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already dead, or never started: nothing left to stop
            pass
