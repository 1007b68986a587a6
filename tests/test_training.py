"""Tests for mnist_tutorial.training: bit-identical seeding, stable logs, evaluation helpers, the check."""

import hashlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mnist_tutorial.models import RECIPES
from mnist_tutorial.training import (
    EpochLogger,
    Result,
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
