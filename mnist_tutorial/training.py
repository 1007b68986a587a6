"""Seed, batch, train, evaluate, and check results against the tutorials.

Keras stays in charge: the notebooks call ``model.fit`` themselves, on
``batches`` of the arrays, passing an ``EpochLogger`` so that each epoch
prints one stable line (no progress bar, no timings mixed into the numbers).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf


def set_seed(seed: int) -> None:
    """Make a whole run repeatable: seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    Calls ``keras.utils.set_random_seed(seed)`` (Python's ``random``, NumPy
    and the backend) and ``tf.config.experimental.enable_op_determinism()``.
    Two trainings after the same ``set_seed`` give bit-identical weights on
    the same machine. Raises ``ValueError`` for a negative or non-integer seed.

    >>> set_seed(0); a = np.random.rand()
    >>> set_seed(0); a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


class EpochLogger(keras.callbacks.Callback):
    """Print one line per epoch with every metric at 4 decimals, and time the whole fit.

    Pass it to ``model.fit(..., verbose=0, callbacks=[EpochLogger()])``. The
    wall-clock time of the fit is kept in ``seconds``, never printed beside
    the metrics, so the printed lines are the same on every run.

    >>> logger = EpochLogger()
    >>> logger.params = {"epochs": 3}
    >>> logger.on_epoch_end(0, {"loss": 0.25, "accuracy": 0.925})
    epoch 1/3 - accuracy: 0.9250 - loss: 0.2500
    """

    def __init__(self, print_fn=print) -> None:
        super().__init__()
        self.print_fn = print_fn
        self.seconds = 0.0
        self._began = 0.0

    def on_train_begin(self, logs=None) -> None:
        self._began = time.perf_counter()

    def on_train_end(self, logs=None) -> None:
        self.seconds = time.perf_counter() - self._began

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        metrics = " - ".join(f"{name}: {value:.4f}" for name, value in sorted((logs or {}).items()))
        self.print_fn(f"epoch {epoch + 1}/{self.params['epochs']} - {metrics}")


def batches(x: np.ndarray, y: np.ndarray | None = None, batch_size: int = 32, shuffle: bool = True) -> tf.data.Dataset:
    """Batch arrays into the ``tf.data`` pipeline that ``model.fit(x, y, batch_size=...)`` builds, with autotuning off.

    ``model.fit`` turns NumPy arrays into a ``tf.data`` pipeline: it
    shuffles the indices, slices one batch at a time with ``tf.gather`` and
    prefetches. This function builds the same pipeline, so training on it
    gives bit-identical weights, but turns off tf.data's autotuning. On the
    2-core machines here the autotuner's background work made the dense
    nets train 1.1 to 1.6 times slower (benchmarks/README.md). Once a
    global seed is set, as ``set_seed`` does, the shuffle draws the same
    order every epoch, in ``fit``'s pipeline and here alike.

    Takes the inputs, optionally the targets (floats become float32, as in
    Keras), the batch size and whether to shuffle. Returns a
    ``tf.data.Dataset`` of ``(x, y)`` batches, or of ``x`` batches without
    ``y``. Build it after ``set_seed``, and pass it to ``model.fit`` with
    ``shuffle=False``: the dataset shuffles itself, and Keras warns that its
    own ``shuffle`` does not apply to a dataset. Raises ``ValueError`` if
    ``x`` and ``y`` differ in length, ``x`` is empty or ``batch_size`` is
    not a positive integer.

    >>> data = batches(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2, shuffle=False)
    >>> len(data), [(list(x.shape), y.numpy().tolist()) for x, y in data]
    (3, [([2, 2], [0, 1]), ([2, 2], [2, 3]), ([1, 2], [4])])
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    arrays = tuple(np.asarray(a) for a in ((x,) if y is None else (x, y)))
    lengths = [len(a) if a.ndim else 0 for a in arrays]
    if lengths[0] == 0 or len(set(lengths)) > 1:
        raise ValueError(f"x and y must hold the same, non-zero number of samples, got {lengths}")
    # Floats become float32, as fit does; float32 arrays are used as they are, not copied.
    arrays = tuple(a.astype(np.float32, copy=False) if np.issubdtype(a.dtype, np.floating) else a for a in arrays)
    samples, full_batches = lengths[0], lengths[0] // batch_size

    def permutation(_):  # written as Keras writes it, so that the shuffle draws the same seed
        indices = tf.range(samples, dtype=tf.int64)
        return tf.random.shuffle(indices) if shuffle else indices

    def split(indices):
        full = tf.data.Dataset.from_tensor_slices(tf.reshape(indices[: full_batches * batch_size], (full_batches, -1)))
        if samples % batch_size == 0:
            return full
        return full.concatenate(tf.data.Dataset.from_tensors(indices[full_batches * batch_size :]))

    def gather(batch, arrays):
        parts = tuple(tf.gather(a, batch) for a in arrays)
        return parts if y is not None else parts[0]

    indices = tf.data.Dataset.range(1).map(permutation).prefetch(1).flat_map(split)
    dataset = tf.data.Dataset.zip(indices, tf.data.Dataset.from_tensors(arrays).repeat())
    dataset = dataset.map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(math.ceil(samples / batch_size)))
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def fit(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    log: bool = True,
    validation_split: float = 0.0,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Train with ``model.fit`` on ``batches(x, y)`` and an ``EpochLogger``; return Keras' ``History``.

    Gives the same weights and history as ``model.fit(x, y, ...)`` with the
    same arguments, faster (see ``batches``). ``validation_split`` holds out
    the last fraction of ``x`` and ``y``, as Keras does. Extra keyword
    arguments (``validation_data``, ``callbacks``...) go to ``model.fit``.
    The training time in seconds is in ``history.seconds``. Raises
    ``ValueError`` if ``validation_split`` is not in [0, 1), or comes
    with ``validation_data``.

    >>> set_seed(0)
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(10, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> history = fit(model, np.zeros((4, 2)), np.zeros(4), epochs=1, log=False)
    >>> sorted(history.history)
    ['accuracy', 'loss']
    """
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be at least 0 and below 1, got {validation_split!r}")
    if validation_split and "validation_data" in fit_kwargs:
        raise ValueError("give validation_split or validation_data, not both")
    if validation_split:
        split = math.floor(len(x) * (1 - validation_split))
        fit_kwargs["validation_data"] = batches(x[split:], y[split:], batch_size, shuffle=False)
        x, y = x[:split], y[:split]
    logger = EpochLogger(print_fn=print if log else (lambda *args: None))
    callbacks = [logger, *fit_kwargs.pop("callbacks", [])]
    history = model.fit(batches(x, y, batch_size), epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks,
                        **fit_kwargs)
    history.seconds = logger.seconds
    return history


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Return the model's loss and accuracy on ``(x, y)`` as a dict of floats.

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(10, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> sorted(evaluate(model, np.zeros((4, 2)), np.zeros(4)))
    ['accuracy', 'loss']
    """
    results = model.evaluate(x, y, batch_size=1000, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


def predict_classes(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return the most probable digit for each input, ``argmax`` of ``model.predict``.

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(10, activation="softmax")])
    >>> predict_classes(model, np.zeros((3, 2))).shape
    (3,)
    """
    return np.argmax(model.predict(x, batch_size=1000, verbose=0), axis=1)


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return both label arrays, or raise ValueError unless they are 1-D integer arrays of one length."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {labels.shape} of {labels.dtype}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    return y_true, y_pred


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Count each (true, predicted) pair with ``tf.math.confusion_matrix``: rows true, columns predicted.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]], dtype=int32)
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()


def misclassified(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return the indices where the prediction differs from the true label.

    >>> misclassified([7, 2, 1, 0], [7, 3, 1, 6])
    array([1, 3])
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return np.flatnonzero(y_true != y_pred)


def top_k(probabilities: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``k`` most probable classes and their probabilities, most probable first (``tf.math.top_k``).

    Takes one row of class probabilities or a batch of rows.

    >>> classes, probs = top_k(np.array([0.1, 0.7, 0.2]), k=2)
    >>> classes, probs.round(2)
    (array([1, 2], dtype=int32), array([0.7, 0.2]))
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim not in (1, 2) or not 1 <= k <= probabilities.shape[-1]:
        raise ValueError(f"need 1 <= k <= number of classes, got k={k} for shape {probabilities.shape}")
    values, classes = tf.math.top_k(probabilities, k=k)
    return classes.numpy(), values.numpy()


@dataclass(frozen=True)
class Result:
    """One trained model's result, and the tutorial's figure it is checked against.

    ``tolerance`` is in accuracy points (0.003 = 0.3 points); ``reported``
    may be NaN where the tutorial gave no figure (then only ``minimum``
    applies, if set).

    >>> Result("m", 100, 3, 1.0, 0.9720, reported=0.9706, tolerance=0.005).passed
    True
    """

    model: str
    params: int
    epochs: int
    seconds: float
    accuracy: float
    reported: float = math.nan
    tolerance: float = 0.003
    minimum: float = 0.0
    measured_on: str = "test"

    @property
    def passed(self) -> bool:
        """True if the accuracy is at least the reported figure minus the tolerance, and the minimum."""
        above_reported = math.isnan(self.reported) or self.accuracy >= self.reported - self.tolerance
        return above_reported and self.accuracy >= self.minimum

    def row(self) -> str:
        """Return this result as one row of the Markdown results table.

        The tutorial column holds the reported figure, else the minimum ("at
        least ..."), else "-".

        >>> Result("convnet", 225034, 10, 95.0, 0.9931, minimum=0.992).row()
        '| convnet | 225,034 | 10 | 95.0 s | 99.31% | at least 99.20% | pass |'
        """
        if not math.isnan(self.reported):
            reported = f"{self.reported:.2%}"
        elif self.minimum > 0:
            reported = f"at least {self.minimum:.2%}"
        else:
            reported = "-"
        accuracy = f"{self.accuracy:.2%}" + (" (train)" if self.measured_on == "train" else "")
        verdict = "pass" if self.passed else "FAIL"
        return (
            f"| {self.model} | {self.params:,} | {self.epochs} | {self.seconds:.1f} s | {accuracy} "
            f"| {reported} | {verdict} |"
        )


def check_against_tutorial(results: list[Result]) -> None:
    """Print the results as a Markdown table and raise ``AssertionError`` if any falls short.

    >>> check_against_tutorial([Result("mlp", 118282, 3, 9.2, 0.9731, reported=0.9706)])
    | model | params | epochs | train time | test accuracy | tutorial | check |
    | --- | --- | --- | --- | --- | --- | --- |
    | mlp | 118,282 | 3 | 9.2 s | 97.31% | 97.06% | pass |
    All 1 results reproduce the tutorial within tolerance.
    """
    print("| model | params | epochs | train time | test accuracy | tutorial | check |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        print(result.row())
    failed = [result for result in results if not result.passed]
    if failed:
        raise AssertionError(
            "below the tutorial: "
            + "; ".join(
                f"{r.model} reached {r.accuracy:.2%}, needs {max(r.reported - r.tolerance, r.minimum):.2%}"
                for r in failed
            )
        )
    print(f"All {len(results)} results reproduce the tutorial within tolerance.")
