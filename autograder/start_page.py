"""The course map, ``lessons/00_start_here.ipynb``: written by ``make lessons`` from solutions/.

It lists the lessons in order (every folder of solutions/, so a new lesson appears by itself), says
how checking works, and shows the learner's progress (a cell that runs ``python -m autograder
progress``). It is not an assignment: it lives in lessons/ only, next to the lesson folders, and has
no graded cells. The output is deterministic (fixed cell ids) so that the drift test can compare it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

NAME = "00_start_here.ipynb"


def _lesson_row(folder: Path) -> str:
    """One table row: number, linked title, graded exercises, points."""
    number, _, slug = folder.name.partition("_")
    rows = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                      if c.cell_type == "markdown" and c.source.startswith("# ")), slug.replace("_", " "))
        # "Lesson 01 — Activation functions" -> "Activation functions"
        title = title.split(" — ", 1)[-1]
        graded = [c.metadata["nbgrader"] for c in nb.cells
                  if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
        points = sum(g.get("points", 0) for g in graded)
        rows.append(f"| {number} | [{title}]({folder.name}/{path.name}) | {len(graded)} | {points:g} |")
    return "\n".join(rows)


def build_start_page(root: Path) -> nbformat.NotebookNode:
    folders = sorted(p for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))
    table = "\n".join(["| | lesson | graded exercises | points |", "|---|---|---|---|"]
                      + [_lesson_row(f) for f in folders])
    cells = [
        ("start-map", "markdown", f"""# Start here: the course map

Work through the lessons in this order: each one uses what the ones before it built. Open a lesson
from the table (the links open the notebooks), or from the file browser on the left.

{table}

Every lesson runs on a CPU in a few minutes. On a machine with a CUDA GPU the same notebooks pick the
GPU and a larger run by themselves."""),
        ("start-checking", "markdown", """## How checking works

1. **Write.** Each exercise is a cell marked `# YOUR CODE HERE`: replace the
   `raise NotImplementedError()` with your code (or your `answer = ...` for a concept check) and run
   the cell.
2. **Check.** Run the locked tests cell right under it. It lists each check as PASS or FAIL with
   its points and, for a failure, what differs in your exercise's own terms (a shape, a dtype, the
   largest error). If it says a name is not defined, run your answer cell first (after a kernel
   restart, run the notebook from the top).
3. **Hidden checks.** When a notebook is graded, more checks run on other inputs, and most of the
   points are there. A function that only fits the examples in the tests cell will lose them: aim
   for a correct function.
4. **Validate.** The **Validate** button in the notebook's toolbar runs the whole notebook from the
   top, as grading does, and tells you which tests cells fail. Use it before you hand a notebook in.
5. **Explain it simply.** The written prompts carry no points and no tests cell: they are where
   you put an idea into your own words (an instructor reads them)."""),
        ("start-progress", "markdown", """## Your progress

Save your lesson notebooks, then run the cell below (or `make progress` in a terminal at the
course root). It grades your notebooks in this folder exactly as an instructor's grader would,
hidden checks included (shown only as counts), and prints your points per lesson and exercise.
Lessons you have not started are listed as *not started* and cost no time; each lesson you have
started runs once, so this takes about as long as running those notebooks (the first time, a little
longer: the reference solutions run once too)."""),
        ("start-progress-run", "code", """import sys

# The course root is the folder above lessons/.
!{sys.executable} -m autograder --root .. progress"""),
    ]
    nb = nbformat.v4.new_notebook()
    for cell_id, kind, source in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        cell["id"] = cell_id
        nb.cells.append(cell)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


def write_start_page(root: Path, out: Path) -> Path:
    """Write the course map into ``out`` (the lessons folder). Returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / NAME
    nbformat.write(build_start_page(root), path)
    return path
