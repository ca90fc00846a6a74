"""Can one odd entry or one odd submission stop a cohort, or cost another student points?

Collect takes only regular files (issue 8, item 5); a grader-side failure on one submission
becomes that student's "needs attention" result and the batch goes on, and a rerun does not
meet it again (item 6); a killed grader's leftovers are cleaned (item 8); progress is shown on a
terminal and in a log (item 10). Each test states the exact outcome: who was collected or
graded, with which score, which flag, and that the other students' grades are untouched.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from autograder import batch, cleanup, gradebook
from autograder import results as R
from autograder.batch import Job, run_all
from autograder.cohort import Course, autograde, clean_stale_sandboxes, collect, export, write_report
from autograder.display import ProgressBar
from autograder.sandbox import Limits
from tests.conftest import ROOT, sandbox_or_skip

A = "01_activations"
EXAMPLES = ROOT / "autograder" / "example_submissions" / A
LIMITS = Limits(cell_timeout=6, notebook_timeout=120, memory_mb=1024, max_pids=64)
PAST = dt.datetime(2026, 1, 5, 10, 0, 0)
NOW = dt.datetime(2026, 3, 1, 12, 0, 0)


def quiet(*_):
    pass


def strict_latin1_log(messages: list[str]):
    """A log like a terminal in Latin-1: printing a character it cannot show raises."""
    def log(message: str) -> None:
        message.encode("latin-1")
        messages.append(message)
    return log


# ----------------------------------------------------------------------------------------
# Item 5: collect takes only regular files. (No kernel runs here.)
# ----------------------------------------------------------------------------------------
@pytest.fixture
def empty_course(tmp_path) -> Course:
    return Course(ROOT, tmp_path / "cohort")


def _alarm(seconds: int):
    """Fail instead of hanging if something blocks (a FIFO opened for reading would)."""
    def fail(*_):
        raise TimeoutError("collect blocked")
    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    return old


def test_collect_takes_only_regular_files_and_names_each_skipped_student(empty_course, tmp_path):
    inc = tmp_path / "incoming"
    inc.mkdir()
    shutil.copy(EXAMPLES / "alice.ipynb", inc / "alice.ipynb")
    os.symlink(ROOT / "solutions" / A / f"{A}.ipynb", inc / "mallory.ipynb")     # the solution, by link
    os.mkfifo(inc / "pipe.ipynb")                                                # would block a reader
    (inc / "dan" / A / f"{A}.ipynb").mkdir(parents=True)                         # a folder, named as a notebook
    os.symlink(EXAMPLES, inc / "eve")                                            # a student folder that is a link
    (inc / "fay").mkdir()
    os.symlink(EXAMPLES, inc / "fay" / A)                                        # an assignment folder that is a link
    (inc / "gus").mkdir()
    shutil.copy(EXAMPLES / "bob.ipynb", inc / "gus" / f"{A}.ipynb")
    os.mkfifo(inc / "gus" / "scratch.ipynb")                                     # one bad file beside a good one
    devices = True
    try:
        os.mknod(inc / "dev.ipynb", stat.S_IFCHR | 0o600, os.makedev(1, 3))      # /dev/null's device
    except PermissionError:
        devices = False
    messages: list[str] = []
    old = _alarm(30)
    try:
        got = collect(empty_course, inc, A, log=messages.append)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert got == ["alice", "gus"]
    submitted = empty_course.cohort / "submitted"
    assert sorted(os.listdir(submitted)) == ["alice", "gus"]
    assert sorted(os.listdir(submitted / "gus" / A)) == [f"{A}.ipynb", "timestamp.txt"]
    assert (submitted / "gus" / A / f"{A}.ipynb").read_bytes() == (EXAMPLES / "bob.ipynb").read_bytes()
    text = "\n".join(messages)
    assert "skipped mallory: mallory.ipynb is a symbolic link" in text
    assert "skipped pipe: no notebook found (pipe.ipynb is a FIFO (named pipe), not a regular file)" in text
    assert "skipped dan: no notebook found (01_activations.ipynb is a folder, not a regular file)" in text
    assert "skipped eve: eve is a symbolic link" in text
    assert "skipped fay: 01_activations is a symbolic link" in text
    assert "gus: collect skipped scratch.ipynb is a FIFO (named pipe), not a regular file" in text
    if devices:
        assert "skipped dev: no notebook found (dev.ipynb is a character device, not a regular file)" in text
    # The report lists every skipped entry, by name, with the reason.
    report = write_report(empty_course, A).read_text()
    for name in ["mallory", "pipe", "dan", "eve", "fay"] + (["dev"] if devices else []):
        assert f"  {name}: " in report.split("Not collected")[1]
    assert "alice: not graded yet" in report and "gus: not graded yet" in report


def test_collect_distrusts_a_timestamp_in_the_future_and_says_what_it_used(empty_course, tmp_path):
    inc = tmp_path / "incoming"
    (inc / "tim").mkdir(parents=True)
    (inc / "una").mkdir()
    for student in ("tim", "una"):
        shutil.copy(EXAMPLES / "alice.ipynb", inc / student / f"{A}.ipynb")
    (inc / "tim" / "timestamp.txt").write_text("2099-01-01 00:00:00")          # forged: far ahead
    os.utime(inc / "tim" / f"{A}.ipynb", (PAST.replace(tzinfo=dt.timezone.utc).timestamp(),) * 2)
    future = dt.datetime(2099, 6, 1, tzinfo=dt.timezone.utc).timestamp()
    os.utime(inc / "una" / f"{A}.ipynb", (future, future))                      # file time ahead, no stamp
    messages: list[str] = []
    assert collect(empty_course, inc, A, log=messages.append, now=NOW) == ["tim", "una"]
    stamp = lambda s: (empty_course.submitted(s, A) / "timestamp.txt").read_text()
    assert stamp("tim") == "2026-01-05 10:00:00.000000 UTC"
    assert stamp("una") == "2026-03-01 12:00:00.000000 UTC"
    text = "\n".join(messages)
    assert ("tim: timestamp 2099-01-01 00:00:00 is in the future: not trusted; "
            "used the file time 2026-01-05 10:00:00 UTC instead") in text
    assert "una: file time 2099-06-01 00:00:00 is in the future: not trusted; used the time of collection" in text
    # The distrust is kept for grading: it becomes a flag on the student's result.
    jobs = batch.find_jobs(empty_course, A, None, quiet)
    assert [j.notes for j in jobs if j.student == "tim"] == [[
        "timestamp 2099-01-01 00:00:00 is in the future: not trusted; used the file time 2026-01-05 10:00:00 UTC instead"]]
    # A forged future stamp cannot block a later, honest resubmission.
    later = tmp_path / "later"
    (later / "tim").mkdir(parents=True)
    shutil.copy(EXAMPLES / "bob.ipynb", later / "tim" / f"{A}.ipynb")
    (later / "tim" / "timestamp.txt").write_text("2026-02-01 09:00:00")
    assert collect(empty_course, later, A, log=quiet, now=NOW) == ["tim"]
    assert stamp("tim") == "2026-02-01 09:00:00.000000 UTC"


def test_collect_names_in_any_encoding(empty_course, tmp_path):
    inc = tmp_path / "incoming"
    inc.mkdir()
    raw = os.fsencode(inc)
    for name in (b"zo\xc3\xab.ipynb", "李华.ipynb".encode(), b"\xff\xfe.ipynb", b"bad\nname.ipynb", b"ok.ipynb"):
        shutil.copy(EXAMPLES / "carol.ipynb", os.fsdecode(raw + b"/" + name))
    messages: list[str] = []
    got = collect(empty_course, inc, A, log=strict_latin1_log(messages))
    assert got == ["ok", "zoë", "李华"]
    text = "\n".join(messages)
    assert "skipped '\\udcff\\udcfe': not a valid student id: the name is not valid UTF-8 (undecodable bytes)" in text
    assert "skipped 'bad\\nname': not a valid student id: the name contains '\\n'" in text
    assert "collected \\u674e\\u534e" in text        # shown escaped on a terminal that cannot show it
    report = write_report(empty_course, A).read_text(encoding="utf-8")
    assert "zoë: not graded yet" in report and "李华: not graded yet" in report
    assert "'\\udcff\\udcfe': not a valid student id" in report


def test_the_report_survives_a_student_it_cannot_show(empty_course, monkeypatch):
    from autograder import report

    for student, score in (("amy", 3.0), ("ben", 4.0), ("cat", 5.0)):
        nb = {"score": score, "max_score": 22, "cells": {"c": {"score": score, "status": "ok"}}, "flags": [], "answers": {}}
        path = empty_course.result_path(A, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"student": student, "assignment": A, "digest": "d", "score": score,
                                    "max_score": 22, "notebooks": {A: nb}, "in_gradebook": True}))
    real = report._student_lines

    def student_lines(course, assignment, student):
        if student == "ben":
            raise KeyError("cells")
        return real(course, assignment, student)

    monkeypatch.setattr(report, "_student_lines", student_lines)
    text = write_report(empty_course, A).read_text()
    assert text.splitlines()[1:] == ["2 graded, 1 needs attention", "", "amy: 3 / 22",
                                     "ben: needs attention: the report could not show this result (KeyError: 'cells')",
                                     "cat: 5 / 22"]


def test_the_csv_lists_every_student_even_when_nbgrader_export_fails(empty_course, monkeypatch, tmp_path):
    from autograder import report

    nb = {"score": 3.0, "max_score": 22, "cells": {"c": {"score": 3.0, "status": "ok"}}, "flags": [], "answers": {},
          "status": "regrade needed", "attention": ["01_relu_tests timed out"]}
    for student, result in (("amy", {"score": 3.0, "notebooks": {A: nb}, "in_gradebook": True}),
                            ("poison", {"score": 0.0, "notebooks": {}, "status": "needs attention",
                                        "attention": ["grader error (RecursionError: too deep)"]})):
        path = empty_course.result_path(A, student)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"student": student, "assignment": A, "digest": "d", "max_score": 22,
                                    "timestamp": "2026-01-05T10:00:00", **result}))
    inc = tmp_path / "incoming"
    inc.mkdir()
    os.symlink(ROOT / "solutions" / A / f"{A}.ipynb", inc / "mallory.ipynb")
    collect(empty_course, inc, A, log=quiet)
    messages: list[str] = []
    monkeypatch.setattr(report, "run_nbgrader", lambda *a, **k: 1)
    rows = list(csv.DictReader(open(export(empty_course, tmp_path / "grades.csv", log=messages.append))))
    assert [(r["student_id"], r["score"], r["status"], r["attention"]) for r in rows] == [
        ("amy", "3", "regrade needed", "01_relu_tests timed out"),
        ("poison", "", "needs attention", "grader error (RecursionError: too deep)"),
        ("mallory", "", "needs attention",
         "not collected: mallory.ipynb is a symbolic link (only regular files and folders are collected)")]
    assert messages == ["nbgrader export failed (exit 1); the CSV is built from the grader's results alone"]


# ----------------------------------------------------------------------------------------
# Item 6: one submission can never stop the batch. (Kernels run; the others' grades are exact.)
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    sandbox_or_skip()
    cohort = tmp_path_factory.mktemp("released")
    env = {**os.environ, "DLCOURSE_COHORT": str(cohort)}
    done = subprocess.run([sys.executable, "-m", "autograder", "release", A], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return cohort


@pytest.fixture(scope="module")
def graded(released, tmp_path_factory) -> Path:
    """alice (47.5) and bob (0), collected and graded once; tests work on copies."""
    cohort = tmp_path_factory.mktemp("graded") / "cohort"
    cohort.mkdir()
    shutil.copy(released / "gradebook.db", cohort / "gradebook.db")
    course = Course(ROOT, cohort)
    inc = tmp_path_factory.mktemp("ab")
    for s in ("alice", "bob"):
        shutil.copy(EXAMPLES / f"{s}.ipynb", inc / f"{s}.ipynb")
    collect(course, inc, A, log=quiet)
    summary = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert sorted(summary.graded) == ["alice", "bob"]
    return cohort


@pytest.fixture
def course(graded, tmp_path) -> Course:
    shutil.copytree(graded, tmp_path / "cohort")
    return Course(ROOT, tmp_path / "cohort")


def gradebook_scores(course: Course) -> dict[str, float]:
    with sqlite3.connect(course.cohort / "gradebook.db") as db:
        rows = db.execute("""select student.id, sum(coalesce(grade.auto_score, 0)) from grade
                             join submitted_notebook on grade.notebook_id = submitted_notebook.id
                             join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id
                             join student on submitted_assignment.student_id = student.id group by student.id""").fetchall()
    return {s: float(score) for s, score in rows}


def add_student(course: Course, student: str, nb_text: str) -> None:
    inc = course.cohort.parent / f"incoming-{uuid.uuid4().hex[:6]}"
    inc.mkdir()
    (inc / f"{student}.ipynb").write_text(nb_text, encoding="utf-8")
    assert collect(course, inc, A, log=quiet) == [student]


def result_of(course: Course, student: str) -> dict:
    return json.loads(course.result_path(A, student).read_text())


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    return {r["student_id"]: r for r in csv.DictReader(open(path, encoding="utf-8"))}


def test_a_grader_error_on_one_submission_is_flagged_the_batch_goes_on_and_a_rerun_skips_it(course, monkeypatch):
    add_student(course, "poison", (EXAMPLES / "carol.ipynb").read_text())
    add_student(course, "carol", (EXAMPLES / "carol.ipynb").read_text())
    real = batch.grade_notebook
    calls: list[str] = []

    def grade_notebook(path, *args):
        student = Path(path).parent.parent.name
        calls.append(student)
        if student == "poison":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path, *args)

    monkeypatch.setattr(batch, "grade_notebook", grade_notebook)
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet, force=True)
    assert sorted(summary.graded) == ["alice", "bob", "carol", "poison"] and summary.attention == ["poison"]
    assert not summary.failed
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0, "carol": 42.5}   # poison: no fake 0 recorded
    poison = result_of(course, "poison")
    assert poison["status"] == "needs attention" and poison["score"] == 0
    assert poison["attention"] == ["grader error while grading 01_activations.ipynb "
                                   "(RecursionError: maximum recursion depth exceeded)"]
    report = course.report_path(A).read_text()
    assert "poison: 0 / 47.5  [needs attention]  (not in the gradebook)" in report
    assert "    NEEDS ATTENTION  grader error while grading 01_activations.ipynb (RecursionError" in report
    assert "carol: 42.5 / 47.5\n" in report and "alice: 47.5 / 47.5\n" in report
    # A rerun does not meet the same crash: poison is skipped, nobody is graded again.
    calls.clear()
    rerun = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert calls == [] and sorted(rerun.skipped) == ["alice", "bob", "carol", "poison"]
    # The CSV lists every student, with a status, the one needing attention included.
    rows = csv_rows(export(course, course.cohort / "grades.csv", log=quiet))
    assert {s: (r["score"], r["status"]) for s, r in rows.items()} == {
        "alice": ("47.5", "graded"), "bob": ("0.0", "graded"), "carol": ("42.5", "graded"),
        "poison": ("", "needs attention")}
    assert rows["poison"]["attention"].startswith("grader error while grading 01_activations.ipynb (RecursionError")


def test_lone_surrogates_deep_nesting_and_oddly_typed_metadata_are_handled(course):
    nb = json.loads((EXAMPLES / "alice.ipynb").read_text())
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "01_sigmoid":
            cell["source"] = "".join(cell["source"]) + "\n# r\udcffsum\u00e9 \U0001F600\n"   # a lone surrogate
        if meta.get("grade_id") == "01_softmax_tests":
            cell["metadata"] = {"nbgrader": {"grade_id": "01_softmax_tests", "points": "many", "grade": [1]}, "tags": 7}
    nb["metadata"] = [1, 2, 3]                                           # not an object at all
    add_student(course, "zoë", json.dumps(nb))                          # a name beyond ASCII                          # \udcff stays a JSON escape
    odd = json.loads((EXAMPLES / "alice.ipynb").read_text())
    for cell in odd["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "01_tanh_tests":
            cell["metadata"]["nbgrader"]["grade_id"] = ["01_tanh_tests", {"x": None}]   # a list as a grade_id
    add_student(course, "lia", json.dumps(odd))
    deep = json.loads((EXAMPLES / "alice.ipynb").read_text())
    deep["cells"][0]["metadata"]["deep"] = "DEEP"
    add_student(course, "dee", json.dumps(deep).replace('"DEEP"', "[" * 200000 + "]" * 200000))
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert sorted(summary.graded) == ["dee", "lia", "zoë"] and not summary.failed
    scores = gradebook_scores(course)
    assert scores["alice"] == 47.5 and scores["bob"] == 0.0          # untouched
    assert scores["zoë"] == 47.5                                     # odd metadata: the source's was used
    zoe = result_of(course, "zoë")
    assert zoe["status"] == "graded"
    assert "r\ufffdsum\u00e9 \U0001F600" in zoe["notebooks"][A]["answers"]["01_sigmoid"]   # kept, made writable
    autograded = (course.cohort / "autograded" / "zoë" / A / f"{A}.ipynb").read_text(encoding="utf-8")
    assert "r\ufffdsum" in autograded
    # Where grading itself cannot cope (a list as a grade_id, JSON nested 200000 deep), the
    # student is "needs attention" with the reason and nothing false goes into the gradebook;
    # where it copes, the grade is exact. Either way the batch went on.
    for student, ok_score in (("lia", 47.5), ("dee", 0.0)):
        result = result_of(course, student)
        if result["status"] == "needs attention":
            assert result["attention"][0].startswith("grader error while grading 01_activations.ipynb (")
            assert student not in scores
        else:
            assert scores[student] == ok_score == result["score"]
    report = course.report_path(A).read_text(encoding="utf-8")
    assert "zoë: 47.5 / 47.5\n" in report and "lia: " in report and "dee: 0 / 47.5" in report


def test_a_future_timestamp_is_a_flag_on_the_graded_result_and_in_the_gradebook(course, tmp_path):
    inc = tmp_path / "late"
    (inc / "tim").mkdir(parents=True)
    shutil.copy(EXAMPLES / "alice.ipynb", inc / "tim" / f"{A}.ipynb")
    (inc / "tim" / "timestamp.txt").write_text("2099-01-01 00:00:00")
    os.utime(inc / "tim" / f"{A}.ipynb", (PAST.replace(tzinfo=dt.timezone.utc).timestamp(),) * 2)
    assert collect(course, inc, A, log=quiet) == ["tim"]
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert summary.graded == ["tim"] and sorted(summary.skipped) == ["alice", "bob"]
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0, "tim": 47.5}
    note = "timestamp 2099-01-01 00:00:00 is in the future: not trusted; used the file time 2026-01-05 10:00:00 UTC instead"
    assert f"tim: 47.5 / 47.5\n    FLAG  {note}\n" in course.report_path(A).read_text()
    with sqlite3.connect(course.cohort / "gradebook.db") as db:
        rows = db.execute("""select student.id, submitted_notebook.flagged, submitted_assignment.timestamp
                             from submitted_notebook join submitted_assignment
                             on submitted_notebook.assignment_id = submitted_assignment.id
                             join student on submitted_assignment.student_id = student.id""").fetchall()
    got = {s: (bool(f), str(t)[:19]) for s, f, t in rows}
    # tim: the distrusted timestamp. alice too, since: tim handed in alice's notebook, which is the
    # published solution, so both carry a copy flag (a note for a person, never a score).
    assert {s: f for s, (f, _) in got.items()} == {"alice": True, "bob": False, "tim": True}
    assert "tim: 01_softmax is 100% similar to alice" in course.report_path(A).read_text()
    assert got["tim"][1] == "2026-01-05 10:00:00"          # the time used, not the forged one


def test_poisoned_result_files_are_regraded_not_crashed_on(course):
    results = course.results_dir(A)
    digest = result_of(course, "alice")["digest"]
    (results / "alice.json").write_text(json.dumps({"student": "alice", "assignment": A, "digest": digest,
                                                    "score": "lots", "max_score": 22, "notebooks": 5}))
    (results / "bob.json").write_text("[" * 100000 + "]" * 100000)
    report = write_report(course, A).read_text()
    assert "alice: needs attention: the result file is malformed (score or max_score is not a number)" in report
    assert "bob: needs attention: the result file is unreadable" in report
    messages: list[str] = []
    summary = autograde(course, A, jobs=2, limits=LIMITS, log=messages.append)
    assert sorted(summary.graded) == ["alice", "bob"] and not summary.attention and not summary.failed
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0}       # counted once each
    assert result_of(course, "alice")["score"] == 47.5 and result_of(course, "bob")["score"] == 0
    assert any("alice: the result file is malformed" in m and "grading it again" in m for m in messages)


def test_a_gradebook_row_that_fails_flags_the_student_once_and_the_others_are_recorded(course, monkeypatch):
    add_student(course, "carol", (EXAMPLES / "carol.ipynb").read_text())
    real = gradebook.write_gradebook
    calls: list[str] = []

    def write_gradebook(c, result):
        calls.append(result["student"])
        if result["student"] == "carol":
            from nbgrader.api import InvalidEntry
            raise InvalidEntry("row rejected")
        return real(c, result)

    monkeypatch.setattr(gradebook, "write_gradebook", write_gradebook)
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert summary.graded == ["carol"] and summary.attention == ["carol"] and not summary.pending_gradebook
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0}
    carol = result_of(course, "carol")
    assert carol["status"] == "needs attention" and carol["score"] == 42.5
    assert carol["record_error"] == "could not be recorded in the gradebook (InvalidEntry: row rejected)"
    report = course.report_path(A).read_text()
    assert "carol: 42.5 / 47.5  [needs attention]  (not in the gradebook: see below)" in report
    assert "    NEEDS ATTENTION  could not be recorded in the gradebook (InvalidEntry: row rejected)" in report
    calls.clear()
    rerun = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert calls == [] and sorted(rerun.skipped) == ["alice", "bob", "carol"]   # the same write is not retried
    rows = csv_rows(export(course, course.cohort / "grades.csv", log=quiet))
    assert (rows["carol"]["score"], rows["carol"]["status"]) == ("42.5", "needs attention")
    assert rows["alice"]["status"] == "graded"


def test_an_undecodable_folder_in_submitted_is_reported_and_never_crashes(course):
    bad = os.fsdecode(os.fsencode(course.cohort / "submitted") + b"/\xff\xfe")
    os.makedirs(os.path.join(bad, A))
    shutil.copy(EXAMPLES / "alice.ipynb", os.path.join(bad, A, f"{A}.ipynb"))
    for _ in range(2):                                   # the rerun meets it the same way, calmly
        messages: list[str] = []
        summary = autograde(course, A, jobs=1, limits=LIMITS, log=strict_latin1_log(messages))
        assert summary.attention == ["\udcff\udcfe"] and sorted(summary.skipped) == ["alice", "bob"]
        assert any("skipped '\\udcff\\udcfe': not a valid student id" in m for m in messages)
    report = course.report_path(A).read_text()
    assert "'\\udcff\\udcfe': needs attention: the folder submitted/'\\udcff\\udcfe' is not a valid student id" in report
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0}
    rows = csv_rows(export(course, course.cohort / "grades.csv", log=quiet))
    assert rows["'\\udcff\\udcfe'"]["status"] == "needs attention"


def test_regrade_needed_is_regraded_by_the_next_run(course):
    path = course.result_path(A, "alice")
    result = json.loads(path.read_text())
    result["status"], result["attention"] = "regrade needed", ["01_relu_tests timed out on a busy host"]
    path.write_text(json.dumps(result))
    assert "alice: 47.5 / 47.5  [regrade needed]" in write_report(course, A).read_text()
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert summary.graded == ["alice"] and summary.skipped == ["bob"]
    assert result_of(course, "alice")["status"] == "graded" and result_of(course, "alice")["auto_regrades"] == 1
    assert gradebook_scores(course) == {"alice": 47.5, "bob": 0.0}
    # One that stays "regrade needed" is regraded by itself at most twice, then left for a person.
    result = result_of(course, "alice")
    result["status"], result["auto_regrades"] = "regrade needed", batch.MAX_AUTO_REGRADES
    path.write_text(json.dumps(result))
    again = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert again.graded == [] and sorted(again.skipped) == ["alice", "bob"]


# A grading function for worker processes (spawned workers import it from this module).
def fake_grade(job, sources, references, ctx):
    if job.student == "crash":
        os._exit(3)                                  # the grader's own process dies
    return {"student": job.student, "graded": True}


def test_a_dead_grading_worker_costs_only_its_own_submission():
    jobs = [Job(s, A, Path("/nonexistent"), "d") for s in ("amy", "crash", "ben", "cat")]
    got = dict((job.student, result) for job, result in run_all(jobs, [], {}, None, jobs=2, grade=fake_grade))
    assert set(got) == {"amy", "crash", "ben", "cat"}
    assert isinstance(got["crash"], batch.GraderDied)
    assert {s: got[s] for s in ("amy", "ben", "cat")} == {s: {"student": s, "graded": True} for s in ("amy", "ben", "cat")}


# ----------------------------------------------------------------------------------------
# Item 8: what a killed grader left behind is cleaned by the next run, and only that.
# ----------------------------------------------------------------------------------------
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_cleanup_removes_only_what_dead_graders_left(tmp_path):
    shm, cg = tmp_path / "shm", tmp_path / "cgroup"
    dead, alive = dead_pid(), os.getpid()
    for name in (f"dlcourse-run-{dead}-0a1b2c3d", f"dlcourse-run-{alive}-0a1b2c3d", "dlcourse-legacy", "other-app"):
        (shm / name / "work").mkdir(parents=True)
        (shm / name / "kernel.json").write_text("{}")
    old = os.path.getmtime(shm / "dlcourse-legacy") - 2 * cleanup.LEGACY_AGE_S
    os.utime(shm / "dlcourse-legacy", (old, old))
    (shm / "dlcourse-fresh-legacy").mkdir()
    for controller in ("memory", "pids"):
        (cg / controller / "dlcourse-grader" / f"run-{dead}-deadbeef").mkdir(parents=True)
        (cg / controller / "dlcourse-grader" / f"run-{alive}-cafe0001").mkdir(parents=True)
    (cg / "dlcourse-grader" / f"run-{dead}-00ff").mkdir(parents=True)             # a cgroup v2 layout
    removed = clean_stale_sandboxes(shm=shm, cgroup_root=cg, log=quiet)
    assert sorted(str(p.relative_to(tmp_path)) for p in removed) == sorted([
        f"cgroup/dlcourse-grader/run-{dead}-00ff", f"cgroup/memory/dlcourse-grader/run-{dead}-deadbeef",
        f"cgroup/pids/dlcourse-grader/run-{dead}-deadbeef", "shm/dlcourse-legacy",
        f"shm/dlcourse-run-{dead}-0a1b2c3d"])
    assert sorted(os.listdir(shm)) == ["dlcourse-fresh-legacy", f"dlcourse-run-{alive}-0a1b2c3d", "other-app"]
    assert os.listdir(cg / "pids" / "dlcourse-grader") == [f"run-{alive}-cafe0001"]


@pytest.mark.skipif(not (os.geteuid() == 0 and Path("/sys/fs/cgroup/pids").is_dir()), reason="needs root and cgroup v1 pids")
def test_cleanup_kills_leftover_processes_and_removes_a_real_cgroup(tmp_path):
    cg = Path("/sys/fs/cgroup/pids/dlcourse-grader") / f"run-{dead_pid()}-{uuid.uuid4().hex[:8]}"
    cg.mkdir(parents=True)
    orphan = subprocess.Popen(["sleep", "300"])
    try:
        (cg / "cgroup.procs").write_text(str(orphan.pid))
        removed = clean_stale_sandboxes(shm=tmp_path, log=quiet)
        assert cg in removed and not cg.exists()
        assert orphan.wait(timeout=10) == -signal.SIGKILL
    finally:
        orphan.kill()
        if cg.exists():
            cg.rmdir()


def test_autograde_starts_by_cleaning_a_dead_graders_connection_folder(tmp_path):
    leftover = Path("/dev/shm") / f"dlcourse-run-{dead_pid()}-{uuid.uuid4().hex[:8]}"
    leftover.mkdir()
    (leftover / "kernel-1.json").write_text("{}")
    course = Course(ROOT, tmp_path / "cohort")
    (course.cohort / "submitted").mkdir(parents=True)
    try:
        messages: list[str] = []
        summary = autograde(course, A, jobs=1, limits=LIMITS, log=messages.append, sandboxed=False)
        assert not leftover.exists()
        assert summary.graded == [] and any("left by a grader that was killed" in m for m in messages)
    finally:
        shutil.rmtree(leftover, ignore_errors=True)


# ----------------------------------------------------------------------------------------
# Item 10: progress on a terminal and in a log.
# ----------------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_progress_bar_on_a_terminal_redraws_one_line_with_count_eta_and_current_student():
    stream, lines, clock = io.StringIO(), [], Clock()
    bar = ProgressBar(4, log=lines.append, stream=stream, tty=True, width=8, clock=clock)
    bar.start("alice")
    bar.start("bob")
    clock.t += 30
    bar.finish("alice", "  alice: 47.5 / 47.5")
    bar.start("carol")
    screen = stream.getvalue()
    assert screen.endswith("\r\x1b[K[##......] 1/4  25%  ETA 1:30  now: bob, carol")
    assert "\r\x1b[K[........] 0/4  0%  ETA ?  now: alice, bob" in screen
    assert lines == ["  alice: 47.5 / 47.5"]                   # the line scrolls above the bar
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_progress_in_a_log_is_plain_numbered_lines():
    stream, lines, clock = io.StringIO(), [], Clock()
    bar = ProgressBar(3, log=lines.append, stream=stream, tty=False, clock=clock)
    for i, s in enumerate(("alice", "bob", "carol")):
        bar.start(s)
        clock.t += 10
        bar.finish(s, f"  {s}: {i} / 22")
    bar.close()
    assert stream.getvalue() == ""
    assert lines == ["[1/3] alice: 0 / 22  (ETA 0:20)", "[2/3] bob: 1 / 22  (ETA 0:10)", "[3/3] carol: 2 / 22"]


def test_autograde_command_shows_a_bar_on_a_terminal_and_plain_lines_otherwise(released, tmp_path):
    import pty

    cohort = tmp_path / "cohort"
    cohort.mkdir()
    shutil.copy(released / "gradebook.db", cohort / "gradebook.db")
    inc = tmp_path / "inc"
    inc.mkdir()
    shutil.copy(EXAMPLES / "bob.ipynb", inc / "bob.ipynb")
    env = {**os.environ, "DLCOURSE_COHORT": str(cohort)}
    subprocess.run([sys.executable, "-m", "autograder", "collect", str(inc), A], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    master, slave = pty.openpty()
    done = subprocess.run([sys.executable, "-m", "autograder", "autograde", A, "--jobs", "1"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=slave, text=True, timeout=300)
    os.close(slave)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    assert done.returncode == 0, done.stdout
    assert b"\r\x1b[K[........................] 0/1  0%  ETA ?  now: bob" in screen
    assert "  bob: 0 / 47.5" in done.stdout and "\r" not in done.stdout
    logged = subprocess.run([sys.executable, "-m", "autograder", "autograde", A, "--jobs", "1", "--force"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert logged.returncode == 0 and "[1/1] bob: 0 / 47.5" in logged.stdout
    assert "\r" not in logged.stdout + logged.stderr


def test_results_status_reading_treats_a_missing_status_as_graded():
    nb = {"score": 1, "max_score": 2, "cells": {"c": {"score": 1}}, "flags": [], "answers": {}}
    result = {"student": "s", "assignment": A, "digest": "d", "score": 1, "max_score": 2, "notebooks": {"n": nb}}
    assert R.problem(result) is None and R.status(result) == "graded" and R.attention(result) == []
    nb["status"], nb["attention"] = "regrade needed", ["cell timed out"]
    assert R.status(result) == "regrade needed" and R.attention(result) == ["cell timed out"]
    nb["status"] = "on fire"                                   # an unknown status is not trusted as graded
    assert R.status(result) == "needs attention"
