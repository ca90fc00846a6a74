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
import dataclasses
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.runner import CellRun, run_cells
from autograder.sandbox import Limits, Sandbox
from dlcourse.checks import PUBLIC_CHECKS_FILE, _decode_record, decode, encode, judge

MAX_NOTEBOOK_BYTES = 20 * 2**20
PRELUDE = "import dlcourse.checks as _dlc_checks\n_dlc_checks.enable_probe_mode()\ndel _dlc_checks"
_BEGIN_HIDDEN = re.compile(r"^([ \t]*)### BEGIN HIDDEN TESTS[ \t]*$", re.M)
_END_HIDDEN = re.compile(r"^([ \t]*)### END HIDDEN TESTS[ \t]*$", re.M)
_HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S)
_SOLUTION_REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
_MODEL_ANSWER = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
TIMING = "__timing__"   # the reference's entry with the solution's measured cell times
NOT_IMPORTABLE = ("dlcourse is not importable inside the sandbox: the course folder was moved or copied "
                  "without its environment. Run `make setup` in {root} and grade again")


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
    except RecursionError:
        raise InvalidSubmission(f"{path.name} is JSON nested too deeply to be a notebook") from None
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
        if not isinstance(gid, str) or gid not in source_cells or gid in seen:
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
    secret: str = ""   # the cohort secret: hidden checks draw their inputs from it

    @property
    def secret_tag(self) -> str:
        """A short fingerprint of the secret (never the secret) to key cached references by."""
        return hashlib.sha256(self.secret.encode()).hexdigest()[:8] if self.secret else "public"

    def run(self, codes: list[str], cell_timeouts: list[float] | None = None,
            limits: Limits | None = None) -> tuple[list[CellRun], list[str]]:
        limits = limits or self.limits
        with Sandbox(limits, self.hide, self.reveal, enabled=self.sandboxed, secret=self.secret) as box:
            runs, notes = run_cells(codes, limits, box, cell_timeouts)
            return runs, box.notes + notes


def reference_probes(source: Source, ctx: GradeContext, cache_dir: Path | None = None) -> dict[str, Any]:
    """Run the solution and return, per tests cell, its checks with values (decoded) and points,
    plus ``TIMING``: the solution's time per executed cell, which calibrates the time limits."""
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{source.path.stem}-{source.digest[:16]}-{ctx.secret_tag}.json"
        if cache.exists():
            return decode_reference(json.loads(cache.read_text()))
    codes, test_at = source.cells_to_run(None)
    # The solution is trusted code: a busy machine may make it slow, never wrong, so it gets
    # the whole notebook's time for any one cell.
    runs, notes = ctx.run(codes, [ctx.limits.notebook_timeout] * len(codes))
    if runs and runs[0].status == "not run":
        runs, notes = ctx.run(codes, [ctx.limits.notebook_timeout] * len(codes))  # a busy host: once more
    _check_importable(runs, ctx, notes)
    if runs and runs[0].status == "not run":
        raise SourceError(f"the solution's kernel did not start in the sandbox ({'; '.join(notes)[:300]}). "
                          f"If the course folder was moved or copied, run `make setup` there; "
                          f"check `bwrap --version` and that the grader runs as root")
    ref: dict[str, Any] = {}
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
    bad = [i for i, r in enumerate(runs) if r.status not in ("ok", "error")]
    if bad:
        raise SourceError(f"{source.path}: the solution did not run to the end (cell {bad[0]}: "
                          f"{runs[bad[0]].status}; {'; '.join(notes)})")
    ref[TIMING] = {"cell_seconds": [round(r.seconds, 3) for r in runs]}
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(ref))
        tmp.replace(cache)
    return decode_reference(ref)


def _check_importable(runs: list[CellRun], ctx: GradeContext, notes: list[str]) -> None:
    """The prelude imports dlcourse: if that fails, the course is broken, not the submission."""
    first = runs[0] if runs else None
    root = ctx.reveal[0].parent if ctx.reveal else "the course folder"
    if first is not None and first.status == "error" and "dlcourse" in first.error:
        raise SourceError(NOT_IMPORTABLE.format(root=root) + f" ({first.error})")


def decode_reference(ref: dict[str, Any]) -> dict[str, Any]:
    """A reference as stored (JSON) -> values as plain data."""
    out: dict[str, Any] = {}
    for gid, checks in ref.items():
        if gid == TIMING:
            out[gid] = checks
        else:
            out[gid] = [_decode_record(c) for c in checks]
    return out


def encode_reference(ref: dict[str, Any]) -> dict[str, Any]:
    """A decoded reference -> JSON-able (to send it to worker processes or store it)."""
    return {gid: checks if gid == TIMING else [_encode_record(c) for c in checks] for gid, checks in ref.items()}


def _encode_record(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record, value=encode(record["value"]))
    if record.get("target") is not None:
        out["target"] = encode(record["target"])
    return out


_decode_reference = decode_reference  # the name cohort.py has used


def public_checks_table(source: Source, reference: dict[str, Any]) -> dict[str, Any]:
    """What a learner's notebook compares public checks with: the reference run's values,
    tolerances and kind policy, exactly as the grader uses them. Hidden checks are left out."""
    table: dict[str, dict[str, Any]] = {}
    for gid in source.test_ids:
        for c in reference.get(gid, []):
            if c.get("hidden"):
                continue
            entry = {"value": encode(c["value"]), "rtol": c["rtol"], "atol": c["atol"],
                     "dtype": c.get("dtype", "number"), "array_like": bool(c.get("array_like")),
                     "parts": c.get("parts"), "points": c["points"], "bounds": c.get("bounds"),
                     "metric": c.get("metric"), "relations": c.get("relations")}
            if c.get("target") is not None:
                entry["target"] = encode(c["target"])
            table.setdefault(c["exercise"], {})[c["check"]] = entry
    return {"format": 1, "notebook": source.path.name, "source_digest": source.digest, "checks": table}


def write_public_checks(source: Source, reference: dict[str, Any], folder: Path | None = None) -> Path:
    """Write public_checks.json beside the source notebook, or into ``folder`` (nbgrader copies
    it into the student version)."""
    path = (folder or source.path.parent) / PUBLIC_CHECKS_FILE
    path.write_text(json.dumps(public_checks_table(source, reference), indent=1, sort_keys=True) + "\n")
    return path


def time_limits(reference: dict[str, Any], limits: Limits, n_cells: int) -> tuple[list[float], Limits]:
    """Per-cell limits: ``timeout_factor`` times the solution's time for that cell, at least
    ``cell_timeout``; the notebook limit grows the same way. A busy host slows the solution
    and the submission alike, so a correct answer keeps its margin."""
    seconds = (reference.get(TIMING) or {}).get("cell_seconds") or []
    if len(seconds) != n_cells:
        return [limits.cell_timeout] * n_cells, limits
    per_cell = [max(limits.cell_timeout, limits.timeout_factor * float(t)) for t in seconds]
    total = max(limits.notebook_timeout, limits.timeout_factor * sum(seconds))
    return per_cell, dataclasses.replace(limits, notebook_timeout=total)


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
    status: str = "graded"       # graded | regrade needed | needs attention
    attention: list[str] = field(default_factory=list)  # why a person should look at it

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def grade_notebook(path: Path, source: Source, reference: dict[str, Any], ctx: GradeContext) -> NotebookResult:
    """Grade one submitted notebook. Never raises for anything the submission contains.

    A timeout, a kernel that did not start, or results that arrived late may be the host's
    fault (a busy machine): the notebook is graded once more. What still fails is flagged;
    a kernel that never started is "regrade needed", never a silent 0."""
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
    timeouts, limits = time_limits(reference, ctx.limits, len(codes))
    runs, notes = ctx.run(codes, timeouts, limits)
    if _host_trouble(runs):
        first = _trouble_summary(runs, notes)
        runs, notes = ctx.run(codes, timeouts, limits)
        notes = [f"graded twice: the first attempt had {first}"] + notes
    _check_importable(runs, ctx, notes)
    result.flags += notes
    for i, run in enumerate(runs):
        if run.status == "timeout":
            result.flags.append(f"cell {i} ({_cell_name(source, test_at, i)}) timed out: {run.error} "
                                f"(limit {timeouts[i]:g} s; the solution took {_ref_seconds(reference, i)})")
    if runs and runs[0].status == "not run":
        result.status = "regrade needed"
        result.attention.append("the kernel did not start, twice: the host may be overloaded; rerun autograde")
    elif any(r.status == "timeout" for r in runs):
        result.attention.append("a cell timed out in both attempts: look at the submission (slow or endless code?)")
    for index, gid in test_at.items():
        result.cells[gid] = score_cell(gid, runs[index], reference[gid], source.points[gid])
    result.score = round(sum(c["score"] for c in result.cells.values()), 6)
    return result


def _host_trouble(runs: list[CellRun]) -> bool:
    return bool(runs) and (runs[0].status == "not run" or any(r.status == "timeout" for r in runs))


def _trouble_summary(runs: list[CellRun], notes: list[str]) -> str:
    if runs and runs[0].status == "not run":
        return "a kernel that did not start" + (f" ({notes[-1][:120]})" if notes else "")
    cells = [str(i) for i, r in enumerate(runs) if r.status == "timeout"]
    return f"a timeout in cell {', '.join(cells)}"


def _cell_name(source: Source, test_at: dict[int, str], index: int) -> str:
    if index == 0:
        return "setup"
    if index in test_at:
        return test_at[index]
    code_cells = [c for c in source.nb.cells if c.cell_type == "code"]
    if index - 1 < len(code_cells):
        return nbgrader_meta(code_cells[index - 1]).get("grade_id") or "a lesson cell"
    return "a cell"


def _ref_seconds(reference: dict[str, Any], index: int) -> str:
    seconds = (reference.get(TIMING) or {}).get("cell_seconds") or []
    return f"{seconds[index]:.2g} s" if index < len(seconds) else "an unknown time"


def _code_answers(source: Source) -> set[str]:
    return {nbgrader_meta(c).get("grade_id") for c in source.nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")}


def _zero(gid: str, source: Source, reference: dict[str, list[dict[str, Any]]], why: str) -> dict[str, Any]:
    checks = [{"name": c["check"], "hidden": bool(c.get("hidden")), "points": float(c["points"]),
               "passed": False, "message": why} for c in reference[gid]]
    return {"score": 0.0, "max_score": source.points[gid], "status": "not run", "error": why, "checks": checks}


def score_cell(gid: str, run: CellRun, reference: list[dict[str, Any]], max_points: float) -> dict[str, Any]:
    """Compare one tests cell's probe records with the reference, check by check.

    Each check keeps two messages: ``message`` (everything, for the instructor's report) and
    ``feedback`` (for the learner: what was expected and how the value failed, but nothing
    the learner's code produced, which could carry hidden inputs)."""
    got: dict[str, dict[str, Any]] = {}
    for record in run.probes:
        name = record.get("check")
        if isinstance(name, str) and name not in got:  # the first record for a check counts
            got[name] = record
    checks, score = [], 0.0
    for ref in reference:
        name = ref["check"]
        record = got.get(name)
        feedback = None
        if record is None:
            why = (run.error or f"the cell {run.status}") if run.status != "ok" else "no result was reported"
            message = f"no result ({why})"
            feedback = f"no result (the cell {run.status})" if run.status != "ok" else "no result was reported"
            if run.status == "error":
                feedback = "no result: the cell raised an error" + (f" at line {run.error_line}" if run.error_line else "")
        elif "error" in record:
            message = _text(record["error"], 500)
            feedback = _error_feedback(message, record.get("error_line"))
        elif "value" not in record:
            message = "no value was reported"
        else:
            try:
                value = decode(record["value"])
                message = judge(value, ref)  # the reference's value, target, tolerances and policy
                if message is not None:
                    feedback = judge(value, ref, show_actual=False)
            except (ValueError, TypeError, KeyError, RecursionError) as exc:
                message = f"the reported value is not plain data ({_text(exc, 200)})"
                feedback = "the reported value is not plain data"
        passed = message is None
        if passed:
            score += float(ref["points"])
        checks.append({"name": name, "hidden": bool(ref.get("hidden")), "points": float(ref["points"]),
                       "passed": passed, "message": message, "feedback": feedback if not passed else None})
    score = min(round(score, 6), max_points)
    return {"score": score, "max_score": max_points, "status": run.status, "error": run.error,
            "error_line": run.error_line, "checks": checks}


def _text(value: Any, limit: int) -> str:
    """Any text from a submission, made safe to store: str, bounded, no lone surrogates."""
    return str(value)[:limit].encode("utf-8", "replace").decode("utf-8")


_ERROR_TYPE = re.compile(r"^raised ([A-Za-z_][A-Za-z0-9_.]*)")


def _error_feedback(message: str, line: Any) -> str:
    """An error in the learner's code, for feedback: its type and their line, not its text."""
    if message.startswith("not implemented yet"):
        return message
    if "is not defined: run your answer cell first" in message:
        return "a name was not defined: run your answer cell first (and the cells above it)"
    m = _ERROR_TYPE.match(message)
    kind = m.group(1) if m else "an error"
    where = f" at line {line} of your code" if isinstance(line, int) and not isinstance(line, bool) else ""
    return f"your code raised {kind}{where}"


def _sanitize_markdown(text: str) -> str:
    """A learner's markdown, safe to render: no HTML at all (so no <script>, no event handlers,
    no <img onerror>), and no javascript:/data:/vbscript: links."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return re.sub(r"(\]\(\s*|^\s*\[[^\]]*\]:\s*)(javascript|vbscript|data)\s*:", r"\1#\2-blocked:", text,
                  flags=re.I | re.M)


def model_answer(cell: dict[str, Any]) -> str | None:
    """The model answer of an explain-it prompt (the source's solution region), if it has one."""
    m = _MODEL_ANSWER.search(cell_text(cell))
    return m.group(1).strip() if m and m.group(1).strip() else None


def wrote_something(answer: str | None, release_text: str) -> bool:
    return bool(answer and answer.strip() and "YOUR ANSWER HERE" not in answer
                and answer.strip() != release_text.strip())


def written_prompts(source: Source, answers: dict[str, str]) -> list[tuple[str, bool, str | None]]:
    """Each written ("explain it simply") prompt of the lesson, in order: (grade_id, whether the
    learner wrote something of their own, its model answer or None)."""
    prompts = []
    for cell in source.nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown" and meta.get("solution") and (gid := meta.get("grade_id")):
            released = source.release_text(cell)
            prompts.append((gid, wrote_something(answers.get(gid), released), model_answer(cell)))
    return prompts


def graded_notebook(source: Source, result: NotebookResult) -> Any:
    """The notebook returned to the learner: their answers, the original cells, and per-check
    results. Hidden tests are replaced by their names and results; nothing the learner's code
    printed or raised is shown verbatim; markdown answers are sanitised; an explain-it prompt
    the learner answered is followed by the model answer."""
    nb = copy.deepcopy(source.nb)
    cells = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        cells.append(cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if meta.get("solution"):
            released = source.release_text(cell)
            answer = result.answers.get(gid, released)
            model = model_answer(cell) if cell.cell_type == "markdown" else None
            cell.source = _sanitize_markdown(answer) if cell.cell_type == "markdown" else answer
            if model and wrote_something(answer, released):
                cells.append(nbformat.v4.new_markdown_cell(f"**Model answer** (compare it with yours):\n\n{model}"))
        elif meta.get("grade") and cell.cell_type == "code":
            cell.source = _HIDDEN_REGION.sub("# (hidden tests ran here when graded)\n", cell_text(cell))
            graded = result.cells.get(gid)
            if graded:
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=feedback_text(gid, graded))]
    nb.cells = cells
    return nb


def feedback_text(gid: str, graded: dict[str, Any]) -> str:
    lines = [f"{gid.removesuffix('_tests')}: {graded['score']:g} / {graded['max_score']:g} points"]
    for hidden in (False, True):
        group = [c for c in graded["checks"] if c["hidden"] == hidden]
        if hidden and group:
            lines.append(f"  hidden checks ({sum(c['passed'] for c in group)} of {len(group)} passed):")
        for check in group:
            mark = "PASS" if check["passed"] else "FAIL"
            lines.append(f"  [{mark}] {check['name']} ({check['points']:g} pt)")
            if not check["passed"] and not hidden:
                lines.append(f"         {check.get('feedback') or 'did not match the expected value'}")
    if graded.get("status") not in ("ok", None):
        lines.append(f"  note: this cell {graded['status']}")
    return "\n".join(lines) + "\n"
