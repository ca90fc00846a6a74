"""One submission's result file: its shape, its status, and reading it back without trusting it.

A result is the JSON the grader writes to .grader/results/<assignment>/<student>.json:
    student, assignment, digest, timestamp, graded_at, score, max_score,
    notebooks: {stem: NotebookResult.to_json()}, extra_files: [...], flags: [...],
    status: "graded" | "regrade needed" | "needs attention", attention: [...],
    in_gradebook: bool, record_error: str (when recording hit a problem a rerun would hit again)

Each notebook result may carry its own "status" and "attention" (from grade_notebook); a
missing status means "graded". The result's status is the worst of its notebooks' and its own.
"""
from __future__ import annotations

import math
from typing import Any

from autograder.files import load_json

GRADED, REGRADE, ATTENTION = "graded", "regrade needed", "needs attention"
_RANK = {GRADED: 0, REGRADE: 1, ATTENTION: 2}


def worst(*statuses: str) -> str:
    return max(statuses, key=lambda s: _RANK.get(s, 2), default=GRADED)


def notebook_status(nb: dict[str, Any]) -> str:
    status = nb.get("status", GRADED)
    return status if status in _RANK else ATTENTION


def status(result: dict[str, Any]) -> str:
    return worst(notebook_status(result), *(notebook_status(nb) for nb in result["notebooks"].values()))


def attention(result: dict[str, Any]) -> list[str]:
    """Why the result needs a person: the grader's own reasons, then each notebook's."""
    items = [str(a) for a in result.get("attention", [])]
    for nb in result["notebooks"].values():
        items += [str(a) for a in nb.get("attention", []) if str(a) not in items]
    return items


def flags(result: dict[str, Any]) -> list[str]:
    return ([str(f) for f in result.get("flags", [])]
            + [str(f) for nb in result["notebooks"].values() for f in nb.get("flags", [])]
            + [f"extra file {name} (not graded)" for name in result.get("extra_files", [])])


def recordable(result: dict[str, Any]) -> bool:
    """Does the result hold grades that are true? Not when nothing was graded, or when the
    grader failed on a notebook (its zeros are the grader's, not the learner's): such a result
    is reported, never written into the gradebook as a 0."""
    return bool(result["notebooks"]) and not any(nb.get("grader_error") for nb in result["notebooks"].values())


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def problem(result: Any) -> str | None:
    """None if ``result`` has the shape the report, the gradebook and feedback rely on."""
    if not isinstance(result, dict):
        return "not a JSON object"
    for key in ("student", "assignment", "digest"):
        if not isinstance(result.get(key), str):
            return f"{key} is missing or not text"
    if not (_number(result.get("score")) and _number(result.get("max_score"))):
        return "score or max_score is not a number"
    if not isinstance(result.get("notebooks"), dict):
        return "notebooks is not an object"
    for name, nb in result["notebooks"].items():
        if not isinstance(nb, dict):
            return f"notebook {name} is not an object"
        if not (_number(nb.get("score")) and _number(nb.get("max_score"))):
            return f"notebook {name}: score is not a number"
        if not isinstance(nb.get("cells"), dict) or not all(isinstance(c, dict) and _number(c.get("score"))
                                                             for c in nb["cells"].values()):
            return f"notebook {name}: cells are not scored objects"
        if not isinstance(nb.get("flags", []), list) or not isinstance(nb.get("answers", {}), dict):
            return f"notebook {name}: flags or answers have the wrong type"
        if not isinstance(nb.get("attention", []), list):
            return f"notebook {name}: attention is not a list"
    for key in ("flags", "attention", "extra_files"):
        if not isinstance(result.get(key, []), list):
            return f"{key} is not a list"
    return None


def load_result(path: Any) -> tuple[dict[str, Any] | None, str | None]:
    """(result, None) for a usable result file, (None, why) for a damaged one, (None, None) if absent."""
    import os

    if not os.path.lexists(path):
        return None, None
    data = load_json(path)
    if data is None:
        return None, "the result file is unreadable (damaged, half written or not a regular file)"
    why = problem(data)
    return (None, f"the result file is malformed ({why})") if why else (data, None)
