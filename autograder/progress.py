"""How far a self-study learner has come: their own notebooks in lessons/, graded for real.

The same grader as for a cohort (hidden checks included), so the points are the points an
instructor would give. Only counts are shown for hidden checks, as in feedback.

It shows what it is doing while it runs (a bar on a terminal, a line per lesson otherwise), and
reuses the result of a notebook whose answers have not changed: the cache key is the hash of
the learner's answers, the source notebook's digest and the grader's own code (dlcourse and
the grading modules), so any change to any of them grades again. A result that depended on
the machine (a timeout, a kernel that died, "regrade needed") is never reused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Callable

from autograder.cleanup import clean_stale_sandboxes
from autograder.course import Course, load_limits
from autograder.display import ProgressBar
from autograder.files import atomic_write, dump_json, load_json
from autograder.grading import (InvalidSubmission, NotebookResult, Source, extract_answers, grade_notebook,
                                read_submission, reference_probes, written_prompts)
from autograder.sandbox import Limits, sandbox_problem

_GRADER_FILES = ("grading.py", "runner.py", "sandbox.py", "progress.py")
_HOST_DEPENDENT = {"timeout", "kernel died"}


@lru_cache(maxsize=None)
def grader_digest(root: Path) -> str:
    """Hash of the code that decides a grade: dlcourse/*.py and the grading modules."""
    h = hashlib.sha256()
    files = sorted((root / "dlcourse").glob("*.py")) + [Path(__file__).with_name(n) for n in _GRADER_FILES]
    for path in files:
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_key(answers: dict[str, str], source: Source, limits: Limits, root: Path) -> str:
    data = json.dumps({"answers": answers, "source": source.digest, "grader": grader_digest(root),
                       "limits": dataclasses.asdict(limits)}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(data.encode()).hexdigest()


def _answers(path: Path, source: Source) -> dict[str, str] | None:
    try:
        return extract_answers(read_submission(path), source)[0]
    except InvalidSubmission:
        return None


def _started(answers: dict[str, str] | None, source: Source) -> bool:
    """Has the learner written anything in an answer cell yet? (Saves running untouched lessons.)"""
    if answers is None:
        return True  # let grading report what is wrong with it
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in source.nb.cells}
    return any(text.strip() != source.release_text(cells[gid]).strip() for gid, text in answers.items())


def _reusable(result: NotebookResult) -> bool:
    data = result.to_json()
    return (data.get("status", "graded") == "graded" and not result.invalid
            and not any(c.get("status") in _HOST_DEPENDENT for c in result.cells.values()))


def _from_cache(path: Path, key: str) -> NotebookResult | None:
    data = load_json(path)
    if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("result"), dict):
        return None
    names = {f.name for f in dataclasses.fields(NotebookResult)}
    try:
        return NotebookResult(**{k: v for k, v in data["result"].items() if k in names})
    except TypeError:
        return None


def progress(course: Course, folder: Path, assignments: list[str], log: Callable[[str], None] = print,
             cache_dir: Path | None = None, fresh: bool = False) -> dict[str, float]:
    """Grade each lesson found in ``folder`` and print a table. Returns points per lesson."""
    cache_root = Path(cache_dir) if cache_dir is not None else course.root / "build" / "progress"
    sandboxed = sandbox_problem() is None
    clean_stale_sandboxes(log=log)  # what a progress run that was interrupted left behind
    log("Your progress, graded like the real thing (public and hidden checks)"
        + ("" if sandboxed else " [no sandbox here: fine for your own code]") + "\n")
    items = []
    for assignment in assignments or course.assignments():
        limits = load_limits(course, assignment)
        for src_path in course.sources(assignment):
            source = Source.load(src_path)
            path = folder / assignment / src_path.name
            answers = _answers(path, source) if path.exists() else {}
            started = path.exists() and _started(answers, source)
            key = cache_key(answers, source, limits, course.root) if started and answers is not None else None
            cached = None
            cache_file = cache_root / assignment / f"{src_path.stem}-result.json"
            if key and not fresh:
                cached = _from_cache(cache_file, key)
            items.append((assignment, limits, source, path, started, key, cached, cache_file))
    to_grade = sum(1 for it in items if it[4] and it[6] is None)
    bar = ProgressBar(to_grade, log=log, announce=True, numbered=False)
    earned: dict[str, float] = {}
    total = total_max = 0.0
    for assignment, limits, source, path, started, key, cached, cache_file in items:
        stem = source.path.stem
        max_points = sum(source.points[g] for g in source.test_ids)
        total_max += max_points
        if not started:
            log(f"  {stem:<22} {0:>5g} / {max_points:<4g} not started")
            earned[stem] = 0.0
            continue
        if cached is not None:
            result, note = cached, "  (unchanged since the last run: reused)"
            log_line = log
        else:
            bar.start(stem)
            ctx = course.context(limits, sandboxed)
            result = grade_notebook(path, source, reference_probes(source, ctx, cache_root / assignment), ctx)
            note = ""
            if key and _reusable(result):
                try:
                    atomic_write(cache_file, dump_json({"key": key, "result": result.to_json()}))
                except OSError:
                    pass  # no cache this time: the next run grades again
            log_line = None
        earned[stem] = result.score
        total += result.score
        filled = int(round(20 * result.score / max_points)) if max_points else 0
        line = f"  {stem:<22} {result.score:>5g} / {max_points:<4g} [{'#' * filled}{'.' * (20 - filled)}]{note}"
        if log_line is None:
            bar.finish(stem, line)
        else:
            log_line(line)
        parts = [f"{gid.removesuffix('_tests').split('_', 1)[-1]} {cell['score']:g}/{cell['max_score']:g}"
                 for gid, cell in result.cells.items()]
        log("      " + "  ".join(parts))
        for flag in result.flags:
            if "tests cell" not in flag:
                log(f"      note: {flag}")
        for why in (result.to_json().get("attention") or []):
            log(f"      needs attention: {why}")
        _show_written_prompts(source, result.answers, log)
    bar.close()
    log(f"\n  total {total:g} / {total_max:g} points")
    return earned


def _show_written_prompts(source: Source, answers: dict[str, str], log: Callable[[str], None]) -> None:
    """Written prompts carry no points, so the table above cannot show them: list the unanswered
    ones, and the model answer of each one the learner has answered (never before: a model answer
    read first replaces the thinking the prompt asks for)."""
    import textwrap

    prompts = written_prompts(source, answers)
    todo = [gid for gid, answered, _ in prompts if not answered]
    if todo:
        log(f"      written prompts not answered yet: {', '.join(todo)} (their model answers appear here "
            f"once you have written your own)")
    for gid, answered, model in prompts:
        if answered and model:
            log(f"      model answer for {gid} (compare it with yours):")
            for para in model.split("\n\n"):
                log(textwrap.fill(" ".join(para.split()), width=96, initial_indent="        ",
                                  subsequent_indent="        "))
