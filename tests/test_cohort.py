"""Does cohort grading survive its infrastructure failing: the grader killed mid-cohort, a locked
gradebook, resubmissions, one bad submission among many, and a full disk during a write?"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import cleanup as clean
from autograder import gradebook as gradebook_mod
from autograder.cohort import Course, autograde, collect
from autograder.sandbox import Limits
from tests.conftest import ROOT, sandbox_or_skip

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("lessons")]
A = "01_activations"
EXAMPLES = ROOT / "autograder" / "example_submissions" / A
EXPECTED = {"alice": 47.5, "bob": 0.0, "carol": 42.5, "dave": 42.0, "erin": 47.5}
LIMITS = Limits(cell_timeout=6, notebook_timeout=120, memory_mb=1024, max_pids=64)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A cohort folder whose gradebook knows the assignment (nbgrader generate_assignment)."""
    sandbox_or_skip()
    cohort = tmp_path_factory.mktemp("released")
    env = {**os.environ, "DLCOURSE_COHORT": str(cohort)}
    done = subprocess.run([sys.executable, "-m", "autograder", "release", A], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return cohort


@pytest.fixture
def course(released, tmp_path) -> Course:
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    shutil.copy(released / "gradebook.db", cohort / "gradebook.db")
    return Course(ROOT, cohort)


def gradebook_scores(course: Course) -> dict[str, float]:
    with sqlite3.connect(course.cohort / "gradebook.db") as db:
        rows = db.execute("""select student.id, sum(coalesce(grade.auto_score, 0)), count(distinct submitted_assignment.id)
                             from grade join submitted_notebook on grade.notebook_id = submitted_notebook.id
                             join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id
                             join student on submitted_assignment.student_id = student.id group by student.id""").fetchall()
    assert all(n == 1 for _, _, n in rows), "a submission was counted twice"
    return {s: float(score) for s, score, _ in rows}


def quiet(*_):
    pass


def test_cohort_grades_exactly_and_a_rerun_redoes_nothing(course):
    collect(course, EXAMPLES, A, log=quiet)
    first = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert sorted(first.graded) == sorted(EXPECTED) and not first.failed
    assert gradebook_scores(course) == EXPECTED
    again = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert again.graded == [] and sorted(again.skipped) == sorted(EXPECTED)
    assert gradebook_scores(course) == EXPECTED


def test_one_timeout_and_one_crash_among_many_leave_the_others_exact(course, tmp_path):
    folder = tmp_path / "incoming"
    shutil.copytree(EXAMPLES, folder)
    text = (folder / "alice.ipynb").read_text()
    (folder / "frank.ipynb").write_text(text.replace("def relu(x):", "import os\\nos._exit(1)\\ndef relu(x):", 1))
    (folder / "gina.ipynb").write_text(text.replace("return np.maximum(0.0, x)",
                                                    "while True:\\n        pass", 1))
    (folder / "hank.ipynb").write_text(text[: len(text) // 2])  # truncated upload
    collect(course, folder, A, log=quiet)
    summary = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert not summary.failed
    scores = gradebook_scores(course)
    assert {s: scores[s] for s in EXPECTED} == EXPECTED
    assert scores["frank"] == 13.0     # sigmoid + tanh graded before the kernel exited
    assert scores["gina"] == 40.5      # relu timed out (and the diagnosis checks that call it); the rest graded
    assert scores["hank"] == 0.0
    report = (course.cohort / "reports" / f"{A}.txt").read_text()
    assert "hank: 0 / 47.5" in report and "not valid notebook JSON" in report
    assert "frank: 13 / 47.5" in report and "kernel died" in report


def test_resubmission_newest_counts_and_older_never_replaces_it(course, tmp_path):
    older, newer = tmp_path / "old", tmp_path / "new"
    for folder, name, stamp in [(older, "bob.ipynb", "2026-01-01 10:00:00"), (newer, "alice.ipynb", "2026-01-02 10:00:00")]:
        (folder / "pat").mkdir(parents=True)
        shutil.copy(EXAMPLES / name, folder / "pat" / f"{A}.ipynb")
        (folder / "pat" / "timestamp.txt").write_text(stamp)
    collect(course, older, A, log=quiet)
    autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert gradebook_scores(course) == {"pat": 0.0}
    collect(course, newer, A, log=quiet)       # the newer, correct one
    autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert gradebook_scores(course) == {"pat": 47.5}
    messages = []
    collect(course, older, A, log=messages.append)  # the old one again: ignored
    assert any("kept the existing submission" in m for m in messages)
    autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert gradebook_scores(course) == {"pat": 47.5}


def test_grader_killed_mid_cohort_finishes_on_rerun_without_double_counting(course):
    collect(course, EXAMPLES, A, log=quiet)
    env = {**os.environ, "DLCOURSE_COHORT": str(course.cohort)}
    cmd = [sys.executable, "-m", "autograder", "autograde", A, "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    results = course.cohort / ".grader" / "results" / A
    deadline = time.time() + 120
    while time.time() < deadline and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
    proc.wait()
    done_before = {p.stem for p in results.glob("*.json")}
    assert 2 <= len(done_before) < len(EXPECTED)
    summary = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    # Nothing of the killed grader is left: its cgroups and connection folders went at the
    # start of the rerun (names carry the grader's pid: run-<pid>-<hex>).
    left = [p for pattern in clean.CGROUP_PATTERNS for p in clean.CGROUP_ROOT.glob(pattern)
            if clean.owner_pid(p.name) == proc.pid] + [p for p in clean.SHM.glob("dlcourse-*")
                                                        if clean.owner_pid(p.name) == proc.pid]
    assert left == []
    assert set(summary.skipped) == done_before
    assert set(summary.graded) == set(EXPECTED) - done_before
    assert gradebook_scores(course) == EXPECTED


def test_locked_gradebook_keeps_results_and_a_rerun_records_them(course, monkeypatch):
    collect(course, EXAMPLES, A, log=quiet)
    monkeypatch.setattr(gradebook_mod, "_with_retry", lambda fn, seconds=1.0, _orig=gradebook_mod._with_retry: _orig(fn, 1.0))
    lock = sqlite3.connect(course.cohort / "gradebook.db", timeout=0)
    lock.execute("begin exclusive")
    try:
        summary = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    finally:
        lock.rollback()
        lock.close()
    assert sorted(summary.pending_gradebook) == sorted(EXPECTED) and not summary.failed
    report = (course.cohort / "reports" / f"{A}.txt").read_text()
    assert report.count("not yet in the gradebook") == len(EXPECTED)
    rerun = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert rerun.graded == [] and not rerun.pending_gradebook   # recorded, not regraded
    assert gradebook_scores(course) == EXPECTED


def test_disk_full_during_a_write_leaves_no_half_written_state(course, monkeypatch):
    collect(course, EXAMPLES, A, log=quiet)
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    summary = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert len(summary.failed) == 1
    leftovers = [p for p in course.cohort.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    for path in (course.cohort / ".grader" / "results" / A).glob("*.json"):
        json.loads(path.read_text())  # every result on disk is whole
    monkeypatch.setattr(os, "fsync", real_fsync)
    rerun = autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert rerun.graded == summary.failed
    assert gradebook_scores(course) == EXPECTED


def test_missing_renamed_extra_files(course, tmp_path):
    folder = tmp_path / "incoming"
    (folder / "ivy").mkdir(parents=True)
    shutil.copy(EXAMPLES / "alice.ipynb", folder / "ivy" / f"{A} (1).ipynb")   # renamed by a download
    (folder / "jon").mkdir()
    (folder / "jon" / "notes.ipynb").write_text("{}")                         # wrong notebook
    (folder / "jon" / "scratch.ipynb").write_text("{}")
    collect(course, folder, A, log=quiet)
    shutil.copy(ROOT / "README.md", course.submitted("ivy", A) / "numpy.py")  # shipped beside it
    autograde(course, A, jobs=1, limits=LIMITS, log=quiet)
    assert gradebook_scores(course) == {"ivy": 47.5, "jon": 0.0}
    report = (course.cohort / "reports" / f"{A}.txt").read_text()
    assert "submitted as '01_activations (1).ipynb'" in report and "extra file numpy.py" in report
    assert "missing notebook 01_activations.ipynb" in report
