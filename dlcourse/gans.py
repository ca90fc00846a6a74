"""GAN helpers: a 2-D ring of Gaussians, small generators and discriminators, a training loop
that calls *your* step function, and the runs of lesson 09's failure-mode lab.

    from dlcourse.gans import ring_centers, sample_ring, mlp_generator, mlp_discriminator, train_gan
    run = train_gan(train_step, mlp_generator(), mlp_discriminator(), lambda n, g: sample_ring(n, g),
                    num_steps=1000, z_dim=2, lr_G=1e-3, lr_D=4e-3, seed=0, snapshot_every=250)
    run.loss_D, run.loss_G      # one float per step
    run.snapshots               # {step: samples (n_snapshot, 2)} from one fixed batch of z

The loop never computes a GAN loss itself: the step function you pass does (the lesson's
exercise), so nothing here gives that exercise away.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

# Step function: (G, D, opt_G, opt_D, x_real, z, **kwargs) -> (loss_D, loss_G) as floats.
StepFn = Callable[..., tuple[float, float]]


# ----------------------------------------------------------------------------------------
# The toy: 8 Gaussians on a ring.
# ----------------------------------------------------------------------------------------
def ring_centers(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """Centres of the mixture, evenly spaced on a circle: (num_modes, 2) float64."""
    angle = 2 * np.pi * np.arange(num_modes) / num_modes
    return radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def sample_ring(n: int, generator: torch.Generator, num_modes: int = 8, radius: float = 2.0,
                std: float = 0.05, scale: float = 1.0) -> torch.Tensor:
    """n samples of the ring mixture (each mode equally likely): (n, 2) float32.

    ``scale`` multiplies everything (centres and spread): the same data in other units.
    """
    centers = torch.as_tensor(ring_centers(num_modes, radius), dtype=torch.float32)
    which = torch.randint(0, num_modes, (n,), generator=generator)
    return scale * (centers[which] + std * torch.randn(n, 2, generator=generator))


def mlp_generator(z_dim: int = 2, width: int = 64, out_dim: int = 2) -> nn.Sequential:
    """z (B, z_dim) -> x (B, out_dim): two hidden ReLU layers, linear output."""
    return nn.Sequential(nn.Linear(z_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                         nn.Linear(width, out_dim))


def mlp_discriminator(in_dim: int = 2, width: int = 64) -> nn.Sequential:
    """x (B, in_dim) -> logit (B, 1): two hidden LeakyReLU(0.2) layers. No sigmoid: losses take logits."""
    return nn.Sequential(nn.Linear(in_dim, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, 1))


# ----------------------------------------------------------------------------------------
# DCGAN-style image models, for 8x8 digits or 28x28 MNIST.
# ----------------------------------------------------------------------------------------
def dcgan_generator(z_dim: int, image_size: int, channels: int = 1, width: int = 32) -> nn.Sequential:
    """z (B, z_dim) -> images (B, channels, image_size, image_size) in [-1, 1].

    A linear layer makes a (2 * width, s, s) map with s = image_size / 4; two stride-2 transposed
    convolutions double it twice. BatchNorm + ReLU between, tanh at the end (as in DCGAN).
    """
    if image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4, got {image_size}")
    s = image_size // 4
    return nn.Sequential(
        nn.Linear(z_dim, 2 * width * s * s, bias=False), nn.Unflatten(1, (2 * width, s, s)),
        nn.BatchNorm2d(2 * width), nn.ReLU(),
        nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
        nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1), nn.Tanh(),
    )


def dcgan_discriminator(image_size: int, channels: int = 1, width: int = 32) -> nn.Sequential:
    """images (B, channels, image_size, image_size) -> logit (B, 1).

    Two stride-2 convolutions with LeakyReLU(0.2); batch norm after the second (not the first), as
    in DCGAN. Because of that batch norm, what else is in a batch changes each image's logit.
    """
    s = image_size // 4
    return nn.Sequential(
        nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * width),
        nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(2 * width * s * s, 1),
    )


# ----------------------------------------------------------------------------------------
# Training loop and diagnostics.
# ----------------------------------------------------------------------------------------
@dataclass
class GANRun:
    """What happened in ``train_gan``: per-step losses, sample snapshots, the final models."""

    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    G: Any = None
    D: Any = None
    seconds: float = 0.0

    @property
    def samples(self) -> np.ndarray:
        """The last snapshot: (n_snapshot, ...) float32."""
        return self.snapshots[max(self.snapshots)]


def train_gan(step: StepFn, G: nn.Module, D: nn.Module, sample_real: Callable[[int, torch.Generator], torch.Tensor],
              num_steps: int, z_dim: int, lr_G: float = 1e-3, lr_D: float = 1e-3, batch_size: int = 128,
              seed: int = 0, snapshot_every: int = 0, n_snapshot: int = 1000, device: Any = "cpu",
              **step_kwargs: Any) -> GANRun:
    """Train a GAN by calling ``step`` once per iteration; Adam with betas (0.5, 0.999) for both.

    Inputs:
    - step: your step function, (G, D, opt_G, opt_D, x_real, z, **step_kwargs) -> (loss_D, loss_G)
    - G, D: generator z (B, z_dim) -> x, discriminator x -> logit (B, 1); seeded by ``seed`` first
      if they are callables returning a module (so each seed gets its own initialisation)
    - sample_real: (n, torch.Generator) -> a batch of real data (n, ...)
    - snapshot_every: keep G's samples of one fixed batch of z every this many steps (and at the end)
    Returns:
    - GANRun (losses per step; snapshots {step: (n_snapshot, ...) array}; the trained G and D)
    """
    import time

    start = time.perf_counter()
    torch.manual_seed(seed)
    G = G() if not isinstance(G, nn.Module) else G
    D = D() if not isinstance(D, nn.Module) else D
    G.to(device)
    D.to(device)
    gen = torch.Generator().manual_seed(seed)  # data and z: the same stream for every step function
    z_fixed = torch.randn(n_snapshot, z_dim, generator=gen).to(device)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr_G, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=lr_D, betas=(0.5, 0.999))
    run = GANRun(G=G, D=D)

    def snapshot(t: int) -> None:
        was_training = G.training
        G.eval()
        with torch.no_grad():
            run.snapshots[t] = G(z_fixed).float().cpu().numpy()
        G.train(was_training)

    if snapshot_every:
        snapshot(0)
    for t in range(1, num_steps + 1):
        x_real = sample_real(batch_size, gen).to(device)
        z = torch.randn(batch_size, z_dim, generator=gen).to(device)
        loss_D, loss_G = step(G, D, opt_G, opt_D, x_real, z, **step_kwargs)
        run.loss_D.append(float(loss_D))
        run.loss_G.append(float(loss_G))
        if snapshot_every and t % snapshot_every == 0:
            snapshot(t)
    if num_steps not in run.snapshots:
        snapshot(num_steps)
    run.seconds = time.perf_counter() - start
    return run


def gradient_arrivals(fn: Callable[[], Any], **modules: nn.Module) -> dict[str, list[int]]:
    """Call ``fn()`` and count how many times a gradient reached each parameter of each module.

    One count per backward pass that went through the parameter. Returns {module name: [count per
    parameter, in ``parameters()`` order]}. Use it to see which networks a loss really trained.
    """
    counts = {name: [0] * len(list(m.parameters())) for name, m in modules.items()}
    handles = []
    for name, m in modules.items():
        for i, p in enumerate(m.parameters()):
            def hook(grad: torch.Tensor, name: str = name, i: int = i) -> None:
                counts[name][i] += 1
            handles.append(p.register_hook(hook))
    try:
        fn()
    finally:
        for h in handles:
            h.remove()
    return counts


def plot_snapshots(snapshots: dict[int, np.ndarray], centers: np.ndarray | None = None, axes: Any = None,
                   title: str = "") -> Any:
    """One scatter panel per snapshot step (2-D samples), the mode centres as crosses. Returns the figure."""
    import matplotlib.pyplot as plt

    steps = sorted(snapshots)
    if axes is None:
        _, axes = plt.subplots(1, len(steps), figsize=(2.4 * len(steps), 2.6), squeeze=False)
        axes = axes[0]
    lim = 1.3 * (np.abs(centers).max() if centers is not None else np.abs(snapshots[steps[-1]]).max())
    for ax, t in zip(axes, steps):
        s = snapshots[t]
        ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4)
        if centers is not None:
            ax.scatter(centers[:, 0], centers[:, 1], marker="x", c="r", s=25)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{title}step {t}", fontsize=8)
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def smooth(values: list[float], window: int = 25) -> np.ndarray:
    """Moving average (valid part only), for noisy per-step losses."""
    v = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(v)))
    return np.convolve(v, np.ones(window) / window, mode="valid")


# ----------------------------------------------------------------------------------------
# Failure-mode lab. The settings are here, not in the notebook: the learner reads the runs'
# losses and samples, not their configuration.
# ----------------------------------------------------------------------------------------
_LAB = {
    # Generator four times faster than the discriminator: it chases the discriminator's current
    # favourite region and piles onto one or two modes, while the losses look like a healthy run's.
    "A": dict(lr_G=4e-3, lr_D=1e-3, scale=1.0),
    # Discriminator faster than the generator: the healthy setting of lesson 09, section 2.
    "B": dict(lr_G=1e-3, lr_D=4e-3, scale=1.0),
    # Real data in units ten times larger than the generator starts in: the discriminator separates
    # them from the first steps and the generator's samples do not reach most of the ring.
    "C": dict(lr_G=1e-3, lr_D=4e-3, scale=10.0),
}


def failure_lab(step: StepFn, num_steps: int = 1000, seed: int = 90, fixes: dict[str, dict] | None = None,
                only: list[str] | None = None) -> dict[str, GANRun]:
    """The lab's three runs on the ring ("A", "B", "C"), trained with your ``step``.

    Samples are in the units of the data each run was given; ``run.scale`` records that scale (1: the
    ring has radius 2). ``fixes``: {run name: keyword arguments for ``step`` (e.g. {"penalty": ...}),
    plus optionally "standardise": True (train on unit-scale data) or "lr_scale": f (multiply both
    learning rates)} to rerun a run with a fix. ``only``: the names of the runs to train.
    """
    fixes = fixes or {}
    runs = {}
    for i, (name, cfg) in enumerate(_LAB.items()):
        if only is not None and name not in only:
            continue
        fix = dict(fixes.get(name, {}))
        scale = 1.0 if fix.pop("standardise", False) else cfg["scale"]
        lr_scale = fix.pop("lr_scale", 1.0)
        run = train_gan(step, mlp_generator, mlp_discriminator,
                        lambda n, g, scale=scale: sample_ring(n, g, scale=scale), num_steps=num_steps, z_dim=2,
                        lr_G=cfg["lr_G"] * lr_scale, lr_D=cfg["lr_D"] * lr_scale, seed=seed + i,
                        snapshot_every=max(1, num_steps // 4), **fix)
        run.scale = scale  # type: ignore[attr-defined]
        runs[name] = run
    return runs
