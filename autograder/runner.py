"""Run a list of code cells in a fresh (sandboxed) kernel and collect what each cell reported.

Nothing the kernel prints is kept. What comes back per cell is its status, a short error
line, and the probe records emitted by ``dlcourse.checks.Tests`` in probe mode. Probe records
are taken out of the message stream here, in the grader's process, as they arrive; code in
the kernel cannot clear or rewrite them afterwards.
"""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
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


class _JailedKernelManager(AsyncKernelManager):
    sandbox: Sandbox

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
        return None


def run_cells(codes: list[str], limits: Limits, sandbox: Sandbox) -> tuple[list[CellRun], list[str]]:
    """Execute ``codes`` in order in one kernel. Returns one CellRun per cell and notes on the run."""
    return asyncio.run(_run_cells(codes, limits, sandbox))


async def _run_cells(codes: list[str], limits: Limits, sandbox: Sandbox) -> tuple[list[CellRun], list[str]]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in codes])
    km = _JailedKernelManager(kernel_name="python3", transport="ipc",
                              connection_file=str(sandbox.conn_dir / "kernel.json"))
    km.ip = str(sandbox.conn_dir / "k")
    km.sandbox = sandbox
    client = _ProbeClient(nb, km=km, timeout=limits.cell_timeout, allow_errors=True,
                          interrupt_on_timeout=False, startup_timeout=60, iopub_timeout=5,
                          record_timing=False, probe_limit=limits.probe_mb * 2**20)
    notes: list[str] = []
    deadline = time.monotonic() + limits.notebook_timeout
    runs = [CellRun() for _ in codes]
    try:
        async with client.async_setup_kernel(env=sandbox.kernel_env(), cwd=str(sandbox.conn_dir),
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            baseline = sandbox.processes()  # the launcher and the kernel, before any graded code
            for i, cell in enumerate(nb.cells):
                left = deadline - time.monotonic()
                if left <= 1:
                    notes.append("the notebook time limit was reached; the remaining cells were not run")
                    break
                client.timeout = max(1, int(min(limits.cell_timeout, left)))
                client.runs[i] = runs[i]
                try:
                    await asyncio.wait_for(client.async_execute_cell(cell, i), client.timeout + 15)
                except (CellTimeoutError, asyncio.TimeoutError):
                    runs[i].status = "timeout"
                    runs[i].error = f"cell stopped after the {client.timeout} s time limit"
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
                runs[i].status = "error" if runs[i].error else "ok"
    except (DeadKernelError, RuntimeError, TimeoutError, asyncio.TimeoutError) as exc:
        # Kernel start failures and a kernel that dies between cells end up here.
        notes.append(f"kernel stopped: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        sandbox.kill_all()
    return runs, notes


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
