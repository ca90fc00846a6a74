"""Rebuild the bundled example submissions from the current student version of lesson 01.

Run after changing lesson 01 (and `make lessons`): `.venv/bin/python -m autograder.example_submissions.make_examples`.
Each learner starts from lessons/01_activations and fills in the solution's answers, except
where tests/submissions/lesson01.py gives a known-buggy or differently written answer.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
A = "01_activations"
STUDENTS = {  # student -> variants whose answers they hand in ("blank" = the untouched release)
    "alice": [],
    "bob": None,
    "carol": ["softmax_overflows"],
    "dave": ["sigmoid_grad_from_wrong_variable", "tanh_grad_wrong_sign"],
    "erin": ["correct_loops_prints_warnings"],
}


def main() -> None:
    import sys

    sys.path.insert(0, str(ROOT))
    from tests.submissions import load_variants, solution_answers

    source = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", 4)
    release = nbformat.read(ROOT / "lessons" / A / f"{A}.ipynb", 4)
    solution = solution_answers(source)
    variants = {v.name: v for v in load_variants(A)}
    for student, names in STUDENTS.items():
        nb = copy.deepcopy(release)
        if names is not None:
            answers = dict(solution)
            for name in names:
                answers.update(variants[name].answers)
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if gid in answers:
                    cell.source = answers[gid]
        nbformat.write(nb, Path(__file__).parent / A / f"{student}.ipynb")


if __name__ == "__main__":
    main()
