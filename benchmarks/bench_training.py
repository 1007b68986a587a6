"""Training speed of the 512-unit rmsprop net against the tutorial's own code and the arithmetic limit.

In one run, on one machine, medians of --repeats runs:
  (a) the peak of a 4096x4096 float32 matrix product (NumPy), which sets the arithmetic limit;
  (b) the tutorial's code as written: compile(rmsprop, categorical_crossentropy), fit(batch_size=128) with
      its default progress bar (drawn into /dev/null);
  (c) this project's path: RECIPES["dense_512_rmsprop"] (steps_per_execution=32) after set_seed;
  (d) where a training step's time goes: its six matrix products alone, timed the same way;
  (e) each recipe the notebooks train, once, with its own epochs.
Every timed fit follows a 1-epoch warm-up (tracing, allocation), so both contenders train 1 + --epochs epochs.
The last line is machine-readable:
  ratio_to_limit=<project s/epoch over the limit> speedup_vs_tutorial_code=<tutorial s/epoch over the project's>
  accuracy_delta_points=<project test accuracy minus the tutorial code's, in points>

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_training.py
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mnist_tutorial.data import load_mnist  # noqa: E402
from mnist_tutorial.models import RECIPES  # noqa: E402
from mnist_tutorial.training import evaluate, fit, set_seed  # noqa: E402

HIDDEN, BATCH = 512, 128
#: Multiply-adds per image: 784x512 + 512x10. Forward costs 2 FLOP per multiply-add, backward twice the forward.
FLOP_PER_IMAGE = 6 * (784 * HIDDEN + HIDDEN * 10)


def matmul_peak(n: int = 4096, repeats: int = 5) -> float:
    """Return the median FLOP/s of an n x n float32 matrix product in NumPy."""
    a, b = (np.random.default_rng(seed).random((n, n), dtype=np.float32) for seed in (0, 1))
    a @ b
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - began)
    return 2 * n**3 / statistics.median(times)


def timed_fit(model: keras.Model, x, y, epochs: int, verbose: int = 0) -> float:
    """Warm up for one epoch, then return the seconds per epoch of ``epochs`` more.

    With ``verbose=1`` (Keras' default, the tutorial's progress bar) the bar is
    drawn as usual but into /dev/null, so its cost counts and the terminal's does not.
    """
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        model.fit(x, y, epochs=1, batch_size=BATCH, verbose=verbose)
        began = time.perf_counter()
        model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=verbose)
        return (time.perf_counter() - began) / epochs


def tutorial_code(x, y, test_x, test_y, epochs: int) -> tuple[float, float]:
    """Deep Learning with Python's first network, as the book writes it (Keras 3 spelling of the input)."""
    model = keras.Sequential([
        keras.Input(shape=(28 * 28,)),
        keras.layers.Dense(512, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    seconds = timed_fit(model, x, y, epochs, verbose=1)  # fit's default: the tutorial's progress bar
    return seconds, model.evaluate(test_x, test_y, verbose=0)[1]


def project_path(x, y, test_x, test_y, epochs: int) -> tuple[float, float]:
    """The same net through this project: the recipe's model, seeded."""
    set_seed(0)
    model = RECIPES["dense_512_rmsprop"].build()
    seconds = timed_fit(model, x, y, epochs)
    return seconds, evaluate(model, test_x, test_y)["accuracy"]


def step_matmul_seconds(steps: int = 200) -> float:
    """Seconds per epoch spent in one training step's six matrix products alone (forward and backward)."""
    x = tf.random.uniform((BATCH, 784))
    w1, w2 = tf.random.uniform((784, HIDDEN)), tf.random.uniform((HIDDEN, 10))

    @tf.function
    def products():
        h = x @ w1
        out = h @ w2
        d_h = out @ tf.transpose(w2)  # gradient into the hidden layer
        return tf.reduce_sum(out) + tf.reduce_sum(tf.transpose(x) @ d_h) + tf.reduce_sum(tf.transpose(h) @ out)

    products()
    began = time.perf_counter()
    for _ in range(steps):
        products()
    return (time.perf_counter() - began) / steps * (60000 / BATCH)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per run, after a 1-epoch warm-up")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--no-recipes", action="store_true", help="skip timing every recipe")
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = load_mnist()
    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_train, y_train)
    test_x, test_y = recipe.prepare(x_test, y_test)

    peak = matmul_peak()
    limit = FLOP_PER_IMAGE * len(x) / peak
    print(f"(a) matrix-product peak {peak / 1e9:.0f} GFLOP/s; one epoch is {FLOP_PER_IMAGE * len(x) / 1e9:.0f} GFLOP, "
          f"so the arithmetic limit is {limit:.2f} s/epoch")

    tutorial, project = [], []
    for run in range(args.repeats):  # interleaved, so both see the same machine noise
        tutorial.append(tutorial_code(x, y, test_x, test_y, args.epochs))
        project.append(project_path(x, y, test_x, test_y, args.epochs))
        print(f"    run {run + 1}: tutorial code {tutorial[-1][0]:.2f} s/epoch, project {project[-1][0]:.2f} s/epoch")
    tutorial_s = statistics.median(s for s, _ in tutorial)
    project_s = statistics.median(s for s, _ in project)
    tutorial_acc = statistics.median(a for _, a in tutorial)
    project_acc = statistics.median(a for _, a in project)
    print(f"(b) tutorial code as written: {tutorial_s:.2f} s/epoch = {tutorial_s / limit:.2f}x the limit, "
          f"test accuracy {tutorial_acc:.2%} (median of {args.repeats})")
    print(f"(c) this project's path:      {project_s:.2f} s/epoch = {project_s / limit:.2f}x the limit, "
          f"test accuracy {project_acc:.2%}, {tutorial_s / project_s:.2f}x faster than the tutorial code")
    products = step_matmul_seconds()
    print(f"(d) the step's matrix products alone: {products:.2f} s/epoch ({products / limit:.2f}x the limit); "
          f"the other {project_s - products:.2f} s/epoch of the project's path is everything else "
          "(optimizer update, activations, loss, metrics, batching, the training loop)")

    if not args.no_recipes:
        print("(e) each recipe the notebooks train, with its own epochs:")
        for each in RECIPES.values():
            train_x, train_y = each.prepare(x_train, y_train)
            set_seed(0)
            model = each.build()
            history = fit(model, train_x, train_y, epochs=each.epochs, batch_size=each.batch_size, log=False)
            print(f"    {each.name:24s} {each.epochs} epochs, batch {each.batch_size:3d}: {history.seconds:6.1f} s "
                  f"({history.seconds / each.epochs:.2f} s/epoch)")

    print(f"ratio_to_limit={project_s / limit:.2f} speedup_vs_tutorial_code={tutorial_s / project_s:.2f} "
          f"accuracy_delta_points={100 * (project_acc - tutorial_acc):.2f}")


if __name__ == "__main__":
    main()
