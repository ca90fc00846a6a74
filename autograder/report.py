"""What the instructor reads: the grading report and the grades CSV.

Both list every student: graded, "regrade needed", "needs attention" (with the reason), not
graded yet, and entries collect had to skip. Each student's part is built on its own, so a
result that cannot be shown becomes a "needs attention" line and the rest of the report is
written; the report is rebuilt from the result files on every run.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any, Callable

from autograder import results as R
from autograder.collect import collect_log
from autograder.course import Course, student_id_problem
from autograder.files import atomic_write, clean_text, shown, utcnow
from autograder.gradebook import run_nbgrader


def _students(course: Course, assignment: str) -> list[str]:
    names = set()
    folder = course.results_dir(assignment)
    if folder.is_dir():
        names |= {n[: -len(".json")] for n in os.listdir(folder) if n.endswith(".json") and not n.startswith(".")}
    submitted = course.cohort / "submitted"
    if submitted.is_dir():
        names |= {n for n in os.listdir(submitted) if not n.startswith(".") and (submitted / n / assignment).is_dir()}
    return sorted(names, key=lambda n: shown(n))


def _student_lines(course: Course, assignment: str, student: str) -> tuple[str, list[str]]:
    """(status, lines) for one student."""
    who = shown(student)
    if bad_name := student_id_problem(student):
        return R.ATTENTION, [f"{who}: needs attention: the folder submitted/{who} is not a valid student id "
                             f"({bad_name}); rename it and rerun autograde"]
    result, damaged = R.load_result(course.result_path(assignment, student))
    if damaged:
        return R.ATTENTION, [f"{who}: needs attention: {damaged}; rerun autograde to grade it again"]
    if result is None:
        return "not graded yet", [f"{who}: not graded yet (rerun autograde)"]
    state = R.status(result)
    if not R.recordable(result):
        where = "  (not in the gradebook)"
    elif result.get("record_error"):
        where = "  (not in the gradebook: see below)"
    elif not result.get("in_gradebook"):
        where = "  (not yet in the gradebook: rerun autograde)"
    else:
        where = ""
    lines = [f"{who}: {result['score']:g} / {result['max_score']:g}" + (f"  [{state}]" if state != R.GRADED else "") + where]
    label = "NEEDS ATTENTION" if state == R.ATTENTION else "REGRADE NEEDED"
    for why in R.attention(result):
        lines.append(f"    {label}  {why}")
    for flag in R.flags(result):
        lines.append(f"    FLAG  {flag}")
    for nb_name, nb in result["notebooks"].items():
        for gid, cell in nb["cells"].items():
            if cell.get("status") not in ("ok", None):
                lines.append(f"    {nb_name}/{gid}: {cell['status']}: {cell.get('error', '')}")
    return state, lines


def copy_flags(course: Course, assignment: str) -> list[Any]:
    """Answer cells that look copied from the published solution or from another student
    (autograder/similarity.py): flags for a person to read, never a score."""
    from autograder.grading import Source, nbgrader_meta
    from autograder.similarity import find_copies

    flags = []
    for src in course.sources(assignment):
        source = Source.load(src)
        code_ids = {nbgrader_meta(c).get("grade_id") for c in source.nb.cells
                    if c.cell_type == "code" and nbgrader_meta(c).get("solution")}
        solution = {gid: re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", c.source, flags=re.M)
                    for c in source.nb.cells if (gid := nbgrader_meta(c).get("grade_id")) in code_ids}
        released = {gid: source.release_text(c) for c in source.nb.cells
                    if (gid := nbgrader_meta(c).get("grade_id")) in code_ids}
        answers = {}
        for student in _students(course, assignment):
            result, _ = R.load_result(course.result_path(assignment, student))
            nb = (result or {}).get("notebooks", {}).get(src.stem) or {}
            cells = nb.get("answers") if isinstance(nb, dict) else None
            if isinstance(cells, dict):
                answers[student] = {g: a for g, a in cells.items() if g in code_ids and isinstance(a, str)}
        flags += find_copies(answers, solution, released)
    return flags


def write_report(course: Course, assignment: str) -> Path:
    """A plain-text report for the instructor: every student's score, status and flags."""
    body, counts = [], {}
    for student in _students(course, assignment):
        try:
            state, lines = _student_lines(course, assignment, student)
        except Exception as exc:  # one odd result must not cost the others their report
            state, lines = R.ATTENTION, [f"{shown(student)}: needs attention: the report could not show this "
                                         f"result ({type(exc).__name__}: {exc})"]
        counts[state] = counts.get(state, 0) + 1
        body += lines
    try:
        copies = copy_flags(course, assignment)
    except Exception as exc:  # the similarity pass must never cost the report
        copies, body = [], body + ["", f"(copy check failed: {type(exc).__name__}: {exc})"]
    if copies:
        body += ["", "Possible copies (a flag for a person to read, never a score; names, comments and "
                     "formatting were ignored):"]
        for flag in copies:
            body.append(f"  {shown(flag.student)}: {flag.cell} is {flag.score:.0%} similar to "
                        f"{flag.other if flag.other == 'the published solution' else shown(flag.other)}")
            body += ["      | " + line for line in flag.other_source.strip().splitlines()[:12]]
    skipped = collect_log(course, assignment)["skipped"]
    if skipped:
        body += ["", "Not collected (fix the entry and run collect again):"]
        body += [f"  {name}: {why}" for name, why in sorted(skipped.items())]
        counts["not collected"] = len(skipped)
    head = [f"Grading report for {assignment} ({utcnow():%Y-%m-%d %H:%M} UTC)",
            ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no submissions", ""]
    report = course.report_path(assignment)
    atomic_write(report, clean_text("\n".join(head + body) + "\n"))
    return report


# ----------------------------------------------------------------------------------------
# The grades CSV.
# ----------------------------------------------------------------------------------------
BASE_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                "raw_score", "late_submission_penalty", "score", "max_score"]


def _status_row(course: Course, assignment: str, student: str) -> tuple[str, str, dict[str, Any] | None]:
    if bad_name := student_id_problem(student):
        return R.ATTENTION, f"the submitted folder name is not a valid student id ({bad_name})", None
    result, damaged = R.load_result(course.result_path(assignment, student))
    if damaged:
        return R.ATTENTION, damaged, None
    if result is None:
        submitted = course.submitted(student, assignment).is_dir()
        return ("not graded yet" if submitted else "not submitted"), "", None
    return R.status(result), "; ".join(R.attention(result)), result


def export(course: Course, to: Path, log: Callable[[str], None] = print) -> Path:
    """nbgrader's CSV export with a "status" and an "attention" column, plus a row for every
    student the gradebook does not have (needs attention, not yet recorded, not collected)."""
    from autograder.late import assess, settings_or_exit, sync_gradebook

    to = Path(to)
    settings = settings_or_exit(course)
    # Penalties from the settings as they are now: a new due date or extension needs no regrade.
    sync_gradebook(course, settings)
    rows: list[dict[str, str]] = []
    columns = list(BASE_COLUMNS)
    code = run_nbgrader(course, "export", f"--to={to}", check=False)
    if code == 0 and to.exists():
        with open(to, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.DictReader(fh)
            columns = list(reader.fieldnames or BASE_COLUMNS)
            rows = list(reader)
    else:
        log(f"nbgrader export failed (exit {code}); the CSV is built from the grader's results alone")
    seen = set()
    for row in rows:
        assignment, student = row.get("assignment", ""), row.get("student_id", "")
        seen.add((assignment, student))
        try:
            state, why, _ = _status_row(course, assignment, student)
        except Exception as exc:
            state, why = R.ATTENTION, f"status unknown ({type(exc).__name__}: {exc})"
        row["status"], row["attention"] = state, why
    for assignment in course.assignments():
        for student in _students(course, assignment):
            if (assignment, student) in seen:
                continue
            try:
                state, why, result = _status_row(course, assignment, student)
            except Exception as exc:
                state, why, result = R.ATTENTION, f"status unknown ({type(exc).__name__}: {exc})", None
            row = {"assignment": assignment, "student_id": shown(student), "status": state, "attention": why}
            if result is not None:
                row["timestamp"] = str(result.get("timestamp", ""))
                row["max_score"] = f"{result['max_score']:g}"
                if R.recordable(result):
                    row["raw_score"] = row["score"] = f"{result['score']:g}"
                why = why or "not yet in the gradebook (rerun autograde)"
                row["attention"] = why
            rows.append(row)
        for name, why in sorted(collect_log(course, assignment)["skipped"].items()):
            rows.append({"assignment": assignment, "student_id": name, "status": R.ATTENTION,
                         "attention": f"not collected: {why}"})
    from autograder.roster import roster_ids

    on_roster = roster_ids(course)
    for row in rows:
        row["late"] = _late_statement(settings, row, assess)
        if on_roster is not None and row.get("student_id") not in on_roster and row.get("timestamp"):
            # A typo in a login, or someone outside the class: a person decides, the grade stays.
            row["attention"] = "; ".join(filter(None, [row.get("attention"), "not on the roster"]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns + ["late", "status", "attention"], extrasaction="ignore",
                            restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: clean_text(str(v)) for k, v in row.items()})
    atomic_write(to, out.getvalue())
    return to


def _late_statement(settings: Any, row: dict[str, str], assess: Callable[..., Any]) -> str:
    """Whether the late policy applies to this row, and why: "on time", "late by 2 h: penalty 4.75 ..."."""
    import datetime as dt

    if not row.get("timestamp"):
        return "not submitted" if settings.due_for(row.get("assignment", ""), row.get("student_id", "")) else ""
    try:
        stamp = dt.datetime.fromisoformat(str(row["timestamp"]).replace(" UTC", "").strip())
        raw, top = float(row.get("raw_score") or 0), float(row.get("max_score") or 0)
    except ValueError:
        return "not assessed: the submission time or score cannot be read"
    return assess(settings, row.get("assignment", ""), row.get("student_id", ""), stamp.replace(tzinfo=None),
                  raw, top).statement
