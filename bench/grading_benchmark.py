"""Parallel sandboxed grading vs sequential `nbgrader autograde` on the same cohort.

Builds a cohort of N submissions of lesson 01 (copies of the bundled examples), grades it once
with `nbgrader autograde` (sequential, unsandboxed) and once with `python -m autograder autograde
--jobs J` (parallel, sandboxed), and prints the wall times and their ratio, measured in this run.

    .venv/bin/python bench/grading_benchmark.py [--students 30] [--jobs 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
A = "01_activations"


def run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd[:5])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = p.parse_args()
    examples = sorted((ROOT / "autograder" / "example_submissions" / A).glob("*.ipynb"))
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory() as tmp:
        incoming = Path(tmp) / "incoming"
        incoming.mkdir()
        for i in range(args.students):
            shutil.copy(examples[i % len(examples)], incoming / f"s{i:03d}.ipynb")
        timings = {}
        for name in ("nbgrader", "course"):
            cohort = Path(tmp) / name
            env = {**os.environ, "DLCOURSE_COHORT": str(cohort), "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
            run([sys.executable, "-m", "autograder", "release", A], env)
            run([sys.executable, "-m", "autograder", "collect", str(incoming), A], env)
            if name == "nbgrader":
                cmd = [sys.executable, "-m", "nbgrader", "autograde", A, f"--CourseDirectory.root={ROOT}",
                       f"--CourseDirectory.submitted_directory={cohort / 'submitted'}",
                       f"--CourseDirectory.autograded_directory={cohort / 'autograded'}",
                       f"--CourseDirectory.db_url=sqlite:///{cohort / 'gradebook.db'}", "--force"]
            else:
                cmd = [sys.executable, "-m", "autograder", "autograde", A, "--jobs", str(args.jobs)]
            timings[name] = run(cmd, env)
            print(f"{name:>8}: {timings[name]:6.1f} s for {args.students} submissions")
    print(f"speed-up of the course grader ({args.jobs} jobs, sandboxed) over sequential nbgrader autograde: "
          f"{timings['nbgrader'] / timings['course']:.2f}x")


if __name__ == "__main__":
    main()
