"""Are the pins in pyproject.toml and environment.yml the same, and exact?"""
import re
import tomllib

from tests.conftest import ROOT


def pyproject_pins() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(d.split("==") for d in deps)


def environment_pins() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    pins = [re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==(\S+)\s*$", line) for line in lines]
    return {m.group(1): m.group(2) for m in pins if m}


def test_every_dependency_is_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    loose = [d for d in deps if "==" not in d]
    assert not loose, f"pin these exactly (name==version): {loose}"


def test_environment_yml_lists_the_same_pins():
    assert environment_pins() == pyproject_pins()


def test_torch_pair_is_the_matched_one():
    """torch 2.13.0 resolves to a local CPU-only wheel that torchvision rejects at import."""
    pins = pyproject_pins()
    assert (pins["torch"], pins["torchvision"]) == ("2.14.1", "0.29.2")


def test_core_packages_are_present():
    pins = pyproject_pins()
    for name in ["jupyterlab", "nbgrader", "torch", "torchvision", "matplotlib", "numpy", "scikit-learn", "nbval"]:
        assert name in pins
