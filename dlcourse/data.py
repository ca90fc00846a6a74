"""Datasets: verified, cached downloads, and image loaders that always say what they loaded.

    from dlcourse.data import load_images
    data = load_images("mnist", profile=P)
    print(data)        # one line: which dataset you actually got, its size, and why

Real datasets (MNIST, Fashion-MNIST, CIFAR-10) are listed in ``datasets/registry.json`` with
their URLs, sizes, checksums and licences. They are read through ``torchvision.datasets`` from a
local cache (``datasets/cache/``, or ``$DLCOURSE_DATA``) and downloaded only when you allow it
(``allow_download=True`` or ``DLCOURSE_ALLOW_DOWNLOAD=1``). Every download goes to a temporary
file that is checked (size and every listed checksum) before an atomic rename, so the cache never
holds a partial or corrupt file.

With no network and an empty cache, nothing breaks: ``load_images`` falls back to scikit-learn's
bundled 8x8 ``digits`` and its result says so (``.name``, ``.reason``). Other offline data:
``load_sample_photos`` (two bundled photos), ``make_spirals`` and ``make_shapes`` (synthetic).
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlcourse.env import Profile, get_profile

DATA_ENV = "DLCOURSE_DATA"
ALLOW_DOWNLOAD_ENV = "DLCOURSE_ALLOW_DOWNLOAD"
REPO_ROOT = Path(__file__).resolve().parent.parent
REGISTRY_PATH = REPO_ROOT / "datasets" / "registry.json"
IMAGE_DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10", "shapes")
HASH_ALGORITHMS = ("sha256", "md5")
# How many examples a real dataset is cut to in the CPU profile: enough to learn something,
# small enough that an epoch takes seconds on a laptop.
CPU_SIZES = {"mnist": (6000, 1000), "fashion_mnist": (6000, 1000), "cifar10": (5000, 1000)}
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------------------
# Errors: each says what was expected and what to do.
# ----------------------------------------------------------------------------------------
class DataError(RuntimeError):
    """A dataset could not be provided. ``short`` is a one-line summary for ``ImageData.reason``."""

    def __init__(self, message: str, short: str | None = None) -> None:
        super().__init__(message)
        self.short = short or message.splitlines()[0]


class DataNotAvailable(DataError):
    """The dataset is not in the cache and downloading is not allowed."""


class DownloadError(DataError):
    """The server could not be reached, answered with an error, or the download was cut off."""


class OfflineError(DownloadError):
    """No connection at all (refused, no route, DNS failure, timeout)."""


class ChecksumError(DataError):
    """A file's size or checksum differs from the registry's."""


# ----------------------------------------------------------------------------------------
# The registry.
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: where it lives and what it must be (size in bytes and checksums)."""

    name: str
    urls: tuple[str, ...]
    size: int
    checksums: dict[str, str] = field(default_factory=dict)  # algorithm ("sha256" or "md5") -> hex digest

    def __post_init__(self) -> None:
        if not self.checksums:
            raise ValueError(f"registry entry {self.name!r} lists no checksum; give sha256 or md5")
        unknown = set(self.checksums) - set(HASH_ALGORITHMS)
        if unknown:
            raise ValueError(f"registry entry {self.name!r}: unknown checksum kind {sorted(unknown)}")

    def describe(self) -> str:
        sums = ", ".join(f"{algo} {value}" for algo, value in self.checksums.items())
        return f"{self.size} bytes, {sums}"


@dataclass(frozen=True)
class DatasetEntry:
    """A dataset in the registry: its files, where they go in the cache, and its licence."""

    name: str
    title: str
    homepage: str
    licence: str
    torchvision: str
    folder: str  # relative to the cache root; the layout torchvision expects
    files: tuple[RemoteFile, ...]

    def path(self, remote: RemoteFile, root: Path | None = None) -> Path:
        return (root or cache_dir()) / self.folder / remote.name


def load_registry(path: str | Path | None = None) -> dict[str, DatasetEntry]:
    """Read the dataset registry (default ``datasets/registry.json``); returns name -> DatasetEntry."""
    path = Path(path or REGISTRY_PATH)
    if not path.exists():
        raise DataError(f"dataset registry {path} not found; dlcourse expects an editable install "
                        f"of the course repository (pip install -e .)")
    raw = json.loads(path.read_text())
    registry = {}
    for name, entry in raw["datasets"].items():
        files = tuple(RemoteFile(name=f["name"], urls=tuple(f["urls"]), size=int(f["size"]),
                                 checksums={a: f[a].lower() for a in HASH_ALGORITHMS if a in f})
                      for f in entry["files"])
        registry[name] = DatasetEntry(name=name, title=entry["title"], homepage=entry["homepage"],
                                      licence=entry["licence"], torchvision=entry["torchvision"],
                                      folder=entry["folder"], files=files)
    return registry


def cache_dir() -> Path:
    """Where datasets are cached: ``$DLCOURSE_DATA``, else ``datasets/cache`` in the repository."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else REPO_ROOT / "datasets" / "cache"


def downloads_allowed(allow_download: bool | None = None) -> bool:
    """An explicit argument wins; None means "ask $DLCOURSE_ALLOW_DOWNLOAD" (1/true/yes)."""
    if allow_download is not None:
        return bool(allow_download)
    return os.environ.get(ALLOW_DOWNLOAD_ENV, "").strip().lower() in ("1", "true", "yes")


# ----------------------------------------------------------------------------------------
# Verified download.
# ----------------------------------------------------------------------------------------
def file_checksums(path: str | Path, algorithms: tuple[str, ...] = HASH_ALGORITHMS) -> dict[str, str]:
    """Hex digests of a file, reading it once: {"sha256": ..., "md5": ...}."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def verify_file(path: str | Path, remote: RemoteFile, checksums: bool = True) -> None:
    """Raise ChecksumError unless ``path`` has the registry's size and (if ``checksums``) every listed checksum."""
    path = Path(path)
    size = path.stat().st_size
    if size != remote.size:
        raise ChecksumError(f"{path} is {size} bytes, but {remote.name} should be {remote.size} bytes: it is "
                            f"incomplete or a different file. Delete it and download it again.",
                            short=f"{path.name} in the cache has the wrong size ({size} bytes, expected {remote.size})")
    if checksums:
        _check_digests(file_checksums(path, tuple(remote.checksums)), remote, str(path))


def _check_digests(got: dict[str, str], remote: RemoteFile, where: str) -> None:
    for algo, expected in remote.checksums.items():
        if got[algo] != expected:
            raise ChecksumError(f"{where}: {algo} is {got[algo]}, but the registry expects {expected} for "
                                f"{remote.name}. The file is corrupt or not the published one.",
                                short=f"{remote.name} has the wrong {algo} checksum")


def download_file(remote: RemoteFile, dest: str | Path, timeout: float = 30.0) -> Path:
    """Download ``remote`` to ``dest``, trying each URL in turn; return ``dest``.

    The bytes go to a temporary file next to ``dest``; it is renamed to ``dest`` only after its size
    and every checksum match, so an interrupted, truncated or wrong download never reaches the cache.
    A ``dest`` that already verifies is kept as it is.
    """
    dest = Path(dest)
    if dest.exists():
        try:
            verify_file(dest, remote)
            return dest
        except ChecksumError:
            pass  # replaced below, atomically, once a good copy has arrived
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[str, DataError]] = []
    for url in remote.urls:
        try:
            _download_one(url, remote, dest, timeout)
            return dest
        except DataError as exc:
            failures.append((url, exc))
    tried = "\n".join(f"  - {url}: {exc}" for url, exc in failures)
    advice = (f"To get it by hand: download {remote.urls[0]} on a machine with internet access and copy it "
              f"to {dest} (it must be {remote.describe()}).")
    if all(isinstance(exc, OfflineError) for _, exc in failures):
        raise OfflineError(f"Could not download {remote.name}: no connection.\n{tried}\nYou seem to be offline. "
                           f"{advice} Or run again when online, with downloads allowed "
                           f"(allow_download=True or {ALLOW_DOWNLOAD_ENV}=1).",
                           short=f"could not download {remote.name}: offline")
    kind = ChecksumError if any(isinstance(exc, ChecksumError) for _, exc in failures) else DownloadError
    raise kind(f"Could not download a verified copy of {remote.name}; nothing was written to the cache.\n"
               f"{tried}\n{advice}", short=failures[-1][1].short)


def _download_one(url: str, remote: RemoteFile, dest: Path, timeout: float) -> None:
    tmp: str | None = None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "dlcourse"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            hashers = {a: hashlib.new(a) for a in remote.checksums}
            got = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    got += len(chunk)
                    if got > remote.size:
                        raise ChecksumError(f"{url} sent more than the expected {remote.size} bytes: "
                                            f"not the file in the registry", short=f"{remote.name} is too large")
                    for h in hashers.values():
                        h.update(chunk)
                    out.write(chunk)
        if got != remote.size:
            raise DownloadError(f"the download was cut off: got {got} of {remote.size} bytes",
                                short=f"download of {remote.name} was cut off ({got} of {remote.size} bytes)")
        _check_digests({a: h.hexdigest() for a, h in hashers.items()}, remote, url)
        os.replace(tmp, dest)  # atomic on one file system: readers see no file or the whole file
        tmp = None
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"the server answered HTTP {exc.code} {exc.reason}",
                            short=f"download of {remote.name} failed: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise OfflineError(f"could not connect ({reason})", short=f"could not download {remote.name}: offline") from exc
    except (ConnectionError, http.client.HTTPException) as exc:
        raise DownloadError(f"the connection broke off ({exc!r})",
                            short=f"download of {remote.name} broke off") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------
# Fetching a whole dataset into the cache, in torchvision's layout.
# ----------------------------------------------------------------------------------------
def cached_files(name: str, root: Path | None = None, registry: dict[str, DatasetEntry] | None = None
                 ) -> dict[str, Path | None]:
    """File name -> cached path for one dataset; None for a file that is missing or has the wrong size."""
    entry = (registry or load_registry())[name]
    status: dict[str, Path | None] = {}
    for remote in entry.files:
        path = entry.path(remote, root)
        status[remote.name] = path if path.exists() and path.stat().st_size == remote.size else None
    return status


def fetch(name: str, allow_download: bool | None = None, root: Path | None = None,
          registry: dict[str, DatasetEntry] | None = None, timeout: float = 30.0) -> Path:
    """Make sure every file of dataset ``name`` is in the cache, downloading only if allowed.

    Returns the cache root to hand to torchvision. Raises DataNotAvailable when something is
    missing and downloads are off, and DownloadError/ChecksumError when a download fails.
    """
    registry = registry or load_registry()
    if name not in registry:
        raise ValueError(f"unknown dataset {name!r}; the registry has {sorted(registry)}")
    entry, root = registry[name], Path(root or cache_dir())
    status = cached_files(name, root, registry)
    missing = [r for r in entry.files if status[r.name] is None]
    if missing and not downloads_allowed(allow_download):
        names = ", ".join(r.name for r in missing)
        raise DataNotAvailable(
            f"{name} is not in the cache {root} (missing or incomplete: {names}) and downloads are off. "
            f"Allow them with allow_download=True or {ALLOW_DOWNLOAD_ENV}=1, or copy the files there by hand "
            f"(see datasets/README.md).",
            short=f"{name} is not in the cache ({root}) and downloads are off ({ALLOW_DOWNLOAD_ENV}=1 allows them)")
    for remote in missing:
        download_file(remote, entry.path(remote, root), timeout=timeout)
    _extract(entry, root)
    return root


def _extract(entry: DatasetEntry, root: Path) -> None:
    """Unpack the downloaded archives where torchvision looks, atomically (temp name, then rename)."""
    for remote in entry.files:
        archive = entry.path(remote, root)
        if remote.name.endswith(".tar.gz"):
            # CIFAR-10: one tarball holding a single top-level folder.
            with tarfile.open(archive, "r:gz") as tar:
                first = tar.next()  # reads one header only: no need to decompress it all to find the name
                target = archive.parent / (first.name.split("/")[0] if first else "")
                if first is None or target == archive.parent:
                    raise DataError(f"{archive} is empty or has no top-level folder")
                if target.exists():
                    continue
                work = Path(tempfile.mkdtemp(dir=archive.parent, prefix=".extract-"))
                try:
                    if hasattr(tarfile, "data_filter"):  # refuses absolute paths and links out of the folder
                        tar.extractall(work, filter="data")
                    else:
                        tar.extractall(work)
                    os.replace(work / target.name, target)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        elif remote.name.endswith(".gz"):
            target = archive.with_suffix("")
            if target.exists():
                continue
            fd, tmp = tempfile.mkstemp(dir=archive.parent, prefix=f".{target.name}.", suffix=".part")
            try:
                with gzip.open(archive, "rb") as src, os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                os.replace(tmp, target)
            finally:
                Path(tmp).unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------
# Image datasets.
# ----------------------------------------------------------------------------------------
@dataclass
class ImageData:
    """An image classification dataset as float32 arrays, and a record of what it is.

    - X_train: (N_train, C, H, W) float32 in [0, 1];  y_train: (N_train,) int64
    - X_test:  (N_test, C, H, W) float32 in [0, 1];   y_test:  (N_test,) int64
    - classes: class names, ``classes[k]`` is label k
    - name: the dataset actually loaded; ``requested``: the one asked for
    - reason: why this one (cached, downloaded, bundled, fallback and why)
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    name: str
    reason: str
    requested: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.X_train.shape[1:])  # type: ignore[return-value]

    @property
    def fell_back(self) -> bool:
        """True when this is not the dataset that was asked for."""
        return bool(self.requested) and self.requested != self.name

    def __str__(self) -> str:
        c, h, w = self.image_shape
        text = (f"{self.name}: {len(self.X_train)} train + {len(self.X_test)} test images of {c}x{h}x{w}, "
                f"{self.num_classes} classes ({self.reason})")
        return " ".join(text.split())  # one line, whatever the reason held


def load_images(name: str, profile: Profile | None = None, allow_download: bool | None = None,
                n_train: int | None = None, n_test: int | None = None, seed: int = 0,
                strict: bool = False) -> ImageData:
    """Load an image classification dataset; always returns something, and says what and why.

    Inputs:
    - name: "digits" (8x8, bundled with scikit-learn), "mnist", "fashion_mnist", "cifar10" (through
      torchvision, from the cache), or "shapes" (synthetic)
    - profile: run profile (default get_profile()); in the CPU profile real datasets are cut to
      CPU_SIZES examples (per split, unless n_train / n_test say otherwise)
    - allow_download: may a missing real dataset be downloaded? None: $DLCOURSE_ALLOW_DOWNLOAD
    - n_train, n_test: cut the splits to at most this many examples (a seeded random subset)
    - strict: raise DataError instead of falling back to "digits"
    Returns:
    - ImageData; print it to see which dataset you got
    """
    requested = name.lower().replace("-", "_")
    if requested not in IMAGE_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {IMAGE_DATASETS}")
    profile = profile or get_profile()
    if requested == "digits":
        data = _load_digits(seed)
    elif requested == "shapes":
        data = make_shapes(seed=seed)
    else:
        try:
            already = all(p is not None for p in cached_files(requested).values())
            root = fetch(requested, allow_download)
            data = _load_torchvision(requested, root)
            data.reason = "from the cache" if already else "downloaded and verified"
            if not profile.is_full and (n_train is None or n_test is None):
                cpu_train, cpu_test = CPU_SIZES[requested]
                n_train = cpu_train if n_train is None else n_train
                n_test = cpu_test if n_test is None else n_test
                data.reason += f", cut to a CPU-sized subset ({profile})"
        except DataError as exc:
            if strict:
                raise
            warnings.warn(f"{exc.short}; using the offline 'digits' dataset instead", stacklevel=2)
            data = _load_digits(seed)
            data.reason = f"asked for {requested}, but {exc.short}; fell back to scikit-learn's bundled 8x8 digits"
    data.requested = requested
    return _subsample(data, n_train, n_test, seed)


def _load_digits(seed: int) -> ImageData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8); pixel values are 0..16
    y = digits.target.astype(np.int64)
    # A fixed 80/20 split, so every run (and every learner) sees the same test set.
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = len(y) // 5
    test, train = order[:n_test], order[n_test:]
    return ImageData(X[train], y[train], X[test], y[test], classes=[str(d) for d in range(10)],
                     name="digits", reason="bundled with scikit-learn, no download needed")


def _load_torchvision(name: str, root: Path) -> ImageData:
    try:
        import torchvision.datasets as tvd

        cls = getattr(tvd, load_registry()[name].torchvision)
        train, test = cls(str(root), train=True, download=False), cls(str(root), train=False, download=False)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:
        raise DataError(f"torchvision could not read {name} from {root}: {exc}",
                        short=f"torchvision could not read {name} from the cache ({exc})") from exc
    return images_from_torchvision(train, test, name)


def images_from_torchvision(train: Any, test: Any, name: str) -> ImageData:
    """Turn two torchvision datasets (with ``.data``, ``.targets``, ``.classes``) into ImageData.

    ``.data`` is (N, H, W) uint8 for grey images (a tensor in MNIST) or (N, H, W, 3) for colour (CIFAR).
    """
    def images(ds: Any) -> np.ndarray:
        X = np.asarray(ds.data)
        X = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)  # -> (N, C, H, W)
        return np.ascontiguousarray(X, dtype=np.float32) / 255.0

    def labels(ds: Any) -> np.ndarray:
        return np.asarray(ds.targets, dtype=np.int64)

    return ImageData(images(train), labels(train), images(test), labels(test), classes=list(train.classes),
                     name=name, reason="")


def _subsample(data: ImageData, n_train: int | None, n_test: int | None, seed: int) -> ImageData:
    r = np.random.default_rng(seed)
    if n_train is not None and n_train < len(data.y_train):
        keep = np.sort(r.permutation(len(data.y_train))[:n_train])
        data.X_train, data.y_train = data.X_train[keep], data.y_train[keep]
    if n_test is not None and n_test < len(data.y_test):
        keep = np.sort(r.permutation(len(data.y_test))[:n_test])
        data.X_test, data.y_test = data.X_test[keep], data.y_test[keep]
    return data


# ----------------------------------------------------------------------------------------
# Other offline data.
# ----------------------------------------------------------------------------------------
@dataclass
class Photos:
    """A few unlabelled photos. images: (N, 3, H, W) float32 in [0, 1]."""

    images: np.ndarray
    names: list[str]
    name: str = "sample_photos"
    reason: str = "bundled with scikit-learn, no download needed"
    licence: str = "CC BY 2.0, photos by danielbuechele and vultilion on Flickr (see sklearn/datasets/images/README.txt)"

    def __str__(self) -> str:
        return f"{self.name}: {len(self.images)} photos of {'x'.join(map(str, self.images.shape[1:]))} ({self.reason})"


def load_sample_photos() -> Photos:
    """scikit-learn's two bundled photos (china.jpg, flower.jpg), as (2, 3, 427, 640) float32 in [0, 1]."""
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    images = np.stack(bunch.images).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    return Photos(images=images, names=[Path(f).name for f in bunch.filenames])


def make_spirals(n_per_class: int = 100, num_classes: int = 3, noise: float = 0.2, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved 2-D spirals, one arm per class: not linearly separable.

    Returns:
    - X: (n_per_class * num_classes, 2) float32
    - y: (n_per_class * num_classes,) int64
    """
    r = np.random.default_rng(seed)
    X, y = [], []
    for k in range(num_classes):
        radius = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + r.normal(0, noise, n_per_class)
        X.append(np.c_[radius * np.sin(theta), radius * np.cos(theta)])
        y.append(np.full(n_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y).astype(np.int64)


SHAPE_CLASSES = ["horizontal bar", "vertical bar", "diagonal", "box"]


def make_shapes(n_train: int = 800, n_test: int = 200, size: int = 16, noise: float = 0.15, seed: int = 0
                ) -> ImageData:
    """Synthetic grey images of four shapes at random places, with pixel noise: a tiny offline image task."""
    r = np.random.default_rng(seed)
    n = n_train + n_test
    y = r.integers(0, len(SHAPE_CLASSES), size=n)
    X = np.zeros((n, size, size), dtype=np.float32)
    idx = np.arange(size)
    for i, k in enumerate(y):
        a, b = r.integers(2, size - 2, size=2)
        length = r.integers(size // 3, size - 2)
        lo = max(0, min(a, b) - length // 2)
        if k == 0:
            X[i, a, lo:lo + length] = 1.0
        elif k == 1:
            X[i, lo:lo + length, b] = 1.0
        elif k == 2:
            d = idx[:length]
            X[i, (d + lo) % size, d] = 1.0
        else:
            s = max(3, length // 2)
            top, left = min(a, size - s - 1), min(b, size - s - 1)
            X[i, top, left:left + s + 1] = X[i, top + s, left:left + s + 1] = 1.0
            X[i, top:top + s + 1, left] = X[i, top:top + s + 1, left + s] = 1.0
    X = np.clip(X + r.normal(0, noise, size=X.shape), 0.0, 1.0).astype(np.float32)[:, None]
    y = y.astype(np.int64)
    return ImageData(X[:n_train], y[:n_train], X[n_train:], y[n_train:], classes=list(SHAPE_CLASSES),
                     name="shapes", reason="synthetic, generated on the spot")


# ----------------------------------------------------------------------------------------
# Arrays -> PyTorch batches.
# ----------------------------------------------------------------------------------------
def train_val_split(X: np.ndarray, y: np.ndarray, val_fraction: float = 0.2, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded random split. Returns X_train, y_train, X_val, y_val (val has round(N * val_fraction) rows)."""
    order = np.random.default_rng(seed).permutation(len(y))
    n_val = int(round(len(y) * val_fraction))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


class _InMemoryBatches:
    """Tensors indexed a whole batch at a time: ``ds[[3, 7, 1]]`` gives (X[[3, 7, 1]], y[[3, 7, 1]])."""

    def __init__(self, *tensors: Any) -> None:
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, indices: Any) -> tuple:
        import torch

        index = torch.as_tensor(indices, dtype=torch.long)
        # index_select, not t[index]: advanced indexing of a multi-dimensional tensor goes through a
        # parallel kernel that, on a busy CPU, can cost milliseconds per batch instead of microseconds.
        return tuple(t.index_select(0, index) for t in self.tensors)


def make_loader(X: Any, y: Any, batch_size: int = 64, shuffle: bool = False, seed: int | None = None,
                drop_last: bool = False) -> Any:
    """A DataLoader over in-memory arrays that yields (X_batch, y_batch) tensors.

    Inputs:
    - X: (N, ...) array or tensor, becomes float32; y: (N,) labels (integers become int64)
    - shuffle: new order every epoch; ``seed`` makes that sequence of orders reproducible
    Returns:
    - torch.utils.data.DataLoader; X_batch (B, ...) float32, y_batch (B,)
    """
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    X = torch.as_tensor(np.asarray(X) if not torch.is_tensor(X) else X, dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y)
    if not y.is_floating_point():
        y = y.long()
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)}")
    dataset = _InMemoryBatches(X, y)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    # The sampler hands out whole index lists, so each batch is one slice of each tensor instead of
    # batch_size single lookups stacked by collate: far less Python work per batch.
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last), batch_size=None)
