# photo-search: two commands do everything on a fresh machine.
#   make run    set up, build the practice library, execute every chapter into outputs/
#   make test   set up, build the practice library, run the tests and execute every notebook
#   make exercises   copies of the chapters with the "Your turn" solutions blanked, in exercises/
# Point the chapters at your own photos with PHOTOS=~/Pictures make run (photos are only read).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PRACTICE := data/practice_library
PRACTICE_STAMP := $(PRACTICE)/.practice.json
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
EXECUTED := outputs/.executed
SOURCES := $(shell find src -name '*.py' 2>/dev/null)
NB_TIMEOUT ?= 1200

.PHONY: setup practice run exercises lint test lab app bench clean help
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# The pinned requirements are for Python 3.11 and newer: an older one is said in one line, before pip fails.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(None if sys.version_info >= (3, 11) else 'photo-search needs Python 3.11 or newer, and ' + sys.executable + ' is ' + sys.version.split()[0] + ': install 3.11 and run make PYTHON=python3.11 setup')"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)  ## create .venv and install pinned requirements (only when they change)

$(PRACTICE_STAMP): $(STAMP) src/helpers/course/practice.py data/practice_photos/photos.csv
	$(PY) -m helpers.course.practice $(PRACTICE)
	touch $@  # a library already current is left as it is: the stamp says it was checked

practice: $(PRACTICE_STAMP)  ## build data/practice_library from the photos in data/practice_photos

# With PHOTOS set, the chapters run on another folder, so earlier outputs do not count.
ifdef PHOTOS
.PHONY: $(EXECUTED)
endif

# One process runs every chapter that needs it (a changed chapter alone, or all when the code or the
# practice library changed): a chapter costs its cells, not another start of Python and nbconvert.
$(EXECUTED): $(NOTEBOOKS) $(SOURCES) $(PRACTICE_STAMP)
	$(PY) -m helpers.course run $(if $(filter-out $(NOTEBOOKS),$?),,$(patsubst notebooks/%.ipynb,%,$?)) \
		--timeout $(NB_TIMEOUT)
	touch $@

run: setup practice $(EXECUTED)  ## execute every chapter headless; executed notebooks and HTML go to outputs/
	@echo "chapters executed: open outputs/*.html"

exercises: setup  ## write exercises/: the chapters with the "Your turn" solutions blanked, to fill in
	$(PY) -m helpers.course exercises

lint: setup  ## ruff (style and likely bugs) and mypy (types), as every test run does
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: setup practice lint  ## lint, type-check, run the library tests and execute every notebook as a test
	$(PY) -m pytest tests $(NOTEBOOKS) --nbmake --nbmake-timeout=$(NB_TIMEOUT)

lab: setup practice  ## open JupyterLab on the chapters
	$(BIN)/jupyter lab notebooks

APP_PORT ?= 8866
app: setup practice  ## the search app as a local web page (Voila, 127.0.0.1 only): http://127.0.0.1:$(APP_PORT)
	cd notebooks && $(abspath $(BIN))/voila app.ipynb --port=$(APP_PORT)

bench: setup  ## speed figures (medians of several runs, rclip side by side), recorded in BENCHMARKS.md
	$(PY) benchmarks/bench_decode.py
	$(PY) benchmarks/bench_index.py
	$(PY) benchmarks/bench_distinct.py
	$(PY) benchmarks/bench_folding.py
	$(PY) benchmarks/bench_words.py
	$(PY) benchmarks/bench_faces.py
	$(PY) benchmarks/bench_engines.py
	$(PY) benchmarks/bench_search.py
	$(PY) benchmarks/bench_cutoff.py
	$(PY) benchmarks/bench_library.py
	$(PY) benchmarks/bench_dupes.py
	$(PY) benchmarks/bench_verify.py
	$(PY) benchmarks/bench_dupes_scale.py

clean:  ## remove outputs and the practice library (never touches your own photos)
	rm -rf outputs exercises $(PRACTICE)
