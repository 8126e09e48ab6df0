# Two commands do everything:  `make run` (execute every notebook, regenerate
# all figures and GIFs) and `make test` (nbval over every notebook + unit tests).
# Both create the virtual environment in .venv first if it is missing or older
# than requirements.txt / pyproject.toml.

PYTHON ?= python3
# tensorflow 2.21 has no wheels for 3.14 yet and numpy 2.4 needs 3.11: keep in step with pyproject.toml.
SUPPORTED_PYTHONS := 3.11, 3.12 or 3.13
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test stress lint benchmark env clean-env site site-test

run: $(STAMP)
	$(PY) tools/run_notebooks.py

# PYTHONWARNDEFAULTENCODING: a file opened without an explicit encoding fails a test (it breaks on
# Windows); see filterwarnings in pyproject.toml.
test: $(STAMP)
	PYTHONWARNDEFAULTENCODING=1 $(PY) -m pytest

# Every notebook under nbval with seeds shifted, one thread per op and both oneDNN settings
# (tools/stress.py); STRESS_ARGS="--config shift1-onednn0" runs one configuration.
stress: $(STAMP)
	$(PY) tools/stress.py $(STRESS_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m ruff check --preview --select PLW1514 .   # open() without encoding, notebooks too
	$(PY) -m check_jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

benchmark: $(STAMP)
	$(PY) benchmarks/notebook_times.py
	$(PY) benchmarks/vector_spread_speed.py
	$(PY) benchmarks/tammes_speed.py

# The reading site in site/: every notebook as HTML with its outputs, an index from the README
# (tools/site.py). Open site/index.html, or serve it: python -m http.server -d site
site: $(STAMP)
	$(PY) tools/site.py

# Every page of the site in headless Chromium (Debian's chromium): images, GIF frames, links,
# formulas, console (tools/site_test.py); prints the folder of its screenshots.
site-test: site
	$(PY) tools/site_test.py

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null || { \
		echo "$(PYTHON) is Python $$($(PYTHON) -V 2>&1 | cut -d' ' -f2): this project needs Python $(SUPPORTED_PYTHONS) (e.g. make PYTHON=python3.12 $(MAKECMDGOALS))"; \
		exit 1; }
	@echo "==> creating/updating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

clean-env:
	rm -rf $(VENV)
