"""Does grading on a Dask cluster give exactly the grades of local grading, with each student
recorded once, even when a worker dies mid-task? Does a task that kills every worker it meets
become that student's "grader died" result, and does an unfit worker or an unreachable
scheduler stop the batch with a message that says which and why?

One LocalCluster (2 worker processes, one thread each, as on a real cluster) and one graded
``--jobs 2`` baseline are shared by the whole module, to keep its time to a few minutes.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from autograder import batch, cluster
from autograder import cleanup as clean
from autograder.batch import Job, grade_job, run_all
from autograder.cohort import Course, autograde, collect
from autograder.files import submission_digest
from tests.conftest import ROOT
from tests.test_cohort import A, EXAMPLES, EXPECTED, LIMITS, gradebook_scores, quiet, released  # noqa: F401

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("dask")]


@pytest.fixture(scope="module")
def dask_cluster(released):  # noqa: F811 (released: the shared cohort fixture)
    """Two worker processes with one thread each. One worker death is retried; a second death
    of the same task is KilledWorker (the default allows 3; 1 keeps the crash test short)."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0", silence_logs=logging.ERROR) as local:
            yield local


def new_course(released: Path, folder: Path) -> Course:  # noqa: F811
    cohort = folder / "cohort"
    cohort.mkdir(parents=True)
    shutil.copy(released / "gradebook.db", cohort / "gradebook.db")
    course = Course(ROOT, cohort)
    collect(course, EXAMPLES, A, log=quiet)
    return course


def grades(course: Course) -> dict[str, dict]:
    """What a grade is made of, per student, without the time of grading."""
    out = {}
    for path in sorted(course.results_dir(A).glob("*.json")):
        r = json.loads(path.read_text())
        out[path.stem] = {
            "score": r["score"], "max_score": r["max_score"], "status": r["status"], "digest": r["digest"],
            "timestamp": r["timestamp"],   # from the shipped timestamp.txt: the same as in place
            "attention": r["attention"], "flags": r["flags"], "extra_files": r["extra_files"],
            "cells": {nb: {gid: (c["score"], c["status"]) for gid, c in n["cells"].items()}
                      for nb, n in r["notebooks"].items()}}
    return out


@pytest.fixture(scope="module")
def baseline(released, tmp_path_factory):  # noqa: F811
    """The cohort graded locally with --jobs 2: the grades the cluster must reproduce."""
    course = new_course(released, tmp_path_factory.mktemp("baseline"))
    summary = autograde(course, A, jobs=2, limits=LIMITS, log=quiet)
    assert sorted(summary.graded) == sorted(EXPECTED) and not summary.failed
    assert gradebook_scores(course) == EXPECTED
    return grades(course)


def test_cluster_grades_exactly_as_local_jobs_and_a_rerun_redoes_nothing(dask_cluster, baseline, released, tmp_path):  # noqa: F811
    course = new_course(released, tmp_path)
    lines = []
    summary = autograde(course, A, limits=LIMITS, log=lines.append, scheduler=dask_cluster.scheduler_address)
    assert sorted(summary.graded) == sorted(EXPECTED) and not summary.failed and not summary.attention
    assert any("2 in parallel on the Dask cluster" in line for line in lines)
    assert grades(course) == baseline
    assert gradebook_scores(course) == EXPECTED          # one submission per student, exact scores
    again = autograde(course, A, limits=LIMITS, log=quiet, scheduler=dask_cluster.scheduler_address)
    assert again.graded == [] and sorted(again.skipped) == sorted(EXPECTED)
    assert gradebook_scores(course) == EXPECTED


# Grading functions for workers: module-level, so they pickle by reference and workers import them.
def die_once_mid_task(job, sources, references, ctx, marker: str, student: str):
    """Grade; but for ``student``, the first time (while ``marker`` exists), kill this worker
    process two seconds into grading, its sandboxed kernel running, with no chance to clean up."""
    if job.student == student and os.path.exists(marker):
        def die():
            Path(marker).write_text(str(os.getpid()))     # which worker died, for the test
            os.rename(marker, marker + ".done")          # the retry grades normally
            os._exit(1)
        threading.Timer(2.0, die).start()
    return grade_job(job, sources, references, ctx)


def test_a_worker_killed_mid_task_is_retried_and_nothing_is_lost_or_counted_twice(
        dask_cluster, baseline, released, tmp_path, monkeypatch):  # noqa: F811
    course = new_course(released, tmp_path / "course")
    marker = tmp_path / "kill-carol"
    marker.write_text("")
    handled = []
    real_handle = batch._handle
    monkeypatch.setattr(batch, "_handle", lambda course, job, *a: handled.append(job.student) or real_handle(course, job, *a))
    monkeypatch.setattr(batch, "run_all", functools.partial(
        run_all, grade=functools.partial(die_once_mid_task, marker=str(marker), student="carol")))
    summary = autograde(course, A, limits=LIMITS, log=quiet, scheduler=dask_cluster.scheduler_address)
    dead = Path(str(marker) + ".done")
    assert dead.exists() and not marker.exists(), "no worker was killed: the test proves nothing"
    dead_pid = int(dead.read_text())
    assert sorted(handled) == sorted(EXPECTED)           # each result came back exactly once
    assert sorted(summary.graded) == sorted(EXPECTED) and not summary.failed and not summary.attention
    assert grades(course) == baseline                    # carol's retried grade included
    assert gradebook_scores(course) == EXPECTED
    # The worker that took its place removed the dead one's sandbox leftovers before grading.
    left = [p for pattern in clean.CGROUP_PATTERNS for p in clean.CGROUP_ROOT.glob(pattern)
            if clean.owner_pid(p.name) == dead_pid] + [p for p in clean.SHM.glob("dlcourse-*")
                                                       if clean.owner_pid(p.name) == dead_pid]
    assert left == []


def always_dies(job, sources, references, ctx):
    """A stand-in grader (no kernel): the submission "crash" kills its worker every time."""
    if job.student == "crash":
        os._exit(3)
    return {"student": job.student, "files": sorted(p.name for p in job.folder.iterdir()),
            "graded": True}


def fake_jobs(folder: Path, names: list[str]) -> list[Job]:
    jobs = []
    for name in names:
        sub = folder / name
        sub.mkdir(parents=True)
        (sub / f"{A}.ipynb").write_text(f"{{\"student\": \"{name}\"}}")
        jobs.append(Job(name, A, sub, submission_digest(sub)))
    return jobs


def test_a_task_that_keeps_killing_workers_is_that_students_grader_died_result(dask_cluster, tmp_path):
    jobs = fake_jobs(tmp_path, ["amy", "crash", "ben", "cat"])
    ctx = Course(ROOT, tmp_path / "cohort").context(LIMITS, True)
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        got = [(job.student, result) for job, result in
               run_all(jobs, [], {}, ctx, jobs=1, grade=always_dies, client=client, root=ROOT)]
    assert sorted(s for s, _ in got) == ["amy", "ben", "cat", "crash"]   # each exactly once
    got = dict(got)
    assert isinstance(got["crash"], batch.GraderDied)
    # The others are graded from their shipped files, whichever worker died beside them.
    assert {s: got[s] for s in ("amy", "ben", "cat")} == {
        s: {"student": s, "files": [f"{A}.ipynb"], "graded": True} for s in ("amy", "ben", "cat")}


def test_a_worker_that_cannot_grade_as_the_coordinator_stops_the_batch_by_name(dask_cluster, tmp_path):
    sources = Course(ROOT, tmp_path).sources(A)
    spec = cluster.worker_spec(ROOT, sources, sandboxed=True)
    assert cluster.worker_problem(spec) is None
    moved = dataclasses.replace(spec, root="/srv/elsewhere")
    assert cluster.worker_problem(moved) == ("the course is not installed at /srv/elsewhere "
                                             "(install it at the same path as on the coordinator)")
    other_venv = dataclasses.replace(spec, prefix="/opt/other-venv")
    assert cluster.worker_problem(other_venv).startswith("the worker runs Python from ")
    edited = dataclasses.replace(spec, sources=((str(sources[0]), "0" * 64),))
    assert cluster.worker_problem(edited) == f"{sources[0]} differs from the coordinator's (update the course here)"
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)   # both, restarted if an earlier test killed them
        workers = sorted(client.nthreads())
        assert len(workers) == 2
        with pytest.raises(SystemExit) as stop:
            cluster.check_workers(client, moved)
    message = str(stop.value)
    assert message.startswith("cannot grade on this cluster:")
    assert all(f"worker {w}" in message for w in workers), message
    assert "not installed at /srv/elsewhere" in message


def test_an_unreachable_scheduler_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2)
    with pytest.raises(SystemExit) as stop:
        autograde(Course(ROOT, tmp_path / "cohort"), A, log=quiet, scheduler="tcp://127.0.0.1:9")
    assert str(stop.value).startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 (")
    assert "Is `dask scheduler` running there" in str(stop.value)


def test_each_task_checks_its_worker_and_the_bytes_it_was_sent(tmp_path):
    """A worker that joins after the first check is checked before its first task, and a
    submission whose bytes are not the ones hashed is not graded (an OSError: retried next run)."""
    (job,) = fake_jobs(tmp_path / "in", ["amy"])
    spec = cluster.worker_spec(ROOT, [], sandboxed=True)
    files = cluster.ship(job)
    assert files == [(f"{A}.ipynb", b'{"student": "amy"}')]
    got = cluster.grade_shipped(job, files, spec, [], {}, None, always_dies)
    assert got == {"student": "amy", "files": [f"{A}.ipynb"], "graded": True}
    with pytest.raises(cluster.SubmissionChanged) as changed:
        cluster.grade_shipped(job, [(f"{A}.ipynb", b"{}")], spec, [], {}, None, always_dies)
    assert isinstance(changed.value, OSError)
    moved = dataclasses.replace(spec, root="/srv/elsewhere")
    with pytest.raises(cluster.WorkerUnfit, match=r"^worker pid \d+ on host .*: the course is not installed at /srv/elsewhere"):
        cluster.grade_shipped(job, files, moved, [], {}, None, always_dies)


def test_a_worker_found_unfit_at_its_first_task_stops_the_batch_by_name(dask_cluster, tmp_path, monkeypatch):
    """As if that worker joined after the check at the start (which is skipped here)."""
    jobs = fake_jobs(tmp_path, ["amy", "ben", "cat"])
    ctx = Course(ROOT, tmp_path / "cohort").context(LIMITS, True)
    real_spec = cluster.worker_spec
    monkeypatch.setattr(cluster, "check_workers", lambda client, spec: None)
    monkeypatch.setattr(cluster, "worker_spec", lambda *a: dataclasses.replace(real_spec(*a), prefix="/opt/other-venv"))
    with distributed.Client(dask_cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=60)
        workers = sorted(client.nthreads())
        with pytest.raises(SystemExit) as stop:
            list(run_all(jobs, [], {}, ctx, jobs=1, grade=always_dies, client=client, root=ROOT))
    message = str(stop.value)
    assert message.startswith("cannot grade on this cluster: worker tcp://127.0.0.1:")
    assert any(f"worker {w}" in message for w in workers), message
    assert "the worker runs Python from " in message and "the coordinator from /opt/other-venv" in message
    assert message.endswith("The results so far are saved; fix or remove that worker and rerun.")
