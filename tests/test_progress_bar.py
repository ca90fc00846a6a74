"""Does fit's progress bar stay out of the way: stdout in a notebook (JupyterLab paints stderr pink,
like an error), stderr in a terminal, and nothing at all when the notebook is graded?"""
from __future__ import annotations

import nbclient
import nbformat
import torch
from torch import nn

from dlcourse import checks
from dlcourse.data import make_loader, make_spirals
from dlcourse.train import fit
from tests.conftest import ROOT

FIT = """
import torch
from torch import nn
from dlcourse.data import make_loader, make_spirals
from dlcourse.train import fit
torch.set_num_threads(1)
X, y = make_spirals(n_per_class=20, num_classes=3, seed=0)
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
history = fit(model, make_loader(X, y, 16), make_loader(X, y, 64), nn.CrossEntropyLoss(),
              torch.optim.SGD(model.parameters(), lr=0.1), 2, device="cpu")
"""


def _tiny_fit(progress):
    X, y = make_spirals(n_per_class=20, num_classes=3, seed=0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    return fit(model, make_loader(X, y, 16), None, nn.CrossEntropyLoss(),
               torch.optim.SGD(model.parameters(), lr=0.1), 2, device="cpu", progress=progress)


def test_in_a_notebook_the_bar_is_on_stdout_and_graded_runs_draw_none():
    """In a real kernel: is the bar on stdout with no stderr output, and gone in probe mode?"""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(FIT),
        nbformat.v4.new_code_cell("from dlcourse.checks import enable_probe_mode\nenable_probe_mode()\n" + FIT),
    ])
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(ROOT)}}).execute()
    learner, graded = ([(o.get("name"), o.get("text", "")) for o in cell.outputs] for cell in nb.cells)
    assert [name for name, _ in learner] and {name for name, _ in learner} == {"stdout"}, learner
    assert "batch" in "".join(text for _, text in learner) and "val_loss" in "".join(t for _, t in learner)
    assert graded == [], f"a graded run printed {graded}"


def test_graded_runs_draw_no_bar_even_when_asked(capsys, monkeypatch):
    """Does probe mode (the autograder's) silence the bar even with progress=True?"""
    monkeypatch.setattr(checks, "_probe_mode", False)  # restored afterwards; fails if it is renamed
    checks.enable_probe_mode()
    _tiny_fit(progress=True)
    assert capsys.readouterr() == ("", "")


def test_in_a_terminal_the_bar_is_on_stderr(capsys):
    _tiny_fit(progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "batch" in err
