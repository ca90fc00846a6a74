"""Grading a cohort: find the submissions, grade them in parallel and resumably, record each.

One submission can never stop the batch. Whatever goes wrong with one student's submission
while reading, grading, recording or reporting it becomes that student's result, marked
"needs attention: ..." with the reason, and the next student is graded. Such a result is saved
like any other, with the hash of the submission, so a rerun does not meet the same crash again:
it skips the student (``--force --student S`` regrades after a fix). What may be the host's
fault is retried instead: a result marked "regrade needed" (a timeout on a busy machine) is
regraded by the next run, and a result that could not be saved (full disk) is graded again.

A result file is written atomically and carries the hash of the submission it graded. A rerun
skips submissions whose result matches, and re-records in the gradebook any result the
gradebook does not have yet, so killing the grader at any point loses nothing and counts
nothing twice.
"""
from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from autograder import results as R
from autograder.cleanup import clean_stale_sandboxes
from autograder.collect import collect_log
from autograder.course import Course, load_limits, student_id_problem
from autograder.display import ProgressBar
from autograder.files import atomic_write, clean, dump_json, read_timestamp, safe_log, shown, submission_digest, utcnow
from autograder.gradebook import record
from autograder.grading import GradeContext, NotebookResult, Source, SourceError, grade_notebook, reference_probes
from autograder.sandbox import Limits


@dataclass
class Job:
    student: str
    assignment: str
    folder: Path
    digest: str
    notes: list[str] = field(default_factory=list)   # what collect distrusted (a future timestamp)
    auto_regrades: int = 0                            # how often "regrade needed" was regraded by itself


@dataclass
class Summary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)            # not saved: graded again next run
    pending_gradebook: list[str] = field(default_factory=list)  # saved, not yet in the gradebook
    attention: list[str] = field(default_factory=list)         # saved as "needs attention"
    regrade: list[str] = field(default_factory=list)           # saved as "regrade needed"


# A "regrade needed" result is regraded by the next runs, at most this often, so a submission
# that times out every time does not cost every rerun its time.
MAX_AUTO_REGRADES = 2


# nbgrader writes these into every submission (submit, collect); release_feedback needs the secret.
EXCHANGE_FILES = {"timestamp.txt", "submission_secret.txt"}


class GraderDied(RuntimeError):
    """The worker process grading one submission died (not the learner's kernel: the grader)."""


def _zero_cells(source: Source, why: str) -> dict[str, dict[str, Any]]:
    return {gid: {"score": 0.0, "max_score": source.points[gid], "status": "not run", "error": why, "checks": []}
            for gid in source.test_ids}


def _notebook_json(result: NotebookResult, status: str | None = None, attention: list[str] | None = None) -> dict[str, Any]:
    data = result.to_json()
    data.setdefault("status", R.GRADED)
    data.setdefault("attention", [])
    if status:
        data["status"] = R.worst(data["status"], status)
        data["attention"] = list(data["attention"]) + list(attention or [])
    return data


def grade_job(job: Job, sources: list[Path], references: dict[str, Any], ctx: GradeContext) -> dict[str, Any]:
    """Runs in a worker process. Returns the JSON result for one student's submission.

    A grader error in one notebook marks that notebook "needs attention"; the others are graded."""
    notebooks = {}
    present = {p.name for p in job.folder.glob("*.ipynb")}
    expected = {s.name for s in sources}
    unexpected = sorted(present - expected)
    for src_path in sources:
        source = Source.load(src_path)
        max_score = sum(source.points[g] for g in source.test_ids)
        path = job.folder / src_path.name
        renamed = None
        if not path.exists() and len(sources) == 1 and len(unexpected) == 1:
            # One notebook, under another name ("01_activations (1).ipynb"): grade it, say so.
            renamed = unexpected.pop()
            path = job.folder / renamed
        if not path.exists():
            result = NotebookResult(notebook=src_path.name, max_score=max_score)
            result.invalid = f"{src_path.name} was not submitted"
            others = sorted(present - expected)
            result.flags.append(f"missing notebook {src_path.name}" + (f" (found {', '.join(others)})" if others else ""))
            result.cells = _zero_cells(source, "notebook not submitted")
            notebooks[src_path.stem] = _notebook_json(result)
            continue
        try:
            result = grade_notebook(path, source, _decode(references[src_path.name]), ctx)
        except Exception as exc:  # the grader's fault, not the learner's: say so, grade the rest
            why = f"grader error while grading {src_path.name} ({type(exc).__name__}: {str(exc)[:300]})"
            result = NotebookResult(notebook=src_path.name, max_score=max_score)
            result.cells = _zero_cells(source, "grader error")
            notebooks[src_path.stem] = dict(_notebook_json(result, R.ATTENTION, [why]), grader_error=why)
            continue
        if renamed:
            result.flags.append(f"notebook submitted as {renamed!r} instead of {src_path.name!r}; graded")
        notebooks[src_path.stem] = _notebook_json(result)
    # Anything else beside the notebook (numpy.py, sitecustomize.py...) is never run or imported.
    # Not extra: what nbgrader's exchange adds to every submission, and the files released beside the
    # notebook (public_checks.json), which a student submits back with the fetched folder. Neither is read.
    shipped = {p.name for src in sources for p in src.parent.iterdir() if p.suffix != ".ipynb"}
    extra = unexpected + sorted(p.name for p in job.folder.iterdir()
                                if p.suffix != ".ipynb" and p.name not in EXCHANGE_FILES | shipped)
    result = {"student": job.student, "assignment": job.assignment, "digest": job.digest,
              "timestamp": (read_timestamp(job.folder) or utcnow()).isoformat(),
              "graded_at": utcnow().isoformat(), "notebooks": notebooks,
              "extra_files": extra, "flags": list(job.notes),
              "score": round(sum(float(n["score"]) for n in notebooks.values()), 6),
              "max_score": sum(float(n["max_score"]) for n in notebooks.values())}
    result["status"] = R.status(result)
    result["attention"] = R.attention(result)
    if job.auto_regrades:
        result["auto_regrades"] = job.auto_regrades
        if result["status"] == R.REGRADE and job.auto_regrades >= MAX_AUTO_REGRADES:
            result["attention"].append(f"still regrade needed after {job.auto_regrades} automatic regrades: "
                                       f"regrade with --student {shown(job.student)} --force on a quiet machine")
    return result


def error_result(job: Job, sources: list[Path], why: str) -> dict[str, Any]:
    """The result of a submission the grader could not grade at all: nothing is scored."""
    try:
        max_score = sum(sum(s.points[g] for g in s.test_ids) for s in map(Source.load, sources))
    except Exception:
        max_score = 0.0
    return {"student": job.student, "assignment": job.assignment, "digest": job.digest,
            "timestamp": utcnow().isoformat(), "graded_at": utcnow().isoformat(), "notebooks": {},
            "extra_files": [], "flags": list(job.notes), "score": 0.0, "max_score": float(max_score),
            "status": R.ATTENTION,
            "attention": [f"{why}; after fixing, regrade with: autograde {job.assignment} "
                          f"--student {shown(job.student)} --force"]}


def _decode(ref: dict[str, Any]) -> dict[str, Any]:
    from autograder.grading import decode_reference
    return decode_reference(ref)


def _encode_reference(ref: dict[str, Any]) -> dict[str, Any]:
    from autograder.grading import encode_reference
    return encode_reference(ref)


def autograde(course: Course, assignment: str, students: list[str] | None = None, jobs: int = 1,
              limits: Limits | None = None, sandboxed: bool = True, force: bool = False,
              log: Callable[[str], None] = print, show_progress: bool = False,
              scheduler: str | None = None) -> Summary:
    """Grade ``assignment``: with ``jobs`` local processes, or on the Dask cluster whose
    scheduler is at ``scheduler`` (then ``jobs`` is ignored: the workers' threads set the pace)."""
    client = None
    if scheduler:
        from autograder.cluster import connect

        client = connect(scheduler)  # first: an unreachable scheduler is reported before any work
    try:
        return _autograde(course, assignment, students, jobs, limits, sandboxed, force, log, show_progress, client)
    finally:
        if client is not None:
            client.close()


def _autograde(course: Course, assignment: str, students: list[str] | None, jobs: int, limits: Limits | None,
               sandboxed: bool, force: bool, log: Callable[[str], None], show_progress: bool, client: Any) -> Summary:
    from autograder.report import write_report

    log = safe_log(log)
    clean_stale_sandboxes(log=log)
    limits = limits or load_limits(course, assignment)
    ctx = course.context(limits, sandboxed)
    sources = course.sources(assignment)
    summary = Summary()
    todo, sync_only = [], []
    for job in find_jobs(course, assignment, students, log, summary):
        old, damaged = R.load_result(course.result_path(assignment, job.student))
        if damaged:
            log(f"  {job.student}: {damaged}; grading it again")
        if force or old is None or old.get("digest") != job.digest:
            todo.append(job)
        elif (R.status(old) == R.REGRADE and not old.get("record_error")
              and int(old.get("auto_regrades", 0) or 0) < MAX_AUTO_REGRADES):
            log(f"  {job.student}: regrade needed last time ({'; '.join(R.attention(old)) or 'timeout'}); regrading")
            job.auto_regrades = int(old.get("auto_regrades", 0) or 0) + 1
            todo.append(job)
        else:
            summary.skipped.append(job.student)
            if not old.get("in_gradebook") and not old.get("record_error") and R.recordable(old):
                sync_only.append(old)
    references = {}
    if todo:
        cache = course.cohort / ".grader" / "reference" / assignment
        for src in sources:
            try:
                ref = reference_probes(Source.load(src), ctx, cache)
            except SourceError as exc:
                raise SystemExit(f"cannot grade {assignment}: {exc}") from None
            references[src.name] = _encode_reference(ref)
    for old in sync_only:
        record(course, old, summary, log)
    if client is not None:
        from autograder.cluster import threads

        jobs = threads(client)
    log(f"{assignment}: {len(todo)} to grade, {len(summary.skipped)} already graded"
        + (f", {jobs} in parallel" if jobs > 1 and len(todo) > 1 else "")
        + (f" on the Dask cluster at {client.scheduler.address}" if client is not None else ""))
    bar = ProgressBar(len(todo), log=log, tty=None if show_progress else False)
    lanes = max(1, min(jobs, len(todo)))
    for job in todo[:lanes]:
        bar.start(job.student)
    started = lanes
    for job, result in run_all(todo, sources, references, ctx, jobs, client=client, root=course.root):
        line = _handle(course, job, result, sources, summary, bar.note)
        bar.finish(job.student, line)
        if started < len(todo):
            bar.start(todo[started].student)
            started += 1
    bar.close()
    try:
        write_report(course, assignment)
    except Exception as exc:  # the report is rebuilt from the result files on every run
        log(f"could not write the report ({type(exc).__name__}: {exc}); every result is saved, rerun to retry")
    try:
        from autograder.gradebook import record_copy_flags
        from autograder.report import copy_flags

        flags = copy_flags(course, assignment)
        record_copy_flags(course, assignment, flags)
        if flags:
            log(f"{len({(f.student, f.cell) for f in flags})} answer(s) look copied: see the report "
                f"(a flag to read, never a score)")
    except Exception as exc:  # copy flags are advice: they never stop or change grading
        log(f"could not check answers for copies ({type(exc).__name__}: {exc})")
    try:
        from autograder.late import load_settings, sync_gradebook

        # So the formgrader shows due dates and late penalties now, not only after an export.
        sync_gradebook(course, load_settings(course))
    except Exception as exc:  # the grades are recorded; export applies the policy again (and says why not)
        log(f"late policy not applied in the gradebook yet ({type(exc).__name__}: {exc}); export applies it")
    return summary


def _handle(course: Course, job: Job, result: Any, sources: list[Path], summary: Summary,
            log: Callable[[str], None]) -> str:
    """Save and record one result; return the line that says how it went. Never raises."""
    student = job.student
    try:
        if isinstance(result, OSError):
            summary.failed.append(student)
            return f"  {student}: could not be graded ({type(result).__name__}: {result}); will be retried on the next run"
        if isinstance(result, BaseException):
            result = error_result(job, sources, f"grader error ({type(result).__name__}: {str(result)[:300]})")
        elif (why := R.problem(result)) is not None:
            result = error_result(job, sources, f"grader returned a malformed result ({why})")
        result = clean(result)
        try:
            atomic_write(course.result_path(job.assignment, student), dump_json(result))
        except OSError as exc:
            summary.failed.append(student)
            return f"  {student}: could not save the result ({exc.strerror or exc}); nothing was changed, rerun to retry"
        record(course, result, summary, log)
        state = R.status(result)
        if state == R.ATTENTION and student not in summary.attention:
            summary.attention.append(student)
        elif state == R.REGRADE:
            summary.regrade.append(student)
        summary.graded.append(student)
        n_flags = len(R.flags(result))
        tail = f"  [{state}: {'; '.join(R.attention(result))}]" if state != R.GRADED else ""
        return (f"  {student}: {result['score']:g} / {result['max_score']:g}"
                + (f"  [{n_flags} flag(s)]" if n_flags else "") + tail)
    except Exception as exc:  # last line of defence: this student only
        if student not in summary.failed:
            summary.failed.append(student)
        return f"  {student}: needs attention: could not be handled ({type(exc).__name__}: {exc}); rerun to retry"


def run_all(todo: list[Job], sources: list[Path], references: dict[str, Any], ctx: GradeContext,
            jobs: int, grade: Callable[..., dict[str, Any]] = grade_job, client: Any = None,
            root: Path | None = None) -> Iterator[tuple[Job, Any]]:
    """Grade every job with ``grade`` (a module-level function: workers import it); yield
    (job, result or exception) as each finishes. Serially, in a pool of ``jobs`` processes, or,
    given a ``distributed.Client``, on its Dask cluster (``root``: the course folder that every
    worker must have at the same path)."""
    if client is not None:
        from autograder.cluster import run_on_cluster

        yield from run_on_cluster(client, todo, sources, references, ctx,
                                  root or Path(__file__).resolve().parents[1], grade)
        return
    if jobs <= 1 or len(todo) <= 1:
        for job in todo:
            try:
                yield job, grade(job, sources, references, ctx)
            except Exception as exc:  # a grader bug must not stop the batch
                yield job, exc
        return
    broken = []
    # spawn, not fork: the parent may hold zmq sockets and sqlite handles.
    with futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {pool.submit(grade, job, sources, references, ctx): job for job in todo}
        for fut in futures.as_completed(pending):
            try:
                yield pending[fut], fut.result()
            except BrokenProcessPool:
                broken.append(pending[fut])  # a worker died: which job killed it is not known yet
            except Exception as exc:
                yield pending[fut], exc
    # One at a time, each in a fresh worker: the job that kills its own worker is the culprit,
    # and the others, caught in the same broken pool, are graded normally.
    for job in broken:
        with futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                yield job, pool.submit(grade, job, sources, references, ctx).result()
            except BrokenProcessPool:
                yield job, GraderDied("the grading process died while grading this submission")
            except Exception as exc:
                yield job, exc


def find_jobs(course: Course, assignment: str, students: list[str] | None, log: Callable[[str], None],
              summary: Summary | None = None) -> list[Job]:
    base = course.cohort / "submitted"
    if not base.is_dir():
        raise SystemExit(f"nothing to grade: {base} does not exist (run `python -m autograder collect` first)")
    notes = collect_log(course, assignment)["notes"]
    found = []
    for name in sorted(os.listdir(base)):
        if students and name not in students:
            continue
        folder = base / name / assignment
        if name.startswith(".") or not folder.is_dir() or folder.is_symlink():
            continue
        if problem := student_id_problem(name):
            log(f"  skipped {shown(name)}: not a valid student id ({problem}); rename the folder")
            if summary is not None:
                summary.attention.append(name)
            continue
        try:
            digest = submission_digest(folder)
        except OSError as exc:
            log(f"  skipped {name}: the submission cannot be read ({exc.strerror or exc})")
            if summary is not None:
                summary.failed.append(name)
            continue
        found.append(Job(name, assignment, folder, digest, notes.get(name, [])))
    return found
