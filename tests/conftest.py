"""Shared fixtures: the course root, student versions generated once per session, and the grader."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("DLCOURSE_PROFILE", "cpu")
# Tests run two at a time on two cores: one BLAS/torch thread per process avoids the
# oversubscription that made small models several times slower. Kernels inherit this.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())


def sandbox_or_skip() -> bool:
    """Sandboxed grading where possible. In CI it must be possible: fail rather than skip there."""
    from autograder.sandbox import sandbox_problem

    problem = sandbox_problem()
    if problem is None:
        return True
    if os.environ.get("CI"):
        pytest.fail(f"CI must grade in the sandbox: {problem}")
    pytest.skip(problem)
    return False


@pytest.fixture(scope="session")
def generated_lessons(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Student versions generated from solutions/ by nbgrader, into a scratch folder."""
    from autograder.__main__ import generate_lessons

    out = tmp_path_factory.mktemp("generated") / "lessons"
    generate_lessons(ROOT, out, assignments())
    return out


def read_nb(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def committed_text(path: Path) -> str:
    """A lesson file as committed. Learners work in lessons/ itself, so a notebook with local
    changes is their work in progress: course checks read the committed version instead."""
    rel = path.resolve().relative_to(ROOT)
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", str(rel)], cwd=ROOT)
    if changed.returncode == 1:
        shown = subprocess.run(["git", "show", f"HEAD:{rel.as_posix()}"], cwd=ROOT, capture_output=True, text=True)
        if shown.returncode == 0:
            return shown.stdout
    return path.read_text()
