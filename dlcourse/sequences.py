"""Data for the sequence lesson: an offline text corpus, a sensor-like series, and what its labs call
as behaviour because reading the source would give the answer away (a colleague's forecasting
features; three recurrent networks behind the labels A, B, C).

    text = stdlib_corpus()                        # docstrings of Python's own standard library
    y = make_sensor_series(24 * 7 * 8, seed=0)    # eight weeks of an hourly, seasonal reading
    X, names = colleague_features(y)              # (T, k) features for predicting y[t], and their names
    net = gradient_lab_network("A")               # one of three untrained recurrent regressors
"""
from __future__ import annotations

import ast
import importlib.util
import string
from typing import Any

import numpy as np

# Modules whose docstrings are plain English prose; the list is fixed so the corpus is the same on
# every machine with the same Python version. Nothing is copied into the course: it is read at run time.
CORPUS_MODULES = (
    "argparse", "ast", "calendar", "collections", "configparser", "contextlib", "csv", "dataclasses",
    "datetime", "decimal", "difflib", "email.message", "enum", "fractions", "functools", "gettext",
    "heapq", "http.client", "inspect", "ipaddress", "json", "logging", "mailbox", "multiprocessing.pool",
    "optparse", "os", "pathlib", "pickle", "pydoc", "random", "shutil", "socket", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "turtle", "typing",
    "unittest.case", "urllib.parse", "uuid", "warnings", "zipfile",
)
_KEEP = set(string.ascii_letters + string.digits + string.punctuation + " \n")


def stdlib_corpus(modules: tuple[str, ...] = CORPUS_MODULES, max_chars: int | None = None) -> str:
    """Every docstring (module, class, function) of the given standard-library modules, as one string.

    Read from the installed Python's own source files, so it is offline and needs no download.
    Characters other than printable ASCII and newline are dropped (the vocabulary stays ~95 symbols);
    runs of blank lines collapse to one. Modules that are missing (a trimmed Python) are skipped.
    Returns a str of at most ``max_chars`` characters.
    """
    docs: list[str] = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        with open(spec.origin, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 40:  # one-liners like "Return self." teach little
                    docs.append("".join(c for c in doc if c in _KEEP).strip())
    text = "\n\n".join(d for d in docs if d)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    if not text:
        raise RuntimeError("no standard-library source files were found to read docstrings from")
    return text[:max_chars] if max_chars else text


def make_sensor_series(n_steps: int, period: int = 24, seed: int = 0) -> np.ndarray:
    """An hourly, temperature-like sensor reading: shape (n_steps,), float64.

    Daily cycle (``period`` steps) whose amplitude follows a weekly pattern, a slow drift, and
    AR(1) noise (today's weather persists for hours). The same seed gives the same series.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)
    week = 7 * period
    amplitude = 4.0 + 0.5 * np.sin(2 * np.pi * t / week)             # weekly: sunnier days swing more
    daily = amplitude * np.sin(2 * np.pi * (t - 6) / period)          # coldest around 6 in the morning
    drift = 2.0 * np.sin(2 * np.pi * t / (n_steps + 3 * week))        # a slow seasonal drift
    noise = np.zeros(n_steps)
    shocks = rng.normal(0.0, 0.45, n_steps)
    for i in range(1, n_steps):
        noise[i] = 0.85 * noise[i - 1] + shocks[i]
    return 15.0 + daily + drift + noise


def colleague_features(y: np.ndarray, period: int = 24) -> tuple[np.ndarray, list[str]]:
    """A colleague's features for predicting y[t] one step ahead (row t of X is for target y[t]).

    Inputs:
    - y: the series, shape (T,)
    Returns:
    - X: shape (T, 7) float64; rows whose features are undefined (the first ``period`` rows,
      and any row that needs a value outside the series) are nan
    - names: the 7 column names
    """
    y = np.asarray(y, dtype=np.float64)
    T = len(y)
    X = np.full((T, 7), np.nan)
    hour = np.arange(T) % period
    for t in range(period, T):
        X[t, 0] = y[t - 1]
        X[t, 1] = y[t - 2]
        X[t, 2] = y[t - period]
        X[t, 3] = np.sin(2 * np.pi * hour[t] / period)
        X[t, 4] = np.cos(2 * np.pi * hour[t] / period)
        X[t, 5] = y[t - period:t].mean()
        # The colleague "smoothed the noise away" with a window centred on t.
        X[t, 6] = y[t - 1:t + 2].mean() if t + 2 <= T else np.nan
    return X, ["lag_1", "lag_2", "lag_24", "hour_sin", "hour_cos", "mean_24", "smooth_3"]


# ----------------------------------------------------------------------------------------------
# The gradient lab's three networks. Which label is which architecture is the lab's question, so
# the mapping lives here rather than in the notebook.
# ----------------------------------------------------------------------------------------------
def _last_step_regressor(rnn: Any) -> Any:
    from torch import nn

    class LastStepRegressor(nn.Module):
        """A recurrent layer (batch_first) and a linear read-out of its last output: (N, T, D) -> (N,)."""

        def __init__(self) -> None:
            super().__init__()
            self.rnn, self.head = rnn, nn.Linear(rnn.hidden_size, 1)

        def forward(self, X: Any) -> Any:
            out, _ = self.rnn(X)
            return self.head(out[:, -1]).squeeze(-1)

    return LastStepRegressor()


def _make_recurrent(kind: str, input_size: int, hidden: int, seed: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    if kind == "lstm":
        rnn = nn.LSTM(input_size, hidden, batch_first=True)
        with torch.no_grad():  # forget gates start open (bias +3, sigmoid 0.95): a common initialisation
            rnn.bias_ih_l0[hidden:2 * hidden] = 3.0
            rnn.bias_hh_l0[hidden:2 * hidden] = 0.0
    elif kind == "relu_identity":
        rnn = nn.RNN(input_size, hidden, batch_first=True, nonlinearity="relu")
        with torch.no_grad():  # recurrent weights 1.05 * I: every step keeps, and grows, its state
            rnn.weight_hh_l0.copy_(1.05 * torch.eye(hidden))
            rnn.bias_hh_l0.zero_()
    elif kind == "tanh":
        rnn = nn.RNN(input_size, hidden, batch_first=True)  # PyTorch's default initialisation
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return _last_step_regressor(rnn)


_LAB_KINDS = {"A": "relu_identity", "B": "lstm", "C": "tanh"}


def gradient_lab_network(label: str, input_size: int = 2, hidden: int = 64, seed: int = 0) -> Any:
    """One of the lab's three untrained networks, "A", "B" or "C": a vanilla tanh RNN, a ReLU RNN
    whose recurrent weights start at 1.05 * I, and an LSTM with open forget gates, in an order the
    lab does not say. Each maps X (N, T, input_size) to one prediction per sequence (N,) from its
    last step. The same seed gives the same weights.
    """
    if label not in _LAB_KINDS:
        raise ValueError(f"label must be one of {sorted(_LAB_KINDS)}, got {label!r}")
    return _make_recurrent(_LAB_KINDS[label], input_size, hidden, seed)


def blind_labels(items: list[Any], letters: str, seed: int = 0) -> dict[str, Any]:
    """Give each item a letter, in a shuffled order: {letter: item}.

    A lab shows results under the letters and asks which is which; the seed fixes the order so the
    answer is the same on every machine (printing the dict shows it: the point is not to see it
    before deciding).
    """
    if len(items) != len(letters):
        raise ValueError(f"{len(items)} items but {len(letters)} letters")
    order = np.random.default_rng(seed).permutation(len(items))
    return {letter: items[i] for letter, i in zip(letters, order)}
