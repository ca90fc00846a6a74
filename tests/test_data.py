"""Tests for dlcourse.data: verified downloads (against a local HTTP server), the registry, loaders.

Nothing here leaves the machine: "remote" files are served from 127.0.0.1 by a server the tests
start, and "offline" is a port where nothing listens.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import socket
import struct
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from dlcourse import data
from dlcourse.env import Profile


# ----------------------------------------------------------------------------------------
# A local file server with misbehaving modes.
# ----------------------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        mode, body = self.routes.get(self.path, ("404", b""))
        if mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "wrong":  # same length, different bytes
            body = bytes(b ^ 0xFF for b in body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":  # promise everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    """Yields (base_url, routes); set routes["/name"] = (mode, bytes) with mode ok/wrong/truncate/404."""
    routes: dict[str, tuple[str, bytes]] = {}
    handler = type("Handler", (_Handler,), {"routes": routes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", routes
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def offline_url():
    """A URL on a local port where nothing listens: connecting is refused, as when offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.bin"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets an empty cache, downloads off by default, and no proxy in the way."""
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(data.ALLOW_DOWNLOAD_ENV, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "cache"


def _remote(name: str, body: bytes, urls: list[str], algos=("sha256", "md5")) -> data.RemoteFile:
    return data.RemoteFile(name=name, urls=tuple(urls), size=len(body),
                           checksums={a: hashlib.new(a, body).hexdigest() for a in algos})


def _files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


BODY = bytes(range(256)) * 40


# ----------------------------------------------------------------------------------------
# download_file
# ----------------------------------------------------------------------------------------
def test_good_download_lands_in_the_cache_verified(server, isolated):
    """Is a good file downloaded, verified and renamed into place, with no temporary file left?"""
    base, routes = server
    routes["/f.bin"] = ("ok", BODY)
    dest = isolated / "x" / "f.bin"
    assert data.download_file(_remote("f.bin", BODY, [f"{base}/f.bin"]), dest) == dest
    assert dest.read_bytes() == BODY
    assert _files_in(isolated) == ["f.bin"]


def test_a_verified_cached_file_is_not_downloaded_again(server, isolated):
    """Does a file already in the cache with the right checksums skip the network entirely?"""
    base, routes = server  # routes is empty: any request would get a 404
    dest = isolated / "f.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(BODY)
    data.download_file(_remote("f.bin", BODY, [f"{base}/f.bin"]), dest)
    assert dest.read_bytes() == BODY


def test_wrong_bytes_give_a_checksum_error_and_leave_nothing(server, isolated):
    """Does a download with the right size but wrong bytes fail, name the expected sha256, and leave no file?"""
    base, routes = server
    routes["/f.bin"] = ("wrong", BODY)
    remote = _remote("f.bin", BODY, [f"{base}/f.bin"])
    with pytest.raises(data.ChecksumError) as info:
        data.download_file(remote, isolated / "f.bin")
    message = str(info.value)
    assert remote.checksums["sha256"] in message and "f.bin" in message
    assert "nothing was written" in message
    assert _files_in(isolated) == []


def test_truncated_download_is_reported_and_discarded(server, isolated):
    """Is a download that stops halfway reported with the byte counts, and is the partial file removed?"""
    base, routes = server
    routes["/f.bin"] = ("truncate", BODY)
    with pytest.raises(data.DownloadError) as info:
        data.download_file(_remote("f.bin", BODY, [f"{base}/f.bin"]), isolated / "f.bin")
    assert not isinstance(info.value, data.ChecksumError)
    assert f"got {len(BODY) // 2} of {len(BODY)} bytes" in str(info.value)
    assert _files_in(isolated) == []


def test_offline_gives_a_clear_message_on_how_to_get_the_file(offline_url, isolated):
    """Offline: does the error say so, name the URL, where to put the file, and what it must be?"""
    remote = _remote("f.bin", BODY, [offline_url])
    dest = isolated / "sub" / "f.bin"
    with pytest.raises(data.OfflineError) as info:
        data.download_file(remote, dest)
    message = str(info.value)
    assert "offline" in message
    assert offline_url in message and str(dest) in message
    assert str(len(BODY)) in message and remote.checksums["sha256"] in message
    assert data.ALLOW_DOWNLOAD_ENV in message
    assert _files_in(isolated) == []


def test_http_errors_are_named(server, isolated):
    """Does a 404 come back as a DownloadError that names the HTTP status?"""
    base, _ = server
    with pytest.raises(data.DownloadError, match="HTTP 404"):
        data.download_file(_remote("f.bin", BODY, [f"{base}/missing.bin"]), isolated / "f.bin")
    assert _files_in(isolated) == []


def test_too_many_bytes_are_refused(server, isolated):
    """Is a server that sends more than the registry's size stopped, with nothing kept?"""
    base, routes = server
    routes["/f.bin"] = ("ok", BODY + b"extra")
    with pytest.raises(data.ChecksumError, match="more than the expected"):
        data.download_file(_remote("f.bin", BODY, [f"{base}/f.bin"]), isolated / "f.bin")
    assert _files_in(isolated) == []


def test_the_next_mirror_is_tried(server, offline_url, isolated):
    """When the first URL is unreachable, is the second one used?"""
    base, routes = server
    routes["/f.bin"] = ("ok", BODY)
    dest = data.download_file(_remote("f.bin", BODY, [offline_url, f"{base}/f.bin"]), isolated / "f.bin")
    assert dest.read_bytes() == BODY


def test_a_corrupt_cached_file_is_replaced(server, isolated):
    """Is a corrupt file in the cache replaced by a verified download?"""
    base, routes = server
    routes["/f.bin"] = ("ok", BODY)
    dest = isolated / "f.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"garbage")
    data.download_file(_remote("f.bin", BODY, [f"{base}/f.bin"]), dest)
    assert dest.read_bytes() == BODY
    assert _files_in(isolated) == ["f.bin"]


def test_md5_only_entries_are_verified_with_md5(server, isolated):
    """Does an entry that lists only md5 get checked with md5 (and its error say md5)?"""
    base, routes = server
    routes["/f.bin"] = ("wrong", BODY)
    remote = _remote("f.bin", BODY, [f"{base}/f.bin"], algos=("md5",))
    assert set(remote.checksums) == {"md5"}
    with pytest.raises(data.ChecksumError, match="md5"):
        data.download_file(remote, isolated / "f.bin")
    routes["/f.bin"] = ("ok", BODY)
    data.download_file(remote, isolated / "f.bin")


def test_an_entry_without_checksum_is_refused():
    """Can a registry entry without any checksum be created? (It must not.)"""
    with pytest.raises(ValueError, match="no checksum"):
        data.RemoteFile(name="f", urls=("http://x",), size=1, checksums={})


def test_verify_file_names_size_and_checksum_problems(tmp_path):
    """Does verify_file say 'wrong size' before reading, and name the algorithm on a checksum mismatch?"""
    path = tmp_path / "f.bin"
    path.write_bytes(BODY)
    remote = _remote("f.bin", BODY, ["http://x"])
    data.verify_file(path, remote)
    path.write_bytes(BODY[:-1])
    with pytest.raises(data.ChecksumError, match=f"should be {len(BODY)} bytes"):
        data.verify_file(path, remote)
    path.write_bytes(bytes(reversed(BODY)))
    with pytest.raises(data.ChecksumError, match="sha256"):
        data.verify_file(path, remote)


# ----------------------------------------------------------------------------------------
# The real registry.
# ----------------------------------------------------------------------------------------
def test_registry_entries_are_complete():
    """Does every dataset list a licence, and every file URLs, a size and a well-formed checksum?"""
    registry = data.load_registry()
    assert {"mnist", "fashion_mnist", "cifar10"} <= set(registry)
    for entry in registry.values():
        assert entry.licence and entry.homepage and entry.torchvision
        for remote in entry.files:
            assert remote.size > 0 and remote.urls
            assert all(u.startswith(("https://", "http://")) and u.endswith(remote.name) for u in remote.urls)
            for algo, digest in remote.checksums.items():
                assert len(digest) == {"sha256": 64, "md5": 32}[algo] and int(digest, 16) >= 0


def test_registry_md5s_match_torchvisions():
    """Are the md5 sums the ones torchvision itself checks, so torchvision accepts our files?"""
    from torchvision import datasets as tvd

    registry = data.load_registry()
    for name, cls in [("mnist", tvd.MNIST), ("fashion_mnist", tvd.FashionMNIST)]:
        assert {r.name: r.checksums["md5"] for r in registry[name].files} == dict(cls.resources)
        assert registry[name].folder == f"{cls.__name__}/raw"
    (cifar,) = registry["cifar10"].files
    assert (cifar.name, cifar.checksums["md5"]) == (tvd.CIFAR10.filename, tvd.CIFAR10.tgz_md5)
    assert cifar.urls[0] == tvd.CIFAR10.url


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    """Does $DLCOURSE_DATA move the cache, and is the default datasets/cache in the repository?"""
    assert data.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv(data.DATA_ENV)
    assert data.cache_dir() == data.REPO_ROOT / "datasets" / "cache"


def test_downloads_are_off_unless_allowed(monkeypatch):
    """Is downloading off by default, on with the env var, and does an explicit argument win?"""
    assert not data.downloads_allowed()
    monkeypatch.setenv(data.ALLOW_DOWNLOAD_ENV, "1")
    assert data.downloads_allowed() and not data.downloads_allowed(False)
    monkeypatch.setenv(data.ALLOW_DOWNLOAD_ENV, "0")
    assert not data.downloads_allowed() and data.downloads_allowed(True)


# ----------------------------------------------------------------------------------------
# load_images
# ----------------------------------------------------------------------------------------
CPU = Profile("cpu", "test")


def _check_image_data(d: data.ImageData, shape: tuple[int, int, int], num_classes: int) -> None:
    for X, y in [(d.X_train, d.y_train), (d.X_test, d.y_test)]:
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert X.shape[1:] == shape and len(X) == len(y) > 0
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert y.min() >= 0 and y.max() < num_classes
    assert len(d.classes) == num_classes
    assert "\n" not in str(d) and d.name in str(d) and d.reason in str(d)


def test_digits_always_load_offline():
    """Does 'digits' load with no network, as (N, 1, 8, 8) floats in [0, 1], saying where it came from?"""
    d = data.load_images("digits", profile=CPU)
    _check_image_data(d, (1, 8, 8), 10)
    assert d.name == "digits" and not d.fell_back and "scikit-learn" in d.reason
    assert len(d.y_train) + len(d.y_test) == 1797


def test_a_missing_real_dataset_falls_back_to_digits_and_says_why(isolated):
    """Not cached and not allowed to download: digits instead, with a reason naming both and a warning?"""
    with pytest.warns(UserWarning, match="digits"):
        d = data.load_images("mnist", profile=CPU)
    assert d.name == "digits" and d.requested == "mnist" and d.fell_back
    assert "mnist" in d.reason and "not in the cache" in d.reason and data.ALLOW_DOWNLOAD_ENV in d.reason
    assert _files_in(isolated) == []
    with pytest.raises(data.DataNotAvailable, match="downloads are off"):
        data.load_images("cifar10", profile=CPU, strict=True)


def test_unknown_names_are_refused():
    """Is a misspelt dataset name an error rather than a silent fallback?"""
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_images("minst")


def _idx(array: np.ndarray, magic: int) -> bytes:
    header = struct.pack(f">i{array.ndim}i", magic, *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


@pytest.fixture
def fake_mnist(server, tmp_path, monkeypatch):
    """A registry whose 'mnist' is a tiny fake MNIST (IDX files) served by the local server."""
    base, routes = server
    r = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": _idx(r.integers(0, 256, (30, 28, 28)), 2051),
              "train-labels-idx1-ubyte.gz": _idx(r.integers(0, 10, 30), 2049),
              "t10k-images-idx3-ubyte.gz": _idx(r.integers(0, 256, (12, 28, 28)), 2051),
              "t10k-labels-idx1-ubyte.gz": _idx(r.integers(0, 10, 12), 2049)}
    files = []
    for name, body in arrays.items():
        routes[f"/{name}"] = ("ok", body)
        files.append({"name": name, "urls": [f"{base}/{name}"], "size": len(body),
                      "sha256": hashlib.sha256(body).hexdigest()})
    registry = {"datasets": {"mnist": {"title": "fake", "homepage": "-", "licence": "test data",
                                       "torchvision": "MNIST", "folder": "MNIST/raw", "files": files}}}
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(registry))
    monkeypatch.setattr(data, "REGISTRY_PATH", path)
    return routes


def test_a_real_dataset_is_downloaded_verified_and_read_by_torchvision(fake_mnist, isolated, monkeypatch):
    """With downloads allowed (env var), is MNIST fetched, unpacked and read through torchvision, then reused offline?"""
    monkeypatch.setenv(data.ALLOW_DOWNLOAD_ENV, "1")
    d = data.load_images("mnist", profile=CPU)
    _check_image_data(d, (1, 28, 28), 10)
    assert (d.name, len(d.y_train), len(d.y_test)) == ("mnist", 30, 12)
    assert "downloaded and verified" in d.reason and "CPU-sized" in d.reason
    assert not any(n.endswith(".part") for n in _files_in(isolated))

    fake_mnist.clear()  # the "internet" is gone; the cache must be enough now
    monkeypatch.delenv(data.ALLOW_DOWNLOAD_ENV)
    again = data.load_images("mnist", profile=CPU, n_train=10)
    assert again.name == "mnist" and again.reason.startswith("from the cache") and len(again.y_train) == 10
    np.testing.assert_array_equal(again.X_test, d.X_test)


def test_a_failed_download_falls_back_with_the_reason(fake_mnist, monkeypatch):
    """Allowed to download but the server sends wrong bytes: digits, with the checksum problem as reason?"""
    for key, (_, body) in list(fake_mnist.items()):
        fake_mnist[key] = ("wrong", body)
    with pytest.warns(UserWarning):
        d = data.load_images("mnist", profile=CPU, allow_download=True)
    assert d.name == "digits" and "checksum" in d.reason
    with pytest.raises(data.ChecksumError):
        data.load_images("mnist", profile=CPU, allow_download=True, strict=True)


def test_colour_images_from_torchvision_become_channels_first():
    """Does a CIFAR-like (N, H, W, 3) uint8 dataset become (N, 3, H, W) floats in [0, 1], pixel for pixel?"""
    class Fake:
        def __init__(self, n: int) -> None:
            self.data = np.random.default_rng(n).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
            self.targets = list(range(n))
            self.classes = [f"c{i}" for i in range(10)]

    d = data.images_from_torchvision(Fake(5), Fake(3), "cifar10")
    _check_image_data(d, (3, 32, 32), 10)
    np.testing.assert_allclose(d.X_train[2, 1, 4, 7], Fake(5).data[2, 4, 7, 1] / 255.0, rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Other offline data and loaders.
# ----------------------------------------------------------------------------------------
def test_synthetic_and_bundled_sets():
    """Do the synthetic shapes, spirals and the bundled photos have the documented shapes?"""
    shapes = data.load_images("shapes")
    _check_image_data(shapes, (1, 16, 16), 4)
    X, y = data.make_spirals(n_per_class=50, num_classes=3)
    assert X.shape == (150, 2) and X.dtype == np.float32 and np.bincount(y).tolist() == [50, 50, 50]
    photos = data.load_sample_photos()
    assert photos.images.shape == (2, 3, 427, 640) and photos.images.max() <= 1.0 and "CC BY" in photos.licence


def test_train_val_split_is_a_seeded_partition():
    """Does train_val_split give disjoint parts that cover everything, the same for the same seed?"""
    X, y = np.arange(100).reshape(50, 2), np.arange(50)
    X_tr, y_tr, X_val, y_val = data.train_val_split(X, y, val_fraction=0.2, seed=1)
    assert len(y_val) == 10 and sorted(np.r_[y_tr, y_val].tolist()) == list(range(50))
    np.testing.assert_array_equal(X_val[:, 1] // 2, y_val)
    np.testing.assert_array_equal(data.train_val_split(X, y, 0.2, seed=1)[3], y_val)


def test_make_loader_batches_and_seeded_shuffling():
    """Does make_loader give float32/int64 batches, cover every example once, and repeat its order for a seed?"""
    import torch

    X, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10)
    loader = data.make_loader(X, y, batch_size=4, shuffle=True, seed=3)
    batches = list(loader)
    assert [len(b[1]) for b in batches] == [4, 4, 2] and len(loader) == 3
    assert batches[0][0].dtype == torch.float32 and batches[0][1].dtype == torch.int64
    order = torch.cat([b[1] for b in batches])
    assert sorted(order.tolist()) == list(range(10))
    again = torch.cat([b[1] for b in data.make_loader(X, y, batch_size=4, shuffle=True, seed=3)])
    assert torch.equal(order, again)
    second_epoch = torch.cat([b[1] for b in loader])
    assert not torch.equal(order, second_epoch)  # a new order each epoch
    plain = torch.cat([b[1] for b in data.make_loader(X, y, batch_size=4)])
    assert plain.tolist() == list(range(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(data.make_loader(X, y, batch_size=4, drop_last=True))) == 2


def test_a_tarball_is_unpacked_once_into_its_folder(server, isolated, tmp_path, monkeypatch):
    """Is a CIFAR-style .tar.gz fetched, unpacked into its one top-level folder, with no work folder left behind?"""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in [("toy-batches-py/data_batch_1", b"one"), ("toy-batches-py/batches.meta", b"meta")]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    body = buffer.getvalue()
    base, routes = server
    routes["/toy.tar.gz"] = ("ok", body)
    registry = {"toy": data.DatasetEntry(name="toy", title="toy", homepage="-", licence="test", torchvision="CIFAR10",
                                         folder="", files=(_remote("toy.tar.gz", body, [f"{base}/toy.tar.gz"]),))}
    root = data.fetch("toy", allow_download=True, registry=registry)
    assert (root / "toy-batches-py" / "data_batch_1").read_bytes() == b"one"
    assert sorted(p.name for p in root.iterdir()) == ["toy-batches-py", "toy.tar.gz"]
    routes.clear()  # offline now: a second fetch must need nothing
    (root / "toy-batches-py" / "data_batch_1").write_bytes(b"kept")
    data.fetch("toy", registry=registry)
    assert (root / "toy-batches-py" / "data_batch_1").read_bytes() == b"kept"
