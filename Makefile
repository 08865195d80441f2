# Everything a fresh machine needs: `make demo` (ingest the seeds and the panels corpus, serve) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
SEEDS ?= ../shared/corpus/seeds
PANELS ?= ../shared/corpus/panels
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export DO_NOT_TRACK := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install dev demo serve test test-fast eval bench clean

# A real (non-editable) install: the tests then prove `pip install .` gives a working package.
install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml Makefile $(shell find ingest search api eval -type f -not -path '*/__pycache__/*' 2>/dev/null)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch==2.13.0 (pinned in pyproject) is the CPU build on this machine's disk.
	$(PIP) install -q ".[test]"
	# unstructured's PDF support imports unstructured-inference, whose timm/torchvision
	# dependencies break beside the CPU torch: install it alone (see pyproject.toml).
	$(PIP) install -q --no-deps "unstructured-inference==1.6.14"
	touch $@

# Editable install for development.
dev:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -e ".[test]"
	$(PIP) install -q --no-deps "unstructured-inference==1.6.14"

# Each folder's manifest.csv says which files are papers (its README and question files are not).
demo: install
	$(VENV)/bin/precedent ingest $(SEEDS) $(PANELS)
	$(VENV)/bin/precedent serve --port $(PORT)

test: install
	$(VENV)/bin/pytest -q -p no:cacheprovider

# The fast tier: pure logic on the real store and pipeline with a fake model, in seconds.
test-fast: install
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/unit

# Seeds and panels in one index, each set guarded by its floors in eval/floors.json.
eval: install
	$(VENV)/bin/precedent eval $(SEEDS)/questions.jsonl $(PANELS)/questions.jsonl --traps $(PANELS)/traps.jsonl \
		--check-floors eval/floors.json
	$(VENV)/bin/precedent eval $(PANELS)/facts.jsonl --facts --check-floors eval/floors_facts.json

# Every benchmark of issue 16 in one run (the 1M index is built once, about 22 minutes, then cached).
bench: install
	$(VENV)/bin/precedent bench all

clean:
	rm -rf $(VENV) build *.egg-info
