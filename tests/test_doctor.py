"""Tests for dlcourse.doctor: the 'is this machine ready?' report and its exit status."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest

from dlcourse import data, doctor


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """An empty cache, the CPU, the default profile, and the repository's own pins."""
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
    monkeypatch.delenv("DLCOURSE_PROFILE", raising=False)
    monkeypatch.delenv(data.ALLOW_DOWNLOAD_ENV, raising=False)
    return tmp_path / "cache"


def _run(capsys, *args: str) -> tuple[int, str]:
    code = doctor.main(list(args))
    return code, capsys.readouterr().out


def test_a_healthy_machine_reports_every_section_and_exits_0(capsys):
    """On this (working) machine: exit 0, and a report on packages, device, profile and datasets?"""
    code, out = _run(capsys)
    assert code == 0, out
    for heading in ("Packages (pins from", "Device", "Run profile", "Datasets (cache"):
        assert heading in out
    assert "[ ok ] torch " in out and "[ ok ] cpu:" in out and "profile 'cpu'" in out
    assert "mnist: not downloaded" in out and "digits: " in out
    assert out.rstrip().endswith("0 problem(s), 0 warning(s).")


def test_pins_are_read_from_pyproject():
    """Are the exact pins read from pyproject.toml, torch and torchvision included?"""
    pins = doctor.read_pins()
    assert {"torch", "torchvision", "numpy", "tqdm", "scikit-learn"} <= set(pins)
    assert all(v[0].isdigit() for v in pins.values())


def test_version_parsing_ignores_local_tags():
    """Is "2.14.1+cu130" the same release as the pin "2.14.1", and is 2.11 older than 2.14?"""
    assert doctor._version_tuple("2.14.1+cu130") == doctor._version_tuple("2.14.1") == (2, 14, 1)
    assert doctor._version_tuple("0.26.0rc1") == (0, 26, 0)
    assert (2, 11, 0) < (2, 14, 1) and (2, 11, 0) >= doctor.MIN_SUPPORTED["torch"]


def test_a_missing_package_is_broken(capsys, monkeypatch):
    """Does a pinned package that is not installed fail the check, with the install command?"""
    monkeypatch.setattr(doctor, "read_pins", lambda: {"no-such-package-dlcourse": "1.0"})
    code, out = _run(capsys)
    assert code == 1
    assert "[FAIL] no-such-package-dlcourse is not installed (pinned 1.0); run: pip install -e ." in out


def test_a_different_version_is_a_warning_unless_strict(capsys, monkeypatch):
    """Is a version that differs from its pin a warning (exit 0), and a problem with --strict?"""
    monkeypatch.setattr(doctor, "read_pins", lambda: {"numpy": "0.0.1"})
    code, out = _run(capsys, "--no-checksums")
    assert code == 0 and "[warn] numpy" in out and "differs from the pin 0.0.1" in out
    code, out = _run(capsys, "--no-checksums", "--strict")
    assert code == 1 and "NOT ready" in out


def test_a_torch_older_than_supported_is_broken(capsys, monkeypatch):
    """Is a torch older than the oldest supported version reported as broken?"""
    monkeypatch.setattr(doctor, "read_pins", lambda: {"torch": "99.0.0"})
    monkeypatch.setattr(doctor, "MIN_SUPPORTED", {"torch": (99, 0)})
    code, out = _run(capsys, "--no-checksums")
    assert code == 1 and "older than the course supports (99.0 or newer" in out


def test_a_device_that_is_not_there_is_broken(capsys, monkeypatch):
    """Forcing a GPU that this machine lacks: is the device check a failure that names the setting?"""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setenv("DLCOURSE_DEVICE", "cuda")
    code, out = _run(capsys, "--no-checksums")
    assert code == 1 and "[FAIL] the device does not work ($DLCOURSE_DEVICE=cuda" in out


def _refused_url() -> str:
    with socket.socket() as s:  # a free local port, closed again: connecting is refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/a.bin"


def _fake_registry(tmp_path, monkeypatch, body: bytes) -> str:
    files = [{"name": "a.bin", "urls": [_refused_url()], "size": len(body),
              "sha256": hashlib.sha256(body).hexdigest(), "md5": hashlib.md5(body).hexdigest()}]
    registry = {"datasets": {"toy": {"title": "toy", "homepage": "-", "licence": "test", "torchvision": "MNIST",
                                     "folder": "toy", "files": files}}}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(registry))
    monkeypatch.setattr(data, "REGISTRY_PATH", path)
    return hashlib.sha256(body).hexdigest()


def test_cached_files_are_checksummed(capsys, monkeypatch, tmp_path, isolated):
    """Is a good cached file reported with its checksums verified, and a corrupt one as broken?"""
    sha = _fake_registry(tmp_path, monkeypatch, b"hello world")
    (isolated / "toy").mkdir(parents=True)
    (isolated / "toy" / "a.bin").write_bytes(b"hello world")
    code, out = _run(capsys)
    assert code == 0 and "[ ok ] toy/a.bin: 11 bytes, sha256 ok, md5 ok" in out

    (isolated / "toy" / "a.bin").write_bytes(b"hello WORLD")  # same size, different bytes
    code, out = _run(capsys)
    assert code == 1 and "[FAIL] toy/a.bin" in out and f"expects {sha}" in out
    code, out = _run(capsys, "--no-checksums")  # size only: the corruption is not seen
    assert code == 0 and "size ok, checksums not read" in out

    (isolated / "toy" / "a.bin").write_bytes(b"hello")
    code, out = _run(capsys, "--no-checksums")
    assert code == 1 and "is 5 bytes, but a.bin should be 11 bytes" in out


def test_download_offline_is_reported_as_a_problem(capsys, monkeypatch, tmp_path):
    """Does --download, with no connection, fail with the 'offline' explanation?"""
    _fake_registry(tmp_path, monkeypatch, b"hello world")
    code, out = _run(capsys, "--download", "toy")
    assert code == 1 and "[FAIL] toy: Could not download a.bin: no connection" in out


def test_runs_as_a_module_and_is_the_declared_script(isolated):
    """Does `python -m dlcourse.doctor` run and exit 0, and does pyproject declare the dlcourse-doctor script?"""
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-m", "dlcourse.doctor", "--no-checksums"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ready: 0 problem(s)" in result.stdout
    assert 'dlcourse-doctor = "dlcourse.doctor:main"' in doctor.PYPROJECT.read_text()
