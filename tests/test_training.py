"""Tests for mnist_tutorial.training: bit-identical seeding, a new order every epoch, evaluation helpers."""

import json
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from nbval.plugin import get_sanitize_patterns

from mnist_tutorial.models import RECIPES, build_convnet
from mnist_tutorial import training
from mnist_tutorial.training import (
    FusedRMSprop,
    confusion_matrix,
    evaluate,
    matmul_peak,
    misclassified,
    predict_classes,
    set_seed,
    shuffled_batches,
    step_matmul_peak,
    train_by_hand,
)

SANITIZE = Path(__file__).resolve().parents[1] / "notebooks" / "sanitize.cfg"

# Train the 512-unit recipe for 2 epochs on 3,000 images, as the notebooks train, and print a fingerprint of it all.
FINGERPRINT = textwrap.dedent(
    """
    import hashlib, os
    import numpy as np
    from mnist_tutorial.data import load_mnist
    from mnist_tutorial.models import RECIPES
    from mnist_tutorial.training import set_seed, shuffled_batches

    def fingerprint():
        (x, y), _ = load_mnist(os.environ["MNIST_DATA_DIR"])
        recipe = RECIPES["dense_512_rmsprop"]
        x, y = recipe.prepare(x[:3000], y[:3000])
        set_seed(0)
        model = recipe.build()
        history = model.fit(shuffled_batches(x[:2700], y[:2700], 128), epochs=2, shuffle=False, verbose=0,
                            validation_data=(x[2700:], y[2700:]))
        digest = hashlib.sha256()
        for weights in model.get_weights():
            digest.update(weights.tobytes())
        digest.update(repr(sorted(history.history.items())).encode())
        return digest.hexdigest()
    """
)

# A model whose training step records the samples fit feeds it, batch by batch (x holds each sample's index).
# It trains on the notebooks' pipeline for 3 epochs, then 2 more in a second fit call, as notebook 02 goes on
# to 10 epochs; or on the arrays themselves, as the tutorials' fit(x, y, batch_size=...) does.
ORDERS = textwrap.dedent(
    """
    import keras, numpy as np, tensorflow as tf
    from mnist_tutorial.training import set_seed, shuffled_batches

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.seen = []

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, _ = data
            self.seen.append(x.numpy()[:, 0].astype(int).tolist())
            return {"batches": tf.constant(len(self.seen))}

    def orders(on_arrays=False, samples=12, batch_size=4):
        set_seed(0)
        x, y = np.arange(samples, dtype="float32").reshape(samples, 1), np.zeros(samples, "float32")
        model = Recorder()
        model.compile(run_eagerly=True)
        if on_arrays:
            model.fit(x, y, batch_size=batch_size, epochs=3, verbose=0)
        else:
            data = shuffled_batches(x, y, batch_size)
            model.fit(data, epochs=3, shuffle=False, verbose=0)
            model.fit(data, epochs=5, initial_epoch=3, shuffle=False, verbose=0)
        per_epoch = -(-samples // batch_size)
        return [sum(model.seen[i:i + per_epoch], []) for i in range(0, len(model.seen), per_epoch)]
    """
)


def orders_in_this_process(**kwargs) -> list[list[int]]:
    namespace: dict = {}
    exec(ORDERS, namespace)
    return namespace["orders"](**kwargs)


def orders_in_a_new_process() -> list[list[int]]:
    script = ORDERS + "\nimport json\nprint(json.dumps(orders()))\n"
    return json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)


def test_fit_on_shuffled_batches_sees_a_new_order_every_epoch():
    epochs = orders_in_this_process()
    assert len(epochs) == 5  # 3 epochs, then 2 more from a second fit call on the same dataset
    for order in epochs:
        assert sorted(order) == list(range(12)), "every epoch is a permutation of all the samples"
    assert len({tuple(order) for order in epochs}) == 5, f"an order came back: {epochs}"
    assert epochs[0] != list(range(12))


@pytest.mark.slow
def test_the_same_seed_gives_the_same_orders_in_this_process_and_in_two_new_ones():
    expected = orders_in_this_process()
    assert orders_in_this_process() == expected
    assert [orders_in_a_new_process() for _ in range(2)] == [expected, expected]


def test_seeded_fit_on_arrays_repeats_one_order_every_epoch():
    """The pitfall notebook 06 explains, pinned on the versions in constraints.txt.

    If this starts failing, Keras has changed how fit shuffles arrays: update notebook 06's paragraph.
    """
    epochs = orders_in_this_process(on_arrays=True)
    assert len(epochs) == 3 and sorted(epochs[0]) == list(range(12)) and epochs[0] != list(range(12))
    assert epochs[0] == epochs[1] == epochs[2]


@pytest.mark.slow
def test_set_seed_gives_bit_identical_training_in_one_process_and_across_two():
    namespace = {}
    exec(FINGERPRINT, namespace)
    in_process = [namespace["fingerprint"]() for _ in range(2)]
    assert in_process[0] == in_process[1]
    script = FINGERPRINT + "\nprint(fingerprint())\n"
    other_processes = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
        for _ in range(2)
    ]
    assert other_processes == in_process


def test_different_seeds_give_different_weights():
    weights = []
    for seed in (0, 1):
        set_seed(seed)
        weights.append(RECIPES["adam_64"].build().get_weights()[0])
    assert not np.array_equal(*weights)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_set_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        set_seed(seed)


def test_steps_per_execution_changes_nothing_learned(mnist):
    """Notebooks 02 and 04 compile one model without it and check the same weights; here with a partial last batch."""
    (x_train, y_train), _ = mnist
    recipe = RECIPES["adam_64"]
    x, y = recipe.prepare(x_train[:1000], y_train[:1000])
    runs = []
    for steps in (1, 32):
        set_seed(0)
        model = recipe.build()
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"], steps_per_execution=steps)
        history = model.fit(shuffled_batches(x, y, 48), epochs=2, shuffle=False, verbose=0)
        runs.append(([w.tobytes() for w in model.get_weights()], history.history))
    assert runs[0] == runs[1]


def hand_trained(x, y, optimizer, epochs=2, batch_size=48):
    """The 512-unit recipe's net, seeded, trained by ``train_by_hand`` with ``optimizer``."""
    set_seed(0)
    model = RECIPES["dense_512_rmsprop"].build()
    history = train_by_hand(model, x, y, epochs, batch_size, keras.losses.CategoricalCrossentropy(), optimizer,
                            keras.metrics.CategoricalAccuracy(name="accuracy"))
    return model, history


def test_the_loop_by_hand_learns_the_weights_fit_learns_to_the_last_bit(mnist):
    """Notebook 06's claim for one epoch: the same order, the same steps, the same update; a partial last batch.

    Later epochs differ: fit starts two iterators of the dataset per epoch and trains on the first,
    so its orders are every other one of the orders a plain loop over the dataset draws (pinned below).
    """
    (x_train, y_train), _ = mnist
    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_train[:1000], y_train[:1000])
    set_seed(0)
    model = recipe.build()
    fitted = model.fit(shuffled_batches(x, y, 48), epochs=1, shuffle=False, verbose=0)
    by_hand, history = hand_trained(x, y, keras.optimizers.RMSprop(), epochs=1)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), by_hand.get_weights()))
    assert history["accuracy"] == pytest.approx(fitted.history["accuracy"], abs=1e-6)
    assert history["loss"] == pytest.approx(fitted.history["loss"], rel=1e-5)


def test_fit_trains_on_every_other_order_a_loop_over_the_dataset_draws():
    fit_orders = orders_in_this_process()
    set_seed(0)
    data = shuffled_batches(np.arange(12), np.zeros(12), 4)
    loop_orders = [np.concatenate([x.numpy() for x, _ in data]).tolist() for _ in range(2 * len(fit_orders))]
    assert fit_orders == loop_orders[::2]


def test_the_fused_update_is_keras_rmsprop_up_to_rounding(mnist):
    (x_train, y_train), _ = mnist
    x, y = RECIPES["dense_512_rmsprop"].prepare(x_train[:500], y_train[:500])
    keras_model, _ = hand_trained(x, y, keras.optimizers.RMSprop(), epochs=1)
    fused_model, _ = hand_trained(x, y, FusedRMSprop(), epochs=1)
    for a, b in zip(keras_model.get_weights(), fused_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert not all(np.array_equal(a, b) for a, b in zip(keras_model.get_weights(), fused_model.get_weights()))


def test_the_fused_update_twice_in_one_process_is_bit_identical(mnist):
    (x_train, y_train), _ = mnist
    x, y = RECIPES["dense_512_rmsprop"].prepare(x_train[:500], y_train[:500])
    runs = [hand_trained(x, y, FusedRMSprop(), epochs=2) for _ in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()))
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("args, message", [
    (dict(epochs=0), "epochs must be a positive integer, got 0"),
    (dict(batch_size=2.5), "batch_size must be a positive integer, got 2.5"),
    (dict(y=np.zeros((3, 10), "float32")), r"x and y must hold the same, non-zero number of samples, got \(4, 784\)"),
])
def test_train_by_hand_rejects_bad_input(args, message):
    call = dict(x=np.zeros((4, 784), "float32"), y=np.zeros((4, 10), "float32"), epochs=1, batch_size=2)
    call.update(args)
    with pytest.raises(ValueError, match=message):
        train_by_hand(RECIPES["dense_512_rmsprop"].build(), loss_fn=keras.losses.CategoricalCrossentropy(),
                      optimizer=FusedRMSprop(), metric=keras.metrics.CategoricalAccuracy(), **call)


def clock_of(*seconds: float):
    """A stand-in for ``time.perf_counter`` whose timed calls take these seconds, one after another."""
    ticks = iter([tick for i, length in enumerate(seconds) for tick in (10.0 * i, 10.0 * i + length)])
    return lambda: next(ticks)


def test_matmul_peak_divides_a_products_flop_by_its_fastest_time(monkeypatch):
    """Notebook 06's arithmetic limit: a size x size product is 2 * size**3 FLOP (a multiply and an add each),
    timed after one product that warms up (untimed), at the fastest of the rest."""
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=clock_of(3.0, 1.0, 2.0)))
    assert matmul_peak(size=64, repeats=3) == 2 * 64**3 / 1.0  # the fastest of 3, 1 and 2 seconds
    with pytest.raises(ValueError, match="size and repeats must be positive, got 0 and 1"):
        matmul_peak(size=0, repeats=1)


def test_step_matmul_peak_divides_the_flop_of_a_training_steps_products_by_its_time(monkeypatch):
    """Each step of notebook 02's net at batch 32: forward 784x512 and 512x10 products, both weight gradients,
    and the input gradient of the second layer only (nothing before the first learns)."""
    monkeypatch.setattr(training, "time", SimpleNamespace(perf_counter=clock_of(0.5, 4.0)))
    model = RECIPES["dense_512_rmsprop"].build()
    flop_per_step = 2 * 32 * (784 * 512 + 512 * 10 + 784 * 512 + 512 * 10 + 512 * 10)
    assert step_matmul_peak(model, batch_size=32, steps=3, repeats=2) == 3 * flop_per_step / 2.25


@pytest.mark.parametrize("args, message", [
    (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
    (dict(steps=2.5), "steps must be a positive integer, got 2.5"),
    (dict(repeats=True), "repeats must be a positive integer, got True"),
    (dict(model="convnet"), r"need a model whose weighted layers are all Dense, got \['Conv2D', 'Conv2D', 'Dense', 'Dense'\]"),
    (dict(model="empty"), r"need a model whose weighted layers are all Dense, got \[\]"),
])
def test_step_matmul_peak_rejects_what_it_cannot_time(args, message):
    models = {"dense": RECIPES["dense_512_rmsprop"].build(), "convnet": build_convnet(),
              "empty": keras.Sequential([keras.Input((4,)), keras.layers.Flatten()])}
    call = dict(model="dense", batch_size=8, steps=1, repeats=1) | args
    with pytest.raises(ValueError, match=message):
        step_matmul_peak(models[call.pop("model")], **call)


def test_shuffled_batches_keep_inputs_with_their_targets():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.arange(50, dtype=np.uint8)
    set_seed(0)
    data = shuffled_batches(x, y, batch_size=16)
    parts = list(data)
    assert [len(part_y) for _, part_y in parts] == [16, 16, 16, 2]
    xs = np.concatenate([part_x.numpy() for part_x, _ in parts])
    ys = np.concatenate([part_y.numpy() for _, part_y in parts])
    assert xs.dtype == np.float32 and ys.dtype == np.uint8
    assert np.array_equal(xs[:, 0], 2 * ys) and sorted(ys) == list(range(50)) and list(ys) != list(range(50))


#: Keras 3.15 warns when fit's own shuffle meets a tf.data dataset; 3.10 to 3.14 (3.12 is the newest on Python 3.10)
#: ignore it in silence.
KERAS_WARNS_ON_SHUFFLE = tuple(int(part) for part in keras.__version__.split(".")[:2]) >= (3, 15)


def test_fit_warns_about_its_own_shuffle_on_a_dataset_unless_told_shuffle_false(mnist):
    """Why every notebook passes shuffle=False beside its shuffled dataset: Keras 3.15 on would warn, on stderr.

    With shuffle=False no Keras the project supports warns, so the notebooks' stderr is the same on each.
    """
    (x_train, y_train), _ = mnist
    recipe = RECIPES["adam_64"]
    x, y = recipe.prepare(x_train[:256], y_train[:256])
    model = recipe.build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(shuffled_batches(x, y, 64), epochs=1, shuffle=False, verbose=0)
        if KERAS_WARNS_ON_SHUFFLE:
            with pytest.raises(UserWarning, match="`shuffle=True` was passed, but will be ignored"):
                model.fit(shuffled_batches(x, y, 64), epochs=1, verbose=0)
        else:  # an older Keras: the default shuffle is ignored without a word
            model.fit(shuffled_batches(x, y, 64), epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((3, 2)), np.zeros(4), 2), r"same, non-zero number of samples, got \[3, 4\]"),
        ((np.zeros((0, 2)), np.zeros(0), 2), r"same, non-zero number of samples, got \[0, 0\]"),
        (("not an array", np.zeros(3), 2), r"same, non-zero number of samples, got \[0, 3\]"),
        ((np.zeros((3, 2)), np.zeros(3), 0), "batch_size must be a positive integer, got 0"),
        ((np.zeros((3, 2)), np.zeros(3), 2.5), "batch_size must be a positive integer, got 2.5"),
    ],
)
def test_shuffled_batches_reject_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        shuffled_batches(*args)


def test_fit_with_verbose_2_prints_one_line_per_epoch_stable_once_sanitized_and_learns(mnist, capsys):
    (x_train, y_train), (x_test, y_test) = mnist
    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_train[:5000], y_train[:5000])
    set_seed(0)
    model = recipe.build()
    history = model.fit(shuffled_batches(x[:4000], y[:4000], 128), epochs=2, shuffle=False, verbose=2,
                        validation_data=(x[4000:], y[4000:]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in lines[1::2]:
        sanitized = line
        for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
            sanitized = re.sub(regex, replace, sanitized)
        assert re.fullmatch(r"32/32 - T - T/step - accuracy: 0\.\d{4} - loss: 0\.\d{4}"
                            r" - val_accuracy: 0\.\d{4} - val_loss: 0\.\d{4}", sanitized), (line, sanitized)
        assert "\r" not in line and "\x1b" not in line
    assert history.history["accuracy"][1] > history.history["accuracy"][0]
    xt, yt = recipe.prepare(x_test[:2000], y_test[:2000])
    scores = evaluate(model, xt, yt)
    assert set(scores) == {"loss", "accuracy"} and 0.75 < scores["accuracy"] <= 1  # chance is 0.1
    predicted = predict_classes(model, xt)
    assert predicted.shape == (2000,)
    assert abs(np.mean(predicted == y_test[:2000]) - scores["accuracy"]) < 1e-6


def test_confusion_matrix_counts_pairs():
    matrix = confusion_matrix(np.array([0, 1, 2, 2, 9]), np.array([0, 2, 2, 2, 4]))
    assert matrix.shape == (10, 10) and matrix.sum() == 5
    assert matrix[2, 2] == 2 and matrix[1, 2] == 1 and matrix[9, 4] == 1 and np.trace(matrix) == 3


def test_misclassified_and_bad_labels():
    assert misclassified(np.array([1, 2, 3]), np.array([1, 0, 3])).tolist() == [1]
    with pytest.raises(ValueError, match="y_true has 3 labels but y_pred has 2"):
        misclassified(np.array([1, 2, 3]), np.array([1, 0]))
    with pytest.raises(ValueError, match=r"y_pred must be a 1-D array of integer labels, got shape \(2, 10\)"):
        confusion_matrix(np.array([1, 2]), np.zeros((2, 10), int))

