"""Does lessons/ open on a course map that lists every lesson of solutions/ in order, says how checking
works, shows the learner's progress, and is not itself an assignment?"""
from __future__ import annotations

import re
import shutil

import nbclient
import nbformat

from autograder.cohort import Course
from autograder.start_page import NAME, build_start_page, write_start_page
from tests.conftest import ROOT, assignments


def _links(nb) -> list[str]:
    return re.findall(r"\]\(([^)]+\.ipynb)\)", nb.cells[0].source)


def test_map_lists_every_lesson_in_order_with_working_links():
    nb = build_start_page(ROOT)
    links = _links(nb)
    assert [link.split("/")[0] for link in links] == assignments()
    assert all((ROOT / "lessons" / link).exists() for link in links)
    text = "\n".join(c.source for c in nb.cells)
    for words in ("tests cell", "Hidden checks", "Validate", "make progress"):
        assert words in text


def test_a_new_lesson_appears_by_itself(tmp_path):
    (tmp_path / "solutions" / "07_new_thing").mkdir(parents=True)
    lesson = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lesson 07 — A new thing"),
                                             nbformat.v4.new_code_cell("pass")])
    lesson.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "07_x_tests", "points": 3, "solution": False,
                                            "locked": True, "schema_version": 3, "task": False}
    nbformat.write(lesson, tmp_path / "solutions" / "07_new_thing" / "07_new_thing.ipynb")
    nb = build_start_page(tmp_path)
    assert "| 07 | [A new thing](07_new_thing/07_new_thing.ipynb) | 1 | 3 |" in nb.cells[0].source


def test_map_is_no_assignment_and_is_deterministic(tmp_path):
    path = write_start_page(ROOT, tmp_path / "lessons")
    assert path.read_text() == write_start_page(ROOT, tmp_path / "again").read_text()
    nb = nbformat.read(path, as_version=4)
    assert not any("nbgrader" in c.metadata for c in nb.cells) and not any(c.get("outputs") for c in nb.cells)
    assert NAME not in Course(ROOT, tmp_path).assignments()


def test_progress_cell_runs_from_the_lessons_folder(tmp_path):
    """Run from lessons/ (as JupyterLab does): does the cell print the learner's progress table?"""
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    path = write_start_page(tmp_path, tmp_path / "lessons")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(path.parent)}}).execute()
    out = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "Your progress" in out and "not started" in out and "total 0 /" in out, out
