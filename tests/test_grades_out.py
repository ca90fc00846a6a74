"""Grades out of the course: the roster, due dates and the late policy, and the LMS exports.

The gradebook here is built with nbgrader's own API (one assignment, two graded cells worth 6 and
4 points), so these tests need no kernel and check every number exactly."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from autograder import lms
from autograder.course import Course
from autograder.files import atomic_write, dump_json
from autograder.late import Settings, SettingsError, assess, load_settings, parse_settings, sync_gradebook
from autograder.report import export
from autograder.roster import import_roster, read_roster
from tests.conftest import ROOT

A = "01_activations"
DUE = dt.datetime(2026, 12, 15, 23, 59)          # naive UTC, as nbgrader keeps times
POLICY = {"grace_minutes": 15, "penalty_per_day": 0.1, "max_penalty": 0.5}


def quiet(*_):
    pass


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


# ----------------------------------------------------------------------------------------------
# The roster.
# ----------------------------------------------------------------------------------------------
def test_roster_reads_excel_csv_and_names_every_bad_line(tmp_path):
    roster = write(tmp_path / "roster.csv",
                   "Student_ID,First_Name,Last_Name,Email,Phone\n"
                   "ada,Ada,Lovelace,ada@uni.example,123\n"
                   "\n"
                   "../etc,Eve,Hacker,eve@uni.example,\n"
                   "ada,Ada,Again,ada2@uni.example,\n"
                   "zoë,Zoë,\"Smith, Jr\",zoe@uni.example,\n"
                   "bob,Bob,Jones,not-an-email,\n"
                   "carl,Carl,Unquoted, Jr,carl@uni.example,555\n", encoding="utf-8-sig")
    students, problems = read_roster(roster)
    assert [(s.student_id, s.first_name, s.last_name, s.email) for s in students] == [
        ("ada", "Ada", "Lovelace", "ada@uni.example"), ("zoë", "Zoë", "Smith, Jr", "zoe@uni.example")]
    assert problems[0] == "ignored column(s) phone (known: student_id, first_name, last_name, email, lms_user_id)"
    assert any(p.startswith("line 4: student_id '../etc'") for p in problems), problems
    assert "line 5: student_id ada already on line 2; the first one is kept" in problems
    assert "line 7: bob: 'not-an-email' is not an email address" in problems
    assert "line 8: more cells than the header has columns (quote names with commas)" in problems
    assert len(problems) == 5


@pytest.mark.parametrize("text,expected", [
    ("name,email\nada,ada@uni.example\n", "must be a header with a student_id column"),
    ("", "found: nothing"),
])
def test_a_file_that_is_no_roster_says_what_was_expected(tmp_path, text, expected):
    with pytest.raises(ValueError, match=expected):
        read_roster(write(tmp_path / "r.csv", text))
    (tmp_path / "latin1.csv").write_bytes("student_id,first_name\nzoe,Zo\xeb\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8 text"):
        read_roster(tmp_path / "latin1.csv")


def test_roster_import_names_students_in_the_gradebook_and_updates_without_erasing(tmp_path):
    from nbgrader.api import Gradebook

    course = Course(ROOT, tmp_path / "cohort")
    import_roster(course, write(tmp_path / "r.csv", "student_id,first_name,last_name,email,lms_user_id\n"
                                                    "ada,Ada,Lovelace,ada@uni.example,9001\nbob,Bob,Jones,,\n"), quiet)
    lines = []
    import_roster(course, write(tmp_path / "r2.csv", "student_id,last_name\nada,Byron\ncy,Young\n"), lines.append)
    assert lines == ["roster: 2 student(s) recorded (1 new, 1 updated)"]
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        got = {s.id: (s.first_name, s.last_name, s.email, s.lms_user_id) for s in gb.students}
    assert got == {"ada": ("Ada", "Byron", "ada@uni.example", "9001"), "bob": ("Bob", "Jones", None, None),
                   "cy": (None, "Young", None, None)}


def test_roster_command_fails_loudly_on_a_bad_file(tmp_path):
    bad = write(tmp_path / "r.csv", "id,name\n1,x\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "--cohort", str(tmp_path / "c"), "roster", "import",
                           str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert "roster not imported" in done.stderr and "student_id column" in done.stderr
    assert "Traceback" not in done.stderr


# ----------------------------------------------------------------------------------------------
# Due dates and the late policy.
# ----------------------------------------------------------------------------------------------
SETTINGS = parse_settings({"due": {A: "2026-12-15T23:59:00Z"}, "late_policy": POLICY,
                           "extensions": {A: {"erin": "2026-12-18T23:59:00+01:00"}}})


@pytest.mark.parametrize("student,submitted,raw,penalty,statement", [
    ("ada", DUE - dt.timedelta(hours=1), 10, 0, "on time"),
    ("ada", DUE + dt.timedelta(minutes=10), 10, 0, "late by 10 min, within the grace period: no penalty"),
    # 15 min of grace, then any part of a day counts as a day: 10% of the maximum (10 points).
    ("ada", DUE + dt.timedelta(minutes=16), 8, 1, "late by 16 min (1 started day(s)): penalty 1 (10% of 10)"),
    ("ada", DUE + dt.timedelta(days=1, hours=2), 8, 2, "late by 1 d 2 h (2 started day(s)): penalty 2 (20% of 10)"),
    # Capped at max_penalty (50%), and never more than what was earned.
    ("ada", DUE + dt.timedelta(days=30), 9, 5, "late by 30 d (30 started day(s)): penalty 5 (50% of 10)"),
    ("ada", DUE + dt.timedelta(days=3), 2, 2,
     "late by 3 d (3 started day(s)): penalty 2 (30% of 10, capped at the points earned)"),
    # erin's extension is 2026-12-18 22:59 UTC.
    ("erin", dt.datetime(2026, 12, 18, 22, 0), 10, 0, "on time (extension)"),
    ("erin", dt.datetime(2026, 12, 18, 23, 30), 10, 1, "late by 31 min (1 started day(s)): penalty 1 (10% of 10)"),
])
def test_late_penalty_is_exact(student, submitted, raw, penalty, statement):
    got = assess(SETTINGS, A, student, submitted, raw, 10)
    assert (got.penalty, got.statement) == (penalty, statement)


def test_no_due_date_and_no_policy_cost_nothing():
    assert assess(Settings(), A, "ada", DUE + dt.timedelta(days=9), 10, 10).statement == "no due date"
    lenient = parse_settings({"due": {A: "2026-12-15T23:59:00Z"}})
    got = assess(lenient, A, "ada", DUE + dt.timedelta(days=2), 10, 10)
    assert (got.penalty, got.statement) == (0, "late by 2 d: no penalty (the late policy sets none)")


@pytest.mark.parametrize("data,message", [
    ({"due": {A: "2026-12-15T23:59"}}, "has no time zone"),
    ({"due": {A: "next friday"}}, "not an ISO 8601 date"),
    ({"due": {A: 20261215}}, "expected a date and time as text"),
    ({"late_policy": {"penalty_per_day": True}}, "penalty_per_day: expected a number"),
    ({"late_policy": {"penalty_per_day": 10}}, "at most 1"),
    ({"late_policy": {"penalty": 0.1}}, "late_policy\" takes grace_minutes"),
    ({"deadline": {}}, "unknown key"),
    ([], "expected a JSON object"),
])
def test_malformed_settings_say_what_was_expected(data, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(data)


def test_unreadable_settings_file_fails_loudly(tmp_path):
    course = Course(ROOT, tmp_path)
    write(tmp_path / "course.json", "{due: tomorrow}")
    with pytest.raises(SettingsError, match="not readable JSON"):
        load_settings(course)


# ----------------------------------------------------------------------------------------------
# Exports, from a gradebook made with nbgrader's API.
# ----------------------------------------------------------------------------------------------
def _result(student: str, score: float, status: str = "graded") -> dict:
    return {"student": student, "assignment": A, "digest": "x", "timestamp": "", "score": score, "max_score": 10.0,
            "status": status, "attention": [] if status == "graded" else ["kernel died twice"],
            "notebooks": {A: {"score": score, "max_score": 10.0, "cells": {}}}}


@pytest.fixture
def cohort(tmp_path) -> Course:
    """ada on time (10/10), bob a day and 2 hours late (8/10), cy needs attention (3/10, in the
    gradebook from an earlier run), dan on the roster but never submitted, eve not on the roster."""
    from nbgrader.api import Gradebook

    course = Course(ROOT, tmp_path / "cohort")
    course.cohort.mkdir()
    import_roster(course, write(tmp_path / "r.csv", "student_id,first_name,last_name,email,lms_user_id\n"
                                "ada,Ada,Lovelace,ada@uni.example,101\nbob,Bob,Jones,bob@uni.example,102\n"
                                "cy,Cy,Young,cy@uni.example,103\ndan,Dan,Brown,dan@uni.example,104\n"), quiet)
    scores = {"ada": (6, 4), "bob": (6, 2), "cy": (3, 0), "eve": (5, 5)}
    stamps = {"ada": DUE - dt.timedelta(hours=3), "bob": DUE + dt.timedelta(days=1, hours=2),
              "cy": DUE, "eve": DUE}
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        gb.add_assignment(A)
        gb.add_notebook(A, A)
        gb.add_grade_cell("ex_a", A, A, max_score=6, cell_type="code")
        gb.add_grade_cell("ex_b", A, A, max_score=4, cell_type="code")
        for student, (a, b) in scores.items():
            gb.update_or_create_student(student)
            gb.add_submission(A, student, timestamp=stamps[student])
            for grade in gb.find_submission_notebook(A, A, student).grades:
                grade.auto_score = {"ex_a": a, "ex_b": b}[grade.name]
        gb.db.commit()
    for student, (a, b) in scores.items():
        status = "needs attention" if student == "cy" else "graded"
        atomic_write(course.result_path(A, student), dump_json(_result(student, a + b, status)))
    write(course.cohort / "course.json", json.dumps({"due": {A: "2026-12-15T23:59:00+00:00"}, "late_policy": POLICY,
                                                     "canvas_assignment_ids": {A: 555}}))
    return course


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_nbgrader_csv_states_the_penalty_and_flags_who_is_not_on_the_roster(cohort, tmp_path):
    got = {r["student_id"]: r for r in rows(export(cohort, tmp_path / "g.csv", quiet).read_text())}
    assert sorted(got) == ["ada", "bob", "cy", "dan", "eve"]
    assert [got["ada"][k] for k in ("raw_score", "late_submission_penalty", "score", "late")] == \
        ["10.0", "0.0", "10.0", "on time"]
    assert [got["bob"][k] for k in ("raw_score", "late_submission_penalty", "score", "late")] == \
        ["8.0", "2.0", "6.0", "late by 1 d 2 h (2 started day(s)): penalty 2 (20% of 10)"]
    assert got["cy"]["status"] == "needs attention"
    assert (got["dan"]["status"], got["dan"]["late"], got["dan"]["last_name"]) == ("not submitted", "not submitted", "Brown")
    assert got["eve"]["attention"] == "not on the roster" and got["eve"]["score"] == "10.0"
    assert got["ada"]["duedate"].startswith("2026-12-15 23:59")


def test_long_format_sums_to_the_exported_score_and_leaves_ungraded_blank(cohort):
    settings = load_settings(cohort)
    sync_gradebook(cohort, settings)
    got = rows(lms.long_csv(cohort, settings))
    bob = [(r["exercise"], r["points"], r["max_points"]) for r in got if r["student_id"] == "bob"]
    assert bob == [("ex_a", "6", "6"), ("ex_b", "2", "4"), ("late penalty", "-2", "0")]
    assert sum(float(p) for _, p, _ in bob) == 6
    cy = [r for r in got if r["student_id"] == "cy"]
    assert [(r["exercise"], r["points"], r["status"]) for r in cy] == [("", "", "needs attention")]
    assert [(r["points"], r["status"]) for r in got if r["student_id"] == "dan"] == [("", "not submitted")]


def test_canvas_import_file(cohort):
    settings = load_settings(cohort)
    text = lms.canvas_csv(cohort, settings)
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{A} (555)"]
    assert table[1] == ["Points Possible", "", "", "", "", "10"]
    assert table[2:] == [["Lovelace, Ada", "101", "", "ada", "", "10"],
                         ["Jones, Bob", "102", "", "bob", "", "6"],
                         ["Young, Cy", "103", "", "cy", "", ""],      # needs attention: no grade sent
                         ["Brown, Dan", "104", "", "dan", "", ""],    # not submitted: blank, not 0
                         ["eve", "", "", "eve", "", "10"]]


def test_export_command_writes_each_format(cohort):
    for fmt, name in (("long", "grades_long.csv"), ("canvas", "grades_canvas.csv")):
        done = subprocess.run([sys.executable, "-m", "autograder", "--cohort", str(cohort.cohort), "export",
                               "--format", fmt], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert (cohort.cohort / name).is_file()
    write(cohort.cohort / "course.json", json.dumps({"due": {A: "2026-12-15 23:59"}}))
    done = subprocess.run([sys.executable, "-m", "autograder", "--cohort", str(cohort.cohort), "export"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "has no time zone" in done.stderr and "Traceback" not in done.stderr
