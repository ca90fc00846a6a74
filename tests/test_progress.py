"""Does a self-study learner see exactly how far they have come?"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

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
    assert "01_activations            21 / 22" in out
    assert "softmax 4/5" in out
    assert "02_backprop                0 / 34   not started" in out
    assert "total 21 / 56 points" in out
