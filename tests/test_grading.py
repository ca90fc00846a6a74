"""Does grading give exact scores: full marks for the solution, 0 for the blank release, and
the exact partial score for each known-buggy or differently written submission?"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from dataclasses import replace

from autograder.cohort import Course, load_limits
from autograder.grading import GradeContext, Source, grade_notebook, public_checks_table, reference_probes
from dlcourse.checks import PUBLIC_CHECKS_FILE, compare, decode
from autograder.sandbox import Limits
from tests.conftest import ROOT, assignments, sandbox_or_skip
from tests.submissions import load_variants, make_submission

GRADED = [a for a in assignments() if (ROOT / "tests" / "submissions" / f"lesson{a[:2]}.py").exists()]

def limits(assignment: str) -> Limits:
    """The course's own limits (autograder/limits.json). Lesson 01 has an endless-loop variant:
    a shorter cell limit keeps it to seconds; its cells take well under a second."""
    configured = load_limits(Course(ROOT, ROOT / "cohort"), assignment)
    return replace(configured, cell_timeout=8) if assignment == "01_activations" else configured


def context(assignment: str) -> GradeContext:
    sandboxed = sandbox_or_skip()
    reveal = [ROOT / name for name in (".venv", "dlcourse", "datasets", "lessons")]
    return GradeContext(limits(assignment), hide=[ROOT], reveal=reveal, sandboxed=sandboxed)


_refs: dict[str, tuple[Source, dict]] = {}


def reference(assignment: str) -> tuple[Source, dict]:
    if assignment not in _refs:
        source = Source.load(next((ROOT / "solutions" / assignment).glob("*.ipynb")))
        _refs[assignment] = (source, reference_probes(source, context(assignment)))
    return _refs[assignment]


def grade(nb, assignment: str, tmp_path: Path):
    source, ref = reference(assignment)
    path = tmp_path / source.path.name
    nbformat.write(nb, path)
    return grade_notebook(path, source, ref, context(assignment))


def cases():
    for a in GRADED:
        yield pytest.param(a, "solution", id=f"{a}-solution")
        yield pytest.param(a, "blank", id=f"{a}-blank")
        for v in load_variants(a):
            yield pytest.param(a, v.name, id=f"{a}-{v.name}")


@pytest.mark.grading
@pytest.mark.parametrize("assignment,case", list(cases()))
def test_exact_score(assignment, case, generated_lessons, tmp_path):
    source, _ = reference(assignment)
    full = {gid: source.points[gid] for gid in source.test_ids}
    if case == "solution":
        nb, expected = nbformat.read(source.path, 4), full
    elif case == "blank":
        nb = nbformat.read(generated_lessons / assignment / source.path.name, 4)
        expected = {gid: 0.0 for gid in full}
    else:
        variant = next(v for v in load_variants(assignment) if v.name == case)
        nb, expected = make_submission(nbformat.read(source.path, 4), variant), {**full, **variant.scores}
    result = grade(nb, assignment, tmp_path)
    got = {gid: cell["score"] for gid, cell in result.cells.items()}
    failing = {gid: [c["name"] + ": " + str(c["message"]) for c in cell["checks"] if not c["passed"]]
               for gid, cell in result.cells.items() if got[gid] != expected[gid]}
    assert got == expected, f"unexpected scores; failing checks: {failing}"
    assert result.score == sum(expected.values())


@pytest.mark.grading
@pytest.mark.parametrize("assignment", GRADED)
def test_public_checks_file_is_the_references_own(assignment):
    """One verdict: the values a learner's notebook judges public checks against are the ones
    the grader uses (same checks, tolerances and policy; values equal within their tolerance)."""
    source, ref = reference(assignment)
    path = source.path.parent / PUBLIC_CHECKS_FILE
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make lessons`"
    have = json.loads(path.read_text())["checks"]
    want = public_checks_table(source, ref)["checks"]
    assert {ex: sorted(c) for ex, c in have.items()} == {ex: sorted(c) for ex, c in want.items()}, \
        "public checks changed: run `make lessons`"
    for ex, checks in want.items():
        for name, w in checks.items():
            h = have[ex][name]
            assert {k: v for k, v in h.items() if k not in ("value", "target")} == \
                   {k: v for k, v in w.items() if k not in ("value", "target")}, f"{ex}/{name}: run `make lessons`"
            msg = compare(decode(h["value"]), decode(w["value"]), w["rtol"], w["atol"], dtype="exact")
            assert msg is None, f"{ex}/{name}: the committed reference value is stale ({msg}): run `make lessons`"
