"""Tests for mnist_tutorial.preprocessing: values, shapes, dtypes, and clear errors."""

import keras
import numpy as np
import pytest

from mnist_tutorial.preprocessing import flatten, flatten_and_scale, normalize, one_hot, scale


def test_flatten_keeps_pixel_order_and_dtype():
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28).astype(np.uint16)
    flat = flatten(images)
    assert flat.shape == (2, 784) and flat.dtype == np.uint16
    assert flat[1, 28] == images[1, 1, 0]


def test_scale_matches_the_tutorial_expression():
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(scale(images), images.astype("float32") / 255)
    assert scale(images).dtype == np.float32


def test_flatten_and_scale_is_the_512_tutorials_preprocessing(mnist):
    (x_train, _), _ = mnist
    x = flatten_and_scale(x_train[:100])
    np.testing.assert_array_equal(x, x_train[:100].reshape((100, 28 * 28)).astype("float32") / 255)
    assert 0 <= x.min() and x.max() <= 1


def test_normalize_is_keras_normalize_axis_1(mnist):
    (x_train, _), _ = mnist
    expected = keras.utils.normalize(x_train[:50], axis=1)
    result = normalize(x_train[:50])
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    norms = np.linalg.norm(result, axis=1)  # every non-blank column of every image has length 1
    np.testing.assert_allclose(norms[norms > 0], 1, rtol=1e-5)


def test_one_hot_is_to_categorical():
    labels = np.array([5, 0, 4, 1, 9])
    encoded = one_hot(labels)
    assert encoded.shape == (5, 10) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded.argmax(axis=1), labels)
    np.testing.assert_array_equal(encoded.sum(axis=1), 1)


@pytest.mark.parametrize(
    "function, argument, message",
    [
        (flatten, np.zeros((28, 28)), r"images must have shape \(n, height, width\), got shape \(28, 28\)"),
        (normalize, np.zeros(784), r"images must have shape \(n, height, width\), got shape \(784,\)"),
        (normalize, np.array([[["a"]]]), "images must hold numbers, got dtype <U1"),
        (scale, np.zeros((1, 28, 28), np.float32), "images must be uint8 pixels 0-255, got dtype float32 \\(already scaled\\?\\)"),
        (one_hot, np.array([1, 10]), r"labels must lie in 0..9, found 1..10"),
        (one_hot, np.array([-1, 3]), r"labels must lie in 0..9, found -1..3"),
        (one_hot, np.array([0.5, 1.0]), r"labels must be a 1-D array of integers, got shape \(2,\) of float64"),
        (one_hot, np.zeros((2, 10), int), r"labels must be a 1-D array of integers, got shape \(2, 10\)"),
    ],
)
def test_bad_input_gets_a_clear_error(function, argument, message):
    with pytest.raises(ValueError, match=message):
        function(argument)
