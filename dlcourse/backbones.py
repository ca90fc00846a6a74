"""Pretrained backbones for transfer learning, and a loader that always says which one you got.

    from dlcourse.backbones import load_backbone
    bb = load_backbone(profile=P)
    print(bb)          # one line: which backbone, what it was pretrained on, and why this one

Two kinds, with the same interface (``bb.features`` maps normalised images (N, C, H, W) to
features (N, bb.feature_dim), in named blocks ``bb.blocks``, first to last):

- ``resnet18``: torchvision's ResNet-18 with its ImageNet weights. Used in the full profile when
  the weight file is in the torch cache (``torch.hub.get_dir()/checkpoints``) or may be downloaded
  (``allow_download=True`` or ``DLCOURSE_ALLOW_DOWNLOAD=1``). torchvision names its weight files
  after the first hex digits of their sha256; the file is checked against them before use.
- ``course``: a small CNN the course pretrains itself on clean scikit-learn digits (the first
  ``SOURCE_FRACTION`` of the bundled digits' training split), offline, in seconds, seeded. It is
  made on first use (or by ``python -m dlcourse.backbones``) and cached in the dataset cache
  (``datasets/cache/backbones``, or ``$DLCOURSE_DATA/backbones``) with its sha256 in a sidecar file,
  checked at every load. Used in the CPU profile, and whenever ResNet-18 cannot be had.
"""
from __future__ import annotations

import copy
import hashlib
import http.client
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from dlcourse.data import (ChecksumError, DataError, DownloadError, OfflineError, cache_dir, downloads_allowed,
                           file_checksums, load_images, ALLOW_DOWNLOAD_ENV)
from dlcourse.env import Profile, get_profile

RESNET18_URL = "https://download.pytorch.org/models/resnet18-f37072fd.pth"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torch.hub's own convention: the file name ends in "-<first hex digits of its sha256>.pth".
HASH_REGEX = re.compile(r"-([a-f0-9]+)\.")
# The course backbone learns from this share of the digits' training split; lessons use the rest.
SOURCE_FRACTION = 0.6
_CHUNK = 1 << 20


# ----------------------------------------------------------------------------------------
# Architectures: both expose named blocks, so lesson code works with either.
# ----------------------------------------------------------------------------------------
def _conv_block(c_in: int, c_out: int, pool: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [nn.MaxPool2d(2)] if pool else []
    # No conv bias: the BatchNorm right after it subtracts any constant the bias could add.
    layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers)


def course_features(in_channels: int = 1, width: int = 16) -> nn.Sequential:
    """The course backbone's layers: (N, in_channels, H, W) -> (N, 2 * width); H, W >= 2.

    Blocks: stem, layer1 (width channels), layer2 (max-pool, then 2 * width), layer3, then a
    global average pool and a flatten.
    """
    return nn.Sequential(OrderedDict(
        stem=_conv_block(in_channels, width), layer1=_conv_block(width, width),
        layer2=_conv_block(width, 2 * width, pool=True), layer3=_conv_block(2 * width, 2 * width),
        pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten()))


def resnet18_features(model: nn.Module) -> nn.Sequential:
    """torchvision's ResNet-18 without its ImageNet head, in named blocks: (N, 3, H, W) -> (N, 512)."""
    stem = nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool)
    return nn.Sequential(OrderedDict(stem=stem, layer1=model.layer1, layer2=model.layer2, layer3=model.layer3,
                                     layer4=model.layer4, pool=model.avgpool, flatten=nn.Flatten()))


@dataclass
class Backbone:
    """A pretrained feature extractor and what it expects.

    - features: nn.Sequential with named blocks; normalised (N, in_channels, input_size, input_size)
      -> (N, feature_dim)
    - blocks: the names of its trainable blocks, first (nearest the pixels) to last
    - mean, std: per-channel normalisation it was pretrained with: feed it (X - mean) / std
    - name: the backbone actually loaded; requested: the one asked for; reason: why this one
    """

    features: nn.Sequential
    name: str
    source: str
    reason: str
    feature_dim: int
    blocks: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    in_channels: int
    input_size: int
    requested: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def fell_back(self) -> bool:
        """True when this is not the backbone that was asked for."""
        return bool(self.requested) and self.requested != self.name

    def __str__(self) -> str:
        n = sum(p.numel() for p in self.features.parameters())
        text = (f"{self.name}: {n:,} parameters, {self.feature_dim}-d features, inputs {self.in_channels}x"
                f"{self.input_size}x{self.input_size}, pretrained on {self.source} ({self.reason})")
        return " ".join(text.split())


class TransferNet(nn.Module):
    """A backbone's features followed by a new linear head: (N, C, H, W) -> logits (N, num_classes)."""

    def __init__(self, features: nn.Module, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        self.features = features
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(X))


def new_classifier(backbone: Backbone, num_classes: int, seed: int = 0) -> TransferNet:
    """A TransferNet on a private copy of the backbone's weights, with a seeded new head; all trainable."""
    with torch.random.fork_rng():  # the head's init must not move the caller's random stream
        torch.manual_seed(seed)
        model = TransferNet(copy.deepcopy(backbone.features), backbone.feature_dim, num_classes)
    for p in model.parameters():
        p.requires_grad_(True)
    return model.train()


# ----------------------------------------------------------------------------------------
# The course's own backbone: a recipe, a seeded pretraining run, a verified cache.
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recipe:
    """Everything that determines the course backbone. Its ``key`` names the cache file."""

    width: int = 16
    num_epochs: int = 10
    lr: float = 3e-3
    batch_size: int = 64
    seed: int = 0
    source: str = "digits"
    source_fraction: float = SOURCE_FRACTION
    version: int = 1  # bump when the code below changes what a recipe produces

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]


def source_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits the course backbone learns from, and the ones it never sees.

    Returns X_source (N_s, 1, 8, 8), y_source (N_s,), X_rest, y_rest: the first SOURCE_FRACTION of
    load_images("digits").X_train, and the remainder. The digits' test split is in neither.
    """
    digits = load_images("digits", seed=seed)
    n = int(round(SOURCE_FRACTION * len(digits.y_train)))
    return digits.X_train[:n], digits.y_train[:n], digits.X_train[n:], digits.y_train[n:]


def pretrain_course_backbone(recipe: Recipe = Recipe()) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Train the course backbone on clean digits from ``recipe``'s seed; returns (state_dict, info).

    Single-threaded and seeded on the CPU, so the same recipe gives the same weights on one machine.
    info: source accuracy on a held-back 15% of the source images, seconds taken, mean and std.
    """
    X, y, _, _ = source_split()
    mean, std = float(X.mean()), float(X.std())
    n_val = len(y) * 15 // 100
    Xt = torch.from_numpy((X - mean) / std)
    yt = torch.from_numpy(y)
    start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: reproducible sums, and no fight with a busy machine
    try:
        with torch.random.fork_rng():
            torch.manual_seed(recipe.seed)
            features = course_features(1, recipe.width)
            model = TransferNet(features, 2 * recipe.width, 10)
            optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=1e-4)
            g = torch.Generator().manual_seed(recipe.seed)
            train_X, train_y = Xt[n_val:], yt[n_val:]
            for _ in range(recipe.num_epochs):
                model.train()
                order = torch.randperm(len(train_y), generator=g)
                for i in range(0, len(order), recipe.batch_size):
                    idx = order[i:i + recipe.batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    nn.functional.cross_entropy(model(train_X[idx]), train_y[idx]).backward()
                    optimizer.step()
            model.eval()
            with torch.no_grad():
                acc = float((model(Xt[:n_val]).argmax(1) == yt[:n_val]).float().mean())
    finally:
        torch.set_num_threads(threads)
    info = {"source_val_acc": acc, "seconds": round(time.perf_counter() - start, 2), "mean": mean, "std": std,
            "source_images": int(len(y) - n_val)}
    return {k: v.detach().clone() for k, v in features.state_dict().items()}, info


def course_cache_paths(recipe: Recipe = Recipe(), root: Path | None = None) -> tuple[Path, Path]:
    """(weights file, sidecar JSON with its sha256) for a recipe, under the dataset cache."""
    folder = Path(root or cache_dir()) / "backbones"
    stem = f"course-digits-w{recipe.width}-{recipe.key()}"
    return folder / f"{stem}.pt", folder / f"{stem}.json"


def _read_cached(recipe: Recipe, root: Path | None) -> tuple[dict | None, dict | None, str]:
    weights, sidecar = course_cache_paths(recipe, root)
    if not weights.exists() or not sidecar.exists():
        return None, None, "not cached yet"
    try:
        meta = json.loads(sidecar.read_text())
        if meta.get("recipe") != asdict(recipe):
            return None, None, f"the cached file {weights.name} was made by another recipe"
        got = file_checksums(weights, ("sha256",))["sha256"]
        if got != meta.get("sha256"):
            return None, None, f"the cached {weights.name} failed its sha256 check (corrupt or changed)"
        # weights_only: a cache file is data; never let loading it run pickled code.
        state = torch.load(weights, map_location="cpu", weights_only=True)
        return state, meta, f"from the cache, sha256 verified ({weights})"
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        return None, None, f"the cached {weights.name} could not be read ({exc})"


def _write_cache(state: dict, meta: dict, recipe: Recipe, root: Path | None) -> Path:
    weights, sidecar = course_cache_paths(recipe, root)
    weights.parent.mkdir(parents=True, exist_ok=True)
    tmp_paths = []
    try:
        fd, tmp = tempfile.mkstemp(dir=weights.parent, prefix=f".{weights.name}.", suffix=".part")
        os.close(fd)
        tmp_paths.append(tmp)
        torch.save(state, tmp)
        meta = {**meta, "sha256": file_checksums(tmp, ("sha256",))["sha256"], "recipe": asdict(recipe)}
        fd, tmp_meta = tempfile.mkstemp(dir=weights.parent, prefix=f".{sidecar.name}.", suffix=".part")
        with os.fdopen(fd, "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        tmp_paths.append(tmp_meta)
        # Weights first, then the sidecar that vouches for them: a reader never sees a sidecar
        # whose weights are missing, and a stale pair fails the sha256 check and is remade.
        os.replace(tmp, weights)
        os.replace(tmp_meta, sidecar)
        return weights
    finally:
        for p in tmp_paths:
            Path(p).unlink(missing_ok=True)


def course_backbone(recipe: Recipe = Recipe(), root: Path | None = None, why: str = "") -> Backbone:
    """The course backbone for ``recipe``: from the verified cache, else pretrained now (and cached if possible)."""
    state, meta, how = _read_cached(recipe, root)
    if state is None:
        not_cached = how
        state, meta = pretrain_course_backbone(recipe)
        how = f"{not_cached}: pretrained now in {meta['seconds']:.1f} s"
        try:
            path = _write_cache(state, meta, recipe, root)
            how += f" and cached with its sha256 ({path})"
        except OSError as exc:
            how += f"; not cached, the cache folder is not writable ({exc.strerror or exc})"
    features = course_features(1, recipe.width)
    features.load_state_dict(state)
    features.eval()
    reason = f"{why}; {how}" if why else how
    return Backbone(features=features, name="course", reason=reason, feature_dim=2 * recipe.width,
                    blocks=("stem", "layer1", "layer2", "layer3"), mean=(meta["mean"],), std=(meta["std"],),
                    in_channels=1, input_size=8,
                    source=f"{meta.get('source_images', '?')} clean scikit-learn digits "
                           f"(source accuracy {meta['source_val_acc']:.1%})", info=dict(meta))


# ----------------------------------------------------------------------------------------
# torchvision's ResNet-18, verified.
# ----------------------------------------------------------------------------------------
def resnet18_path(url: str | None = None) -> Path:
    """Where torch.hub keeps (or would keep) the ResNet-18 weight file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url or RESNET18_URL).name


def expected_hash_prefix(url: str) -> str:
    """The sha256 prefix torchvision puts in a weight file's name ("resnet18-f37072fd.pth" -> "f37072fd")."""
    match = HASH_REGEX.search(Path(url).name)
    if not match or len(match.group(1)) < 8:
        raise ValueError(f"{url} does not carry a sha256 prefix in its name")
    return match.group(1)


def verify_weights(path: str | Path, url: str | None = None) -> None:
    """Raise ChecksumError unless the file's sha256 starts with the prefix in ``url``'s file name."""
    prefix = expected_hash_prefix(url or RESNET18_URL)
    got = file_checksums(path, ("sha256",))["sha256"]
    if not got.startswith(prefix):
        raise ChecksumError(f"{path}: sha256 {got} does not start with {prefix}, the hash in its published "
                            f"name. The file is corrupt or not torchvision's. Delete it and download it again.",
                            short=f"{Path(path).name} failed its sha256 check")


def download_weights(url: str, dest: str | Path, timeout: float = 60.0) -> Path:
    """Download a torchvision weight file to ``dest``, verified against its name's sha256 prefix.

    The bytes go to a temporary file next to ``dest`` and are renamed into place only once the
    hash matches: an interrupted or wrong download never reaches the cache.
    """
    dest = Path(dest)
    prefix = expected_hash_prefix(url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "dlcourse"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            expected_size = response.headers.get("Content-Length")
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
            h, got = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    h.update(chunk)
                    got += len(chunk)
                    out.write(chunk)
        if expected_size is not None and got != int(expected_size):
            raise DownloadError(f"the download was cut off: got {got} of {expected_size} bytes",
                                short=f"download of {dest.name} was cut off")
        if not h.hexdigest().startswith(prefix):
            raise ChecksumError(f"{url}: sha256 {h.hexdigest()} does not start with {prefix}; nothing was written",
                                short=f"{dest.name} failed its sha256 check")
        os.replace(tmp, dest)
        tmp = None
        return dest
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}",
                            short=f"download of {dest.name} failed: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise OfflineError(f"could not connect to {url} ({getattr(exc, 'reason', exc)})",
                           short=f"could not download {dest.name}: offline") from exc
    except (ConnectionError, http.client.HTTPException) as exc:
        raise DownloadError(f"{url}: the connection broke off ({exc!r})",
                            short=f"download of {dest.name} broke off") from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def resnet18_backbone(allow_download: bool | None = None, url: str | None = None,
                      input_size: int = 64) -> Backbone:
    """torchvision's ImageNet ResNet-18 from the torch cache (or downloaded, if allowed), verified.

    Raises DataError (DataNotAvailable-like, OfflineError, ChecksumError) when it cannot be had.
    """
    import torchvision

    url = url or RESNET18_URL
    path = resnet18_path(url)
    if path.exists():
        verify_weights(path, url)
        how = f"from the torch cache, sha256 prefix verified ({path})"
    elif downloads_allowed(allow_download):
        download_weights(url, path)
        how = "downloaded, sha256 prefix verified"
    else:
        raise DataError(f"the ResNet-18 weights are not in the torch cache ({path}) and downloads are off",
                        short=f"ResNet-18 weights not in the torch cache and downloads are off "
                              f"({ALLOW_DOWNLOAD_ENV}=1 allows them)")
    model = torchvision.models.resnet18(weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    features = resnet18_features(model).eval()
    return Backbone(features=features, name="resnet18", reason=how, feature_dim=512,
                    blocks=("stem", "layer1", "layer2", "layer3", "layer4"), mean=IMAGENET_MEAN,
                    std=IMAGENET_STD, in_channels=3, input_size=input_size, source="ImageNet-1k (torchvision)")


def recipe_for(profile: Profile) -> Recipe:
    """The course backbone's recipe in a profile: wider and longer in the full one."""
    return Recipe(width=32, num_epochs=20) if profile.is_full else Recipe()


def load_backbone(name: str | None = None, profile: Profile | None = None, allow_download: bool | None = None,
                  strict: bool = False) -> Backbone:
    """Load a pretrained backbone; always returns one, and says which and why.

    Inputs:
    - name: "resnet18" or "course"; None: "resnet18" in the full profile, "course" in the CPU profile
    - profile: run profile (default get_profile()); the full profile's course backbone is wider
    - allow_download: may the ResNet-18 weights be downloaded? None: $DLCOURSE_ALLOW_DOWNLOAD
    - strict: raise instead of falling back to the course backbone
    Returns:
    - Backbone; print it to see what you got
    """
    profile = profile or get_profile()
    requested = name or ("resnet18" if profile.is_full else "course")
    if requested not in ("resnet18", "course"):
        raise ValueError(f"unknown backbone {name!r}; choose 'resnet18' or 'course'")
    recipe = recipe_for(profile)
    if requested == "course":
        why = "asked for" if name else f"the course's own backbone in the {profile.name} profile"
        bb = course_backbone(recipe, why=why)
    else:
        try:
            bb = resnet18_backbone(allow_download)
        except DataError as exc:
            if strict:
                raise
            bb = course_backbone(recipe, why=f"asked for resnet18, but {exc.short}; fell back to the course backbone")
    bb.requested = requested
    return bb


# ----------------------------------------------------------------------------------------
# The failure-mode lab: five fine-tuning runs of one recipe, some of them broken on purpose.
# Lessons call this as behaviour; what goes wrong in each run is for the learner to find.
# ----------------------------------------------------------------------------------------
@dataclass
class LabRun:
    """One fine-tuning run: per-epoch curves, the backbone before and after, what went in.

    - val_acc, train_loss: one float per epoch (validation accuracy in eval mode)
    - before, after: state_dict of the backbone's features (parameters and buffers), CPU tensors
    - input_mean, input_std: statistics of the batches the network was fed
    - config: the recipe as the run's owner describes it
    """

    val_acc: list[float]
    train_loss: list[float]
    before: dict[str, torch.Tensor]
    after: dict[str, torch.Tensor]
    input_mean: float
    input_std: float
    config: dict[str, Any]


def _lab_run(bb: Backbone, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, fault: str,
             num_epochs: int, seed: int) -> LabRun:
    mean, std = bb.mean[0], bb.std[0]
    scale = (lambda a: torch.from_numpy(a)) if fault == "raw" else (lambda a: torch.from_numpy((a - mean) / std))
    Xt, Xv = scale(X), scale(X_val)
    yt, yv = torch.from_numpy(y), torch.from_numpy(y_val)
    model = new_classifier(bb, 10, seed=seed)
    before = {k: v.detach().clone() for k, v in model.features.state_dict().items()}
    batch_size = 1 if fault == "tiny" else 25
    if fault == "decay":  # a warm-up pass through everything leaves a .grad on every parameter
        model.eval()
        nn.functional.cross_entropy(model(Xt[:batch_size]), yt[:batch_size]).backward()
    top = bb.blocks[-1]
    for name, block in model.features.named_children():
        for p in block.parameters():
            p.requires_grad_(name == top and fault != "decay")
    if fault == "late":
        for p in getattr(model.features, top).parameters():
            p.requires_grad_(False)
    head = {"params": list(model.head.parameters()), "lr": 1e-2}
    if fault == "decay":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(
            [head, {"params": list(model.features.parameters()), "lr": 2e-3}], weight_decay=1e-3)
    else:
        groups = [head] + [{"params": [p for p in model.features.parameters() if p.requires_grad], "lr": 2e-3}]
        optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=1e-4)
    if fault == "late":  # unfrozen only now: the optimiser above never heard of these parameters
        for p in getattr(model.features, top).parameters():
            p.requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    val_acc, train_loss, seen = [], [], []
    for _ in range(num_epochs):
        model.train()
        if fault != "tiny":
            for m in model.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        order, losses = torch.randperm(len(yt), generator=g), []
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            # zero, not None: with "decay" the frozen parameters keep a zero .grad, which Adam still steps.
            optimizer.zero_grad(set_to_none=fault != "decay")
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            seen.append(Xt[idx])
        model.eval()
        with torch.no_grad():
            val_acc.append(float((model(Xv).argmax(1) == yv).float().mean()))
        train_loss.append(float(np.mean(losses)))
    fed = torch.cat(seen)
    after = {k: v.detach().clone() for k, v in model.features.state_dict().items()}
    tuned = [] if fault == "decay" else [top]
    config = {"trained": ["head"] + tuned, "frozen": [b for b in bb.blocks if b not in tuned],
              "batch size": batch_size, "epochs": num_epochs}
    return LabRun(val_acc, train_loss, before, after, float(fed.mean()), float(fed.std()), config)


LAB_FAULTS = ("late", "ok", "tiny", "decay", "raw")  # runs "A" to "E", in this order


def failure_lab(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, num_epochs: int = 6,
                seed: int = 0) -> dict[str, LabRun]:
    """Five runs "A".."E" of one fine-tuning recipe (the last block and the head) on the course backbone.

    Inputs:
    - X, X_val: float32 (N, 1, 8, 8) in [0, 1]; y, y_val: int64 (N,) digit labels
    Returns:
    - {"A": LabRun, ..., "E": LabRun}
    """
    bb = course_backbone()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            return {letter: _lab_run(bb, X, y, X_val, y_val, fault, num_epochs, seed)
                    for letter, fault in zip("ABCDE", LAB_FAULTS)}
    finally:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    """``python -m dlcourse.backbones [--profile cpu|full]``: make (or verify) the cached course backbone."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--profile", choices=("cpu", "full"), default="cpu")
    args = parser.parse_args(argv)
    print(load_backbone("course", profile=get_profile(args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
