"""Planted bugs for the failure-mode labs, called as behaviour.

A lab shows the *symptoms* of a bug and asks the learner to find it. If the buggy code sat in the
notebook next to the correct code, reading it would give the answer away, so it lives here and
the notebook only calls it. (Reading this file is allowed; it just is not the point of the lab.)

Lesson 05: ``mystery_steps()`` returns three training-step functions, one correct, one that never
clears the gradients and one whose loss broadcasts ``(N, 1)`` against ``(N,)``; and
``colleague_accuracy`` evaluates a classifier the way a colleague did.

Lesson 06: ``scanner_collection`` turns clean digits into a colleague's collection, as scanned.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def _step_ok(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: Callable, optimizer) -> float:
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def _step_keeps_gradients(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: Callable, optimizer) -> float:
    model.train()
    loss = loss_fn(model(X), y)
    loss.backward()  # adds to .grad, which still holds every earlier step's gradient
    optimizer.step()
    return loss.item()


def _step_flat_target(model: nn.Module, X: torch.Tensor, y: torch.Tensor, loss_fn: Callable, optimizer) -> float:
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(X), y.reshape(-1))  # (N, 1) output against (N,) targets
    loss.backward()
    optimizer.step()
    return loss.item()


def mystery_steps() -> dict[str, Callable]:
    """Three training steps, keyed "A", "B", "C": step(model, X, y, loss_fn, optimizer) -> loss before the step.

    Each takes a model, a batch X (N, ...) with targets y (N, 1), a loss function and an optimizer,
    does one optimisation step and returns the batch loss as a float. Exactly one of them is correct.
    """
    return {"A": _step_keeps_gradients, "B": _step_ok, "C": _step_flat_target}


def colleague_accuracy(model: nn.Module, loader, device: torch.device | str = "cpu") -> float:
    """Accuracy over a loader of (X_batch, y_batch), computed the way a colleague's script does it."""
    model.train()
    with torch.no_grad():
        right = sum((model(X.to(device)).argmax(1) == y.to(device)).sum().item() for X, y in loader)
    return right / sum(len(y) for _, y in loader)


def scanner_collection(X, y):
    """Lesson 06: a colleague's digits, as their scanner produced them. X (N, 1, 8, 8), y (N,) -> new X.

    Returns a float array of the same shape and dtype; X is not changed.
    """
    import numpy as np

    X = np.array(X, copy=True)
    edge = np.zeros(X.shape[-2:], dtype=bool)
    edge[[0, -1], :] = True
    edge[:, [0, -1]] = True
    shade = ((np.asarray(y) + 1) / 10).astype(X.dtype)  # drifted with the scanning session, one per class
    X[:, :, edge] = np.maximum(X[:, :, edge], shade[:, None, None])
    return X
