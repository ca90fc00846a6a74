"""Does a cohort's whole loop work on the course's JupyterHub, in a real browser?

The hub (hub/jupyterhub_config.py, started by hub/hub.py as `make hub` does) runs on free localhost
ports with a temporary course folder and exchange. Debian's chromium, driven by Playwright, logs each
student in through the hub's login page, fetches lesson 01 from the Assignment List, submits it and
later fetches and opens the feedback; the instructor's steps are the commands the README lists, run
as the instructor's Unix account (grading as root: the sandbox needs it). The grades CSV must hold
the known exact scores. Screenshots of every step go to $DLCOURSE_E2E_ARTIFACTS (default build/e2e/).
"""
from __future__ import annotations

import csv
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import ROOT, sandbox_or_skip

pytestmark = [pytest.mark.hub, pytest.mark.xdist_group("hub"), pytest.mark.timeout(900)]

A = "01_activations"
EXAMPLES = ROOT / "autograder" / "example_submissions" / A
# Two students, two known answers: one fully right, one partly wrong (tests/test_cohort.py's EXPECTED).
ANSWERS = {"dlc-student1": ("alice", 47.5), "dlc-student2": ("carol", 42.5)}
MAX_SCORE = 47.5
CHROMIUM = Path("/usr/bin/chromium")
# Offline and quiet: no first-run UI, no component or sync traffic; a fresh profile per run.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("DLCOURSE_E2E_ARTIFACTS") or ROOT / "build" / "e2e")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def requirements() -> None:
    """Skip without root (a hub spawns each user's server as that user); fail on anything else missing,
    saying what to install: a skipped browser test would hide a broken hub in CI."""
    if os.geteuid() != 0:
        pytest.skip("the hub test needs root: JupyterHub's LocalProcessSpawner starts each user's server "
                    "as that Unix user, and the grader's sandbox needs root too")
    sandbox_or_skip()
    from hub.hub import PROXY

    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM}: apt-get install chromium (make setup does it as root)")
    if shutil.which("node") is None:
        missing.append("node: apt-get install nodejs npm")
    if not PROXY.exists():
        missing.append(f"{PROXY}: (cd hub && npm ci), or `make hub-proxy`")
    if shutil.which("useradd") is None:
        missing.append("useradd: apt-get install passwd")
    if missing:
        pytest.fail("the hub end-to-end test cannot run; install:\n  " + "\n  ".join(missing))


@pytest.fixture(scope="module")
def hub():
    """A running hub with a temporary course folder, exchange and student work folders."""
    requirements()
    from hub.hub import HubSetup, start, stop, wait_until_up

    # Not pytest's tmp_path: it is under /tmp/pytest-of-root (mode 700), where the course's users
    # could not reach their own work folders or the exchange.
    base = Path(tempfile.mkdtemp(prefix="dlc-hub-e2e-"))
    base.chmod(0o755)
    port, hub_port, api_port, service_port = free_ports(4)
    setup = HubSetup(base, port=port, hub_port=hub_port, proxy_api_port=api_port, service_port=service_port,
                     work=base / "work", password="e2e-" + os.urandom(6).hex())
    (base / "logs").mkdir()
    log = open(base / "logs" / "jupyterhub.log", "w")
    proc = start(setup, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_until_up(setup, proc)
        except RuntimeError as e:
            log.flush()
            pytest.fail(f"{e}:\n" + (base / "logs" / "jupyterhub.log").read_text()[-4000:])
        yield setup
    finally:
        stop(proc)
        log.close()
        keep = ARTIFACTS / "jupyterhub.log"
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(base / "logs" / "jupyterhub.log", keep)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's launch() gives the browser a fresh temporary profile (user-data dir) of its own,
    # and each user below gets a fresh context (cookies) in it.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Shots:
    """Numbered screenshots, in the order of the loop."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder, self.n = folder, 0

    def take(self, page, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.folder / f"{self.n:02d}-{name}.png"), full_page=True)


def instructor(setup, *cmd: str) -> subprocess.CompletedProcess:
    """An instructor's command, as the instructor, in the course folder; its output in the failure."""
    from hub.hub import as_user

    done = as_user(setup.instructor, *cmd, cwd=setup.course, check=False, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def log_in(browser, setup, user: str, next_path: str = ""):
    """A fresh browser context (its own cookies), logged in through the hub's login page."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(60_000)
    page = ctx.new_page()
    page.goto(setup.url + "hub/login" + (f"?next={urllib.parse.quote(next_path)}" if next_path else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", setup.password)
    page.click("#login_submit")
    return ctx, page


def open_assignment_list(page, user: str):
    """The student's JupyterLab, then Nbgrader > Assignment List (the only item a student has)."""
    page.wait_for_url(f"**/user/{user}/lab**", timeout=240_000)       # spawning on a busy machine
    page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    page.get_by_text("Nbgrader", exact=True).click()
    page.get_by_text("Assignment List", exact=True).click()
    page.wait_for_selector("#released_assignments_list")


def row(page, section: str):
    """The lesson's row in one of the Assignment List's sections (released, fetched, submitted)."""
    return page.locator(f"#{section}_assignments_list .list_item").filter(has_text=A)


def test_a_cohort_loop_on_the_hub_in_a_browser(hub, browser):
    """Release, fetch and submit in the browser, collect, grade, feedback fetched and opened in the
    browser, and an export with the exact scores."""
    setup = hub
    shots = Shots(ARTIFACTS)
    py = str(ROOT / ".venv" / "bin" / "python")
    course = ["--root", str(ROOT), "--cohort", str(setup.course)]
    started = time.monotonic()

    # The exchange as nbgrader's docs ask: world-writable with the sticky bit.
    assert stat.S_IMODE(setup.exchange.stat().st_mode) == 0o1777

    # 1) The instructor releases lesson 01: the course's student version into the course folder's
    #    release/, the students into the gradebook (with names, so the formgrader does not show
    #    "None, None"), then nbgrader's release_assignment into the exchange.
    instructor(setup, py, "-m", "autograder", *course, "release", A)
    roster = setup.course / "roster.csv"
    roster.write_text("student_id,first_name,last_name,email\n" + "".join(
        f"{student},Student,Number{n},{student}@example.org\n" for n, student in enumerate(setup.students, 1)))
    roster.chmod(0o644)
    instructor(setup, py, "-m", "autograder", *course, "roster", "import", str(roster))
    instructor(setup, "nbgrader", "release_assignment", A)
    inbound = setup.exchange / "dlcourse" / "inbound"
    # Students may write into inbound/ but not list it (nbgrader creates it 2733), so no one sees
    # another's submission.
    assert stat.S_IMODE(inbound.stat().st_mode) == 0o2733
    from hub.hub import as_user

    peek = as_user(setup.students[0], "ls", str(inbound), cwd=Path("/"), check=False, capture_output=True)
    assert peek.returncode != 0, "a student could list the exchange's inbound folder"

    # The formgrader is a hub service for the instructor only.
    ctx, page = log_in(browser, setup, setup.instructor, next_path="/services/dlcourse/formgrader")
    page.wait_for_selector("text=01_activations", timeout=120_000)
    shots.take(page, "instructor-formgrader-released")
    instructor_ctx, instructor_page = ctx, page

    # 2) Each student logs in, fetches, writes answers, submits: all in the browser but the answers,
    #    which are written as files (known notebooks with known exact scores).
    students = {}
    for student, (example, _) in ANSWERS.items():
        ctx, page = log_in(browser, setup, student)
        open_assignment_list(page, student)
        row(page, "released").get_by_role("button", name="Fetch").click()
        row(page, "fetched").get_by_role("button", name="Submit").wait_for()
        shots.take(page, f"{student}-fetched")
        fetched = setup.work / student / A / f"{A}.ipynb"
        assert fetched.is_file() and fetched.stat().st_uid == pwd.getpwnam(student).pw_uid
        as_user(student, "cp", str(EXAMPLES / f"{example}.ipynb"), str(fetched), cwd=Path("/"))
        row(page, "fetched").get_by_role("button", name="Submit").click()
        row(page, "submitted").wait_for()
        assert row(page, "submitted").get_by_role("button", name="Fetch Feedback").count() == 1
        shots.take(page, f"{student}-submitted")
        if student == setup.students[0]:
            other = ctx.new_page()        # same cookies: the student's own login
            denied = other.goto(setup.url + "services/dlcourse/formgrader")
            assert denied.status == 403, f"a student opened the formgrader (HTTP {denied.status})"
            other.close()
        students[student] = (ctx, page)

    # 3) The instructor collects from the exchange and grades with the course's sandboxed grader.
    instructor(setup, "nbgrader", "collect", A)
    for student in ANSWERS:
        assert (setup.course / "submitted" / student / A / f"{A}.ipynb").is_file(), f"{student} not collected"
    graded = subprocess.run([py, "-m", "hub.hub", "--dir", str(setup.dir), "autograde", A, "--jobs", "2"],
                            cwd=ROOT, capture_output=True, text=True)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    instructor_page.goto(setup.url + f"services/dlcourse/formgrader/gradebook/{A}/{A}")
    # The gradebook's names reach the formgrader (hidden until "show names" is clicked, but present).
    names = instructor_page.locator("a.name-shown")
    names.nth(1).wait_for(state="attached", timeout=120_000)
    assert sorted(names.all_text_contents()) == ["Number1, Student", "Number2, Student"]
    shots.take(instructor_page, "instructor-formgrader-graded")
    instructor_ctx.close()

    # 4) Feedback: the course's feedback pages, released through the exchange.
    instructor(setup, py, "-m", "autograder", *course, "feedback", A)
    instructor(setup, "nbgrader", "release_feedback", A)

    # 5) Each student fetches the feedback in the Assignment List and opens it.
    for student, (_, score) in ANSWERS.items():
        ctx, page = students[student]
        page.locator("#refresh_assignments_list").click()
        row(page, "submitted").get_by_text("(feedback available to fetch)").wait_for()
        row(page, "submitted").get_by_role("button", name="Fetch Feedback").click()
        link = row(page, "submitted").get_by_text("(view feedback)")
        link.wait_for()
        link.click()                                    # the file browser goes to the feedback folder
        page.locator(".jp-DirListing-item", has_text=f"{A}.html").dblclick()   # JupyterLab's HTML viewer
        page.wait_for_selector(".jp-HTMLViewer iframe")
        shots.take(page, f"{student}-feedback-in-lab")
        pages = sorted((setup.work / student / A / "feedback").glob(f"*/{A}.html"))
        assert len(pages) == 1, f"{student}'s fetched feedback: {pages}"
        rel = pages[0].relative_to(setup.work / student).as_posix()
        page.goto(setup.url + f"user/{student}/files/{rel}")
        body = page.inner_text("body")
        shots.take(page, f"{student}-feedback-page")
        heading = f"{A} (Score: {score:g} / {MAX_SCORE:g})"
        assert heading in body, f"{student}'s feedback page does not say {heading!r}"
        ctx.close()

    # 6) The exported grades are exact.
    instructor(setup, py, "-m", "autograder", *course, "export")
    with open(setup.course / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh) if r["assignment"] == A}
    assert {s: float(r["score"]) for s, r in rows.items()} == {s: sc for s, (_, sc) in ANSWERS.items()}
    assert {s: r["status"] for s, r in rows.items()} == {s: "graded" for s in ANSWERS}
    assert {s: r["last_name"] for s, r in rows.items()} == {"dlc-student1": "Number1", "dlc-student2": "Number2"}
    shutil.copy(setup.course / "grades.csv", ARTIFACTS / "grades.csv")
    (ARTIFACTS / "timing.txt").write_text(f"whole loop: {time.monotonic() - started:.0f} s\n")
