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
import numpy as np
import pytest

from autograder.grading import GradeContext, Source, grade_notebook, reference_probes
from autograder.sandbox import Limits
from tests import submissions
from tests.conftest import ROOT, sandbox_or_skip

pytestmark = pytest.mark.grading
A = "01_activations"
# A frozen copy of lesson 01 (tests/fixtures/README.md): these exact scores are about the
# grader, and must not move when the lesson itself is improved.
SRC = ROOT / "tests" / "fixtures" / A / f"{A}.ipynb"
FULL = {"01_sigmoid_tests": 5.0, "01_tanh_tests": 4.0, "01_relu_tests": 4.0, "01_softmax_tests": 5.0,
        "01_collapse_tests": 4.0}
ZERO = {gid: 0.0 for gid in FULL}
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
    """The student version of the fixture, made the way the grader reads a release."""
    source, _ = source_and_reference()
    nb = copy.deepcopy(source.nb)
    for cell in nb.cells:
        cell.source = source.release_text(cell)
    return nb


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
    assert result.score <= 2 + 2 + 2 + 2 + 2  # at most the public checks of each cell
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
    assert scores(result) == {**FULL, "01_relu_tests": 0.0, "01_softmax_tests": 0.0, "01_collapse_tests": 0.0}
    assert has_flag(result, "did not respond after a timeout")


def test_memory_blowup_is_contained(tmp_path):
    hog = "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 2**20))\n"
    result = grade(with_answers({**solution_answers(), "01_softmax": hog}), tmp_path)
    # The kernel is killed in the softmax answer cell: the cells before it keep their points.
    assert scores(result) == {**FULL, "01_softmax_tests": 0.0, "01_collapse_tests": 0.0}
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
    assert scores(result) == {**FULL, "01_collapse_tests": 0.0}
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
    assert scores(result) == {**FULL, "01_collapse_tests": 0.0}


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
    # No calibration headroom (factor 1): the 14 s notebook limit is what is tested.
    limits = Limits(cell_timeout=5, notebook_timeout=14, memory_mb=1024, max_pids=64, timeout_factor=1)
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
    assert scores(result) == {**FULL, "01_relu_tests": 0.0, "01_softmax_tests": 0.0, "01_collapse_tests": 0.0}
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


# ----------------------------------------------------------------------------------------
# Kinds: a value counts only as what it is.
# ----------------------------------------------------------------------------------------
GRAD_ONLY = '''
def sigmoid_grad(x):
    s = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
    return s * (1.0 - s)
'''
KINDS = {
    "all True where floats are expected": "def sigmoid(x):\n    return np.ones(np.shape(x), dtype=bool)\n",
    "a list where an array is expected": "def sigmoid(x):\n    return (1 / (1 + np.exp(-np.asarray(x)))).tolist()\n",
    "a tuple where an array is expected": "def sigmoid(x):\n    return tuple((1 / (1 + np.exp(-np.asarray(x)))).ravel())\n",
    "one boolean for everything": "def sigmoid(x):\n    return True\n",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_values_of_the_wrong_kind_never_earn_points(kind, tmp_path):
    """sigmoid answers with the wrong kind; sigmoid_grad is right and keeps its 2 checks."""
    answers = {**solution_answers(), "01_sigmoid": KINDS[kind] + GRAD_ONLY}
    result = grade(with_answers(answers), tmp_path)
    assert scores(result) == {**FULL, "01_sigmoid_tests": 2.0, "01_tanh_tests": 0.0}
    failed = [c for c in result.cells["01_sigmoid_tests"]["checks"] if not c["passed"]]
    assert all(c["message"].startswith("expected ") for c in failed if c["message"])


def test_float32_is_a_correct_answer_where_the_lesson_does_not_ask_for_float64(tmp_path):
    f32 = ("def sigmoid(x):\n    x = np.asarray(x, dtype=np.float32)\n"
           "    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))\n")
    answers = {**solution_answers(), "01_sigmoid": f32 + GRAD_ONLY}
    result = grade(with_answers(answers), tmp_path)
    assert scores(result)["01_sigmoid_tests"] == 5.0
    # tanh built on it inherits float32 rounding (~1e-7): its tight tolerance is a value
    # judgement, said as one, never a rejection of the dtype.
    tanh_failures = [c["message"] for c in result.cells["01_tanh_tests"]["checks"] if not c["passed"]]
    assert tanh_failures and all(m.startswith("values differ") for m in tanh_failures)


# ----------------------------------------------------------------------------------------
# The sandbox shows only what the kernel needs.
# ----------------------------------------------------------------------------------------
PROBE_PATHS = '''import os
DECOYS = {decoys!r}
CONTROL = {control!r}
SEEN = [p for p in DECOYS if os.path.exists(p)] + [p for p in os.listdir("/") if p in ("home", "srv", "opt", "var", "mnt")]

def sigmoid(x):
    if SEEN or not os.path.exists(CONTROL):   # the control proves this code really ran
        return np.zeros(np.shape(x))
    s = np.empty_like(x, dtype=np.float64)
    pos = x >= 0
    s[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    s[~pos] = e / (1 + e)
    return s

def sigmoid_grad(x):
    s = sigmoid(x)
    return s * (1 - s)
'''


@pytest.fixture
def decoys():
    """Another copy of the course, a cohort and a secret elsewhere on the host."""
    import shutil
    import uuid
    tag = uuid.uuid4().hex[:8]
    planted = [Path(f"/srv/dlcourse-decoy-{tag}/solutions/{A}/{A}.ipynb"),
               Path(f"/root/.dlcourse-decoy-secret-{tag}"),
               Path(f"/home/decoy-{tag}/cohort/gradebook.db"),
               ROOT.parent / f"decoy-course-{tag}" / "solutions" / A / f"{A}.ipynb",
               Path(f"/var/tmp/dlcourse-decoy-{tag}/secret.txt")]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("secret")
    yield [str(p) for p in planted]
    for path in planted:
        top = next(p for p in [path, *path.parents] if tag in p.name)
        shutil.rmtree(top, ignore_errors=True) if top.is_dir() else top.unlink(missing_ok=True)


def test_graded_code_cannot_see_decoys_anywhere_on_the_host(decoys, tmp_path):
    assert all(Path(p).exists() for p in decoys)
    control = str(ROOT / "dlcourse" / "__init__.py")
    answers = {**solution_answers(), "01_sigmoid": PROBE_PATHS.format(decoys=decoys, control=control)}
    assert scores(grade(with_answers(answers), tmp_path)) == FULL
    # And the same code, pointed at something it may see, does notice (the test can fail).
    visible = {**solution_answers(), "01_sigmoid": PROBE_PATHS.format(decoys=[control], control=control)}
    assert scores(grade(with_answers(visible), tmp_path))["01_sigmoid_tests"] == 0


SCRATCH_FILLER = '''import os, ipykernel.connect
_folder = os.path.dirname(ipykernel.connect.get_connection_file())
try:
    with open(os.path.join(_folder, "fill"), "wb") as _f:
        for _ in range(64):
            _f.write(b"x" * 2**20)
            _f.flush()
    _CAPPED = False
except OSError:
    _CAPPED = True
finally:
    try:
        os.remove(os.path.join(_folder, "fill"))
    except OSError:
        pass

def sigmoid(x):
    return 1 / (1 + np.exp(-x)) if _CAPPED else np.zeros(np.shape(x))

def sigmoid_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
'''


def test_writes_to_the_connection_folder_hit_a_small_cap(tmp_path):
    answers = {**solution_answers(), "01_sigmoid": SCRATCH_FILLER}
    result = grade(with_answers(answers), tmp_path)
    assert scores(result)["01_sigmoid_tests"] == 5.0, result.cells["01_sigmoid_tests"]


# ----------------------------------------------------------------------------------------
# Nothing the learner's code produced reaches feedback verbatim.
# ----------------------------------------------------------------------------------------
ECHO_HIDDEN = '''import numpy as np

def sigmoid(x):
    if np.ndim(x) == 2:   # only the hidden checks use a 2-D input
        raise ValueError("LE" + "AK: " + repr(np.asarray(x).ravel()[:4].tolist()))
    return 1 / (1 + np.exp(-x))

def sigmoid_grad(x):
    print("LE" + "AK:", np.asarray(x).ravel()[:4].tolist())
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)
'''


def test_feedback_shows_error_types_and_check_names_never_hidden_inputs(tmp_path):
    from autograder.grading import graded_notebook
    answers = {**solution_answers(), "01_sigmoid": ECHO_HIDDEN}
    nb = with_answers(answers)
    explain = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "01_explain_overflow")
    explain.source = "<script>alert('x')</script><img src=x onerror=alert(1)> [a](javascript:alert(1))"
    result = grade(nb, tmp_path)
    source, ref = source_and_reference()
    hidden_inputs = np.random.default_rng(101).normal(0, 4, size=(6, 7)).ravel()[:4]
    feedback = nbformat.writes(graded_notebook(source, result))
    for number in hidden_inputs:
        assert f"{number:.6f}"[:8] not in feedback
    assert "LEAK:" not in feedback
    report = json.dumps(result.cells["01_sigmoid_tests"])
    assert "LEAK:" in report  # the instructor still sees everything
    # Each hidden check is named, so a learner knows what failed.
    assert "[FAIL] sigmoid on a 2-D array (1 pt)" in feedback
    # The written answer is shown, inert: no tag survives, and the link goes nowhere.
    from nbconvert.filters.markdown import markdown2html_mistune
    shown = next(c.source for c in graded_notebook(source, result).cells
                 if c.metadata.get("nbgrader", {}).get("grade_id") == "01_explain_overflow")
    assert "<" not in shown and "](javascript:" not in shown
    rendered = markdown2html_mistune(shown).lower()
    assert "<script" not in rendered and "<img" not in rendered and 'href="javascript:' not in rendered


# ----------------------------------------------------------------------------------------
# Busy machines do not cost points; every timeout is flagged.
# ----------------------------------------------------------------------------------------
class FlakyHost:
    """A GradeContext whose first run fails as a host under load would; later runs are real."""

    def __init__(self, real, failure: str):
        self.real, self.failure, self.calls = real, failure, 0
        self.limits, self.reveal = real.limits, real.reveal

    def run(self, codes, cell_timeouts=None, limits=None):
        from autograder.runner import CellRun
        self.calls += 1
        if self.failure == "always-no-kernel" or (self.calls == 1 and self.failure == "no-kernel"):
            return [CellRun() for _ in codes], ["kernel stopped: RuntimeError: Kernel didn't respond in 120 seconds"]
        runs, notes = self.real.run(codes, cell_timeouts, limits)
        if self.calls == 1 and self.failure == "timeout":
            runs[3].status, runs[3].error, runs[3].probes = "timeout", "the cell's results did not arrive in time", []
        return runs, notes


@pytest.mark.parametrize("failure", ["timeout", "no-kernel"])
def test_a_host_side_failure_is_retried_once_and_costs_nothing(failure, tmp_path):
    source, ref = source_and_reference()
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(with_answers(solution_answers()), path)
    flaky = FlakyHost(ctx(), failure)
    result = grade_notebook(path, source, ref, flaky)
    assert flaky.calls == 2 and scores(result) == FULL and result.status == "graded"
    assert has_flag(result, "graded twice: the first attempt had")


def test_a_kernel_that_never_starts_is_regrade_needed_not_a_silent_zero(tmp_path):
    source, ref = source_and_reference()
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(with_answers(solution_answers()), path)
    result = grade_notebook(path, source, ref, FlakyHost(ctx(), "always-no-kernel"))
    assert result.status == "regrade needed" and result.attention


def test_a_timeout_in_an_answer_cell_is_flagged_with_its_name(tmp_path):
    slow = "import time\nwhile True:\n    time.sleep(0.1)\n"
    result = grade(with_answers({**solution_answers(), "01_relu": slow}), tmp_path)
    assert has_flag(result, "(01_relu) timed out") and result.attention
    assert scores(result)["01_sigmoid_tests"] == 5.0


def test_per_cell_limits_scale_with_the_reference(tmp_path):
    """A cell the solution needs 1 s for gets 10 s, not the 6 s floor: slow but correct passes."""
    from autograder.grading import time_limits
    _, ref = source_and_reference()
    n = len(ref["__timing__"]["cell_seconds"])
    slow_ref = {**ref, "__timing__": {"cell_seconds": [1.0] * n}}
    per_cell, _ = time_limits(slow_ref, LIMITS, n)
    assert per_cell == [10.0] * n
    slow = {gid: code + "\nimport time\ntime.sleep(7)\n" if gid == "01_sigmoid" else code
            for gid, code in solution_answers().items()}
    source, _ = source_and_reference()
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(with_answers(slow), path)
    assert scores(grade_notebook(path, source, slow_ref, ctx())) == FULL


# ----------------------------------------------------------------------------------------
# Bounded grader resources.
# ----------------------------------------------------------------------------------------
def test_a_huge_message_does_not_grow_the_graders_memory(tmp_path):
    import psutil
    me = psutil.Process()
    peak = [me.memory_info().rss]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak.append(me.memory_info().rss)
            time.sleep(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    flood = solution_answers()["01_sigmoid"] + "\nimport sys\nsys.stdout.write('x' * 300_000_000)\nsys.stdout.flush()\n"
    try:
        result = grade(with_answers({**solution_answers(), "01_sigmoid": flood}), tmp_path,
                       Limits(cell_timeout=10, notebook_timeout=200, memory_mb=2048, max_pids=64, iopub_timeout=5))
    finally:
        done.set()
        sampler.join()
    # zmq drops the 300 MB message unread; the connection it broke ends the run, flagged.
    assert max(peak) - peak[0] < 100 * 2**20, f"grader grew by {(max(peak) - peak[0]) / 2**20:.0f} MB"
    assert has_flag(result, "larger than the 32 MB limit") and result.attention


def test_no_sandbox_processes_are_left_behind(tmp_path):
    import psutil
    for i in range(3):
        grade(with_answers(solution_answers()), tmp_path)
    left = [(p.pid, p.name(), p.status()) for p in psutil.Process().children(recursive=True)
            if p.name() in ("bwrap", "sh") or p.status() == psutil.STATUS_ZOMBIE]
    assert not left, left


# ----------------------------------------------------------------------------------------
# Runs where instructors are: a moved course says what is wrong.
# ----------------------------------------------------------------------------------------
def test_a_course_whose_dlcourse_is_not_visible_says_so(tmp_path):
    from autograder.grading import SourceError
    sandbox_or_skip()
    broken = GradeContext(LIMITS, hide=[ROOT], reveal=[ROOT / ".venv"], sandboxed=True)
    with pytest.raises(SourceError, match="dlcourse is not importable inside the sandbox.*make setup"):
        reference_probes(Source.load(SRC), broken)
