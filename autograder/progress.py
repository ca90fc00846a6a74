"""How far a self-study learner has come: their own notebooks in lessons/, graded for real.

The same grader as for a cohort (hidden checks included), so the points are the points an
instructor would give. Only counts are shown for hidden checks, as in feedback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from autograder.cohort import Course, load_limits
from autograder.grading import (InvalidSubmission, Source, extract_answers, grade_notebook, read_submission,
                                reference_probes)
from autograder.sandbox import sandbox_problem


def _started(path: Path, source: Source) -> bool:
    """Has the learner written anything in an answer cell yet? (Saves running untouched lessons.)"""
    try:
        answers, _ = extract_answers(read_submission(path), source)
    except InvalidSubmission:
        return True  # let grading report what is wrong with it
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.nb.cells}
    return any(text.strip() != source.release_text(cells[gid]).strip() for gid, text in answers.items())


def progress(course: Course, folder: Path, assignments: list[str], log: Callable[[str], None] = print) -> dict[str, float]:
    """Grade each lesson found in ``folder`` and print a table. Returns points per lesson."""
    sandboxed = sandbox_problem() is None
    log("Your progress, graded like the real thing (public and hidden checks)"
        + ("" if sandboxed else " [no sandbox here: fine for your own code]") + "\n")
    earned: dict[str, float] = {}
    total = total_max = 0.0
    for assignment in assignments or course.assignments():
        ctx = course.context(load_limits(course, assignment), sandboxed)
        for src_path in course.sources(assignment):
            source = Source.load(src_path)
            max_points = sum(source.points[g] for g in source.test_ids)
            total_max += max_points
            path = folder / assignment / src_path.name
            if not path.exists() or not _started(path, source):
                log(f"  {src_path.stem:<22} {0:>5g} / {max_points:<4g} not started")
                earned[src_path.stem] = 0.0
                continue
            cache = course.root / "build" / "progress" / assignment
            result = grade_notebook(path, source, reference_probes(source, ctx, cache), ctx)
            earned[src_path.stem] = result.score
            total += result.score
            filled = int(round(20 * result.score / max_points)) if max_points else 0
            log(f"  {src_path.stem:<22} {result.score:>5g} / {max_points:<4g} [{'#' * filled}{'.' * (20 - filled)}]")
            parts = [f"{gid.removesuffix('_tests').split('_', 1)[-1]} {cell['score']:g}/{cell['max_score']:g}"
                     for gid, cell in result.cells.items()]
            log("      " + "  ".join(parts))
            for flag in result.flags:
                if "tests cell" not in flag:
                    log(f"      note: {flag}")
    log(f"\n  total {total:g} / {total_max:g} points")
    return earned
