"""Tests for dlcourse.backbones: the course backbone's reproducible, verified cache; torchvision's
ResNet-18 weights checked against the sha256 in their name (downloads from a local HTTP server);
the loader's fallbacks and reasons; and the lab's planted runs.

Nothing here leaves the machine: the "internet" is a server on 127.0.0.1 (from tests/test_data.py).
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcourse import backbones
from dlcourse.data import ALLOW_DOWNLOAD_ENV, DATA_ENV, ChecksumError, DataError, OfflineError
from dlcourse.env import Profile
from tests.test_data import offline_url, server  # noqa: F401 (pytest fixtures)

CPU, FULL = Profile("cpu", "test"), Profile("full", "test")
TINY = backbones.Recipe(width=4, num_epochs=1)
REAL_RECIPE_FOR = backbones.recipe_for  # before the fixture swaps in tiny recipes


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """An empty dataset cache and torch hub folder, downloads off, no proxy; tiny recipes (seconds, not tens)."""
    monkeypatch.setattr(backbones, "recipe_for", lambda profile: replace(TINY, width=6 if profile.is_full else 4))
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(ALLOW_DOWNLOAD_ENV, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path
    torch.hub.set_dir(old)


# ----------------------------------------------------------------------------------------
# The course backbone.
# ----------------------------------------------------------------------------------------
def test_course_backbone_is_pretrained_once_then_loaded_verified(isolated):
    """First use pretrains and caches with a sha256 sidecar; does the second use load that, verified, unchanged?"""
    first = backbones.course_backbone(TINY)
    assert "pretrained now" in first.reason and "cached with its sha256" in first.reason
    weights, sidecar = backbones.course_cache_paths(TINY)
    assert weights.exists() and sidecar.exists() and str(isolated / "cache") in str(weights)
    assert not [p for p in weights.parent.iterdir() if p.name.endswith(".part")]
    second = backbones.course_backbone(TINY)
    assert second.reason.startswith("from the cache, sha256 verified")
    for k, v in first.features.state_dict().items():
        assert torch.equal(v, second.features.state_dict()[k]), k
    assert (first.feature_dim, first.blocks, first.in_channels, first.input_size) == (8, ("stem", "layer1", "layer2", "layer3"), 1, 8)
    assert "\n" not in str(second) and "course" in str(second) and second.reason in str(second)


def test_pretraining_is_reproducible_and_uses_its_seed():
    """Does one recipe give the same weights twice, and another seed other weights?"""
    a, info = backbones.pretrain_course_backbone(TINY)
    b, _ = backbones.pretrain_course_backbone(TINY)
    c, _ = backbones.pretrain_course_backbone(replace(TINY, seed=1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["stem.0.weight"], c["stem.0.weight"])
    assert 0.0 < info["std"] and 0.0 < info["mean"] < 1.0 and 0.0 <= info["source_val_acc"] <= 1.0
    assert TINY.key() != replace(TINY, seed=1).key()


def test_the_default_recipe_learns_its_source_task():
    """Is the lesson's backbone actually pretrained (high accuracy on held-back clean digits)? Is the full one bigger?"""
    _, info = backbones.pretrain_course_backbone(backbones.Recipe())
    assert info["source_val_acc"] > 0.9
    assert REAL_RECIPE_FOR(FULL).width > REAL_RECIPE_FOR(CPU).width == backbones.Recipe().width


def test_a_corrupt_cache_file_is_detected_and_remade():
    """A cached weight file whose sha256 differs from its sidecar's: is it refused, said so, and replaced?"""
    backbones.course_backbone(TINY)
    weights, _ = backbones.course_cache_paths(TINY)
    data = bytearray(weights.read_bytes())
    data[-20] ^= 0xFF
    weights.write_bytes(bytes(data))
    again = backbones.course_backbone(TINY)
    assert "failed its sha256 check" in again.reason and "pretrained now" in again.reason
    assert backbones.course_backbone(TINY).reason.startswith("from the cache, sha256 verified")


def test_another_recipe_is_not_taken_from_the_cache():
    """Does a sidecar written by a different recipe count as not cached?"""
    backbones.course_backbone(TINY)
    weights, sidecar = backbones.course_cache_paths(TINY)
    other = replace(TINY, num_epochs=2)
    other_weights, other_sidecar = backbones.course_cache_paths(other)
    other_weights.write_bytes(weights.read_bytes())
    other_sidecar.write_text(sidecar.read_text())
    assert "another recipe" in backbones.course_backbone(other).reason


def test_a_read_only_cache_still_gives_a_backbone(tmp_path, monkeypatch):
    """When the cache cannot be written (the grader's sandbox), is the backbone made in memory, and does it say so?"""
    if os.geteuid() == 0:
        # root ignores permissions: use a path under a file, which no one can create
        blocker = tmp_path / "file"
        blocker.write_text("x")
        monkeypatch.setenv(DATA_ENV, str(blocker / "cache"))
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        monkeypatch.setenv(DATA_ENV, str(ro))
    bb = backbones.course_backbone(TINY)
    assert "not cached" in bb.reason and "not writable" in bb.reason
    assert bb.features(torch.zeros(2, 1, 8, 8)).shape == (2, 8)


def test_loader_says_which_backbone_and_why():
    """CPU profile: the course backbone. Full profile without ResNet weights: a fallback that names the cause."""
    bb = backbones.load_backbone(profile=CPU)
    assert bb.name == "course" and not bb.fell_back and "cpu profile" in bb.reason
    full = backbones.load_backbone(profile=FULL)
    assert full.name == "course" and full.requested == "resnet18" and full.fell_back
    assert "not in the torch cache" in full.reason and ALLOW_DOWNLOAD_ENV in full.reason
    assert full.feature_dim == 12  # the full profile's course backbone is wider (here: the tiny recipes)
    with pytest.raises(DataError, match="downloads are off"):
        backbones.load_backbone("resnet18", profile=CPU, strict=True)
    with pytest.raises(ValueError, match="unknown backbone"):
        backbones.load_backbone("vgg")


def test_new_classifier_copies_the_backbone_and_seeds_its_head():
    """Is the classifier's backbone a private copy, and its head reproducible from the seed?"""
    bb = backbones.course_backbone(TINY)
    a, b, c = (backbones.new_classifier(bb, 3, seed=s) for s in (0, 0, 1))
    assert torch.equal(a.head.weight, b.head.weight) and not torch.equal(a.head.weight, c.head.weight)
    with torch.no_grad():
        a.features.stem[0].weight.add_(1.0)
    assert not torch.equal(a.features.stem[0].weight, bb.features.stem[0].weight)
    assert all(p.requires_grad for p in a.parameters()) and a(torch.zeros(2, 1, 8, 8)).shape == (2, 3)


# ----------------------------------------------------------------------------------------
# torchvision's ResNet-18.
# ----------------------------------------------------------------------------------------
def test_the_url_is_torchvisions_and_carries_its_hash():
    """Is our URL the one torchvision publishes, and is its sha256 prefix read the way torch.hub reads it?"""
    from torchvision.models import ResNet18_Weights

    assert backbones.RESNET18_URL == ResNet18_Weights.IMAGENET1K_V1.url
    assert backbones.expected_hash_prefix(backbones.RESNET18_URL) == "f37072fd"
    assert backbones.IMAGENET_MEAN == tuple(ResNet18_Weights.IMAGENET1K_V1.transforms().mean)
    with pytest.raises(ValueError):
        backbones.expected_hash_prefix("https://example.org/weights.pth")


@pytest.fixture(scope="module")
def fake_resnet_bytes():
    """A ResNet-18 state_dict (random weights, torchvision's layout) as the bytes of a .pth file."""
    import torchvision

    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), buffer)
    return buffer.getvalue()


def _publish(routes, base, body):
    name = f"resnet18-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    routes[f"/{name}"] = ("ok", body)
    return f"{base}/{name}"


def test_resnet18_is_downloaded_verified_then_used_offline(server, fake_resnet_bytes, monkeypatch):
    """Downloads allowed: are the weights fetched, hash-checked, loaded, and found in the torch cache next time?"""
    base, routes = server
    url = _publish(routes, base, fake_resnet_bytes)
    monkeypatch.setattr(backbones, "RESNET18_URL", url)
    monkeypatch.setenv(ALLOW_DOWNLOAD_ENV, "1")
    bb = backbones.load_backbone(profile=FULL)
    assert (bb.name, bb.requested, bb.feature_dim, bb.in_channels) == ("resnet18", "resnet18", 512, 3)
    assert "downloaded, sha256 prefix verified" in bb.reason and not bb.fell_back
    assert bb.blocks == ("stem", "layer1", "layer2", "layer3", "layer4")
    assert bb.features(torch.zeros(2, 3, bb.input_size, bb.input_size)).shape == (2, 512)
    path = backbones.resnet18_path()
    assert path.read_bytes() == fake_resnet_bytes and not [p for p in path.parent.iterdir() if p.suffix == ".part"]

    routes.clear()
    monkeypatch.delenv(ALLOW_DOWNLOAD_ENV)
    again = backbones.load_backbone(profile=FULL)
    assert again.name == "resnet18" and "from the torch cache, sha256 prefix verified" in again.reason


def test_wrong_resnet_bytes_are_refused_and_not_cached(server, fake_resnet_bytes, monkeypatch):
    """A download whose sha256 does not match its name: refused, nothing cached, and the loader falls back saying why."""
    base, routes = server
    url = _publish(routes, base, fake_resnet_bytes)
    routes[url[len(base):]] = ("wrong", fake_resnet_bytes)
    with pytest.raises(ChecksumError, match="does not start with"):
        backbones.download_weights(url, backbones.resnet18_path(url))
    assert not backbones.resnet18_path(url).parent.exists() or not list(backbones.resnet18_path(url).parent.iterdir())
    monkeypatch.setattr(backbones, "RESNET18_URL", url)
    bb = backbones.load_backbone(profile=FULL, allow_download=True)
    assert bb.name == "course" and "sha256" in bb.reason


def test_a_corrupt_resnet_in_the_torch_cache_is_refused(fake_resnet_bytes, monkeypatch):
    """Does a weight file already in the torch cache get checked too (and refused when it does not match)?"""
    url = f"https://example.invalid/resnet18-{hashlib.sha256(fake_resnet_bytes).hexdigest()[:8]}.pth"
    path = backbones.resnet18_path(url)
    path.parent.mkdir(parents=True)
    path.write_bytes(fake_resnet_bytes[:-1] + b"x")
    with pytest.raises(ChecksumError):
        backbones.verify_weights(path, url)
    monkeypatch.setattr(backbones, "RESNET18_URL", url)
    bb = backbones.load_backbone(profile=FULL)
    assert bb.name == "course" and "failed its sha256 check" in bb.reason
    path.write_bytes(fake_resnet_bytes)
    backbones.verify_weights(path, url)


def test_offline_download_says_so(offline_url):
    """No connection: an OfflineError, and nothing written."""
    url = offline_url.replace("file.bin", "resnet18-f37072fd.pth")
    dest = backbones.resnet18_path(url)
    with pytest.raises(OfflineError):
        backbones.download_weights(url, dest)
    assert not dest.exists()


# ----------------------------------------------------------------------------------------
# The lab.
# ----------------------------------------------------------------------------------------
def test_the_lab_runs_show_their_symptoms():
    """Does each planted run show the symptom the lesson's diagnosis relies on, and is the healthy one healthy?"""
    _, _, X, y = backbones.source_split()
    r = np.random.default_rng(0)
    X = np.clip(X + r.normal(0, 0.35, X.shape).astype(np.float32), 0, 1)
    idx = np.concatenate([np.flatnonzero(y == k)[:10] for k in range(10)])
    runs = backbones.failure_lab(X[idx], y[idx], X[-150:], y[-150:], num_epochs=2)
    assert sorted(runs) == list("ABCDE") and dict(zip("ABCDE", backbones.LAB_FAULTS))["B"] == "ok"

    def moved(run, block, stats=False):
        keys = [k for k in run.before if k.startswith(block + ".") and ("running" in k) == stats and "num_batches" not in k]
        return float(sum(((run.after[k].float() - run.before[k].float()) ** 2).sum() for k in keys))

    A, B, C, D, E = (runs[k] for k in "ABCDE")
    assert moved(A, "layer3") == 0 and moved(B, "layer3") > 0          # late unfreeze: never stepped
    assert moved(C, "stem", stats=True) > 0 and moved(B, "stem", stats=True) == 0  # tiny batches in train mode
    assert moved(D, "layer1") > 0 and moved(B, "layer1") == 0          # frozen weights decayed
    assert abs(E.input_mean - B.input_mean) > 0.1 and abs(E.input_std - B.input_std) > 0.3  # raw inputs
    assert B.val_acc[-1] > max(C.val_acc[-1], D.val_acc[-1], E.val_acc[-1])


def test_the_command_makes_the_backbone(capsys):
    """Does `python -m dlcourse.backbones` make (then verify) the cached course backbone?"""
    assert backbones.main(["--profile", "cpu"]) == 0
    assert "pretrained now" in capsys.readouterr().out
    backbones.main([])
    assert "sha256 verified" in capsys.readouterr().out
