"""The book's pad without a browser: the convnet exported for the page (tools.book_pad), and the page's output.

tests/test_book.py builds the book with a convnet and draws on the page in Chromium.
"""

import json
import os

import keras
import numpy as np
import pytest

from mnist_tutorial.models import build_convnet
from mnist_tutorial.pad import CANVAS, PEN_WIDTH
from mnist_tutorial.tools import book, book_pad

#: The weights file's limit (issue 44): notebook 05's convnet as float32 is 902,184 bytes.
WEIGHTS_LIMIT = 1_000_000


def test_notebook_05s_convnet_is_described_layer_by_layer_and_its_weights_fit_under_1_mb():
    model = build_convnet()
    description, data = book_pad.describe(model)
    assert [layer["type"] for layer in description["layers"]] == ["conv2d", "conv2d", "flatten", "dense", "dense"]
    assert [layer.get("activation") for layer in description["layers"]] == ["relu", "relu", None, "relu", "softmax"]
    assert description["layers"][0]["kernel"] == {"shape": [5, 5, 1, 32], "offset": 0, "size": 800}
    assert description["layers"][0]["strides"] == [2, 2] and description["layers"][0]["padding"] == "valid"
    assert description["parameters"] == model.count_params() == 225_546
    assert len(data) == 902_184 < WEIGHTS_LIMIT
    last = description["layers"][-1]
    weights = np.frombuffer(data, "<f4")
    kernel = weights[last["kernel"]["offset"]: last["kernel"]["offset"] + last["kernel"]["size"]].reshape(128, 10)
    assert np.array_equal(kernel, model.layers[-1].get_weights()[0])  # the bytes are the trained float32 weights


def test_a_layer_the_page_cannot_compute_is_named():
    pooled = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.MaxPooling2D(name="pool"), keras.layers.Flatten(),
                               keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ValueError, match=r"layer 'pool' \(MaxPooling2D\): the book's pad computes Conv2D, Dense and "):
        book_pad.describe(pooled)
    with pytest.raises(ValueError, match=r"feeds a digit as \(28, 28, 1\) or \(784,\); this model takes \(32, 32, 3\)"):
        book_pad.describe(keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]))
    with pytest.raises(ValueError, match="computes relu, linear, softmax, not tanh"):
        book_pad.describe(keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="tanh")]))
    with pytest.raises(ValueError, match="ends in a Dense layer of ten outputs"):
        book_pad.describe(keras.Sequential([keras.Input((784,)), keras.layers.Dense(5)]))


def test_export_writes_the_page_s_pad_and_a_missing_model_says_so(tmp_path):
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)], name="logits")
    model.save(tmp_path / "dense.keras")
    picture = tmp_path / "pad.png"
    picture.write_bytes(b"png")
    environment = dict(os.environ)
    description = book_pad.export(tmp_path / "dense.keras", tmp_path / "pad", picture)
    assert dict(os.environ) == environment  # what a test session starts later must compute as before
    assert sorted(path.name for path in (tmp_path / "pad").iterdir()) == [
        "book_pad.js", "convnet.bin", "convnet.json", "pad.css", "pad.js", "pad.png"]
    assert json.loads((tmp_path / "pad" / "convnet.json").read_text()) == description
    assert description["canvas"] == CANVAS and description["pen_width"] == PEN_WIDTH
    assert description["parameters"] == 7850 and (tmp_path / "pad" / "convnet.bin").stat().st_size == 4 * 7850
    assert (tmp_path / "pad" / "pad.js").read_bytes() == (book_pad.PACKAGE / "pad.js").read_bytes()  # the widget's own
    with pytest.raises(FileNotFoundError, match="no saved model at .*nothing.keras"):
        book_pad.export(tmp_path / "nothing.keras", tmp_path / "other")


def test_without_a_saved_convnet_the_build_shows_the_picture(tmp_path):
    said = book.export_pad(tmp_path / "source", tmp_path, None)
    assert said == "the pad is its picture: no notebooks/convnet.keras (notebook 05 saves it; make run)"
    assert not (tmp_path / "source").exists()
    with pytest.raises(FileNotFoundError, match="no saved model at"):
        book.export_pad(tmp_path / "source", tmp_path, tmp_path / "gone.keras")  # one asked for must be there


def test_the_live_pad_s_output_loads_nothing_from_outside_and_says_where_it_reads():
    output = book.pad_output("notebooks/05_convnet", live=True)
    html = output["data"]["text/html"]
    assert list(output["data"]) == ["text/html"]
    assert 'src="../_static/pad/pad.png"' in html and 'src="../_static/pad/book_pad.js"' in html
    assert f'alt="{book.PAD_ALT}"' in html and "http" not in html
    sentence = book_pad.LIVE_SENTENCE
    assert sentence.count(".") == 1 and "in the page" in sentence and "in the kernel" in sentence
    assert f"<p><em>{sentence.replace(chr(39), '&#x27;')}</em></p>" in html
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "execute_result", "data": {"text/plain": "DigitPad(7 (100.0%))"}}]}]}
    assert book.static_widgets(notebook, "notebooks/05_convnet", live=True)["cells"][0]["outputs"] == [output]
