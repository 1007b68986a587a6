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
#: ``prepare_image`` first shrinks a photo so its shorter side is at most this many pixels: plenty for a 28x28 result.
WORKING_SIZE = 360
#: MNIST's strokes are about this many pixels wide at 28x28 (``stroke_width``'s median over the test set is 1.86).
MNIST_STROKE_WIDTH = 1.9
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


def read_image(source: str | os.PathLike | np.ndarray, shorter_side: int | None = None) -> np.ndarray:
    """Read an image file (PNG, JPEG, BMP, GIF) or array as grayscale float32 in [0, 1], shape (height, width).

    Arrays may be (h, w), (h, w, 1), (h, w, 3) or (h, w, 4), of uint8, uint16, bool or floats
    in [0, 1]; transparent pixels count as white paper.

    Copy along: ``_decode``, ``_white``, ``_shrink``, ``_to_gray``.

    Args:
        source: the file's path, or the image as an array.
        shorter_side: if given, first shrink the image (area averaging) so that its
            shorter side is at most this many pixels; a JPEG is decoded at about that size.

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
        return _to_gray(_shrink(_decode(path, shorter_side), shorter_side), name=str(path))
    array = np.asarray(source)
    white = _white(array)
    return _to_gray(_shrink(array, shorter_side) / np.float32(white), name="image")


def _decode(path: Path, shorter_side: int | None) -> np.ndarray:
    """Decode an image file to float32 (h, w, channels) in [0, 1]; a large JPEG at 1/2, 1/4 or 1/8 of its size."""
    content = path.read_bytes()
    try:
        if shorter_side is not None and tf.io.is_jpeg(content):
            ratio = int(min(tf.io.extract_jpeg_shape(content)[:2])) // shorter_side
            ratio = max([r for r in (1, 2, 4, 8) if r <= ratio] or [1])
            return tf.image.convert_image_dtype(tf.io.decode_jpeg(content, ratio=ratio), tf.float32).numpy()
        return tf.io.decode_image(content, dtype=tf.float32, expand_animations=False).numpy()
    except (tf.errors.InvalidArgumentError, ValueError) as error:
        raise ValueError(f"{path}: not an image TensorFlow can decode (PNG, JPEG, BMP or GIF)") from error


def _shrink(pixels: np.ndarray, shorter_side: int | None) -> np.ndarray:
    """Shrink (h, w[, channels]) pixels by area averaging so the shorter side is at most ``shorter_side``; float32.

    A photo more than 6 times too large is first thinned to every 2nd (3rd...) pixel, so that
    area averaging still takes at least 9 of them for each pixel it makes.
    """
    if shorter_side is None or pixels.ndim not in (2, 3) or min(pixels.shape[:2]) <= shorter_side:
        return pixels.astype(np.float32)
    factor = shorter_side / min(pixels.shape[:2])
    size = [max(1, round(side * factor)) for side in pixels.shape[:2]]
    stride = max(1, int(1 / factor) // 3)  # a huge photo: every 3rd... pixel still leaves 9+ to average per result
    image = pixels[::stride, ::stride]
    image = image.astype(np.uint8) if image.dtype == np.bool_ else image
    image = image if image.ndim == 3 else image[..., None]
    shrunk = tf.image.resize(image, size, method="area").numpy()
    return shrunk if pixels.ndim == 3 else shrunk[..., 0]


def _white(array: np.ndarray) -> int:
    """Return the value of white in an image array (255 for uint8, 65535 for uint16, else 1), or raise ValueError."""
    if array.dtype in (np.uint8, np.uint16):
        return np.iinfo(array.dtype).max
    if array.dtype == np.bool_:
        return 1
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1 or np.isnan(array).any()):
            raise ValueError("image: float pixels must lie in [0, 1]; divide 0-255 values by 255 first")
        return 1
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

    Copy along: ``_max_filter``.

    >>> paper_brightness(np.array([[0.1, 0.9, 0.1, 0.2, 0.2]], np.float32), window=3).round(2)
    array([[0.1, 0.1, 0.1, 0.2, 0.2]], dtype=float32)
    """
    eroded = -_max_filter(_max_filter(-ink, window, axis=0), window, axis=1)
    return _max_filter(_max_filter(eroded, window, axis=0), window, axis=1)


def _max_filter(image: np.ndarray, window: int, axis: int) -> np.ndarray:
    """The maximum over a centred ``window`` along one axis, as ``max_pool2d(padding="SAME")`` takes it.

    Each pass takes the maximum of two shifted copies, doubling the window, so a window of w costs log2(w) passes.

    Copy along: ``_slice``.
    """
    before = (window - 1) // 2
    padding = [(0, 0)] * image.ndim
    padding[axis] = (before, window - 1 - before)
    out = np.pad(image.astype(np.float32), padding, constant_values=-np.inf)
    span = 1
    while span < window:
        step = min(span, window - span)
        length = out.shape[axis] - step
        out = np.maximum(_slice(out, axis, 0, length), _slice(out, axis, step, length))
        span += step
    return out


def _box_mean(image: np.ndarray, size: int, axis: int) -> np.ndarray:
    """The mean over a centred window of odd ``size`` along one axis, of the pixels inside the image.

    Copy along: ``_slice``.
    """
    half = size // 2
    padding = [(0, 0)] * image.ndim
    padding[axis] = (half, half)
    total, count = np.pad(image, padding), np.pad(np.ones_like(image), padding)
    length = image.shape[axis]
    return (sum(_slice(total, axis, offset, length) for offset in range(size))
            / sum(_slice(count, axis, offset, length) for offset in range(size)))


def _slice(array: np.ndarray, axis: int, start: int, length: int) -> np.ndarray:
    """``length`` entries of ``array`` from ``start`` along ``axis``, as a view."""
    index = [slice(None)] * array.ndim
    index[axis] = slice(start, start + length)
    return array[tuple(index)]


def stroke_width(ink: np.ndarray) -> float:
    """Estimate how wide bright-on-black strokes are, in pixels: the ink's area over half its outline.

    A stroke l pixels long and w wide covers l*w pixels inside an outline of about 2*l.
    Ink is what is brighter than half the brightest pixel.

    >>> ink = np.zeros((30, 30), np.float32); ink[5:25, 10:14] = 1   # 20 long, 4 wide
    >>> round(stroke_width(ink), 2)
    3.33
    """
    inside = np.pad(ink > ink.max() / 2, 1)
    outline = np.abs(np.diff(inside, axis=0)).sum() + np.abs(np.diff(inside, axis=1)).sum()
    return 2 * float(inside.sum()) / max(float(outline), 1.0)


def even_strokes(digit: np.ndarray, box: int = 20, width: float = MNIST_STROKE_WIDTH) -> np.ndarray:
    """Thin or thicken bright-on-black strokes so they come out ``width`` pixels wide once fitted into ``box``.

    A marker's strokes are thicker, relative to the digit, than MNIST's, and a fine pen's
    thinner. Strokes are thinned by a grey erosion (a minimum filter) or thickened by a
    dilation (a maximum filter), whole pixels at a time; thinned by no more than half their width.

    Copy along: ``stroke_width``, ``_max_filter``.

    Raises:
        ValueError: if there is no ink.

    >>> digit = np.zeros((100, 60), np.float32); digit[10:90, 24:36] = 1   # 12 wide, 80 long: 3 px once fitted into 20
    >>> thinner = even_strokes(digit)
    >>> np.argwhere(thinner > 0.5)[[0, -1]].tolist()   # rows 11-87, columns 25-33: 9 wide, 77 long, 2.3 px in 20
    [[11, 25], [87, 33]]
    """
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    if rows.size == 0:
        raise ValueError("the image has no ink to even out")
    longer = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    current = stroke_width(digit)
    # Taking c pixels off the width also takes c off the length: solve (current - c) / (longer - c) = width / box.
    change = round((current - width * longer / box) / (1 - width / box))  # below 0: pixels to add
    change = int(min(change, current / 2))  # thinning by more than half would break strokes apart
    if change > 0:
        return -_max_filter(_max_filter(-digit, change + 1, axis=0), change + 1, axis=1)
    if change < 0:
        return _max_filter(_max_filter(digit, 1 - change, axis=0), 1 - change, axis=1)
    return digit.astype(np.float32)


def ink_on_black(gray: np.ndarray) -> np.ndarray:
    """Make the ink bright on black, as in MNIST, with the paper and its shadows removed.

    Dark ink on light paper (judged by the border) is inverted, the paper under the ink
    (``paper_brightness``, a window of a sixth of the image; on even paper, three times the
    strokes' width if that is wider and leaves ink) is subtracted, and the rest
    is rescaled so the ink peaks at 1; faint pixels and the paper's noise become 0.

    Copy along: ``paper_brightness``, ``stroke_width``, ``_box_mean``.

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
    smooth = _box_mean(_box_mean(inverted, blur, axis=0), blur, axis=1)
    base = max(3, min(gray.shape) // 6)
    strokes = stroke_width(smooth - float(np.median(smooth)))  # a first guess, before the paper is known
    wide = min(min(gray.shape), round(3 * strokes))  # an opening this wide leaves such strokes whole
    even_paper = float(np.subtract(*np.percentile(border, [95, 5]))) < MIN_CONTRAST  # no shadow or light across it
    for window in (wide, base) if even_paper and wide > base else (base,):  # the wide one, unless it leaves no ink
        ink = smooth - paper_brightness(smooth, window=window)
        peak = float(np.percentile(ink, 99.9))
        middle = float(np.median(ink))
        noise_floor = middle + 6 * 1.4826 * float(np.median(np.abs(ink - middle)))  # 6 robust sigmas of the paper
        scaled = np.clip(ink / max(peak, MIN_CONTRAST), 0, 1)
        scaled[ink < max(INK_THRESHOLD * peak, noise_floor)] = 0
        if peak >= MIN_CONTRAST and scaled.any():
            return scaled.astype(np.float32)
    raise ValueError(
        f"the image has no visible ink: the brightest strokes stand {peak:.2f} above the paper "
        f"(needs {MIN_CONTRAST}, and above the paper's noise); is it blank, or the photo too dark or washed out?"
    )


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

    Shrunk to ``WORKING_SIZE`` pixels on its shorter side, grayscale, ink made bright on black
    and the paper removed, strokes thinned or thickened to MNIST's width, cropped to the digit,
    fitted into 20x20 and centred by mass in 28x28, scaled so the brightest pixel is 1. Feed
    ``image.reshape(1, 784)`` to a dense model, ``image[None, ..., None]`` to a convnet.

    Copy along: ``read_image``, ``ink_on_black``, ``even_strokes``, ``center_by_mass``.

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
    digit = center_by_mass(even_strokes(ink_on_black(read_image(source, shorter_side=WORKING_SIZE))))
    return digit / digit.max()
