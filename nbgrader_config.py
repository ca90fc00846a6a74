# nbgrader configuration for the course. The course root is this folder.
# solutions/ is the one source; lessons/ is generated from it by `make lessons`.
# An instructor's cohort state (submissions, gradebook, feedback, grades) lives in cohort/,
# which git ignores.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "lessons"
c.CourseDirectory.submitted_directory = "cohort/submitted"
c.CourseDirectory.autograded_directory = "cohort/autograded"
c.CourseDirectory.feedback_directory = "cohort/feedback"
c.CourseDirectory.db_url = "sqlite:///cohort/gradebook.db"
c.Exchange.root = "cohort/exchange"

# Lessons import the course's helper package; nbgrader copies non-notebook files verbatim,
# so only notebooks belong in an assignment folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.egg-info"]

# The generated student version keeps the "# YOUR CODE HERE" convention.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Validate (the learner's button in JupyterLab) runs the notebook; a cell stuck in an
# endless loop must not hang it.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# Feedback pages name each graded cell after its exercise ("Checks: softmax"), and they and the
# formgrader render math with a local MathJax, not a CDN (autograder/feedback.py).
from autograder.feedback import configure as _configure_feedback  # noqa: E402

_configure_feedback(c)
