# The two commands of the README:
#   make run    executes the notebook series in place and prints the results table
#   make test   runs the unit tests, the doctests and nbval over every notebook
# Each creates .venv and installs the pinned set from constraints.txt on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PEERS  := $(VENV)/.peers
BOOK   := $(VENV)/.book

# The official MNIST and Fashion-MNIST files beside the checkout, when they are there (CI and developer machines).
ifneq ($(wildcard ../shared/data/mnist),)
export MNIST_DATA_DIR ?= $(abspath ../shared/data/mnist)
endif
ifneq ($(wildcard ../shared/data/fashion-mnist),)
export FASHION_MNIST_DATA_DIR ?= $(abspath ../shared/data/fashion-mnist)
endif
# TensorFlow's log settings are deliberately not exported: each notebook sets them itself, and the
# kernels that run the notebooks must start with the environment a reader's kernel has.
# Whatever runs a notebook kernel finds the project's Python first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run check test test-quick peers test-strict test-masked test-lax test-seed fingerprint lab figures clean constraints \
        book test-book test-matrix test-matrix-quick constraints-peers

run: $(STAMP)
	$(BIN)/python -m mnist_tutorial run

figures: $(STAMP)
	$(BIN)/python -m mnist_tutorial figures

check: $(STAMP)
	$(BIN)/python -m mnist_tutorial run --check

# Compares every notebook output digit for digit where this machine's fingerprint is the one in
# notebooks/machine.json (strict); elsewhere every output with its numbers masked (masked), and says which.
test: $(STAMP)
	$(BIN)/python -m pytest

# After editing a helper: the unit tests and doctests not marked slow (no notebook, browser or full-data training).
test-quick: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" tests mnist_tutorial

# Compare every output digit for digit whatever the fingerprint: shows where another CPU's digits differ.
test-strict: $(STAMP)
	$(BIN)/python -m pytest --outputs strict

# Compare every output with its numbers masked whatever the fingerprint: words, lines, warnings, figures.
test-masked: $(STAMP)
	$(BIN)/python -m pytest --outputs masked

# Run every cell and every notebook's own tolerance checks, but compare no outputs.
test-lax: $(STAMP)
	$(BIN)/python -m pytest --outputs lax

# The notebooks executed with seed 1, compared masked with the committed seed-0 outputs: another seed moves
# every trained figure as another CPU does, so this shows that masked holds where the digits move (CI runs it).
test-seed: $(STAMP)
	$(BIN)/python -m pytest --seed 1 notebooks

# This machine's fingerprint against the one that executed the committed outputs.
fingerprint: $(STAMP)
	$(BIN)/python -m mnist_tutorial fingerprint

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The benchmark scripts, each by its file's name with dashes: make bench-training runs benchmarks/bench_training.py.
# bench-training measures PyTorch and Keras on JAX beside TensorFlow where they are installed (make peers), and says
# which it skipped.
BENCHMARKS := bench-loading bench-training bench-convnet bench-isa bench-images photo-accuracy pad-accuracy seed-spread settings-spread
.PHONY: $(BENCHMARKS) bench seed-spread-fashion
$(BENCHMARKS): $(STAMP)
	$(BIN)/python benchmarks/$(subst -,_,$@).py

bench: bench-loading

seed-spread-fashion: $(STAMP)
	$(BIN)/python benchmarks/seed_spread.py --dataset fashion

# The benchmark's peers (the peers extra): PyTorch's CPU build, from PyTorch's index, and JAX; never for CI.
peers: $(PEERS)

# The book: the committed notebooks as a static site in book/_build/html, built offline by Sphinx and myst-nb
# without executing them, warnings as errors (the book extra, installed on first use); test-book opens it in Chromium.
book: $(BOOK)
	$(BIN)/python -m mnist_tutorial.tools.book

test-book: $(BOOK)
	MNIST_TUTORIAL_BOOK_TEST=required $(BIN)/python -m pytest tests/test_book.py

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[cpu,test]"
	touch $@

$(BOOK): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[cpu,test,book]"
	touch $@

$(PEERS): $(STAMP)
	$(BIN)/python -m pip install -q -c constraints.txt -c constraints-peers.txt --extra-index-url https://download.pytorch.org/whl/cpu -e ".[cpu,test,peers]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info book/_build

# Re-lock constraints.txt (after changing pyproject.toml): the cpu, test and book extras for every supported Python,
# one file with markers (uv pip compile --universal), keeping every pin that still fits, so Python 3.11's stay.
constraints: $(STAMP)
	$(BIN)/python -m mnist_tutorial.tools.lock

# Re-pin the benchmark's peers, and what they add to the lock, from .venv (make peers installed them there).
constraints-peers: $(PEERS)
	$(BIN)/python -m mnist_tutorial.tools.lock --peers

# A fresh environment for each supported Python (with the lock) and for the oldest and the newest TensorFlow
# (installed first, then the project without the lock), in .matrix/: the quick tier in each, and notebooks 01 and 05
# compared masked (after 02, run to save the net 05 loads); a table of the versions, the tests and the times.
test-matrix: $(STAMP)
	$(BIN)/python -m mnist_tutorial.tools.matrix --notebooks

# The same rows, the quick tier alone, two rows at a time (CI runs it).
test-matrix-quick: $(STAMP)
	$(BIN)/python -m mnist_tutorial.tools.matrix --jobs 2
