"""The course's grading commands. Run from the course root: ``python -m autograder COMMAND``.

  lessons                       regenerate lessons/ from solutions/ (nbgrader generate_assignment)
  release [A ...]               release assignments: student versions in COHORT/release + gradebook entries
  collect FOLDER A              copy a folder of submissions into cohort/submitted/
  autograde A [--jobs N]        grade in a sandbox, in parallel, resumably; fill the gradebook
  feedback A                    per-student HTML feedback (nbgrader generate_feedback)
  export [--to FILE]            grades as CSV (nbgrader export)
  quickstart                    all of the above on the bundled example submissions
  progress [A ...]              a learner's own points so far, from their notebooks in lessons/
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.cohort import Course, autograde, collect, venv_on_path, write_report
from autograder.sandbox import sandbox_problem

EXAMPLES = Path(__file__).resolve().parent / "example_submissions"


def nbgrader(course: Course, *args: str, db: bool = True) -> None:
    """Run an nbgrader command with this course's folders (cohort may live elsewhere)."""
    c = course.cohort
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={course.root}",
           # The cohort gets its own copy of the student version; lessons/ is only ever written
           # by `make lessons`, so grading a cohort never touches the repository.
           f"--CourseDirectory.release_directory={c / 'release'}",
           f"--CourseDirectory.submitted_directory={c / 'submitted'}",
           f"--CourseDirectory.autograded_directory={c / 'autograded'}",
           f"--CourseDirectory.feedback_directory={c / 'feedback'}",
           f"--CourseDirectory.db_url={course.db_url if db else 'sqlite:///' + str(c / '.scratch.db')}",
           "--log-level=WARN"]
    c.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(cmd, cwd=course.root)
    if done.returncode:
        raise SystemExit(f"nbgrader {args[0]} failed (exit {done.returncode})")


def generate_lessons(root: Path, out: Path, assignments: list[str]) -> None:
    """Generate student versions of ``assignments`` into ``out`` without touching any gradebook."""
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


def write_all_public_checks(course: Course) -> None:
    """Run each solution and write its public checks' reference values beside it, so that a
    learner's notebook judges public checks exactly as the grader does (one verdict)."""
    from autograder.cohort import load_limits
    from autograder.grading import Source, reference_probes, write_public_checks

    sandboxed = sandbox_problem() is None
    for assignment in course.assignments():
        ctx = course.context(load_limits(course, assignment), sandboxed)
        for src in course.sources(assignment):
            source = Source.load(src)
            ref = reference_probes(source, ctx, course.root / "build" / "reference" / assignment)
            print(f"  {write_public_checks(source, ref).relative_to(course.root)}")


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
    a.add_argument("--no-sandbox", action="store_true",
                   help="run graded code without isolation (only for your own notebooks: never for student work)")
    f = sub.add_parser("feedback")
    f.add_argument("assignment")
    e = sub.add_parser("export")
    e.add_argument("--to", type=Path, help="CSV path (default: COHORT/grades.csv)")
    pr = sub.add_parser("progress")
    pr.add_argument("assignments", nargs="*")
    pr.add_argument("--folder", type=Path, help="where your notebooks are (default: ROOT/lessons)")
    q = sub.add_parser("quickstart")
    q.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    q.add_argument("--no-sandbox", action="store_true")
    args = p.parse_args(argv)
    venv_on_path()
    course = Course.from_env(args.root, args.cohort)

    if args.cmd == "lessons":
        write_all_public_checks(course)
        generate_lessons(course.root, course.root / "lessons", course.assignments())
    elif args.cmd == "release":
        for name in args.assignments or course.assignments():
            nbgrader(course, "generate_assignment", name, "--force")
        print(f"released to {course.cohort / 'release'} (the same as lessons/); gradebook {course.db_url}")
    elif args.cmd == "collect":
        got = collect(course, args.folder, args.assignment)
        print(f"collected {len(got)} submission(s) into {course.cohort / 'submitted'}")
    elif args.cmd == "autograde":
        return _autograde(course, args.assignment, args.student, args.jobs, args.no_sandbox, args.force)
    elif args.cmd == "feedback":
        nbgrader(course, "generate_feedback", args.assignment, "--force")
        print(f"feedback in {course.cohort / 'feedback'}")
    elif args.cmd == "export":
        to = args.to or course.cohort / "grades.csv"
        nbgrader(course, "export", f"--to={to}")
        print(f"grades exported to {to}")
    elif args.cmd == "progress":
        from autograder.progress import progress
        progress(course, args.folder or course.root / "lessons", args.assignments)
    elif args.cmd == "quickstart":
        return quickstart(course, args.jobs, args.no_sandbox)
    return 0


def _autograde(course: Course, assignment: str, students: list[str] | None, jobs: int, no_sandbox: bool,
               force: bool) -> int:
    if not no_sandbox and (problem := sandbox_problem()):
        raise SystemExit(f"cannot grade safely: {problem}.\n(Only for your own notebooks: --no-sandbox.)")
    summary = autograde(course, assignment, students, jobs=jobs, sandboxed=not no_sandbox, force=force)
    print(f"report: {write_report(course, assignment)}")
    if summary.failed or summary.pending_gradebook:
        print(f"unfinished: {len(summary.failed)} failed, {len(summary.pending_gradebook)} not yet in the "
              f"gradebook; rerun the same command to finish (nothing is graded twice)")
        return 1
    return 0


def quickstart(course: Course, jobs: int, no_sandbox: bool) -> int:
    """Release, collect the bundled examples, autograde, feedback, export: the instructor's loop."""
    assignment = "01_activations"
    print("== 1/5 release")
    nbgrader(course, "generate_assignment", assignment, "--force")
    print("== 2/5 collect the bundled example submissions")
    collect(course, EXAMPLES / assignment, assignment)
    print("== 3/5 autograde")
    code = _autograde(course, assignment, None, jobs, no_sandbox, False)
    print("== 4/5 feedback")
    nbgrader(course, "generate_feedback", assignment, "--force")
    print("== 5/5 export")
    to = course.cohort / "grades.csv"
    nbgrader(course, "export", f"--to={to}")
    print(f"\ngradebook: {course.cohort / 'gradebook.db'}\nfeedback:  {course.cohort / 'feedback'}\n"
          f"grades:    {to}\n")
    print(to.read_text())
    return code


if __name__ == "__main__":
    sys.exit(main())
