"""``dlcourse-doctor`` (or ``python -m dlcourse.doctor``): is this machine ready for the course?

Checks, in order: package versions against the pins in pyproject.toml, the device torch will use
(CUDA, MPS or CPU, with a small computation on it), the run profile, and the dataset cache (which
files are there, and whether their sizes and checksums match datasets/registry.json).

Exit status 0 unless something is broken: a package missing or failing to import, a torch older
than the course supports, a device that fails, or a corrupt file in the cache. A version that
differs from its pin is a warning (``--strict`` makes warnings count too).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata as metadata
import os
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse import data
from dlcourse.env import DEVICE_ENV, PROFILE_ENV, get_device, get_profile

PYPROJECT = data.REPO_ROOT / "pyproject.toml"
# The oldest versions the lessons are written against (the GPU machines run these).
MIN_SUPPORTED = {"torch": (2, 11), "torchvision": (0, 26)}
# Distribution name -> module to import, for the packages whose import can fail in interesting ways.
IMPORTS = {"numpy": "numpy", "torch": "torch", "torchvision": "torchvision", "scikit-learn": "sklearn",
           "matplotlib": "matplotlib", "tqdm": "tqdm", "nbgrader": "nbgrader", "nbclient": "nbclient"}
MARKS = {"ok": "[ ok ]", "info": "[ -- ]", "warn": "[warn]", "fail": "[FAIL]"}


@dataclass
class Report:
    """Findings by section; ``fail`` findings are what makes the exit status non-zero."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (status, text); status "" = heading

    def section(self, title: str) -> None:
        self.lines.append(("", title))

    def add(self, status: str, text: str) -> None:
        assert status in MARKS, status
        self.lines.append((status, text))

    def count(self, status: str) -> int:
        return sum(s == status for s, _ in self.lines)

    def render(self) -> str:
        out = []
        for status, text in self.lines:
            if status:
                first, *rest = text.splitlines()
                out.append(f"  {MARKS[status]} {first}")
                out.extend(f"         {line}" for line in rest)
            else:
                out.append(f"\n{text}")
        return "\n".join(out)


# ----------------------------------------------------------------------------------------
# Packages.
# ----------------------------------------------------------------------------------------
def read_pins(pyproject: Path | None = None) -> dict[str, str]:
    """Exact pins ``name==version`` from pyproject.toml's dependencies (else the installed metadata)."""
    pyproject = Path(pyproject or PYPROJECT)
    if pyproject.exists():
        text = pyproject.read_text()
        try:
            import tomllib

            deps = tomllib.loads(text)["project"]["dependencies"]
        except ImportError:  # Python 3.10: no tomllib; the dependency lines are simple enough
            block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
            deps = re.findall(r'"([^"]+)"', block.group(1)) if block else []
    else:
        deps = metadata.requires("dlcourse") or []
    pins = {}
    for dep in deps:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^;\s]+)", dep)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def _version_tuple(version: str) -> tuple[int, ...]:
    """Leading numeric release parts: "2.14.1+cu130" -> (2, 14, 1), "0.26.0rc1" -> (0, 26, 0)."""
    parts = []
    for piece in version.split("+")[0].split("."):
        m = re.match(r"\d+", piece)
        if not m:
            break
        parts.append(int(m.group()))
    return tuple(parts)


def check_packages(report: Report, pins: dict[str, str]) -> None:
    report.section(f"Packages (pins from {PYPROJECT if PYPROJECT.exists() else 'installed dlcourse metadata'})")
    report.add("info", f"Python {platform.python_version()} at {sys.executable}")
    for name, pinned in sorted(pins.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            report.add("fail", f"{name} is not installed (pinned {pinned}); run: pip install -e .")
            continue
        module = IMPORTS.get(name)
        if module:
            try:
                importlib.import_module(module)
            except Exception as exc:  # a broken install shows up here, e.g. a torch/torchvision mismatch
                report.add("fail", f"{name} {installed} is installed but `import {module}` fails: "
                                   f"{type(exc).__name__}: {exc}")
                continue
        minimum = MIN_SUPPORTED.get(name)
        if _version_tuple(installed) == _version_tuple(pinned):
            report.add("ok", f"{name} {installed}")
        elif minimum and _version_tuple(installed) < minimum:
            report.add("fail", f"{name} {installed} is older than the course supports "
                               f"({'.'.join(map(str, minimum))} or newer; pinned {pinned})")
        elif minimum:
            report.add("warn", f"{name} {installed} differs from the pin {pinned} "
                               f"(supported: {'.'.join(map(str, minimum))} or newer)")
        else:
            report.add("warn", f"{name} {installed} differs from the pin {pinned}")


# ----------------------------------------------------------------------------------------
# Device and profile.
# ----------------------------------------------------------------------------------------
def check_device(report: Report) -> None:
    report.section("Device")
    try:
        import torch

        device = get_device()
        # A tiny computation: a driver or build problem shows up here, not halfway through a lesson.
        a = torch.arange(6.0, device=device).reshape(2, 3)
        if float((a @ a.T).sum().cpu()) != 83.0:
            raise RuntimeError("a 2x3 matrix product gave the wrong answer")
    except Exception as exc:
        forced = os.environ.get(DEVICE_ENV)
        hint = f" (${DEVICE_ENV}={forced} asks for it)" if forced else ""
        report.add("fail", f"the device does not work{hint}: {type(exc).__name__}: {exc}")
        return
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        report.add("ok", f"cuda: {props.name}, compute capability {props.major}.{props.minor}, "
                         f"{props.total_memory / 2**30:.1f} GiB, CUDA {torch.version.cuda}, cuDNN {cudnn}; "
                         f"a test computation ran")
    elif device.type == "mps":
        report.add("ok", "mps: Apple GPU; a test computation ran")
    else:
        note = "" if os.environ.get(DEVICE_ENV) else "; no GPU found, so lessons run small (CPU profile)"
        report.add("ok", f"cpu: {torch.get_num_threads()} threads{note}")


def check_profile(report: Report) -> None:
    report.section("Run profile")
    try:
        report.add("ok", str(get_profile()))
    except ValueError as exc:
        report.add("fail", f"${PROFILE_ENV}: {exc}")


# ----------------------------------------------------------------------------------------
# Datasets.
# ----------------------------------------------------------------------------------------
def check_datasets(report: Report, checksums: bool = True) -> None:
    root = data.cache_dir()
    allowed = "yes" if data.downloads_allowed() else f"no (set {data.ALLOW_DOWNLOAD_ENV}=1 to allow)"
    where = f"${data.DATA_ENV}" if os.environ.get(data.DATA_ENV) else f"default; set ${data.DATA_ENV} to move it"
    report.section(f"Datasets (cache {root}, {where}; downloads allowed: {allowed})")
    try:
        report.add("ok", str(data.load_images("digits")))
        report.add("ok", str(data.load_sample_photos()))
    except Exception as exc:
        report.add("fail", f"the offline datasets bundled with scikit-learn do not load: {type(exc).__name__}: {exc}")
    try:
        registry = data.load_registry()
    except Exception as exc:
        report.add("fail", f"cannot read the dataset registry: {exc}")
        return
    for name, entry in registry.items():
        missing = 0
        for remote in entry.files:
            path = entry.path(remote, root)
            if not path.exists():
                missing += 1
                continue
            try:
                data.verify_file(path, remote, checksums=checksums)
            except data.ChecksumError as exc:
                report.add("fail", f"{name}/{remote.name}: {exc}")
                continue
            how = ", ".join(f"{a} ok" for a in remote.checksums) if checksums else "size ok, checksums not read"
            report.add("ok", f"{name}/{remote.name}: {remote.size} bytes, {how}")
        if missing == len(entry.files):
            size = sum(r.size for r in entry.files) / 1e6
            report.add("info", f"{name}: not downloaded ({size:.0f} MB); lessons fall back to digits. "
                               f"Get it with: dlcourse-doctor --download {name}")
        elif missing:
            report.add("warn", f"{name}: {missing} of {len(entry.files)} files missing; "
                               f"get them with: dlcourse-doctor --download {name}")


def download(report: Report, names: list[str]) -> None:
    report.section("Downloads")
    for name in names:
        try:
            root = data.fetch(name, allow_download=True)
            report.add("ok", f"{name}: in the cache at {root}, verified")
        except (data.DataError, ValueError) as exc:
            report.add("fail", f"{name}: {exc}")


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 0 if nothing is broken, else 1."""
    parser = argparse.ArgumentParser(prog="dlcourse-doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-checksums", action="store_true", help="check cached file sizes only (fast)")
    parser.add_argument("--download", nargs="+", metavar="NAME", default=[],
                        help="download and verify these datasets first (mnist, fashion_mnist, cifar10)")
    parser.add_argument("--strict", action="store_true", help="count warnings as problems")
    args = parser.parse_args(argv)

    report = Report()
    print("dlcourse doctor: is this machine ready for the course?")
    check_packages(report, read_pins())
    check_device(report)
    check_profile(report)
    if args.download:
        download(report, args.download)
    check_datasets(report, checksums=not args.no_checksums)
    print(report.render())

    fails, warns = report.count("fail"), report.count("warn")
    broken = fails + (warns if args.strict else 0)
    summary = f"{fails} problem(s), {warns} warning(s)"
    print(f"\n{'Ready' if not broken else 'NOT ready'}: {summary}." +
          ("" if not broken else " Fix the [FAIL] lines above" + (" and the [warn] lines" if args.strict else "") + "."))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
