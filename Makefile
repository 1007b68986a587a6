# The two commands of the README:
#   make run    executes the notebook series in place and prints the results table
#   make test   runs the unit tests, the doctests and nbval over every notebook
# Each creates .venv and installs the pinned set from constraints.txt on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The official MNIST files beside the checkout, when they are there (CI and developer machines).
ifneq ($(wildcard ../shared/data/mnist),)
export MNIST_DATA_DIR ?= $(abspath ../shared/data/mnist)
endif
# Keep TensorFlow's C++ log lines out of test output (the notebooks set these themselves).
export TF_CPP_MIN_LOG_LEVEL ?= 3
export TF_ENABLE_ONEDNN_OPTS ?= 0

.PHONY: run check test lab bench figures clean constraints

run: $(STAMP)
	$(BIN)/python -m mnist_tutorial run

check: $(STAMP)
	$(BIN)/python -m mnist_tutorial run --check

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/pip install -q -c constraints.txt -e ".[test,lab]"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_loading.py

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info

# Re-pin constraints.txt from the current .venv (after changing pyproject.toml).
constraints: $(STAMP)
	( echo "# The exact versions CI and the committed notebook outputs use (Python 3.11, Linux x86-64)."; \
	  echo "# Regenerate with: make constraints"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v -i '^mnist-tutorial' ) > constraints.txt
