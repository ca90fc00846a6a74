"""Checks with failure messages a learner can act on, and the test-cell helper ``Tests``.

In a lesson, each graded exercise ends with a test cell like::

    t = Tests("sigmoid")
    t.check("sigmoid(0) is 0.5", lambda: sigmoid(np.array([0.0])), expect=[0.5])
    t.done()

Run by a learner, ``check`` compares right away and ``done`` prints a report and raises
if a check failed. Run by the course autograder (probe mode), ``check`` only reports what
the code returned, as plain data, and the grader compares it with the reference solution
outside the learner's process, so nothing inside the notebook can fake a pass.
"""
from __future__ import annotations

import base64
import math
import traceback
from typing import Any, Callable

import numpy as np

PROBE_MIME = "application/vnd.dlcourse.probe+json"
MAX_VALUE_BYTES = 8 * 1024 * 1024
# Plain numeric data only: no objects, strings or structured dtypes cross as arrays.
_ARRAY_KINDS = "biuf"

_MISSING: Any = object()
_probe_mode = False
_hidden = False


class UnsupportedValue(TypeError):
    """Raised when a value cannot be turned into plain data (numbers, arrays, strings)."""


# ----------------------------------------------------------------------------------------
# Plain data: what a check result may be, and its JSON form.
# ----------------------------------------------------------------------------------------
def to_plain(value: Any, _depth: int = 0) -> Any:
    """Turn a result into plain data: None, bool, str, ndarray, list or dict of those.

    Numbers become 0-d arrays, torch tensors become NumPy arrays (moved to the CPU).
    """
    if _depth > 20:
        raise UnsupportedValue("value is nested more than 20 levels deep")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_plain(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise UnsupportedValue("dict keys must be strings")
        return {k: to_plain(v, _depth + 1) for k, v in value.items()}
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, (int, float, np.generic, np.ndarray)):
        arr = np.array(value)
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise UnsupportedValue(f"arrays must hold numbers or booleans, not dtype {arr.dtype}")
        return arr
    raise UnsupportedValue(f"cannot check a value of type {type(value).__name__}")


def encode(value: Any) -> Any:
    """Plain data -> JSON-able form. Arrays travel as raw little-endian bytes in base64."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, np.ndarray):
        arr = np.asarray(value, dtype=value.dtype.newbyteorder("<"))  # keeps 0-d arrays 0-d
        if arr.nbytes > MAX_VALUE_BYTES:
            raise UnsupportedValue(f"array of {arr.nbytes} bytes is larger than the {MAX_VALUE_BYTES}-byte limit")
        return {"__ndarray__": base64.b64encode(arr.tobytes()).decode("ascii"),
                "dtype": arr.dtype.str, "shape": list(arr.shape)}  # tobytes() is C order
    raise UnsupportedValue(f"cannot encode {type(value).__name__}")


def decode(obj: Any, _depth: int = 0) -> Any:
    """JSON form -> plain data, validating everything: this runs on untrusted input."""
    if _depth > 21:
        raise ValueError("value is nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, list):
        return [decode(v, _depth + 1) for v in obj]
    if isinstance(obj, dict) and set(obj) == {"__dict__"} and isinstance(obj["__dict__"], dict):
        return {str(k): decode(v, _depth + 1) for k, v in obj["__dict__"].items()}
    if isinstance(obj, dict) and set(obj) == {"__ndarray__", "dtype", "shape"}:
        dtype = np.dtype(str(obj["dtype"]))
        if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"dtype {dtype} is not a plain numeric dtype")
        shape = obj["shape"]
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
            raise ValueError("shape must be a list of non-negative ints")
        raw = base64.b64decode(str(obj["__ndarray__"]), validate=True)
        if len(raw) != math.prod(shape) * dtype.itemsize:
            raise ValueError("array bytes do not match its shape and dtype")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    raise ValueError(f"not a plain-data value: {type(obj).__name__}")


# ----------------------------------------------------------------------------------------
# Comparison with messages a learner can act on.
# ----------------------------------------------------------------------------------------
def compare(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, where: str = "") -> str | None:
    """Compare two plain values. Returns None if they match, else a message saying what differs."""
    label = f" at {where}" if where else ""
    if isinstance(expected, np.ndarray):
        if isinstance(actual, list):
            try:
                actual = to_plain(np.array(actual))
            except (UnsupportedValue, ValueError):
                return f"expected an array{label}, got a list that is not a rectangular array of numbers"
        if not isinstance(actual, np.ndarray):
            return f"expected an array of shape {expected.shape}{label}, got {_describe(actual)}"
        return _compare_arrays(actual, expected, rtol, atol, label)
    if isinstance(expected, list):
        if isinstance(actual, np.ndarray):
            try:
                return compare(actual, to_plain(np.array(expected)), rtol, atol, where)
            except (UnsupportedValue, ValueError):
                return f"expected a sequence of length {len(expected)}{label}, got {_describe(actual)}"
        if not isinstance(actual, list):
            return f"expected a sequence of length {len(expected)}{label}, got {_describe(actual)}"
        if len(actual) != len(expected):
            return f"expected a sequence of length {len(expected)}{label}, got length {len(actual)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            msg = compare(a, e, rtol, atol, f"{where}[{i}]")
            if msg:
                return msg
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"expected a dict{label}, got {_describe(actual)}"
        if set(actual) != set(expected):
            return f"expected keys {sorted(expected)}{label}, got {sorted(actual)}"
        for k in expected:
            msg = compare(actual[k], expected[k], rtol, atol, f"{where}[{k!r}]")
            if msg:
                return msg
        return None
    if type(actual) is not type(expected) or actual != expected:
        return f"expected {expected!r}{label}, got {_describe(actual)}"
    return None


def _compare_arrays(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, label: str) -> str | None:
    if actual.shape != expected.shape:
        return f"shape mismatch{label}: expected {expected.shape}, got {actual.shape}"
    if actual.size == 0:
        return None
    if expected.dtype.kind == "b" or actual.dtype.kind == "b":
        if actual.dtype.kind != "b" and not np.isin(actual, (0, 1)).all():
            return f"expected booleans{label}, got dtype {actual.dtype}"
        wrong = np.argwhere(actual.astype(bool) != expected.astype(bool))
        if len(wrong):
            i = tuple(int(j) for j in wrong[0])
            return (f"{len(wrong)} of {expected.size} entries differ{label}; first at index {i}: "
                    f"got {bool(actual[i])}, expected {bool(expected[i])}")
        return None
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    a_bad, e_bad = ~np.isfinite(a), ~np.isfinite(e)
    # A non-finite value matches only the same non-finite value (nan with nan, inf with inf).
    mismatch_nonfinite = (a_bad | e_bad) & ~((a == e) | (np.isnan(a) & np.isnan(e)))
    if mismatch_nonfinite.any():
        i = tuple(int(j) for j in np.argwhere(mismatch_nonfinite)[0])
        return (f"got {a[i]} at index {i}{label}, expected {e[i]}: look for overflow "
                f"(exp of a large number) or 0/0")
    finite = ~(a_bad | e_bad)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a - e), 0.0)
    allowed = atol + rtol * np.abs(e)
    if (err > allowed).any():
        i = tuple(int(j) for j in np.unravel_index(np.argmax(err - allowed), err.shape))
        n_bad = int((err > allowed).sum())
        where = f" at index {i}" if a.ndim else ""
        return (f"values differ{label}: {n_bad} of {a.size} entries out of tolerance; largest error "
                f"{err[i]:.3g}{where}: got {a[i]:.6g}, expected {e[i]:.6g} (rtol={rtol:g}, atol={atol:g})")
    return None


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def assert_close(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, name: str = "result") -> None:
    """Assert two results match: same shape, values within ``atol + rtol * |expected|``.

    The message names the first problem: the shape, a nan/inf, or the largest error and where it is.
    """
    msg = compare(to_plain(actual), to_plain(expected), rtol, atol)
    if msg:
        raise AssertionError(f"{name}: {msg}")


def assert_shape(actual: Any, shape: tuple[int, ...], name: str = "result") -> None:
    """Assert ``actual`` is an array (or tensor) of the given shape; use -1 for "any size"."""
    got = tuple(getattr(actual, "shape", ()))
    if not hasattr(actual, "shape"):
        raise AssertionError(f"{name}: expected an array of shape {shape}, got {type(actual).__name__}")
    if len(got) != len(shape) or any(s != -1 and s != g for s, g in zip(shape, got)):
        raise AssertionError(f"{name}: expected shape {shape}, got {got}")


# ----------------------------------------------------------------------------------------
# The test-cell helper.
# ----------------------------------------------------------------------------------------
def enable_probe_mode() -> None:
    """Called by the autograder before anything runs: checks report results instead of judging."""
    global _probe_mode
    _probe_mode = True


def _begin_hidden() -> None:
    global _hidden
    _hidden = True


def _end_hidden() -> None:
    global _hidden
    _hidden = False


class Tests:
    """The checks of one graded exercise; each check is worth its own points (partial credit).

    ``check(name, fn, expect)`` calls ``fn()``; pass a lambda so an error in your code
    fails that check only. ``expect`` may be a value or, when computing it calls your code
    too, a lambda. ``done()`` prints the report and raises if a check failed.
    """

    def __init__(self, exercise: str) -> None:
        self.exercise = exercise
        self.results: list[tuple[str, float, str | None]] = []
        self._names: set[str] = set()

    def check(self, name: str, fn: Callable[[], Any], expect: Any = _MISSING, *, points: float = 1.0,
              rtol: float = 1e-6, atol: float = 1e-8) -> bool:
        """Run one check. Returns True if it passed (or, in probe mode, if it produced a value)."""
        if name in self._names:
            raise ValueError(f"check name {name!r} is used twice in {self.exercise!r}")
        self._names.add(name)
        value, error = _MISSING, None
        try:
            value = to_plain(fn())
        except Exception as exc:  # the learner's code failed: that fails this check only
            error = _explain(exc)
        if _probe_mode:
            return self._emit(name, value, error, points, rtol, atol)
        if error is None and expect is not _MISSING:
            try:
                # A callable expect is computed only here, so it may call the learner's code.
                expected = to_plain(expect() if callable(expect) else expect)
            except Exception as exc:
                error = f"could not compute the expected value: {_explain(exc)}"
            else:
                error = compare(value, expected, rtol, atol)
        self.results.append((name, points, error))
        return error is None

    def _emit(self, name: str, value: Any, error: str | None, points: float, rtol: float, atol: float) -> bool:
        from IPython.display import display

        payload: dict[str, Any] = {"exercise": self.exercise, "check": name, "hidden": _hidden,
                                   "points": points, "rtol": rtol, "atol": atol}
        if error is None:
            try:
                payload["value"] = encode(value)
            except UnsupportedValue as exc:
                error = str(exc)
        if error is not None:
            payload["error"] = error[:2000]
        display({PROBE_MIME: payload}, raw=True)
        return error is None

    @property
    def score(self) -> float:
        return sum(p for _, p, err in self.results if err is None)

    @property
    def max_score(self) -> float:
        return sum(p for _, p, _ in self.results)

    def report(self) -> str:
        passed = sum(err is None for _, _, err in self.results)
        lines = [f"{self.exercise}: {passed}/{len(self.results)} checks passed "
                 f"({self.score:g}/{self.max_score:g} points here; more checks run when graded)"]
        for name, points, err in self.results:
            mark = "PASS" if err is None else "FAIL"
            lines.append(f"  [{mark}] {name} ({points:g} pt)" + (f"\n         {err}" if err else ""))
        return "\n".join(lines)

    def done(self) -> None:
        """Print the report; raise AssertionError if any check failed (so Validate flags it)."""
        if _probe_mode:
            return
        print(self.report())
        failed = [name for name, _, err in self.results if err is not None]
        if failed:
            raise AssertionError(f"{len(failed)} check(s) failed in {self.exercise}: {', '.join(failed)}")


def _explain(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not implemented yet (the cell still raises NotImplementedError)"
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    where = f" (line {last.lineno}: {last.line})" if last and last.line else ""
    return f"raised {type(exc).__name__}: {exc}{where}"
