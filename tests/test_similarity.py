"""Are copies of the published solution (renamed, reformatted, comments stripped) flagged, and
are independently written correct answers left alone?"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from autograder.grading import Source
from autograder.similarity import find_copies, normalise, similarity
from tests.conftest import ROOT, assignments
from tests.submissions import load_variants, solution_answers


def _source(assignment: str) -> Source:
    return Source.load(next((ROOT / "solutions" / assignment).glob("*.ipynb")))


def rename_everything(code: str) -> str:
    """A lazy disguise: every local name renamed, comments and docstrings gone, spacing changed."""
    code = re.sub(r'"""[\s\S]*?"""', "", code)
    code = re.sub(r"#.*", "", code)
    names = sorted(set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*=(?!=)", code)), key=len, reverse=True)
    for i, name in enumerate(names):
        if name not in ("np", "torch", "self"):
            code = re.sub(rf"\b{name}\b", f"renamed_{i}", code)
    return code.replace(", ", ",").replace(" = ", "=")


def test_normalising_ignores_names_comments_and_layout():
    a = "def f(x):\n    # square it\n    y = x * x\n    return y.sum()\n"
    b = 'def g(value):\n    """Docstring."""\n    out=value*value\n    return out.sum( )\n'
    assert normalise(a) == normalise(b)
    assert similarity(normalise(a), normalise("def f(x):\n    return sum(v * v for v in x)\n")) < 0.9


@pytest.mark.parametrize("assignment", [a for a in assignments() if (ROOT / "tests" / "submissions" / f"lesson{a[:2]}.py").exists()])
def test_disguised_copies_are_flagged_and_independent_correct_answers_are_not(assignment):
    source = _source(assignment)
    solution = solution_answers(source.nb)
    released = {gid: source.release_text(c) for c in source.nb.cells
                if (gid := c.metadata.get("nbgrader", {}).get("grade_id")) in solution}
    correct = [v for v in load_variants(assignment) if not v.scores]
    answers = {"copier": {gid: rename_everything(code) for gid, code in solution.items()},
               "reformatter": {gid: code.replace("    ", "\t").replace("\n", "\n\n") for gid, code in solution.items()}}
    for i, variant in enumerate(correct):
        answers[f"independent{i}"] = variant.answers
    flags = find_copies(answers, solution, released)
    flagged = {(f.student, f.cell) for f in flags if f.other == "the published solution"}
    big = [gid for gid, code in solution.items() if len(normalise(code)) >= 25]
    assert {("copier", gid) for gid in big} <= flagged
    assert {("reformatter", gid) for gid in big} <= flagged
    assert not [f for f in flags if f.student.startswith("independent") and f.other == "the published solution"], \
        [f.text() for f in flags if f.student.startswith("independent")]


def test_two_students_with_the_same_code_flag_each_other_with_the_matching_source():
    code = "def f(x):\n" + "".join(f"    x = x * {i} + np.exp(x) - np.log1p(x)\n" for i in range(4)) + "    return x\n"
    flags = find_copies({"ann": {"c": code}, "bob": {"c": code.replace("x", "z")}, "cy": {"c": "def f(x):\n    return x\n"}},
                        solution={"c": "def f(x):\n    return np.tanh(x)\n"}, released={"c": "raise NotImplementedError()"})
    pairs = {(f.student, f.other) for f in flags}
    assert pairs == {("ann", "bob"), ("bob", "ann")}
    assert all(f.score >= 0.9 and "possible copy" in f.text() for f in flags)
