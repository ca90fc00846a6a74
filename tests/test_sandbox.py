"""Is the sandbox built the way the threat model says, on cgroup v1 and v2 hosts alike, and are
the grader-side pieces (time limits, feedback, sanitising) right? No kernels run here."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import sandbox as sb
from autograder.grading import (TIMING, Source, _error_feedback, _sanitize_markdown, feedback_text,
                                graded_notebook, NotebookResult, public_checks_table, score_cell, time_limits)
from autograder.runner import CellRun, _cell_line
from autograder.sandbox import Limits, Sandbox
from dlcourse.checks import encode, to_plain
from tests.conftest import ROOT

REVEAL = [ROOT / n for n in (".venv", "dlcourse", "datasets", "lessons")]


def test_filesystem_is_an_allow_list_not_the_host_root(tmp_path):
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    box = Sandbox(Limits(), hide=[ROOT, cohort], reveal=REVEAL)
    args = box.filesystem_args()
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    assert "/" not in binds and "/home" not in binds and "/root" not in binds and "/work" not in binds
    assert str(ROOT) not in binds and str(cohort) not in binds
    for path in REVEAL:
        if path.exists():
            assert str(path.resolve()) in binds
    assert str(Path(sys.base_prefix).resolve()) in binds
    # /etc is a handful of files written for the run, not the host's.
    assert args[args.index(str(box.etc_dir)) + 1] == "/etc"
    assert args[-1] == "/" and args[-2] == "--remount-ro"


def test_a_hidden_folder_is_never_bound_even_inside_an_allowed_one(tmp_path):
    inner = ROOT / "lessons"
    box = Sandbox(Limits(), hide=[inner], reveal=[ROOT / "dlcourse"])
    assert inner not in box.allowed_paths()


def fake_cgroup_v2(tmp_path: Path) -> Path:
    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_cgroup_v2_limits_are_written_on_a_unified_hierarchy(tmp_path, monkeypatch):
    root = fake_cgroup_v2(tmp_path)
    monkeypatch.setattr(sb, "CGROUP_ROOT", root)
    box = Sandbox(Limits(memory_mb=512, max_pids=32), hide=[ROOT], reveal=REVEAL)
    box._make_cgroups()
    assert box.cgroup_version == 2 and len(box.cgroups) == 1
    cg = box.cgroups[0]
    assert cg.parent == root / sb.CGROUP_PARENT
    assert (cg / "memory.max").read_text() == str(512 * 2**20)
    assert (cg / "memory.swap.max").read_text() == "0"
    assert (cg / "pids.max").read_text() == "32"
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids"
    assert (root / sb.CGROUP_PARENT / "cgroup.subtree_control").read_text() == "+memory +pids"
    # The launcher puts the kernel into that group before exec'ing bwrap.
    assert f'echo $$ > "{cg}/cgroup.procs"' in box.wrap(["python"])[2]
    (cg / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert box.out_of_memory()


def test_cgroup_v2_without_a_controller_says_so(tmp_path, monkeypatch):
    root = fake_cgroup_v2(tmp_path)
    (root / "cgroup.controllers").write_text("cpu io memory\n")
    monkeypatch.setattr(sb, "CGROUP_ROOT", root)
    box = Sandbox(Limits(), hide=[ROOT], reveal=REVEAL)
    box._make_cgroups()
    assert any("pids limit not enforced" in n for n in box.notes)
    assert not (box.cgroups[0] / "pids.max").exists()


def test_cgroup_v1_is_used_where_there_is_no_unified_hierarchy(tmp_path, monkeypatch):
    root = tmp_path / "v1"
    for c in ("memory", "pids"):
        (root / c).mkdir(parents=True)
    monkeypatch.setattr(sb, "CGROUP_ROOT", root)
    box = Sandbox(Limits(memory_mb=256), hide=[ROOT], reveal=REVEAL)
    box._make_cgroups()
    assert box.cgroup_version == 1
    assert (root / "memory" / sb.CGROUP_PARENT / box.name / "memory.limit_in_bytes").read_text() == str(256 * 2**20)


def test_time_limits_follow_the_reference_with_a_floor():
    ref = {TIMING: {"cell_seconds": [0.1, 0.0, 12.0, 1.0]}}
    per_cell, limits = time_limits(ref, Limits(cell_timeout=30, notebook_timeout=100, timeout_factor=10), 4)
    assert per_cell == [30, 30, 120, 30]
    assert limits.notebook_timeout == pytest.approx(10 * 13.1)
    # Without timings (an old cache), every cell gets the configured limit.
    assert time_limits({}, Limits(cell_timeout=7), 3)[0] == [7, 7, 7]


def test_ipython_traceback_gives_the_learners_line():
    tb = ["\x1b[31m---------\x1b[39m", "\x1b[31mValueError\x1b[39m  Traceback (most recent call last)",
          "Cell \x1b[32mIn[3]\x1b[39m, line \x1b[32m7\x1b[39m", "Cell In[3], line 12\n  raise ValueError(x)"]
    assert _cell_line(tb) == 12
    assert _cell_line("not a list") is None


REF = [{"check": "pub", "hidden": False, "points": 1.0, "rtol": 1e-6, "atol": 1e-8, "value": to_plain(np.array([0.5]))},
       {"check": "hid", "hidden": True, "points": 2.0, "rtol": 1e-6, "atol": 1e-8, "value": to_plain(np.array([7.0]))}]


def run_with(records, status="ok") -> CellRun:
    return CellRun(status=status, probes=records)


def test_feedback_never_shows_what_the_learners_code_produced():
    secret = "HIDDEN-INPUT-31337"
    run = run_with([{"check": "pub", "error": f"raised ValueError: bad input {secret} (line 3: x)", "error_line": 3},
                    {"check": "hid", "value": encode(to_plain(np.array([31337.0])))}])
    graded = score_cell("01_x_tests", run, REF, 3.0)
    text = feedback_text("01_x_tests", graded)
    assert secret not in text and "31337" not in text
    assert "your code raised ValueError at line 3 of your code" in text
    assert "[FAIL] hid (2 pt)" in text           # hidden checks are named, with nothing else
    assert secret in graded["checks"][0]["message"]  # the instructor's report keeps everything


def test_a_wrong_public_value_is_described_without_the_value():
    graded = score_cell("g", run_with([{"check": "pub", "value": encode(to_plain(np.array([0.123456])))},
                                       {"check": "hid", "value": encode(to_plain(np.array([7.0])))}]), REF, 3.0)
    assert graded["score"] == 2.0
    assert "0.123456" in graded["checks"][0]["message"] and "0.123456" not in feedback_text("g", graded)


@pytest.mark.parametrize("evil", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
    "[x]( JavaScript:alert(1))", "[ref]: javascript:alert(1)", "<a href='x' onclick='alert(1)'>x</a>",
    "<svg/onload=alert(1)>", "[d](data:text/html;base64,PHNjcmlwdD4=)",
])
def test_markdown_answers_are_rendered_inert(evil):
    from nbconvert.filters.markdown import markdown2html_mistune
    html = markdown2html_mistune(_sanitize_markdown(evil))
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<svg" not in lowered
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered)  # no live event handler on any tag
    assert 'href="javascript:' not in lowered and 'href="data:' not in lowered


def test_model_answer_follows_an_answered_explain_prompt_only():
    source = Source.load(ROOT / "solutions" / "01_activations" / "01_activations.ipynb")
    explain = [c for c in source.nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    gid = explain[0].metadata["nbgrader"]["grade_id"]
    answered = NotebookResult(notebook="x", answers={gid: "Because exp overflows."})
    nb = graded_notebook(source, answered)
    texts = [c.source for c in nb.cells]
    i = texts.index("Because exp overflows.")
    assert texts[i + 1].startswith("**Model answer**")
    blank = graded_notebook(source, NotebookResult(notebook="x"))
    assert not any(t.startswith("**Model answer**") for t in (c.source for c in blank.cells))


def test_error_feedback_keeps_only_the_type_and_line():
    assert _error_feedback("raised KeyError: 'secret' (line 2: d[k])", 2) == "your code raised KeyError at line 2 of your code"
    assert _error_feedback("raised KeyError: 'secret'", True) == "your code raised KeyError"  # a bool is not a line
    assert _error_feedback("not implemented yet (the cell still raises NotImplementedError)", None).startswith("not implemented")
