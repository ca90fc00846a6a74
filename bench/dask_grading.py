"""Grading throughput: local `--jobs J` against a Dask LocalCluster of J workers, one run.

Builds a cohort of N submissions of lesson 01 (copies of the bundled examples), grades it with
`python -m autograder autograde A --jobs J`, then in a fresh cohort with `--scheduler` pointed at
a LocalCluster of J worker processes with one thread each (started before the clock starts, as a
real cluster would already be running). Both runs are the full command, solution reference run
included. The two are run in the order local, dask, dask, local (``--rounds 2``), so a load that
drifts during the run (a shared machine) weighs on both alike. Prints each run's submissions per
minute, each way's total, their ratio, and whether every run gave the same grades (they must).
The ratio is what this run measured; it is not a test.

    .venv/bin/python bench/dask_grading.py [--students 12] [--jobs 2] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import logging
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
        raise SystemExit(f"{' '.join(cmd[2:6])} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def scores(cohort: Path) -> dict[str, float]:
    return {p.stem: json.loads(p.read_text())["score"] for p in (cohort / ".grader" / "results" / A).glob("*.json")}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--students", type=int, default=12)
    p.add_argument("--jobs", type=int, default=2, help="local processes, and LocalCluster workers")
    p.add_argument("--rounds", type=int, default=2, help="pairs of runs, in the order AB BA AB ...")
    args = p.parse_args()
    from distributed import LocalCluster

    examples = sorted((ROOT / "autograder" / "example_submissions" / A).glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp, \
            LocalCluster(n_workers=args.jobs, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.ERROR) as cluster:
        incoming = Path(tmp) / "incoming"
        incoming.mkdir()
        for i in range(args.students):
            shutil.copy(examples[i % len(examples)], incoming / f"s{i:03d}.ipynb")
        options = {"local": ["--jobs", str(args.jobs)], "dask": ["--scheduler", cluster.scheduler_address]}
        labels = {"local": f"--jobs {args.jobs}", "dask": f"LocalCluster, {args.jobs} workers x 1 thread"}
        order = [name for r in range(args.rounds) for name in (("local", "dask") if r % 2 == 0 else ("dask", "local"))]
        timings: dict[str, list[float]] = {"local": [], "dask": []}
        graded = []
        for i, name in enumerate(order):
            cohort = Path(tmp) / f"{i}-{name}"
            env = {**os.environ, "DLCOURSE_COHORT": str(cohort)}
            run([sys.executable, "-m", "autograder", "release", A], env)
            run([sys.executable, "-m", "autograder", "collect", str(incoming), A], env)
            seconds = run([sys.executable, "-m", "autograder", "autograde", A, *options[name]], env)
            timings[name].append(seconds)
            graded.append(scores(cohort))
            print(f"{name:>5} ({labels[name]}): {seconds:6.1f} s for {args.students} submissions, "
                  f"{60 * args.students / seconds:5.1f} submissions/min", flush=True)
    rate = {name: 60 * args.students * len(t) / sum(t) for name, t in timings.items()}
    for name in ("local", "dask"):
        print(f"{name:>5} overall: {rate[name]:5.1f} submissions/min")
    print(f"throughput of the Dask cluster relative to local --jobs {args.jobs}: {rate['dask'] / rate['local']:.2f}x")
    same = all(g == graded[0] for g in graded) and len(graded[0]) == args.students
    print("grades: identical in every run" if same else f"grades DIFFER: {graded}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
