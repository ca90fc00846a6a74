"""Where graded code runs: a kernel in a bubblewrap sandbox with cgroup and rlimit limits.

The kernel sees the filesystem read-only, has no network, no capabilities and its own PID
namespace, cannot see the course folder (solutions, gradebook, other students' work) except
the pieces it needs to import (the virtual environment and the helper package), and writes
only to small memory-backed folders that count against its memory limit.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_V1 = Path("/sys/fs/cgroup")
CGROUP_PARENT = "dlcourse-grader"


@dataclass(frozen=True)
class Limits:
    """Resource limits for one graded notebook."""

    cell_timeout: float = 30.0      # seconds for one cell
    notebook_timeout: float = 600.0  # seconds for the whole notebook, kernel start included
    memory_mb: int = 3072           # RAM + memory-backed scratch space
    max_pids: int = 256             # processes and threads
    file_mb: int = 64               # largest file the code may write
    probe_mb: int = 16              # plain-data results one notebook may send back


class SandboxUnavailable(RuntimeError):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def sandbox_problem() -> str | None:
    """None if sandboxed grading can run here, else why not."""
    if bwrap_path() is None:
        return "bubblewrap (bwrap) is not installed: run `make setup` as root, or apt-get install bubblewrap"
    if os.geteuid() != 0:
        return "sandboxed grading needs root, to set cgroup limits and drop capabilities"
    return None


class Sandbox:
    """One kernel's jail: a connection folder, cgroups, and the command that starts the kernel.

    Use as a context manager; leaving it kills everything still running inside and removes
    the cgroups and scratch folders.
    """

    def __init__(self, limits: Limits, hide: list[Path], reveal: list[Path], enabled: bool = True) -> None:
        self.limits = limits
        self.enabled = enabled
        self.hide = [p.resolve() for p in hide]
        self.reveal = [p.resolve() for p in reveal if p.exists()]
        self.name = f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # Memory-backed, so whatever the kernel writes here counts against its memory limit.
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
        self.conn_dir = Path(tempfile.mkdtemp(prefix="dlcourse-", dir=base))
        self.cgroups: list[Path] = []
        self.notes: list[str] = []

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        if self.enabled:
            self._make_cgroups()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill_all()
        for cg in self.cgroups:
            for _ in range(50):
                try:
                    cg.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        shutil.rmtree(self.conn_dir, ignore_errors=True)

    def _make_cgroups(self) -> None:
        wanted = {
            "memory": {"memory.limit_in_bytes": self.limits.memory_mb * 2**20,
                       "memory.memsw.limit_in_bytes": self.limits.memory_mb * 2**20},
            "pids": {"pids.max": self.limits.max_pids},
        }
        for controller, settings in wanted.items():
            root = CGROUP_V1 / controller
            if not root.is_dir():
                self.notes.append(f"{controller} limit not enforced: no cgroup v1 {controller} controller")
                continue
            cg = root / CGROUP_PARENT / self.name
            try:
                cg.mkdir(parents=True)
            except OSError as exc:
                self.notes.append(f"{controller} limit not enforced: {exc}")
                continue
            self.cgroups.append(cg)
            for key, value in settings.items():
                try:
                    (cg / key).write_text(str(value))
                except OSError:
                    if key != "memory.memsw.limit_in_bytes":  # absent without swap accounting
                        self.notes.append(f"could not set {key}")

    def kill_all(self) -> None:
        """SIGKILL every process left in this run's cgroups (a fork bomb's children too)."""
        for cg in self.cgroups:
            for _ in range(20):
                try:
                    pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)

    def processes(self) -> set[int]:
        """Host PIDs of the processes in this run's cgroup."""
        for cg in self.cgroups:
            try:
                return {int(p) for p in (cg / "cgroup.procs").read_text().split()}
            except OSError:
                continue
        return set()

    def kill_newer_than(self, baseline: set[int]) -> int:
        """SIGKILL processes the graded code started (forks, workers); keep the kernel itself."""
        extra = self.processes() - baseline
        for pid in extra:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(extra)

    def out_of_memory(self) -> bool:
        """Did the kernel hit its memory limit (an OOM kill, or usage reaching the limit)?"""
        for cg in self.cgroups:
            try:
                oom = (cg / "memory.oom_control").read_text()
                if any(line.split()[-1] != "0" for line in oom.splitlines() if line.startswith("oom_kill ")):
                    return True
                if int((cg / "memory.max_usage_in_bytes").read_text()) >= int((cg / "memory.limit_in_bytes").read_text()):
                    return True
            except (OSError, ValueError, IndexError):
                continue
        return False

    # -- the command ----------------------------------------------------------------------
    def kernel_env(self) -> dict[str, str]:
        """A small, fixed environment: nothing tells graded code how it is being run."""
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.work_dir),
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "DLCOURSE_PROFILE": "cpu",
            "DLCOURSE_DEVICE": "cpu",
            "TMPDIR": str(self.work_dir),
            "MPLCONFIGDIR": str(self.work_dir),
        }

    @property
    def work_dir(self) -> Path:
        return Path("/tmp/work") if self.enabled else self.conn_dir / "work"

    def wrap(self, kernel_cmd: list[str]) -> list[str]:
        """Prefix the kernel command so that it starts inside the jail."""
        if not self.enabled:
            self.work_dir.mkdir(exist_ok=True)
            return kernel_cmd
        bwrap = bwrap_path()
        if bwrap is None:
            raise SandboxUnavailable(sandbox_problem())
        args = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL",
                "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--size", str(self.limits.file_mb * 4 * 2**20), "--tmpfs", "/tmp",
                "--size", str(self.limits.file_mb * 2**20), "--tmpfs", "/dev/shm"]
        for path in self.hide:
            if path.exists():
                args += ["--tmpfs", str(path)]
        for path in self.reveal:
            args += ["--ro-bind", str(path), str(path)]
        args += ["--bind", str(self.conn_dir), str(self.conn_dir),
                 "--dir", str(self.work_dir), "--chdir", str(self.work_dir), "--clearenv"]
        for key, value in self.kernel_env().items():
            args += ["--setenv", key, value]
        args += ["--"]
        procs = " ".join(f'echo $$ > "{cg}/cgroup.procs" &&' for cg in self.cgroups)
        # The shell joins the cgroups and sets rlimits before exec'ing bwrap, so every
        # process the kernel ever starts is already inside the limits.
        blocks = self.limits.file_mb * 2048  # ulimit -f counts 512-byte blocks
        script = f'{procs} ulimit -c 0 && ulimit -f {blocks} && ulimit -n 1024 && exec "$@"'
        return ["/bin/sh", "-c", script, "sandbox"] + args + kernel_cmd
