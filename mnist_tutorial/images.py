"""Prepare a photo of your own handwritten digit the way MNIST's digits were made.

MNIST digits are bright ink on black, fitted into a 20x20 box keeping their
aspect ratio, and centred by their centre of mass in a 28x28 field; a plain
resize of a photo to 28x28 misses every one of these steps.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

#: After the background is removed, pixels below this fraction of the ink's brightness count as paper.
INK_THRESHOLD = 0.3
#: The smallest difference between ink and paper (on a 0-1 scale) that counts as visible ink.
MIN_CONTRAST = 0.15
#: The file types ``read_image`` decodes.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def labelled_photos(folder: str | os.PathLike) -> tuple[list[Path], np.ndarray]:
    """List the photos named ``digit_<label>_<anything>`` in a folder, sorted, with the digit each shows.

    Args:
        folder: a folder of photos such as the project's ``img/photos``.

    Returns:
        The photos' paths, and their labels as an integer array.

    Raises:
        FileNotFoundError: if the folder holds no such photo.
        ValueError: naming a photo whose name gives no single digit.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "digit_7_pencil.png").write_bytes(b"")
    >>> paths, labels = labelled_photos(folder)
    >>> [path.name for path in paths], labels
    (['digit_7_pencil.png'], array([7]))
    """
    folder = Path(folder)
    paths = sorted(path for path in folder.glob("digit_*") if path.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"{folder}: no photos named digit_<label>_<name> ({', '.join(IMAGE_SUFFIXES)})")
    labels = []
    for path in paths:
        match = re.fullmatch(r"digit_(\d)(_.*)?", path.stem)
        if match is None:
            raise ValueError(f"{path}: the name must be digit_<label>_<name> with one digit 0-9 as the label")
        labels.append(int(match.group(1)))
    return paths, np.array(labels)


def read_image(source: str | os.PathLike | np.ndarray) -> np.ndarray:
    """Read an image file (PNG, JPEG, BMP, GIF) or array as grayscale float32 in [0, 1], shape (height, width).

    Arrays may be (h, w), (h, w, 1), (h, w, 3) or (h, w, 4), of uint8, uint16, bool or floats
    in [0, 1]; transparent pixels count as white paper.

    Copy along: ``_array_to_float``, ``_to_gray``.

    Raises:
        FileNotFoundError: for a missing file.
        ValueError: for a file that is not an image, or an array of the wrong shape, type or range.

    >>> read_image(np.array([[0, 255]], np.uint8))
    array([[0., 1.]], dtype=float32)
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such image file")
        try:
            decoded = tf.io.decode_image(path.read_bytes(), dtype=tf.float32, expand_animations=False)
        except (tf.errors.InvalidArgumentError, ValueError) as error:
            raise ValueError(f"{path}: not an image TensorFlow can decode (PNG, JPEG, BMP or GIF)") from error
        pixels = decoded.numpy()
    else:
        pixels = _array_to_float(np.asarray(source))
    return _to_gray(pixels, name=str(source) if isinstance(source, (str, os.PathLike)) else "image")


def _array_to_float(array: np.ndarray) -> np.ndarray:
    """Return an image array as float32 in [0, 1], or raise ValueError."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535
    if array.dtype == np.bool_:
        return array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1 or np.isnan(array).any()):
            raise ValueError("image: float pixels must lie in [0, 1]; divide 0-255 values by 255 first")
        return array.astype(np.float32)
    raise ValueError(f"image: pixels must be uint8, uint16, bool or float, got dtype {array.dtype}")


def _to_gray(pixels: np.ndarray, name: str) -> np.ndarray:
    """Collapse (h, w[, channels]) float pixels to (h, w) gray, compositing alpha over white."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"{name}: expected an image of shape (h, w) or (h, w, 1|3|4), got {pixels.shape}")
    if min(pixels.shape[:2]) == 0:
        raise ValueError(f"{name}: the image is empty, shape {pixels.shape}")
    channels = pixels.shape[-1]
    color, alpha = (pixels[..., :-1], pixels[..., -1:]) if channels in (2, 4) else (pixels, None)
    gray = tf.image.rgb_to_grayscale(color).numpy() if color.shape[-1] == 3 else color
    if alpha is not None:
        gray = gray * alpha + (1 - alpha)
    return gray[..., 0].astype(np.float32)


def paper_brightness(ink: np.ndarray, window: int) -> np.ndarray:
    """Estimate the paper under bright-on-dark ink: a grey opening (min, then max filter) ``window`` pixels wide.

    Strokes narrower than ``window`` vanish; smooth changes of light and shadow remain.

    >>> paper_brightness(np.array([[0.1, 0.9, 0.1, 0.2, 0.2]], np.float32), window=3).round(2)
    array([[0.1, 0.1, 0.1, 0.2, 0.2]], dtype=float32)
    """

    def max_filter(image: tf.Tensor) -> tf.Tensor:  # separable: a row pass then a column pass
        for shape in ((window, 1), (1, window)):
            image = tf.nn.max_pool2d(image, shape, strides=1, padding="SAME")
        return image

    eroded = -max_filter(-tf.constant(ink[None, :, :, None]))
    return max_filter(eroded).numpy()[0, :, :, 0]


def ink_on_black(gray: np.ndarray) -> np.ndarray:
    """Make the ink bright on black, as in MNIST, with the paper and its shadows removed.

    Dark ink on light paper (judged by the border) is inverted, the paper under the ink
    (``paper_brightness``, a window of a sixth of the image) is subtracted, and the rest
    is rescaled so the ink peaks at 1; faint pixels and the paper's noise become 0.

    Copy along: ``paper_brightness``.

    Raises:
        ValueError: if no ink stands out from the paper.

    >>> ink_on_black(np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], np.float32))
    array([[0., 0., 0.],
           [0., 1., 0.],
           [0., 0., 0.]], dtype=float32)
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    inverted = gray if np.median(border) < 0.5 else 1 - gray
    blur = 2 * (min(gray.shape) // 200) + 1  # 1 (none) up to 200 px, 3 up to 400 px...: averages out sensor noise
    smooth = tf.nn.avg_pool2d(inverted[None, :, :, None], blur, strides=1, padding="SAME").numpy()[0, :, :, 0]
    ink = smooth - paper_brightness(smooth, window=max(3, min(gray.shape) // 6))
    peak = float(np.percentile(ink, 99.9))
    if peak < MIN_CONTRAST:
        raise ValueError(
            f"the image has no visible ink: the brightest strokes stand {peak:.2f} above the paper "
            f"(needs {MIN_CONTRAST}); is it blank, or the photo too dark or washed out?"
        )
    middle = float(np.median(ink))
    noise_floor = middle + 6 * 1.4826 * float(np.median(np.abs(ink - middle)))  # 6 robust sigmas of the paper
    scaled = np.clip(ink / peak, 0, 1)
    scaled[ink < max(INK_THRESHOLD * peak, noise_floor)] = 0
    return scaled.astype(np.float32)


def center_by_mass(digit: np.ndarray, size: int = 28, box: int = 20) -> np.ndarray:
    """Fit bright-on-black ink into a ``box`` square, keeping its aspect, and centre its mass in a ``size`` square.

    Raises:
        ValueError: if there is no ink.

    >>> digit = np.zeros((100, 60), np.float32); digit[10:90, 20:40] = 1
    >>> out = center_by_mass(digit)
    >>> out.shape, np.argwhere(out > 0.5)[[0, -1]].tolist()
    ((28, 28), [[4, 12], [23, 16]])
    """
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    if rows.size == 0:
        raise ValueError("the image has no ink to centre")
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    factor = box / max(crop.shape)
    height, width = (max(1, round(side * factor)) for side in crop.shape)
    fitted = tf.image.resize(crop[..., None], (height, width), method="area", antialias=True).numpy()[..., 0]
    mass_row, mass_col = (np.average(np.indices(fitted.shape)[axis], weights=fitted) for axis in (0, 1))
    top = int(np.clip(round((size - 1) / 2 - mass_row), 0, size - height))
    left = int(np.clip(round((size - 1) / 2 - mass_col), 0, size - width))
    out = np.zeros((size, size), np.float32)
    out[top : top + height, left : left + width] = fitted
    return out


def prepare_image(source: str | os.PathLike | np.ndarray) -> np.ndarray:
    """Turn a photo or scan of one handwritten digit into a 28x28 float32 MNIST-style input in [0, 1].

    Grayscale, ink made bright on black and the paper removed, cropped to the digit, fitted
    into 20x20 and centred by mass in 28x28, scaled so the brightest pixel is 1. Feed
    ``image.reshape(1, 784)`` to a dense model, ``image[None, ..., None]`` to a convnet.

    Copy along: ``read_image``, ``ink_on_black``, ``center_by_mass``.

    Args:
        source: a file path (PNG, JPEG, BMP, GIF) or an array, as ``read_image`` takes;
            dark ink on light paper or light on dark.

    Returns:
        A (28, 28) float32 array.

    Raises:
        FileNotFoundError: for a missing file.
        ValueError: for a non-image, an empty image, or one with no visible ink.

    >>> photo = np.full((300, 200), 230, np.uint8)   # light paper
    >>> photo[60:240, 90:110] = 20                    # a dark vertical stroke: a "1"
    >>> digit = prepare_image(photo)
    >>> digit.shape, digit.dtype, float(digit.max())
    ((28, 28), dtype('float32'), 1.0)
    """
    digit = center_by_mass(ink_on_black(read_image(source)))
    return digit / digit.max()
