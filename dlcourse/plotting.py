"""Plotting helpers: the figures a learner would rather look at than read."""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def plot_functions(
    x: np.ndarray,
    functions: Mapping[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]],
    ncols: int = 3,
) -> plt.Figure:
    """One panel per function: f(x) and its derivative f'(x) on the same axes.

    Inputs:
    - x: 1-D array of points, shape (N,)
    - functions: name -> (f, df), each mapping an (N,) array to an (N,) array
    """
    n = len(functions)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
    for ax, (name, (f, df)) in zip(axes.flat, functions.items()):
        ax.plot(x, f(x), label=name)
        ax.plot(x, df(x), "--", label=f"d/dx {name}")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_curves(history: Mapping[str, Sequence[float]], xlabel: str = "epoch", ylabel: str = "",
                logy: bool = False, ax: plt.Axes | None = None) -> plt.Axes:
    """Plot named curves (e.g. {"train loss": [...], "val loss": [...]}) against their index."""
    ax = ax or plt.figure(figsize=(5, 3.5)).gca()
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
                           ax: plt.Axes | None = None, resolution: int = 200) -> plt.Axes:
    """Shade the class a 2-D classifier predicts over the plane, with the data on top.

    Inputs:
    - predict: maps points of shape (M, 2) to integer labels of shape (M,)
    - X: data, shape (N, 2); y: labels, shape (N,)
    """
    ax = ax or plt.figure(figsize=(4.5, 4)).gca()
    pad = 0.5
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    grid = np.c_[g0.ravel(), g1.ravel()]
    z = np.asarray(predict(grid)).reshape(g0.shape)
    ax.contourf(g0, g1, z, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="coolwarm", edgecolors="k", linewidths=0.3)
    return ax


def show_images(images: np.ndarray, labels: Sequence[object] | None = None, ncols: int = 8,
                cmap: str = "gray") -> plt.Figure:
    """Show a grid of images.

    Inputs:
    - images: shape (N, H, W) for grey or (N, H, W, 3) for colour
    - labels: optional titles, length N
    """
    n = len(images)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.5 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap if np.ndim(images[i]) == 2 else None)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    fig.tight_layout()
    return fig
