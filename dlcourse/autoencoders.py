"""Autoencoders for lesson 08: small MLP models, their training calls, the anomaly split and the lab's runs.

    from dlcourse.autoencoders import AutoEncoder, train_autoencoder
    model = AutoEncoder(n_in=64, code_size=8)
    history = train_autoencoder(model, X_train, X_val, num_epochs=30)   # X: (N, D) floats in [0, 1]

The VAE's loss pieces (the KL term, the sampling step, the ELBO) are the lesson's exercises, so
nothing here computes them: ``train_vae`` takes them as arguments and calls yours.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from dlcourse.data import make_loader
from dlcourse.train import History, fit


def _flat(X: torch.Tensor) -> torch.Tensor:
    return X.reshape(len(X), -1)


class AutoEncoder(nn.Module):
    """MLP autoencoder: (N, n_in) -> code (N, code_size) -> reconstruction (N, n_in) in (0, 1).

    ``noise`` (any module, e.g. one that corrupts its input in training mode only) is applied to the
    input before the encoder; the loss still compares the output with the clean input, which makes a
    denoising autoencoder. Inputs of any shape (N, ...) are flattened.
    """

    def __init__(self, n_in: int, code_size: int, hidden: int = 64, noise: nn.Module | None = None) -> None:
        super().__init__()
        self.noise = noise if noise is not None else nn.Identity()
        self.encoder = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, code_size))
        # Sigmoid output: pixels live in [0, 1].
        self.decoder = nn.Sequential(nn.Linear(code_size, hidden), nn.ReLU(), nn.Linear(hidden, n_in), nn.Sigmoid())

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """(N, ...) -> codes (N, code_size); no noise is added here."""
        return self.encoder(_flat(X))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(self.noise(_flat(X))))


def train_autoencoder(model: nn.Module, X_train: np.ndarray, X_val: np.ndarray | None, num_epochs: int,
                      lr: float = 3e-3, batch_size: int = 64, seed: int = 0, device: str | torch.device | None = None,
                      weight_decay: float = 0.0) -> History:
    """Train ``model`` to reproduce its input (MSE, Adam) with the course loop ``dlcourse.train.fit``.

    Inputs:
    - X_train: (N, D) float array; X_val: (M, D) or None (validation MSE on clean inputs)
    Returns:
    - History (train_loss, val_loss per epoch); the model ends with its best validation epoch
    """
    X_train = _flat(torch.as_tensor(X_train, dtype=torch.float32))
    train_loader = make_loader(X_train, X_train, batch_size=batch_size, shuffle=True, seed=seed)
    val_loader = None
    if X_val is not None:
        X_val = _flat(torch.as_tensor(X_val, dtype=torch.float32))
        val_loader = make_loader(X_val, X_val, batch_size=1024)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return fit(model, train_loader, val_loader, nn.MSELoss(), opt, num_epochs, device=device, progress=False)


# ----------------------------------------------------------------------------------------
# Variational autoencoder.
# ----------------------------------------------------------------------------------------
class VAE(nn.Module):
    """MLP VAE. Encoder: (N, n_in) -> (mu, logvar), each (N, latent_dim); decoder: z -> pixel logits (N, n_in).

    The decoder outputs logits, not probabilities: the reconstruction term is a Bernoulli
    log-likelihood, computed stably from logits (binary cross-entropy with logits).
    """

    def __init__(self, n_in: int, latent_dim: int = 2, hidden: int = 128) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_in))

    def encode(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, ...) -> (mu, logvar), each (N, latent_dim)."""
        h = self.body(_flat(X))
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> pixel logits (N, n_in); torch.sigmoid of them is the image."""
        return self.decoder(z)


@dataclass
class VAEHistory:
    """Per-epoch means of one VAE run: training loss, and validation reconstruction and KL per example."""

    train_loss: list[float] = field(default_factory=list)
    val_recon: list[float] = field(default_factory=list)
    val_kl: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.train_loss:
            return "0 epochs"
        return (f"{len(self.train_loss)} epochs: train loss {self.train_loss[-1]:.2f}, "
                f"val reconstruction {self.val_recon[-1]:.2f}, val KL {self.val_kl[-1]:.2f} per example")


def train_vae(model: VAE, X_train: np.ndarray, X_val: np.ndarray, kl_fn: Callable, sample_fn: Callable,
              loss_fn: Callable, num_epochs: int, beta: float = 1.0, lr: float = 3e-3, batch_size: int = 64,
              seed: int = 0, device: str | torch.device | None = None) -> VAEHistory:
    """Train a VAE with YOUR loss pieces, and record the validation terms after each epoch.

    Inputs:
    - X_train, X_val: (N, D) float arrays in [0, 1]
    - kl_fn(mu, logvar) -> (B,) KL per example; sample_fn(mu, logvar) -> z (B, latent_dim)
    - loss_fn(x_logits, x, kl, beta) -> dict with "loss", "recon", "kl" (0-d tensors, batch means)
    - beta: weight of the KL term
    Returns:
    - VAEHistory; the validation terms use the posterior mean z = mu (no sampling noise)
    """
    from dlcourse.env import get_device

    device = get_device() if device is None else torch.device(device)
    model.to(device)
    X_train = _flat(torch.as_tensor(X_train, dtype=torch.float32))
    X_val = _flat(torch.as_tensor(X_val, dtype=torch.float32)).to(device)
    loader = make_loader(X_train, torch.zeros(len(X_train)), batch_size=batch_size, shuffle=True, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = VAEHistory()
    for _ in range(num_epochs):
        start = time.perf_counter()
        model.train()
        losses = []
        for X, _ in loader:
            X = X.to(device, non_blocking=True)
            mu, logvar = model.encode(X)
            terms = loss_fn(model.decode(sample_fn(mu, logvar)), X, kl_fn(mu, logvar), beta)
            opt.zero_grad(set_to_none=True)
            terms["loss"].backward()
            opt.step()
            losses.append(terms["loss"].detach())
        model.eval()
        with torch.no_grad():
            mu, logvar = model.encode(X_val)
            terms = loss_fn(model.decode(mu), X_val, kl_fn(mu, logvar), beta)
        history.train_loss.append(float(torch.stack(losses).mean()))
        history.val_recon.append(float(terms["recon"]))
        history.val_kl.append(float(terms["kl"]))
        history.seconds.append(time.perf_counter() - start)
    return history


# A colleague's three runs for the lab. What differs between them is for you to find out from what
# they do, so the notebook does not print these settings.
_LAB_RUNS = {"A": dict(beta=1.0, lr=3e-3), "B": dict(beta=1.0, lr=1e-4), "C": dict(beta=40.0, lr=3e-3)}


def lab_vae_runs(X_train: np.ndarray, X_val: np.ndarray, kl_fn: Callable, sample_fn: Callable, loss_fn: Callable,
                 num_epochs: int, latent_dim: int = 8, batch_size: int = 64, seed: int = 0,
                 device: str | torch.device | None = None) -> dict[str, tuple[VAE, VAEHistory]]:
    """Three VAE runs "A", "B", "C" of the same model size on the same data, trained with your loss pieces.

    Returns:
    - run name -> (trained VAE, VAEHistory)
    """
    runs = {}
    for name, settings in _LAB_RUNS.items():
        torch.manual_seed(seed)
        model = VAE(_flat(torch.as_tensor(X_train[:1])).shape[1], latent_dim=latent_dim)
        runs[name] = (model, train_vae(model, X_train, X_val, kl_fn, sample_fn, loss_fn, num_epochs,
                                       batch_size=batch_size, seed=seed, device=device, **settings))
    return runs


# ----------------------------------------------------------------------------------------
# Anomaly detection data.
# ----------------------------------------------------------------------------------------
@dataclass
class AnomalySplit:
    """Train on normal data only; validate and test on a mix. ``a_*`` is 1 for an anomaly, 0 for normal.

    - X_train: (N_train, ...) normal examples only (the anomalous classes' training rows are dropped)
    - X_val, a_val, y_val: held out from the training split, classes as they come (for choices)
    - X_test, a_test, y_test: the test split, untouched (for the one final report)
    """

    X_train: np.ndarray
    X_val: np.ndarray
    a_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    a_test: np.ndarray
    y_test: np.ndarray
    anomaly_classes: tuple[int, ...]

    def __str__(self) -> str:
        return (f"train: {len(self.X_train)} normal | validation: {len(self.a_val)} "
                f"({int(self.a_val.sum())} anomalies, {self.a_val.mean():.1%}) | test: {len(self.a_test)} "
                f"({int(self.a_test.sum())} anomalies, {self.a_test.mean():.1%}) | anomalies are class(es) "
                f"{list(self.anomaly_classes)}")


def anomaly_split(X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
                  anomaly_classes: tuple[int, ...] = (7,), val_fraction: float = 0.25, seed: int = 0) -> AnomalySplit:
    """Split a labelled dataset for anomaly detection (see AnomalySplit). Seeded, so every run is the same.

    The validation rows are a random ``val_fraction`` of the training split; of the rest, only the
    normal classes are kept for training.
    """
    order = np.random.default_rng(seed).permutation(len(y_train))
    n_val = int(round(len(y_train) * val_fraction))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    is_anomaly = np.isin(y_train, anomaly_classes)
    train = train[~is_anomaly[train]]
    return AnomalySplit(X_train[train], X_train[val], is_anomaly[val].astype(np.int64), y_train[val],
                        X_test, np.isin(y_test, anomaly_classes).astype(np.int64), y_test,
                        tuple(int(c) for c in anomaly_classes))
