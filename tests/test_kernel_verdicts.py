"""Does every check report data, never a verdict computed inside the learner's kernel?

A check's function runs in the same process as the learner's code. Anything it computes
from a comparison (``a == b``, ``np.allclose``, ``abs(a - b).max()``, ``err < 1e-6``) can be
faked by that code: a patched ``np.allclose``, a float subclass whose ``<`` lies. So the
function of every ``t.check(...)`` in a tests cell must only *produce* values; comparisons,
bounds and metrics are the grader's (``bounds=``, ``metric=`` on the check).
"""
from __future__ import annotations

import ast
import json

import pytest

from tests.conftest import ROOT, assignments

# Calls whose result is a verdict or an error figure.
VERDICT_CALLS = {
    "allclose", "isclose", "array_equal", "array_equiv", "assert_allclose", "assert_array_equal",
    "equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "all", "any",
    "relative_error", "rel_error", "grad_check", "logical_and", "logical_or", "logical_not", "bool",
    "isin", "in1d", "count_nonzero", "accuracy_score", "balanced_accuracy_score",
}
# Calls that turn a difference into an error figure: abs(a - b), norm(a - b), ...
ERROR_FIGURES = {"abs", "absolute", "norm", "fabs"}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def problems_in(node: ast.AST) -> list[str]:
    """What in this expression or function body computes a verdict."""
    found = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Compare):
            found.append(f"a comparison ({ast.unparse(sub)[:60]})")
        elif isinstance(sub, ast.Call):
            name = _name(sub.func)
            if name in VERDICT_CALLS:
                found.append(f"{name}(...)")
            elif name in ERROR_FIGURES and any(isinstance(a, ast.BinOp) and isinstance(a.op, ast.Sub)
                                                for arg in sub.args for a in ast.walk(arg)):
                found.append(f"an error figure {ast.unparse(sub)[:60]}")
        elif isinstance(sub, ast.BoolOp):
            found.append(f"a boolean expression ({ast.unparse(sub)[:60]})")
    return found


def check_functions(tree: ast.Module) -> list[tuple[str, ast.AST]]:
    """(check name, the function it runs) for every t.check(...) call in a cell."""
    defs = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    lambdas = {t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign) and isinstance(n.value, ast.Lambda)
               for t in n.targets if isinstance(t, ast.Name)}
    out = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "check"):
            continue
        if len(call.args) < 2:
            continue
        name = call.args[0].value if isinstance(call.args[0], ast.Constant) else ast.unparse(call.args[0])
        fn = call.args[1]
        if isinstance(fn, ast.Lambda):
            out.append((name, fn.body))
        elif isinstance(fn, ast.Name) and fn.id in defs:
            out.append((name, defs[fn.id]))
        elif isinstance(fn, ast.Name) and fn.id in lambdas:
            out.append((name, lambdas[fn.id].body))
        else:
            out.append((name, fn))
    return out


def graded_cells_of(assignment: str):
    for path in sorted((ROOT / "solutions" / assignment).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                yield meta["grade_id"], "".join(cell["source"])


@pytest.mark.parametrize("assignment", assignments())
def test_no_check_computes_a_verdict_in_the_kernel(assignment):
    bad = []
    for gid, source in graded_cells_of(assignment):
        for name, fn in check_functions(ast.parse(source)):
            for problem in problems_in(fn):
                bad.append(f"{gid} / {name!r}: {problem}")
    assert not bad, ("checks must return data and let the grader compare (use bounds= or metric= for "
                     "thresholds):\n  " + "\n  ".join(bad))


@pytest.mark.parametrize("code,verdict", [
    ("t.check('a', lambda: np.allclose(f(x), 1))", True),
    ("t.check('a', lambda: f(x) == 1)", True),
    ("t.check('a', lambda: [e < 1e-6 for e in g(x)])", True),
    ("t.check('a', lambda: np.abs(f(x) - y).max())", True),
    ("def _c():\n    return (f(x) > 0).all()\nt.check('a', _c)", True),
    ("t.check('a', lambda: f(x) and g(x))", True),
    ("t.check('a', lambda: f(x.copy()))", False),
    ("t.check('a', lambda: [f(x), np.abs(x)])", False),
    ("t.check('a', lambda: predict(X), metric='accuracy', target=y, bounds=(0.9, None))", False),
])
def test_the_detector_itself_catches_the_class_and_spares_data(code, verdict):
    found = [p for _, fn in check_functions(ast.parse(code)) for p in problems_in(fn)]
    assert bool(found) == verdict, found
