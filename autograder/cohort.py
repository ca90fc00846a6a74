"""Cohort grading: collect submissions, grade them in parallel and resumably, fill the gradebook.

State on disk (all under the cohort folder, which the sandbox hides from graded code):
    submitted/<student>/<assignment>/*.ipynb + timestamp.txt   collected submissions (nbgrader's layout)
    .grader/results/<assignment>/<student>.json                  one result per graded submission
    .grader/reference/<assignment>/                              the solution's probe values (cached)
    autograded/<student>/<assignment>/*.ipynb                    what feedback is made from
    gradebook.db                                                 nbgrader's gradebook
    reports/<assignment>.txt                                     the grading report for the instructor

A result file is written atomically and carries the hash of the submission it graded. A rerun
skips submissions whose result matches, and re-syncs to the gradebook any result the gradebook
does not have yet, so killing the grader at any point loses nothing and counts nothing twice.
"""
from __future__ import annotations

import concurrent.futures as futures
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import sqlite3
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import nbformat

from autograder.grading import (GradeContext, NotebookResult, Source, SourceError,
                                grade_notebook, graded_notebook, reference_probes)
from autograder.sandbox import Limits

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"


@dataclass
class Course:
    """Where things are. ``root`` holds solutions/ and lessons/; ``cohort`` holds the instructor's state."""

    root: Path
    cohort: Path

    @classmethod
    def from_env(cls, root: Path | None = None, cohort: Path | None = None) -> "Course":
        root = Path(root or os.environ.get("DLCOURSE_ROOT") or Path.cwd()).resolve()
        cohort = Path(cohort or os.environ.get("DLCOURSE_COHORT") or root / "cohort").resolve()
        return cls(root, cohort)

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.cohort / 'gradebook.db'}"

    def assignments(self) -> list[str]:
        return sorted(p.name for p in (self.root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))

    def sources(self, assignment: str) -> list[Path]:
        folder = self.root / "solutions" / assignment
        if not folder.is_dir():
            raise SystemExit(f"no assignment {assignment!r}: expected a folder solutions/{assignment}/ "
                             f"(known: {', '.join(self.assignments())})")
        return sorted(folder.glob("*.ipynb"))

    def submitted(self, student: str, assignment: str) -> Path:
        return self.cohort / "submitted" / student / assignment

    def result_path(self, assignment: str, student: str) -> Path:
        return self.cohort / ".grader" / "results" / assignment / f"{student}.json"

    def context(self, limits: Limits, sandboxed: bool) -> GradeContext:
        # Graded code sees none of the course folder or the cohort folder, except what it
        # needs to import: the virtual environment, the helper package, data and lessons.
        reveal = [self.root / name for name in (".venv", "dlcourse", "datasets", "lessons")]
        return GradeContext(limits, hide=[self.root, self.cohort], reveal=reveal, sandboxed=sandboxed)


# ----------------------------------------------------------------------------------------
# Small reliable file operations.
# ----------------------------------------------------------------------------------------
def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temporary file, fsync and rename: a crash or a full disk leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def submission_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0")
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(2**20), b""):
                    h.update(block)
    return h.hexdigest()


def read_timestamp(folder: Path) -> dt.datetime | None:
    try:
        text = (folder / "timestamp.txt").read_text().strip()
    except OSError:
        return None
    for fmt in (TIMESTAMP_FORMAT, "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text.replace(" UTC", "").strip(), fmt.replace(" %Z", ""))
        except ValueError:
            continue
    return None


# ----------------------------------------------------------------------------------------
# Collect.
# ----------------------------------------------------------------------------------------
def collect(course: Course, folder: Path, assignment: str, log: Callable[[str], None] = print) -> list[str]:
    """Copy a folder of submissions into submitted/. Accepts <folder>/<student>/<assignment>/*.ipynb,
    <folder>/<student>/*.ipynb or <folder>/<student>.ipynb. A resubmission replaces an older one
    (by timestamp.txt, else file time); an older one never replaces a newer one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"collect: {folder} is not a folder of submissions")
    expected = {p.name for p in course.sources(assignment)}
    collected = []
    for entry in sorted(folder.iterdir()):
        student = entry.stem if entry.is_file() else entry.name
        if entry.is_file() and entry.suffix != ".ipynb":
            continue
        if not STUDENT_ID.match(student):
            log(f"  skipped {entry.name!r}: not a valid student id (letters, digits, . _ @ + -)")
            continue
        if entry.is_file():
            files, stamp_dir = {sorted(expected)[0]: entry}, None
        else:
            inner = entry / assignment if (entry / assignment).is_dir() else entry
            files = {p.name: p for p in inner.glob("*.ipynb")}
            stamp_dir = inner
        if not files:
            log(f"  skipped {student}: no notebook found")
            continue
        for name in sorted(set(files) - expected):
            log(f"  {student}: extra notebook {name} is kept but not graded (expected {', '.join(sorted(expected))})")
        stamp = (read_timestamp(stamp_dir) if stamp_dir else None) or dt.datetime.utcfromtimestamp(
            max(p.stat().st_mtime for p in files.values()))
        dest = course.submitted(student, assignment)
        old = read_timestamp(dest)
        if old is not None and old >= stamp:
            log(f"  {student}: kept the existing submission from {old} (this one is from {stamp})")
            continue
        tmp = dest.with_name(f".{assignment}.incoming")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, path in files.items():
            shutil.copyfile(path, tmp / name)
        (tmp / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
        collected.append(student)
        log(f"  collected {student} ({', '.join(sorted(files))}, {stamp})")
    return collected


# ----------------------------------------------------------------------------------------
# Grade.
# ----------------------------------------------------------------------------------------
@dataclass
class Job:
    student: str
    assignment: str
    folder: Path
    digest: str


@dataclass
class Summary:
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pending_gradebook: list[str] = field(default_factory=list)


def _grade_job(job: Job, sources: list[Path], references: dict[str, Any], ctx: GradeContext) -> dict[str, Any]:
    """Runs in a worker process. Returns the JSON result for one student's submission."""
    notebooks = {}
    present = {p.name for p in job.folder.glob("*.ipynb")}
    expected = {s.name for s in sources}
    unexpected = sorted(present - expected)
    for src_path in sources:
        source = Source.load(src_path)
        path = job.folder / src_path.name
        renamed = None
        if not path.exists() and len(sources) == 1 and len(unexpected) == 1:
            # One notebook, under another name ("01_activations (1).ipynb"): grade it, say so.
            renamed = unexpected.pop()
            path = job.folder / renamed
        if not path.exists():
            result = NotebookResult(notebook=src_path.name, max_score=sum(source.points[g] for g in source.test_ids))
            result.invalid = f"{src_path.name} was not submitted"
            others = sorted(present - {s.name for s in sources})
            result.flags.append(f"missing notebook {src_path.name}" + (f" (found {', '.join(others)})" if others else ""))
            result.cells = {gid: {"score": 0.0, "max_score": source.points[gid], "status": "not run",
                                  "error": "notebook not submitted", "checks": []} for gid in source.test_ids}
        else:
            result = grade_notebook(path, source, _decode(references[src_path.name]), ctx)
            if renamed:
                result.flags.append(f"notebook submitted as {renamed!r} instead of {src_path.name!r}; graded")
        notebooks[src_path.stem] = result.to_json()
    # Anything else beside the notebook (numpy.py, sitecustomize.py...) is never run or imported.
    extra = unexpected + sorted(p.name for p in job.folder.iterdir()
                                if p.suffix != ".ipynb" and p.name != "timestamp.txt")
    return {"student": job.student, "assignment": job.assignment, "digest": job.digest,
            "timestamp": (read_timestamp(job.folder) or dt.datetime.utcnow()).isoformat(),
            "graded_at": dt.datetime.utcnow().isoformat(), "notebooks": notebooks,
            "extra_files": extra,
            "score": round(sum(n["score"] for n in notebooks.values()), 6),
            "max_score": sum(n["max_score"] for n in notebooks.values())}


def _decode(ref: dict[str, Any]) -> dict[str, Any]:
    from autograder.grading import _decode_reference
    return _decode_reference(ref)


def autograde(course: Course, assignment: str, students: list[str] | None = None, jobs: int = 1,
              limits: Limits | None = None, sandboxed: bool = True, force: bool = False,
              log: Callable[[str], None] = print) -> Summary:
    limits = limits or load_limits(course, assignment)
    ctx = course.context(limits, sandboxed)
    sources = course.sources(assignment)
    summary = Summary()
    todo, sync_only = [], []
    for job in _find_jobs(course, assignment, students, log):
        result_path = course.result_path(assignment, job.student)
        old = _load_json(result_path)
        if not force and old is not None and old.get("digest") == job.digest:
            summary.skipped.append(job.student)
            if not old.get("in_gradebook"):
                sync_only.append(old)
            continue
        todo.append(job)
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
        _sync(course, old, summary, log)
    log(f"{assignment}: {len(todo)} to grade, {len(summary.skipped)} already graded"
        + (f", {jobs} in parallel" if jobs > 1 and len(todo) > 1 else ""))
    for job, result in _run_all(todo, sources, references, ctx, jobs):
        if isinstance(result, BaseException):
            summary.failed.append(job.student)
            log(f"  {job.student}: grader error {type(result).__name__}: {result} (will be retried on the next run)")
            continue
        try:
            atomic_write(course.result_path(assignment, job.student), json.dumps(result, indent=1))
        except OSError as exc:
            summary.failed.append(job.student)
            log(f"  {job.student}: could not save the result ({exc.strerror}); nothing was changed, rerun to retry")
            continue
        summary.graded.append(job.student)
        log(f"  {job.student}: {result['score']:g} / {result['max_score']:g}"
            + (f"  [{len(_flags(result))} flag(s)]" if _flags(result) else ""))
        _sync(course, result, summary, log)
    write_report(course, assignment)
    return summary


def _run_all(todo: list[Job], sources: list[Path], references: dict[str, Any], ctx: GradeContext,
             jobs: int) -> Iterator[tuple[Job, Any]]:
    if jobs <= 1 or len(todo) <= 1:
        for job in todo:
            try:
                yield job, _grade_job(job, sources, references, ctx)
            except Exception as exc:  # a grader bug must not stop the batch
                yield job, exc
        return
    # spawn, not fork: the parent may hold zmq sockets and sqlite handles.
    with futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {pool.submit(_grade_job, job, sources, references, ctx): job for job in todo}
        for fut in futures.as_completed(pending):
            try:
                yield pending[fut], fut.result()
            except Exception as exc:
                yield pending[fut], exc


def _encode_reference(ref: dict[str, Any]) -> dict[str, Any]:
    from autograder.grading import encode_reference
    return encode_reference(ref)


def _find_jobs(course: Course, assignment: str, students: list[str] | None, log: Callable[[str], None]) -> list[Job]:
    base = course.cohort / "submitted"
    if not base.is_dir():
        raise SystemExit(f"nothing to grade: {base} does not exist (run `python -m autograder collect` first)")
    found = []
    for student_dir in sorted(base.iterdir()):
        if students and student_dir.name not in students:
            continue
        folder = student_dir / assignment
        if not folder.is_dir() or not STUDENT_ID.match(student_dir.name):
            continue
        found.append(Job(student_dir.name, assignment, folder, submission_digest(folder)))
    return found


def _load_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # missing or half-written by an older grader: grade again


def _flags(result: dict[str, Any]) -> list[str]:
    return [f for nb in result["notebooks"].values() for f in nb["flags"]] + [
        f"extra file {name} (not graded)" for name in result.get("extra_files", [])]


# ----------------------------------------------------------------------------------------
# Gradebook and autograded notebooks.
# ----------------------------------------------------------------------------------------
def _sync(course: Course, result: dict[str, Any], summary: Summary, log: Callable[[str], None]) -> None:
    student, assignment = result["student"], result["assignment"]
    try:
        write_autograded(course, result)
        _with_retry(lambda: write_gradebook(course, result))
    except (sqlite3.OperationalError, _Locked) as exc:
        summary.pending_gradebook.append(student)
        log(f"  {student}: gradebook busy ({exc}); the result is saved, rerun autograde to record it")
        return
    except OSError as exc:
        summary.pending_gradebook.append(student)
        log(f"  {student}: could not write the graded notebook ({exc.strerror}); rerun autograde to record it")
        return
    result["in_gradebook"] = True
    try:
        atomic_write(course.result_path(assignment, student), json.dumps(result, indent=1))
    except OSError:
        pass  # the gradebook write is idempotent; a rerun simply repeats it


class _Locked(Exception):
    pass


def _with_retry(fn: Callable[[], None], seconds: float = 20.0) -> None:
    from sqlalchemy.exc import OperationalError
    deadline = time.monotonic() + seconds
    delay = 0.2
    while True:
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise _Locked("database is locked by another process") from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def venv_on_path() -> None:
    """nbgrader's Gradebook runs the `alembic` command: make this environment's bin/ findable."""
    bin_dir = os.path.dirname(os.path.abspath(os.sys.executable))
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def write_gradebook(course: Course, result: dict[str, Any]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    venv_on_path()
    student, assignment = result["student"], result["assignment"]
    timestamp = dt.datetime.fromisoformat(result["timestamp"])
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        # nbgrader's own relationship bookkeeping warns (SAWarning) on every new submission.
        warnings.simplefilter("ignore")
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"{assignment} is not in the gradebook: run `make release` (nbgrader "
                             f"generate_assignment) before grading") from None
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        for nb_name, nb in result["notebooks"].items():
            submitted = gb.find_submission_notebook(nb_name, assignment, student)
            submitted.flagged = bool(nb["flags"])
            for grade in submitted.grades:
                if grade.name in nb["cells"]:
                    grade.auto_score = nb["cells"][grade.name]["score"]
                    grade.needs_manual_grade = False
                elif grade.cell_type == "markdown":
                    # A written answer: an instructor reads it; an untouched one scores 0.
                    answer = nb["answers"].get(grade.name)
                    grade.auto_score = None if answer and "YOUR ANSWER HERE" not in answer else 0.0
                    grade.needs_manual_grade = grade.auto_score is None
        gb.db.commit()


def write_autograded(course: Course, result: dict[str, Any]) -> None:
    student, assignment = result["student"], result["assignment"]
    folder = course.cohort / "autograded" / student / assignment
    for src in course.sources(assignment):
        source = Source.load(src)
        nb_result = NotebookResult(**result["notebooks"][src.stem])
        atomic_write(folder / src.name, nbformat.writes(graded_notebook(source, nb_result)))
    stamp = dt.datetime.fromisoformat(result["timestamp"])
    atomic_write(folder / "timestamp.txt", stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + " UTC")


def write_report(course: Course, assignment: str) -> Path:
    """A plain-text report for the instructor: every student's score and every flag."""
    folder = course.cohort / ".grader" / "results" / assignment
    lines = [f"Grading report for {assignment} ({dt.datetime.utcnow():%Y-%m-%d %H:%M} UTC)", ""]
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        result = _load_json(path)
        if not result:
            continue
        status = "" if result.get("in_gradebook") else "  (not yet in the gradebook: rerun autograde)"
        lines.append(f"{result['student']}: {result['score']:g} / {result['max_score']:g}{status}")
        for flag in _flags(result):
            lines.append(f"    FLAG  {flag}")
        for nb_name, nb in result["notebooks"].items():
            for gid, cell in nb["cells"].items():
                if cell.get("status") not in ("ok", None):
                    lines.append(f"    {nb_name}/{gid}: {cell['status']}: {cell.get('error', '')}")
    report = course.cohort / "reports" / f"{assignment}.txt"
    atomic_write(report, "\n".join(lines) + "\n")
    return report


def load_limits(course: Course, assignment: str) -> Limits:
    """Limits from autograder/limits.json: "default" and optional per-assignment overrides."""
    path = course.root / "autograder" / "limits.json"
    settings: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text())
        settings.update(data.get("default", {}))
        settings.update(data.get(assignment, {}))
    settings = {k: v for k, v in settings.items() if not k.startswith("_")}
    return Limits(**settings)
