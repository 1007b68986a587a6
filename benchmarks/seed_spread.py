"""Measure how much each tutorial's result varies with the seed: the basis of the notebooks' tolerances.

Trains every recipe with seeds 0 to 3 (the notebooks use seed 0, chosen before any
result was seen) and prints the spread of the figures each notebook checks:
test accuracy, or the last epoch's training accuracy where the tutorial reported that.
For the 512-unit net it also trains 5 more epochs (10 in all), as notebook 02 does.
About 8 minutes on 2 cores.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/seed_spread.py
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

from mnist_tutorial.data import load_mnist  # noqa: E402
from mnist_tutorial.models import RECIPES  # noqa: E402
from mnist_tutorial.training import evaluate, fit, set_seed  # noqa: E402

SEEDS = range(4)


def main() -> None:
    (x_train, y_train), (x_test, y_test) = load_mnist()
    spreads: dict[str, list[float]] = {}
    for recipe in RECIPES.values():
        train_x, train_y = recipe.prepare(x_train, y_train)
        test_x, test_y = recipe.prepare(x_test, y_test)
        for seed in SEEDS:
            set_seed(seed)
            model = recipe.build()
            history = fit(model, train_x, train_y, epochs=recipe.epochs, batch_size=recipe.batch_size, log=False)
            figure = history.history["accuracy"][-1] if recipe.reported_on == "train" else evaluate(model, test_x, test_y)["accuracy"]
            spreads.setdefault(f"{recipe.name}, {recipe.epochs} epochs ({recipe.reported_on})", []).append(figure)
            if recipe.name == "dense_512_rmsprop":
                model.fit(train_x, train_y, epochs=10, initial_epoch=5, batch_size=recipe.batch_size, verbose=0)
                spreads.setdefault(f"{recipe.name}, 10 epochs (test)", []).append(evaluate(model, test_x, test_y)["accuracy"])
            print(f"{recipe.name} seed {seed}: {figure:.2%}", flush=True)
    print(f"\n{'recipe':45s} {'min':>7s} {'max':>7s}  seeds {list(SEEDS)}")
    for name, values in spreads.items():
        print(f"{name:45s} {min(values):7.2%} {max(values):7.2%}  " + " ".join(f"{v:.2%}" for v in values))


if __name__ == "__main__":
    main()
