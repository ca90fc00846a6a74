"""`make gpu-check` cannot rot: its dry mode runs the same notebooks, the same summary cells and the
same table on the CPU profile with CUDA hidden, and must report every lesson."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.notebook
@pytest.mark.xdist_group("gpu_check")
def test_gpu_check_dry_run_reports_every_lesson():
    done = subprocess.run([sys.executable, "bench/gpu_check.py", "--dry"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = {m.group(1): m for m in re.finditer(
        r"^(05_pytorch|06_cnn|10_transfer)\s+(cpu)\s+([\d,]+)\s+([\d.]+)\s+(\d+)\s+([\d.]+)%", done.stdout, re.M)}
    assert sorted(rows) == ["05_pytorch", "06_cnn", "10_transfer"], done.stdout
    for lesson, m in rows.items():
        assert float(m.group(3).replace(",", "")) > 0, lesson
        assert 10 < float(m.group(6)) <= 100, f"{lesson}: validation accuracy {m.group(6)}% is no trained model"
    assert "GPU: hidden (--dry)" in done.stdout


def test_gpu_check_without_a_gpu_says_so_and_fails():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    done = subprocess.run([sys.executable, "bench/gpu_check.py"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "no CUDA device: this is not a GPU check" in done.stdout


def test_a_renamed_training_cell_is_named_not_skipped():
    sys.path.insert(0, str(ROOT / "bench"))
    import gpu_check
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("history = train(model)")])
    with pytest.raises(SystemExit, match="expected one code cell containing"):
        gpu_check.instrument(nb, "05_pytorch", *gpu_check.LESSONS[0][1:])
