"""The class roster: who the students are, recorded in nbgrader's gradebook.

Without a roster the gradebook only knows the ids that submitted, so the formgrader shows
every student as "None, None" and a student who never submitted is missing from the grades.
``python -m autograder roster import roster.csv`` records each row's id, names and email (and,
for an LMS export, the LMS's own user id), creating or updating students; nothing is deleted.

The CSV has a header row. ``student_id`` is required; ``first_name``, ``last_name``, ``email``
and ``lms_user_id`` are optional. A UTF-8 file written by Excel (with a byte-order mark) is fine.
A bad row is reported by its line number and skipped; every other row is imported.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autograder.course import Course, student_id_problem
from autograder.files import read_regular, shown

COLUMNS = ("student_id", "first_name", "last_name", "email", "lms_user_id")
MAX_ROSTER_BYTES = 16 * 2**20
# Loose on purpose: it catches a name or a phone number in the email column, not every RFC 5322 case.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Student:
    student_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None


def read_roster(path: Path) -> tuple[list[Student], list[str]]:
    """(students, problems): one problem per skipped row, naming its line.

    Raises ValueError with what was expected when the file as a whole is not a roster."""
    try:
        raw = read_regular(Path(path), MAX_ROSTER_BYTES)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start}); save the roster as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if "student_id" not in header:
        raise ValueError(f"{path}: the first row must be a header with a student_id column "
                         f"(columns: {', '.join(COLUMNS)}; found: {', '.join(header) or 'nothing'})")
    reader.fieldnames = header
    unknown = sorted(set(header) - set(COLUMNS) - {""})
    students: list[Student] = []
    problems: list[str] = [f"ignored column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})"] if unknown else []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than header columns: a comma inside an unquoted name
            problems.append(f"line {line}: more cells than the header has columns (quote names with commas)")
            continue
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        if not any(values.values()):
            continue  # a blank line
        sid = values["student_id"]
        if problem := student_id_problem(sid):
            problems.append(f"line {line}: student_id {shown(sid)!r}: {problem}")
            continue
        if sid in seen:
            problems.append(f"line {line}: student_id {sid} already on line {seen[sid]}; the first one is kept")
            continue
        if values["email"] and not EMAIL.match(values["email"]):
            problems.append(f"line {line}: {sid}: {values['email']!r} is not an email address")
            continue
        seen[sid] = line
        students.append(Student(sid, **{k: (values[k] or None) for k in COLUMNS[1:]}))
    return students, problems


def import_roster(course: Course, path: Path, log: Callable[[str], None] = print) -> list[Student]:
    """Create or update each roster row's student in the gradebook. Returns the students imported."""
    from nbgrader.api import Gradebook

    from autograder.gradebook import venv_on_path

    students, problems = read_roster(path)
    for problem in problems:
        log(f"  skipped: {problem}")
    venv_on_path()
    course.cohort.mkdir(parents=True, exist_ok=True)
    new = 0
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        known = {s.id for s in gb.students}
        for s in students:
            # An empty cell leaves what the gradebook had: a roster without emails keeps old ones.
            fields = {k: v for k, v in vars(s).items() if k != "student_id" and v is not None}
            gb.update_or_create_student(s.student_id, **fields)
            new += s.student_id not in known
    log(f"roster: {len(students)} student(s) recorded ({new} new, {len(students) - new} updated)"
        + (f"; {len(problems)} line(s) skipped, see above" if problems else ""))
    return students


def roster_ids(course: Course) -> set[str] | None:
    """The ids of the gradebook's students who have a name or an email (imported from a roster),
    or None when no roster was ever imported (then nobody is "not on the roster")."""
    from nbgrader.api import Gradebook

    from autograder.gradebook import venv_on_path

    if not (course.cohort / "gradebook.db").exists():
        return None
    venv_on_path()
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        ids = {s.id for s in gb.students if s.first_name or s.last_name or s.email}
    return ids or None
