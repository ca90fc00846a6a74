"""Cohort grading, as one import: collect, autograde, record, report.

The work is split by job, one module each:
    course.py     where things are (Course), limits, which names are student ids
    files.py      reading untrusted files safely, atomic writes, text that may not be Unicode
    collect.py    collect: only regular files, bad entries skipped by name, timestamps checked
    batch.py      autograde: find submissions, grade in parallel and resumably, one at a time safe
    results.py    a result file's shape and status ("graded", "regrade needed", "needs attention")
    gradebook.py  record a result: autograded notebook and nbgrader's gradebook
    report.py     the instructor's report and the grades CSV (every student, with a status)
    cleanup.py    remove what a killed grader left behind (connection folders, cgroups)
    display.py    progress: a bar on a terminal, plain lines in a log
This module re-exports their public names, so ``from autograder.cohort import ...`` keeps working.
"""
from __future__ import annotations

from autograder.batch import Job, Summary, autograde, error_result, find_jobs, grade_job, run_all
from autograder.cleanup import clean_stale_sandboxes
from autograder.collect import collect, collect_log
from autograder.course import Course, load_limits, student_id_problem
from autograder.files import atomic_write, read_timestamp, submission_digest
from autograder.gradebook import record, run_nbgrader, venv_on_path, write_autograded, write_gradebook
from autograder.report import export, write_report

__all__ = ["Course", "Job", "Summary", "atomic_write", "autograde", "clean_stale_sandboxes", "collect", "collect_log",
           "error_result", "export", "find_jobs", "grade_job", "load_limits", "read_timestamp", "record", "run_all",
           "run_nbgrader", "student_id_problem", "submission_digest", "venv_on_path", "write_autograded",
           "write_gradebook", "write_report"]
