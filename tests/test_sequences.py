"""Are the sequence lesson's data helpers offline, reproducible and what the lesson says they are?"""
from __future__ import annotations

import numpy as np
import pytest

from dlcourse.sequences import CORPUS_MODULES, colleague_features, make_sensor_series, stdlib_corpus


def test_corpus_is_read_from_the_installed_standard_library():
    """Is the corpus real prose from this Python's own docstrings, in a small fixed alphabet?"""
    import argparse

    text = stdlib_corpus(modules=("argparse",))
    assert argparse.__doc__.strip().splitlines()[0] in text
    assert set(text) <= set("".join(chr(i) for i in range(32, 127)) + "\n")
    assert "\n\n\n" not in text


def test_corpus_is_the_same_every_time_and_respects_max_chars():
    a, b = stdlib_corpus(max_chars=5000), stdlib_corpus(max_chars=5000)
    assert a == b and len(a) == 5000
    assert len(stdlib_corpus()) > 200_000  # the full profile has room to scale up


def test_corpus_skips_missing_modules_and_fails_loudly_when_nothing_is_there():
    assert stdlib_corpus(modules=("no_such_module_here", "textwrap")) == stdlib_corpus(modules=("textwrap",))
    with pytest.raises(RuntimeError, match="no standard-library source"):
        stdlib_corpus(modules=("no_such_module_here",))
    assert "textwrap" in CORPUS_MODULES


def test_sensor_series_is_seeded_and_seasonal():
    """Same seed, same series; another seed, another; a clear daily cycle (lag-24 autocorrelation)."""
    y = make_sensor_series(24 * 7 * 4, seed=0)
    assert y.shape == (672,) and y.dtype == np.float64
    np.testing.assert_array_equal(y, make_sensor_series(672, seed=0))
    assert not np.allclose(y, make_sensor_series(672, seed=1))
    z = y - y.mean()
    lag24 = (z[24:] * z[:-24]).sum() / (z * z).sum()
    lag12 = (z[12:] * z[:-12]).sum() / (z * z).sum()
    assert lag24 > 0.7 and lag12 < -0.3


def test_colleague_features_leak_exactly_one_column():
    """Does only 'smooth_3' read y[t] or later (the lab's answer), and are the others honest?"""
    y = make_sensor_series(24 * 7, seed=3)
    X, names = colleague_features(y)
    assert X.shape == (len(y), len(names)) and len(set(names)) == len(names)
    assert np.isnan(X[:24]).all() and not np.isnan(X[24:-1]).any()
    t = 100
    y2 = y.copy()
    y2[t:] += np.arange(1.0, len(y) - t + 1.0)
    X2, _ = colleague_features(y2)
    changed = [n for n, a, b in zip(names, X[t], X2[t]) if not np.isclose(a, b)]
    assert changed == ["smooth_3"]
    np.testing.assert_allclose(X[t, names.index("lag_24")], y[t - 24])
    np.testing.assert_allclose(X[t, names.index("smooth_3")], y[t - 1:t + 2].mean())


def test_gradient_lab_networks_are_three_different_seeded_architectures():
    """Are A, B, C a ReLU identity RNN, an LSTM and a tanh RNN, reproducible from the seed?"""
    import torch

    from dlcourse.sequences import gradient_lab_network

    nets = {label: gradient_lab_network(label, hidden=8) for label in "ABC"}
    assert {type(n.rnn).__name__ for n in nets.values()} == {"RNN", "LSTM"}
    assert nets["A"].rnn.nonlinearity == "relu" and nets["C"].rnn.nonlinearity == "tanh"
    torch.testing.assert_close(nets["A"].rnn.weight_hh_l0, 1.05 * torch.eye(8))
    assert torch.all(nets["B"].rnn.bias_ih_l0[8:16] == 3.0)
    X = torch.rand(4, 5, 2)
    assert nets["B"](X).shape == (4,)
    again = gradient_lab_network("C", hidden=8)
    torch.testing.assert_close(again(X), nets["C"](X))
    other = gradient_lab_network("C", hidden=8, seed=1)
    assert not torch.allclose(other(X), nets["C"](X))
    with pytest.raises(ValueError, match="label must be one of"):
        gradient_lab_network("D")


def test_blind_labels_shuffle_reproducibly():
    from dlcourse.sequences import blind_labels

    got = blind_labels([10, 20, 30], "XYZ", seed=0)
    assert sorted(got) == ["X", "Y", "Z"] and sorted(got.values()) == [10, 20, 30]
    assert got == blind_labels([10, 20, 30], "XYZ", seed=0)
    assert len({tuple(blind_labels([1, 2, 3, 4], "ABCD", seed=s).values()) for s in range(10)}) > 1
    with pytest.raises(ValueError, match="3 items but 2 letters"):
        blind_labels([1, 2, 3], "AB")
