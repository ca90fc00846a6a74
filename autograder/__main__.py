"""The course's grading commands. Run from the course root: ``python -m autograder COMMAND``.

  lessons                       regenerate lessons/ from solutions/ (nbgrader generate_assignment), and the course map
  release [A ...]               release assignments: student versions in COHORT/release + gradebook entries
  collect FOLDER A              copy a folder of submissions into cohort/submitted/ (regular files only)
  autograde A [--jobs N]        grade in a sandbox, in parallel, resumably; fill the gradebook
                                (a progress bar on a terminal, plain lines in a log)
              [--scheduler tcp://HOST:8786]   ... or on a Dask cluster
  feedback A                    per-student HTML feedback (nbgrader generate_feedback)
  export [--format F] [--to FILE]  grades as CSV, every student, with status and late-policy columns;
                                F: nbgrader (default), long (one row per exercise), canvas (Canvas import)
  roster import FILE.csv        record student ids, names and emails (and LMS ids) in the gradebook
  quickstart                    all of the above on the bundled example submissions
  progress [A ...] [--fresh]    a learner's own points so far, from their notebooks in lessons/
                                (unchanged notebooks reuse their last result)
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.cohort import Course, autograde, collect, export, run_nbgrader, venv_on_path
from autograder.sandbox import sandbox_problem
from autograder.start_page import write_start_page

EXAMPLES = Path(__file__).resolve().parent / "example_submissions"


def nbgrader(course: Course, *args: str, db: bool = True) -> None:
    """Run an nbgrader command with this course's folders (cohort may live elsewhere)."""
    run_nbgrader(course, *args, db=db)


def generate_lessons(root: Path, out: Path, assignments: list[str]) -> None:
    """Generate student versions of ``assignments`` into ``out`` without touching any gradebook,
    and the course map (``00_start_here.ipynb``, from all of solutions/)."""
    write_start_page(root, out)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", *assignments, "--force", "--no-db",
               f"--CourseDirectory.root={root}", f"--CourseDirectory.release_directory={out}",
               f"--CourseDirectory.db_url=sqlite:///{tmp}/scratch.db", "--log-level=WARN"]
        if len(assignments) > 1:
            # nbgrader takes one assignment per call; loop rather than fail.
            for a in assignments:
                generate_lessons(root, out, [a])
            return
        done = subprocess.run(cmd, cwd=root)
        if done.returncode:
            raise SystemExit(f"generating {assignments} failed")


def write_all_public_checks(course: Course, assignments: list[str], folder: Path | None = None) -> None:
    """Run each solution and write its public checks' reference values beside it (or into
    ``folder``/<assignment>), so that a learner's notebook judges public checks exactly as the
    grader does (one verdict). Always without the cohort secret: public checks are public."""
    import dataclasses

    from autograder.cohort import load_limits
    from autograder.grading import Source, reference_probes, write_public_checks

    sandboxed = sandbox_problem() is None
    for assignment in assignments:
        ctx = dataclasses.replace(course.context(load_limits(course, assignment), sandboxed), secret="")
        for src in course.sources(assignment):
            source = Source.load(src)
            ref = reference_probes(source, ctx, course.root / "build" / "reference" / assignment)
            path = write_public_checks(source, ref, folder / assignment if folder else None)
            print(f"  {path}")


def release(course: Course, assignments: list[str]) -> None:
    """Student versions into COHORT/release and the assignments into the gradebook. With a
    private overlay, from a merged copy of the sources, so its lessons never reach lessons/."""
    source = None
    if course.overlay is not None:
        source = course.release_source()
        private = [a for a in assignments if a in course.overlay_assignments()]
        write_all_public_checks(course, private, folder=source)
    for name in assignments:
        run_nbgrader(course, "generate_assignment", name, "--force", source=source)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", type=Path, help="course root (default: current folder)")
    p.add_argument("--cohort", type=Path, help="instructor state folder (default: ROOT/cohort or $DLCOURSE_COHORT)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("lessons")
    r = sub.add_parser("release")
    r.add_argument("assignments", nargs="*")
    c = sub.add_parser("collect")
    c.add_argument("folder", type=Path)
    c.add_argument("assignment")
    a = sub.add_parser("autograde")
    a.add_argument("assignment")
    a.add_argument("--student", action="append", help="grade only this student (repeatable)")
    a.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel kernels (default: CPU count)")
    a.add_argument("--force", action="store_true", help="regrade even if a result for this submission exists")
    a.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="grade on this Dask cluster (workers need the course at the same path, and bwrap)")
    a.add_argument("--no-sandbox", action="store_true",
                   help="run graded code without isolation (only for your own notebooks: never for student work)")
    f = sub.add_parser("feedback")
    f.add_argument("assignment")
    e = sub.add_parser("export")
    e.add_argument("--to", type=Path, help="CSV path (default: COHORT/grades.csv, grades_long.csv, grades_canvas.csv)")
    e.add_argument("--format", choices=("nbgrader", "long", "canvas"), default="nbgrader",
                   help="nbgrader's columns with status and late policy (default); long: one row per exercise; "
                        "canvas: Canvas's gradebook import")
    ro = sub.add_parser("roster")
    ro.add_argument("action", choices=["import"])
    ro.add_argument("file", type=Path, help="CSV with student_id and optional first_name, last_name, email, lms_user_id")
    pr = sub.add_parser("progress")
    pr.add_argument("assignments", nargs="*")
    pr.add_argument("--folder", type=Path, help="where your notebooks are (default: ROOT/lessons)")
    pr.add_argument("--fresh", action="store_true", help="grade again even where nothing changed since the last run")
    q = sub.add_parser("quickstart")
    q.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    q.add_argument("--no-sandbox", action="store_true")
    args = p.parse_args(argv)
    venv_on_path()
    course = Course.from_env(args.root, args.cohort)

    if args.cmd == "lessons":
        # The public lessons only: a private overlay never reaches lessons/.
        public = Course(course.root, course.cohort)
        write_all_public_checks(public, public.public_assignments())
        generate_lessons(course.root, course.root / "lessons", public.public_assignments())
    elif args.cmd == "release":
        release(course, args.assignments or course.assignments())
        print(f"released to {course.cohort / 'release'} (the same as lessons/); gradebook {course.db_url}")
    elif args.cmd == "collect":
        got = collect(course, args.folder, args.assignment)
        print(f"collected {len(got)} submission(s) into {course.cohort / 'submitted'}")
    elif args.cmd == "autograde":
        return _autograde(course, args.assignment, args.student, args.jobs, args.no_sandbox, args.force,
                          args.scheduler)
    elif args.cmd == "feedback":
        nbgrader(course, "generate_feedback", args.assignment, "--force")
        print(f"feedback in {course.cohort / 'feedback'}")
    elif args.cmd == "export":
        return _export(course, args.format, args.to)
    elif args.cmd == "roster":
        from autograder.roster import import_roster
        try:
            import_roster(course, args.file)
        except ValueError as exc:
            raise SystemExit(f"roster not imported: {exc}") from None
    elif args.cmd == "progress":
        from autograder.progress import progress
        progress(course, args.folder or course.root / "lessons", args.assignments, fresh=args.fresh)
    elif args.cmd == "quickstart":
        return quickstart(course, args.jobs, args.no_sandbox)
    return 0


def _autograde(course: Course, assignment: str, students: list[str] | None, jobs: int, no_sandbox: bool,
               force: bool, scheduler: str | None = None) -> int:
    # The coordinator needs the sandbox too, even with a cluster: it runs the solution once
    # for the reference values. Each worker's own sandbox is checked on that worker.
    if not no_sandbox and (problem := sandbox_problem()):
        raise SystemExit(f"cannot grade safely: {problem}.\n(Only for your own notebooks: --no-sandbox.)")
    summary = autograde(course, assignment, students, jobs=jobs, sandboxed=not no_sandbox, force=force,
                        show_progress=True, scheduler=scheduler)
    print(f"report: {course.report_path(assignment)}")
    if summary.attention:
        print(f"{len(summary.attention)} need attention (see the report); after fixing, regrade one with "
              f"`autograde {assignment} --student NAME --force`")
    if summary.failed or summary.pending_gradebook or summary.regrade:
        print(f"unfinished: {len(summary.failed)} failed, {len(summary.pending_gradebook)} not yet in the "
              f"gradebook, {len(summary.regrade)} regrade needed; rerun the same command to finish "
              f"(nothing is graded twice)")
        return 1
    return 0


def _export(course: Course, fmt: str, to: Path | None) -> int:
    from autograder import lms
    from autograder.late import settings_or_exit, sync_gradebook

    if fmt == "nbgrader":
        to = to or course.cohort / "grades.csv"
        export(course, to)
        print(f"grades exported to {to} (with columns late: the late policy; status: graded, regrade needed, "
              f"needs attention)")
        return 0
    settings = settings_or_exit(course)
    sync_gradebook(course, settings)
    to = lms.write(course, settings, fmt, to or course.cohort / f"grades_{fmt}.csv")
    print(f"grades exported to {to} ({fmt} format; a grade is left blank unless its status is graded)")
    return 0


def quickstart(course: Course, jobs: int, no_sandbox: bool) -> int:
    """Release, collect the bundled examples, autograde, feedback, export: the instructor's loop."""
    assignment = "01_activations"
    print("== 1/5 release")
    release(course, [assignment])
    print("== 2/5 import the class roster and collect the bundled example submissions")
    from autograder.roster import import_roster
    import_roster(course, EXAMPLES / "roster.csv")
    collect(course, EXAMPLES / assignment, assignment)
    print("== 3/5 autograde")
    code = _autograde(course, assignment, None, jobs, no_sandbox, False)
    print("== 4/5 feedback")
    nbgrader(course, "generate_feedback", assignment, "--force")
    print("== 5/5 export")
    to = course.cohort / "grades.csv"
    export(course, to)
    print(f"\ngradebook: {course.cohort / 'gradebook.db'}\nfeedback:  {course.cohort / 'feedback'}\n"
          f"grades:    {to}\n")
    print(to.read_text())
    return code


if __name__ == "__main__":
    sys.exit(main())
