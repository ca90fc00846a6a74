# A hub student's nbgrader: the course's exchange, so the Assignment List can fetch, submit and
# fetch feedback. The hub passes the exchange's path (hub/jupyterhub_config.py); the course id
# must be the instructor's (nbgrader_config.py), because the exchange is keyed by it.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "dlcourse"
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
# nbgrader fetches into Exchange.assignment_dir, "." by default: the server's working folder, which
# under JupyterHub is the home folder, not the folder the server shows (Spawner.notebook_dir, which
# the hub passes as JUPYTERHUB_ROOT_DIR). Fetch where the student will look.
if os.environ.get("JUPYTERHUB_ROOT_DIR"):
    c.Exchange.assignment_dir = os.environ["JUPYTERHUB_ROOT_DIR"]
