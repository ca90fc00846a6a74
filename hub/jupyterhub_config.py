# JupyterHub 6 for one course: local Unix accounts, one server per user as that user, nbgrader's
# exchange in a shared folder and the formgrader as a hub service for the instructor (nbgrader's
# "one class, one grader" setup). hub/hub.py prepares the folders and accounts and passes the
# values below as DLCOURSE_HUB_* variables; run it (`make hub`) rather than this file directly.
import os
from pathlib import Path

c = get_config()  # noqa: F821

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
COURSE_ID = "dlcourse"
env = os.environ
INSTRUCTOR = env["DLCOURSE_HUB_INSTRUCTOR"]
STUDENTS = [s for s in env["DLCOURSE_HUB_STUDENTS"].split(",") if s]
STATE = Path(env["DLCOURSE_HUB_STATE"])
COURSE = Path(env["DLCOURSE_HUB_COURSE"])
EXCHANGE = env["DLCOURSE_EXCHANGE"]
WORK = env.get("DLCOURSE_HUB_WORK", "")

# --- network: everything on localhost; put TLS in front (a reverse proxy) before anyone else uses it.
c.JupyterHub.bind_url = f"http://127.0.0.1:{env['DLCOURSE_HUB_PORT']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{env['DLCOURSE_HUB_API_PORT']}"
# configurable-http-proxy from npm, pinned in hub/package.json (`npm ci` in hub/, run by `make hub`).
c.ConfigurableHTTPProxy.command = [str(ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['DLCOURSE_HUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")

# --- authentication: one shared password, for a try-out and the end-to-end test only.
# (DummyAuthenticator's password is deprecated since JupyterHub 5.3; SharedPasswordAuthenticator is its
# replacement.) For a real cohort use PAM or OAuth: README, "Run a cohort on JupyterHub".
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = env["DLCOURSE_HUB_PASSWORD"]
c.Authenticator.allowed_users = {INSTRUCTOR, *STUDENTS}

# --- servers: each user's JupyterLab runs as that Unix user (the hub is root), from the course's own
# pinned environment, with the hub student setup: Validate and the Assignment List (jupyter/README.md).
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / "hub-student"),
    "DLCOURSE_EXCHANGE": EXCHANGE,          # read by jupyter/hub-student/nbgrader_config.py
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}
# A busy two-core machine starts JupyterLab slowly; the defaults (30 s, 60 s) fail there.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
if WORK:
    # Each student's work folder (the Assignment List fetches into it). Default: the home folder.
    c.Spawner.notebook_dir = f"{WORK}/{{username}}"

    def make_work_folder(spawner):
        import pwd

        folder = Path(WORK) / spawner.user.name
        folder.mkdir(parents=True, exist_ok=True)
        pw = pwd.getpwnam(spawner.user.name)
        os.chown(folder, pw.pw_uid, pw.pw_gid)
        folder.chmod(0o700)

    c.Spawner.pre_spawn_hook = make_work_folder

# --- the formgrader: a hub service named after the course, running jupyterhub-singleuser as the
# instructor in the course folder (whose nbgrader_config.py points at the gradebook and the exchange),
# with the instructor setup (formgrader, Create Assignment, local MathJax).
c.JupyterHub.services = [{
    "name": COURSE_ID,
    "url": f"http://127.0.0.1:{env['DLCOURSE_HUB_SERVICE_PORT']}",
    "command": [str(VENV / "bin" / "jupyterhub-singleuser")],
    "user": INSTRUCTOR,
    "cwd": str(COURSE),
    "oauth_no_confirm": True,
    "environment": {
        "JUPYTERHUB_DEFAULT_URL": "/lab",
        "JUPYTER_CONFIG_PATH": str(ROOT / "jupyter" / "instructor"),
        "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    },
}]
# Who may open the formgrader: the group formgrader-<course>, as nbgrader's docs name it. Students are
# in nbgrader-<course>, the group nbgrader's JupyterHubAuthPlugin reads if you turn it on.
c.JupyterHub.load_groups = {
    f"formgrader-{COURSE_ID}": {"users": [INSTRUCTOR]},
    f"nbgrader-{COURSE_ID}": {"users": STUDENTS},
}
c.JupyterHub.load_roles = [
    {"name": f"formgrader-{COURSE_ID}", "groups": [f"formgrader-{COURSE_ID}"],
     "scopes": [f"access:services!service={COURSE_ID}"]},
]
