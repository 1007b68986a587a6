"""Tests for mnist_tutorial.training: bit-identical seeding, batches equal to fit's own, stable logs, evaluation helpers, the check."""

import hashlib
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from mnist_tutorial.models import RECIPES
from mnist_tutorial.training import (
    EpochLogger,
    Result,
    batches,
    check_against_tutorial,
    confusion_matrix,
    evaluate,
    fit,
    misclassified,
    predict_classes,
    set_seed,
    top_k,
)

# Train the 512-unit recipe for 2 epochs on 3,000 images and print a fingerprint of everything it produced.
FINGERPRINT = textwrap.dedent(
    """
    import hashlib, os
    import numpy as np
    from mnist_tutorial.data import load_mnist
    from mnist_tutorial.models import RECIPES
    from mnist_tutorial.training import fit, set_seed

    def fingerprint():
        (x, y), _ = load_mnist(os.environ["MNIST_DATA_DIR"])
        recipe = RECIPES["dense_512_rmsprop"]
        x, y = recipe.prepare(x[:3000], y[:3000])
        set_seed(0)
        model = recipe.build()
        history = fit(model, x, y, epochs=2, batch_size=128, log=False, validation_split=0.1)
        digest = hashlib.sha256()
        for weights in model.get_weights():
            digest.update(weights.tobytes())
        digest.update(repr(sorted(history.history.items())).encode())
        return digest.hexdigest()
    """
)


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


def weights_and_history(model, history):
    return [w.tobytes() for w in model.get_weights()], history.history


@pytest.mark.parametrize(
    ("recipe_name", "samples", "batch_size"),
    [("dense_512_rmsprop", 1000, 128), ("normalize_flatten_mlp", 999, 32), ("adam_64", 640, 32)],
)
def test_training_on_batches_gives_the_weights_and_history_of_fit_on_arrays(mnist, recipe_name, samples, batch_size):
    (x_train, y_train), _ = mnist
    recipe = RECIPES[recipe_name]
    x, y = recipe.prepare(x_train[:samples], y_train[:samples])
    runs = []
    for on_batches in (False, True):
        set_seed(0)  # before batches(): its shuffle, like fit's, takes its seed when it is built
        model = recipe.build()
        data = dict(x=batches(x, y, batch_size), shuffle=False) if on_batches else dict(x=x, y=y, batch_size=batch_size)
        history = model.fit(**data, epochs=2, verbose=0)
        history = model.fit(**data, epochs=3, initial_epoch=2, verbose=0)  # continued, as notebook 02 does
        runs.append(weights_and_history(model, history))
    assert runs[0] == runs[1]


def test_fit_with_validation_split_matches_keras(mnist):
    (x_train, y_train), _ = mnist
    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_train[:1000], y_train[:1000])
    set_seed(0)
    keras_model = recipe.build()
    keras_history = keras_model.fit(x, y, epochs=2, batch_size=128, validation_split=0.15, verbose=0)
    set_seed(0)
    model = recipe.build()
    history = fit(model, x, y, epochs=2, batch_size=128, validation_split=0.15, log=False)
    assert weights_and_history(model, history) == weights_and_history(keras_model, keras_history)
    assert "val_loss" in history.history


def test_batches_shuffle_and_keep_inputs_with_their_targets():
    x = np.arange(100, dtype=np.float64).reshape(50, 2)
    y = np.arange(50, dtype=np.uint8)
    set_seed(0)
    data = batches(x, y, batch_size=16)
    assert len(data) == 4 and data.options().autotune.enabled is False
    epochs = []
    for _ in range(2):
        parts = list(data)
        assert [len(part_y) for _, part_y in parts] == [16, 16, 16, 2]
        xs = np.concatenate([part_x.numpy() for part_x, _ in parts])
        ys = np.concatenate([part_y.numpy() for _, part_y in parts])
        assert xs.dtype == np.float32 and ys.dtype == np.uint8  # floats become float32, as in Keras
        assert np.array_equal(xs[:, 0], 2 * ys) and sorted(ys) == list(range(50))
        epochs.append(ys)
    assert not np.array_equal(epochs[0], np.arange(50))
    # Seeded, the shuffle repeats its order every epoch: Keras' own pipeline for arrays does the same.
    assert np.array_equal(*epochs)
    in_order = np.concatenate([part.numpy() for part in batches(x, batch_size=16, shuffle=False)])
    assert np.array_equal(in_order, x.astype(np.float32))


def test_fit_on_batches_gives_no_warning(mnist):
    (x_train, y_train), _ = mnist
    recipe = RECIPES["adam_64"]
    x, y = recipe.prepare(x_train[:256], y_train[:256])
    model = recipe.build()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(batches(x, y, 64), epochs=1, shuffle=False, verbose=0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros((3, 2)), np.zeros(4)), r"same, non-zero number of samples, got \[3, 4\]"),
        ((np.zeros((0, 2)),), r"same, non-zero number of samples, got \[0\]"),
        (("not an array",), r"same, non-zero number of samples, got \[0\]"),
        ((np.zeros((3, 2)), np.zeros(3), 0), "batch_size must be a positive integer, got 0"),
        ((np.zeros((3, 2)), np.zeros(3), 2.5), "batch_size must be a positive integer, got 2.5"),
    ],
)
def test_batches_reject_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        batches(*args)


def test_fit_rejects_validation_split_with_validation_data():
    x, y = np.zeros((4, 784)), np.zeros((4, 10))
    with pytest.raises(ValueError, match="give validation_split or validation_data, not both"):
        fit(RECIPES["adam_64"].build(), x, y, epochs=1, validation_split=0.5, validation_data=(x, y))


@pytest.mark.parametrize("split", [-0.1, 1.0])
def test_fit_rejects_a_bad_validation_split(split):
    with pytest.raises(ValueError, match=f"validation_split must be at least 0 and below 1, got {split}"):
        fit(RECIPES["adam_64"].build(), np.zeros((4, 784)), np.zeros((4, 10)), epochs=1, validation_split=split)


def test_fit_logs_one_stable_line_per_epoch_and_learns(mnist, capsys):
    (x_train, y_train), (x_test, y_test) = mnist
    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_train[:5000], y_train[:5000])
    set_seed(0)
    model = recipe.build()
    history = fit(model, x, y, epochs=2, batch_size=128, validation_split=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for number, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {number}/2 - accuracy: 0.")
        assert "\r" not in line and "\x1b" not in line and "ms" not in line and "/step" not in line
        assert " - val_accuracy: 0." in line and " - val_loss: 0." in line
    assert history.history["accuracy"][1] > history.history["accuracy"][0]
    assert history.seconds > 0
    xt, yt = recipe.prepare(x_test[:2000], y_test[:2000])
    scores = evaluate(model, xt, yt)
    assert set(scores) == {"loss", "accuracy"} and 0.75 < scores["accuracy"] <= 1  # chance is 0.1; 84% measured
    predicted = predict_classes(model, xt)
    assert predicted.shape == (2000,)
    assert abs(np.mean(predicted == y_test[:2000]) - scores["accuracy"]) < 1e-6


def test_epoch_logger_formats_every_metric():
    lines = []
    logger = EpochLogger(print_fn=lines.append)
    logger.params = {"epochs": 10}
    logger.on_epoch_end(9, {"val_loss": 0.123456, "loss": 0.1, "accuracy": 0.99999})
    assert lines == ["epoch 10/10 - accuracy: 1.0000 - loss: 0.1000 - val_loss: 0.1235"]


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


def test_top_k_orders_classes_by_probability():
    probabilities = np.array([[0.05, 0.6, 0.05, 0.3] + [0.0] * 6, [0.9] + [0.1 / 9] * 9])
    classes, values = top_k(probabilities, k=2)
    assert classes.tolist() == [[1, 3], [0, 1]]
    np.testing.assert_allclose(values[0], [0.6, 0.3])
    with pytest.raises(ValueError, match="need 1 <= k <= number of classes, got k=11"):
        top_k(probabilities, k=11)


def test_check_against_tutorial_passes_and_fails_loudly(capsys):
    good = Result("a", 10, 3, 1.0, 0.9700, reported=0.9706, tolerance=0.003)
    bad = Result("b", 10, 3, 1.0, 0.9600, reported=0.9706, tolerance=0.003)
    check_against_tutorial([good])
    assert "| a | 10 | 3 | 1.0 s | 97.00% | 97.06% | pass |" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="b reached 96.00%, needs 96.76%"):
        check_against_tutorial([good, bad])
    assert "| b | 10 | 3 | 1.0 s | 96.00% | 97.06% | FAIL |" in capsys.readouterr().out


def test_result_minimum_and_missing_reported_figure():
    assert Result("c", 1, 1, 0, 0.99, minimum=0.992).passed is False
    assert Result("c", 1, 1, 0, 0.993, minimum=0.992).passed is True
    assert "| 99.00% (train) | - | pass |" in Result("c", 1, 1, 0, 0.99, measured_on="train").row()
    assert "| 99.00% | at least 99.20% | FAIL |" in Result("c", 1, 1, 0, 0.99, minimum=0.992).row()
