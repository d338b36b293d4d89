# The two commands of the README:  `make run` (set up, then run the main job) and `make test`.
# Setup is idempotent: the venv is rebuilt only when pyproject.toml changes (a stamp file records it).
PYTHON ?= python3
VENV ?= .venv
STAMP := $(VENV)/.amodal-installed
CORES ?= 2

.PHONY: setup run test report clean-results

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-compile -e '.[test]'
	@# pip byte-compiles the ~6 GB one file at a time; compileall on every core is about a minute faster. Like pip,
	@# it skips files that are not Python 3.11 (torch ships one, for 3.12), hence `|| true`
	$(VENV)/bin/python -m compileall -qq -j 0 "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || true
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/snakemake --profile profiles/default --cores $(CORES)

# The HTML report of the last run (after `make run`; after a run with another config, pass it: CONFIG=...)
report: setup
	$(VENV)/bin/snakemake --profile profiles/default --cores $(CORES) $(if $(CONFIG),--configfile $(CONFIG)) \
		--report results/report.html
	@echo "report: results/report.html"

# Two pytest-xdist workers: while one waits on a workflow run's Snakemake jobs the other computes. Tests that share
# a session fixture stay on one worker (tests/conftest.py), so it is built once.
TEST_WORKERS ?= 2
include envs/malloc.env  # glibc malloc settings (why: envs/malloc.env); the workflow's jobs get them from
export MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_  # rules/common.smk
test: setup
	$(VENV)/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

clean-results:
	rm -rf results .snakemake
