"""Kernels kept warm between a report's notebooks: one per worker, reset before each notebook.

In a fresh kernel each notebook pays about 1 s to start the kernel and 2-4 s to import pandas,
matplotlib, ibis and statsmodels, most of a report's run time. So each worker thread of
`outcomes.report.runner` keeps one kernel and runs its notebooks one after another in it, passing
it to papermill as nbclient's `km` (a kernel nbclient did not start, it leaves running). Before
each notebook the kernel is put back as a fresh one would be (`outcomes.report.kernel_state`:
empty namespace, execution count 1, figures closed, settings, warning filters, environment and
working directory restored), and given the notebook's own environment. A notebook that fails, or
whose kernel dies, takes the kernel with it: the next notebook starts a new one. `outcomes report
--fresh-kernels` runs every notebook in a kernel of its own instead.

Hand-written: papermill starts and stops a kernel per notebook and has no pool of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

__all__ = ["WarmKernel", "KernelPreparationError", "HISTORY_IN_MEMORY"]

#: as nbclient starts kernels: IPython history kept in memory, never in ~/.ipython
HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"


class KernelPreparationError(RuntimeError):
    """The kernel could not be put back as fresh before a notebook."""


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

    def ready(self, environ: dict[str, str]):
        """A started kernel's manager, put back as fresh, with `environ` set in its environment."""
        from jupyter_core.utils import run_sync

        if self.km is not None and not run_sync(self.km.is_alive)():
            self.discard()
        just_started = self.km is None
        if just_started:
            km = self._new_manager()
            self.km = km  # kept before starting, so a kernel that fails to start is still shut down
            run_sync(km.start_kernel)(extra_arguments=[HISTORY_IN_MEMORY], cwd=str(self.cwd))
            self.started += 1
            self.notebooks = 0
        code = ("__import__('outcomes.report.kernel_state', fromlist=['fresh_notebook'])"
                f".fresh_notebook({dict(environ)!r}, {str(self.cwd)!r})")
        self._execute(code, just_started=just_started)
        self.notebooks += 1
        return self.km

    def _execute(self, code: str, *, just_started: bool) -> None:
        """Run `code` in the kernel and wait for its reply on the shell channel only: its output is
        not wanted, and waiting for IOPub (as `execute_interactive` and `wait_for_ready` do) costs
        0.2 s or more a notebook. A kernel just started is first waited for (alive, answering)."""
        import time
        from queue import Empty

        client = self.km.blocking_client()
        client.start_channels()
        try:
            if just_started:
                client.wait_for_ready(timeout=self.start_timeout)
            msg_id = client.execute(code, silent=True, store_history=False)
            deadline = time.monotonic() + self.reset_timeout
            while True:
                try:
                    reply = client.get_shell_msg(timeout=1)
                except Empty:
                    if time.monotonic() > deadline or not client.is_alive():
                        raise KernelPreparationError("preparing the kernel: no reply (kernel dead or busy)") from None
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
        finally:
            client.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise KernelPreparationError(f"preparing the kernel: {content.get('ename')}: {content.get('evalue')}")

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
