"""Busy machines do not cost points: the same cohort graded idle and under saturated CPU.

Builds a cohort of N submissions of lesson 01 (default 30) from the bundled example
submissions, the solution, the blank student version and every known-mistake variant in
tests/submissions/lesson01.py, repeated under different student names. Grades it twice with
`python -m autograder autograde` (sandboxed, --jobs J): once on an idle machine, once while H
CPU-hog processes (default 4) keep every core busy. Prints both runs' grades side by side and
the difference, which must be none; exits 1 if there is one.

This is a proof to run by hand on an otherwise quiet machine, not a test (it takes minutes):

    .venv/bin/python bench/busy_grading.py [--students 30] [--jobs 2] [--hogs 4]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
A = "01_activations"

from tests.submissions import load_variants, make_submission, solution_answers  # noqa: E402

HOG = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def submissions() -> list[tuple[str, nbformat.NotebookNode]]:
    """(kind, notebook) for every distinct submission we know the grade of."""
    solution = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "lessons" / A / f"{A}.ipynb", as_version=4)
    out = [(p.stem, nbformat.read(p, as_version=4))
           for p in sorted((ROOT / "autograder" / "example_submissions" / A).glob("*.ipynb"))]
    from tests.submissions import Variant
    out.append(("solution", make_submission(blank, Variant("solution", solution_answers(solution)))))
    out.append(("blank", blank))
    for variant in load_variants(A):
        out.append((variant.name, make_submission(solution, variant)))
    return out


def build_cohort(folder: Path, n: int) -> dict[str, str]:
    """Write n submissions as <folder>/sNN.ipynb; return student -> kind."""
    folder.mkdir(parents=True, exist_ok=True)
    kinds = submissions()
    students = {}
    for i in range(n):
        kind, nb = kinds[i % len(kinds)]
        student = f"s{i + 1:02d}"
        nbformat.write(nb, folder / f"{student}.ipynb")
        students[student] = kind
    return students


def grade(incoming: Path, cohort: Path, jobs: int, log: Path) -> tuple[dict[str, dict], float]:
    env = {**os.environ, "DLCOURSE_COHORT": str(cohort),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")}
    with open(log, "w") as out:
        for cmd in (["release", A], ["collect", str(incoming), A]):
            done = subprocess.run([sys.executable, "-m", "autograder", *cmd], cwd=ROOT, env=env, stdout=out, stderr=out)
            if done.returncode:
                raise SystemExit(f"autograder {cmd[0]} failed: see {log}")
        start = time.perf_counter()
        # Exit 1 means "rerun to finish" (e.g. regrade needed): the results say what happened.
        subprocess.run([sys.executable, "-m", "autograder", "autograde", A, "--jobs", str(jobs)],
                       cwd=ROOT, env=env, stdout=out, stderr=out)
        seconds = time.perf_counter() - start
    grades = {}
    for path in sorted((cohort / ".grader" / "results" / A).glob("*.json")):
        r = json.loads(path.read_text())
        cells = {gid: c["score"] for nb in r["notebooks"].values() for gid, c in nb["cells"].items()}
        grades[r["student"]] = {"score": r["score"], "status": r.get("status", "graded"), "cells": cells}
    return grades, seconds


def start_hogs(count: int, seconds: int) -> list[subprocess.Popen]:
    # Each hog stops by itself after `seconds`, even if this script is killed.
    return [subprocess.Popen([sys.executable, "-c", HOG.format(seconds=seconds)], start_new_session=True)
            for _ in range(count)]


def stop(hogs: list[subprocess.Popen]) -> None:
    for hog in hogs:
        try:
            os.killpg(hog.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        hog.wait()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    p.add_argument("--hogs", type=int, default=4, help="CPU-hog processes during the busy run")
    p.add_argument("--hog-limit", type=int, default=3600, help="seconds after which a hog stops by itself")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="busy-grading-"))
    differences: list[str] = []
    try:
        kinds = build_cohort(tmp / "incoming", args.students)
        print(f"cohort: {len(kinds)} submissions of {A} ({len(set(kinds.values()))} distinct), "
              f"{args.jobs} grading jobs, {os.cpu_count()} cores")
        idle, idle_s = grade(tmp / "incoming", tmp / "idle", args.jobs, tmp / "idle.log")
        print(f"idle run: {idle_s:.0f} s")
        hogs = start_hogs(args.hogs, args.hog_limit)
        try:
            time.sleep(1.0)  # let the hogs take the cores before grading starts
            busy, busy_s = grade(tmp / "incoming", tmp / "busy", args.jobs, tmp / "busy.log")
        finally:
            stop(hogs)
        print(f"busy run: {busy_s:.0f} s, with {args.hogs} CPU hogs on {os.cpu_count()} cores\n")
        print(f"{'student':<8} {'submission':<36} {'idle':>6} {'busy':>6}  status (idle / busy)")
        for student in sorted(kinds):
            a, b = idle.get(student), busy.get(student)
            fmt = lambda g: f"{g['score']:g}" if g else "-"
            status = f"{a['status'] if a else 'no result'} / {b['status'] if b else 'no result'}"
            print(f"{student:<8} {kinds[student]:<36} {fmt(a):>6} {fmt(b):>6}  {status}")
            if a != b:
                cells = sorted({g for g in (a or {}).get("cells", {}) | (b or {}).get("cells", {})
                                if (a or {}).get("cells", {}).get(g) != (b or {}).get("cells", {}).get(g)})
                differences.append(f"{student} ({kinds[student]}): idle {fmt(a)} {a and a['status']}, "
                                   f"busy {fmt(b)} {b and b['status']}; cells {', '.join(cells) or 'none'}")
        print("\ndifference between the idle and the busy run:", "none" if not differences else "")
        for line in differences:
            print("  " + line)
        if differences:
            print(f"\nkept for inspection: {tmp} (idle.log, busy.log, both cohorts)")
            return 1
        return 0
    finally:
        if not differences:  # kept when there is something to look at
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
