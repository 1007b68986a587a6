"""Build the tutorials' Keras models: one MLP builder, notebook 05's convnet, a named recipe per tutorial.

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


#: Notebook 05's convnet trains this many epochs at this batch size, with its learning rate rising to this
#: peak and falling back (``one_cycle``); all three were chosen on a validation split (benchmarks/choose_convnet.py).
CONVNET_EPOCHS = 5
CONVNET_BATCH_SIZE = 128
CONVNET_PEAK_LEARNING_RATE = 5e-3


def one_cycle(total_steps: int, peak: float, warmup: float = 0.2) -> keras.optimizers.schedules.CosineDecay:
    """Return a one-cycle learning rate: from 0 up to ``peak`` over the first ``warmup`` of the steps, then down to 0.

    Keras' ``CosineDecay`` with its warm-up: a straight rise, then half a cosine.

    Args:
        total_steps: the steps of the whole training (epochs times batches per epoch).
        peak: the highest learning rate, reached at the end of the warm-up.
        warmup: the share of the steps spent warming up, in [0, 1).

    Returns:
        A ``keras.optimizers.schedules.CosineDecay``, for an optimizer's ``learning_rate``.

    Raises:
        ValueError: unless ``total_steps`` is a positive integer, ``peak`` positive and ``warmup`` in [0, 1).

    >>> schedule = one_cycle(100, peak=0.01)
    >>> [round(float(schedule(step)), 4) for step in (0, 10, 20, 60, 100)]
    [0.0, 0.005, 0.01, 0.005, 0.0]
    """
    if isinstance(total_steps, bool) or not isinstance(total_steps, (int, np.integer)) or total_steps <= 0:
        raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
    if not peak > 0 or not 0 <= warmup < 1:
        raise ValueError(f"need peak > 0 and 0 <= warmup < 1, got peak={peak!r}, warmup={warmup!r}")
    warmup_steps = int(total_steps * warmup)
    return keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, warmup_target=peak,
                                                  warmup_steps=warmup_steps)


def build_convnet(steps_per_epoch: int = 469, epochs: int = CONVNET_EPOCHS, name: str = "convnet") -> keras.Sequential:
    """Build and compile notebook 05's convnet for (28, 28, 1) images in [0, 1].

    A random shift of up to 8% each way while training (``RandomTranslation``), Conv2D 32 (5x5)
    and 64 (3x3), each with stride 2 in place of pooling, Dense 128 after 25% dropout, Dense 10
    softmax; Adam on a ``one_cycle`` learning rate that peaks at ``CONVNET_PEAK_LEARNING_RATE``.

    Copy along: ``one_cycle``.

    Args:
        steps_per_epoch: batches per epoch (469 for 60,000 images at batch 128).
        epochs: the epochs the schedule spans.
        name: the model's name.

    Returns:
        The compiled ``keras.Sequential``, with accuracy as its metric.

    >>> build_convnet().count_params()
    225546
    """
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", interpolation="nearest", name="shift"),
            keras.layers.Conv2D(32, 5, strides=2, activation="relu", name="conv_1"),
            keras.layers.Conv2D(64, 3, strides=2, activation="relu", name="conv_2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dropout(0.25, name="dropout"),
            keras.layers.Dense(128, activation="relu", name="hidden"),
            keras.layers.Dense(10, activation="softmax", name="output"),
        ],
        name=name,
    )
    schedule = one_cycle(epochs * steps_per_epoch, peak=CONVNET_PEAK_LEARNING_RATE)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], steps_per_execution=STEPS_PER_EXECUTION)
    return model


def multiply_adds(model: keras.Model, training: bool = False) -> int:
    """Return the multiply-adds one image costs in the model's ``Conv2D`` and ``Dense`` layers.

    Args:
        model: a built Keras model.
        training: count a training step instead of the forward pass alone. A step runs each layer forward,
            then backward twice, once for the gradient of its weights and once for the gradient of its input,
            each as many multiply-adds as the forward pass. The first of these layers needs no input gradient:
            nothing before it learns.

    Returns:
        The multiply-adds per image.

    Raises:
        ValueError: if the model is not built (its layers have no output shapes yet).

    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512), keras.layers.Dense(10)])
    >>> multiply_adds(model), multiply_adds(model, training=True)  # 784*512 + 512*10, then 2*784*512 + 3*512*10
    (406528, 818176)
    """
    layers = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            if not layer.built:
                raise ValueError(f"layer {layer.name!r} is not built: build the model with an input shape first")
            positions = int(np.prod(layer.output.shape[1:-1]))  # 1 for a dense layer
            layers.append(positions * int(np.prod(layer.kernel.shape)))
    if not training:
        return sum(layers)
    return 3 * sum(layers) - (layers[0] if layers else 0)


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
