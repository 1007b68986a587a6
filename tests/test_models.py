"""Tests for mnist_tutorial.models: the builders and the recipes match the tutorials."""

import math

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


EXPECTED = {  # the tutorials' table, as the issue states it
    "normalize_flatten_mlp": ((128, 128), "adam", "sparse_categorical_crossentropy", 3, 32, 0.9706, "test"),
    "dense_512_rmsprop": ((512,), "rmsprop", "categorical_crossentropy", 5, 128, 0.9793, "test"),
    "adam_64": ((64, 64), "adam", "categorical_crossentropy", 8, 32, math.nan, "train"),
    "adam_512": ((512, 512), "adam", "categorical_crossentropy", 8, 32, 0.9951, "train"),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_recipes_match_the_tutorials(name):
    recipe = RECIPES[name]
    hidden, optimizer, loss, epochs, batch_size, reported, reported_on = EXPECTED[name]
    assert (recipe.hidden, recipe.optimizer, recipe.loss, recipe.epochs, recipe.batch_size) == (
        hidden, optimizer, loss, epochs, batch_size)
    assert recipe.reported_on == reported_on
    assert (math.isnan(reported) and math.isnan(recipe.reported_accuracy)) or recipe.reported_accuracy == reported
    model = recipe.build()
    assert model.name == name and [layer.units for layer in model.layers if hasattr(layer, "units")] == [*hidden, 10]


def test_recipe_prepare_matches_its_tutorial(mnist):
    (x_train, y_train), _ = mnist
    x, y = RECIPES["normalize_flatten_mlp"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 28, 28) and y.tolist() == y_train[:10].tolist()
    x, y = RECIPES["dense_512_rmsprop"].prepare(x_train[:10], y_train[:10])
    assert x.shape == (10, 784) and y.shape == (10, 10) and y.argmax(1).tolist() == y_train[:10].tolist()
