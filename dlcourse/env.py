"""Seeding, device selection and the run profile.

Every lesson opens with the same three lines::

    from dlcourse import seed_everything, get_device, get_profile
    rng = seed_everything(0)
    P = get_profile()          # "cpu" (small, fast) or "full" (GPU-sized)

torch is imported only when a function needs it, so NumPy-only lessons start fast.
"""
from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

PROFILE_ENV = "DLCOURSE_PROFILE"
DEVICE_ENV = "DLCOURSE_DEVICE"
PROFILES = ("cpu", "full")

T = TypeVar("T")


def seed_everything(seed: int = 0, deterministic: bool = False) -> np.random.Generator:
    """Seed Python, NumPy and (if it is imported) torch; return a fresh NumPy Generator.

    deterministic=True also asks torch for deterministic kernels. Some GPU operations
    have no deterministic version and then raise, which is the point: you learn which.
    """
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    # Only seed torch when the lesson already uses it: importing it costs seconds.
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
        if deterministic:
            # cuBLAS needs this workspace setting to be deterministic on CUDA >= 10.2.
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.benchmark = False
    return np.random.default_rng(seed)


def get_device(prefer: str | None = None) -> Any:
    """Return the best available ``torch.device``: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the DLCOURSE_DEVICE environment variable) forces one, e.g. "cpu".
    Asking for a device that is not there raises instead of silently using another.
    """
    import torch

    wanted = prefer or os.environ.get(DEVICE_ENV)
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {wanted!r} was asked for, but CUDA is not available here")
        if device.type == "mps" and not _mps_available(torch):
            raise RuntimeError(f"device {wanted!r} was asked for, but MPS is not available here")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available(torch):
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _cuda_available() -> bool:
    # Without torch installed there is certainly no usable GPU for this course.
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@dataclass(frozen=True)
class Profile:
    """How big a run should be.

    ``cpu`` is small enough that every notebook runs top to bottom on a laptop CPU within
    its test budget; ``full`` is the real-size run for a GPU. Lessons ask for sizes with
    :meth:`pick`, so one notebook serves both.
    """

    name: str
    reason: str

    @property
    def is_full(self) -> bool:
        return self.name == "full"

    def pick(self, cpu: T, full: T) -> T:
        """Return ``cpu`` in the CPU profile and ``full`` in the full profile."""
        return full if self.is_full else cpu

    def __str__(self) -> str:
        return f"profile {self.name!r} ({self.reason})"


def get_profile(name: str | None = None) -> Profile:
    """Choose the run profile: ``name``, else $DLCOURSE_PROFILE, else "full" on CUDA and "cpu" otherwise."""
    chosen = name or os.environ.get(PROFILE_ENV)
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(f"unknown profile {chosen!r}: expected one of {PROFILES}")
        source = "argument" if name else f"${PROFILE_ENV}"
        return Profile(chosen, f"set by {source}")
    if _cuda_available():
        return Profile("full", "a CUDA GPU was found")
    return Profile("cpu", "no CUDA GPU found")
