"""Known submissions for each lesson, with the exact score each must get.

A variant starts from the solution notebook and replaces some solution cells (by grade_id).
``scores`` lists the tests cells whose points differ from full marks; every other tests cell
must get full marks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Variant:
    name: str
    answers: dict[str, str]
    scores: dict[str, float] = field(default_factory=dict)


def make_submission(base: "Any", variant: Variant) -> "Any":
    """A copy of notebook ``base`` with the variant's answer cells replaced (by grade_id)."""
    import copy

    nb = copy.deepcopy(base)
    missing = set(variant.answers)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in variant.answers:
            cell.source = variant.answers[gid]
            missing.discard(gid)
    if missing:
        raise KeyError(f"variant {variant.name}: no answer cell {sorted(missing)}")
    return nb


def load_variants(assignment: str) -> list[Variant]:
    """The variants declared for an assignment in tests/submissions/lessonNN.py."""
    import importlib

    module = importlib.import_module(f"tests.submissions.lesson{assignment[:2]}")
    assert module.ASSIGNMENT == assignment, f"{module.__name__} declares {module.ASSIGNMENT}"
    return list(module.VARIANTS)


def solution_answers(source: "Any") -> dict[str, str]:
    """The solution notebook's code answers as a learner would hand them in (markers removed)."""
    import re

    return {c.metadata["nbgrader"]["grade_id"]: re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", c.source, flags=re.M)
            for c in source.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
