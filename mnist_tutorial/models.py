"""Build the tutorials' Keras models: one MLP builder, a small convnet, and a named recipe per tutorial.

A recipe records how a tutorial trained: preprocessing, layers, compile
settings, epochs and batch size (what it reported is in ``results.TARGETS``).
The notebooks write the Keras code out; recipes serve the tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from mnist_tutorial.preprocessing import flatten_and_scale, normalize, one_hot

#: Keras runs this many batches per call into the compiled graph: the same
#: weights to the last bit, faster on a CPU (benchmarks/README.md says how much).
STEPS_PER_EXECUTION = 32


def build_mlp(
    hidden: tuple[int, ...] = (128, 128),
    activation: str = "relu",
    optimizer: str = "adam",
    loss: str = "sparse_categorical_crossentropy",
    input_shape: tuple[int, ...] = (784,),
    name: str = "mlp",
) -> keras.Sequential:
    """Build and compile a multilayer perceptron: Dense hidden layers, then a Dense 10 softmax.

    Layers are named ``hidden_1``, ``hidden_2``... and ``output``, so ``summary()`` prints
    the same names however many models a session built before.

    Args:
        hidden: the hidden layers' sizes.
        activation: their activation.
        optimizer: any optimizer name Keras accepts.
        loss: any loss name Keras accepts.
        input_shape: (784,), or (28, 28) for images, which get a Flatten layer first.
        name: the model's name.

    Returns:
        The compiled ``keras.Sequential``, with accuracy as its metric.

    Raises:
        ValueError: for an empty or non-positive layer size.

    >>> model = build_mlp((512,), optimizer="rmsprop", name="dense_512")
    >>> [layer.units for layer in model.layers], model.count_params()
    ([512, 10], 407050)
    """
    if not hidden or any(int(units) <= 0 for units in hidden):
        raise ValueError(f"hidden must list one or more positive layer sizes, got {hidden!r}")
    layers: list[keras.layers.Layer] = [keras.Input(shape=input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    layers += [
        keras.layers.Dense(int(units), activation=activation, name=f"hidden_{number}")
        for number, units in enumerate(hidden, 1)
    ]
    layers.append(keras.layers.Dense(10, activation="softmax", name="output"))
    model = keras.Sequential(layers, name=name)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], steps_per_execution=STEPS_PER_EXECUTION)
    return model


def build_convnet(name: str = "convnet") -> keras.Sequential:
    """Build and compile notebook 05's convnet for (28, 28, 1) images in [0, 1].

    The classic Keras MNIST layout: Conv2D 32 and 64 (3x3, relu), each with 2x2 max
    pooling, dropout 0.25, Dense 128 relu, dropout 0.5, Dense 10 softmax; adam.

    >>> build_convnet().count_params()
    225034
    """
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu", name="conv_1"),
            keras.layers.MaxPooling2D(2, name="pool_1"),
            keras.layers.Conv2D(64, 3, activation="relu", name="conv_2"),
            keras.layers.MaxPooling2D(2, name="pool_2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dropout(0.25, name="dropout_1"),
            keras.layers.Dense(128, activation="relu", name="hidden"),
            keras.layers.Dropout(0.5, name="dropout_2"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ],
        name=name,
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


@dataclass(frozen=True)
class Recipe:
    """One tutorial's model and training settings.

    ``preprocessing`` is ``"normalize"`` (``keras.utils.normalize`` on the 28x28 images,
    which the model flattens) or ``"flatten_and_scale"`` (784 values in [0, 1]).

    Copy along: ``build_mlp``, ``normalize``, ``flatten_and_scale``, ``one_hot``.

    >>> recipe = Recipe("dense_512", (512,), "rmsprop", "categorical_crossentropy", "flatten_and_scale",
    ...                 epochs=5, batch_size=128)
    >>> x, y = recipe.prepare(np.zeros((2, 28, 28), np.uint8), np.array([3, 1]))
    >>> recipe.build().count_params(), x.shape, y.shape
    (407050, (2, 784), (2, 10))
    """

    name: str
    hidden: tuple[int, ...]
    optimizer: str
    loss: str
    preprocessing: str
    epochs: int
    batch_size: int
    activation: str = "relu"

    def build(self) -> keras.Sequential:
        """Return this recipe's compiled, untrained model."""
        input_shape = (28, 28) if self.preprocessing == "normalize" else (784,)
        return build_mlp(self.hidden, self.activation, self.optimizer, self.loss, input_shape, self.name)

    def prepare(self, images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Preprocess uint8 images and digit labels the way this recipe's tutorial did."""
        x = normalize(images) if self.preprocessing == "normalize" else flatten_and_scale(images)
        y = one_hot(labels) if self.loss == "categorical_crossentropy" else np.asarray(labels)
        return x, y


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            name="normalize_flatten_mlp",
            hidden=(128, 128),
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            preprocessing="normalize",
            epochs=3,
            batch_size=32,
        ),
        Recipe(
            name="dense_512_rmsprop",
            hidden=(512,),
            optimizer="rmsprop",
            loss="categorical_crossentropy",
            preprocessing="flatten_and_scale",
            epochs=5,
            batch_size=128,
        ),
        Recipe(
            name="adam_64",
            hidden=(64, 64),
            optimizer="adam",
            loss="categorical_crossentropy",
            preprocessing="flatten_and_scale",
            epochs=8,
            batch_size=32,
        ),
        Recipe(
            name="adam_512",
            hidden=(512, 512),
            optimizer="adam",
            loss="categorical_crossentropy",
            preprocessing="flatten_and_scale",
            epochs=8,
            batch_size=32,
        ),
    )
}
