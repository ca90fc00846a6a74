# One command each: `make setup`, `make lab`, `make test`, `make quickstart`.
# Every target that needs the environment depends on it, so each works as a first command.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

# (hub/node_modules is a file target below, not phony.)
.PHONY: setup lab lab-instructor hub hub-proxy progress test test-fast lessons release quickstart doctor bench bench-grading bench-busy bench-dask gpu-check clean-cohort

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	$(VENV)/bin/jupyter labextension enable @jupyter/nbgrader >/dev/null 2>&1
	for ext in formgrader validate_assignment assignment_list course_list; do \
		$(VENV)/bin/jupyter server extension enable --sys-prefix nbgrader.server_extensions.$$ext >/dev/null 2>&1 || exit 1; done
	@# The grader's sandbox needs bubblewrap. Install it when we may; a learner without root
	@# does not need it (only instructors grading other people's code do).
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) || \
		echo "note: bubblewrap is not installed; instructors need it to grade (apt-get install bubblewrap)"; }
	@# The hub's browser test (tests/test_hub_e2e.py) drives Debian's chromium; never a downloaded one.
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "note: chromium is not installed; the hub's browser test needs it (apt-get install chromium)"; }
	touch $(STAMP)

# Two JupyterLab setups from one install (jupyter/README.md): a learner's shows Validate and no
# instructor UI (Create Assignment, Formgrader) or exchange lists (Assignment/Course List, which
# need an nbgrader exchange that self-study learners do not have); an instructor's shows all.
# JUPYTER_CONFIG_PATH adds the setup's folder on top of the environment's config.
LEARNER_JUPYTER    := JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter/learner$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}
INSTRUCTOR_JUPYTER := JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter/instructor$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}

lab: setup
	$(LEARNER_JUPYTER) $(VENV)/bin/jupyter lab --ServerApp.root_dir=lessons \
		--ServerApp.default_url=/lab/tree/00_start_here.ipynb

# The formgrader opens the gradebook in cohort/ (nbgrader_config.py): the folder must exist.
lab-instructor: setup
	mkdir -p cohort
	$(INSTRUCTOR_JUPYTER) $(VENV)/bin/jupyter lab --ServerApp.root_dir=.

# The course's JupyterHub, for a try-out (README, "Run a cohort on JupyterHub"): the pinned
# configurable-http-proxy from npm, the course's Unix accounts, the exchange and a course folder in
# build/hub/, then the hub on http://127.0.0.1:$(HUB_PORT)/. Needs root: it spawns each user's server
# as that user.
HUB_PORT ?= 8000
PROXY    := hub/node_modules/.bin/configurable-http-proxy

hub-proxy: $(PROXY)

$(PROXY): hub/package.json hub/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install nodejs npm"; exit 1; }
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	touch $(PROXY)

hub: setup hub-proxy
	$(PY) -m hub.hub --port $(HUB_PORT)

progress: setup
	$(PY) -m autograder progress

# The hub's browser test needs the proxy; without npm it fails saying so (or skips without root).
test: setup
	@$(MAKE) --no-print-directory hub-proxy || echo "note: the hub test needs configurable-http-proxy (make hub-proxy)"
	$(PY) -m pytest -q -n $(JOBS) --dist loadgroup

test-fast: setup
	$(PY) -m pytest -q -m "not notebook and not grading"

lessons: setup
	$(PY) -m autograder lessons

release: setup
	$(PY) -m autograder release

quickstart: setup
	$(PY) -m autograder quickstart --jobs $(JOBS)

doctor: setup
	$(PY) -m dlcourse.doctor

# Benchmarks print ratios measured in one run; they are not tests.
bench: setup
	$(PY) bench/conv_benchmark.py

bench-grading: setup
	$(PY) bench/grading_benchmark.py

# Submissions per minute: local --jobs 2 against a Dask LocalCluster of 2 workers, same cohort.
bench-dask: setup
	$(PY) bench/dask_grading.py

clean-cohort:
	rm -rf cohort

# Grades one 30-submission cohort idle, then under 4 CPU hogs, and prints both and the difference.
bench-busy: setup
	$(PY) bench/busy_grading.py

# On a CUDA machine: the full profile of lessons 05, 06 and 10, with device, images/s, accuracy and
# wall time (at most about 8 minutes). `GPU_CHECK_ARGS=--dry` runs it on the CPU profile instead.
gpu-check: setup
	$(PY) bench/gpu_check.py $(GPU_CHECK_ARGS)
