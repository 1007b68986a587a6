"""Choose notebook 05's convnet on a validation split: candidate layouts and schedules, never the test set.

Trains each candidate on the first 54,000 training images and reports its accuracy on the
last 6,000 (held out), with its training time, parameters and multiply-adds per image. The
notebooks' convnet (``models.build_convnet``) was chosen from this table; the classic Keras
layout is the reference it replaced.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/choose_convnet.py [--seeds 0 1] [--only NAME ...]
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse

import keras
import numpy as np

from mnist_tutorial.data import load_mnist
from mnist_tutorial.models import STEPS_PER_EXECUTION, multiply_adds, one_cycle
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.training import set_seed, shuffled_batches
from timing import seconds

VALIDATION = 6000  # the last 6,000 training images


def build_classic_convnet(name: str = "classic_convnet") -> keras.Sequential:
    """Build and compile the classic Keras MNIST convnet, the reference notebook 05's convnet replaced.

    Conv2D 32 and 64 (3x3, relu), each with 2x2 max pooling, dropout 0.25, Dense 128 relu,
    dropout 0.5, Dense 10 softmax; Adam at its constant default rate, 10 epochs at batch 128.
    """
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu", name="conv_1"),
            layers.MaxPooling2D(2, name="pool_1"),
            layers.Conv2D(64, 3, activation="relu", name="conv_2"),
            layers.MaxPooling2D(2, name="pool_2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.25, name="dropout_1"),
            layers.Dense(128, activation="relu", name="hidden"),
            layers.Dropout(0.5, name="dropout_2"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name=name,
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


def strides(shift: bool = True, dropout: float = 0.25, batch_norm: bool = False, units: int = 128) -> keras.Sequential:
    """Notebook 05's layout (the defaults), or a variant: without the shift, another dropout, batch norm, more units."""
    layers = keras.layers
    stages = [layers.RandomTranslation(0.08, 0.08, fill_mode="constant", interpolation="nearest")] if shift else []
    for filters, size in ((32, 5), (64, 3)):
        stages.append(layers.Conv2D(filters, size, strides=2, activation=None if batch_norm else "relu"))
        stages += [layers.BatchNormalization(), layers.Activation("relu")] if batch_norm else []
    return keras.Sequential([keras.Input((28, 28, 1)), *stages, layers.Flatten(), layers.Dropout(dropout),
                             layers.Dense(units, activation="relu"), layers.Dense(10, activation="softmax")])


# name: (builder, epochs, batch size, peak learning rate, or None for Adam's constant 0.001)
CANDIDATES = {
    "classic, 10 epochs, constant rate": (build_classic_convnet, 10, 128, None),
    "strides, dense 256, dropout 0.5, no shift, 6 epochs, peak 5e-3": (
        lambda: strides(shift=False, dropout=0.5, units=256), 6, 128, 5e-3),
    "strides, dense 256, dropout 0.5, 5 epochs, peak 5e-3": (lambda: strides(dropout=0.5, units=256), 5, 128, 5e-3),
    "strides, dense 256, dropout 0.5, 5 epochs, peak 1e-2": (lambda: strides(dropout=0.5, units=256), 5, 128, 1e-2),
    "strides, dense 256, dropout 0.5, batch norm, 5 epochs, peak 5e-3": (
        lambda: strides(dropout=0.5, units=256, batch_norm=True), 5, 128, 5e-3),
    "strides, dense 256, 5 epochs, peak 5e-3": (lambda: strides(units=256), 5, 128, 5e-3),
    "strides, 5 epochs, peak 5e-3": (strides, 5, 128, 5e-3),
    "strides, batch 256, 5 epochs, peak 1e-2": (strides, 5, 256, 1e-2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--only", nargs="+", help="candidate names (as printed), or a part of each")
    args = parser.parse_args()
    (x_train, y_train), _ = load_mnist()
    images = scale(x_train)[..., np.newaxis]
    fit_x, fit_y, val_x, val_y = images[:-VALIDATION], y_train[:-VALIDATION], images[-VALIDATION:], y_train[-VALIDATION:]
    print(f"{'candidate':44s} {'params':>8s} {'MACs':>6s} {'train s':>8s}  validation accuracy by seed {args.seeds}")
    for name, (build, epochs, batch_size, peak) in CANDIDATES.items():
        if args.only and not any(part in name for part in args.only):
            continue
        accuracies, times = [], []
        for seed in args.seeds:
            set_seed(seed)
            model = build()
            steps = -(-len(fit_x) // batch_size)
            rate = 0.001 if peak is None else one_cycle(epochs * steps, peak)
            model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"], steps_per_execution=32)
            took, history = seconds(lambda: model.fit(shuffled_batches(fit_x, fit_y, batch_size), epochs=epochs,
                                                      shuffle=False, verbose=0, validation_data=(val_x, val_y)))
            times.append(took)
            accuracies.append(history.history["val_accuracy"])
        last = " ".join(f"{run[-1]:.2%}" for run in accuracies)
        print(f"{name:44s} {model.count_params():8,d} {multiply_adds(model) / 1e6:5.2f}M {np.median(times):8.1f}  "
              f"{last}   per epoch, seed {args.seeds[0]}: " + " ".join(f"{a:.2%}" for a in accuracies[0]), flush=True)


if __name__ == "__main__":
    main()
