"""Do the lesson-08 helpers build the models, train them with the learner's functions, and split
anomaly data without leaking anomalies into training?"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.autoencoders import (VAE, AnomalySplit, AutoEncoder, VAEHistory, anomaly_split, lab_vae_runs,
                                   train_autoencoder, train_vae)


def _kl(mu, logvar):
    return 0.5 * (logvar.exp() + mu ** 2 - 1.0 - logvar).sum(dim=-1)


def _sample(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def _loss(x_logits, x, kl, beta=1.0):
    recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=1)
    return {"loss": (recon + beta * kl).mean(), "recon": recon.mean(), "kl": kl.mean()}


def _data(n=120, d=16, seed=0):
    """Two prototypes plus noise, in [0, 1]: something an autoencoder can learn in a few epochs."""
    r = np.random.default_rng(seed)
    protos = r.random((2, d))
    X = protos[r.integers(0, 2, n)] + 0.05 * r.normal(size=(n, d))
    return np.clip(X, 0, 1).astype(np.float32)


def test_autoencoder_shapes_and_range():
    """Does the autoencoder flatten images, squeeze to the code size and output pixels in (0, 1)?"""
    model = AutoEncoder(n_in=64, code_size=3, hidden=8)
    X = torch.rand(5, 1, 8, 8)
    out = model(X)
    assert out.shape == (5, 64)
    assert ((out > 0) & (out < 1)).all()
    assert model.encode(X).shape == (5, 3)


def test_autoencoder_noise_applies_only_in_forward():
    """Is the noise module applied to the input of forward, and never in encode?"""
    class AddOne(nn.Module):
        def forward(self, x):
            return x + 1.0

    torch.manual_seed(0)
    noisy = AutoEncoder(4, 2, hidden=4, noise=AddOne())
    plain = AutoEncoder(4, 2, hidden=4)
    plain.load_state_dict(noisy.state_dict())
    X = torch.rand(3, 4)
    assert torch.allclose(noisy(X), plain(X + 1.0))
    assert torch.allclose(noisy.encode(X), plain.encode(X))


def test_train_autoencoder_learns_and_is_seeded():
    """Does training lower the validation error, and give the same run for the same seed?"""
    X = _data()
    histories = []
    for _ in range(2):
        torch.manual_seed(0)
        model = AutoEncoder(16, 2, hidden=16)
        histories.append(train_autoencoder(model, X[:100], X[100:], num_epochs=20, lr=1e-2, seed=0, device="cpu"))
    h = histories[0]
    assert len(h.train_loss) == len(h.val_loss) == 20
    assert h.val_loss[-1] < 0.5 * h.val_loss[0]
    assert histories[0].val_loss == histories[1].val_loss


def test_vae_shapes():
    vae = VAE(n_in=10, latent_dim=3, hidden=7)
    mu, logvar = vae.encode(torch.rand(4, 10))
    assert mu.shape == logvar.shape == (4, 3)
    assert vae.decode(mu).shape == (4, 10)


def test_train_vae_calls_the_given_functions_and_learns():
    """Does train_vae train with the functions it is handed, and record per-epoch validation terms?"""
    calls = {"kl": 0, "sample": 0, "loss": 0}

    def kl(mu, logvar):
        calls["kl"] += 1
        return _kl(mu, logvar)

    def sample(mu, logvar):
        calls["sample"] += 1
        return _sample(mu, logvar)

    def loss(*args):
        calls["loss"] += 1
        return _loss(*args)

    X = _data()
    torch.manual_seed(0)
    vae = VAE(16, latent_dim=2, hidden=16)
    history = train_vae(vae, X[:96], X[96:], kl, sample, loss, num_epochs=6, batch_size=32, device="cpu")
    assert isinstance(history, VAEHistory)
    assert len(history.train_loss) == len(history.val_recon) == len(history.val_kl) == 6
    # 3 batches per epoch, plus one validation pass (which does not sample).
    assert calls == {"kl": 6 * 4, "sample": 6 * 3, "loss": 6 * 4}
    assert history.val_recon[-1] < history.val_recon[0]
    assert "6 epochs" in str(history)


def test_lab_runs_are_seeded_and_one_collapses():
    """Are the lab's runs reproducible, and does the heavily weighted KL run lose its code?"""
    X = _data(n=200, d=16)
    runs = [lab_vae_runs(X[:160], X[160:], _kl, _sample, _loss, num_epochs=6, latent_dim=4, device="cpu")
            for _ in range(2)]
    assert sorted(runs[0]) == ["A", "B", "C"]
    for name in "ABC":
        assert runs[0][name][1].val_recon == runs[1][name][1].val_recon
    assert runs[0]["C"][1].val_kl[-1] < 0.1 * runs[0]["A"][1].val_kl[-1]


def _labelled(n, seed):
    r = np.random.default_rng(seed)
    return r.random((n, 5)).astype(np.float32), r.integers(0, 10, n)


def test_anomaly_split_keeps_anomalies_out_of_training():
    """Is training data normal only, with validation and test labelled, and is the split seeded?"""
    X_train, y_train = _labelled(400, 1)
    X_test, y_test = _labelled(100, 2)
    split = anomaly_split(X_train, y_train, X_test, y_test, anomaly_classes=(7, 3), val_fraction=0.25, seed=0)
    assert isinstance(split, AnomalySplit)
    assert len(split.a_val) == 100 and len(split.X_val) == 100
    np.testing.assert_array_equal(split.a_val, np.isin(split.y_val, (7, 3)))
    np.testing.assert_array_equal(split.a_test, np.isin(y_test, (7, 3)))
    np.testing.assert_array_equal(split.X_test, X_test)
    # Training rows: every normal row not in validation, and no anomaly.
    train_rows = {tuple(x) for x in split.X_train}
    val_rows = {tuple(x) for x in split.X_val}
    assert not train_rows & val_rows
    normal = {tuple(x) for x, y in zip(X_train, y_train) if y not in (7, 3)}
    assert train_rows == normal - val_rows
    again = anomaly_split(X_train, y_train, X_test, y_test, anomaly_classes=(7, 3), seed=0)
    np.testing.assert_array_equal(again.X_val, split.X_val)
    other = anomaly_split(X_train, y_train, X_test, y_test, anomaly_classes=(7, 3), seed=1)
    assert not np.array_equal(other.X_val, split.X_val)
    assert "anomalies" in str(split)


@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_anomaly_split_sizes(fraction):
    X, y = _labelled(50, 3)
    split = anomaly_split(X, y, X[:10], y[:10], val_fraction=fraction, seed=0)
    assert len(split.X_val) == round(50 * fraction)
    assert len(split.X_train) == int(np.sum(y != 7)) - int(np.sum(split.y_val != 7))
