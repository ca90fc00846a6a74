"""Does the learner's JupyterLab (`make lab`) start with Validate and no instructor-only or
exchange UI, and the instructor's (`make lab-instructor`) with everything?

Each setup is started for real, headless, on a free localhost port, with the setup's config folder
(jupyter/learner or jupyter/instructor) exactly as the Makefile passes it, and an empty user config so
that the tester's own ~/.jupyter cannot decide the result."""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import ROOT

NBGRADER_PLUGINS = ["assignment-list", "course-list", "create-assignment", "formgrader", "menu"]
# A route of each nbgrader server extension, asked with HEAD: 404 means the extension is not loaded;
# anything else (405 for a handler without HEAD, 200 for a static file) means it is.
ROUTES = {
    "formgrader": "/formgrader/static/css/formgrade.css",
    "assignment_list": "/assignments",
    "course_list": "/formgraders",
    "validate_assignment": "/assignments/validate",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.open = urllib.request.build_opener(urllib.request.ProxyHandler({})).open  # localhost: no proxy

    def status(self, path: str, method: str = "HEAD") -> int:
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        try:
            with self.open(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except urllib.error.URLError:
            return 0  # not listening (yet)

    def page_config(self) -> dict:
        req = urllib.request.Request(self.url + "/lab", headers={"Authorization": f"token {self.token}"})
        with self.open(req, timeout=20) as r:
            page = r.read().decode()
        m = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        assert m, "JupyterLab's page has no page config"
        return json.loads(html.unescape(m.group(1)))


@contextmanager
def running_lab(setup: str, tmp: Path) -> Iterator[Lab]:
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env.update(JUPYTER_CONFIG_PATH=str(ROOT / "jupyter" / setup),  # what the Makefile sets
               JUPYTER_CONFIG_DIR=str(tmp / "user-config"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"))
    root = tmp / "root"
    root.mkdir()
    log = (tmp / "lab.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
                             f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={root}", *(["--allow-root"] if os.geteuid() == 0 else [])],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 90
        while lab.status("/api/status", "GET") != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"jupyter lab ({setup}) did not start:\n{(tmp / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield lab
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.xdist_group("lab")
def test_learner_lab_has_validate_and_no_instructor_or_exchange_ui(tmp_path):
    with running_lab("learner", tmp_path) as lab:
        disabled = set(lab.page_config()["disabledExtensions"])
        loaded = {name: lab.status(route) != 404 for name, route in ROUTES.items()}
    assert {f"@jupyter/nbgrader:{p}" for p in NBGRADER_PLUGINS} <= disabled
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    assert "@jupyterlab/apputils-extension:announcements" in disabled  # no "get Jupyter news?" pop-up
    assert loaded == {"formgrader": False, "assignment_list": False, "course_list": False,
                      "validate_assignment": True}


def _tiny_assignment(folder: Path) -> Path:
    """A notebook with one written prompt left blank, one answered, and one passing test cell."""
    import nbformat

    def meta(gid, kind="code", solution=False, grade=False, points=0, locked=False):
        m = {"grade_id": gid, "cell_type": kind, "solution": solution, "grade": grade, "locked": locked,
             "task": False, "schema_version": 3}
        return {"nbgrader": {**m, **({"points": points} if grade else {})}}

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Explain it simply:** why does softmax subtract the maximum?"),
        nbformat.v4.new_markdown_cell("YOUR ANSWER HERE", metadata=meta("explain_max", "markdown", True, True)),
        nbformat.v4.new_markdown_cell("**Explain it simply:** what is a logit?"),
        nbformat.v4.new_markdown_cell("A score before the softmax.", metadata=meta("explain_logit", "markdown", True, True)),
        nbformat.v4.new_code_cell("x = 1", metadata=meta("answer", solution=True)),
        nbformat.v4.new_code_cell("assert x == 1", metadata=meta("answer_tests", grade=True, points=1, locked=True)),
    ])
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.xdist_group("lab")
def test_validate_warns_about_unanswered_written_prompts(tmp_path):
    """The learner's Validate button (the same POST the JupyterLab dialog sends) passes the graded
    cell and names the one blank written prompt, as a warning, not the answered one."""
    with running_lab("learner", tmp_path) as lab:
        _tiny_assignment(tmp_path / "root")
        req = urllib.request.Request(lab.url + "/assignments/validate", method="POST",
                                     data=json.dumps({"path": "tiny.ipynb"}).encode(),
                                     headers={"Authorization": f"token {lab.token}",
                                              "Content-Type": "application/json"})
        with lab.open(req, timeout=120) as r:
            reply = json.loads(r.read())
    assert reply["success"] is True, reply
    failed = reply["value"]["failed"]
    assert [f["source"] for f in failed] == ["**Explain it simply:** why does softmax subtract the maximum?"]
    assert failed[0]["raw_error"].startswith("warning, not a failure: this written prompt is not answered yet")


@pytest.mark.xdist_group("lab")
def test_instructor_lab_has_everything_and_serves_mathjax(tmp_path):
    with running_lab("instructor", tmp_path) as lab:
        disabled = set(lab.page_config()["disabledExtensions"])
        loaded = {name: lab.status(route) != 404 for name, route in ROUTES.items()}
        mathjax = lab.status("/static/jupyter_server_mathjax/MathJax.js")
    assert not {p for p in disabled if p.startswith("@jupyter/nbgrader")}
    assert all(loaded.values()), loaded
    assert mathjax == 200, "the formgrader's offline MathJax is not served"


def test_make_targets_use_these_setups():
    """Do `make lab` and `make lab-instructor` start JupyterLab with the folders tested above?"""
    def recipe(target: str) -> str:
        done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return next(line for line in done.stdout.replace("\\\n", " ").splitlines() if "jupyter lab" in line)

    learner, instructor = recipe("lab"), recipe("lab-instructor")
    assert f"JUPYTER_CONFIG_PATH={ROOT}/jupyter/learner" in learner and "--ServerApp.root_dir=lessons" in learner
    start = re.search(r"--ServerApp.default_url=/lab/tree/(\S+)", learner)
    assert start and (ROOT / "lessons" / start.group(1)).exists(), "make lab should open the course map"
    assert f"JUPYTER_CONFIG_PATH={ROOT}/jupyter/instructor" in instructor and "--ServerApp.root_dir=." in instructor


def test_prompt_warnings_leave_changed_cells_to_nbgrader_and_read_list_sources():
    from autograder.validate_ext import add_warnings, unanswered_prompts

    nb = {"cells": [{"cell_type": "markdown", "source": ["**Explain:** ", "why?"]},
                    {"cell_type": "markdown", "source": ["YOUR ANSWER ", "HERE"],
                     "metadata": {"nbgrader": {"solution": True, "grade_id": "e1"}}},
                    {"cell_type": "markdown", "source": "   ", "metadata": {"nbgrader": {"solution": True, "grade_id": "e2"}}},
                    {"cell_type": "markdown", "source": "mine", "metadata": {"nbgrader": {"solution": True, "grade_id": "e3"}}}]}
    # List sources are joined before matching; e2's neighbour above is an answer, not a prompt.
    assert unanswered_prompts(nb) == [{"grade_id": "e1", "prompt": "**Explain:** why?"},
                                      {"grade_id": "e2", "prompt": ""}]
    changed = {"changed": [{"source": "x"}]}
    assert add_warnings(changed, nb) is changed
    got = add_warnings({"failed": [{"source": "a test", "error": "e"}]}, nb)
    assert [f["source"] for f in got["failed"]] == ["a test", "**Explain:** why?", "e2"]
