"""Planted behaviour for the failure-mode labs: runs and code to diagnose from their symptoms.

The lessons call these as black boxes. Reading the source would give a lab's answer away, which
is why they live here and not in the notebooks; nothing here is an exercise.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function as 1 / (1 + e^-z), without overflow


def _sigmoid_grad(z: np.ndarray) -> np.ndarray:
    s = _sigmoid(z)
    return s * (1.0 - s)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_grad(z: np.ndarray) -> np.ndarray:
    return (z > 0).astype(np.float64)


def depth_networks(depth: int = 20, width: int = 256, seed: int = 0) -> dict[str, tuple[list[np.ndarray], Activation, Activation]]:
    """Three untrained deep networks, "A", "B" and "C", for lesson 01's depth lab.

    Returns name -> (weights, act, act_grad): weights is a list of `depth` arrays of shape
    (width, width) (no biases); act and act_grad map a pre-activation array to an array of the
    same shape. Which activation and which weight scale each one uses is the lab's question.
    """
    r = np.random.default_rng(seed)
    naive, he = 1.0 / np.sqrt(width), np.sqrt(2.0 / width)
    # Fixed labels: the answer key sits in the lesson's hidden tests.
    configs = {"A": (naive, _relu, _relu_grad), "B": (naive, _sigmoid, _sigmoid_grad), "C": (he, _relu, _relu_grad)}
    return {name: ([r.normal(0.0, std, size=(width, width)) for _ in range(depth)], act, grad)
            for name, (std, act, grad) in configs.items()}


def after_oversized_step(depth: int = 3, width: int = 64, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A ReLU network (He-scaled weights) just after one far too large gradient step.

    Returns (weights, biases): weights[i] of shape (width, width) (the first (2, width) for 2-D
    inputs), biases[i] of shape (width,). The step drove some biases far below zero.
    """
    r = np.random.default_rng(seed)
    dims = [2] + [width] * depth
    weights = [r.normal(0.0, np.sqrt(2.0 / a), size=(a, b)) for a, b in zip(dims[:-1], dims[1:])]
    biases = []
    for i in range(depth):
        b = r.normal(0.0, 0.1, size=width)
        # An oversized step: a big share of units (more in the deeper layers) pushed far below 0.
        hit = r.random(width) < (0.25 + 0.2 * i)
        b[hit] -= r.uniform(20.0, 60.0, size=int(hit.sum()))
        biases.append(b)
    return weights, biases


def colleague_affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """A colleague's affine layer, forward: x (N, D), W (D, M), b (M,) -> out (N, M), cache."""
    return x @ W + b, (x, W, b)


def colleague_affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A colleague's affine layer, backward: dout (N, M), cache -> (dx, dW, db). Lesson 02 checks it."""
    x, W, b = cache
    dx = dout @ W.T
    dW = dout.T @ x
    db = np.mean(dout, axis=0)
    return dx, dW, db


def colleague_evaluate(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """A colleague's evaluation of a lesson-03 model: (mean cross-entropy, accuracy) on (X, y).

    Inputs: model with a loss(X, train=...) method returning scores (N, C); X (N, D); y (N,) ints.
    """
    scores = model.loss(X, train=True)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probs[np.arange(len(y)), y].mean())
    return loss, float(np.mean(np.argmax(scores, axis=1) == y))


def tiny_batch_runs(num_steps: int = 300, seed: int = 0) -> dict[str, list[float]]:
    """Three runs of lesson 02's sanity check: a two-layer net (2 -> 50 -> 3) trained on 10 examples.

    Returns name ("A", "B", "C") -> the training loss before each of num_steps full-batch
    gradient steps (lr 0.5). One run is healthy; the other two each have one mistake.
    """
    r = np.random.default_rng(seed)
    X = r.normal(size=(10, 2))
    y = np.arange(10) % 3
    runs = {}
    # Fixed labels: the answer key sits in the lesson's hidden tests.
    for name, weight_scale, shuffle_labels in [("A", 0.01, True), ("B", 0.01, False), ("C", 5.0, False)]:
        rr = np.random.default_rng(seed + 1)
        W1, b1 = weight_scale * rr.standard_normal((2, 50)), np.zeros(50)
        W2, b2 = weight_scale * rr.standard_normal((50, 3)), np.zeros(3)
        losses = []
        for _ in range(num_steps):
            # The mistake in one run: labels shuffled on their own, so they no longer match the inputs.
            labels = rr.permutation(y) if shuffle_labels else y
            h = X @ W1 + b1
            a = np.maximum(h, 0.0)
            scores = a @ W2 + b2
            shifted = scores - scores.max(axis=1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            losses.append(float(-log_p[np.arange(10), labels].mean()))
            ds = np.exp(log_p)
            ds[np.arange(10), labels] -= 1.0
            ds /= 10
            dW2, db2 = a.T @ ds, ds.sum(axis=0)
            dh = (ds @ W2.T) * (h > 0)
            dW1, db1 = X.T @ dh, dh.sum(axis=0)
            W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
        runs[name] = losses
    return runs
