"""Tests for mnist_tutorial.models: the builders and the recipes match the tutorials."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_tutorial.models import RECIPES, STEPS_PER_EXECUTION, build_convnet, build_mlp


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
    assert [layer.name for layer in model.layers] == [
        "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout_1", "hidden", "dropout_2", "output"]
    assert model.get_layer("conv_2").output.shape == (None, 11, 11, 64)
    assert model.count_params() == (9 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 128 + 128) + (128 * 10 + 10)


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
    namespace = {"keras": keras, "set_seed": lambda seed: None, "SEED": 0}
    exec(notebook_code("05_convnet.ipynb", 'name="convnet"'), namespace)  # the cell that builds it
    written, built = namespace["convnet"], build_convnet()
    assert [(type(layer).__name__, layer.get_config()) for layer in written.layers] == [
        (type(layer).__name__, layer.get_config()) for layer in built.layers]
    compile_line = next(line for line in notebook_code("05_convnet.ipynb", "convnet.compile(").splitlines()
                        if "convnet.compile(" in line)
    assert f'optimizer="{type(built.optimizer).__name__.lower()}", loss="{built.loss}", metrics=["accuracy"]' in compile_line
