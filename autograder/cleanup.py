"""Clean up after a grader that was killed (kill -9, OOM, a closed laptop) before it could.

A sandbox leaves two things behind if its grader dies without running its exit code: a
connection folder in /dev/shm (memory, so it counts against the machine's RAM until reboot)
and its cgroups. Both carry the run's name, ``run-<grader pid>-<hex>`` (see
autograder/sandbox.py), so a later grader can tell whose they are: only those whose grader
process no longer exists are removed. Another grader running at the same time, on this
course or another copy of it, keeps its own. A reused pid keeps its folder (never wrongly
removed; cleaned once that process is gone too).
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import time
from pathlib import Path
from typing import Callable

from autograder.sandbox import _umount, kill_cgroup_processes

SHM = Path("/dev/shm")
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Where sandbox.py puts a run's cgroups: <controller>/dlcourse-grader/run-* on cgroup v1,
# dlcourse-grader/run-* (or below a delegated subtree) on cgroup v2.
CGROUP_PATTERNS = ("*/dlcourse-grader/run-*", "dlcourse-grader/run-*", "*/*/dlcourse-grader/run-*")
_RUN = re.compile(r"run-(\d+)-[0-9a-f]+")
# Connection folders from before names carried the pid: no grading run lasts a day.
LEGACY_AGE_S = 24 * 3600


def owner_pid(name: str) -> int | None:
    m = _RUN.search(name)
    return int(m.group(1)) if m else None


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _remove_cgroup(cg: Path) -> None:
    """Kill what is left inside, then remove the cgroup (children first). cgroupfs folders are
    removed with rmdir even though they list control files; rmtree would try to unlink those."""
    for child in sorted((p for p in cg.iterdir() if p.is_dir() and not p.is_symlink()), reverse=True):
        _remove_cgroup(child)
    kill_cgroup_processes(cg)
    for _ in range(20):
        try:
            cg.rmdir()
            return
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return
            time.sleep(0.05)
    cg.rmdir()


def clean_stale_sandboxes(shm: Path = SHM, cgroup_root: Path = CGROUP_ROOT,
                          log: Callable[[str], None] = print, now: float | None = None) -> list[Path]:
    """Remove connection folders and cgroups of sandbox runs whose grader process is dead.

    Returns what was removed. Never raises: a folder it cannot remove is reported and left."""
    removed: list[Path] = []
    now = time.time() if now is None else now
    candidates: list[tuple[Path, bool]] = []
    try:
        candidates += [(p, False) for p in sorted(Path(shm).glob("dlcourse-*"))]
    except OSError:
        pass
    for pattern in CGROUP_PATTERNS:
        try:
            candidates += [(p, True) for p in sorted(Path(cgroup_root).glob(pattern))]
        except OSError:
            pass
    for path, is_cgroup in candidates:
        try:
            if path.is_symlink() or not path.is_dir():
                continue
            pid = owner_pid(path.name)
            if pid is None:
                if is_cgroup or now - path.lstat().st_mtime < LEGACY_AGE_S:
                    continue
            elif pid_alive(pid):
                continue
            if is_cgroup:
                _remove_cgroup(path)
            else:
                if os.path.ismount(path):  # a connection folder is its own small tmpfs
                    _umount(path)
                shutil.rmtree(path)
            removed.append(path)
        except OSError as exc:
            log(f"  could not remove a dead grader's {'cgroup' if is_cgroup else 'folder'} {path}: "
                f"{exc.strerror or exc}")
    if removed:
        log(f"cleaned up {len(removed)} folder(s) and cgroup(s) left by a grader that was killed")
    return removed
