"""Known submissions for each lesson, with the exact score each must get.

A variant starts from the solution notebook and replaces some solution cells (by grade_id).
``scores`` lists the tests cells whose points differ from full marks; every other tests cell
must get full marks.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    name: str
    answers: dict[str, str]
    scores: dict[str, float] = field(default_factory=dict)
