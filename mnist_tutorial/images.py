"""Prepare a photo of your own handwritten digit the way MNIST's digits were made.

MNIST digits are bright ink on black, fitted into a 20x20 box keeping their
aspect ratio, and centred by their centre of mass in a 28x28 field; a plain
resize of a photo to 28x28 misses every one of these steps.

To try ``prepare_image`` on more than a few photos, ``render_photos`` turns MNIST
digits, real handwriting, into photos of a digit on paper under the conditions real
photos vary in (``PHOTO_CONDITIONS``): the same photos on every run.
"""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

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
#: How ``read_image`` turns a JPEG upright by its EXIF Orientation, 1 to 8: (mirror it left to right first?, then
#: quarter turns anticlockwise). A phone stores the pixels as the sensor saw them: a portrait taken upright is 6 or 8.
EXIF_ORIENTATIONS = {1: (False, 0), 2: (True, 0), 3: (False, 2), 4: (True, 2),
                     5: (True, 1), 6: (False, 3), 7: (True, 3), 8: (False, 1)}
#: What each photo ``render_photos`` makes varies, one condition per photo, in turn.
PHOTO_CONDITIONS = (
    "plain",
    "ink and paper colour",
    "pen width",
    "uneven light",
    "shadow",
    "blur",
    "sensor noise",
    "jpeg",
    "rotation",
    "off centre",
    "scale",
    "tight margins",
    "ruled lines",
    "grid",
    "light ink on dark",
)


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
    in [0, 1]; transparent pixels count as white paper. A JPEG is turned upright as its EXIF
    Orientation says (``EXIF_ORIENTATIONS``), as a photo viewer shows it.

    Copy along: ``_decode``, ``_max_pixel_value``, ``_shrink``, ``_to_gray``.

    Args:
        source: the file's path, or the image as an array.
        shorter_side: if given, first shrink the image (area averaging) so that its
            shorter side is at most this many pixels; a JPEG is decoded at about that size.

    Returns:
        The image as (height, width) float32 gray in [0, 1], upright.

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
    max_value = _max_pixel_value(array)
    return _to_gray(_shrink(array, shorter_side) / np.float32(max_value), name="image")


def _decode(path: Path, shorter_side: int | None) -> np.ndarray:
    """Decode an image file to float32 (h, w, channels) in [0, 1]; a large JPEG at 1/2, 1/4 or 1/8 of its size.

    A JPEG is turned upright as its EXIF Orientation tag (0x0112), which Pillow reads, says; TensorFlow ignores it.
    """
    content = path.read_bytes()
    try:
        if not tf.io.is_jpeg(content):
            return tf.io.decode_image(content, dtype=tf.float32, expand_animations=False).numpy()
        ratio = int(min(tf.io.extract_jpeg_shape(content)[:2])) // shorter_side if shorter_side else 1
        ratio = max([r for r in (1, 2, 4, 8) if r <= ratio] or [1])
        pixels = tf.image.convert_image_dtype(tf.io.decode_jpeg(content, ratio=ratio), tf.float32).numpy()
    except (tf.errors.InvalidArgumentError, ValueError) as error:
        raise ValueError(f"{path}: not an image TensorFlow can decode (PNG, JPEG, BMP or GIF)") from error
    with Image.open(io.BytesIO(content)) as image:
        mirror, turns = EXIF_ORIENTATIONS.get(image.getexif().get(0x0112), (False, 0))
    return np.rot90(pixels[:, ::-1] if mirror else pixels, turns)


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


def _max_pixel_value(array: np.ndarray) -> int:
    """Return the largest pixel value an image array's type holds, white (255 for uint8, 65535 for uint16, else 1).

    Raises ValueError for another type, or floats outside [0, 1].
    """
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

    Args:
        ink: (h, w) gray pixels, the ink brighter than the paper.
        window: the side of the square the minimum and maximum are taken over, in pixels.

    Returns:
        The paper's brightness under each pixel, (h, w) float32.

    >>> paper_brightness(np.array([[0.1, 0.9, 0.1, 0.2, 0.2]], np.float32), window=3).round(2)
    array([[0.1, 0.1, 0.1, 0.2, 0.2]], dtype=float32)
    """
    eroded = -_max_filter(-ink, window)  # the minimum over each square
    return _max_filter(eroded, window)


def _max_filter(image: np.ndarray, window: int) -> np.ndarray:
    """The maximum of (h, w) pixels over a centred ``window`` square, as ``max_pool2d(padding="SAME")`` takes it; float32.

    Down the columns, then along the rows. ``tf.nn.dilation2d`` gives the same to the bit, but made
    ``prepare_image`` seven times slower on notebook 05's photos; ``max_pool2d`` and PIL's rank filters slower still.

    Copy along: ``_running_max``.
    """
    return _running_max(_running_max(image.astype(np.float32), window).T, window).T


def _running_max(image: np.ndarray, window: int) -> np.ndarray:
    """The maximum over a centred ``window`` down each column: the maximum of two shifted copies, doubling the window."""
    before = (window - 1) // 2
    out = np.pad(image, ((before, window - 1 - before), (0, 0)), constant_values=-np.inf)
    span = 1
    while span < window:  # a window of w costs log2(w) passes
        step = min(span, window - span)
        out = np.maximum(out[:-step], out[step:])
        span += step
    return out


def _box_mean(image: np.ndarray, size: int) -> np.ndarray:
    """The mean of (h, w) pixels over a centred ``size`` square (odd), of the pixels inside the image.

    Copy along: ``_running_mean``.
    """
    return _running_mean(_running_mean(image, size).T, size).T


def _running_mean(image: np.ndarray, size: int) -> np.ndarray:
    """The mean over a centred ``size`` down each column, of the pixels inside the image."""
    half, length = size // 2, image.shape[0]
    total, count = np.pad(image, ((half, half), (0, 0))), np.pad(np.ones_like(image), ((half, half), (0, 0)))
    return (sum(total[offset:offset + length] for offset in range(size))
            / sum(count[offset:offset + length] for offset in range(size)))


def stroke_width(ink: np.ndarray) -> float:
    """Estimate how wide bright-on-black strokes are, in pixels: the ink's area over half its outline.

    A stroke l pixels long and w wide covers l*w pixels inside an outline of about 2*l.
    Ink is what is brighter than half the brightest pixel.

    Args:
        ink: (h, w) pixels, the ink bright on black.

    Returns:
        The strokes' width in pixels; 0.0 for an image with no ink.

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

    Args:
        digit: (h, w) pixels, the ink bright on black.
        box: the side of the square the digit will be fitted into (``center_by_mass``'s ``box``).
        width: the strokes' width wanted in that box, in pixels.

    Returns:
        The digit with even strokes, (h, w) float32.

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
    if change > 0:  # a grey erosion: the minimum over each square change + 1 wide
        return -_max_filter(-digit, change + 1)
    if change < 0:  # a dilation: the maximum
        return _max_filter(digit, 1 - change)
    return digit.astype(np.float32)


def ink_on_black(gray: np.ndarray) -> np.ndarray:
    """Make the ink bright on black, as in MNIST, with the paper and its shadows removed.

    Dark ink on light paper (judged by the border) is inverted, the paper under the ink
    (``paper_brightness``, a window of a sixth of the image; on even paper, three times the
    strokes' width if that is wider and leaves ink) is subtracted, and the rest
    is rescaled so the ink peaks at 1; faint pixels and the paper's noise become 0.

    Copy along: ``paper_brightness``, ``stroke_width``, ``_box_mean``.

    Args:
        gray: (h, w) gray pixels in [0, 1], as ``read_image`` gives them.

    Returns:
        The ink in [0, 1] on 0, (h, w) float32.

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
    smooth = _box_mean(inverted, blur)
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

    Args:
        digit: (h, w) pixels, the ink bright on black.
        size: the side of the square returned.
        box: the side of the square the ink is fitted into.

    Returns:
        A (size, size) float32 array.

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


def _photo_ink(digit: np.ndarray, height: int, width_factor: float = 1.0) -> np.ndarray:
    """The digit's ink, enlarged smoothly to ``height`` pixels square, as coverage in [0, 1]; pen width scaled.

    Copy along: ``_max_filter``.
    """
    ink = tf.image.resize(digit[..., None].astype(np.float32) / 255, (height, height), method="bicubic")
    ink = np.clip(ink.numpy()[..., 0], 0, 1)
    if width_factor != 1.0:  # a wider pen: dilate; a finer one: erode (a grey max or min filter)
        size = max(3, int(round(abs(width_factor - 1) * height / 14)) | 1)
        sign = 1 if width_factor > 1 else -1
        ink = sign * _max_filter(sign * ink, size)  # max_pool2d's result to the bit, without its 0.1 s a photo here
    return np.clip((ink - 0.25) / 0.5, 0, 1)  # a pen's ink is solid, not MNIST's soft edges


def _rotate_ink(ink: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the ink about its centre (bilinear), keeping its size."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cy, cx = (ink.shape[0] - 1) / 2, (ink.shape[1] - 1) / 2
    # keras' transform maps each output pixel (x, y) to the input (a0 x + a1 y + a2, b0 x + b1 y + b2)
    transform = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0, 0]
    rotated = keras.ops.image.affine_transform(ink[None, ..., None], np.array([transform], np.float32),
                                               interpolation="bilinear", fill_mode="constant")
    return keras.ops.convert_to_numpy(rotated)[0, ..., 0]


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of (h, w, channels) 3 ``sigma`` wide each side, with reflected edges (keras' own pads with 0).

    Blurred down the columns, then along the rows: the same blur as in one square kernel, many times faster.
    """
    radius = max(1, int(3 * sigma))
    out = np.pad(image, [(radius, radius), (radius, radius), (0, 0)], mode="reflect")
    for size in ((2 * radius + 1, 1), (1, 2 * radius + 1)):
        out = keras.ops.image.gaussian_blur(out, size, (sigma, sigma))
    return keras.ops.convert_to_numpy(out)[radius:-radius, radius:-radius]


def _place_ink(ink: np.ndarray, height: int, width: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """Place square ink on a ``height`` x ``width`` page, up to ``spread`` of the page off centre; cut at its edges."""
    size = len(ink)
    top = int(np.clip((height - size) / 2 + rng.uniform(-spread, spread) * height,
                      min(0, height - size), max(0, height - size)))
    left = int(np.clip((width - size) / 2 + rng.uniform(-spread, spread) * width,
                       min(0, width - size), max(0, width - size)))
    coverage = np.zeros((height, width), np.float32)
    rows = slice(max(top, 0), min(top + size, height))
    cols = slice(max(left, 0), min(left + size, width))
    coverage[rows, cols] = ink[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]
    return coverage


def _paper(height: int, width: int, condition: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The blank page as (height, width, 3) float32 RGB, printed lines and all, and the ink's colour."""
    paper, ink_colour = np.array([0.93, 0.93, 0.91]), np.array([0.08, 0.08, 0.12])
    if condition == "ink and paper colour":
        paper = rng.choice([[0.98, 0.92, 0.5], [0.75, 0.85, 0.95], [0.95, 0.8, 0.8], [0.8, 0.8, 0.78]])
        ink_colour = rng.choice([[0.1, 0.15, 0.55], [0.6, 0.1, 0.1], [0.1, 0.4, 0.15], [0.4, 0.4, 0.42]])
    if condition == "light ink on dark":
        paper = rng.choice([[0.16, 0.22, 0.19], [0.1, 0.1, 0.12]])
        ink_colour = np.array([0.9, 0.9, 0.88])
    image = np.ones((height, width, 3), np.float32) * np.asarray(paper, np.float32)
    if condition in ("ruled lines", "grid"):  # printed lines under the ink
        spacing = int(height * rng.uniform(0.12, 0.2))
        line = np.array([0.55, 0.65, 0.85], np.float32)
        thickness = max(1, height // 250)
        offset = int(rng.integers(0, spacing))
        for row in range(offset, height, spacing):
            image[row : row + thickness] = line
        if condition == "grid":
            for col in range(offset, width, spacing):
                image[:, col : col + thickness] = line
    return image, np.asarray(ink_colour, np.float32)


def _light_and_lens(image: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """What the light and the camera do to the page: uneven light, a shadow, blur or sensor noise, by the condition.

    Copy along: ``_gaussian_blur``.
    """
    height, width = image.shape[:2]
    if condition == "uneven light":  # light falling off across the page
        angle = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:height, 0:width] / max(height, width)
        gradient = (np.cos(angle) * x + np.sin(angle) * y)
        gradient = (gradient - gradient.min()) / (np.ptp(gradient) or 1)
        image = image * (1 - rng.uniform(0.35, 0.55) * gradient[..., None])
    if condition == "shadow":  # a soft-edged shadow across part of the page, over the digit
        angle = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:height, 0:width]
        distance = np.cos(angle) * (x - width * rng.uniform(0.3, 0.7)) + np.sin(angle) * (y - height * rng.uniform(0.3, 0.7))
        edge = 1 / (1 + np.exp(-distance / (height * 0.03)))
        image = image * (1 - rng.uniform(0.35, 0.55) * edge[..., None])
    if condition == "blur":
        image = _gaussian_blur(image, sigma=height * rng.uniform(0.006, 0.012))
    if condition == "sensor noise":
        image = image + rng.normal(0, rng.uniform(0.06, 0.1), image.shape).astype(np.float32)
    return image


def render_photo(digit: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """Render one 28x28 MNIST digit as an RGB photo of it written on paper, under one condition.

    The digit is enlarged and written in solid ink on paper of a random size; the condition
    changes one thing, as real photos vary (see ``PHOTO_CONDITIONS``), at a strength drawn from ``rng``.

    Copy along: ``_photo_ink``, ``_rotate_ink``, ``_place_ink``, ``_paper``, ``_light_and_lens``.

    Args:
        digit: the (28, 28) uint8 MNIST image, ink bright on black.
        condition: one of ``PHOTO_CONDITIONS``.
        rng: where the photo's sizes, colours and strengths come from.

    Returns:
        A (height, width, 3) uint8 photo, between 300x400 and 600x800 pixels.

    Raises:
        ValueError: for a condition not in ``PHOTO_CONDITIONS``.

    >>> photo = render_photo(np.eye(28, dtype=np.uint8) * 255, "plain", np.random.default_rng(0))
    >>> photo.dtype, photo.ndim, photo.shape[2]
    (dtype('uint8'), 3, 3)
    """
    if condition not in PHOTO_CONDITIONS:
        raise ValueError(f"condition must be one of {', '.join(PHOTO_CONDITIONS)}, got {condition!r}")
    height = int(rng.integers(300, 601))
    width = int(round(height * rng.uniform(1.2, 1.4)))
    digit_size = int(height * rng.uniform(0.45, 0.65))  # the 28x28 field, digit and its MNIST margin
    if condition == "scale":
        digit_size = int(height * rng.choice([rng.uniform(0.22, 0.3), rng.uniform(0.8, 0.9)]))
    if condition == "tight margins":
        digit_size = int(height * rng.uniform(1.05, 1.15))  # MNIST's 4-pixel margin cut away: the digit nearly touches
    width_factor = rng.choice([rng.uniform(0.55, 0.7), rng.uniform(1.6, 2.2)]) if condition == "pen width" else 1.0
    ink = _photo_ink(digit, digit_size, width_factor)
    if condition == "rotation":
        ink = _rotate_ink(ink, rng.choice([-1, 1]) * rng.uniform(8, 15))
    # Placed centred up to a twentieth of the page each way, or far off centre.
    coverage = _place_ink(ink, height, width, 0.3 if condition == "off centre" else 0.05, rng)[..., None]
    image, ink_colour = _paper(height, width, condition, rng)
    image = _light_and_lens(image * (1 - coverage) + ink_colour * coverage, condition, rng)
    photo = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    if condition == "jpeg":
        photo = tf.io.decode_jpeg(tf.io.encode_jpeg(photo, quality=int(rng.integers(10, 25)))).numpy()
    return photo


def render_photos(digits: np.ndarray, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Render MNIST digits as photos on paper, one condition of ``PHOTO_CONDITIONS`` each, in turn.

    The same digits and seed give the same photos on every run. Nothing is written to disk.

    Copy along: ``render_photo``.

    Args:
        digits: (n, 28, 28) uint8 MNIST images, ink bright on black.
        seed: seeds the generator that draws every photo's sizes, colours and strengths.

    Returns:
        The n photos, (height, width, 3) uint8 arrays of different sizes, and each one's condition.

    Raises:
        ValueError: if ``digits`` is not a stack of 2-D images.

    >>> photos, conditions = render_photos(np.zeros((2, 28, 28), np.uint8))
    >>> len(photos), conditions
    (2, ['plain', 'ink and paper colour'])
    """
    digits = np.asarray(digits)
    if digits.ndim != 3:
        raise ValueError(f"digits must have shape (n, height, width), got {digits.shape}")
    rng = np.random.default_rng(seed)
    conditions = [PHOTO_CONDITIONS[index % len(PHOTO_CONDITIONS)] for index in range(len(digits))]
    return [render_photo(digit, condition, rng) for digit, condition in zip(digits, conditions)], conditions
