"""Recording a result: the autograded notebook (what feedback is made from) and nbgrader's gradebook.

Recording is idempotent, so a rerun may repeat it. Two kinds of failure are told apart:
- the gradebook is locked or busy, or a disk write fails: the result stays saved, it is
  marked "not yet in the gradebook", and the next run records it;
- anything else (a gradebook row nbgrader cannot handle, a result it rejects): the student is
  marked "needs attention" with the reason, the batch goes on, and a rerun does not try the
  same write again (``record_error`` in the result file; --force regrades and retries).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
import time
import warnings
from typing import Any, Callable

import nbformat

from autograder.course import Course
from autograder.files import atomic_write, dump_json, format_timestamp, read_regular
from autograder.grading import NotebookResult, Source, graded_notebook
from autograder.results import recordable


class _Locked(Exception):
    pass


class NotReleased(Exception):
    """The assignment is not in the gradebook yet (a course step was skipped, not a student's fault)."""


def venv_on_path() -> None:
    """nbgrader's Gradebook runs the `alembic` command: make this environment's bin/ findable."""
    bin_dir = os.path.dirname(os.path.abspath(sys.executable))
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def run_nbgrader(course: Course, *args: str, db: bool = True, check: bool = True,
                 source: Path | None = None) -> int:
    """Run an nbgrader command with this course's folders (cohort may live elsewhere).
    ``source``: where the assignments' sources are (a merged copy when there is an overlay)."""
    c = course.cohort
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={course.root}",
           *([f"--CourseDirectory.source_directory={source}"] if source else []),
           # The cohort gets its own copy of the student version; lessons/ is only ever written
           # by `make lessons`, so grading a cohort never touches the repository.
           f"--CourseDirectory.release_directory={c / 'release'}",
           f"--CourseDirectory.submitted_directory={c / 'submitted'}",
           f"--CourseDirectory.autograded_directory={c / 'autograded'}",
           f"--CourseDirectory.feedback_directory={c / 'feedback'}",
           f"--CourseDirectory.db_url={course.db_url if db else 'sqlite:///' + str(c / '.scratch.db')}",
           "--log-level=WARN"]
    c.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(cmd, cwd=course.root)
    if done.returncode and check:
        raise SystemExit(f"nbgrader {args[0]} failed (exit {done.returncode})")
    return done.returncode


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


def record(course: Course, result: dict[str, Any], summary: Any, log: Callable[[str], None]) -> None:
    """Write the autograded notebook and the gradebook entry for one result, then mark the
    result file as recorded. Never raises; what went wrong is logged and kept in the result."""
    student, assignment = result["student"], result["assignment"]
    if not recordable(result):
        return  # the grader failed on it: there is nothing true to record (the report says why)
    try:
        write_autograded(course, result)
        _with_retry(lambda: write_gradebook(course, result))
    except (sqlite3.OperationalError, _Locked) as exc:
        summary.pending_gradebook.append(student)
        log(f"  {student}: gradebook busy ({exc}); the result is saved, rerun autograde to record it")
        return
    except NotReleased as exc:
        summary.pending_gradebook.append(student)
        log(f"  {student}: {exc}; the result is saved, rerun autograde after releasing to record it")
        return
    except OSError as exc:
        summary.pending_gradebook.append(student)
        log(f"  {student}: could not write the graded notebook ({exc.strerror or exc}); rerun autograde to record it")
        return
    except Exception as exc:  # deterministic: a rerun would meet it again, so say so once and move on
        why = f"could not be recorded in the gradebook ({type(exc).__name__}: {str(exc)[:300]})"
        result["record_error"] = why
        result["status"] = "needs attention"
        result.setdefault("attention", []).append(why)
        summary.attention.append(student)
        log(f"  {student}: needs attention: {why}")
    else:
        result["in_gradebook"] = True
        result.pop("record_error", None)
    try:
        atomic_write(course.result_path(assignment, student), dump_json(result))
    except OSError:
        pass  # the gradebook write is idempotent; a rerun simply repeats it


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
            raise NotReleased(f"{assignment} is not in the gradebook: run `make release` (nbgrader "
                              f"generate_assignment) before grading") from None
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        for nb_name, nb in result["notebooks"].items():
            submitted = gb.find_submission_notebook(nb_name, assignment, student)
            # Flags of the whole submission (collect distrusted its timestamp) flag each notebook.
            submitted.flagged = (bool(nb.get("flags")) or bool(result.get("flags"))
                                 or nb.get("status", "graded") != "graded")
            for grade in submitted.grades:
                if grade.name in nb["cells"]:
                    grade.auto_score = float(nb["cells"][grade.name]["score"])
                    grade.needs_manual_grade = False
                elif grade.cell_type == "markdown":
                    # A written answer: an instructor reads it; an untouched one scores 0.
                    answer = nb.get("answers", {}).get(grade.name)
                    answer = answer if isinstance(answer, str) else ""
                    grade.auto_score = None if answer and "YOUR ANSWER HERE" not in answer else 0.0
                    grade.needs_manual_grade = grade.auto_score is None
        gb.db.commit()


def notebook_result(data: dict[str, Any]) -> NotebookResult:
    """A NotebookResult from its JSON, keeping only the fields this grader's NotebookResult has."""
    names = {f.name for f in dataclasses.fields(NotebookResult)}
    return NotebookResult(**{k: v for k, v in data.items() if k in names})


def write_autograded(course: Course, result: dict[str, Any]) -> None:
    student, assignment = result["student"], result["assignment"]
    folder = course.cohort / "autograded" / student / assignment
    for src in course.sources(assignment):
        if src.stem not in result["notebooks"]:
            continue
        source = Source.load(src)
        nb_result = notebook_result(result["notebooks"][src.stem])
        atomic_write(folder / src.name, nbformat.writes(graded_notebook(source, nb_result)))
    stamp = dt.datetime.fromisoformat(result["timestamp"])
    atomic_write(folder / "timestamp.txt", format_timestamp(stamp))
    # A submission through nbgrader's exchange carries the secret that names its feedback there:
    # generate_feedback copies it on, and release_feedback cannot release feedback without it.
    secret = _submission_secret(course.submitted(student, assignment) / "submission_secret.txt")
    if secret:
        atomic_write(folder / "submission_secret.txt", secret)


def _submission_secret(path: Path) -> str | None:
    """nbgrader's submission secret (hex, written by its submit), or None if absent or not one."""
    try:
        text = read_regular(path, 4096).decode("ascii").strip()
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return text if text and all(c in "0123456789abcdef" for c in text) else None


def record_copy_flags(course: Course, assignment: str, flags: list[Any]) -> None:
    """Put copy flags into the formgrader as the flagged answer cells' automatic comments
    (what the instructor sees beside the answer while grading), replacing older ones."""
    from nbgrader.api import Gradebook, MissingEntry

    venv_on_path()
    texts: dict[tuple[str, str], list[str]] = {}
    for flag in flags:
        texts.setdefault((flag.student, flag.cell), []).append(flag.text())
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        for src in course.sources(assignment):
            for student in {s for s, _ in texts}:
                try:
                    nb = gb.find_submission_notebook(src.stem, assignment, student)
                except MissingEntry:
                    continue
                for comment in nb.comments:
                    flagged = texts.get((student, comment.name))
                    if flagged:
                        comment.auto_comment = "\n".join(flagged)
                        nb.flagged = True
                    elif (comment.auto_comment or "").startswith("possible copy"):
                        comment.auto_comment = None
        gb.db.commit()
