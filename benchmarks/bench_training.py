"""Training speed of the 512-unit rmsprop net against the tutorial's own code and the arithmetic limit.

In one run, on one machine, medians of --repeats runs:
  (a) the peak of a 4096x4096 float32 matrix product (NumPy), which sets the arithmetic limit;
  (b) the tutorial's code as written: compile(rmsprop, categorical_crossentropy), fit(batch_size=128) with
      its default progress bar (drawn into /dev/null);
  (c) the notebooks' path: RECIPES["dense_512_rmsprop"] (steps_per_execution=32) after set_seed, trained on
      the tf.data idiom from_tensor_slices(...).shuffle(len(x)).batch(128) (training.shuffled_batches: a new
      order every epoch); beside it, the same model fed the NumPy arrays (fit's own pipeline, which repeats one
      order every epoch once a seed is set), and the idiom compiled without steps_per_execution;
  (d) the loop by hand of notebook 06: training.train_by_hand, one graph call per epoch over indices shuffled by
      tf.data (a new order every epoch), with TensorFlow's fused RMSprop kernel (training.FusedRMSprop);
  (e) where a training step's time goes: the step rebuilt in raw TensorFlow in stages (matrix products alone,
      then forward and backward passes, then the optimizer update, then Keras' train_step with its loss tracker
      and metrics), each stage's cost the difference to the last; then fit around it, on the idiom and on arrays;
  (f) each recipe the notebooks train, once, with its own epochs.
Every timed fit follows a 1-epoch warm-up (tracing, allocation), so every contender trains 1 + --epochs epochs;
the loop by hand is timed as a run of 1 + --epochs epochs less a run of 1 epoch, from the same seed.
Run k of --repeats seeds the notebooks' path and the loop by hand with seed k-1, so their accuracies are medians
over seeds, as the tutorial code's (unseeded) is a median over random starts.
The last two lines are machine-readable, for fit as the notebooks call it and then for the loop by hand:
  fit: ratio_to_limit=<s/epoch over the limit> speedup_vs_tutorial_code=<tutorial s/epoch over this one's>
  accuracy_delta_points=<test accuracy minus the tutorial code's, in points>
  ratio_to_limit=<...> speedup_vs_tutorial_code=<...> accuracy_delta_points=<...>

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
import tensorflow as tf  # noqa: E402

from mnist_tutorial.data import load_mnist  # noqa: E402
from mnist_tutorial.models import RECIPES  # noqa: E402
from mnist_tutorial.training import (  # noqa: E402
    FusedRMSprop,
    evaluate,
    matmul_peak,
    set_seed,
    shuffled_batches,
    train_by_hand,
)

HIDDEN, BATCH = 512, 128
#: Multiply-adds per image: 784x512 + 512x10. Forward costs 2 FLOP per multiply-add, backward twice the forward.
FLOP_PER_IMAGE = 6 * (784 * HIDDEN + HIDDEN * 10)


def index_batches(x, y) -> tf.data.Dataset:
    """The same batches as ``shuffled_batches(x, y, BATCH)`` after the same seed, shuffling indices and gathering rows.

    ``shuffle`` draws its order from the seed and the element count, never from the elements, so the
    orders are the idiom's; only the 60,000 images no longer pass through the shuffle buffer.
    """
    x, y = tf.constant(x), tf.constant(y)
    return tf.data.Dataset.range(len(x)).shuffle(len(x)).batch(BATCH).map(lambda i: (tf.gather(x, i), tf.gather(y, i)))


def timed_fit(model: keras.Model, x, y, epochs: int, verbose: int = 0, shuffled: bool | str = False) -> float:
    """Warm up for one epoch, then return the seconds per epoch of ``epochs`` more.

    With ``verbose=1`` (Keras' default, the tutorial's progress bar) the bar is
    drawn as usual but into /dev/null, so its cost counts and the terminal's does not.
    With ``shuffled`` the model trains on ``shuffled_batches(x, y)`` instead of the arrays; with
    ``shuffled="indices"``, on ``index_batches(x, y)``, the same batches.
    """
    if shuffled:
        dataset = index_batches(x, y) if shuffled == "indices" else shuffled_batches(x, y, BATCH)
        data = dict(x=dataset, shuffle=False)
    else:
        data = dict(x=x, y=y, batch_size=BATCH)
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        model.fit(**data, epochs=1, verbose=verbose)
        began = time.perf_counter()
        model.fit(**data, epochs=epochs, verbose=verbose)
        return (time.perf_counter() - began) / epochs


def tutorial_code(x, y, test_x, test_y, epochs: int) -> tuple[float, float]:
    """Deep Learning with Python's first network, as the book writes it (Keras 3 spelling of the input)."""
    model = tutorial_model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    seconds = timed_fit(model, x, y, epochs, verbose=1)  # fit's default: the tutorial's progress bar
    return seconds, model.evaluate(test_x, test_y, verbose=0)[1]


def project_path(x, y, test_x, test_y, epochs: int, shuffled: bool | str = True, steps_per_execution: int = 32,
                 seed: int = 0) -> tuple[float, float]:
    """The same net as the notebooks train it: seeded, the recipe's model, on ``shuffled_batches`` (or the arrays)."""
    set_seed(seed)
    recipe = RECIPES["dense_512_rmsprop"]
    model = recipe.build()
    if steps_per_execution != model.steps_per_execution:
        model.compile(optimizer=recipe.optimizer, loss=recipe.loss, metrics=["accuracy"],
                      steps_per_execution=steps_per_execution)
    seconds = timed_fit(model, x, y, epochs, shuffled=shuffled)
    return seconds, evaluate(model, test_x, test_y)["accuracy"]


def by_hand(x, y, test_x, test_y, epochs: int, seed: int = 0) -> tuple[float, float]:
    """Notebook 06's loop by hand: the recipe's model, seeded, ``train_by_hand`` with ``FusedRMSprop``.

    Seconds per epoch are those of a run of 1 + ``epochs`` epochs less those of a 1-epoch run from the
    same seed, so tracing and warm-up cancel out, as ``timed_fit``'s warm-up epoch leaves them out.
    """
    seconds = []
    for total in (1, 1 + epochs):
        set_seed(seed)
        model = RECIPES["dense_512_rmsprop"].build()
        began = time.perf_counter()
        train_by_hand(model, x, y, total, BATCH, keras.losses.CategoricalCrossentropy(), FusedRMSprop(),
                      keras.metrics.CategoricalAccuracy())
        seconds.append(time.perf_counter() - began)
    return (seconds[1] - seconds[0]) / epochs, evaluate(model, test_x, test_y)["accuracy"]


def tutorial_model() -> keras.Sequential:
    """The 512-unit net as the tutorial writes it: Dense 512 relu, Dense 10 softmax, on 784 inputs."""
    return keras.Sequential([
        keras.Input(shape=(28 * 28,)),
        keras.layers.Dense(HIDDEN, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    """Return the median seconds per epoch and the median test accuracy of ``(seconds, accuracy)`` runs."""
    return statistics.median(s for s, _ in runs), statistics.median(a for _, a in runs)


def step_profile(x, y) -> dict[str, float]:
    """Seconds per epoch of a training step built up in stages, in raw TensorFlow at the recipe's shapes.

    Every stage runs all of an epoch's batches in one graph loop (no Python, no Keras loop),
    and each adds one cost to the stage before it:
      matmuls           the step's six matrix products (forward, and both gradients of each layer), nothing else;
      forward_backward  the whole forward pass, bias adds, relu, softmax, the loss, and every gradient;
      training_step     the same plus Keras' RMSprop update of the 407,050 weights: a complete step;
      keras_train_step  Keras' own ``Model.train_step``: the same step plus its loss tracker and accuracy metric.
    What Keras' ``fit`` costs on top of ``keras_train_step`` is its loop and its input pipeline.
    One more stage replaces the last one's update and is not part of the build-up:
      fused_update      ``training_step`` with TensorFlow's fused RMSprop kernel (``ResourceApplyRMSProp``, one
                        pass over each weight) in place of Keras 3's update (about ten element-wise kernels).
    """
    steps = len(x) // BATCH
    xs = tf.constant(x[: steps * BATCH].reshape(steps, BATCH, -1))
    ys = tf.constant(y[: steps * BATCH].reshape(steps, BATCH, -1))
    model = tutorial_model()
    optimizer = keras.optimizers.RMSprop()
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.CategoricalCrossentropy()
    w1, _, w2, _ = model.trainable_variables

    def matmuls(i):
        h = xs[i] @ w1
        out = h @ w2
        d_h = out @ tf.transpose(w2)
        return tf.reduce_sum(out) + tf.reduce_sum(tf.transpose(xs[i]) @ d_h) + tf.reduce_sum(tf.transpose(h) @ out)

    def gradients(i):
        with tf.GradientTape() as tape:
            loss = loss_fn(ys[i], model(xs[i], training=True))
        return loss, tape.gradient(loss, model.trainable_variables)

    def forward_backward(i):
        loss, grads = gradients(i)
        return loss + sum(g[0, 0] if g.shape.rank == 2 else g[0] for g in grads)  # uses every gradient

    def training_step(i):
        loss, grads = gradients(i)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    keras_model = tutorial_model()
    keras_model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    keras_model.optimizer.build(keras_model.trainable_variables)

    def keras_train_step(i):
        return keras_model.train_step((xs[i], ys[i]))["loss"]

    fused = FusedRMSprop()

    def fused_update(i):
        loss, grads = gradients(i)
        fused.apply(grads, model.trainable_variables)
        return loss

    seconds = {}
    for stage in (matmuls, forward_backward, training_step, keras_train_step, fused_update):

        @tf.function
        def epoch(stage=stage):
            total = tf.constant(0.0)
            for i in tf.range(steps):
                total += stage(i)
            return total

        epoch()  # trace and warm up
        times = []
        for _ in range(3):
            began = time.perf_counter()
            epoch().numpy()
            times.append(time.perf_counter() - began)
        seconds[stage.__name__] = statistics.median(times) * len(x) / (steps * BATCH)
    return seconds


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

    tutorial, project, on_arrays, one_step, on_indices, hand = [], [], [], [], [], []
    for run in range(args.repeats):  # interleaved, so all six see the same machine noise
        tutorial.append(tutorial_code(x, y, test_x, test_y, args.epochs))
        on_arrays.append(project_path(x, y, test_x, test_y, args.epochs, shuffled=False, seed=run))
        one_step.append(project_path(x, y, test_x, test_y, args.epochs, steps_per_execution=1, seed=run))
        project.append(project_path(x, y, test_x, test_y, args.epochs, seed=run))
        on_indices.append(project_path(x, y, test_x, test_y, args.epochs, shuffled="indices", seed=run))
        hand.append(by_hand(x, y, test_x, test_y, args.epochs, seed=run))
        print(f"    run {run + 1} (seed {run}): tutorial code {tutorial[-1][0]:.2f} s/epoch, notebooks {project[-1][0]:.2f} "
              f"s/epoch (fed the arrays: {on_arrays[-1][0]:.2f}; one step per execution: {one_step[-1][0]:.2f}; "
              f"shuffled indices: {on_indices[-1][0]:.2f}), "
              f"by hand {hand[-1][0]:.2f} s/epoch; test accuracy: tutorial code {tutorial[-1][1]:.2%}, "
              f"notebooks {project[-1][1]:.2%}, by hand {hand[-1][1]:.2%}")
    (tutorial_s, tutorial_acc), (project_s, project_acc), (arrays_s, arrays_acc), (one_s, one_acc), (hand_s, hand_acc) = (
        medians(runs) for runs in (tutorial, project, on_arrays, one_step, hand))
    indices_s, indices_acc = medians(on_indices)
    print(f"(b) tutorial code as written: {tutorial_s:.2f} s/epoch = {tutorial_s / limit:.2f}x the limit, "
          f"test accuracy {tutorial_acc:.2%} (median of {args.repeats})")
    print(f"(c) the notebooks' path:      {project_s:.2f} s/epoch = {project_s / limit:.2f}x the limit, "
          f"test accuracy {project_acc:.2%}, {tutorial_s / project_s:.2f}x faster than the tutorial code")
    print(f"    the same, fed the arrays: {arrays_s:.2f} s/epoch = {arrays_s / limit:.2f}x the limit, "
          f"test accuracy {arrays_acc:.2%} (one order every epoch); the idiom is {arrays_s / project_s:.2f}x faster")
    print(f"    the idiom, one step per execution: {one_s:.2f} s/epoch = {one_s / limit:.2f}x the limit, "
          f"test accuracy {one_acc:.2%}; steps_per_execution=32 is {one_s / project_s:.2f}x faster")
    print(f"    the same batches from shuffled indices: {indices_s:.2f} s/epoch = {indices_s / limit:.2f}x the limit, "
          f"test accuracy {indices_acc:.2%}; {indices_s / project_s:.2f} times the idiom's time")
    print(f"(d) the loop by hand:         {hand_s:.2f} s/epoch = {hand_s / limit:.2f}x the limit, "
          f"test accuracy {hand_acc:.2%}, {tutorial_s / hand_s:.2f}x faster than the tutorial code, "
          f"{project_s / hand_s:.2f}x faster than fit")
    print("(e) where a step's time goes, built up in stages in raw TensorFlow (median of 3 epochs each):")
    profile = step_profile(x, y)
    fused = profile.pop("fused_update")
    previous = 0.0
    for stage, seconds in profile.items():
        print(f"    {stage:17s} {seconds:.2f} s/epoch = {seconds / limit:.2f}x the limit (+{seconds - previous:.2f} s)")
        previous = seconds
    print(f"    fit on the idiom  {project_s:.2f} s/epoch = {project_s / limit:.2f}x the limit (+{project_s - previous:.2f} s)")
    print(f"    fit on arrays     {arrays_s:.2f} s/epoch = {arrays_s / limit:.2f}x the limit (+{arrays_s - project_s:.2f} s)")
    print(f"    and, instead of training_step, with TensorFlow's fused RMSprop kernel: {fused:.2f} s/epoch "
          f"= {fused / limit:.2f}x the limit ({fused - profile['training_step']:+.2f} s against Keras' update)")

    if not args.no_recipes:
        print("(f) each recipe the notebooks train, with its own epochs:")
        for each in RECIPES.values():
            train_x, train_y = each.prepare(x_train, y_train)
            set_seed(0)
            model = each.build()
            began = time.perf_counter()
            model.fit(shuffled_batches(train_x, train_y, each.batch_size), epochs=each.epochs, shuffle=False, verbose=0)
            seconds = time.perf_counter() - began
            print(f"    {each.name:24s} {each.epochs} epochs, batch {each.batch_size:3d}: {seconds:6.1f} s "
                  f"({seconds / each.epochs:.2f} s/epoch)")

    print(f"fit: ratio_to_limit={project_s / limit:.2f} speedup_vs_tutorial_code={tutorial_s / project_s:.2f} "
          f"accuracy_delta_points={100 * (project_acc - tutorial_acc):.2f}")
    print(f"ratio_to_limit={hand_s / limit:.2f} speedup_vs_tutorial_code={tutorial_s / hand_s:.2f} "
          f"accuracy_delta_points={100 * (hand_acc - tutorial_acc):.2f}")


if __name__ == "__main__":
    main()
