"""Does a self-study learner see exactly how far they have come?"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, sandbox_or_skip

pytestmark = pytest.mark.grading


def test_progress_grades_started_lessons_and_skips_untouched_ones(tmp_path, generated_lessons):
    (tmp_path / "01_activations").mkdir()
    shutil.copy(ROOT / "autograder" / "example_submissions" / "01_activations" / "carol.ipynb",
                tmp_path / "01_activations" / "01_activations.ipynb")
    shutil.copytree(generated_lessons / "02_backprop", tmp_path / "02_backprop")
    done = subprocess.run([sys.executable, "-m", "autograder", "progress", "01_activations", "02_backprop",
                           "--folder", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "01_activations          42.5 / 47.5" in out
    assert "softmax 6/11" in out
    assert "02_backprop                0 / 62   not started" in out
    assert "total 42.5 / 109.5 points" in out


def test_progress_reuses_unchanged_results_and_grades_changed_ones_again(tmp_path, monkeypatch):
    from autograder import progress as progress_mod
    from autograder.cohort import Course
    from autograder.grading import NotebookResult

    sandbox_or_skip()
    A = "01_activations"
    (tmp_path / A).mkdir()
    notebook = tmp_path / A / f"{A}.ipynb"
    shutil.copy(ROOT / "autograder" / "example_submissions" / A / "carol.ipynb", notebook)
    course, cache = Course(ROOT, tmp_path / "cohort"), tmp_path / "cache"
    first: list[str] = []
    assert progress_mod.progress(course, tmp_path, [A], log=first.append, cache_dir=cache) == {A: 42.5}
    assert f"{A}: grading..." in "\n".join(first)                 # said while it ran

    def graded_again(*_args, **_kwargs):
        raise AssertionError("graded again")

    monkeypatch.setattr(progress_mod, "grade_notebook", graded_again)
    monkeypatch.setattr(progress_mod, "reference_probes", graded_again)
    second: list[str] = []
    assert progress_mod.progress(course, tmp_path, [A], log=second.append, cache_dir=cache) == {A: 42.5}
    out = "\n".join(second)
    assert f"{A}          42.5 / 47.5 [##################..]  (unchanged since the last run: reused)" in out
    assert "softmax 6/11" in out and "grading..." not in out
    # Any change to an answer grades again (the key is the answers' hash + the source's digest).
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "01_softmax":
            cell["source"] = "".join(cell["source"]) + "\n# tried again\n"
    notebook.write_text(json.dumps(nb))
    with pytest.raises(AssertionError, match="graded again"):
        progress_mod.progress(course, tmp_path, [A], log=lambda _: None, cache_dir=cache)
    # A result that depended on the machine is never reused.
    timed_out = NotebookResult(notebook=f"{A}.ipynb", cells={"c": {"score": 0.0, "status": "timeout"}})
    assert not progress_mod._reusable(timed_out)


def test_progress_shows_a_model_answer_only_after_the_learner_wrote_one():
    from autograder.grading import Source, model_answer, nbgrader_meta
    from autograder.progress import _show_written_prompts

    source = Source.load(ROOT / "solutions" / "01_activations" / "01_activations.ipynb")
    prompts = [c for c in source.nb.cells if c.cell_type == "markdown" and nbgrader_meta(c).get("solution")]
    assert len(prompts) >= 2
    first, second = (nbgrader_meta(c)["grade_id"] for c in prompts[:2])
    lines: list[str] = []
    _show_written_prompts(source, {first: "Because exp overflows for large inputs.", second: "YOUR ANSWER HERE"},
                          lines.append)
    out = "\n".join(lines)
    assert f"model answer for {first} (compare it with yours):" in out
    assert " ".join(model_answer(prompts[0]).split()[:6]) in " ".join(out.split())
    assert f"model answer for {second}" not in out
    assert f"written prompts not answered yet: {', '.join(nbgrader_meta(c)['grade_id'] for c in prompts[1:])}" in out
