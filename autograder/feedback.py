"""The course's feedback HTML: cells named after their exercises, and math rendered offline.

nbgrader_config.py calls :func:`configure`, so both ``python -m autograder feedback`` and the
formgrader's "generate feedback" use it. Two pieces:

- ``templates/feedback``: nbgrader's feedback template, naming each graded cell after its exercise
  ("Checks: softmax (4. A softmax that does not overflow)") instead of "Test cell".
- :class:`FeedbackExtras`, a preprocessor that finds those names, and copies MathJax (from the
  pinned ``jupyter_server_mathjax`` package) once into the feedback folder, ``FEEDBACK/mathjax/``,
  pointing each page at it by a relative url. No CDN: feedback renders math with no network.

``templates/formgrade`` does the same for the formgrader's pages, where the Jupyter server serves
the same MathJax (``make lab-instructor`` enables jupyter_server_mathjax).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, default

TEMPLATES = Path(__file__).resolve().parent / "templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
MATHJAX_DIR = "mathjax"
# Not needed for TeX rendered as HTML-CSS: other languages' menus, the SVG output, speech-rule maps.
_MATHJAX_SKIP = {("jax", "output", "SVG"), ("extensions", "a11y", "mathmaps")}


def mathjax_source() -> Path:
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_mathjax(dest: Path) -> Path:
    """Copy MathJax into ``dest`` unless an up-to-date copy is there. Returns MathJax.js's path."""
    src = mathjax_source()
    stamp = dest / ".source"
    if not (stamp.exists() and stamp.read_text() == str(src) and (dest / "MathJax.js").exists()):
        if dest.exists():
            shutil.rmtree(dest)

        def skip(folder: str, names: list[str]) -> list[str]:
            rel = Path(folder).relative_to(src).parts
            if rel == ("localization",):
                return [n for n in names if n != "en"]
            return [n for n in names if rel + (n,) in _MATHJAX_SKIP]

        shutil.copytree(src, dest, ignore=skip)
        stamp.write_text(str(src))
    return dest / "MathJax.js"


def _heading(markdown: str) -> str | None:
    """The last heading of a markdown cell ("## 4. A softmax" -> "4. A softmax"), if any."""
    found = None
    for line in markdown.splitlines():
        if m := re.match(r"#{1,6}\s+(.*\S)", line):
            found = m.group(1)
    return found


def exercise_names(nb: Any) -> tuple[dict[str, str], dict[str, str]]:
    """For each graded cell's grade_id: the exercise name and the section it sits in.

    "01_softmax_tests" -> "softmax"; the section is the last heading of an ordinary (not graded)
    markdown cell before it, so that nothing a learner wrote can rename a cell."""
    exercises: dict[str, str] = {}
    sections: dict[str, str] = {}
    section = None
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type == "markdown" and not (meta.get("solution") or meta.get("grade") or meta.get("task")):
            section = _heading(cell.source) or section
        if gid and (meta.get("grade") or meta.get("solution") or meta.get("task")):
            name = re.sub(r"^\d+_", "", gid)
            exercises[gid] = re.sub(r"_tests$", "", name) or gid
            if section:
                sections[gid] = section
    return exercises, sections


class FeedbackExtras(Preprocessor):
    """Exercise names for the feedback template, and a local MathJax for its math."""

    @default("enabled")
    def _enabled_default(self) -> bool:
        return True  # nbgrader registers its converters' preprocessors without enabling them

    copy = Bool(True, help="Copy MathJax into the feedback folder (else point at the installed copy)").tag(config=True)

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        exercises, sections = exercise_names(nb)
        resources["dlcourse"] = {"exercises": exercises, "sections": sections}
        resources["mathjax_url"] = self._mathjax_url(resources)
        return nb, resources

    def _mathjax_url(self, resources: dict) -> str:
        try:
            mathjax_source()
        except ImportError:  # an environment from before the pin: feedback still works, online
            self.log.warning("jupyter-server-mathjax is not installed (run `make setup`): math in "
                             "feedback will load MathJax from the network")
            return resources.get("mathjax_url") or ""
        # The converter (exporter's parent) knows where this notebook's feedback page goes.
        converter = getattr(self.parent, "parent", None)
        coursedir = getattr(converter, "coursedir", None)
        info = resources.get("nbgrader", {})
        if self.copy and coursedir is not None and "student" in info and "assignment" in info:
            page_dir = Path(coursedir.format_path(coursedir.feedback_directory, info["student"], info["assignment"]))
            root = Path(os.path.normpath(coursedir.format_path(coursedir.feedback_directory, ".", ".")))
            mathjax = copy_mathjax(root / MATHJAX_DIR)
            return f"{Path(os.path.relpath(mathjax, page_dir)).as_posix()}?config={MATHJAX_CONFIG}"
        # Rendered outside nbgrader's feedback step: the installed copy, still no network.
        return f"{(mathjax_source() / 'MathJax.js').as_uri()}?config={MATHJAX_CONFIG}"


def configure(c: Any) -> None:
    """Set up feedback and the formgrader's pages in an nbgrader config object ``c``."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    import nbgrader

    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"
    # Ours first: templates/feedback replaces nbgrader's feedback page; templates/formgrade only
    # shadows the MathJax macro of nbgrader's formgrade page.
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    # nbgrader's own list, in its order (GetGrades puts the scores in), then ours.
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, FeedbackExtras]
