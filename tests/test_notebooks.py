"""The committed notebooks: structure, honest nbval settings, clean outputs, and passing checks.

nbval itself re-executes every notebook and compares each output with the
committed one (see pyproject's addopts). The outputs were produced by an
earlier run in another process, so a pass also proves that re-execution
gives identical outputs, apart from the sanitized wall-clock times.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from mnist_tutorial.tools.series import find_notebooks, passed, result_rows

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = find_notebooks(NOTEBOOKS)
SANITIZE = NOTEBOOKS / "sanitize.cfg"
KERAS_EPOCH_LINE = re.compile(r"\d+/\d+ - \d+s - \d+(s|ms|us)/step( - \w+: \d\.\d{4}(e[+-]\d\d)?)+")
# The tf.data idiom every lesson feeds fit: a new order every epoch (notebook 06 explains why not fit(x, y)),
# the same pipeline as mnist_tutorial.training.shuffled_batches.
IDIOM = re.compile(r"(\w+) = tf\.data\.Dataset\.from_tensor_slices\(\((\w+), (\w+)\)\)\.shuffle\(len\(\2\)\)\.batch\((\d+|\w+)\)")
FIT_CALL = re.compile(r"\.fit\(\s*(\w+)(.*?)\)\s*$", re.S | re.M)


def sanitize(text: str) -> str:
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_the_series_is_there():
    assert [path.name[:3] for path in PATHS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_"]


def test_sanitize_file_parses_into_its_six_rules():
    assert len(get_sanitize_patterns(SANITIZE.read_text())) == 6
    assert sanitize("trained in 13.2 s") == "trained in T s"
    assert sanitize("| mlp | 118,282 | 3 | 9.1 s | 97.21% |") == "| mlp | 118,282 | 3 | T s | 97.21% |"
    assert sanitize("<History at 0x7f3b55f62c50>") == "<History at 0xADDRESS>"
    assert sanitize("acc 97.45%    9.4 s\n") == sanitize("acc 97.45%   18.0 s\n") == "acc 97.45% T s\n"  # padded columns
    for line in ("1875/1875 - 3s - 2ms/step - accuracy: 0.9243 - loss: 0.2574",
                 "1875/1875 - 12s - 864us/step - accuracy: 0.9243 - loss: 0.2574"):
        assert sanitize(line) == "1875/1875 - T - T/step - accuracy: 0.9243 - loss: 0.2574"
    assert sanitize("469/469 - 1s - 1s/step - loss: 1.2000e-03") == "469/469 - T - T/step - loss: 1.2000e-03"
    assert sanitize("fit   2.28 s   2.59x\n") == sanitize("fit  12.01 s  13.70x\n") == "fit T s Rx\n"
    assert sanitize("later epochs 2.28 s, 2.59x the limit") == "later epochs T s, Rx the limit"
    assert sanitize("NumPy, a 4096 x 4096 product: 194 GFLOP/s") == "NumPy, a 4096 x 4096 product: R GFLOP/s"
    assert (sanitize("one epoch is 98.2 GFLOP: at least 0.51 s, at the speed of TensorFlow's products")
            == sanitize("one epoch is 98.2 GFLOP: at least 0.62 s, at the speed of NumPy's product".replace("product", "products"))
            == "one epoch is 98.2 GFLOP: at least T s, at the speed of FASTEST's products")
    for kept in ("3 epochs", "97.06%", "x_train", "0x", "2x2 max pooling", "(28, 28)", "test loss 0.0919", "(60000, 28, 28)", "label 5 -> [0. 1.]", "Epoch 1/3",
                 "98.2 GFLOP per epoch", "NumPy, a 4096 x 4096 product"):
        assert sanitize(kept) == kept


@pytest.fixture(params=PATHS, ids=[path.stem for path in PATHS])
def notebook(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def test_reading_order_title_learn_setup(notebook):
    """A title, "What you will learn" (in the title's cell or the next), then the Setup heading and its code cell."""
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \d\d · ", first.source)
    learn = 0 if "\n## What you will learn\n" in first.source else 1
    assert notebook.cells[learn].cell_type == "markdown" and "## What you will learn" in notebook.cells[learn].source
    heading, setup = notebook.cells[learn + 1:learn + 3]
    assert heading.cell_type == "markdown" and heading.source.startswith("## Setup")
    assert setup.cell_type == "code" and "set_seed(SEED)" in setup.source
    assert setup.source.index('os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"') < setup.source.index("import tensorflow")
    assert setup.source.count("#") <= 1, "the setup cell sets what it must, with at most one short comment"


def test_notebook_01_trains_its_first_model_within_its_first_third():
    notebook = nbformat.read(NOTEBOOKS / "01_normalize_and_flatten_mlp.ipynb", as_version=4)
    first_fit = next(i for i, cell in enumerate(notebook.cells) if ".fit(" in cell.source)
    assert first_fit <= len(notebook.cells) / 3, f"the first fit is cell {first_fit} of {len(notebook.cells)}"


def test_the_last_cell_checks_against_the_tutorial(notebook):
    last = notebook.cells[-1]
    assert last.cell_type == "code" and "check_against_tutorial(" in last.source
    rows = result_rows(notebook)
    assert rows and all(passed(row) for row in rows)
    # Every figure a notebook is held to comes from mnist_tutorial.results.TARGETS, none is written in the notebook.
    assert last.source.count("Result(") == last.source.count("target=TARGETS[") == len(rows)
    assert not re.search(r"\b0\.\d{3,}", last.source), "a literal accuracy or tolerance in the check cell"


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
            assert "\r" not in text and "\b" not in text, "progress-bar output"
            for line in text.splitlines():
                if "/step" in line:  # only fit's verbose=2 lines, whose times the sanitizer masks
                    assert KERAS_EPOCH_LINE.fullmatch(line), f"not a verbose=2 epoch line: {line!r}"
            assert not re.search(r"<\w[\w.]* (object )?at 0x", text), "an object repr reached the output"
            figures += "image/png" in output.get("data", {})
    assert figures >= 3


def test_every_ignored_output_says_why(notebook):
    for cell in notebook.cells:
        for line in cell.source.splitlines():
            if "NBVAL_IGNORE_OUTPUT" in line:
                assert re.search(r"NBVAL_IGNORE_OUTPUT\s*[-:(—]\s*\w+", line), f"no reason given: {line!r}"
            assert "NBVAL_SKIP" not in line, "cells are compared, not skipped"


def code_of(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")


def test_no_execution_timestamps_in_the_committed_notebooks(notebook):
    """A re-run's diff shows changed outputs only: the runner records no iopub/shell timestamps."""
    for cell in notebook.cells:
        assert "execution" not in cell.metadata, f"timing metadata in: {cell.source[:60]!r}"


def test_every_lesson_feeds_fit_a_dataset_shuffled_every_epoch_in_plain_tf_data(notebook):
    code = code_of(notebook)
    datasets = {match.group(1) for match in IDIOM.finditer(code)}
    calls = FIT_CALL.findall(code)
    assert calls and datasets
    for fed, rest in calls:
        assert fed in datasets, f"fit is fed {fed!r}, not a dataset built with the tf.data idiom"
        assert "shuffle=False" in rest, "the dataset shuffles itself; fit's own shuffle would only warn"
    for line in code.splitlines():
        if ".fit(" in line or "tf.data.Dataset" in line:
            assert "mnist_tutorial" not in line and "shuffled_batches" not in line, line
    assert "from mnist_tutorial.training import" not in code or "shuffled_batches" not in code


def test_speed_settings_are_one_setting_at_most_once_per_model(notebook):
    code = code_of(notebook)
    # one value wherever it is set, so that two models compared differ in what the lesson compares alone
    assert code.count("steps_per_execution") == code.count("steps_per_execution=32") <= code.count(".compile(")
    assert "tf.data.Options" not in code and "autotune" not in code.lower()


def test_notebook_06_writes_out_the_loop_that_train_by_hand_runs():
    """The benchmark times ``training.train_by_hand``; the notebook teaches the same step and epoch line by line."""
    import inspect

    from mnist_tutorial.training import train_by_hand

    package = {line.strip() for line in inspect.getsource(train_by_hand).splitlines()}
    notebook = nbformat.read(NOTEBOOKS / "06_training_loop_by_hand.ipynb", as_version=4)
    code = code_of(notebook)
    cell = next(cell.source for cell in notebook.cells if "def train_step(" in cell.source)
    body = cell[cell.index("def train_step("):].splitlines()[1:]
    step = [line for line in body[:next((i for i, line in enumerate(body) if line and not line[0].isspace()), None)]
            if line.strip()]
    assert len(step) == 7  # the tape, the forward pass, the loss, the gradients, the update, two metrics
    for line in step:  # the forward pass, the loss, the gradients, the update, the metric (named for what it is)
        line = line.replace("accuracy.update_state", "metric.update_state")
        assert line.strip() in package, f"train_by_hand lacks the notebook's step line {line.strip()!r}"
    assert "orders = tf.data.Dataset.range(len(train_x)).shuffle(len(train_x)).batch(len(train_x))" in code
    assert "orders = tf.data.Dataset.range(num_samples).shuffle(num_samples).batch(num_samples)" in package
    assert "batch = order[start:start + 128]" in code and "batch = order[start:start + batch_size]" in package
    assert "train_epoch(orders.get_single_element())" in code and "train_epoch(orders.get_single_element())" in package
    assert "optimizer = FusedRMSprop()" in code


def calls(path: Path, *functions: str) -> dict[str, str]:
    """The calls of these functions (``keras.Sequential`` by its ``name=``) in a notebook's code, as syntax trees in text."""
    found = {}
    for node in ast.walk(ast.parse(code_of(nbformat.read(path, as_version=4)))):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in functions:
            names = [ast.literal_eval(k.value) for k in node.keywords if k.arg == "name"]
            found[names[0] if names else ast.unparse(node.func)] = ast.dump(node)
    return found


def test_notebook_07_trains_notebook_02s_and_05s_models_as_they_write_them():
    """Notebook 07 says its two models are notebook 02's and 05's, unchanged: the same layers, schedule and compile."""
    wanted = ("keras.Sequential", "keras.optimizers.schedules.CosineDecay", "convnet.compile", "dense.compile",
              "model.compile")
    fashion = calls(NOTEBOOKS / "07_fashion_mnist.ipynb", *wanted)
    mnist_dense, mnist_convnet = (calls(NOTEBOOKS / name, *wanted) for name in ("02_dense_512_rmsprop.ipynb", "05_convnet.ipynb"))
    assert fashion["dense_512_rmsprop"] == mnist_dense["dense_512_rmsprop"]
    assert fashion["dense.compile"] == mnist_dense["model.compile"].replace("'model'", "'dense'")
    assert fashion["convnet"] == mnist_convnet["convnet"]
    for call in ("keras.optimizers.schedules.CosineDecay", "convnet.compile"):
        assert fashion[call] == mnist_convnet[call], call
