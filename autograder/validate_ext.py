"""nbgrader's Validate, plus a warning for each written prompt the learner has not answered yet.

Written ("explain it simply") prompts carry no points, so nbgrader's Validate never mentions them
and a learner can submit with all of them blank without being told. This Jupyter server extension
serves the same ``/assignments/validate`` route as nbgrader's (it replaces it: enable one or the
other, as the configs in jupyter/ do) and appends, after nbgrader's own results, one entry per
unanswered prompt. The JupyterLab Validate dialog shows them like its other entries, under "The
following cell failed:", with a message that says it is a warning and costs no points.

It reads only the learner's own notebook: an unanswered prompt is a written-answer cell whose
text is still the release's "YOUR ANSWER HERE" (or empty). No solutions are needed, so it works
on a student's JupyterHub server, which has none.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from nbgrader.server_extensions.validate_assignment import handlers as nbgrader_validate

STUB = "YOUR ANSWER HERE"
WARNING = ("warning, not a failure: this written prompt is not answered yet. It carries no points, "
           "but it is where you check that you can explain the idea; its model answer appears in your "
           "feedback (and in `make progress`) once you have written your own.")


def unanswered_prompts(nb: dict[str, Any]) -> list[dict[str, str]]:
    """[{"grade_id", "prompt"}] for each written-answer cell still blank, with the text of the
    markdown cell just above it (the prompt itself)."""
    found = []
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") != "markdown" or not meta.get("solution"):
            continue
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.strip() and STUB not in text:
            continue
        prev = cells[i - 1] if i > 0 else {}
        is_prompt = prev.get("cell_type") == "markdown" and not ((prev.get("metadata") or {}).get("nbgrader") or {}).get("solution")
        above = prev.get("source", "") if is_prompt else ""
        above = "".join(above) if isinstance(above, list) else str(above)
        found.append({"grade_id": str(meta.get("grade_id", "")), "prompt": above.strip()})
    return found


def add_warnings(value: Any, nb: dict[str, Any]) -> Any:
    """nbgrader's validation result with an entry per unanswered prompt appended to "failed".
    Left alone when nbgrader reports changed cells (then that is what the learner must fix)."""
    if not isinstance(value, dict) or "type_changed" in value or "changed" in value:
        return value
    extra = [{"source": (p["prompt"] or p["grade_id"])[:600], "error": html.escape(WARNING), "raw_error": WARNING}
             for p in unanswered_prompts(nb)]
    if extra:
        value = dict(value)
        value["failed"] = list(value.get("failed", [])) + extra
    return value


class ValidateWithPromptsHandler(nbgrader_validate.ValidateAssignmentHandler):
    def validate_notebook(self, path: str) -> dict[str, Any]:
        result = super().validate_notebook(path)
        if not result.get("success"):
            return result
        try:
            nb = json.loads((Path(self.root_dir).resolve() / path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return result  # nbgrader read it a moment ago; if it is gone now, its own result stands
        return {**result, "value": add_warnings(result["value"], nb)}


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "autograder.validate_ext"}]


def _load_jupyter_server_extension(app: Any) -> None:
    webapp = app.web_app
    webapp.settings["root_dir"] = app.root_dir
    handlers = [(pattern, ValidateWithPromptsHandler if handler is nbgrader_validate.ValidateAssignmentHandler
                 else handler) for pattern, handler in nbgrader_validate.default_handlers]
    base_url = webapp.settings["base_url"]
    webapp.add_handlers(".*$", [(nbgrader_validate.ujoin(base_url, p), h) for p, h in handlers])
    app.log.info("Loaded the course's Validate (nbgrader's, with warnings for unanswered written prompts)")
