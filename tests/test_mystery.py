"""Do the labs' planted runs show the symptoms the lessons ask learners to diagnose?"""
import numpy as np

from dlcourse.mystery import (after_oversized_step, colleague_affine_backward, colleague_affine_forward,
                              colleague_evaluate, depth_networks, tiny_batch_runs)


def _grad_rms_at_first_layer(weights, act, act_grad):
    r = np.random.default_rng(0)
    h, zs = r.normal(size=(200, weights[0].shape[0])), []
    for W in weights:
        zs.append(h @ W)
        h = act(zs[-1])
    dh = r.normal(size=h.shape)
    for W, z in zip(weights[::-1], zs[::-1]):
        dh = (dh * act_grad(z)) @ W.T
    return float(np.sqrt(np.mean(dh ** 2)))


def test_depth_networks_vanish_in_the_documented_order():
    """Is B (sigmoid) far worse than A (ReLU, naive), and C (ReLU, He) about flat?"""
    nets = depth_networks(depth=20, width=128)
    assert set(nets) == {"A", "B", "C"}
    g = {k: _grad_rms_at_first_layer(*v) for k, v in nets.items()}
    assert g["B"] < 1e-8 < 1e-4 < g["A"] < 1e-2 and 0.3 < g["C"] < 3


def test_depth_networks_are_seeded():
    a, b = depth_networks(depth=2, width=8, seed=1), depth_networks(depth=2, width=8, seed=1)
    assert np.array_equal(a["A"][0][0], b["A"][0][0])
    assert not np.array_equal(a["A"][0][0], depth_networks(depth=2, width=8, seed=2)["A"][0][0])


def test_oversized_step_leaves_dead_units_in_every_layer():
    weights, biases = after_oversized_step()
    h = np.random.default_rng(0).normal(size=(300, 2))
    for W, b in zip(weights, biases):
        z = h @ W + b
        assert 0.2 < np.mean(np.all(z <= 0, axis=0)) < 0.8
        h = np.maximum(z, 0)


def test_colleague_affine_backward_has_its_two_bugs():
    """dx right, dW transposed, db averaged over the batch instead of summed."""
    r = np.random.default_rng(0)
    x, W, b, dout = r.normal(size=(4, 5)), r.normal(size=(5, 3)), r.normal(size=3), r.normal(size=(4, 3))
    out, cache = colleague_affine_forward(x, W, b)
    np.testing.assert_allclose(out, x @ W + b)
    dx, dW, db = colleague_affine_backward(dout, cache)
    np.testing.assert_allclose(dx, dout @ W.T)
    assert dW.shape == (3, 5)
    np.testing.assert_allclose(db, dout.sum(axis=0) / 4)


def test_colleague_evaluate_keeps_training_mode_on():
    class Model:
        def __init__(self):
            self.modes = []

        def loss(self, X, train=True):
            self.modes.append(train)
            return np.c_[X[:, 0], -X[:, 0]]

    m = Model()
    loss, acc = colleague_evaluate(m, np.array([[1.0], [-1.0]]), np.array([0, 1]))
    assert m.modes == [True] and acc == 1.0 and 0 < loss < 1


def test_tiny_batch_runs_show_the_two_sanity_check_failures():
    """A starts near log 3 and stays there, B starts near log 3 and overfits, C starts far above log 3."""
    runs = tiny_batch_runs(num_steps=300)
    assert abs(runs["A"][0] - np.log(3)) < 0.05 and runs["A"][-1] > 1.0
    assert abs(runs["B"][0] - np.log(3)) < 0.05 and runs["B"][-1] < 0.1
    assert runs["C"][0] > 10 * np.log(3)
