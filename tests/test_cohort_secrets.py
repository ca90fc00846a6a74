"""An open course whose grades still mean something: cohort secrets change the hidden inputs,
a private overlay replaces public lessons for a cohort without reaching lessons/, and copied
answers are flagged for a person to read."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from autograder.grading import GradeContext, Source, grade_notebook, reference_probes
from autograder.sandbox import Limits
from dlcourse.checks import compare
from tests.conftest import ROOT, sandbox_or_skip

pytestmark = pytest.mark.grading
A = "01_activations"
FIXTURE = ROOT / "tests" / "fixtures" / A / f"{A}.ipynb"
LIMITS = Limits(cell_timeout=20, notebook_timeout=200, memory_mb=1024, max_pids=64)


def ctx(secret: str = "") -> GradeContext:
    sandboxed = sandbox_or_skip()
    reveal = [ROOT / n for n in (".venv", "dlcourse", "datasets", "lessons")]
    return GradeContext(LIMITS, hide=[ROOT], reveal=reveal, sandboxed=sandboxed, secret=secret)


def hidden_values(ref) -> list:
    return [c["value"] for gid, checks in ref.items() if gid != "__timing__" for c in checks if c["hidden"]]


def test_a_cohort_secret_changes_the_hidden_inputs_reproducibly_and_the_solution_keeps_full_marks(tmp_path):
    source = Source.load(FIXTURE)
    refs = {name: reference_probes(source, ctx(secret)) for name, secret in
            [("public", ""), ("alpha", "alpha-7f3c"), ("alpha again", "alpha-7f3c"), ("beta", "beta-91d2")]}
    values = {name: hidden_values(ref) for name, ref in refs.items()}

    def same(a, b):
        return all(compare(x, y, rtol=0, atol=0, dtype="exact") is None for x, y in zip(values[a], values[b]))
    assert same("alpha", "alpha again")
    assert not same("alpha", "beta") and not same("alpha", "public")
    path = tmp_path / f"{A}.ipynb"
    nbformat.write(nbformat.read(FIXTURE, 4), path)
    full = sum(source.points[g] for g in source.test_ids)
    for name, secret in [("alpha", "alpha-7f3c"), ("beta", "beta-91d2")]:
        assert grade_notebook(path, source, refs[name], ctx(secret)).score == full


def test_the_secret_reaches_graded_code_only_through_hidden_rng(tmp_path):
    """The reference cache is keyed by the secret (never storing it), so two cohorts never share one."""
    source = Source.load(FIXTURE)
    cache = tmp_path / "cache"
    reference_probes(source, ctx("s1"), cache)
    reference_probes(source, ctx("s2"), cache)
    names = sorted(p.name for p in cache.iterdir())
    assert len(names) == 2 and not any("s1" in n or "s2" in n for n in names)


def _private_lesson(folder: Path) -> Path:
    """A private version of lesson 01: one more hidden check (1 point) on the sigmoid."""
    nb = nbformat.read(FIXTURE, 4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "01_sigmoid_tests":
            cell.source = cell.source.replace(
                "### END HIDDEN TESTS",
                't.check("private: sigmoid on a cohort-only input", lambda: sigmoid(hidden_rng(4242).normal(size=9)))\n'
                "### END HIDDEN TESTS")
            meta["points"] = meta["points"] + 1
    out = folder / A / f"{A}.ipynb"
    out.parent.mkdir(parents=True)
    nbformat.write(nb, out)
    return out


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def test_a_private_overlay_with_a_secret_runs_the_whole_loop_and_never_touches_lessons(tmp_path):
    sandbox_or_skip()
    overlay, cohort, downloads = tmp_path / "private", tmp_path / "cohort", tmp_path / "downloads"
    private = _private_lesson(overlay)
    lessons_before = {p: p.read_bytes() for p in (ROOT / "lessons").rglob("*") if p.is_file()}
    env = {**os.environ, "DLCOURSE_SOLUTIONS": str(overlay), "DLCOURSE_COHORT": str(cohort),
           "DLCOURSE_COHORT_SECRET": "cohort-secret-1"}
    done = _cli(["release", A], env)
    assert done.returncode == 0, done.stdout + done.stderr
    released = nbformat.read(cohort / "release" / A / f"{A}.ipynb", 4)
    assert "private: sigmoid" not in nbformat.writes(released)   # hidden, as ever
    assert (cohort / "release" / A / "public_checks.json").exists()
    # Submissions: the private solution itself (a copy, flagged), a renamed copy, and a blank.
    downloads.mkdir()
    shutil.copy(private, downloads / "copier.ipynb")
    renamed = nbformat.read(private, 4)
    for cell in renamed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "01_softmax":
            cell.source = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", cell.source, flags=re.M).replace("shifted", "zz")
    nbformat.write(renamed, downloads / "renamer.ipynb")
    nbformat.write(released, downloads / "blank.ipynb")
    for cmd in (["collect", str(downloads), A], ["autograde", A, "--jobs", "2"], ["feedback", A], ["export"]):
        done = _cli(cmd, env)
        assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    rows = {r["student_id"]: r for r in csv.DictReader(open(cohort / "grades.csv"))}
    assert float(rows["copier"]["score"]) == 23.0 and float(rows["copier"]["max_score"]) == 23.0
    assert float(rows["renamer"]["score"]) == 23.0 and float(rows["blank"]["score"]) == 0.0
    report = (cohort / "reports" / f"{A}.txt").read_text()
    assert "Possible copies" in report and "renamer: 01_softmax is 100% similar to the published solution" in report
    assert "blank: " not in report.split("Possible copies")[1]
    # Nothing of the overlay reached the public lessons.
    assert {p: p.read_bytes() for p in (ROOT / "lessons").rglob("*") if p.is_file()} == lessons_before
    assert not any("private: sigmoid" in p.read_text(errors="ignore") for p in (ROOT / "lessons").rglob("*.ipynb"))
