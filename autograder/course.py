"""Where a course's things are, its grading limits, and which names are student ids.

State on disk (all under the cohort folder, which the sandbox hides from graded code):
    submitted/<student>/<assignment>/*.ipynb + timestamp.txt   collected submissions (nbgrader's layout)
    .grader/results/<assignment>/<student>.json                  one result per graded submission
    .grader/collect/<assignment>.json                            what collect skipped or distrusted
    .grader/reference/<assignment>/                              the solution's probe values (cached)
    autograded/<student>/<assignment>/*.ipynb                    what feedback is made from
    gradebook.db                                                 nbgrader's gradebook
    reports/<assignment>.txt                                     the grading report for the instructor
"""
from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.grading import GradeContext
from autograder.sandbox import Limits

MAX_ID_LENGTH = 64
ID_PUNCTUATION = set("_.@+-")


def student_id_problem(name: str) -> str | None:
    """None if ``name`` can be a student id (a folder name and a gradebook key), else why not.

    Letters and digits of any script are fine ("zoë", "李华"); so are . _ @ + -. Not: bytes that
    are not UTF-8 (they arrive as lone surrogates), control or invisible characters, spaces,
    slashes, a leading dot or dash."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid UTF-8 (undecodable bytes)"
    if not name:
        return "the name is empty"
    if len(name) > MAX_ID_LENGTH:
        return f"the name is longer than {MAX_ID_LENGTH} characters"
    if unicodedata.normalize("NFC", name) != name:
        return "the name is not in Unicode normal form NFC (rename it as typed)"
    if not name[0].isalnum():
        return "the name must start with a letter or a digit"
    bad = sorted({c for c in name if not (c.isalnum() or c in ID_PUNCTUATION)})
    if bad:
        return f"the name contains {', '.join(ascii(c) for c in bad)} (letters, digits and . _ @ + - only)"
    return None


OVERLAY_ENV = "DLCOURSE_SOLUTIONS"      # a private folder of lessons that replace or extend solutions/
SECRET_ENV = "DLCOURSE_COHORT_SECRET"   # changes hidden checks' inputs (dlcourse.checks.hidden_rng)
SECRET_FILE = "secret"                  # or COHORT/secret: the cohort folder is never committed


@dataclass
class Course:
    """Where things are. ``root`` holds solutions/ and lessons/; ``cohort`` holds the instructor's
    state; ``overlay`` (optional, private) holds lessons that replace or extend solutions/."""

    root: Path
    cohort: Path
    overlay: Path | None = None

    @classmethod
    def from_env(cls, root: Path | None = None, cohort: Path | None = None) -> "Course":
        root = Path(root or os.environ.get("DLCOURSE_ROOT") or Path.cwd()).resolve()
        cohort = Path(cohort or os.environ.get("DLCOURSE_COHORT") or root / "cohort").resolve()
        overlay = os.environ.get(OVERLAY_ENV)
        if overlay:
            overlay_path = Path(overlay).expanduser().resolve()
            if not overlay_path.is_dir():
                raise SystemExit(f"{OVERLAY_ENV}={overlay}: not a folder (expected a folder of lesson "
                                 f"folders like solutions/, e.g. {overlay}/01_activations/01_activations.ipynb)")
            if overlay_path == (root / "solutions").resolve():
                overlay_path = None
            return cls(root, cohort, overlay_path)
        return cls(root, cohort)

    @property
    def secret(self) -> str:
        """The cohort secret: the environment's, else COHORT/secret's first line; "" for none."""
        secret = os.environ.get(SECRET_ENV, "").strip()
        if not secret:
            try:
                secret = (self.cohort / SECRET_FILE).read_text().splitlines()[0].strip()
            except (OSError, IndexError, UnicodeDecodeError):
                secret = ""
        return secret

    def public_assignments(self) -> list[str]:
        """The lessons of the public repository (what `make lessons` generates)."""
        return sorted(p.name for p in (self.root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))

    def overlay_assignments(self) -> list[str]:
        if self.overlay is None:
            return []
        return sorted(p.name for p in self.overlay.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb")))

    def source_folder(self, assignment: str) -> Path:
        """The lesson's source: the private overlay's folder when it has one, else solutions/'s."""
        if assignment in self.overlay_assignments():
            return self.overlay / assignment  # type: ignore[operator]
        return self.root / "solutions" / assignment

    def release_source(self) -> Path:
        """The folder nbgrader generates student versions from. Without an overlay: solutions/.
        With one: a merged copy in COHORT/.grader/source (public lessons, replaced or extended by
        the overlay's), so release, grading, feedback and export work unchanged."""
        if self.overlay is None:
            return self.root / "solutions"
        import shutil

        merged = self.cohort / ".grader" / "source"
        shutil.rmtree(merged, ignore_errors=True)
        merged.mkdir(parents=True)
        for assignment in self.assignments():
            shutil.copytree(self.source_folder(assignment), merged / assignment,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        return merged

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.cohort / 'gradebook.db'}"

    def assignments(self) -> list[str]:
        return sorted(set(self.public_assignments()) | set(self.overlay_assignments()))

    def sources(self, assignment: str) -> list[Path]:
        folder = self.source_folder(assignment)
        if not folder.is_dir():
            raise SystemExit(f"no assignment {assignment!r}: expected a folder solutions/{assignment}/ "
                             f"(known: {', '.join(self.assignments())})")
        return sorted(folder.glob("*.ipynb"))

    def submitted(self, student: str, assignment: str) -> Path:
        return self.cohort / "submitted" / student / assignment

    def results_dir(self, assignment: str) -> Path:
        return self.cohort / ".grader" / "results" / assignment

    def result_path(self, assignment: str, student: str) -> Path:
        return self.results_dir(assignment) / f"{student}.json"

    def collect_log(self, assignment: str) -> Path:
        return self.cohort / ".grader" / "collect" / f"{assignment}.json"

    def report_path(self, assignment: str) -> Path:
        return self.cohort / "reports" / f"{assignment}.txt"

    def context(self, limits: Limits, sandboxed: bool) -> GradeContext:
        # Graded code sees none of the course folder or the cohort folder, except what it
        # needs to import: the virtual environment, the helper package, data and lessons.
        reveal = [self.root / name for name in (".venv", "dlcourse", "datasets", "lessons")]
        hide = [self.root, self.cohort] + ([self.overlay] if self.overlay else [])
        return GradeContext(limits, hide=hide, reveal=reveal, sandboxed=sandboxed, secret=self.secret)


def load_limits(course: Course, assignment: str) -> Limits:
    """Limits from autograder/limits.json: "default" and optional per-assignment overrides."""
    path = course.root / "autograder" / "limits.json"
    settings: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text())
        settings.update(data.get("default", {}))
        settings.update(data.get(assignment, {}))
    settings = {k: v for k, v in settings.items() if not k.startswith("_")}
    return Limits(**settings)
