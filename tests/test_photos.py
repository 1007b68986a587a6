"""Tests for mnist_tutorial.images' photo renderer: MNIST digits rendered as photos, the same on every run."""

import numpy as np
import pytest

from mnist_tutorial.images import PHOTO_CONDITIONS, render_photo, render_photos


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist[1][0][: 2 * len(PHOTO_CONDITIONS)]


def test_each_condition_gives_an_rgb_photo_of_paper_size(digits):
    photos, conditions = render_photos(digits)
    assert conditions == [*PHOTO_CONDITIONS, *PHOTO_CONDITIONS]
    for photo in photos:
        assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
        assert 300 <= photo.shape[0] <= 600 and 1.15 < photo.shape[1] / photo.shape[0] < 1.45


def test_rendering_is_the_same_on_every_run(digits):
    first, _ = render_photos(digits, seed=0)
    again, _ = render_photos(digits, seed=0)
    other, _ = render_photos(digits, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(first, other))


def test_the_conditions_show_in_the_photo(digits):
    rng = np.random.default_rng(0)
    plain = render_photo(digits[0], "plain", rng)
    dark = render_photo(digits[0], "light ink on dark", rng)
    assert np.median(plain) > 200 and np.median(dark) < 80  # light paper, and a dark board
    assert plain.max() - plain.min() > 150 and dark.max() - dark.min() > 150  # the ink stands out on both
    grid = render_photo(digits[0], "grid", rng)
    assert (np.abs(grid[..., 2].astype(int) - grid[..., 0]) > 40).mean() > 0.01  # blue printed lines


def test_an_unknown_condition_is_named():
    with pytest.raises(ValueError, match="condition must be one of plain, .*, got 'fog'"):
        render_photo(np.zeros((28, 28), np.uint8), "fog", np.random.default_rng(0))


def test_a_blurred_photo_keeps_its_paper_bright_to_the_edges(digits):
    """The blur reflects the page at its edges: keras' gaussian_blur alone would pad with black and darken a frame."""
    photo = render_photo(digits[0], "blur", np.random.default_rng(0)).astype(np.float32)
    sharp = render_photo(digits[0], "plain", np.random.default_rng(0)).astype(np.float32)  # the same page, unblurred
    assert photo.shape == sharp.shape
    for edge in (np.s_[0], np.s_[-1], np.s_[:, 0], np.s_[:, -1]):
        assert np.abs(photo[edge] - sharp[edge]).max() <= 1  # paper, as bright as unblurred
    assert np.abs(photo - sharp).max() > 100  # the ink's edges are blurred
