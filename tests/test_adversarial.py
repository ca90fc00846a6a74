"""Can a hostile or broken submission fool, crash or stall the grader?

Each case states its exact outcome: the score (never higher than earned), the flag the
instructor sees, and, for the sandbox, what the graded code could not do. Cohort-level cases
(grader killed, gradebook locked, resubmission, full disk) are in test_cohort.py.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.grading import GradeContext, Source, grade_notebook, reference_probes
from autograder.sandbox import Limits
from tests import submissions
from tests.conftest import ROOT, committed_text, sandbox_or_skip

pytestmark = pytest.mark.grading
A = "01_activations"
SRC = ROOT / "solutions" / A / f"{A}.ipynb"
# Every tests cell of the lesson, in notebook order, at full marks.
FULL = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in nbformat.read(SRC, 4).cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
ZERO = {gid: 0.0 for gid in FULL}


def from_on(gid: str) -> dict[str, float]:
    """Zero for this tests cell and every later one: what a kernel stopped here costs."""
    order = list(FULL)
    return {g: 0.0 for g in order[order.index(gid):]}
LIMITS = Limits(cell_timeout=6, notebook_timeout=120, memory_mb=1024, max_pids=64)
_ref: dict = {}


def ctx(limits: Limits = LIMITS) -> GradeContext:
    sandbox_or_skip()
    reveal = [ROOT / n for n in (".venv", "dlcourse", "datasets", "lessons")]
    return GradeContext(limits, hide=[ROOT], reveal=reveal, sandboxed=True)


def source_and_reference():
    if not _ref:
        source = Source.load(SRC)
        _ref["v"] = (source, reference_probes(source, ctx()))
    return _ref["v"]


def solution_answers() -> dict[str, str]:
    return submissions.solution_answers(nbformat.read(SRC, 4))


def release() -> nbformat.NotebookNode:
    return nbformat.reads(committed_text(ROOT / "lessons" / A / f"{A}.ipynb"), 4)


def with_answers(answers: dict[str, str], base: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    nb = copy.deepcopy(base or release())
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def cells_by_id(nb) -> dict[str, dict]:
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def grade_file(path: Path, limits: Limits = LIMITS):
    source, ref = source_and_reference()
    return grade_notebook(path, source, ref, ctx(limits))


def grade(nb, tmp_path: Path, limits: Limits = LIMITS):
    path = tmp_path / f"{A}.ipynb"
    path.write_text(nb if isinstance(nb, str) else nbformat.writes(nb))
    return grade_file(path, limits)


def scores(result) -> dict[str, float]:
    return {gid: c["score"] for gid, c in result.cells.items()}


def has_flag(result, text: str) -> bool:
    return any(text in f for f in result.flags)


# ----------------------------------------------------------------------------------------
# Tampering: the original tests run whatever the submission did to them.
# ----------------------------------------------------------------------------------------
def _edit_tests(nb, how: str):
    nb = copy.deepcopy(nb)
    new_cells = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            if how == "edited":
                cell.source = "print('all tests passed')"
            elif how == "blanked":
                cell.source = ""
            elif how == "deleted":
                continue
            elif how == "markdown":
                cell = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)
            elif how == "stripped":
                cell.metadata = {}
            elif how == "duplicated":
                new_cells.append(copy.deepcopy(cell))
            elif how == "points":
                meta["points"] = 1000
            elif how == "unlocked":
                meta["locked"] = False
            elif how == "schema":
                meta["schema_version"] = 99
        new_cells.append(cell)
    nb.cells = new_cells
    return nb


@pytest.mark.parametrize("how,flag", [
    ("edited", "was edited"), ("blanked", "was edited"), ("deleted", "is missing"),
    ("markdown", "turned into markdown"), ("stripped", "is missing"), ("duplicated", "appears 2 times"),
    ("points", "points 5 -> 1000"), ("unlocked", "locked True -> False"), ("schema", "schema_version 3 -> 99"),
])
def test_tampered_tests_on_a_blank_submission_score_zero(how, flag, tmp_path):
    result = grade(_edit_tests(release(), how), tmp_path)
    assert scores(result) == ZERO and result.score == 0
    assert has_flag(result, flag), result.flags


def test_tampered_tests_do_not_cost_a_correct_submission(tmp_path):
    nb = _edit_tests(with_answers(solution_answers()), "duplicated")
    result = grade(nb, tmp_path)
    assert scores(result) == FULL and has_flag(result, "appears 2 times")


def test_changed_kernelspec_is_ignored_and_flagged(tmp_path):
    nb = release()
    nb.metadata["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "python"}
    result = grade(nb, tmp_path)
    assert result.score == 0 and has_flag(result, "kernelspec changed to 'evil'")


def test_stripped_answer_metadata_grades_that_answer_as_blank(tmp_path):
    nb = with_answers(solution_answers())
    cells_by_id(nb)["01_softmax"].metadata = {}
    result = grade(nb, tmp_path)
    assert scores(result) == {**FULL, "01_softmax_tests": 0.0}
    assert has_flag(result, "answer cell 01_softmax is missing")


def test_duplicated_answer_cell_grades_the_last_copy(tmp_path):
    nb = with_answers(solution_answers())
    cells = nb.cells
    i = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "01_tanh")
    wrong = copy.deepcopy(cells[i])
    wrong.source = "def tanh(x):\n    return x\n\ndef tanh_grad(x):\n    return 1 + 0 * x\n"
    cells.insert(i + 1, wrong)
    result = grade(nb, tmp_path)
    assert scores(result)["01_tanh_tests"] == 1.0  # tanh_grad(0) = 1 passes; everything else fails
    assert has_flag(result, "answer cell 01_tanh appears 2 times")


def test_forged_outputs_and_execution_counts_are_ignored(tmp_path):
    nb = release()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 7
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="sigmoid: 5/5 checks passed\n"),
                            nbformat.v4.new_output("execute_result", data={"text/plain": "5.0"}, execution_count=7)]
    assert grade(nb, tmp_path).score == 0


LIARS = '''import numpy as np, torch

class AlwaysEqual:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = object.__hash__

class LyingArray(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), dtype=bool)
    def __array_finalize__(self, obj): pass

class LyingTensor(torch.Tensor):
    def __eq__(self, other): return torch.ones(self.shape, dtype=torch.bool)

def sigmoid(x):
    return AlwaysEqual()

def sigmoid_grad(x):
    return np.zeros(np.shape(x)).view(LyingArray)

def _tanh(x):
    return torch.zeros(np.shape(x)).as_subclass(LyingTensor)

def tanh(x):
    return _tanh(x)

def tanh_grad(x):
    class ArrayLike:
        def __array__(self, dtype=None, copy=None): return np.ones(np.shape(x))
        def __eq__(self, other): return True
    return ArrayLike()
'''


def test_objects_whose_comparisons_lie_earn_nothing(tmp_path):
    answers = solution_answers()
    answers["01_sigmoid"] = LIARS
    answers["01_tanh"] = "from __main__ import *\n"  # keep the liars' tanh from the cell above
    # Importing torch in a loaded sandbox can take a while: give the cells room.
    result = grade(with_answers(answers), tmp_path, Limits(cell_timeout=60, notebook_timeout=300, memory_mb=2048))
    # sigmoid and its gradient lie; tanh returns zeros in a lying Tensor; tanh_grad is an
    # ArrayLike: not plain data. Only "tanh is odd" (zeros + zeros == 0) is genuinely right.
    assert scores(result) == {**FULL, "01_sigmoid_tests": 0.0, "01_tanh_tests": 1.0}


MONKEYPATCH = '''import numpy as np, builtins, IPython
import dlcourse.checks as checks

np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
checks.compare = lambda *a, **k: None
checks.assert_close = lambda *a, **k: None
_real_check = checks.Tests.check
def _always_pass(self, name, fn, expect=None, **kw):
    return _real_check(self, name, lambda: expect if expect is not None else 0.5, **kw)
checks.Tests.check = _always_pass
builtins.AssertionError = type("NeverRaised", (Exception,), {})
ip = IPython.get_ipython()
ip.showtraceback = lambda *a, **k: None
import sys; sys.excepthook = lambda *a: None

def sigmoid(x):
    return x * 0.0

def sigmoid_grad(x):
    return x * 0.0
'''


def test_monkeypatching_numpy_checks_and_ipython_earns_nothing(tmp_path):
    # The patched check reports the public tests' own expected values, so those can pass;
    # every hidden check still compares real outputs with the solution, outside the kernel.
    result = grade(with_answers({"01_sigmoid": MONKEYPATCH}), tmp_path)
    _, ref = source_and_reference()
    public = sum(float(c["points"]) for checks in ref.values() for c in checks if not c.get("hidden"))
    assert result.score <= public  # at most the public checks of each cell
    hidden = [c for cell in result.cells.values() for c in cell["checks"] if c["hidden"]]
    assert hidden and not any(c["passed"] for c in hidden)


INPUT_TRANSFORMER = '''ip = get_ipython()
def wrap(lines):
    body = ["    " + l for l in lines] or ["    pass\\n"]
    return ["try:\\n"] + body + ["\\nexcept BaseException:\\n", "    pass\\n"]
ip.input_transformers_post.append(wrap)

def sigmoid(x):
    raise ValueError("not done")

def sigmoid_grad(x):
    raise ValueError("not done")
'''


def test_input_transformer_wrapping_later_cells_earns_nothing(tmp_path):
    result = grade(with_answers({"01_sigmoid": INPUT_TRANSFORMER}), tmp_path)
    assert result.score == 0


def test_printing_all_tests_passed_earns_nothing(tmp_path):
    nb = with_answers({"01_sigmoid": "print('All tests passed! 22/22')\ndef sigmoid(x):\n    return x\n"})
    assert grade(nb, tmp_path).score == 0


# ----------------------------------------------------------------------------------------
# Escape: what graded code can see and touch.
# ----------------------------------------------------------------------------------------
STEAL = '''import glob, json, os, pathlib

ROOT = {root!r}
found = []
for pattern in [ROOT + "/solutions/**/*.ipynb", ROOT + "/**/gradebook.db", ROOT + "/**/submitted/**/*.ipynb",
                "/proc/*/cwd/solutions/**/*.ipynb", "/proc/*/root" + ROOT + "/solutions/**/*.ipynb"]:
    found += glob.glob(pattern, recursive=True)

def sigmoid(x):
    # If the solution could be read, use it: full marks would prove an escape.
    for path in found:
        if path.endswith(".ipynb") and "solutions" in path:
            nb = json.load(open(path))
            for cell in nb["cells"]:
                if cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "01_sigmoid":
                    ns = {{"np": __import__("numpy")}}
                    exec("".join(cell["source"]), ns)
                    return ns["sigmoid"](x)
    raise FileNotFoundError("nothing to steal")

def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)
'''


def test_graded_code_cannot_read_solutions_gradebook_or_other_submissions(tmp_path):
    result = grade(with_answers({"01_sigmoid": STEAL.format(root=str(ROOT))}), tmp_path)
    assert result.score == 0
    assert "nothing to steal" in json.dumps(result.cells["01_sigmoid_tests"])


def test_graded_code_cannot_write_outside_its_scratch_space(tmp_path):
    targets = [ROOT / "solutions" / A / f"{A}.ipynb", ROOT / "autograder" / "limits.json", ROOT / "README.md"]
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in targets}
    writer = "import pathlib\nfor p in {paths!r}:\n    try:\n        pathlib.Path(p).write_text('owned')\n    except OSError:\n        pass\n"
    answers = {"01_sigmoid": writer.format(paths=[str(p) for p in targets] + [str(tmp_path / "owned.txt")])}
    grade(with_answers(answers), tmp_path)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in targets} == before
    assert not (tmp_path / "owned.txt").exists()


def test_graded_code_has_no_network(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    hits = []

    def accept():
        end = time.time() + 60
        while time.time() < end and not hits:
            try:
                conn, _ = server.accept()
                hits.append(conn.recv(100))
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    code = (f"import socket\ndef sigmoid(x):\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    s.sendall(b'leak')\n    return 1 / (1 + __import__('numpy').exp(-x))\n"
            "def sigmoid_grad(x):\n    return sigmoid(x) * (1 - sigmoid(x))\n")
    result = grade(with_answers({"01_sigmoid": code}), tmp_path)
    thread.join(0.5)
    server.close()
    assert hits == [] and result.cells["01_sigmoid_tests"]["score"] == 0


def test_files_shipped_beside_the_notebook_are_never_imported(tmp_path):
    (tmp_path / "numpy.py").write_text("raise SystemExit('fake numpy imported')\n")
    (tmp_path / "sitecustomize.py").write_text("import os; os._exit(3)\n")
    (tmp_path / "dlcourse").mkdir()
    (tmp_path / "dlcourse" / "__init__.py").write_text("raise SystemExit('fake dlcourse')\n")
    result = grade(with_answers(solution_answers()), tmp_path)
    assert scores(result) == FULL


ENV_PROBE = '''import os
GRADING_HINTS = [k for k in os.environ if k.startswith(("NBGRADER", "JPY_", "DLCOURSE_COHORT", "CI", "PYTEST"))]

def sigmoid(x):
    if GRADING_HINTS:            # behave differently when graded: return a constant
        return 0.5 + 0 * x
    raise ValueError("no grading hint in the environment: " + ",".join(sorted(os.environ)))

def sigmoid_grad(x):
    return sigmoid(x) * (1 - sigmoid(x))
'''


def test_no_grading_mode_variable_reaches_graded_code(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("CI", "true")
    result = grade(with_answers({"01_sigmoid": ENV_PROBE}), tmp_path)
    messages = json.dumps(result.cells["01_sigmoid_tests"]["checks"])
    assert "no grading hint in the environment" in messages
    assert result.cells["01_sigmoid_tests"]["score"] == 0


# ----------------------------------------------------------------------------------------
# Resources.
# ----------------------------------------------------------------------------------------
IGNORE_SIGINT = '''import signal
def relu(x):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass
relu_grad = leaky_relu = leaky_relu_grad = relu
'''


def test_endless_loop_ignoring_sigint_is_stopped_and_earlier_cells_keep_points(tmp_path):
    start = time.monotonic()
    result = grade(with_answers({**solution_answers(), "01_relu": IGNORE_SIGINT}), tmp_path)
    assert time.monotonic() - start < 60
    assert scores(result) == {**FULL, **from_on("01_relu_tests")}
    assert has_flag(result, "did not respond after a timeout")


def test_memory_blowup_is_contained(tmp_path):
    hog = "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))\n"
    result = grade(with_answers({**solution_answers(), "01_softmax": hog}), tmp_path)
    # The kernel is killed in the softmax answer cell: the cells before it keep their points.
    assert scores(result) == {**FULL, **from_on("01_softmax_tests")}
    assert has_flag(result, "kernel died in cell") and has_flag(result, "out of memory")


FORK_BOMB = '''import os
def collapse_linear(weights, biases):
    while True:
        try:
            os.fork()
        except OSError:
            pass
'''


def test_fork_bomb_is_contained_and_cleaned_up(tmp_path):
    start = time.monotonic()
    result = grade(with_answers({**solution_answers(), "01_collapse": FORK_BOMB}), tmp_path)
    assert time.monotonic() - start < 90
    assert scores(result) == {**FULL, **from_on("01_collapse_tests")}  # the kernel is stopped after the cell
    left = Path("/sys/fs/cgroup/pids/dlcourse-grader")
    if left.is_dir():
        mine = [p for p in left.iterdir() if p.name.startswith(f"run-{os.getpid()}-")]
        assert not mine, "this test's sandbox cgroup was left behind"


DATALOADER = '''import torch
from torch.utils.data import DataLoader, TensorDataset

def collapse_linear(weights, biases):
    loader = DataLoader(TensorDataset(torch.zeros(10_000, 2)), batch_size=1, num_workers=500)
    for _ in loader:
        pass
'''


def test_dataloader_with_hundreds_of_workers_fails_that_check_only(tmp_path):
    limits = Limits(cell_timeout=60, notebook_timeout=300, memory_mb=2048, max_pids=64)
    result = grade(with_answers({**solution_answers(), "01_collapse": DATALOADER}), tmp_path, limits)
    assert scores(result) == {**FULL, **from_on("01_collapse_tests")}  # the kernel is stopped after the cell


DISK_FILLER = '''import os, pathlib
errors = []
for folder in [os.getcwd(), "/tmp", "/dev/shm", os.path.expanduser("~")]:
    for i in range(20):
        try:
            with open(os.path.join(folder, f"fill{i}.bin"), "wb") as fh:
                fh.write(b"x" * (100 * 2**20))
        except OSError as exc:
            errors.append(type(exc).__name__)
            break

def sigmoid(x):
    return 1 / (1 + __import__("numpy").exp(-x))

def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)
'''


def test_filling_the_disk_hits_a_limit_not_the_host(tmp_path):
    import shutil
    free_before = shutil.disk_usage(ROOT).free
    result = grade(with_answers({**solution_answers(), "01_sigmoid": DISK_FILLER}), tmp_path)
    assert shutil.disk_usage(ROOT).free > free_before - 200 * 2**20
    assert scores(result) == FULL


def test_twenty_megabytes_of_output_on_one_line(tmp_path):
    noisy = solution_answers()["01_sigmoid"] + "\nprint('x' * 20_000_000)\n"
    result = grade(with_answers({**solution_answers(), "01_sigmoid": noisy}), tmp_path)
    assert scores(result) == FULL


def test_many_cells_just_under_the_timeout_hit_the_notebook_limit(tmp_path):
    limits = Limits(cell_timeout=5, notebook_timeout=14, memory_mb=1024, max_pids=64)
    slow = {gid: "import time\ntime.sleep(4.5)\n" + code for gid, code in solution_answers().items()}
    start = time.monotonic()
    result = grade(with_answers(slow), tmp_path, limits)
    assert time.monotonic() - start < 14 + 25
    assert has_flag(result, "notebook time limit")
    # Five cells of 4.5 s cannot fit in 14 s: the last exercises are never reached.
    assert result.cells["01_softmax_tests"]["score"] == 0 and result.cells["01_collapse_tests"]["score"] == 0
    assert result.score < sum(FULL.values())


def test_input_fails_that_check_only(tmp_path):
    asks = "def sigmoid(x):\n    input('value? ')\n    return x\n\ndef sigmoid_grad(x):\n    return x\n"
    result = grade(with_answers({**solution_answers(), "01_sigmoid": asks}), tmp_path)
    # tanh is built on sigmoid, so it fails too; everything else is untouched.
    assert scores(result) == {**FULL, "01_sigmoid_tests": 0.0, "01_tanh_tests": 0.0}


@pytest.mark.parametrize("how", ["__import__('os')._exit(1)", "__import__('ctypes').string_at(0)"])
def test_kernel_death_midway_keeps_earlier_cells(how, tmp_path):
    answers = {**solution_answers()}
    answers["01_relu"] = answers["01_relu"] + f"\n{how}\n"
    result = grade(with_answers(answers), tmp_path)
    assert scores(result) == {**FULL, **from_on("01_relu_tests")}
    assert result.cells["01_softmax_tests"]["status"] == "not run"


def test_sys_exit_is_just_an_error_in_that_cell(tmp_path):
    answers = {**solution_answers()}
    answers["01_relu"] = answers["01_relu"] + "\nimport sys\nsys.exit(0)\n"
    assert scores(grade(with_answers(answers), tmp_path)) == FULL


# ----------------------------------------------------------------------------------------
# Malformed files.
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,reason", [
    ("{not json", "not valid notebook JSON"),
    (nbformat.writes(nbformat.v4.new_notebook())[:-40], "not valid notebook JSON"),
    ("[1, 2, 3]", "not a notebook"),
    ('{"cells": [], "nbformat": 3}', "expected 4"),
    ("\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "not valid notebook JSON"),
])
def test_malformed_notebooks_score_zero_with_a_reason(text, reason, tmp_path):
    result = grade(text, tmp_path)
    assert result.score == 0 and reason in result.invalid


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / f"{A}.ipynb"
    with open(path, "wb") as fh:
        fh.truncate(25 * 2**20)
    result = grade_file(path)
    assert result.score == 0 and "at most 20 MB" in result.invalid


def test_duplicate_cell_ids_are_flagged_and_graded(tmp_path):
    nb = json.loads(nbformat.writes(with_answers(solution_answers())))
    for cell in nb["cells"]:
        cell["id"] = "same"
    result = grade(json.dumps(nb), tmp_path)
    assert scores(result) == FULL and has_flag(result, "duplicate cell ids")
