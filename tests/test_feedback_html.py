"""Does feedback HTML name each tests cell after its exercise, and do feedback and the formgrader
render math from a local MathJax (no CDN)?

The feedback test runs nbgrader itself (generate_assignment, autograde, generate_feedback) on a tiny
course that uses the course's own nbgrader_config.py, as `python -m autograder feedback` and the
formgrader's "generate feedback" button do."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from traitlets.config import Config, PyFileConfigLoader

from autograder.feedback import exercise_names
from tests.conftest import ROOT

CDN = re.compile(r"""src=["']?(https?:)?//[^"' >]*mathjax""", re.I)


def _meta(gid: str, *, grade: bool, solution: bool, points: float = 0) -> dict:
    return {"nbgrader": {"grade": grade, "grade_id": gid, "locked": not solution, "points": points,
                         "schema_version": 3, "solution": solution, "task": False}}


def _lesson() -> nbformat.NotebookNode:
    cells = [
        nbformat.v4.new_markdown_cell("# Lesson 99\n\n## 1. Squares\n\nSquare it: $f(x) = x^2$."),
        nbformat.v4.new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                                  metadata=_meta("99_square", grade=False, solution=True)),
        nbformat.v4.new_code_cell("assert square(3) == 9", metadata=_meta("99_square_tests", grade=True,
                                                                         solution=False, points=2)),
        nbformat.v4.new_markdown_cell("## 2. Cubes"),
        nbformat.v4.new_code_cell("assert square(2) ** 1.5 == 8 ** 1", metadata=_meta("99_concept_cube_tests",
                                                                                   grade=True, solution=False,
                                                                                   points=1)),
        nbformat.v4.new_markdown_cell("# heading a learner wrote\n### BEGIN SOLUTION\nmodel\n### END SOLUTION",
                                      metadata=_meta("99_explain_square", grade=True, solution=True)),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i}"
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                                          "display_name": "Python 3",
                                                                          "language": "python"}})


def _nbgrader(course: Path, *args: str) -> None:
    # nbgrader's gradebook runs the `alembic` command: this environment's bin/ must be on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_exercise_names_come_from_grade_ids_and_ordinary_headings():
    exercises, sections = exercise_names(_lesson())
    assert exercises == {"99_square": "square", "99_square_tests": "square", "99_concept_cube_tests": "concept_cube",
                         "99_explain_square": "explain_square"}
    # The learner's own heading in a written answer names nothing.
    assert sections == {"99_square": "1. Squares", "99_square_tests": "1. Squares",
                        "99_concept_cube_tests": "2. Cubes", "99_explain_square": "2. Cubes"}


@pytest.mark.grading
def test_feedback_names_exercises_and_loads_mathjax_locally(tmp_path):
    course = tmp_path / "course"
    (course / "solutions" / "99_squares").mkdir(parents=True)
    (course / "cohort").mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    nbformat.write(_lesson(), course / "solutions" / "99_squares" / "99_squares.ipynb")
    _nbgrader(course, "generate_assignment", "99_squares")
    submitted = course / "cohort" / "submitted" / "alice" / "99_squares"
    submitted.mkdir(parents=True)
    shutil.copy(course / "lessons" / "99_squares" / "99_squares.ipynb", submitted)
    _nbgrader(course, "autograde", "99_squares")
    _nbgrader(course, "generate_feedback", "99_squares")

    page = course / "cohort" / "feedback" / "alice" / "99_squares" / "99_squares.html"
    html = page.read_text()
    assert "Test cell" not in html and "Grade cell" not in html
    assert re.search(r'>Checks: square</a> <span class="text-muted">\(1\. Squares\)</span> \(Score: 0\.0 / 2\.0\)',
                     html), "the tests cell is not named after its exercise in the table of contents"
    assert "Checks: <code>concept_cube</code>" in html and "Written answer: explain_square" in html
    assert not CDN.search(html), "feedback loads MathJax from the network"
    src = re.search(r'<script src="([^"?]*MathJax\.js)\?config=', html)
    assert src, "feedback loads no MathJax"
    assert (page.parent / src.group(1)).resolve() == (course / "cohort" / "feedback" / "mathjax" / "MathJax.js")
    assert (course / "cohort" / "feedback" / "mathjax" / "MathJax.js").is_file()
    assert (course / "cohort" / "feedback" / "mathjax" / "jax" / "output" / "HTML-CSS" / "fonts" / "STIX-Web"
            / "fontdata.js").is_file()


def test_formgrader_page_loads_mathjax_from_the_jupyter_server():
    """Rendered as the formgrader renders a submission: is MathJax the server's copy, not a CDN?"""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    config.merge(Config({"HTMLExporter": {"template_name": "formgrade"}}))  # what the formgrader sets
    exporter = HTMLExporter(config=config)
    resources = {"assignment_id": "99_squares", "notebook_id": "99_squares", "submission_id": "x", "index": 0,
                 "total": 1, "base_url": "/hub/user/t", "student": "alice", "last_name": "", "first_name": "",
                 "notebook_path": "/hub/user/t/99_squares.ipynb"}
    html, _ = exporter.from_notebook_node(_lesson(), resources=resources)
    assert "formgrade.css" in html, "not the formgrader's page"
    assert not CDN.search(html), "the formgrader loads MathJax from the network"
    assert '<script src="../../../static/jupyter_server_mathjax/MathJax.js?config=' in html
