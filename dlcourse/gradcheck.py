"""Centred-difference gradient checks, the way to trust a backward pass you wrote."""
from __future__ import annotations

from typing import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Gradient of a scalar function by centred differences.

    Inputs:
    - f: function of x returning a scalar
    - x: array of any shape, float64; it is perturbed in place and restored
    Returns:
    - grad: array shaped like x, grad[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h
    """
    x = _as_float64(x)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = float(f(x))
        x[i] = old - h
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Vector-Jacobian product of an array-valued function by centred differences.

    Inputs:
    - f: function of x returning an array y
    - x: input array, float64, shape (...); perturbed in place and restored
    - dout: upstream gradient dL/dy, shaped like f(x)
    Returns:
    - dx: array shaped like x, dx[i] ~ sum((f(x + h e_i) - f(x - h e_i)) * dout) / 2h
    """
    x = _as_float64(x)
    dx = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        y_plus = np.array(f(x), dtype=np.float64)
        x[i] = old - h
        y_minus = np.array(f(x), dtype=np.float64)
        x[i] = old
        dx[i] = np.sum((y_plus - y_minus) * dout) / (2 * h)
    return dx


def relative_error(a: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> float:
    """Largest elementwise |a - b| / max(|a| + |b|, eps); about 1e-7 or less means "agrees"."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), eps)))


def grad_check(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic: np.ndarray,
    h: float = 1e-5,
    tol: float = 1e-6,
) -> float:
    """Compare an analytic gradient of scalar f at x with centred differences.

    Inputs:
    - f: scalar function of x
    - x: float64 array, the point to check at
    - analytic: your gradient, shaped like x
    Returns the relative error; raises AssertionError, naming the worst entry, if it exceeds tol.
    """
    numeric = numerical_gradient(f, np.array(x, dtype=np.float64), h)
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise AssertionError(f"gradient has shape {analytic.shape}, but x has shape {numeric.shape}")
    err = relative_error(analytic, numeric)
    if not err <= tol:
        denom = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
        worst = np.unravel_index(np.argmax(np.abs(analytic - numeric) / denom), numeric.shape)
        raise AssertionError(
            f"gradient check failed: relative error {err:.2e} > {tol:.0e}; worst at index {tuple(int(i) for i in worst)}: "
            f"analytic {analytic[worst]:.6g}, numerical {numeric[worst]:.6g}"
        )
    return err


def _as_float64(x: np.ndarray) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        # float32 has too few digits for h = 1e-5 differences to mean anything.
        raise TypeError(f"gradient checks need a float64 ndarray, got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}; use x.astype(np.float64)")
    return x
