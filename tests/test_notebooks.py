"""The committed notebooks: structure, honest nbval settings, clean outputs, and passing checks.

nbval itself re-executes every notebook and compares each output with the
committed one (see pyproject's addopts). The outputs were produced by an
earlier run in another process, so a pass also proves that re-execution
gives identical outputs, apart from the sanitized wall-clock times.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from mnist_tutorial.series import find_notebooks, result_rows

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = find_notebooks(NOTEBOOKS)
SANITIZE = NOTEBOOKS / "sanitize.cfg"


def sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_series_is_there():
    assert [path.name[:3] for path in PATHS] == ["01_", "02_", "03_", "04_", "05_"]


def test_sanitize_file_parses_into_its_two_rules():
    assert len(get_sanitize_patterns(SANITIZE.read_text())) == 2
    assert sanitize("trained in 13.2 s") == "trained in T s"
    assert sanitize("| mlp | 118,282 | 3 | 9.1 s | 97.21% |") == "| mlp | 118,282 | 3 | T s | 97.21% |"
    assert sanitize("<History at 0x7f3b55f62c50>") == "<History at 0xADDRESS>"
    assert sanitize("acc 97.45%    9.4 s\n") == sanitize("acc 97.45%   18.0 s\n") == "acc 97.45% T s\n"  # padded columns
    for kept in ("3 epochs", "97.06%", "test loss 0.0919", "(60000, 28, 28)", "label 5 -> [0. 1.]"):
        assert sanitize(kept) == kept


@pytest.fixture(params=PATHS, ids=[path.stem for path in PATHS])
def notebook(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def test_reading_order_title_learn_setup(notebook):
    first, second, third, fourth = notebook.cells[:4]
    assert first.cell_type == "markdown" and re.match(r"# \d\d · ", first.source)
    assert second.cell_type == "markdown" and second.source.startswith("## What you will learn")
    assert third.cell_type == "markdown" and third.source.startswith("## Setup")
    setup = fourth.source
    assert fourth.cell_type == "code" and "set_seed(SEED)" in setup
    assert setup.index('os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"') < setup.index("import tensorflow")


def test_the_last_cell_checks_against_the_tutorial(notebook):
    last = notebook.cells[-1]
    assert last.cell_type == "code" and "check_against_tutorial(" in last.source
    rows = result_rows(notebook)
    assert rows and all(row["check"] == "pass" for row in rows)


def test_committed_executed_with_clean_outputs(notebook):
    figures = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"not executed: {cell.source[:60]!r}"
        for output in cell.outputs:
            assert output.output_type != "error", output.get("evalue")
            assert not (output.output_type == "stream" and output.name == "stderr"), output.text
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            assert "\r" not in text and "\b" not in text and "/step" not in text, "progress-bar output"
            assert not re.search(r"<\w[\w.]* (object )?at 0x", text), "an object repr reached the output"
            figures += "image/png" in output.get("data", {})
    assert figures >= 3


def test_every_ignored_output_says_why(notebook):
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if "NBVAL_IGNORE_OUTPUT" in line:
                assert re.search(r"NBVAL_IGNORE_OUTPUT\s*[-:(—]\s*\w+", line), f"no reason given: {line!r}"
            assert "NBVAL_SKIP" not in line, "cells are compared, not skipped"
