"""Training speed of the 512-unit rmsprop net against the tutorial's own code, its peers and the arithmetic limit.

In one run, on one machine, medians of --repeats runs:
  (a) the arithmetic limit: an epoch's matrix products (2 FLOP for each of models.multiply_adds(training=True),
      per image) at the fastest matrix-product speed measured in this run: NumPy's 4096x4096 product
      (training.matmul_peak), TensorFlow's products at the step's own shapes (training.step_matmul_peak), and the
      same two in PyTorch and in JAX where they are installed, so that no library's products outrun the limit;
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
      and the same build-up of PyTorch's step and of the step in raw JAX (Keras' fit on JAX around it);
  (f) each recipe the notebooks train, once, with its own epochs, by tools.recipes.train_as_notebook (preparing
      the images and building the model included);
  (g) the peers, each in a process of its own (benchmarks/peers.py) with TensorFlow's thread count: the same net
      in PyTorch (a shuffling DataLoader; shuffled index tensors; torch.compile on the step) and notebook 02's
      model and fit on Keras 3's JAX backend;
  (h) notebook 05's convnet three ways: TensorFlow's fit as notebook 05 trains it, PyTorch, and Keras on JAX.
Every timed contender trains 1 + --epochs epochs, the first to warm up (tracing, allocation, compiling); the
loop by hand is timed as a run of 1 + --epochs epochs less a run of 1 epoch, from the same seed. Run k of
--repeats seeds every seeded contender with seed k-1, so accuracies are medians over the same seeds, as the
tutorial code's (unseeded) is a median over random starts. A peer that is not installed, or fails, is skipped
with the reason. Any figure that comes out below 1.00x its limit is named in a line of its own, since no step can
beat its own products: the limit was then measured too slow. The last three lines are machine-readable: the fastest
peer of (g), then fit as the notebooks call it, then the loop by hand:
  peers: fastest=<name> ratio_to_limit=<its s/epoch over the limit>
  fit: ratio_to_limit=<s/epoch over the limit> speedup_vs_tutorial_code=<tutorial s/epoch over this one's>
  accuracy_delta_points=<test accuracy minus the tutorial code's, in points>
  ratio_to_limit=<...> speedup_vs_tutorial_code=<...> accuracy_delta_points=<...>

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_training.py (make peers installs the peers first)
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from mnist_tutorial.data import load_mnist
from mnist_tutorial.models import CONVNET_BATCH_SIZE, CONVNET_PEAK_LEARNING_RATE, RECIPES, build_convnet, multiply_adds, one_cycle
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.tools.recipes import train_as_notebook
from mnist_tutorial.training import (FusedRMSprop, evaluate, matmul_peak, set_seed, shuffled_batches, step_matmul_peak,
                                     train_by_hand)
from timing import seconds, warm_median

HIDDEN, BATCH = 512, 128
PEERS = Path(__file__).with_name("peers.py")
#: The peers of (g): what each is, in the tables' words, and the library it needs.
DENSE_PEERS = {
    "torch_dataloader": ("PyTorch, a DataLoader with shuffle=True", "torch"),
    "torch_indices": ("PyTorch, shuffled index tensors", "torch"),
    "torch_compiled": ("PyTorch, shuffled index tensors, torch.compile on the step", "torch"),
    "jax_dense": ("Keras 3 on JAX, notebook 02's model and fit", "jax"),
}
CONVNET_PEERS = {"torch_convnet": ("PyTorch, shuffled index tensors", "torch"),
                 "jax_convnet": ("Keras 3 on JAX, notebook 05's model and fit", "jax")}


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
        return seconds(lambda: model.fit(**data, epochs=epochs, verbose=verbose))[0] / epochs


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
    times = []
    for total in (1, 1 + epochs):
        set_seed(seed)
        model = RECIPES["dense_512_rmsprop"].build()
        times.append(seconds(lambda: train_by_hand(model, x, y, total, BATCH, keras.losses.CategoricalCrossentropy(),
                                                   FusedRMSprop(), keras.metrics.CategoricalAccuracy()))[0])
    return (times[1] - times[0]) / epochs, evaluate(model, test_x, test_y)["accuracy"]


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
    and each adds one cost to the one before it; the first is the step's matrix products alone, which
    (a) measured as ``step_matmul_peak``:
      forward_backward  the whole forward pass, bias adds, relu, softmax, the loss, and every gradient;
      training_step     the same plus Keras' RMSprop update of the 407,050 weights: a complete step;
      keras_train_step  Keras' own ``Model.train_step``: the same step plus its loss tracker and accuracy metric.
    What Keras' ``fit`` costs on top of ``keras_train_step`` is its loop and its input pipeline.
    One more stage replaces the last one's update and is not part of the build-up:
      fused_update      ``training_step`` with TensorFlow's fused RMSprop kernel (``ResourceApplyRMSProp``, one
                        pass over each weight) in place of Keras 3's update (about ten element-wise kernels).
    """
    steps = len(x) // BATCH
    stages = profile_stages(tf.constant(x[: steps * BATCH].reshape(steps, BATCH, -1)),
                            tf.constant(y[: steps * BATCH].reshape(steps, BATCH, -1)))
    return {stage.__name__: graph_epoch_seconds(stage, steps) * len(x) / (steps * BATCH) for stage in stages}


def profile_stages(xs: tf.Tensor, ys: tf.Tensor) -> list:
    """``step_profile``'s stages in order: each a function of a batch's index in ``xs`` and ``ys`` returning a loss."""
    model = tutorial_model()
    optimizer = keras.optimizers.RMSprop()
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.CategoricalCrossentropy()

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

    return [forward_backward, training_step, keras_train_step, fused_update]


def graph_epoch_seconds(stage, steps: int) -> float:
    """The median seconds of 3 runs of ``stage`` over batches 0 to ``steps`` in one graph loop, after one to warm up."""

    @tf.function
    def epoch():
        total = tf.constant(0.0)
        for i in tf.range(steps):
            total += stage(i)
        return total

    return warm_median(lambda: epoch().numpy(), repeats=3)


def run_peer(contender: str, threads: int, **options) -> tuple[dict | None, str]:
    """Run one measurement of ``peers.py`` in a process of its own; return its JSON, or None and why it failed."""
    library = (DENSE_PEERS | CONVNET_PEERS).get(contender, (None, contender.split("_")[0]))[1]
    if importlib.util.find_spec(library) is None:
        return None, f"{library} is not installed (make peers installs the benchmark's peers extra)"
    command = [sys.executable, str(PEERS), contender, "--threads", str(threads)]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    env = os.environ | ({"KERAS_BACKEND": "jax"} if library == "jax" else {})
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"{contender} failed (exit status {done.returncode}): {last}"
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


def convnet_fit(images, labels, test_images, test_labels, epochs: int, seed: int) -> tuple[float, float]:
    """Notebook 05's convnet as the notebook trains it (set_seed, ``build_convnet``, the idiom), timed as ``timed_fit``."""
    set_seed(seed)
    model = build_convnet(-(-len(images) // CONVNET_BATCH_SIZE), epochs=1 + epochs)
    seconds = timed_fit(model, images, labels, epochs, shuffled=True)
    return seconds, evaluate(model, test_images, test_labels)["accuracy"]


def limit_speeds(model: keras.Model, threads: int) -> dict[str, float]:
    """FLOP/s of every matrix-product speed (a) measures: NumPy's and TensorFlow's, then each peer's, if installed."""
    speeds = {"NumPy 4096x4096": matmul_peak(), "TensorFlow at the step's shapes": step_matmul_peak(model)}
    sizes = ",".join(str(n) for n in [model.layers[0].kernel.shape[0]] + [layer.units for layer in model.layers])
    step_flop = 2 * multiply_adds(model, training=True) * BATCH * 100
    for library, name in (("torch", "PyTorch"), ("jax", "JAX")):
        seconds, why = run_peer(f"{library}_products", threads, layer_sizes=sizes, steps=100)
        if seconds is None:
            print(f"    {name}'s matrix products skipped: {why}")
            continue
        speeds[f"{name} 4096x4096"] = 2 * 4096**3 / seconds["big"]
        speeds[f"{name} at the step's shapes"] = step_flop / seconds["step"]
    return speeds


def below_limit(multiples: dict[str, float]) -> str:
    """A warning naming every figure that came out faster than the arithmetic limit, or ``""`` if none did.

    No step can beat its own matrix products, so a multiple under 1 means the limit's speed was measured too low
    (a slow NumPy, a noisy run): the multiples then still compare the contenders, but not with the arithmetic.
    """
    under = [f"{name} {multiple:.4g}x" for name, multiple in multiples.items() if multiple < 1]
    return ("below the limit, so the limit was measured too slow: " + ", ".join(under)) if under else ""


def peers_line(median: dict[str, tuple[float, float]], limit: float) -> str:
    """The line above the last two: the fastest of (g)'s peers that ran, and its multiple of the limit."""
    ran = [name for name in DENSE_PEERS if name in median]
    if not ran:
        return "peers: fastest=none ratio_to_limit=nan"
    best = min(ran, key=lambda name: median[name][0])
    return f"peers: fastest={best} ratio_to_limit={median[best][0] / limit:.2f}"


def interleaved_runs(args, threads: int, rates: Path, dense: tuple, conv: tuple) -> tuple[dict, dict, dict]:
    """Run every contender of (b) to (d), (g) and (h) --repeats times, interleaved; run k seeds with k-1.

    Returns each contender's ``(seconds, accuracy)`` runs, the peers skipped with the reason, and the versions
    the peers reported.
    """
    runs: dict[str, list[tuple[float, float]]] = {}
    skipped: dict[str, str] = {}
    versions: dict[str, str] = {}
    peers = list(DENSE_PEERS) + ([] if args.no_convnet else list(CONVNET_PEERS))
    for seed in range(args.repeats):  # interleaved, so that all see the same machine noise
        results = {
            "tutorial": tutorial_code(*dense, args.epochs),
            "on_arrays": project_path(*dense, args.epochs, shuffled=False, seed=seed),
            "one_step": project_path(*dense, args.epochs, steps_per_execution=1, seed=seed),
            "project": project_path(*dense, args.epochs, seed=seed),
            "on_indices": project_path(*dense, args.epochs, shuffled="indices", seed=seed),
            "hand": by_hand(*dense, args.epochs, seed=seed),
        }
        if not args.no_convnet:
            results["tf_convnet"] = convnet_fit(*conv, args.epochs, seed)
        for contender in (c for c in peers if c not in skipped):
            options = dict(seed=seed, epochs=args.epochs) | ({"learning_rates": rates} if contender == "torch_convnet" else {})
            result, why = run_peer(contender, threads, **options)
            if result is None:
                skipped[contender] = why
                continue
            results[contender] = (result["seconds_per_epoch"], result["accuracy"])
            versions |= {k: v for k, v in result.items() if k in ("torch", "jax", "keras")}
        for name, result in results.items():
            runs.setdefault(name, []).append(result)
        print(f"    run {seed + 1} (seed {seed}): " + ", ".join(f"{name} {s:.2f} s/epoch {a:.2%}"
                                                             for name, (s, a) in results.items()), flush=True)
    return runs, skipped, versions


class Report:
    """The contenders' medians against the arithmetic limit; every multiple of a limit printed, for ``below_limit``."""

    def __init__(self, median: dict[str, tuple[float, float]], limit: float) -> None:
        self.median, self.limit = median, limit
        self.multiples: dict[str, float] = {}

    def multiple(self, name: str, per_epoch: float, of: float | None = None) -> float:
        """Record and return ``per_epoch`` seconds as a multiple of ``of``, the limit by default."""
        self.multiples[name] = per_epoch / (of or self.limit)
        return self.multiples[name]

    def against(self, name: str, of: float | None = None) -> str:
        """A contender's median seconds per epoch, their multiple of the limit (or of ``of``) and its test accuracy."""
        per_epoch, accuracy = self.median[name]
        return (f"{per_epoch:.2f} s/epoch = {self.multiple(name, per_epoch, of):.2f}x the limit, "
                f"test accuracy {accuracy:.2%}")

    def print_stages(self, library: str, stages: dict[str, float]) -> float:
        """Print each stage's seconds, multiple of the limit and cost over the one before; return the last."""
        previous = 0.0
        for stage, per_epoch in stages.items():
            print(f"    {stage:17s} {per_epoch:.2f} s/epoch = {self.multiple(f'{library} {stage}', per_epoch):.2f}x the "
                  f"limit (+{per_epoch - previous:.2f} s)")
            previous = per_epoch
        return previous


def parse_arguments() -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per run, after a 1-epoch warm-up")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender; the median is reported")
    parser.add_argument("--no-recipes", action="store_true", help="skip timing every recipe, (f)")
    parser.add_argument("--no-convnet", action="store_true", help="skip the convnet's three ways, (h)")
    return parser.parse_args()


def measure_limit(threads: int, images: int) -> tuple[dict[str, float], float, float]:
    """(a): measure and print every matrix-product speed; return them, an epoch's FLOP and the limit in s/epoch."""
    speeds = limit_speeds(tutorial_model(), threads)
    fastest = max(speeds, key=speeds.get)
    epoch_flop = 2 * multiply_adds(tutorial_model(), training=True) * images
    limit = epoch_flop / speeds[fastest]
    print("(a) matrix-product speeds: " + "; ".join(f"{name} {speed / 1e9:.0f}" for name, speed in speeds.items())
          + " GFLOP/s")
    print(f"    an epoch's products are {epoch_flop / 1e9:.1f} GFLOP; at the fastest speed, {fastest}'s, "
          f"the arithmetic limit is {limit:.2f} s/epoch")
    return speeds, epoch_flop, limit


def run_contenders(args, threads: int, dense: tuple, conv: tuple) -> tuple[dict, dict, dict]:
    """Save the convnet's one-cycle rate at every step for PyTorch, then return what ``interleaved_runs`` returns."""
    with tempfile.TemporaryDirectory() as folder:
        rates = Path(folder) / "learning_rates.npy"
        steps = (1 + args.epochs) * -(-len(conv[0]) // BATCH)
        schedule = one_cycle(steps, peak=CONVNET_PEAK_LEARNING_RATE)
        np.save(rates, np.array([float(schedule(step)) for step in range(steps)], dtype=np.float32))
        return interleaved_runs(args, threads, rates, dense, conv)


def print_fit_and_by_hand(report: Report, repeats: int) -> None:
    """(b) to (d): the tutorial's code, the notebooks' path and its variants, the loop by hand."""
    median, against = report.median, report.against
    tutorial_s, project_s, hand_s = (median[name][0] for name in ("tutorial", "project", "hand"))
    print(f"(b) tutorial code as written: {against('tutorial')} (median of {repeats})")
    print(f"(c) the notebooks' path:      {against('project')}, {tutorial_s / project_s:.2f}x faster than the tutorial code")
    print(f"    the same, fed the arrays: {against('on_arrays')} (one order every epoch); "
          f"the idiom is {median['on_arrays'][0] / project_s:.2f}x faster")
    print(f"    the idiom, one step per execution: {against('one_step')}; "
          f"steps_per_execution=32 is {median['one_step'][0] / project_s:.2f}x faster")
    print(f"    the same batches from shuffled indices: {against('on_indices')}; "
          f"{median['on_indices'][0] / project_s:.2f} times the idiom's time")
    print(f"(d) the loop by hand:         {against('hand')}, {tutorial_s / hand_s:.2f}x faster than the tutorial code, "
          f"{project_s / hand_s:.2f}x faster than fit")


def print_step_profile(report: Report, x, y, speeds: dict[str, float], epoch_flop: float, threads: int) -> None:
    """(e): where a step's time goes in TensorFlow, then fit around it; then the same in each peer."""
    print("(e) where a step's time goes, built up in stages in raw TensorFlow (median of 3 epochs each):")
    profile = {"matmuls": epoch_flop / speeds["TensorFlow at the step's shapes"], **step_profile(x, y)}
    fused = profile.pop("fused_update")
    previous = report.print_stages("TensorFlow", profile)
    project_s, arrays_s, limit = report.median["project"][0], report.median["on_arrays"][0], report.limit
    print(f"    fit on the idiom  {project_s:.2f} s/epoch = {project_s / limit:.2f}x the limit (+{project_s - previous:.2f} s)")
    print(f"    fit on arrays     {arrays_s:.2f} s/epoch (+{arrays_s - project_s:.2f} s)")
    print(f"    and, instead of training_step, with TensorFlow's fused RMSprop kernel: {fused:.2f} s/epoch "
          f"= {report.multiple('TensorFlow fused_update', fused):.2f}x the limit "
          f"({fused - profile['training_step']:+.2f} s against Keras' update)")
    for library, name in (("torch", "PyTorch"), ("jax", "JAX")):
        print_peer_stages(report, library, name, speeds.get(f"{name} at the step's shapes"), epoch_flop, threads)


def print_peer_stages(report: Report, library: str, name: str, products: float | None, epoch_flop: float,
                      threads: int) -> None:
    """(e) in one peer: its step built up as TensorFlow's is (``products``: its speed at the step's shapes, if any)."""
    stages, why = run_peer(f"{library}_stages", threads, epochs=3)
    if stages is None:
        print(f"    {name}'s step skipped: {why}")
        return
    print(f"    {name}'s step, built up the same way" + (" in raw JAX, then Keras' fit on JAX around it"
                                                        if library == "jax" else "") + " (median of 3 epochs each):")
    stages = {**({"matmuls": epoch_flop / products} if products else {}),  # no products if their measurement failed
              **{k: v for k, v in stages.items() if k != "threads"}}
    if library == "jax" and "jax_dense" in report.median:
        stages["fit on the idiom"] = report.median["jax_dense"][0]
    report.print_stages(name, stages)


def time_recipes(images: np.ndarray, labels: np.ndarray) -> None:
    """(f): train each recipe once as its notebook does, from seed 0, and print how long it took, preparation included."""
    print("(f) each recipe the notebooks train, with its own epochs:")
    for each in RECIPES.values():
        took = seconds(lambda: train_as_notebook(each.name, 0, images, labels))[0]
        print(f"    {each.name:24s} {each.epochs} epochs, batch {each.batch_size:3d}: {took:6.1f} s "
              f"({took / each.epochs:.2f} s/epoch)")


def print_peers(report: Report, versions: dict[str, str], skipped: dict[str, str]) -> None:
    """(g): each peer of the dense net against the limit, or why it was skipped."""
    print("(g) the peers: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    for contender, (what, _) in DENSE_PEERS.items():
        print(f"    {what + ':':62s} " + (report.against(contender) if contender in report.median
                                          else f"skipped: {skipped[contender]}"))


def print_convnets(report: Report, skipped: dict[str, str], epochs: int, images: int, speed: float) -> None:
    """(h): notebook 05's convnet in TensorFlow and in its peers, against its own limit at the fastest ``speed``."""
    conv_flop = 2 * multiply_adds(build_convnet(), training=True) * images
    conv_limit = conv_flop / speed
    print(f"(h) notebook 05's convnet, 1 + {epochs} epochs: {conv_flop / 1e12:.2f} TFLOP per epoch, "
          f"a limit of {conv_limit:.2f} s/epoch at the same speed")
    print(f"    {'TensorFlow, fit as notebook 05 calls it:':62s} {report.against('tf_convnet', conv_limit)}")
    for contender, (what, _) in CONVNET_PEERS.items():
        print(f"    {what + ':':62s} " + (report.against(contender, conv_limit) if contender in report.median
                                          else f"skipped: {skipped[contender]}"))


def print_summary(report: Report) -> None:
    """The warning for any figure below its limit, if one is, then the three machine-readable lines."""
    (tutorial_s, tutorial_acc), (project_s, project_acc), (hand_s, hand_acc) = (
        report.median[name] for name in ("tutorial", "project", "hand"))
    if warning := below_limit(report.multiples):
        print(warning)
    print(peers_line(report.median, report.limit))
    print(f"fit: ratio_to_limit={project_s / report.limit:.2f} speedup_vs_tutorial_code={tutorial_s / project_s:.2f} "
          f"accuracy_delta_points={100 * (project_acc - tutorial_acc):.2f}")
    print(f"ratio_to_limit={hand_s / report.limit:.2f} speedup_vs_tutorial_code={tutorial_s / hand_s:.2f} "
          f"accuracy_delta_points={100 * (hand_acc - tutorial_acc):.2f}")


def main() -> None:
    args = parse_arguments()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    recipe = RECIPES["dense_512_rmsprop"]
    dense = (*recipe.prepare(x_train, y_train), *recipe.prepare(x_test, y_test))
    conv = (scale(x_train)[..., np.newaxis], y_train, scale(x_test)[..., np.newaxis], y_test)
    threads = tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}; {threads} threads for "
          f"TensorFlow (its default: every CPU) and for PyTorch; JAX keeps its default (every CPU)")
    speeds, epoch_flop, limit = measure_limit(threads, len(x_train))
    runs, skipped, versions = run_contenders(args, threads, dense, conv)
    report = Report({name: medians(each) for name, each in runs.items()}, limit)
    print_fit_and_by_hand(report, args.repeats)
    print_step_profile(report, *dense[:2], speeds, epoch_flop, threads)
    if not args.no_recipes:
        time_recipes(x_train, y_train)
    print_peers(report, versions, skipped)
    if not args.no_convnet:
        print_convnets(report, skipped, args.epochs, len(x_train), max(speeds.values()))
    print_summary(report)


if __name__ == "__main__":
    main()
