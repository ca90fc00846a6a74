"""Do seeding, device selection and the run profile behave as documented?"""
import numpy as np
import pytest

from dlcourse.env import get_device, get_profile, seed_everything


def test_seed_everything_is_reproducible():
    a = seed_everything(3).normal(size=4), np.random.rand(2)
    b = seed_everything(3).normal(size=4), np.random.rand(2)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_seed_everything_seeds_torch_when_imported():
    torch = pytest.importorskip("torch")
    seed_everything(5)
    x = torch.rand(3)
    seed_everything(5)
    assert torch.equal(x, torch.rand(3))


def test_profile_default_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("DLCOURSE_PROFILE", raising=False)
    import torch
    profile = get_profile()
    assert profile.name == ("full" if torch.cuda.is_available() else "cpu")
    assert profile.pick(cpu=1, full=2) == (2 if profile.is_full else 1)


def test_profile_env_override(monkeypatch):
    monkeypatch.setenv("DLCOURSE_PROFILE", "full")
    assert get_profile().is_full and "DLCOURSE_PROFILE" in get_profile().reason
    monkeypatch.setenv("DLCOURSE_PROFILE", "huge")
    with pytest.raises(ValueError, match="expected one of"):
        get_profile()


def test_device_falls_back_to_cpu_and_refuses_missing_cuda(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("DLCOURSE_DEVICE", raising=False)
    if not torch.cuda.is_available():
        assert get_device().type in ("cpu", "mps")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            get_device("cuda")
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    assert get_device().type == "cpu"
