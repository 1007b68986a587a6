"""Tests for mnist_tutorial.models: the builders and the recipes match the tutorials."""

import ast
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

from mnist_tutorial.models import (CONVNET_EPOCHS, CONVNET_PEAK_LEARNING_RATE, RECIPES, STEPS_PER_EXECUTION,
                                   build_convnet, build_mlp, multiply_adds, one_cycle)
from mnist_tutorial.tools.series import result_rows

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


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


def test_multiply_adds_needs_a_built_model():
    with pytest.raises(ValueError, match="layer 'dense' is not built"):
        multiply_adds(keras.Sequential([keras.layers.Dense(3, name="dense")]))


#: The notebook that trains each recipe's model, and names it so in its results table.
TRAINED_IN = {
    "normalize_flatten_mlp": "01_normalize_and_flatten_mlp.ipynb",
    "dense_512_rmsprop": "02_dense_512_rmsprop.ipynb",
    "adam_64": "03_adam_variants_64_512.ipynb",
    "adam_512": "03_adam_variants_64_512.ipynb",
}


def training_settings(name: str) -> dict[str, set]:
    """What a notebook's code trains with: each ``compile``'s optimizer and loss, each ``batch`` size, each fit's epochs."""
    settings: dict[str, set] = {"compile": set(), "batch": set(), "epochs": set()}
    for source in notebook_cells(name):
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            literal = {keyword.arg: keyword.value.value for keyword in node.keywords
                       if isinstance(keyword.value, ast.Constant)}
            if node.func.attr == "compile":
                settings["compile"].add((literal.get("optimizer"), literal.get("loss")))
            elif node.func.attr == "batch" and node.args and isinstance(node.args[0], ast.Constant):
                settings["batch"].add(node.args[0].value)
            elif node.func.attr == "fit" and "epochs" in literal:
                settings["epochs"].add(literal["epochs"])
    return settings


@pytest.mark.parametrize("name", RECIPES)
def test_each_recipe_trains_as_its_notebook_does(name):
    """The recipes (which the tests, the benchmarks and the figures train) hold the notebooks' own settings."""
    recipe, notebook = RECIPES[name], TRAINED_IN[name]
    settings = training_settings(notebook)
    assert (recipe.optimizer, recipe.loss) in settings["compile"], f"{notebook} compiles with {settings['compile']}"
    assert recipe.batch_size in settings["batch"] and recipe.epochs in settings["epochs"], (notebook, settings)
    # the notebook's results table: the model of that name, its parameters (so its layers) and its epochs
    trained = {(row["params"], row["epochs"]) for row in result_rows(nbformat.read(NOTEBOOKS / notebook, as_version=4))
               if row["model"] == name}
    model = recipe.build()
    assert model.name == name and (model.count_params(), recipe.epochs) in trained, (notebook, trained)


def test_recipe_prepare_matches_its_tutorial(mnist):
    (x_train, y_train), _ = mnist
    x, y = RECIPES["normalize_flatten_mlp"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 28, 28) and y.tolist() == y_train[:10].tolist()
    x, y = RECIPES["dense_512_rmsprop"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 784) and y.shape == (10, 10) and y.argmax(1).tolist() == y_train[:10].tolist()


def notebook_cells(name: str) -> list[str]:
    """The code cells of a committed notebook, as source."""
    return [cell.source for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells if cell.cell_type == "code"]


def notebook_code(name: str, marker: str) -> str:
    """The one code cell of a committed notebook that contains ``marker``."""
    [code] = [source for source in notebook_cells(name) if marker in source]
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
