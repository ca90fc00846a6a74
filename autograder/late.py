"""Due dates and the late policy, from the cohort's ``course.json``, and what they cost a submission.

COHORT/course.json (the instructor writes it; every key is optional):

    {
      "due": {"01_activations": "2026-12-15T23:59:00+00:00"},
      "extensions": {"01_activations": {"alice": "2026-12-17T23:59:00+00:00"}},
      "late_policy": {"grace_minutes": 15, "penalty_per_day": 0.1, "max_penalty": 1.0},
      "canvas_assignment_ids": {"01_activations": 123456}
    }

A due date must say its time zone (``+00:00``, ``Z`` or another offset): "23:59" alone means a
different moment on the instructor's laptop and on the server. The penalty is a fraction of the
assignment's maximum score per started day after the due date (plus grace), capped at
``max_penalty``, and never more than the points the submission earned. A submission's time is its
timestamp.txt (nbgrader's exchange writes it; collect distrusts one from the future).

The penalty is applied when grades are exported, from the settings as they are then, so changing a
due date or granting an extension after grading needs no regrade: ``export`` again.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course import Course

SETTINGS_FILE = "course.json"
EXAMPLE = ('{"due": {"01_activations": "2026-12-15T23:59:00+00:00"}, '
           '"late_policy": {"grace_minutes": 15, "penalty_per_day": 0.1, "max_penalty": 1.0}}')


class SettingsError(ValueError):
    """course.json is malformed: the message says which key and what was expected."""


@dataclass
class LatePolicy:
    grace_minutes: float = 0.0
    penalty_per_day: float = 0.0   # fraction of the maximum score per started day late
    max_penalty: float = 1.0       # fraction of the maximum score, at most


@dataclass
class Settings:
    due: dict[str, dt.datetime] = field(default_factory=dict)                     # naive UTC
    extensions: dict[str, dict[str, dt.datetime]] = field(default_factory=dict)  # naive UTC
    late_policy: LatePolicy = field(default_factory=LatePolicy)
    canvas_assignment_ids: dict[str, str] = field(default_factory=dict)

    def due_for(self, assignment: str, student: str) -> dt.datetime | None:
        return self.extensions.get(assignment, {}).get(student) or self.due.get(assignment)


@dataclass
class Lateness:
    due: dt.datetime | None
    seconds_late: float      # 0 when on time or without a due date
    penalty: float           # points taken off
    statement: str           # for the CSV: "on time", "late by 1 d 2 h: penalty 4.75 (10%)", ...


def _when(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise SettingsError(f"{where}: expected a date and time as text, like \"2026-12-15T23:59:00+00:00\"")
    try:
        stamp = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"{where}: {value!r} is not an ISO 8601 date and time "
                            f"(like \"2026-12-15T23:59:00+00:00\")") from None
    if stamp.tzinfo is None:
        raise SettingsError(f"{where}: {value!r} has no time zone; add one (\"+00:00\" or \"Z\" for UTC)")
    return stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _fraction(value: Any, where: str, top: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 \
            or (top is not None and value > top):
        bound = f" and at most {top:g}" if top is not None else ""
        raise SettingsError(f"{where}: expected a number at least 0{bound}, got {value!r}")
    return float(value)


def parse_settings(data: Any, where: str = SETTINGS_FILE) -> Settings:
    if not isinstance(data, dict):
        raise SettingsError(f"{where}: expected a JSON object, e.g. {EXAMPLE}")
    unknown = sorted(set(data) - {"due", "extensions", "late_policy", "canvas_assignment_ids"})
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)} "
                            f"(known: due, extensions, late_policy, canvas_assignment_ids)")
    settings = Settings()
    due = data.get("due", {})
    if not isinstance(due, dict):
        raise SettingsError(f"{where}: \"due\" must map assignments to dates, e.g. {EXAMPLE}")
    settings.due = {str(a): _when(v, f"{where}: due[{a!r}]") for a, v in due.items()}
    ext = data.get("extensions", {})
    if not isinstance(ext, dict) or not all(isinstance(v, dict) for v in ext.values()):
        raise SettingsError(f"{where}: \"extensions\" must map assignments to {{student: date}}")
    settings.extensions = {str(a): {str(s): _when(v, f"{where}: extensions[{a!r}][{s!r}]") for s, v in per.items()}
                           for a, per in ext.items()}
    policy = data.get("late_policy", {})
    if not isinstance(policy, dict) or set(policy) - {"grace_minutes", "penalty_per_day", "max_penalty"}:
        raise SettingsError(f"{where}: \"late_policy\" takes grace_minutes, penalty_per_day and max_penalty")
    settings.late_policy = LatePolicy(
        grace_minutes=_fraction(policy.get("grace_minutes", 0), f"{where}: late_policy.grace_minutes"),
        penalty_per_day=_fraction(policy.get("penalty_per_day", 0), f"{where}: late_policy.penalty_per_day", 1),
        max_penalty=_fraction(policy.get("max_penalty", 1), f"{where}: late_policy.max_penalty", 1))
    ids = data.get("canvas_assignment_ids", {})
    if not isinstance(ids, dict) or not all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in ids.values()):
        raise SettingsError(f"{where}: \"canvas_assignment_ids\" must map assignments to Canvas ids (numbers)")
    settings.canvas_assignment_ids = {str(a): str(v) for a, v in ids.items()}
    return settings


def load_settings(course: Course) -> Settings:
    """The cohort's settings; defaults (no due dates) when there is no course.json."""
    path = course.cohort / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"{path}: not readable JSON ({exc}); expected e.g. {EXAMPLE}") from None
    return parse_settings(data, str(path))


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * (not days and bool(minutes))
    return " ".join(parts) or f"{seconds:.0f} s"


def assess(settings: Settings, assignment: str, student: str, submitted: dt.datetime | None,
           raw_score: float, max_score: float) -> Lateness:
    """How late a submission was and what that costs it under the late policy."""
    due = settings.due_for(assignment, student)
    if due is None:
        return Lateness(None, 0.0, 0.0, "no due date")
    if submitted is None:
        return Lateness(due, 0.0, 0.0, "no submission time: not assessed")
    late = (submitted - due).total_seconds()
    extended = student in settings.extensions.get(assignment, {})
    if late <= 0:
        return Lateness(due, 0.0, 0.0, "on time" + (" (extension)" if extended else ""))
    policy = settings.late_policy
    counted = late - 60 * policy.grace_minutes
    if counted <= 0:
        return Lateness(due, late, 0.0, f"late by {_duration(late)}, within the grace period: no penalty")
    days = math.ceil(counted / 86400)
    fraction = min(policy.max_penalty, days * policy.penalty_per_day)
    penalty = round(min(max(raw_score, 0.0), fraction * max_score), 6)
    if penalty == 0:
        return Lateness(due, late, 0.0, f"late by {_duration(late)}: no penalty (the late policy sets none)")
    return Lateness(due, late, penalty,
                    f"late by {_duration(late)} ({days} started day(s)): penalty {penalty:g} ({fraction:.0%} of "
                    f"{max_score:g}" + (", capped at the points earned" if penalty < fraction * max_score else "") + ")")


def sync_gradebook(course: Course, settings: Settings) -> None:
    """Write due dates and every recorded submission's penalty into nbgrader's gradebook, so that the
    formgrader and nbgrader's export show the same penalty as ours (score = raw score - penalty)."""
    from nbgrader.api import Gradebook

    from autograder.gradebook import venv_on_path

    if not (course.cohort / "gradebook.db").exists():
        return
    venv_on_path()
    with warnings.catch_warnings(), Gradebook(course.db_url) as gb:
        warnings.simplefilter("ignore")
        for assignment in gb.assignments:
            if assignment.name in settings.due:  # a date set with nbgrader's own tools is left alone
                assignment.duedate = settings.due[assignment.name]
            for submission in assignment.submissions:
                student = submission.student.id
                submission.extension = None  # our extensions are absolute dates, kept in course.json
                notebooks = sorted(submission.notebooks, key=lambda n: n.name)
                raw = sum(n.score for n in notebooks)
                lateness = assess(settings, assignment.name, student, submission.timestamp, raw, assignment.max_score)
                # nbgrader sums its notebooks' penalties; the whole penalty goes on the first.
                for i, nb in enumerate(notebooks):
                    nb.late_submission_penalty = lateness.penalty if i == 0 else 0.0
        gb.db.commit()


def settings_or_exit(course: Course) -> Settings:
    try:
        return load_settings(course)
    except SettingsError as exc:
        raise SystemExit(f"cannot read the cohort's settings: {exc}") from None

