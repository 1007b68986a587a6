"""Notebook 04's compared settings over seeds 0 to 7: do its four conclusions hold after one epoch, and by how much?

Trains each setting the notebook compares (four optimizers, mean squared error, sigmoid and tanh, batches
of 32 and 512) as the notebook's ``experiment`` does: ``set_seed``, notebook 02's 512-unit net with one
change, ``steps_per_execution=32``, the ``tf.data`` idiom shuffled every epoch. Test accuracy after epoch 1,
the notebook's setting, and after epoch 2 (one ``fit`` call per epoch trains the same weights as one call).
Then, for each seed, the margin in points by which each of the notebook's asserted conclusions holds after
epoch 1: the adaptive optimizers over SGD with momentum, momentum over SGD, cross-entropy over mean squared
error, relu over sigmoid, batches of 32 over 512. Seed 0 reproduces the notebook's figures. About 7 minutes.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/settings_spread.py [--seeds 0 1 2]
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse

import keras

from mnist_tutorial.data import load_mnist
from mnist_tutorial.models import build_mlp
from mnist_tutorial.preprocessing import flatten_and_scale, one_hot
from mnist_tutorial.training import set_seed, shuffled_batches

SETTINGS = {
    "SGD": {"optimizer": "sgd"},
    "momentum": {"optimizer": "momentum"},
    "RMSprop": {},
    "Adam": {"optimizer": "adam"},
    "MSE": {"loss": "mean_squared_error"},
    "sigmoid": {"activation": "sigmoid"},
    "tanh": {"activation": "tanh"},
    "batch 32": {"batch_size": 32},
    "batch 512": {"batch_size": 512},
}
#: The notebook's asserted conclusions, each as the margin of the better setting's test accuracy over the worse.
CONCLUSIONS = {
    "adaptive > momentum": lambda a: min(a["RMSprop"], a["Adam"]) - a["momentum"],
    "momentum > SGD": lambda a: a["momentum"] - a["SGD"],
    "cross-entropy > MSE": lambda a: a["RMSprop"] - a["MSE"],
    "relu > sigmoid": lambda a: a["RMSprop"] - a["sigmoid"],
    "batch 32 > 512": lambda a: a["batch 32"] - a["batch 512"],
}


def test_accuracies(data, seed: int, optimizer="rmsprop", loss="categorical_crossentropy", activation="relu",
                    batch_size=128, epochs=2) -> list[float]:
    """One setting trained as notebook 04 trains it, from ``seed``: its test accuracy after each epoch."""
    (train_x, train_y), (test_x, test_y) = data
    set_seed(seed)
    optimizer = keras.optimizers.SGD(momentum=0.9) if optimizer == "momentum" else optimizer
    model = build_mlp((512,), activation, optimizer, loss)  # the notebook's dense_512, steps_per_execution=32
    batches = shuffled_batches(train_x, train_y, batch_size)
    accuracies = []
    for epoch in range(epochs):
        model.fit(batches, initial_epoch=epoch, epochs=epoch + 1, shuffle=False, verbose=0)
        accuracies.append(model.evaluate(test_x, test_y, verbose=0)[1])
    return accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    seeds = parser.parse_args().seeds
    (x_train, y_train), (x_test, y_test) = load_mnist()
    data = (flatten_and_scale(x_train), one_hot(y_train)), (flatten_and_scale(x_test), one_hot(y_test))
    print(f"{'seed':>4s} {'epoch':>5s} " + " ".join(f"{name:>10s}" for name in SETTINGS), flush=True)
    margins = {name: [] for name in CONCLUSIONS}
    for seed in seeds:
        runs = {name: test_accuracies(data, seed, **setting) for name, setting in SETTINGS.items()}
        for epoch in (0, 1):
            print(f"{seed:4d} {epoch + 1:5d} " + " ".join(f"{100 * run[epoch]:9.2f}%" for run in runs.values()))
        after_one = {name: run[0] for name, run in runs.items()}
        for name, margin in CONCLUSIONS.items():
            margins[name].append(100 * margin(after_one))
    print(f"\nafter one epoch, each conclusion's margin in points over seeds {seeds[0]} to {seeds[-1]} (min, max):")
    for name, values in margins.items():
        print(f"  {name:22s} {min(values):5.2f} {max(values):5.2f}")


if __name__ == "__main__":
    main()
