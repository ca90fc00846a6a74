"""Grades for a learning-management system: Canvas's gradebook import, and a plain long format.

Both are built from nbgrader's gradebook (so an instructor's manual grades in the formgrader count)
after the late policy has been written into it (autograder/late.py), and both leave a grade blank,
never 0, unless the submission's status is "graded": a blank cell changes nothing in an LMS, a
false 0 reaches a student.

long:   student_id, assignment, exercise, points, max_points, status
        one row per graded exercise; a late penalty is a row of its own ("late penalty", negative
        points), so summing a student's points for an assignment gives the exported score.
canvas: Canvas's gradebook CSV: Student ("Last, First"), ID (Canvas's user id, the roster's
        lms_user_id), SIS User ID, SIS Login ID (the course's student id), Section, then one
        column per assignment, headed "NAME (CANVAS_ID)" when course.json gives the Canvas id so
        that Canvas updates that assignment instead of creating a new one; a "Points Possible" row.
"""
from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path
from typing import Any

from autograder import results as R
from autograder.course import Course
from autograder.files import atomic_write, clean_text
from autograder.late import Settings, assess

FORMATS = ("nbgrader", "long", "canvas")


def _gradebook(course: Course) -> tuple[list[Any], list[Any], dict[tuple[str, str], dict[str, Any]]]:
    """(assignments, students, {(assignment, student): {"timestamp", "grades": [(name, score, max)]}})."""
    from nbgrader.api import Gradebook

    from autograder.gradebook import venv_on_path

    venv_on_path()
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        assignments = [(a.name, float(a.max_score)) for a in sorted(gb.assignments, key=lambda a: a.name)]
        students = [(s.id, s.first_name or "", s.last_name or "", s.lms_user_id or "")
                    for s in sorted(gb.students, key=lambda s: s.id)]
        subs = {}
        for a in gb.assignments:
            for sub in a.submissions:
                grades = [(g.name, float(g.score), float(g.max_score))
                          for nb in sorted(sub.notebooks, key=lambda n: n.name)
                          for g in sorted(nb.grades, key=lambda g: g.name)]
                subs[(a.name, sub.student.id)] = {"timestamp": sub.timestamp, "grades": grades}
    return assignments, students, subs


def _status(course: Course, assignment: str, student: str) -> str:
    from autograder.report import _status_row

    try:
        return _status_row(course, assignment, student)[0]
    except Exception:  # an unreadable result is not a grade
        return R.ATTENTION


def _final(settings: Settings, assignment: str, student: str, sub: dict[str, Any], max_score: float) -> tuple[float, float]:
    raw = sum(score for _, score, _ in sub["grades"])
    penalty = assess(settings, assignment, student, sub["timestamp"], raw, max_score).penalty
    return raw, penalty


def long_csv(course: Course, settings: Settings) -> str:
    assignments, students, subs = _gradebook(course)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["student_id", "assignment", "exercise", "points", "max_points", "status"])
    for name, max_score in assignments:
        for sid, *_ in students:
            status = _status(course, name, sid)
            sub = subs.get((name, sid))
            if sub is None or status != R.GRADED:
                w.writerow([sid, name, "", "", f"{max_score:g}", status])
                continue
            for exercise, score, top in sub["grades"]:
                w.writerow([sid, name, exercise, f"{score:g}", f"{top:g}", status])
            _, penalty = _final(settings, name, sid, sub, max_score)
            if penalty:
                w.writerow([sid, name, "late penalty", f"{-penalty:g}", "0", status])
    return out.getvalue()


def canvas_csv(course: Course, settings: Settings) -> str:
    assignments, students, subs = _gradebook(course)
    out = io.StringIO()
    w = csv.writer(out)
    headers = [f"{n} ({settings.canvas_assignment_ids[n]})" if n in settings.canvas_assignment_ids else n
               for n, _ in assignments]
    w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *headers])
    w.writerow(["Points Possible", "", "", "", "", *(f"{m:g}" for _, m in assignments)])
    for sid, first, last, lms_id in students:
        cells = []
        for name, max_score in assignments:
            sub = subs.get((name, sid))
            if sub is None or _status(course, name, sid) != R.GRADED:
                cells.append("")
                continue
            raw, penalty = _final(settings, name, sid, sub, max_score)
            cells.append(f"{max(0.0, raw - penalty):g}")
        who = ", ".join(p for p in (last, first) if p) or sid
        w.writerow([who, lms_id, "", sid, "", *cells])
    return out.getvalue()


def write(course: Course, settings: Settings, fmt: str, to: Path) -> Path:
    text = {"long": long_csv, "canvas": canvas_csv}[fmt](course, settings)
    atomic_write(Path(to), clean_text(text))
    return Path(to)
