"""Tests for mnist_tutorial.models: the builders and the recipes match the tutorials."""

import ast
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_tutorial.models import (CONVNET_EPOCHS, CONVNET_PEAK_LEARNING_RATE, RECIPES, STEPS_PER_EXECUTION,
                                   build_classic_convnet, build_convnet, build_mlp, multiply_adds, one_cycle)


def layer_summary(model):
    return [(layer.name, type(layer).__name__, getattr(layer, "units", None)) for layer in model.layers]


def test_build_mlp_layers_names_and_compile_settings():
    model = build_mlp((128, 128), activation="tanh", optimizer="sgd", loss="categorical_crossentropy", name="m")
    assert model.name == "m"
    assert layer_summary(model) == [("hidden_1", "Dense", 128), ("hidden_2", "Dense", 128), ("output", "Dense", 10)]
    assert model.layers[0].activation.__name__ == "tanh" and model.layers[-1].activation.__name__ == "softmax"
    assert type(model.optimizer).__name__ == "SGD" and model.loss == "categorical_crossentropy"
    assert model.steps_per_execution == STEPS_PER_EXECUTION
    assert model.count_params() == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10


def test_layer_names_do_not_depend_on_earlier_models():
    assert layer_summary(build_mlp((64,))) == layer_summary(build_mlp((64,)))


def test_image_input_gets_a_flatten_layer():
    model = build_mlp((128, 128), input_shape=(28, 28))
    assert layer_summary(model)[0] == ("flatten", "Flatten", None)
    assert model(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)


@pytest.mark.parametrize("hidden", [(), (0,), (64, -1)])
def test_bad_layer_sizes(hidden):
    with pytest.raises(ValueError, match="hidden must list one or more positive layer sizes"):
        build_mlp(hidden)


def test_convnet_layers_and_shape():
    model = build_convnet()
    assert model(np.zeros((3, 28, 28, 1), np.float32)).shape == (3, 10)
    assert [layer.name for layer in model.layers] == ["shift", "conv_1", "conv_2", "flatten", "dropout", "hidden", "output"]
    assert model.get_layer("conv_1").output.shape == (None, 12, 12, 32)
    assert model.get_layer("conv_2").output.shape == (None, 5, 5, 64)
    assert model.count_params() == (25 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 128 + 128) + (128 * 10 + 10)
    assert multiply_adds(model) == 144 * 25 * 32 + 25 * 9 * 32 * 64 + 1600 * 128 + 128 * 10
    # a training step: every layer forward, its weights' gradient, and its input's gradient but conv_1's
    assert multiply_adds(model, training=True) == 3 * multiply_adds(model) - 144 * 25 * 32
    assert model.get_layer("dropout").rate == 0.25


def test_the_convnet_shifts_only_while_training():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10:18, 12:16] = 1.0
    shift = build_convnet().get_layer("shift")
    assert np.array_equal(np.asarray(shift(image, training=False)), image)
    assert not np.array_equal(np.asarray(shift(np.repeat(image, 8, axis=0), training=True)), np.repeat(image, 8, axis=0))


def test_the_convnet_learns_on_a_one_cycle_schedule_over_its_epochs():
    optimizer = build_convnet(steps_per_epoch=100, epochs=5).optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.get_config()["learning_rate"]["config"] == one_cycle(500, CONVNET_PEAK_LEARNING_RATE).get_config()
    schedule = one_cycle(500, CONVNET_PEAK_LEARNING_RATE)
    rates = [float(schedule(step)) for step in (0, 50, 100, 300, 500)]
    assert rates[0] == 0.0 and rates[1] == pytest.approx(CONVNET_PEAK_LEARNING_RATE / 2)
    assert rates[2] == pytest.approx(CONVNET_PEAK_LEARNING_RATE) and rates[4] == pytest.approx(0.0, abs=1e-9)
    assert rates[2] > rates[3] > rates[4]
    assert CONVNET_EPOCHS == 5


@pytest.mark.parametrize("total_steps, peak, warmup", [(0, 0.01, 0.2), (10.5, 0.01, 0.2), (10, 0.0, 0.2), (10, 0.01, 1.0)])
def test_one_cycle_rejects_bad_settings(total_steps, peak, warmup):
    with pytest.raises(ValueError, match="total_steps must be a positive integer|need peak > 0"):
        one_cycle(total_steps, peak, warmup)


def test_the_classic_convnet_is_kept_as_the_reference():
    model = build_classic_convnet()
    assert [layer.name for layer in model.layers] == [
        "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout_1", "hidden", "dropout_2", "output"]
    assert model.get_layer("conv_2").output.shape == (None, 11, 11, 64)
    assert model.count_params() == 225_034
    assert multiply_adds(model) == 26 * 26 * 9 * 32 + 11 * 11 * 288 * 64 + 1600 * 128 + 128 * 10


def test_multiply_adds_needs_a_built_model():
    with pytest.raises(ValueError, match="layer 'dense' is not built"):
        multiply_adds(keras.Sequential([keras.layers.Dense(3, name="dense")]))


EXPECTED = {  # how each tutorial trained (what it reported is in mnist_tutorial.results.TARGETS)
    "normalize_flatten_mlp": ((128, 128), "adam", "sparse_categorical_crossentropy", 3, 32),
    "dense_512_rmsprop": ((512,), "rmsprop", "categorical_crossentropy", 5, 128),
    "adam_64": ((64, 64), "adam", "categorical_crossentropy", 8, 32),
    "adam_512": ((512, 512), "adam", "categorical_crossentropy", 8, 32),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_recipes_match_the_tutorials(name):
    recipe = RECIPES[name]
    hidden = EXPECTED[name][0]
    assert (recipe.hidden, recipe.optimizer, recipe.loss, recipe.epochs, recipe.batch_size) == EXPECTED[name]
    model = recipe.build()
    assert model.name == name and [layer.units for layer in model.layers if hasattr(layer, "units")] == [*hidden, 10]


def test_recipe_prepare_matches_its_tutorial(mnist):
    (x_train, y_train), _ = mnist
    x, y = RECIPES["normalize_flatten_mlp"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 28, 28) and y.tolist() == y_train[:10].tolist()
    x, y = RECIPES["dense_512_rmsprop"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 784) and y.shape == (10, 10) and y.argmax(1).tolist() == y_train[:10].tolist()


def notebook_code(name: str, marker: str) -> str:
    """The one code cell of a committed notebook that contains ``marker``."""
    path = Path(__file__).resolve().parents[1] / "notebooks" / name
    cells = ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
    [code] = [source for source in cells if marker in source]
    return code


def test_notebook_05_builds_and_compiles_the_same_convnet_as_build_convnet():
    import math

    namespace = {"keras": keras, "set_seed": lambda seed: None, "SEED": 0, "math": math, "plt": _NoPlot(),
                 "x_train": np.zeros((60_000, 1))}
    exec(notebook_code("05_convnet.ipynb", 'name="convnet"'), namespace)  # the cell that builds it
    exec(notebook_code("05_convnet.ipynb", "schedule = keras.optimizers"), namespace)  # its schedule
    fit_cell = ast.parse(notebook_code("05_convnet.ipynb", "convnet.compile("))
    [compile_call] = [node for node in fit_cell.body if isinstance(node, ast.Expr) and "compile" in ast.unparse(node)]
    exec(ast.unparse(compile_call), namespace)
    written, built = namespace["convnet"], build_convnet()
    assert [(type(layer).__name__, layer.get_config()) for layer in written.layers] == [
        (type(layer).__name__, layer.get_config()) for layer in built.layers]
    assert namespace["epochs"] == CONVNET_EPOCHS
    settings = [{**model.optimizer.get_config(), "name": None} for model in (written, built)]  # names count up
    assert settings[0] == settings[1]  # Adam, and the schedule's every setting
    assert (written.loss, written.steps_per_execution) == (built.loss, built.steps_per_execution)


class _NoPlot:
    """Stands in for matplotlib.pyplot where a notebook cell draws: every call does nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
