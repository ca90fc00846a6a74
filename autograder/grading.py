"""Grade one submitted notebook against its source, with data-only results.

The order matters:
1. Read the submission as untrusted JSON and take from it only the learner's answer cells,
   matched by grade_id. Everything else (test cells, points, metadata, kernel) comes from
   the source notebook, so editing, deleting or duplicating test cells changes nothing.
2. Run the source notebook with those answers in a sandboxed kernel; test cells run in
   probe mode and send back plain data only.
3. Compare that data with the reference (the solution run the same way) here, outside the
   learner's process. Points and tolerances come from the reference run too.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.runner import CellRun, run_cells
from autograder.sandbox import Limits, Sandbox
from dlcourse.checks import compare, decode

MAX_NOTEBOOK_BYTES = 20 * 2**20
PRELUDE = "import dlcourse.checks as _dlc_checks\n_dlc_checks.enable_probe_mode()\ndel _dlc_checks"
_BEGIN_HIDDEN = re.compile(r"^([ \t]*)### BEGIN HIDDEN TESTS[ \t]*$", re.M)
_END_HIDDEN = re.compile(r"^([ \t]*)### END HIDDEN TESTS[ \t]*$", re.M)
_HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)
_SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)


class InvalidSubmission(ValueError):
    """The file is not a notebook we can grade; the message says what was expected."""


class SourceError(RuntimeError):
    """The instructor's source notebook is inconsistent (a course bug, not a student's)."""


# ----------------------------------------------------------------------------------------
# Source notebooks.
# ----------------------------------------------------------------------------------------
def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    meta = cell.get("metadata", {})
    nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbg if isinstance(nbg, dict) else {}


def cell_text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        return "".join(s for s in src if isinstance(s, str))
    return src if isinstance(src, str) else ""


@dataclass
class Source:
    """A source notebook and what grading needs from it."""

    path: Path
    nb: Any
    digest: str
    answer_ids: list[str]            # solution cells, in order
    test_ids: list[str]              # grade cells that are code (tests), in order
    points: dict[str, float]         # grade_id -> max points

    @classmethod
    def load(cls, path: Path) -> "Source":
        raw = Path(path).read_bytes()
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        answers, tests, points = [], [], {}
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if meta.get("solution"):
                answers.append(gid)
            if meta.get("grade"):
                points[gid] = float(meta.get("points", 0))
                if cell.cell_type == "code" and not meta.get("solution"):
                    tests.append(gid)
        ids = answers + tests
        if len(set(ids)) != len(ids):
            raise SourceError(f"{path}: duplicate grade_id among {ids}")
        return cls(Path(path), nb, hashlib.sha256(raw).hexdigest(), answers, tests, points)

    def release_text(self, cell: dict[str, Any]) -> str:
        """A cell's text as the student version has it (solutions and hidden tests removed)."""
        text = _HIDDEN_REGION.sub("", cell_text(cell))
        if nbgrader_meta(cell).get("solution"):
            stub = "# YOUR CODE HERE\n{0}raise NotImplementedError()" if cell.get("cell_type") == "code" else "YOUR ANSWER HERE"
            text = _SOLUTION_REGION.sub(lambda m: m.group(1) + stub.format(m.group(1)), text)
        return text

    def cells_to_run(self, answers: dict[str, str] | None) -> tuple[list[str], dict[int, str]]:
        """Code to execute, and which executed index is which tests cell.

        answers=None runs the solution itself; a missing answer runs the blank stub."""
        codes, test_at = [PRELUDE], {}
        for cell in self.nb.cells:
            if cell.cell_type != "code":
                continue
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if meta.get("solution"):
                if answers is None:
                    codes.append(cell_text(cell))
                else:
                    codes.append(answers[gid] if gid in answers else self.release_text(cell))
            elif meta.get("grade"):
                test_at[len(codes)] = gid
                text = _BEGIN_HIDDEN.sub(r"\1__import__('dlcourse.checks').checks._begin_hidden()", cell_text(cell))
                codes.append(_END_HIDDEN.sub(r"\1__import__('dlcourse.checks').checks._end_hidden()", text))
            else:
                codes.append(cell_text(cell))
        return codes, test_at


# ----------------------------------------------------------------------------------------
# Submissions: untrusted JSON.
# ----------------------------------------------------------------------------------------
def read_submission(path: Path) -> dict[str, Any]:
    """Parse a submitted notebook without trusting it. Raises InvalidSubmission with a clear reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidSubmission(f"cannot read {path.name}: {exc.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise InvalidSubmission(f"{path.name} is {size / 2**20:.1f} MB; a notebook may be at most "
                                f"{MAX_NOTEBOOK_BYTES // 2**20} MB (clear large outputs and resubmit)")
    try:
        nb = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidSubmission(f"{path.name} is not UTF-8 text, so not a notebook") from None
    except json.JSONDecodeError as exc:
        raise InvalidSubmission(f"{path.name} is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: "
                                f"{exc.msg}); it may be truncated") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidSubmission(f"{path.name} is JSON but not a notebook: expected an object with a 'cells' list")
    if nb.get("nbformat") != 4:
        raise InvalidSubmission(f"{path.name} has nbformat {nb.get('nbformat')!r}; expected 4 (Jupyter's format since 2015)")
    return nb


def extract_answers(nb: dict[str, Any], source: Source) -> tuple[dict[str, str], list[str]]:
    """The learner's answer text per grade_id, and flags about anything unexpected."""
    flags: list[str] = []
    found: dict[str, list[dict[str, Any]]] = {}
    test_texts: dict[str, list[tuple[Any, str]]] = {}
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            flags.append("a cell is not a JSON object; it was ignored")
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if not isinstance(gid, str):
            continue
        if gid in source.answer_ids:
            found.setdefault(gid, []).append(cell)
        elif gid in source.test_ids:
            test_texts.setdefault(gid, []).append((cell.get("cell_type"), cell_text(cell)))
    answers: dict[str, str] = {}
    source_cells = {nbgrader_meta(c).get("grade_id"): c for c in source.nb.cells}
    for gid in source.answer_ids:
        cells = found.get(gid, [])
        want_type = source_cells[gid].cell_type
        cells = [c for c in cells if c.get("cell_type") == want_type] or cells
        if not cells:
            flags.append(f"answer cell {gid} is missing (deleted, or its metadata stripped): graded as blank")
            continue
        if len(cells) > 1:
            flags.append(f"answer cell {gid} appears {len(cells)} times: the last copy was graded")
        cell = cells[-1]
        if cell.get("cell_type") != want_type:
            flags.append(f"answer cell {gid} was changed from {want_type} to {cell.get('cell_type')}: graded as blank")
            continue
        answers[gid] = cell_text(cell)
    for gid in source.test_ids:
        texts = test_texts.get(gid, [])
        release = source.release_text(source_cells[gid]).strip()
        if not texts:
            flags.append(f"tests cell {gid} is missing from the submission (the original was run)")
        elif len(texts) > 1:
            flags.append(f"tests cell {gid} appears {len(texts)} times (the original was run once)")
        elif texts[0][1].strip() != release or texts[0][0] != "code":
            what = "turned into " + str(texts[0][0]) if texts[0][0] != "code" else "edited"
            flags.append(f"tests cell {gid} was {what} (the original was run)")
    flags += _metadata_flags(nb, source, source_cells)
    kernel = (nb.get("metadata") or {}).get("kernelspec", {}) if isinstance(nb.get("metadata"), dict) else {}
    if isinstance(kernel, dict) and kernel.get("name") not in (None, "python3"):
        flags.append(f"kernelspec changed to {kernel.get('name')!r} (ignored: graded with python3)")
    return answers, flags


_TRUSTED_KEYS = ("grade", "solution", "locked", "points", "schema_version", "task")


def _metadata_flags(nb: dict[str, Any], source: Source, source_cells: dict[str, Any]) -> list[str]:
    """Report (never trust) nbgrader metadata that differs from the source's."""
    flags = []
    ids = [c.get("id") for c in nb["cells"] if isinstance(c, dict) and c.get("id") is not None]
    if len(ids) != len(set(map(str, ids))):
        flags.append("the notebook has duplicate cell ids")
    seen = set()
    for cell in nb["cells"]:
        if not isinstance(cell, dict):
            continue
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid not in source_cells or gid in seen:
            continue
        seen.add(gid)
        want = nbgrader_meta(source_cells[gid])
        changed = [k for k in _TRUSTED_KEYS if k in want and meta.get(k) != want.get(k)]
        if changed:
            details = ", ".join(f"{k} {want.get(k)!r} -> {meta.get(k)!r}" for k in changed)
            flags.append(f"cell {gid}: nbgrader metadata changed ({details}); the source's was used")
    return flags


# ----------------------------------------------------------------------------------------
# Running and scoring.
# ----------------------------------------------------------------------------------------
@dataclass
class GradeContext:
    """What every run needs: limits and which paths the sandbox hides and shows."""

    limits: Limits
    hide: list[Path]
    reveal: list[Path]
    sandboxed: bool = True

    def run(self, codes: list[str]) -> tuple[list[CellRun], list[str]]:
        with Sandbox(self.limits, self.hide, self.reveal, enabled=self.sandboxed) as box:
            runs, notes = run_cells(codes, self.limits, box)
            return runs, box.notes + notes


def reference_probes(source: Source, ctx: GradeContext, cache_dir: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Run the solution and return, per tests cell, its checks with values (decoded) and points."""
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{source.path.stem}-{source.digest[:16]}.json"
        if cache.exists():
            return _decode_reference(json.loads(cache.read_text()))
    codes, test_at = source.cells_to_run(None)
    runs, notes = ctx.run(codes)
    ref: dict[str, list[dict[str, Any]]] = {}
    for index, gid in test_at.items():
        run = runs[index]
        if run.status != "ok":
            raise SourceError(f"{source.path}: the solution's tests cell {gid} did not run cleanly "
                              f"({run.status}: {run.error}; {'; '.join(notes)})")
        checks = []
        for record in run.probes:
            if "error" in record:
                raise SourceError(f"{source.path}: the solution fails check {record.get('check')!r} "
                                  f"in {gid}: {record['error']}")
            checks.append(record)
        total = sum(float(c["points"]) for c in checks)
        if abs(total - source.points[gid]) > 1e-9:
            raise SourceError(f"{source.path}: checks in {gid} add up to {total:g} points, "
                              f"but the cell is worth {source.points[gid]:g}")
        ref[gid] = checks
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(ref))
        tmp.replace(cache)
    return _decode_reference(ref)


def _decode_reference(ref: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {gid: [dict(c, value=decode(c["value"])) for c in checks] for gid, checks in ref.items()}


@dataclass
class NotebookResult:
    """Everything the instructor and the feedback need about one graded notebook."""

    notebook: str
    score: float = 0.0
    max_score: float = 0.0
    cells: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    invalid: str = ""

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def grade_notebook(path: Path, source: Source, reference: dict[str, list[dict[str, Any]]],
                   ctx: GradeContext) -> NotebookResult:
    """Grade one submitted notebook. Never raises for anything the submission contains."""
    result = NotebookResult(notebook=source.path.name, max_score=sum(source.points[g] for g in source.test_ids))
    try:
        nb = read_submission(path)
    except InvalidSubmission as exc:
        result.invalid = str(exc)
        result.flags.append(f"invalid submission: {exc}")
        result.cells = {gid: _zero(gid, source, reference, "the submission could not be read") for gid in source.test_ids}
        return result
    answers, flags = extract_answers(nb, source)
    result.answers = answers
    result.flags += flags
    codes, test_at = source.cells_to_run({g: a for g, a in answers.items() if g in _code_answers(source)})
    runs, notes = ctx.run(codes)
    result.flags += notes
    for index, gid in test_at.items():
        result.cells[gid] = score_cell(gid, runs[index], reference[gid], source.points[gid])
    result.score = round(sum(c["score"] for c in result.cells.values()), 6)
    return result


def _code_answers(source: Source) -> set[str]:
    return {nbgrader_meta(c).get("grade_id") for c in source.nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")}


def _zero(gid: str, source: Source, reference: dict[str, list[dict[str, Any]]], why: str) -> dict[str, Any]:
    checks = [{"name": c["check"], "hidden": bool(c.get("hidden")), "points": float(c["points"]),
               "passed": False, "message": why} for c in reference[gid]]
    return {"score": 0.0, "max_score": source.points[gid], "status": "not run", "error": why, "checks": checks}


def score_cell(gid: str, run: CellRun, reference: list[dict[str, Any]], max_points: float) -> dict[str, Any]:
    """Compare one tests cell's probe records with the reference, check by check."""
    got: dict[str, dict[str, Any]] = {}
    for record in run.probes:
        name = record.get("check")
        if isinstance(name, str) and name not in got:  # the first record for a check counts
            got[name] = record
    checks, score = [], 0.0
    for ref in reference:
        name = ref["check"]
        record = got.get(name)
        if record is None:
            why = run.error or f"the cell {run.status}" if run.status != "ok" else "no result was reported"
            message = f"no result ({why})"
        elif "error" in record:
            message = str(record["error"])[:500]
        elif "value" not in record:
            message = "no value was reported"
        else:
            try:
                message = compare(decode(record["value"]), ref["value"], float(ref["rtol"]), float(ref["atol"]))
            except (ValueError, TypeError, KeyError) as exc:
                message = f"the reported value is not plain data ({exc})"
        passed = message is None
        if passed:
            score += float(ref["points"])
        checks.append({"name": name, "hidden": bool(ref.get("hidden")), "points": float(ref["points"]),
                       "passed": passed, "message": message})
    score = min(round(score, 6), max_points)
    return {"score": score, "max_score": max_points, "status": run.status, "error": run.error, "checks": checks}


def graded_notebook(source: Source, result: NotebookResult) -> Any:
    """The notebook returned to the learner: their answers, the original cells, and per-check
    results. Hidden tests are replaced by a count; nothing the learner's code printed is shown."""
    nb = copy.deepcopy(source.nb)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if meta.get("solution"):
            cell.source = result.answers.get(gid, source.release_text(cell))
        elif meta.get("grade") and cell.cell_type == "code":
            cell.source = _HIDDEN_REGION.sub("# (hidden tests ran here when graded)\n", cell_text(cell))
            graded = result.cells.get(gid)
            if graded:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=feedback_text(gid, graded))]
    return nb


def feedback_text(gid: str, graded: dict[str, Any]) -> str:
    lines = [f"{gid}: {graded['score']:g} / {graded['max_score']:g} points"]
    hidden = [c for c in graded["checks"] if c["hidden"]]
    for check in graded["checks"]:
        if not check["hidden"]:
            mark = "PASS" if check["passed"] else "FAIL"
            lines.append(f"  [{mark}] {check['name']} ({check['points']:g} pt)")
            if not check["passed"]:
                lines.append(f"         {check['message']}")
    if hidden:
        passed = sum(c["passed"] for c in hidden)
        lines.append(f"  hidden checks: {passed} of {len(hidden)} passed "
                     f"({sum(c['points'] for c in hidden if c['passed']):g} of {sum(c['points'] for c in hidden):g} pt)")
    if graded.get("status") not in ("ok", None):
        lines.append(f"  note: this cell {graded['status']}: {graded.get('error', '')}")
    return "\n".join(lines) + "\n"
