"""A pad in the notebook to draw a digit on, read by a trained model as you draw.

The front end (``pad.js`` beside this file) is a canvas: it sends the drawing's pixels,
one byte of ink per pixel, and shows what comes back. Everything else happens here, in
the kernel: the drawing is prepared by ``prepare_image``, as a photo is, and read by the model.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np
import traitlets

from mnist_tutorial.images import prepare_image

#: The canvas is this many pixels wide and high.
CANVAS = 280
#: The pen's width in canvas pixels: a digit drawn across most of the canvas gets MNIST's strokes, 2 to 3 pixels of 28.
PEN_WIDTH = 22
#: What the pad says when it has no digit to read.
DRAW_A_DIGIT = "draw a digit"


def render_strokes(strokes: list, size: int = CANVAS, pen_width: float = PEN_WIDTH) -> np.ndarray:
    """Draw stroke paths as the pad's canvas does: round pen, antialiased edges, one byte of ink per pixel.

    Args:
        strokes: a list of strokes, each a list of ``[x, y]`` points in canvas pixels
            (x to the right, y down), as the pointer went.
        size: the canvas's width and height in pixels.
        pen_width: the pen's width in pixels.

    Returns:
        A (size, size) uint8 array: 0 is bare canvas, 255 full ink.

    Raises:
        ValueError: naming the stroke that is not a list of [x, y] points.

    >>> ink = render_strokes([[[10, 20], [30, 20]]], size=40, pen_width=4)
    >>> ink[20, 10:31].min(), ink[20, 5], ink[30, 20]
    (np.uint8(255), np.uint8(0), np.uint8(0))
    """
    ink = np.zeros((size, size), np.float32)
    radius = pen_width / 2
    for number, stroke in enumerate(strokes):
        points = np.asarray(stroke, dtype=np.float32) if len(stroke) else np.zeros((0, 2), np.float32)
        if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0 or not np.isfinite(points).all():
            raise ValueError(f"stroke {number}: expected a list of [x, y] points, got array of shape {points.shape}")
        for start, end in zip(points, points[1:] if len(points) > 1 else points):
            low = np.floor(np.minimum(start, end) - radius - 1).clip(0, size).astype(int)
            high = np.ceil(np.maximum(start, end) + radius + 1).clip(0, size).astype(int)
            ys, xs = np.mgrid[low[1] : high[1], low[0] : high[0]] + np.float32(0.5)  # pixel centres
            along = end - start
            t = np.clip(((xs - start[0]) * along[0] + (ys - start[1]) * along[1]) / max(float(along @ along), 1e-9), 0, 1)
            distance = np.hypot(xs - start[0] - t * along[0], ys - start[1] - t * along[1])
            window = ink[low[1] : high[1], low[0] : high[0]]
            np.maximum(window, np.clip(radius - distance + 0.5, 0, 1), out=window)
    return np.round(ink * 255).astype(np.uint8)


def pixels_from_message(content: dict, buffers: list) -> np.ndarray:
    """Turn the front end's message (``width``, ``height``, and one buffer of bytes) into a (height, width) uint8 array.

    Raises:
        ValueError: if the message is not a drawing of that shape, saying what came instead.

    >>> pixels_from_message({"width": 3, "height": 2}, [bytes([0, 255, 0, 0, 255, 0])])
    array([[  0, 255,   0],
           [  0, 255,   0]], dtype=uint8)
    """
    width, height = content.get("width"), content.get("height")
    if not all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in (width, height)):
        raise ValueError(f"the pad's message needs a positive integer width and height, got {width!r} and {height!r}")
    if len(buffers) != 1 or not isinstance(buffers[0], (bytes, bytearray, memoryview)):
        raise ValueError(f"the pad's message needs one buffer of pixel bytes, got {len(buffers)} buffers")
    data = memoryview(buffers[0]).cast("B")
    if data.nbytes != width * height:
        raise ValueError(f"the pad sent {data.nbytes:,} bytes for a {width}x{height} drawing, "
                         f"which needs {width * height:,} (one byte of ink per pixel)")
    return np.frombuffer(data, np.uint8).reshape(height, width).copy()


def read_drawing(pixels: np.ndarray, pen_width: float = PEN_WIDTH) -> np.ndarray | None:
    """Prepare a drawing (bright ink on a dark canvas) with ``prepare_image``; None if it holds too little ink for a digit.

    A drawing counts as a digit once its ink spans at least two pen widths in one direction:
    a dot or a short tick does not.

    Copy along: ``prepare_image``, from the images module.

    Args:
        pixels: a 2-D uint8 array, 0 for bare canvas and 255 for full ink.
        pen_width: the pen's width in pixels.

    Returns:
        The (28, 28) float32 image the model is given, or None.

    Raises:
        ValueError: if ``pixels`` is not a 2-D uint8 array.

    >>> drawing = np.zeros((280, 280), np.uint8); drawing[40:240, 130:150] = 255   # a "1"
    >>> read_drawing(drawing).shape, read_drawing(drawing[:40, :40])
    ((28, 28), None)
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ValueError(f"a drawing must be a 2-D uint8 array (height, width), got {pixels.dtype} of shape {pixels.shape}")
    rows, cols = np.flatnonzero(pixels.any(axis=1)), np.flatnonzero(pixels.any(axis=0))
    if rows.size == 0 or max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 < 2 * pen_width:
        return None
    return prepare_image(pixels)


class DigitPad(anywidget.AnyWidget):
    """A canvas to draw a digit on with the mouse, a pen or a finger, and ``model``'s reading of it.

    Beside the canvas the pad shows a Clear button, the 28x28 image the model is given
    (``read_drawing``), and the model's ten probabilities with its guess. It reads the
    drawing while you draw, at most once per animation frame and never more than one
    reading at a time. Without a digit to read it says "draw a digit". ``draw`` replays
    stroke paths through the same path, without a browser.

    Copy along: ``read_drawing``, ``render_strokes``, ``pixels_from_message``, and the files
    ``pad.js`` and ``pad.css`` beside this one.

    Args:
        model: a trained Keras classifier of 28x28 digits: of (28, 28, 1) images or of 784 pixels.

    >>> import keras
    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    >>> pad = DigitPad(model)
    >>> pad
    DigitPad(draw a digit)
    >>> guess = pad.draw([[[140, 40], [140, 240]]])   # a "1", as a mouse would draw it
    >>> guess in range(10), len(pad.probabilities), pad.message.startswith(f"{guess} (")
    (True, 10, True)
    """

    _esm = Path(__file__).with_name("pad.js")
    _css = Path(__file__).with_name("pad.css")
    size = traitlets.Int(CANVAS).tag(sync=True)
    pen_width = traitlets.Float(PEN_WIDTH).tag(sync=True)
    strokes = traitlets.List().tag(sync=True)  # replayed strokes, for the canvas to show
    image = traitlets.List().tag(sync=True)  # the 784 pixels the model was given, 0-255; [] without a digit
    probabilities = traitlets.List().tag(sync=True)  # the model's ten probabilities; [] without a digit
    guess = traitlets.Int(None, allow_none=True).tag(sync=True)
    message = traitlets.Unicode(DRAW_A_DIGIT).tag(sync=True)
    answered = traitlets.Int(0).tag(sync=True)  # counts the readings, so the canvas knows one arrived

    def __init__(self, model, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.on_msg(self._on_message)

    def __repr__(self) -> str:
        return f"DigitPad({self.message})"

    def read(self, pixels: np.ndarray) -> int | None:
        """Read a drawing (a 2-D uint8 array, as ``read_drawing`` takes): show it and the model's guess; return the guess."""
        image = read_drawing(pixels, self.pen_width)
        if image is None:
            self._show([], [], None, DRAW_A_DIGIT)
            return None
        batch = image.reshape((1, *self.model.input_shape[1:]))
        probabilities = np.asarray(self.model(batch, training=False))[0]
        guess = int(probabilities.argmax())
        self._show(np.round(image * 255).astype(int).ravel().tolist(), probabilities.round(4).tolist(), guess,
                   f"{guess} ({probabilities[guess]:.1%})")
        return guess

    def draw(self, strokes: list) -> int | None:
        """Replay stroke paths (as ``render_strokes`` takes) on the pad, read them, and return the guess."""
        pixels = render_strokes(strokes, self.size, self.pen_width)
        self.strokes = [[[float(x), float(y)] for x, y in stroke] for stroke in strokes]
        return self.read(pixels)

    def clear(self) -> None:
        """Empty the pad, as its Clear button does."""
        self.strokes = []
        self.read(np.zeros((self.size, self.size), np.uint8))

    def _show(self, image: list, probabilities: list, guess: int | None, message: str) -> None:
        with self.hold_sync():  # one update: the canvas sees the new reading whole
            self.image, self.probabilities, self.guess, self.message = image, probabilities, guess, message
            self.answered += 1

    def _on_message(self, _, content: dict, buffers: list) -> None:
        """A drawing from the canvas. Bad data is answered with a message in the pad, which stays usable."""
        if not isinstance(content, dict) or content.get("type") != "pixels":
            return
        try:
            self.read(pixels_from_message(content, buffers))
        except ValueError as error:
            self._show([], [], None, f"could not read the drawing: {error}")
