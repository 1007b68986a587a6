"""Turn MNIST's uint8 images and labels into what a Keras model is fed, with clear errors for bad input."""

from __future__ import annotations

import keras
import numpy as np


def _check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """Return ``images`` as an array, or raise ValueError unless it is a numeric batch of 2-D images."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"{name} must have shape (n, height, width), got shape {images.shape}")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise ValueError(f"{name} must hold numbers, got dtype {images.dtype}")
    return images


def flatten(images: np.ndarray) -> np.ndarray:
    """Reshape ``(n, 28, 28)`` images into ``(n, 784)`` rows, keeping the dtype.

    Copy along: ``_check_images``.

    Raises:
        ValueError: unless ``images`` is a numeric 3-D array.

    >>> flatten(np.zeros((2, 28, 28), np.uint8)).shape
    (2, 784)
    """
    images = _check_images(images)
    return images.reshape(len(images), -1)


def scale(images: np.ndarray) -> np.ndarray:
    """Scale uint8 pixels 0-255 to float32 in [0, 1]: ``images.astype("float32") / 255``.

    Raises:
        ValueError: unless ``images`` holds uint8 (scaling twice is a common mistake).

    >>> scale(np.array([[0, 51, 255]], np.uint8))
    array([[0. , 0.2, 1. ]], dtype=float32)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels 0-255, got dtype {images.dtype} (already scaled?)")
    return images.astype("float32") / 255


def flatten_and_scale(images: np.ndarray) -> np.ndarray:
    """Flatten ``(n, 28, 28)`` uint8 images to ``(n, 784)`` float32 in [0, 1], as the 512-unit tutorial does.

    Copy along: ``flatten``, ``scale``.

    >>> x = flatten_and_scale(np.full((2, 28, 28), 255, np.uint8))
    >>> x.shape, x.dtype, x.max()
    ((2, 784), dtype('float32'), np.float32(1.0))
    """
    return scale(flatten(images))


def normalize(images: np.ndarray, axis: int = 1) -> np.ndarray:
    """L2-normalise images with ``keras.utils.normalize(images, axis)``, as the first tutorial does; float32.

    With ``axis=1``, each column of pixels of each image is divided by its length.

    Copy along: ``_check_images``.

    Raises:
        ValueError: unless ``images`` is a numeric 3-D array.

    >>> normalize(np.array([[[3, 0], [4, 0]]], np.uint8))
    array([[[0.6, 0. ],
            [0.8, 0. ]]], dtype=float32)
    """
    images = _check_images(images)
    return keras.utils.normalize(images, axis=axis).astype("float32")


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Turn digit labels into one-hot float32 rows with ``keras.utils.to_categorical``.

    Raises:
        ValueError: unless ``labels`` is a 1-D array of integers from 0 to ``num_classes - 1``.

    >>> one_hot(np.array([2, 0]), num_classes=3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D array of integers, got shape {labels.shape} of {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, found {labels.min()}..{labels.max()}")
    return keras.utils.to_categorical(labels, num_classes).astype("float32")
