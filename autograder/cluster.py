"""Grading on a Dask cluster: ``autograde A --scheduler tcp://HOST:8786``.

Each submission becomes one Dask task that runs ``batch.grade_job`` (the same sandboxed grading
as ``--jobs``) on a worker and returns the result as data. Only the coordinating process, the
one that runs ``autograde``, saves result files and writes the gradebook (``batch._handle``),
so resumability and exactly-once recording are what they are without a cluster: a task that
Dask runs twice (its worker died and it was retried) still delivers one result, and that one
is recorded once.

Why the submission travels with the task, as bytes, instead of by a shared path: the cohort
folder holds the gradebook, every student's work and the cohort secret, and the sandbox is built
to keep it out of reach. Workers then need no shared filesystem and no copy of the cohort at
all, only the course (solutions, venv, dlcourse) installed at the same path. A submission is at
most a few MB (collect caps notebooks at 20 MB), and at most a few tasks per worker thread are
in flight at once, so the coordinator never holds the whole cohort in memory. The worker writes
the files to a private scratch folder and checks their hash against the one the coordinator
recorded, so a result always describes exactly the bytes it says it graded.

What a worker needs, checked on every worker before grading and again in each worker process
before its first task (a worker may join, or be restarted, later): a working sandbox (bwrap,
root), the course at the coordinator's path with the same solutions and the same grading code,
and the same Python environment. A worker that fails the check stops the batch with a message
naming it; everything graded until then is saved and a rerun continues.
"""
from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import hashlib
import os
import socket
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from autograder.files import open_regular, submission_digest
from autograder.sandbox import sandbox_problem

if TYPE_CHECKING:  # distributed is imported only when a scheduler is used
    from distributed import Client

    from autograder.batch import Job
    from autograder.grading import GradeContext

CONNECT_TIMEOUT_S = 10     # an unreachable scheduler is reported after this long
WORKERS_TIMEOUT_S = 60     # a scheduler with no worker is reported after this long
IN_FLIGHT_PER_THREAD = 2   # tasks sent ahead per worker thread: enough to keep every worker busy


class WorkerUnfit(RuntimeError):
    """A worker cannot grade as the coordinator would (no sandbox, another course or venv)."""


class SubmissionChanged(OSError):
    """The files that reached the worker are not the ones hashed by the coordinator. An OSError,
    so the batch treats it as the host's fault: not saved, graded again on the next run."""


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker must match, measured on the coordinator."""

    root: str                      # the course folder
    prefix: str                    # sys.prefix: the virtual environment graded code imports from
    sources: tuple[tuple[str, str], ...]   # (source notebook path, sha256)
    grader: str                    # hash of dlcourse/*.py and the grading modules
    sandboxed: bool


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def worker_spec(root: Path, sources: list[Path], sandboxed: bool) -> WorkerSpec:
    from autograder.progress import grader_digest

    return WorkerSpec(str(root), sys.prefix, tuple((str(p), _sha256(p)) for p in sources),
                      grader_digest(root), sandboxed)


def worker_name(worker: Any = None) -> str:
    """This worker as an instructor can find it: its Dask address (and name) and host name."""
    if worker is None:
        try:
            from distributed import get_worker

            worker = get_worker()   # inside a task
        except ValueError:
            pass
    if worker is None:
        name = f"pid {os.getpid()}"
    else:
        name = f"{worker.address}" + (f" ({worker.name})" if str(worker.name) != worker.address else "")
    return f"{name} on host {socket.gethostname()}"


def worker_problem(spec: WorkerSpec) -> str | None:
    """None if this process can grade exactly as the coordinator would, else why not."""
    from autograder.progress import grader_digest

    if spec.sandboxed and (problem := sandbox_problem()):
        return f"cannot grade safely here: {problem}"
    root = Path(spec.root)
    if not (root / "solutions").is_dir() or not (root / "autograder").is_dir():
        return f"the course is not installed at {root} (install it at the same path as on the coordinator)"
    if sys.prefix != spec.prefix:
        return f"the worker runs Python from {sys.prefix}, the coordinator from {spec.prefix} " \
               f"(start `dask worker` with {spec.prefix}/bin/python -m distributed.cli.dask_worker ...)"
    for path, digest in spec.sources:
        try:
            if _sha256(Path(path)) != digest:
                return f"{path} differs from the coordinator's (update the course here)"
        except OSError as exc:
            return f"cannot read {path} ({exc.strerror or exc})"
    if grader_digest(root) != spec.grader:
        return f"the grading code in {root} (dlcourse, autograder) differs from the coordinator's"
    return None


def check_worker(spec: WorkerSpec, dask_worker: Any = None) -> str | None:
    """This worker's problem, named, or None. (``Client.run`` passes ``dask_worker``: there,
    unlike in a task, ``get_worker()`` does not know the worker.)"""
    problem = worker_problem(spec)
    return f"worker {worker_name(dask_worker)}: {problem}" if problem else None


_checked: dict[WorkerSpec, str | None] = {}   # per worker process: checked once per batch


def _ready(spec: WorkerSpec) -> None:
    """Before a worker process's first task: check it, and remove what a killed predecessor left
    (its sandboxes' cgroups and connection folders; the nanny restarts a worker that died)."""
    if spec not in _checked:
        from autograder.cleanup import clean_stale_sandboxes

        _checked[spec] = check_worker(spec)
        if _checked[spec] is None:
            clean_stale_sandboxes(log=lambda _: None)
    if _checked[spec]:
        raise WorkerUnfit(_checked[spec])


def ship(job: "Job") -> list[tuple[str, bytes | None]]:
    """A submission folder as (name, bytes) for regular files and (name, None) for anything
    else, which is never read but is listed as an extra file, as grading in place would."""
    files = []
    for entry in sorted(os.scandir(job.folder), key=lambda e: e.name):
        if entry.is_file(follow_symlinks=False):
            fd = open_regular(Path(entry.path))
            try:
                with os.fdopen(fd, "rb", closefd=False) as f:
                    files.append((entry.name, f.read()))
            finally:
                os.close(fd)
        else:
            files.append((entry.name, None))
    return files


def grade_shipped(job: "Job", files: list[tuple[str, bytes | None]], spec: WorkerSpec, sources: list[Path],
                  references: dict[str, Any], ctx: "GradeContext", grade: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The task: on a worker, grade one submission from its shipped files; return the result."""
    _ready(spec)
    with tempfile.TemporaryDirectory(prefix="dlcourse-submission-") as tmp:
        folder = Path(tmp) / job.student
        folder.mkdir()
        for name, data in files:
            if data is None:
                (folder / name).mkdir()
            else:
                (folder / name).write_bytes(data)
        if submission_digest(folder) != job.digest:
            raise SubmissionChanged(f"the submission changed after it was found (its hash differs); "
                                    f"it is graded again on the next run")
        return grade(dataclasses.replace(job, folder=folder), sources, references, ctx)


def connect(address: str) -> "Client":
    """A client of the scheduler at ``address`` (its workers are checked later, by
    ``run_on_cluster``). A scheduler that cannot be reached, or has no workers, is a SystemExit
    that says so, not a traceback."""
    try:
        from distributed import Client
    except ImportError:
        raise SystemExit("--scheduler needs dask's distributed package: run `make setup`") from None
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SystemExit(f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: "
                         f"{str(exc)[:200]}). Is `dask scheduler` running there, and is the port open?") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (TimeoutError, OSError):
        client.close()
        raise SystemExit(f"the Dask scheduler at {address} has no workers after {WORKERS_TIMEOUT_S} s: "
                         f"start some with `dask worker {address} --nthreads 1`") from None
    return client


def threads(client: "Client") -> int:
    return max(1, sum(client.nthreads().values()))


def check_workers(client: "Client", spec: WorkerSpec) -> None:
    """Every worker connected now must be fit to grade; otherwise stop, naming each unfit one."""
    # A worker that is being restarted (it died) is not connected now: wait for one at least,
    # or none would be checked. A worker that joins later is checked before its first task.
    client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    problems = [p for p in client.run(check_worker, spec).values() if p]
    if problems:
        raise SystemExit("cannot grade on this cluster:\n  " + "\n  ".join(problems))


def run_on_cluster(client: "Client", todo: list["Job"], sources: list[Path], references: dict[str, Any],
                   ctx: "GradeContext", root: Path, grade: Callable[..., dict[str, Any]]) -> Iterator[tuple["Job", Any]]:
    """``run_all`` on a Dask cluster: yield (job, result or exception) as each finishes.

    A worker that dies mid-task has its task rerun elsewhere by Dask, up to the scheduler's
    ``distributed.scheduler.allowed-failures`` (default 3) deaths. A task that kills that many
    workers raises KilledWorker. As with a broken process pool, that does not prove it was the
    culprit (with more than one task per worker, a neighbour dies with it), so each such job is
    graded once more alone, when nothing else runs: if it still kills its worker, it is that
    student's GraderDied result, and the batch goes on."""
    from distributed import KilledWorker, as_completed

    from autograder.batch import GraderDied

    spec = worker_spec(root, sources, ctx.sandboxed)
    check_workers(client, spec)

    def submit(job: "Job") -> Any:
        # Readable keys for the dashboard; unique, so a regrade is never served a cached result.
        return client.submit(grade_shipped, job, ship(job), spec, sources, references, ctx, grade,
                             key=f"grade-{job.student}-{uuid.uuid4().hex[:8]}", pure=False)

    def outcome(fut: Any) -> tuple[bool, Any]:
        """(killed, result or exception); raises SystemExit for an unfit worker."""
        try:
            return False, fut.result()
        except KilledWorker:
            return True, None
        except WorkerUnfit as exc:
            raise SystemExit(f"cannot grade on this cluster: {exc}. The results so far are saved; "
                             f"fix or remove that worker and rerun.") from None
        except futures.CancelledError:  # the scheduler went away: the host's fault, retried next run
            return False, ConnectionError("the Dask scheduler cancelled or lost this task")
        except Exception as exc:
            return False, exc

    waiting = list(reversed(todo))
    running: dict[Any, "Job"] = {}
    done = as_completed(loop=client.loop)  # this client, not a default one: set_as_default=False

    def refill() -> Iterator[tuple["Job", Any]]:
        # Asked each time, as workers may join or leave while the batch runs.
        while waiting and len(running) < IN_FLIGHT_PER_THREAD * threads(client):
            job = waiting.pop()
            try:
                fut = submit(job)
            except OSError as exc:  # the submission could not be read: retried next run
                yield job, exc
                continue
            running[fut] = job
            done.add(fut)

    killed = []
    try:
        yield from refill()
        for fut in done:
            job = running.pop(fut)
            was_killed, result = outcome(fut)
            if was_killed:
                killed.append(job)
            else:
                yield job, result
            yield from refill()
        for job in killed:
            try:
                fut = submit(job)
            except OSError as exc:
                yield job, exc
                continue
            running[fut] = job
            was_killed, result = outcome(fut)
            running.pop(fut)
            yield job, GraderDied("the grading process died while grading this submission "
                                  "(it killed its Dask worker every time)") if was_killed else result
    finally:
        for fut in running:  # stopped early (an unfit worker): leave nothing running on the cluster
            fut.cancel()
