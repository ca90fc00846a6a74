"""Where graded code runs: a kernel in a bubblewrap sandbox with cgroup and rlimit limits.

The kernel's filesystem is built from an allow-list, not from the host's root minus a
deny-list: the Python install and the system libraries it links against, the virtual
environment, the course's `dlcourse`, `datasets` and `lessons`, a minimal /etc written for
the run, and empty scratch space. Nothing else on the host exists inside: no other copy of
the course, no home folders, no cohort. All of it is read-only except the scratch folders,
which are small memory-backed filesystems (their size is capped and counts against the
memory limit). The kernel has no network, no capabilities and its own PID namespace.
Memory and process limits use cgroup v2 where the host has it, else cgroup v1.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1 = CGROUP_ROOT  # the name older callers use
CGROUP_PARENT = "dlcourse-grader"
CONN_PREFIX = "dlcourse-"
# System libraries the interpreter and the wheels link against (read-only, no user data).
SYSTEM_DIRS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32", "/usr/libexec")
MINIMAL_ETC = {
    "passwd": "root:x:0:0:root:/tmp/work:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
    "group": "root:x:0:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost\n::1 localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
    "hostname": "sandbox\n",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits for one graded notebook."""

    cell_timeout: float = 30.0      # seconds for one cell (...and at least this long)
    notebook_timeout: float = 600.0  # seconds for the whole notebook, kernel start included
    memory_mb: int = 3072           # RAM + memory-backed scratch space
    max_pids: int = 256             # processes and threads
    file_mb: int = 64               # largest file the code may write
    probe_mb: int = 16              # plain-data results one notebook may send back
    message_mb: int = 32            # largest single message the grader accepts from a kernel
    scratch_mb: int = 8             # the connection folder (the kernel's sockets) is this small
    timeout_factor: float = 10.0    # a cell may take this many times the reference's time...
    startup_timeout: float = 120.0  # seconds for the kernel to start (a busy host is slow)
    iopub_timeout: float = 60.0     # seconds for a cell's results to arrive after its reply

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

    def __init__(self, limits: Limits, hide: list[Path], reveal: list[Path], enabled: bool = True,
                 secret: str = "") -> None:
        self.limits = limits
        self.enabled = enabled
        self.secret = secret
        self.hide = [p.resolve() for p in hide]
        self.reveal = [p.resolve() for p in reveal if p.exists()]
        self.name = f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        # Memory-backed, so whatever the kernel writes here counts against its memory limit.
        # The owner's pid is in the name, so a later grader can clean up after a killed one.
        base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
        self.conn_dir = Path(tempfile.mkdtemp(prefix=f"{CONN_PREFIX}{self.name}-", dir=base))
        self.etc_dir = Path(tempfile.mkdtemp(prefix=f"{CONN_PREFIX}{self.name}-etc-", dir=base))
        self.cgroups: list[Path] = []
        self.cgroup_version = 0
        self.mounted = False
        self.notes: list[str] = []

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        if self.enabled:
            self._make_cgroups()
            self._mount_scratch()
            for name, text in MINIMAL_ETC.items():
                (self.etc_dir / name).write_text(text)
            if Path("/etc/ld.so.cache").is_file():  # the dynamic linker's index of the system libraries
                shutil.copyfile("/etc/ld.so.cache", self.etc_dir / "ld.so.cache")
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
        if self.mounted:
            _umount(self.conn_dir)
        shutil.rmtree(self.conn_dir, ignore_errors=True)
        shutil.rmtree(self.etc_dir, ignore_errors=True)

    def _mount_scratch(self) -> None:
        """Make the connection folder its own small tmpfs: whatever the kernel writes there
        (it must create its sockets there) is capped at ``scratch_mb`` and a few hundred files."""
        opts = f"size={self.limits.scratch_mb}m,nr_inodes=512,mode=0700"
        if _mount("tmpfs", self.conn_dir, "tmpfs", opts):
            self.mounted = True
        else:
            self.notes.append(f"the connection folder's size is not capped (mount failed: "
                              f"{os.strerror(ctypes.get_errno())}); the memory limit still applies")

    def _make_cgroups(self) -> None:
        root = CGROUP_ROOT
        if (root / "cgroup.controllers").exists():
            self._make_cgroups_v2(root)
        else:
            self._make_cgroups_v1(root)

    def _make_cgroups_v2(self, root: Path) -> None:
        """cgroup v2 (unified): one group with memory.max, memory.swap.max and pids.max."""
        self.cgroup_version = 2
        available = set((root / "cgroup.controllers").read_text().split())
        missing = {"memory", "pids"} - available
        if missing:
            self.notes.append(f"{', '.join(sorted(missing))} limit not enforced: controller not available on this host")
        parent = root / CGROUP_PARENT
        cg = parent / self.name
        try:
            parent.mkdir(exist_ok=True)
            # A child can only use the controllers its parent delegates to it.
            for level in (root, parent):
                wanted = " ".join(f"+{c}" for c in sorted({"memory", "pids"} & available))
                if wanted:
                    (level / "cgroup.subtree_control").write_text(wanted)
            cg.mkdir()
        except OSError as exc:
            self.notes.append(f"memory and process limits not enforced: cgroup v2: {exc}")
            return
        self.cgroups.append(cg)
        settings = {"memory.max": self.limits.memory_mb * 2**20, "memory.swap.max": 0,
                    "pids.max": self.limits.max_pids}
        for key, value in settings.items():
            controller = key.split(".")[0]
            if controller not in available:
                continue
            try:
                (cg / key).write_text(str(value))
            except OSError:
                if key != "memory.swap.max":  # absent without swap accounting
                    self.notes.append(f"could not set {key}")

    def _make_cgroups_v1(self, root: Path) -> None:
        self.cgroup_version = 1
        wanted = {
            "memory": {"memory.limit_in_bytes": self.limits.memory_mb * 2**20,
                       "memory.memsw.limit_in_bytes": self.limits.memory_mb * 2**20},
            "pids": {"pids.max": self.limits.max_pids},
        }
        for controller, settings in wanted.items():
            if not (root / controller).is_dir():
                self.notes.append(f"{controller} limit not enforced: no cgroup v1 {controller} controller")
                continue
            cg = root / controller / CGROUP_PARENT / self.name
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
            if (cg / "cgroup.kill").exists():  # cgroup v2 (Linux 5.14+): the kernel kills them all
                try:
                    (cg / "cgroup.kill").write_text("1")
                except OSError:
                    pass
            kill_cgroup_processes(cg)

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
            if self.cgroup_version == 2:
                try:
                    events = dict(line.split() for line in (cg / "memory.events").read_text().splitlines() if line.strip())
                    if int(events.get("oom_kill", 0)) > 0 or int(events.get("max", 0)) > 0:
                        return True
                except (OSError, ValueError):
                    pass
                continue
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
            # The cohort secret changes hidden checks' inputs (dlcourse.checks.hidden_rng).
            **({"DLCOURSE_COHORT_SECRET": self.secret} if self.secret else {}),
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
                "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL", "--hostname", "sandbox"]
        args += self.filesystem_args()
        args += ["--chdir", str(self.work_dir), "--clearenv"]
        for key, value in self.kernel_env().items():
            args += ["--setenv", key, value]
        args += ["--"]
        procs = " ".join(f'echo $$ > "{cg}/cgroup.procs" &&' for cg in self.cgroups)
        # The shell joins the cgroups and sets rlimits before exec'ing bwrap, so every
        # process the kernel ever starts is already inside the limits.
        blocks = self.limits.file_mb * 2048  # ulimit -f counts 512-byte blocks
        script = f'{procs} ulimit -c 0 && ulimit -f {blocks} && ulimit -n 1024 && exec "$@"'
        return ["/bin/sh", "-c", script, "sandbox"] + args + kernel_cmd

    def allowed_paths(self) -> list[Path]:
        """What the kernel may read: the interpreter, system libraries, and the revealed course parts."""
        paths = {Path(p) for p in SYSTEM_DIRS if Path(p).is_dir() and not Path(p).is_symlink()}
        for prefix in {sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
            paths.add(Path(os.path.realpath(prefix)))
        paths.update(self.reveal)
        # Never a hidden folder (the course root, the cohort), nor anything inside one,
        # nor a folder that contains one.
        def clash(p: Path) -> bool:
            return any(p == h or h in p.parents for h in self.hide) and p not in self.reveal
        return sorted(p for p in paths if p.exists() and not clash(p))

    def filesystem_args(self) -> list[str]:
        """bwrap arguments that build the kernel's whole filesystem from the allow-list."""
        args: list[str] = []
        for p in self.allowed_paths():
            args += ["--ro-bind", str(p), str(p)]
        for link in ("/bin", "/sbin", "/lib", "/lib64", "/lib32"):
            if os.path.islink(link):  # usrmerge: /lib -> usr/lib
                args += ["--symlink", os.readlink(link), link]
        args += ["--ro-bind", str(self.etc_dir), "/etc"]
        args += ["--dev", "/dev", "--proc", "/proc",
                 "--size", str(self.limits.file_mb * 4 * 2**20), "--tmpfs", "/tmp",
                 "--size", str(self.limits.file_mb * 2**20), "--tmpfs", "/dev/shm",
                 "--bind", str(self.conn_dir), str(self.conn_dir),
                 "--dir", str(self.work_dir), "--remount-ro", "/"]
        return args


def kill_cgroup_processes(cg: Path) -> None:
    """SIGKILL every process listed in a cgroup, again until none is left (a fork bomb's children too)."""
    for _ in range(20):
        try:
            pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            break
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: Path, fstype: str, options: str) -> bool:
    if os.geteuid() != 0:
        return False
    return _libc.mount(source.encode(), str(target).encode(), fstype.encode(), 0, options.encode()) == 0


def _umount(target: Path) -> None:
    _libc.umount2(str(target).encode(), 2)  # MNT_DETACH
