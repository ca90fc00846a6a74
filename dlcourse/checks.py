"""Checks with failure messages a learner can act on, and the test-cell helper ``Tests``.

In a lesson, each graded exercise ends with a test cell like::

    t = Tests("sigmoid")
    t.check("sigmoid(0) is 0.5", lambda: sigmoid(np.array([0.0])), expect=[0.5])
    t.done()

Run by a learner, ``check`` compares right away and ``done`` prints a report and raises
if a check failed. Run by the course autograder (probe mode), ``check`` only reports what
the code returned, as plain data, and the grader compares it with the reference solution
outside the learner's process, so nothing inside the notebook can fake a pass.

One verdict: locally, a public check is compared with the *reference solution's* value for
that check, read from ``public_checks.json`` beside the notebook (``make lessons`` writes it
from a run of the solution), with the same function, tolerances and kind policy the grader
uses. ``expect=`` is the readable literal of that value, used only when the file is absent.

Kinds are compared as what they are (``compare``): a bool matches only a bool, an array only
an array (a list or tuple is not an array unless the check says ``array_like=True``), and a
number's dtype follows the check's ``dtype`` policy:

    "number"   any integer or floating dtype (the default; never bool)
    "float"    floating dtypes only (float16/32/64)
    "float64"  float64 only
    "int"      integer dtypes only
    "exact"    exactly the reference's dtype
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np

PROBE_MIME = "application/vnd.dlcourse.probe+json"
MAX_VALUE_BYTES = 8 * 1024 * 1024
# Plain numeric data only: no objects, strings or structured dtypes cross as arrays.
_ARRAY_KINDS = "biuf"

DTYPE_POLICIES = ("number", "float", "float64", "int", "exact")
PUBLIC_CHECKS_FILE = "public_checks.json"

_MISSING: Any = object()
_probe_mode = False
_hidden = False
_public: dict[str, Any] | None = None


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
    if isinstance(value, np.bool_):
        return bool(value)  # a NumPy boolean is a boolean, not a 0-d array
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
def compare(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, where: str = "",
            dtype: str = "number", array_like: bool = False, parts: list[str] | None = None,
            show_actual: bool = True) -> str | None:
    """Compare two plain values by kind, then by value. None if they match, else what differs.

    ``expected`` is the reference. ``dtype`` is the policy for numeric dtypes (see the module
    docstring), ``array_like`` lets a list stand for an array and back, and ``parts`` names the
    items of a top-level list so a message says "in W" rather than "at [0]". With
    ``show_actual=False`` the message says what was expected and how the value failed, but
    shows nothing of the value itself (for feedback: the value could carry hidden inputs).
    """
    if dtype not in DTYPE_POLICIES:
        raise ValueError(f"unknown dtype policy {dtype!r}; use one of {DTYPE_POLICIES}")
    label = f" in {where}" if where else ""
    sub = dict(rtol=rtol, atol=atol, dtype=dtype, array_like=array_like, show_actual=show_actual)

    def got(text: str) -> str:
        return f", got {text}" if show_actual else ""

    def describe(value: Any) -> str:
        return _describe(value) if show_actual else _kind_of(value)

    exp_bool, act_bool = _as_bool(expected), _as_bool(actual)
    if exp_bool is not None:
        if act_bool is None:
            return f"expected a boolean (True or False){label}, got {describe(actual)}"
        return None if act_bool == exp_bool else f"expected {exp_bool}{label}{got(str(act_bool))}"
    if act_bool is not None and isinstance(expected, np.ndarray):
        return f"expected {_kind_name(expected, dtype)}{label}, got a boolean"
    if isinstance(expected, np.ndarray):
        if isinstance(actual, list) and array_like:
            try:
                actual = to_plain(np.array(actual))
            except (UnsupportedValue, ValueError):
                return f"expected {_kind_name(expected, dtype)}{label}, got a list that is not a rectangular array of numbers"
        if not isinstance(actual, np.ndarray):
            return f"expected {_kind_name(expected, dtype)}{label}, got {describe(actual)}"
        return _compare_arrays(actual, expected, rtol, atol, label, dtype, show_actual)
    if isinstance(expected, list):
        if isinstance(actual, np.ndarray) and array_like:
            try:
                return compare(actual, to_plain(np.array(expected)), where=where, **sub)
            except (UnsupportedValue, ValueError):
                return f"expected a list of {len(expected)} items{label}, got {describe(actual)}"
        if not isinstance(actual, list):
            return f"expected a list or tuple of {len(expected)} items{label}, got {describe(actual)}"
        if len(actual) != len(expected):
            return f"expected {len(expected)} items{label}{got(str(len(actual)))}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            name = parts[i] if parts and i < len(parts) else f"{where}[{i}]"
            msg = compare(a, e, where=name, **sub)
            if msg:
                return msg
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"expected a dict with keys {sorted(expected)}{label}, got {describe(actual)}"
        if set(actual) != set(expected):
            return f"expected keys {sorted(expected)}{label}{got(str(sorted(actual)))}"
        for k in expected:
            msg = compare(actual[k], expected[k], where=f"{where}[{k!r}]" if where else repr(k), **sub)
            if msg:
                return msg
        return None
    if type(actual) is not type(expected) or actual != expected:
        return f"expected {expected!r}{label}, got {describe(actual)}"
    return None


def _as_bool(value: Any) -> bool | None:
    """A Python or 0-d NumPy boolean as a bool; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "b":
        return bool(value)
    return None


def _kind_name(expected: np.ndarray, dtype: str) -> str:
    if expected.dtype.kind == "b":
        what = "booleans"
    else:
        what = {"number": "numbers", "float": "floats", "float64": "float64 numbers", "int": "integers",
                "exact": f"{expected.dtype} numbers"}[dtype]
    if expected.ndim == 0:
        return "a number" if what == "numbers" else f"a single value ({what})"
    return f"a NumPy array of {what} with shape {expected.shape}"


def _dtype_problem(actual: np.ndarray, expected: np.ndarray, dtype: str) -> str | None:
    kind = actual.dtype.kind
    if expected.dtype.kind == "b":
        return None if kind == "b" else "booleans"
    if kind == "b":
        return "numbers, not booleans"
    ok = {"number": kind in "iuf", "float": kind == "f", "float64": actual.dtype == np.float64,
          "int": kind in "iu", "exact": actual.dtype == expected.dtype}[dtype]
    if ok:
        return None
    return {"number": "numbers", "float": "floating-point numbers", "float64": "float64 numbers",
            "int": "integers", "exact": f"dtype {expected.dtype}"}[dtype]


def _compare_arrays(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, label: str,
                    dtype: str = "number", show_actual: bool = True) -> str | None:
    wanted = _dtype_problem(actual, expected, dtype)
    if wanted:
        return f"expected {wanted}{label}, got dtype {actual.dtype}"
    if actual.shape != expected.shape:
        return f"shape mismatch{label}: expected {expected.shape}" + (f", got {actual.shape}" if show_actual else "")
    if actual.size == 0:
        return None
    if not show_actual:
        # The same verdict as the full message, without the values that produced it.
        full = _compare_arrays(actual, expected, rtol, atol, label, dtype, True)
        if full is None:
            return None
        return f"wrong values{label}" if expected.dtype.kind == "b" else f"values differ{label} (rtol={rtol:g}, atol={atol:g})"
    if expected.dtype.kind == "b":
        wrong = np.argwhere(actual != expected)
        if len(wrong):
            i = tuple(int(j) for j in wrong[0])
            at = f" at index {i}" if actual.ndim else ""
            return (f"{len(wrong)} of {expected.size} entries differ{label}; first{at}: "
                    f"got {bool(actual[i])}, expected {bool(expected[i])}")
        return None
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    a_bad, e_bad = ~np.isfinite(a), ~np.isfinite(e)
    # A non-finite value matches only the same non-finite value (nan with nan, inf with inf).
    mismatch_nonfinite = (a_bad | e_bad) & ~((a == e) | (np.isnan(a) & np.isnan(e)))
    if mismatch_nonfinite.any():
        i = tuple(int(j) for j in np.argwhere(mismatch_nonfinite)[0])
        at = f" at index {i}" if a.ndim else ""
        return (f"got {a[i]}{at}{label}, expected {e[i]}: look for overflow "
                f"(exp of a large number) or 0/0")
    finite = ~(a_bad | e_bad)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(finite, np.abs(a - e), 0.0)
    allowed = atol + rtol * np.abs(e)
    if (err > allowed).any():
        i = tuple(int(j) for j in np.unravel_index(np.argmax(err - allowed), err.shape))
        n_bad = int((err > allowed).sum())
        at = f" at index {i}" if a.ndim else ""
        return (f"values differ{label}: {n_bad} of {a.size} entries out of tolerance; largest error "
                f"{err[i]:.3g}{at}: got {a[i]:.6g}, expected {e[i]:.6g} (rtol={rtol:g}, atol={atol:g})")
    return None


def _kind_of(value: Any) -> str:
    """What kind a value is, without any of its content."""
    if isinstance(value, np.ndarray):
        return "a single value" if value.ndim == 0 else "an array"
    if isinstance(value, bool):
        return "a boolean"
    return {list: "a list", dict: "a dict", str: "a string", type(None): "None"}.get(type(value), "another kind of value")


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"a single {value.dtype} value"
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)[:8]}"
    if value is None:
        return "None"
    return f"{type(value).__name__} {repr(value)[:60]}"


METRICS = ("accuracy", "zero_fraction")


def judge(value: Any, ref: dict[str, Any], show_actual: bool = True) -> str | None:
    """The verdict on one check: the learner's ``value`` against the reference record ``ref``.

    The same function decides in the learner's notebook and in the grader, so nothing is
    ever judged inside the learner's process. Modes (set on ``Tests.check``):

    - default: the value equals the reference's (``compare``: kind, dtype policy, shape,
      tolerance).
    - ``bounds=(low, high)``, or one pair per item of a returned list: each number lies
      within them (kind and shape still follow the reference's).
    - ``metric="accuracy"``: the value is predictions; the fraction equal to the reference
      run's ``target`` (never the learner's) lies within ``bounds``.
      ``metric="zero_fraction"``: the fraction of entries that are exactly 0 lies within ``bounds``.
    - ``relations={"same": [[0, 1]], "different": [[0, 2]]}``: items of a returned list equal
      (or differ from) each other, e.g. same seed -> same draw, other seed -> other draw.
    """
    options = dict(rtol=float(ref.get("rtol", 1e-6)), atol=float(ref.get("atol", 1e-8)),
                   dtype=ref.get("dtype") or "number", array_like=bool(ref.get("array_like")),
                   parts=ref.get("parts"), show_actual=show_actual)
    bounds, metric, relations = ref.get("bounds"), ref.get("metric"), ref.get("relations")
    if bounds is None and metric is None and relations is None:
        return compare(value, ref["value"], **options)
    shown = (lambda text: f", got {text}") if show_actual else (lambda text: "")
    if metric is not None:
        if metric not in METRICS:
            return f"unknown metric {metric!r}"
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            return f"expected an array, got {_describe(value) if show_actual else _kind_of(value)}"
        if metric == "accuracy":
            target = ref.get("target")
            if not isinstance(target, np.ndarray):
                return "the reference has no target to score predictions against"
            if value.shape != target.shape:
                return f"expected predictions of shape {target.shape}" + shown(str(value.shape))
            if value.dtype.kind == "b" and target.dtype.kind != "b":
                return "expected predicted labels, got booleans"
            figure = float(np.mean(value == target)) if value.size else 0.0
        else:
            ref_value = ref.get("value")
            if isinstance(ref_value, np.ndarray) and value.shape != ref_value.shape:
                return f"expected an array of shape {ref_value.shape}" + shown(str(value.shape))
            figure = float(np.mean(value == 0)) if value.size else 0.0
        low, high = bounds if bounds is not None else (None, None)
        if (low is None or figure >= low) and (high is None or figure <= high):
            return None
        return f"expected the {metric.replace('_', ' ')} within {_bounds_text((low, high))}" + shown(f"{figure:.4f}")
    # Same kind and shape as the reference first; then bounds and relations instead of equality.
    wrong_kind = compare(value, ref["value"], **{**options, "rtol": np.inf, "atol": np.inf})
    if wrong_kind is not None:
        return wrong_kind
    if bounds is not None:
        per_item = bounds and isinstance(bounds[0], (list, tuple))
        items = list(zip(value, bounds)) if per_item and isinstance(value, list) else [(value, bounds)]
        if per_item and (not isinstance(value, list) or len(value) != len(bounds)):
            return f"expected a list of {len(bounds)} values"
        for i, (item, (low, high)) in enumerate(items):
            leaves = _numbers(item)
            label = _item_label(options["parts"], i) if per_item else ""
            if not leaves.size:
                return f"expected numbers{label}"
            if np.isnan(leaves).any() or (low is not None and leaves.min() < low) or (high is not None and leaves.max() > high):
                got = shown(f"{leaves.min():.4g}" if leaves.size == 1 else f"{leaves.min():.4g} to {leaves.max():.4g}")
                return f"expected {'the value' if leaves.size == 1 else 'every value'}{label} within {_bounds_text((low, high))}{got}"
    for kind in ("same", "different"):
        for pair in (relations or {}).get(kind, []):
            i, j = int(pair[0]), int(pair[1])
            if not isinstance(value, list) or max(i, j) >= len(value):
                return f"expected a list of at least {max(i, j) + 1} results"
            match = compare(value[i], value[j], **{**options, "show_actual": False}) is None
            if match != (kind == "same"):
                a, b = _item_label(options["parts"], i).strip() or f"result {i}", _item_label(options["parts"], j).strip() or f"result {j}"
                return f"expected {a} and {b} to be {'the same' if kind == 'same' else 'different'}"
    return None


def _item_label(parts: list[str] | None, i: int) -> str:
    return f" {parts[i]}" if parts and i < len(parts) else f" [{i}]"


def _as_bounds(bounds: Any) -> Any:
    """(low, high), or a list of them, as plain floats/None (they travel as JSON)."""
    def pair(b: Any) -> list[float | None]:
        low, high = b
        return [None if low is None else float(low), None if high is None else float(high)]
    if isinstance(bounds[0], (list, tuple)):
        return [pair(b) for b in bounds]
    return pair(bounds)


def _bounds_text(bounds: Any) -> str:
    low, high = bounds
    if low is None:
        return f"at most {high:g}"
    if high is None:
        return f"at least {low:g}"
    return f"[{low:g}, {high:g}]"


def _numbers(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).ravel()
    if isinstance(value, list):
        parts = [_numbers(v) for v in value]
        return np.concatenate(parts) if parts else np.zeros(0)
    if isinstance(value, dict):
        return _numbers(list(value.values()))
    return np.zeros(0)


def assert_close(actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, name: str = "result") -> None:
    """Assert two results match: same shape, values within ``atol + rtol * |expected|``.

    The message names the first problem: the shape, a nan/inf, or the largest error and where it is.
    """
    msg = compare(to_plain(actual), to_plain(expected), rtol, atol, array_like=True)
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


SECRET_ENV = "DLCOURSE_COHORT_SECRET"


def hidden_rng(seed: int) -> np.random.Generator:
    """The random generator for a hidden check's inputs.

    Without a cohort secret this is ``np.random.default_rng(seed)``: self-study and the public
    repository are unchanged. When an instructor grades with a secret (the grader passes
    ``DLCOURSE_COHORT_SECRET`` into the sandbox, for the solution's run and every submission
    alike), the inputs are drawn from (secret, seed): not the ones in the public repository,
    and the same on every run with that secret, so expected values still come from the
    reference run and grades stay exact.
    """
    return np.random.default_rng(hidden_seed(seed))


def hidden_seed(seed: int) -> int:
    """``seed`` itself without a cohort secret; with one, a seed derived from (secret, seed).
    For hidden inputs made by other generators (``torch.manual_seed(hidden_seed(7))``)."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        return int(seed)
    digest = hashlib.sha256(f"{secret}\0{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


class ChecksFailed(AssertionError):
    """Raised by ``Tests.done`` when a check failed. IPython shows one line, not a traceback:
    the table above already says what failed and why."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{self}\x1b[0m"]


def public_checks(folder: Path | None = None) -> dict[str, Any]:
    """The reference values of the public checks, from ``public_checks.json`` in ``folder``
    (default: the notebook's folder, which is the kernel's working directory). {} if absent."""
    global _public
    if folder is None and _public is not None:
        return _public
    path = Path(folder or os.getcwd()) / PUBLIC_CHECKS_FILE
    try:
        data = json.loads(path.read_text())
        table = {ex: {name: _decode_record(c) for name, c in checks.items()} for ex, checks in data["checks"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        table = {}
    if folder is None:
        _public = table
    return table


def _decode_record(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record, value=decode(record["value"]))
    if record.get("target") is not None:
        out["target"] = decode(record["target"])
    return out


class Tests:
    """The checks of one graded exercise; each check is worth its own points (partial credit).

    ``check(name, fn, expect)`` calls ``fn()``; pass a lambda so an error in your code fails
    that check only. ``fn`` returns data (arrays, numbers, strings, lists or dicts of them),
    never a comparison: the comparison is made by ``compare``, against the reference value.
    ``done()`` prints the report and raises if a check failed.
    """

    def __init__(self, exercise: str) -> None:
        self.exercise = exercise
        self.results: list[tuple[str, float, str | None]] = []
        self._names: set[str] = set()

    def check(self, name: str, fn: Callable[[], Any], expect: Any = _MISSING, *, points: float = 1.0,
              rtol: float = 1e-6, atol: float = 1e-8, dtype: str = "number", array_like: bool = False,
              parts: tuple[str, ...] | list[str] | None = None, bounds: Any = None,
              metric: str | None = None, target: Any = None,
              relations: dict[str, list[tuple[int, int]]] | None = None) -> bool:
        """Run one check. Returns True if it passed (or, in probe mode, if it produced a value).

        ``expect`` is the reference value written out (a literal, never computed from your code).
        ``dtype`` is the numeric dtype policy ("number", "float", "float64", "int", "exact");
        ``parts`` names the items of a returned tuple, for the messages.
        ``bounds``, ``metric`` (+ ``target``) and ``relations`` judge the value other than by
        equality, but still outside the learner's code: see ``judge``.
        """
        if metric is not None and (metric not in METRICS or bounds is None):
            raise ValueError(f"metric must be one of {METRICS} and needs bounds=(low, high)")
        if metric == "accuracy" and target is None:
            raise ValueError("metric='accuracy' needs target= (the true labels)")
        if bounds is not None:
            bounds = _as_bounds(bounds)
        if relations is not None:
            if set(relations) - {"same", "different"}:
                raise ValueError("relations takes the keys 'same' and 'different'")
            relations = {k: [[int(i), int(j)] for i, j in v] for k, v in relations.items()}
        if name in self._names:
            raise ValueError(f"check name {name!r} is used twice in {self.exercise!r}")
        if dtype not in DTYPE_POLICIES:
            raise ValueError(f"unknown dtype policy {dtype!r}; use one of {DTYPE_POLICIES}")
        self._names.add(name)
        parts = list(parts) if parts else None
        value, error, where = _MISSING, None, None
        try:
            value = to_plain(fn())
        except Exception as exc:  # the learner's code failed: that fails this check only
            error, where = _explain(exc), _learner_line(exc)
        extra = {"bounds": bounds, "metric": metric, "relations": relations}
        if metric is not None:
            extra["target"] = to_plain(target)
        if _probe_mode:
            return self._emit(name, value, error, where, points, rtol, atol, dtype, array_like, parts, extra)
        if error is None:
            ref = public_checks().get(self.exercise, {}).get(name)
            if ref is not None:
                # The grader's verdict, with the reference run's value, tolerances and policy.
                error = judge(value, ref)
            elif bounds is not None or relations is not None:
                error = judge(value, {"value": value, "rtol": rtol, "atol": atol, "dtype": dtype,
                                      "array_like": True, "parts": parts, **extra})
            elif expect is not _MISSING:
                # No reference file (a lesson being written): the literal, read leniently. A
                # callable expect is a legacy form; tests/test_lesson_standard.py rejects it.
                try:
                    expected = to_plain(expect() if callable(expect) else expect)
                except Exception as exc:
                    error = f"could not compute the expected value: {_explain(exc)}"
                else:
                    error = compare(value, expected, rtol, atol, dtype=dtype, array_like=True, parts=parts)
        self.results.append((name, points, error))
        return error is None

    def _emit(self, name: str, value: Any, error: str | None, where: int | None, points: float, rtol: float,
              atol: float, dtype: str, array_like: bool, parts: list[str] | None, extra: dict[str, Any]) -> bool:
        from IPython.display import display

        payload: dict[str, Any] = {"exercise": self.exercise, "check": name, "hidden": _hidden,
                                   "points": points, "rtol": rtol, "atol": atol, "dtype": dtype,
                                   "array_like": array_like, "parts": parts,
                                   "bounds": extra["bounds"], "metric": extra["metric"],
                                   "relations": extra["relations"]}
        if error is None:
            try:
                payload["value"] = encode(value)
                if extra["metric"] is not None:
                    payload["target"] = encode(extra["target"])
            except UnsupportedValue as exc:
                error = str(exc)
        if error is not None:
            payload["error"] = error[:2000]
            if where is not None:
                payload["error_line"] = where
        display({PROBE_MIME: payload}, raw=True)
        return error is None

    @property
    def score(self) -> float:
        return sum(p for _, p, err in self.results if err is None)

    @property
    def max_score(self) -> float:
        return sum(p for _, p, _ in self.results)

    def report(self, color: bool = True) -> str:
        """A compact table: PASS (green) or FAIL (red), points, and for a failure what differs."""
        green, red, dim, off = ("\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[0m") if color else ("",) * 4
        passed = sum(err is None for _, _, err in self.results)
        lines = [f"{self.exercise}: {passed}/{len(self.results)} checks passed, "
                 f"{self.score:g}/{self.max_score:g} points {dim}(hidden checks run when graded){off}"]
        for name, points, err in self.results:
            mark = f"{green}PASS{off}" if err is None else f"{red}FAIL{off}"
            lines.append(f"  {mark}  {points:>4g} pt  {name}")
            if err:
                lines.append(f"               {err}")
        return "\n".join(lines)

    def done(self) -> None:
        """Print the report; raise ChecksFailed if any check failed (so Validate flags it)."""
        if _probe_mode:
            return
        print(self.report())
        failed = [name for name, _, err in self.results if err is not None]
        if failed:
            raise ChecksFailed(f"{len(failed)} of {len(self.results)} check(s) failed in {self.exercise}")


def _is_learner_frame(filename: str) -> bool:
    # IPython names cell code "<ipython-input-...>" or /tmp/ipykernel_*/<hash>.py.
    return filename.startswith("<ipython-input") or "ipykernel_" in filename or filename.startswith("<cell")


def _learner_line(exc: BaseException) -> int | None:
    """The line number in the learner's own cell where the error was raised (the innermost one)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_learner_frame(f.filename)]
    return frames[-1].lineno if frames else None


def _explain(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not implemented yet (the cell still raises NotImplementedError)"
    if isinstance(exc, NameError) and getattr(exc, "name", None):
        return (f"{exc.name!r} is not defined: run your answer cell first (and the cells above it), "
                f"and check the spelling of the name")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_learner_frame(f.filename)]
    last = frames[-1] if frames else None
    where = f" (line {last.lineno}: {last.line})" if last and last.line else ""
    return f"raised {type(exc).__name__}: {exc}{where}"
