"""Render MNIST digits, real handwriting, as photos of a digit on paper: the evaluation set of ``prepare_image``.

Each photo shows one 28x28 MNIST digit, enlarged and written onto paper, under one
condition that real photos vary in (``CONDITIONS``), at a strength drawn from a
seeded generator: the same photos on every run. Nothing is written to disk.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

#: What each photo varies, one condition per photo, in turn.
CONDITIONS = (
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


def _ink(digit: np.ndarray, height: int, width_factor: float = 1.0) -> np.ndarray:
    """The digit's ink, enlarged smoothly to ``height`` pixels square, as coverage in [0, 1]; pen width scaled."""
    ink = tf.image.resize(digit[..., None].astype(np.float32) / 255, (height, height), method="bicubic")
    ink = tf.clip_by_value(ink, 0, 1)
    if width_factor != 1.0:  # a wider pen: dilate; a finer one: erode (a grey max or min filter)
        size = max(3, int(round(abs(width_factor - 1) * height / 14)) | 1)
        sign = 1 if width_factor > 1 else -1
        ink = sign * tf.nn.max_pool2d(sign * ink[None], size, 1, "SAME")[0]
    ink = tf.clip_by_value((ink - 0.25) / 0.5, 0, 1)  # a pen's ink is solid, not MNIST's soft edges
    return ink.numpy()[..., 0]


def _rotate(ink: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the ink about its centre (bilinear), keeping its size."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cy, cx = (ink.shape[0] - 1) / 2, (ink.shape[1] - 1) / 2
    # keras' transform maps each output pixel (x, y) to the input (a0 x + a1 y + a2, b0 x + b1 y + b2)
    transform = [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0, 0]
    rotated = keras.ops.image.affine_transform(ink[None, ..., None], np.array([transform], np.float32),
                                               interpolation="bilinear", fill_mode="constant")
    return keras.ops.convert_to_numpy(rotated)[0, ..., 0]


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of (h, w, channels), separable, with reflected edges."""
    radius = max(1, int(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps = (taps / taps.sum()).astype(np.float32)
    out = image
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in range(3)], mode="reflect")
        out = sum(w * np.take(padded, np.arange(i, i + out.shape[axis]), axis=axis) for i, w in enumerate(taps))
    return out


def render_photo(digit: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """Render one 28x28 uint8 MNIST digit as a uint8 RGB photo of it on paper, under one condition.

    Args:
        digit: the MNIST image, ink bright on black.
        condition: one of ``CONDITIONS``.
        rng: where the photo's sizes, colours and strengths come from.

    Returns:
        A (height, width, 3) uint8 photo, between 300x400 and 600x800 pixels.

    Raises:
        ValueError: for a condition not in ``CONDITIONS``.

    >>> photo = render_photo(np.eye(28, dtype=np.uint8) * 255, "plain", np.random.default_rng(0))
    >>> photo.dtype, photo.ndim, photo.shape[2]
    (dtype('uint8'), 3, 3)
    """
    if condition not in CONDITIONS:
        raise ValueError(f"condition must be one of {', '.join(CONDITIONS)}, got {condition!r}")
    height = int(rng.integers(300, 601))
    width = int(round(height * rng.uniform(1.2, 1.4)))
    digit_size = int(height * rng.uniform(0.45, 0.65))  # the 28x28 field, digit and its MNIST margin
    if condition == "scale":
        digit_size = int(height * rng.choice([rng.uniform(0.22, 0.3), rng.uniform(0.8, 0.9)]))
    if condition == "tight margins":
        digit_size = int(height * rng.uniform(1.05, 1.15))  # MNIST's 4-pixel margin cut away: the digit nearly touches
    width_factor = rng.choice([rng.uniform(0.55, 0.7), rng.uniform(1.6, 2.2)]) if condition == "pen width" else 1.0
    ink = _ink(digit, digit_size, width_factor)
    if condition == "rotation":
        ink = _rotate(ink, rng.choice([-1, 1]) * rng.uniform(8, 15))

    # Place the digit: centred up to a tenth of the frame, or far off centre.
    spread = 0.3 if condition == "off centre" else 0.05
    top = int(np.clip((height - digit_size) / 2 + rng.uniform(-spread, spread) * height,
                      min(0, height - digit_size), max(0, height - digit_size)))
    left = int(np.clip((width - digit_size) / 2 + rng.uniform(-spread, spread) * width,
                       min(0, width - digit_size), max(0, width - digit_size)))
    coverage = np.zeros((height, width), np.float32)
    rows = slice(max(top, 0), min(top + digit_size, height))
    cols = slice(max(left, 0), min(left + digit_size, width))
    coverage[rows, cols] = ink[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left]

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

    image = image * (1 - coverage[..., None]) + np.asarray(ink_colour, np.float32) * coverage[..., None]

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
        image = _blur(image, sigma=height * rng.uniform(0.006, 0.012))
    if condition == "sensor noise":
        image = image + rng.normal(0, rng.uniform(0.06, 0.1), image.shape).astype(np.float32)

    photo = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    if condition == "jpeg":
        photo = tf.io.decode_jpeg(tf.io.encode_jpeg(photo, quality=int(rng.integers(10, 25)))).numpy()
    return photo


def render_photos(digits: np.ndarray, seed: int = 0) -> tuple[list[np.ndarray], list[str]]:
    """Render each digit as a photo, the conditions in turn; return the photos and each one's condition.

    >>> photos, conditions = render_photos(np.zeros((2, 28, 28), np.uint8))
    >>> len(photos), conditions
    (2, ['plain', 'ink and paper colour'])
    """
    rng = np.random.default_rng(seed)
    conditions = [CONDITIONS[index % len(CONDITIONS)] for index in range(len(digits))]
    return [render_photo(digit, condition, rng) for digit, condition in zip(digits, conditions)], conditions
