"""How well the digit pad's Python path reads digits drawn on it: MNIST test digits redrawn as pad drawings.

Each test digit is drawn the way a reader would draw it on the pad's 280x280 canvas: upscaled
so that its 20x20 box spans a given part of the canvas (200 pixels, as a digit drawn across
most of it; or 100, a small one, off centre), thickened by a round pen (a disc dilation of
the upscaled strokes), and sent through the pad's pixel format (the bytes of the front end's
message, ``pixels_from_message``), then read by ``read_drawing`` and notebook 05's convnet,
trained as the notebook trains it from seed 0.

It prints the accuracy for every pen and size, with the stroke width that ``read_drawing``
hands the model (pixels at 28x28, measured as ink over half the outline; MNIST's own is
measured the same way), so a drop with thick strokes shows; and the same without the
``even_strokes`` step of ``prepare_image``, so what that step gains shows.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/pad_accuracy.py [--digits 1000] [--seed 0]
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse

import numpy as np
import tensorflow as tf

from mnist_tutorial.data import load_mnist
from mnist_tutorial.images import stroke_width
from mnist_tutorial.pad import CANVAS, pixels_from_message, read_drawing
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.tools.recipes import CONVNET, train_as_notebook
from photo_accuracy import without_even_strokes  # benchmarks/photo_accuracy.py, beside this script

#: (how many canvas pixels the digit's 20x20 box spans, pen radius added in canvas pixels, where its box starts)
DRAWINGS = {
    "large, MNIST's strokes": (200, 0, None),
    "large, pen +1 px": (200, 5, None),
    "large, pen +2 px": (200, 10, None),
    "large, pen +3 px": (200, 15, None),
    "large, pen +4 px": (200, 20, None),
    "small, MNIST's strokes": (100, 0, (20, 30)),
    "small, pen +1 px": (100, 3, (20, 30)),
    "small, pen +2 px": (100, 5, (20, 30)),
    "small, pen +3 px": (100, 8, (20, 30)),
}


def dilate(ink: np.ndarray, radius: int) -> np.ndarray:
    """Grow bool (n, h, w) ink by about ``radius`` pixels: 3x3 squares and crosses in turn, an octagonal pen."""
    for step in range(radius):
        padded = np.pad(ink, ((0, 0), (1, 1), (1, 1)))
        h, w = ink.shape[1:]
        cross = ink | padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
        if step % 2:
            cross = cross | padded[:, :-2, :-2] | padded[:, :-2, 2:] | padded[:, 2:, :-2] | padded[:, 2:, 2:]
        ink = cross[:, :h, :w]
    return ink


def drawings(digits: np.ndarray, span: int, radius: int, corner: tuple[int, int] | None) -> np.ndarray:
    """Redraw 28x28 digits as (n, CANVAS, CANVAS) uint8 pad drawings: upscaled, thickened, antialiased."""
    side = round(28 * span / 20)  # the whole 28x28 field, so its 20x20 box spans ``span``
    big = tf.image.resize(scale(digits)[..., None], (2 * side, 2 * side), method="bilinear").numpy()[..., 0] > 0.5
    big = dilate(big, 2 * radius)  # at twice the size, then averaged down: antialiased edges, as a canvas draws them
    ink = tf.image.resize(big[..., None].astype(np.float32), (side, side), method="area").numpy()[..., 0]
    top, left = corner if corner is not None else ((CANVAS - side) // 2, (CANVAS - side) // 2)
    canvas = np.zeros((len(digits), CANVAS, CANVAS), np.uint8)
    canvas[:, top : top + side, left : left + side] = np.round(255 * ink).astype(np.uint8)
    return canvas


def median_stroke_width(images: np.ndarray) -> float:
    """The median of ``stroke_width`` over (n, 28, 28) images."""
    return float(np.median([stroke_width(image) for image in images]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=1000, help="how many test digits to redraw (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the convnet's seed (default 0, the notebook's)")
    arguments = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = load_mnist()
    convnet = train_as_notebook(CONVNET, arguments.seed, x_train, y_train)
    digits, truth = x_test[: arguments.digits], y_test[: arguments.digits]
    mnist = convnet.predict(scale(digits)[..., None], verbose=0).argmax(axis=1)
    print(f"convnet, seed {arguments.seed}: {np.mean(mnist == truth):.2%} of the first {len(digits)} test digits "
          f"as MNIST gives them, stroke width {median_stroke_width(scale(digits)):.2f} px")
    print(f"\n{'drawing':24s} {'stroke px':>9s} {'accuracy':>8s} {'unread':>6s}   without even_strokes: "
          f"{'stroke px':>9s} {'accuracy':>8s}")
    for name, (span, radius, corner) in DRAWINGS.items():
        read, shown, unevened = [], [], []
        for chunk in range(0, len(digits), 100):
            for canvas in drawings(digits[chunk : chunk + 100], span, radius, corner):
                pixels = pixels_from_message({"type": "pixels", "width": CANVAS, "height": CANVAS}, [canvas.tobytes()])
                try:
                    image = read_drawing(pixels)
                except ValueError:  # no ink left to read once the paper is removed: counted as unread
                    image = None
                read.append(image is not None)
                shown.append(image if image is not None else np.zeros((28, 28), np.float32))
                unevened.append(without_even_strokes(pixels) if image is not None else shown[-1])
        columns = []
        for images in (np.stack(shown), np.stack(unevened)):
            predicted = convnet.predict(images[..., None], verbose=0).argmax(axis=1)
            columns.append((median_stroke_width(images), np.mean((predicted == truth) & np.array(read))))
        (width, accuracy), (uneven_width, uneven_accuracy) = columns
        print(f"{name:24s} {width:9.2f} {accuracy:8.2%} {len(read) - sum(read):6d}   {'':21s} "
              f"{uneven_width:9.2f} {uneven_accuracy:8.2%}", flush=True)


if __name__ == "__main__":
    main()
