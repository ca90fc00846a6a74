"""Run a list of code cells in a fresh (sandboxed) kernel and collect what each cell reported.

Nothing the kernel prints is kept. What comes back per cell is its status, a short error
line, and the probe records emitted by ``dlcourse.checks.Tests`` in probe mode. Probe records
are taken out of the message stream here, in the grader's process, as they arrive; code in
the kernel cannot clear or rewrite them afterwards.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import nbformat
import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from traitlets import DottedObjectName, Integer, Type
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from autograder.sandbox import Limits, Sandbox
from dlcourse.checks import PROBE_MIME


@dataclass
class CellRun:
    """What happened to one executed cell."""

    status: str = "not run"    # ok | error | timeout | kernel died | not run
    error: str = ""
    probes: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0       # wall time the cell took (the reference run's calibrate limits)
    error_line: int | None = None  # line of the cell where an uncaught error was raised


class _CappedClient(AsyncKernelClient):
    """A kernel client whose sockets refuse any single message above ``max_message_bytes``:
    zmq drops it before it is read, so a kernel flooding its output cannot grow the grader."""

    max_message_bytes = Integer(32 * 2**20)

    def _context_default(self) -> zmq.Context:
        context = super()._context_default()
        context.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        return context


class _JailedKernelManager(AsyncKernelManager):
    sandbox: Sandbox
    client_class = DottedObjectName("autograder.runner._CappedClient")
    client_factory = Type(klass="autograder.runner._CappedClient")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        # -s: no user site-packages. The kernel's cwd is an empty scratch folder, so a
        # numpy.py or sitecustomize.py shipped beside a submission is never importable.
        cmd = [sys.executable, "-s", "-m", "ipykernel_launcher", "-f", self.connection_file]
        return self.sandbox.wrap(cmd)

    async def interrupt_kernel(self) -> None:
        # Ask the kernel to interrupt itself (it signals its own process only). A SIGINT to
        # the process group would reach the sandbox's launcher first and end the sandbox.
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)


class _ProbeClient(NotebookClient):
    """NotebookClient that keeps probe records aside and drops every other output."""

    def __init__(self, *args: Any, probe_limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runs: dict[int, CellRun] = {}
        self.probe_bytes = 0
        self.probe_limit = probe_limit

    def output(self, outs: Any, msg: dict[str, Any], display_id: Any, cell_index: int) -> None:
        run = self.runs.setdefault(cell_index, CellRun())
        content = msg.get("content", {})
        if msg.get("msg_type") == "display_data":
            data = content.get("data", {})
            if isinstance(data, dict) and PROBE_MIME in data:
                record = data[PROBE_MIME]
                size = len(json.dumps(record)) if not isinstance(record, str) else len(record)
                self.probe_bytes += size
                if self.probe_bytes <= self.probe_limit and isinstance(record, dict):
                    run.probes.append(record)
                elif self.probe_bytes > self.probe_limit:
                    run.error = run.error or "results exceeded the size limit; later ones were dropped"
        elif msg.get("msg_type") == "error":
            run.error = f"{str(content.get('ename', ''))[:100]}: {str(content.get('evalue', ''))[:300]}"
            run.error_line = _cell_line(content.get("traceback"))
        return None


_LINE = re.compile(r"(?:line |-+> ?|^\s*)(\d+)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cell_line(traceback_lines: Any) -> int | None:
    """The cell's own line number from an IPython traceback (the "Cell In[n], line k" frame)."""
    if not isinstance(traceback_lines, list):
        return None
    line = None
    for entry in traceback_lines[:50]:
        text = _ANSI.sub("", str(entry)[:5000])
        m = re.search(r"Cell In\[\d*\], line (\d+)", text)
        if m:
            line = int(m.group(1))
    return line


def run_cells(codes: list[str], limits: Limits, sandbox: Sandbox,
              cell_timeouts: list[float] | None = None) -> tuple[list[CellRun], list[str]]:
    """Execute ``codes`` in order in one kernel. Returns one CellRun per cell and notes on the run.

    ``cell_timeouts`` gives each cell its own limit (calibrated from the reference run);
    without it every cell gets ``limits.cell_timeout``."""
    return asyncio.run(_run_cells(codes, limits, sandbox, cell_timeouts))


async def _run_cells(codes: list[str], limits: Limits, sandbox: Sandbox,
                     cell_timeouts: list[float] | None) -> tuple[list[CellRun], list[str]]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in codes])
    km = _JailedKernelManager(kernel_name="python3", transport="ipc",
                              connection_file=str(sandbox.conn_dir / "kernel.json"))
    km.ip = str(sandbox.conn_dir / "k")
    km.sandbox = sandbox
    _CappedClient.max_message_bytes.default_value = limits.message_mb * 2**20
    # raise_on_iopub_timeout: results still in flight when a cell's reply arrives must not be
    # dropped silently (a busy machine delays them); a late stream is a timeout, and retried.
    client = _ProbeClient(nb, km=km, timeout=limits.cell_timeout, allow_errors=True,
                          interrupt_on_timeout=False, startup_timeout=limits.startup_timeout,
                          iopub_timeout=limits.iopub_timeout, raise_on_iopub_timeout=True,
                          record_timing=False, probe_limit=limits.probe_mb * 2**20)
    notes: list[str] = []
    timeouts = cell_timeouts or [limits.cell_timeout] * len(codes)
    deadline = time.monotonic() + limits.notebook_timeout
    runs = [CellRun() for _ in codes]
    try:
        async with client.async_setup_kernel(env=sandbox.kernel_env(), cwd=str(sandbox.conn_dir),
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            baseline = sandbox.processes()  # the launcher and the kernel, before any graded code
            launcher = getattr(getattr(km, "provisioner", None), "pid", None)
            for i, cell in enumerate(nb.cells):
                left = deadline - time.monotonic()
                if left <= 1:
                    notes.append("the notebook time limit was reached; the remaining cells were not run")
                    break
                client.timeout = max(1, int(min(timeouts[i], left)))
                client.runs[i] = runs[i]
                started = time.monotonic()
                try:
                    await asyncio.wait_for(client.async_execute_cell(cell, i),
                                           client.timeout + limits.iopub_timeout + 15)
                except (CellTimeoutError, asyncio.TimeoutError) as exc:
                    runs[i].seconds = time.monotonic() - started
                    runs[i].status = "timeout"
                    late = "IOPub" in str(exc)
                    runs[i].error = (f"the cell's results did not arrive in time, or one message was larger "
                                     f"than the {limits.message_mb} MB limit" if late
                                     else f"cell stopped after the {client.timeout} s time limit")
                    if sandbox.kill_newer_than(baseline):
                        notes.append(f"processes started by cell {i} were stopped after its timeout")
                    if not await _recovered(client):
                        notes.append("the kernel did not respond after a timeout and was stopped")
                        break
                    continue
                except DeadKernelError:
                    runs[i].status = "kernel died"
                    runs[i].error = "the kernel died while running this cell" + (
                        " (out of memory)" if sandbox.out_of_memory() else "")
                    notes.append(f"kernel died in cell {i}{' (out of memory)' if sandbox.out_of_memory() else ''}; "
                                 f"the remaining cells were not run")
                    break
                runs[i].seconds = time.monotonic() - started
                runs[i].status = "error" if runs[i].error else "ok"
    except (DeadKernelError, RuntimeError, TimeoutError, asyncio.TimeoutError) as exc:
        # Kernel start failures and a kernel that dies between cells end up here.
        notes.append(f"kernel stopped: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        sandbox.kill_all()
        _reap(locals().get("launcher"))
    return runs, notes


def _reap(pid: int | None) -> None:
    """Collect the sandbox launcher's exit status. jupyter_client does not always wait for a
    kernel that was killed from outside, and a zombie per notebook piles up over a cohort."""
    if not pid:
        return
    for _ in range(100):
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return  # already reaped
        if done:
            return
        time.sleep(0.05)


async def _recovered(client: _ProbeClient) -> bool:
    """After a timeout: interrupt, then see whether the kernel answers a trivial cell."""
    # nbclient leaves the timed-out cell's output reader running; it would steal the next
    # cells' messages, so stop it first.
    for task in asyncio.all_tasks():
        if getattr(task.get_coro(), "__name__", "") == "_async_poll_output_msg":
            task.cancel()
    try:
        await client.km.interrupt_kernel()
        probe = nbformat.v4.new_code_cell("pass")
        client.timeout = 5
        await asyncio.wait_for(client.async_execute_cell(probe, -1), 10)
        return True
    except Exception:
        return False
