"""Set up and start the course's JupyterHub (``make hub``; the end-to-end test uses the same code).

Run as root from the course root: ``.venv/bin/python -m hub.hub [--port 8000] [--dir build/hub]``.

What it makes (everything under ``--dir`` unless told otherwise):
    course/      the nbgrader course folder of this cohort, owned by the instructor: its
                 nbgrader_config.py points at the repository's solutions/ and at the exchange;
                 gradebook.db, release/, submitted/, autograded/, feedback/ appear here
    exchange/    nbgrader's exchange, world-writable with the sticky bit (nbgrader's docs)
    state/       the hub's own database, cookie secret and proxy pid
and the course's Unix accounts (``dlc-instructor``, ``dlc-student1``, ``dlc-student2``), each
created with ``useradd`` only if it does not exist. The names carry a course prefix so they
cannot be mistaken for (or collide with) a real person's account.
"""
from __future__ import annotations

import argparse
import grp
import os
import pwd
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
PROXY = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
CONFIG = ROOT / "hub" / "jupyterhub_config.py"
COURSE_ID = "dlcourse"          # must equal nbgrader_config.py's course_id: the exchange is keyed by it
INSTRUCTOR = "dlc-instructor"
STUDENTS = ("dlc-student1", "dlc-student2")
# The try-out's shared password (SharedPasswordAuthenticator wants 8+ characters). A try-out only:
# see the README for PAM or OAuth.
DEFAULT_PASSWORD = "dlcourse-tryout"


@dataclass
class HubSetup:
    """Where one hub's things are and which ports it listens on (all on 127.0.0.1)."""

    dir: Path
    port: int = 8000
    hub_port: int = 8081            # the hub's API, for the proxy and the servers
    proxy_api_port: int = 8001
    service_port: int = 8002        # the formgrader service (nbgrader's "one class, one grader")
    password: str = DEFAULT_PASSWORD
    work: Path | None = None        # students' servers start in WORK/<user>; None: their home folder
    instructor: str = INSTRUCTOR
    students: tuple[str, ...] = STUDENTS
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def course(self) -> Path:
        return self.dir / "course"

    @property
    def exchange(self) -> Path:
        return self.dir / "exchange"

    @property
    def state(self) -> Path:
        return self.dir / "state"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        """What hub/jupyterhub_config.py reads: one hub's folders, ports and users."""
        return {
            "DLCOURSE_HUB_PORT": str(self.port), "DLCOURSE_HUB_API_PORT": str(self.hub_port),
            "DLCOURSE_HUB_PROXY_API_PORT": str(self.proxy_api_port),
            "DLCOURSE_HUB_SERVICE_PORT": str(self.service_port),
            "DLCOURSE_HUB_STATE": str(self.state), "DLCOURSE_HUB_COURSE": str(self.course),
            "DLCOURSE_EXCHANGE": str(self.exchange), "DLCOURSE_HUB_PASSWORD": self.password,
            "DLCOURSE_HUB_WORK": str(self.work or ""), "DLCOURSE_HUB_INSTRUCTOR": self.instructor,
            "DLCOURSE_HUB_STUDENTS": ",".join(self.students), **self.extra_env,
        }


def need_root() -> None:
    if os.geteuid() != 0:
        raise SystemExit("the hub must run as root: it starts each user's server as that Unix user "
                         "(LocalProcessSpawner). Run `sudo make hub`.")


def ensure_user(name: str) -> pwd.struct_passwd:
    """The Unix account ``name``, created (with a home folder, no login shell) only if missing."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", name], check=True)
        return pwd.getpwnam(name)


def readable_by_all(path: Path) -> str | None:
    """None if every user can traverse to ``path`` and read it, else the first folder that blocks.
    Spawned servers run as the course's users, so the venv and the course must be reachable."""
    for p in [*reversed(path.resolve().parents), path.resolve()]:
        mode = p.stat().st_mode
        if not mode & 0o001 or (p == path.resolve() and not mode & 0o004):
            return str(p)
    return None


def grant_search(path: Path) -> None:
    """Let every user pass through (not list) each folder above ``path`` that is otherwise readable
    and traversable only by its owner and group: typically /root, with a pyenv Python or the course
    inside it, which is mode 700 on a fresh machine. Only the search bit (o+x) is added, and each
    change is printed; a folder that also hides its contents' names (no o+r) stays unlistable."""
    import stat

    target = path.resolve()
    for folder in reversed(target.parents):
        mode = folder.stat().st_mode
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            print(f"hub: added o+x (pass through, not list) to {folder}, so the course's users can reach {target}",
                  flush=True)


def course_config(setup: HubSetup) -> str:
    """The course folder's nbgrader_config.py: the repository's config, with this cohort's folders.
    The formgrader service and the instructor's nbgrader commands run here and read it."""
    c = setup.course
    return f'''# Written by hub/hub.py for this hub's course folder: regenerated on every start.
# The course's sources stay in the repository ({ROOT}); this cohort's state lives here.
c = get_config()  # noqa: F821
load_subconfig({str(ROOT / "nbgrader_config.py")!r})  # noqa: F821
c.CourseDirectory.course_id = {COURSE_ID!r}
# The root stays this folder: nbgrader would otherwise load the root's nbgrader_config.py last, over
# these lines. The sources are named by their absolute path instead.
c.CourseDirectory.root = {str(c)!r}
c.CourseDirectory.source_directory = {str(ROOT / "solutions")!r}
c.CourseDirectory.release_directory = {str(c / "release")!r}
c.CourseDirectory.submitted_directory = {str(c / "submitted")!r}
c.CourseDirectory.autograded_directory = {str(c / "autograded")!r}
c.CourseDirectory.feedback_directory = {str(c / "feedback")!r}
c.CourseDirectory.db_url = {"sqlite:///" + str(c / "gradebook.db")!r}
c.Exchange.root = {str(setup.exchange)!r}
'''


def prepare(setup: HubSetup) -> None:
    """Accounts, exchange, course folder and hub state: everything the hub needs before it starts."""
    need_root()
    if not PROXY.exists():
        raise SystemExit(f"{PROXY} is missing: run `make hub` (it runs `npm ci` in hub/)")
    # The venv's python is often a link into a Python install elsewhere (pyenv under /root, say):
    # the spawned users must be able to run that too, not just the venv.
    interpreter = (VENV / "bin" / "python").resolve()
    for path in (VENV, interpreter, Path(sys.base_prefix) / "lib", ROOT / "solutions", ROOT / "jupyter"):
        grant_search(path)
        if blocked := readable_by_all(path):
            raise SystemExit(f"{blocked} is not readable and traversable by other users, so the course's users "
                             f"cannot reach {path}: `chmod o+rx {blocked}` (o+x for a home folder such as /root), "
                             f"or make the venv from a Python they can run")
    teacher = ensure_user(setup.instructor)
    for name in setup.students:
        ensure_user(name)
    for folder in (setup.dir, setup.state):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
    setup.state.chmod(0o700)        # the cookie secret and the hub's database: root only
    # nbgrader's docs: the exchange root is writable by everyone. The sticky bit keeps one user from
    # removing another's entries. nbgrader makes the course's folders inside it itself (release_assignment),
    # with inbound/ and feedback/ writable and traversable but not listable by students.
    setup.exchange.mkdir(exist_ok=True)
    setup.exchange.chmod(0o1777)
    setup.course.mkdir(exist_ok=True)
    (setup.course / "nbgrader_config.py").write_text(course_config(setup))
    os.chown(setup.course, teacher.pw_uid, teacher.pw_gid)
    os.chown(setup.course / "nbgrader_config.py", teacher.pw_uid, teacher.pw_gid)
    setup.course.chmod(0o755)
    if setup.work is not None:
        setup.work.mkdir(parents=True, exist_ok=True)
        setup.work.chmod(0o755)


def start(setup: HubSetup, **popen) -> subprocess.Popen:
    """Start JupyterHub (as root) in the background; stop it with ``stop``."""
    prepare(setup)
    env = {**os.environ, **setup.env(), "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.Popen([str(VENV / "bin" / "jupyterhub"), "-f", str(CONFIG)], cwd=setup.state, env=env,
                            start_new_session=True, **popen)


def wait_until_up(setup: HubSetup, proc: subprocess.Popen, seconds: float = 180) -> None:
    """Until the login page answers and the formgrader service is behind the proxy."""
    import time
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # localhost: no proxy

    def status(path: str) -> int:
        try:
            with opener.open(setup.url + path, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    deadline = time.monotonic() + seconds
    while not (status("hub/login") == 200 and status(f"services/{COURSE_ID}/") in (200, 302)):
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited ({proc.returncode}) before it was up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the hub was not up after {seconds:.0f} s")
        time.sleep(1)


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (which may hold spaces), or None if gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of the processes whose parent is ``pid``: the start time tells a later
    process that reused the pid from the one we saw."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            kids.append((int(entry.name), fields[19]))
    return kids


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the hub (it stops the proxy, the service and the servers it spawned), then wait.
    The proxy, service and servers run in sessions of their own: any the hub failed to stop (it hung
    and was killed) are stopped here by pid, so no user's server outlives the hub."""
    if proc.poll() is not None:
        return
    started = children(proc.pid)
    started += [kid for pid, _ in started for kid in children(pid)]   # e.g. kernels of a server
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    for pid, start_time in started:
        fields = _stat(pid)
        if fields and fields[19] == start_time:     # still the process the hub started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def as_user(name: str, *cmd: str, cwd: Path, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run ``cmd`` as Unix user ``name`` (from root) with that user's HOME, as the user would."""
    pw = pwd.getpwnam(name)
    groups = [g.gr_gid for g in grp.getgrall() if name in g.gr_mem]
    env = {**os.environ, "HOME": pw.pw_dir, "USER": name, "LOGNAME": name,
           "PATH": f"{VENV / 'bin'}{os.pathsep}/usr/local/bin:/usr/bin:/bin"}
    return subprocess.run(list(cmd), cwd=cwd, env=env, user=pw.pw_uid, group=pw.pw_gid, extra_groups=groups,
                          check=check, **kw)


def autograde(setup: HubSetup, assignment: str, jobs: int = 2) -> int:
    """The course's sandboxed grader over the course folder (it needs root: cgroups, bubblewrap), then
    the folder handed back to the instructor, whose formgrader service and commands write there."""
    need_root()
    cmd = [str(VENV / "bin" / "python"), "-m", "autograder", "--root", str(ROOT), "--cohort", str(setup.course),
           "autograde", assignment, "--jobs", str(jobs)]
    code = subprocess.run(cmd, cwd=setup.course).returncode
    teacher = pwd.getpwnam(setup.instructor)
    for folder, _, files in os.walk(setup.course):
        for name in [folder, *(os.path.join(folder, f) for f in files)]:
            os.lchown(name, teacher.pw_uid, teacher.pw_gid)
    return code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hub.hub", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=Path, default=ROOT / "build" / "hub", help="hub folder (default: build/hub)")
    p.add_argument("--port", type=int, default=8000)
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("start", help="set up and start the hub (the default)")
    a = sub.add_parser("autograde", help="grade the course folder's submissions (as root), then hand it back")
    a.add_argument("assignment")
    a.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)
    setup = HubSetup(args.dir.resolve(), port=args.port, hub_port=args.port + 81, proxy_api_port=args.port + 1,
                     service_port=args.port + 2,
                     password=os.environ.get("DLCOURSE_HUB_PASSWORD", DEFAULT_PASSWORD))
    if args.cmd == "autograde":
        return autograde(setup, args.assignment, args.jobs)
    proc = start(setup)
    # A SIGTERM to `make hub` must stop the hub too: it runs in its own session (start_new_session).
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        wait_until_up(setup, proc)
    except KeyboardInterrupt:
        stop(proc)
        return 1
    c = setup.course
    py = VENV / "bin" / "python"
    print(f"""
JupyterHub for course {COURSE_ID!r}: {setup.url}
  log in as {setup.instructor} (formgrader: {setup.url}services/{COURSE_ID}/formgrader) or as
  {" or ".join(setup.students)}; the password is {setup.password!r} for everyone (try-out only).
  course folder: {c}    exchange: {setup.exchange}
  release lesson 01 to the students (as the instructor, in the course folder):
    cd {c} && sudo -u {setup.instructor} {py} -m autograder --root {ROOT} --cohort {c} release 01_activations \\
      && sudo -u {setup.instructor} {VENV / "bin" / "nbgrader"} release_assignment 01_activations
  the rest of the loop (collect, autograde, feedback, export): README, "Run a cohort on JupyterHub".
Ctrl-C stops the hub and every server it started.""", flush=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop(proc)
        return 0


if __name__ == "__main__":
    sys.exit(main())
