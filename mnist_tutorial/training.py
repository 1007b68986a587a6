"""Seed, shuffle into batches, and evaluate: what goes around ``model.fit``, which the notebooks call themselves."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def set_seed(seed: int) -> None:
    """Make a run repeatable: ``keras.utils.set_random_seed(seed)`` and TensorFlow's op determinism.

    After the same ``set_seed``, two trainings give bit-identical weights on the same machine.

    Raises:
        ValueError: for a negative or non-integer seed.

    >>> set_seed(0); a = np.random.rand()
    >>> set_seed(0); a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def shuffled_batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Return ``(x, y)`` as a ``tf.data`` pipeline that draws a new order every epoch, in batches.

    ``tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)``: what the
    notebooks feed ``model.fit(dataset, shuffle=False)`` (notebook 01 explains why).

    Args:
        x: the inputs, one sample per row.
        y: the targets, as many as ``x`` has samples.
        batch_size: samples per batch; the last batch holds the rest.

    Returns:
        A ``tf.data.Dataset`` of ``(x, y)`` batches.

    Raises:
        ValueError: if ``x`` and ``y`` differ in length, ``x`` is empty or
            ``batch_size`` is not a positive integer.

    >>> keras.utils.set_random_seed(0)
    >>> data = shuffled_batches(np.arange(5), np.arange(5), batch_size=2)
    >>> [[int(v) for v in x] for x, _ in data], [[int(v) for v in x] for x, _ in data]
    ([[3, 0], [4, 1], [2]], [[4, 2], [3, 0], [1]])
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = [len(a) if np.ndim(a) else 0 for a in (x, y)]
    if lengths[0] == 0 or lengths[0] != lengths[1]:
        raise ValueError(f"x and y must hold the same, non-zero number of samples, got {lengths}")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)


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

    Copy along: ``_check_labels``.

    Raises:
        ValueError: unless both are 1-D integer label arrays of one length.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]], dtype=int32)
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()


def misclassified(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return the indices where the prediction differs from the true label.

    Copy along: ``_check_labels``.

    Raises:
        ValueError: unless both are 1-D integer label arrays of one length.

    >>> misclassified([7, 2, 1, 0], [7, 3, 1, 6])
    array([1, 3])
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return np.flatnonzero(y_true != y_pred)


def top_k(probabilities: np.ndarray, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``k`` most probable classes and their probabilities, most probable first (``tf.math.top_k``).

    Raises:
        ValueError: unless ``probabilities`` is one row or a batch of rows, and 1 <= k <= classes.

    >>> classes, probs = top_k(np.array([0.1, 0.7, 0.2]), k=2)
    >>> classes, probs.round(2)
    (array([1, 2], dtype=int32), array([0.7, 0.2]))
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim not in (1, 2) or not 1 <= k <= probabilities.shape[-1]:
        raise ValueError(f"need 1 <= k <= number of classes, got k={k} for shape {probabilities.shape}")
    values, classes = tf.math.top_k(probabilities, k=k)
    return classes.numpy(), values.numpy()
