"""Does the instructor quickstart, run as documented, produce a gradebook, feedback HTML and a
CSV with the exact expected scores, without showing hidden tests in the feedback?"""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, sandbox_or_skip

EXAMPLES = ROOT / "autograder" / "example_submissions"


@pytest.mark.grading
@pytest.mark.xdist_group("lessons")
def test_quickstart_gives_expected_grades(tmp_path):
    sandboxed = sandbox_or_skip()
    cohort = tmp_path / "cohort"
    env = {**os.environ, "DLCOURSE_COHORT": str(cohort)}
    cmd = [sys.executable, "-m", "autograder", "quickstart", "--jobs", "2"] + ([] if sandboxed else ["--no-sandbox"])
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    expected = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(EXAMPLES / "expected_scores.csv"))}
    grades = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(cohort / "grades.csv"))}
    assert grades == expected
    names = {r["student_id"]: (r["first_name"], r["last_name"]) for r in csv.DictReader(open(cohort / "grades.csv"))}
    assert names["carol"] == ("Carol", "Chen"), "the roster's names must reach the gradebook (not None, None)"
    assert (cohort / "gradebook.db").exists()

    for student in expected:
        html = (cohort / "feedback" / student / "01_activations" / "01_activations.html").read_text()
        assert "hidden checks (" in html  # named, with their results, nothing more
        assert "BEGIN HIDDEN TESTS" not in html and "default_rng(101)" not in html, "hidden test source leaked"
    report = (cohort / "reports" / "01_activations.txt").read_text()
    assert "FLAG" not in report, report
