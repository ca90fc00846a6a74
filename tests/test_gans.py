"""Do the GAN helpers sample, build, train and count what they say?"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.gans import (GANRun, dcgan_discriminator, dcgan_generator, failure_lab, gradient_arrivals,
                           mlp_discriminator, mlp_generator, ring_centers, sample_ring, smooth, train_gan)


def _step(G, D, opt_G, opt_D, x_real, z, penalty=None):
    """A plain non-saturating step, for the tests only (the lesson's learners write their own)."""
    bce = F.binary_cross_entropy_with_logits
    fake = G(z)
    opt_D.zero_grad()
    lr, lf = D(x_real), D(fake.detach())
    loss_D = bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf))
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real)
    loss_D.backward()
    opt_D.step()
    opt_G.zero_grad()
    lf = D(fake)
    loss_G = bce(lf, torch.ones_like(lf))
    loss_G.backward()
    opt_G.step()
    return loss_D.item(), loss_G.item()


def test_ring_centers_lie_on_the_circle():
    """Are the centres evenly spaced on a circle of the given radius?"""
    c = ring_centers(8, 2.0)
    assert c.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(c, axis=1), 2.0)
    np.testing.assert_allclose(c[0], [2.0, 0.0], atol=1e-12)


def test_sample_ring_is_seeded_and_scaled():
    """Same generator seed, same samples; another seed, others; scale multiplies everything."""
    a = sample_ring(500, torch.Generator().manual_seed(0))
    b = sample_ring(500, torch.Generator().manual_seed(0))
    c = sample_ring(500, torch.Generator().manual_seed(1))
    big = sample_ring(500, torch.Generator().manual_seed(0), scale=10.0)
    assert a.shape == (500, 2) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    torch.testing.assert_close(big, 10 * a)
    d = np.linalg.norm(a.numpy()[:, None] - ring_centers()[None], axis=2).min(axis=1)
    assert d.max() < 0.05 * 6  # every sample within 6 std of a centre


@pytest.mark.parametrize("size", [8, 28])
def test_dcgan_shapes(size):
    """Do the DCGAN models map z to images of the asked size in [-1, 1], and images to one logit?"""
    G, D = dcgan_generator(16, size, width=8), dcgan_discriminator(size, width=8)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, size, size)
    assert x.abs().max() <= 1
    assert D(x).shape == (5, 1)
    with pytest.raises(ValueError):
        dcgan_generator(16, 10)


def test_mlp_shapes():
    assert mlp_generator(3, 16)(torch.randn(4, 3)).shape == (4, 2)
    assert mlp_discriminator(2, 16)(torch.randn(4, 2)).shape == (4, 1)


def test_train_gan_calls_the_step_and_is_reproducible():
    """Does train_gan call the step once per iteration, keep snapshots, and repeat itself for a seed?"""
    calls = []

    def step(G, D, opt_G, opt_D, x_real, z, **kwargs):
        calls.append((x_real.shape, z.shape, kwargs))
        return _step(G, D, opt_G, opt_D, x_real, z, **kwargs)

    real = lambda n, g: sample_ring(n, g)
    run = train_gan(step, mlp_generator, mlp_discriminator, real, num_steps=20, z_dim=2, batch_size=32, seed=3,
                    snapshot_every=10, n_snapshot=50)
    assert isinstance(run, GANRun) and len(calls) == 20 and len(run.loss_D) == len(run.loss_G) == 20
    assert calls[0][:2] == (torch.Size([32, 2]), torch.Size([32, 2]))
    assert sorted(run.snapshots) == [0, 10, 20] and run.samples.shape == (50, 2)
    again = train_gan(_step, mlp_generator, mlp_discriminator, real, num_steps=20, z_dim=2, batch_size=32, seed=3,
                      snapshot_every=10, n_snapshot=50)
    other = train_gan(_step, mlp_generator, mlp_discriminator, real, num_steps=20, z_dim=2, batch_size=32, seed=4,
                      snapshot_every=10, n_snapshot=50)
    np.testing.assert_array_equal(run.samples, again.samples)
    assert run.loss_D == again.loss_D
    assert not np.array_equal(run.samples, other.samples)


def test_train_gan_passes_step_kwargs():
    seen = []

    def step(G, D, opt_G, opt_D, x_real, z, penalty=None):
        seen.append(penalty)
        return 0.0, 0.0

    train_gan(step, mlp_generator, mlp_discriminator, lambda n, g: sample_ring(n, g), num_steps=2, z_dim=2,
              penalty="p")
    assert seen == ["p", "p"]


def test_gradient_arrivals_counts_backward_passes():
    """Does it count one arrival per backward pass through a parameter, and remove its hooks?"""
    a, b = nn.Linear(2, 2), nn.Linear(2, 1)
    x = torch.randn(3, 2)

    def two_passes():
        h = a(x)
        b(h.detach()).sum().backward()   # reaches b only
        b(a(x)).sum().backward()         # reaches both

    counts = gradient_arrivals(two_passes, a=a, b=b)
    assert counts == {"a": [1, 1], "b": [2, 2]}
    b(a(x)).sum().backward()  # hooks are gone: nothing more is counted
    assert counts == {"a": [1, 1], "b": [2, 2]}


def test_smooth():
    np.testing.assert_allclose(smooth([1, 2, 3, 4], window=2), [1.5, 2.5, 3.5])
    assert len(smooth([1.0], window=25)) == 1


def test_failure_lab_runs_and_applies_fixes():
    """Does the lab train each named run with the step, record the data scale and apply fixes?"""
    runs = failure_lab(_step, num_steps=8)
    assert sorted(runs) == ["A", "B", "C"]
    assert {name: run.scale for name, run in runs.items()} == {"A": 1.0, "B": 1.0, "C": 10.0}
    assert all(len(run.loss_D) == 8 for run in runs.values())
    fixed = failure_lab(_step, num_steps=8, fixes={"C": {"standardise": True}, "A": {"lr_scale": 0.1}}, only=["A", "C"])
    assert sorted(fixed) == ["A", "C"] and fixed["C"].scale == 1.0
    assert not np.array_equal(fixed["A"].samples, runs["A"].samples)
