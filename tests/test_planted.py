"""Tests for dlcourse.planted: the planted bugs behave as the lab notebooks say they do."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dlcourse.planted import colleague_accuracy, mystery_steps, scanner_collection


def _line():
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    X = torch.linspace(-1, 1, 16)[:, None]
    return model, X, 3 * X + 0.5


def _hand_mse(y_hat, y):
    return ((y_hat - y) ** 2).mean()


def test_three_steps_one_correct_one_accumulating_one_broadcasting():
    """Does exactly one mystery step match a textbook step, does "A" keep its gradients and does "C" broadcast?"""
    steps = mystery_steps()
    assert sorted(steps) == ["A", "B", "C"]

    def run(step, n=3, lr=0.0):
        model, X, y = _line()
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        norms = []
        for _ in range(n):
            step(model, X, y, _hand_mse, opt)
            norms.append(float(model.weight.grad.norm()))
        return model, np.array(norms) / norms[0]

    assert np.allclose(run(steps["A"])[1], [1, 2, 3])          # gradients accumulate
    assert np.allclose(run(steps["B"])[1], [1, 1, 1])
    assert np.allclose(run(steps["C"])[1], [1, 1, 1])
    # B learns the line; C's (N, N) loss pulls it towards a flat line at the mean of y.
    b, _ = run(steps["B"], n=300, lr=0.3)
    c, _ = run(steps["C"], n=300, lr=0.3)
    assert abs(b.weight.item() - 3.0) < 0.05 and abs(b.bias.item() - 0.5) < 0.05
    assert abs(c.weight.item()) < 0.05 and abs(c.bias.item() - 0.5) < 0.05


def test_every_mystery_step_returns_the_loss_before_the_step_as_a_float():
    for step in mystery_steps().values():
        model, X, y = _line()
        loss = step(model, X, y, _hand_mse, torch.optim.SGD(model.parameters(), lr=0.1))
        assert isinstance(loss, float)


def test_colleague_accuracy_leaves_dropout_on():
    """Does the colleague's evaluation change from call to call with dropout (train mode), unlike eval mode?"""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3))
    X, y = torch.randn(200, 4), torch.randint(0, 3, (200,))
    loader = [(X[i:i + 50], y[i:i + 50]) for i in range(0, 200, 50)]
    values = {colleague_accuracy(model, loader) for _ in range(5)}
    assert len(values) > 1 and model.training
    assert all(0.0 <= v <= 1.0 for v in values)


def test_scanner_collection_adds_a_label_dependent_frame_and_leaves_the_input_alone():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 0.05, (20, 1, 8, 8)).astype(np.float32)
    y = np.arange(20) % 10
    before = X.copy()
    framed = scanner_collection(X, y)
    assert np.array_equal(X, before) and framed.dtype == X.dtype and framed.shape == X.shape
    ring = np.zeros((8, 8), dtype=bool)
    ring[[0, -1], :] = True
    ring[:, [0, -1]] = True
    assert np.allclose(framed[:, 0][:, ring], ((y + 1) / 10)[:, None])   # the frame's shade says the label
    assert np.array_equal(framed[:, :, ~ring], X[:, :, ~ring])          # the digit itself is unchanged
