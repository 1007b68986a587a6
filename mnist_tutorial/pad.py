"""A pad in the notebook to draw a digit on, read by a trained model as you draw.

The front end (``pad.js`` beside this file) is a canvas: it sends the drawing's pixels,
one byte of ink per pixel, and shows what comes back. Everything else happens here, in
the kernel: the model is checked when the pad is built (``check_model``), and the drawing
is prepared by ``prepare_image``, as a photo is, and read by the model.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import anywidget
import keras
import numpy as np
import traitlets

from mnist_tutorial.images import prepare_image

#: The canvas is this many pixels wide and high.
CANVAS = 280
#: The pen's width in canvas pixels: a digit drawn across most of the canvas gets MNIST's strokes, 2 to 3 pixels of 28.
PEN_WIDTH = 22
#: What the pad says when it has no digit to read.
DRAW_A_DIGIT = "draw a digit"
#: The shapes the pad can give a model one digit in, tried in this order; in a batch, (None, 28, 28) and so on.
INPUT_SHAPES = ((28, 28), (28, 28, 1), (784,))
#: What the pad says under its reading when the model's outputs are logits, not probabilities.
LOGITS_NOTE = "the model gives logits: showing their softmax"
#: The names of a softmax activation: Keras' own, and TensorFlow's ``tf.nn.softmax``.
SOFTMAX_NAMES = ("softmax", "softmax_v2")


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


def check_model(model: keras.Model | str | os.PathLike) -> tuple[keras.Model, tuple[int, ...]]:
    """Check that the pad can read digits with ``model``; return it, loaded if it was a path, and the shape it is fed.

    The pad gives a model each digit as one of ``INPUT_SHAPES``: (28, 28), (28, 28, 1) or
    (784,), in a batch of one. A Sequential or functional model declares its input shape;
    a subclassed one is tried on each shape in turn. The model must give ten outputs, one per digit.

    Copy along: ``_feed_shape``.

    Args:
        model: a trained Keras model, or the path (str or ``pathlib.Path``) of one saved with
            ``model.save("name.keras")``, which ``keras.saving.load_model`` loads.

    Returns:
        The model, and the shape of one digit it is given, without the batch axis.

    Raises:
        TypeError: if ``model`` is neither a Keras model nor a path, saying what it is.
        FileNotFoundError: naming the path, if there is no file there.
        ValueError: naming the model's input shape, if it takes none of the pad's shapes;
            naming its output shape, if that is not ten outputs; if the model is not built.

    >>> convnet = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    >>> check_model(convnet)[1]
    (28, 28, 1)
    >>> check_model(keras.Sequential([keras.Input((784,)), keras.layers.Dense(5)]))
    Traceback (most recent call last):
    ValueError: DigitPad shows ten probabilities, one per digit: ... this model's output shape is (None, 5)
    """
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.exists():
            raise FileNotFoundError(f"no saved model at {path}: DigitPad loads a model saved with model.save('name.keras')")
        model = keras.saving.load_model(path, compile=False)
    if not isinstance(model, keras.Model):
        raise TypeError(f"DigitPad needs a trained Keras model (a keras.Model), or the path of one saved as .keras; "
                        f"got {type(model).__name__}: {model!r:.80}")
    if not model.built:
        raise ValueError(f"the model {model.name!r} is not built yet: "
                         "train it (or call it once) before giving it to DigitPad")
    shape, output = _feed_shape(model)
    if not (isinstance(output, tuple) and len(output) == 2 and output[0] in (None, 1) and output[1] == 10):
        raise ValueError(f"DigitPad shows ten probabilities, one per digit: it needs a model with an output shape of "
                         f"(None, 10); this model's output shape is {output}")
    return model, shape


def _feed_shape(model: keras.Model) -> tuple[tuple[int, ...], object]:
    """The first of ``INPUT_SHAPES`` that ``model`` takes, and its output shape; a subclassed model is tried on each.

    Raises:
        ValueError: naming the model's input shape and the pad's shapes, if it takes none of them.
    """
    try:
        declared, output = model.input_shape, model.output_shape
    except AttributeError:  # a subclassed model declares no shapes
        declared = output = None
    for shape in INPUT_SHAPES:
        if declared is None:
            try:
                result = model(np.zeros((1, *shape), np.float32), training=False)
            except Exception:  # noqa: BLE001 (any failure means: not this shape)
                continue
            return shape, tuple(result.shape) if hasattr(result, "shape") else type(result).__name__
        if (isinstance(declared, tuple) and len(declared) == len(shape) + 1 and declared[0] in (None, 1)
                and all(side in (None, wanted) for side, wanted in zip(declared[1:], shape))):
            return shape, output
    alone, batched = [str(shape) for shape in INPUT_SHAPES], [str((None, *shape)) for shape in INPUT_SHAPES]
    theirs = f"this model's input shape is {declared}" if declared is not None else "this model takes none of them"
    raise ValueError(f"DigitPad cannot feed this model: the pad gives a digit as {', '.join(alone[:-1])} or {alone[-1]}, "
                     f"with a batch axis {', '.join(batched[:-1])} or {batched[-1]}; {theirs}")


def _logits_by_layer(model: keras.Model) -> bool | None:
    """Whether the last layer of a Sequential or functional model says its outputs are logits; None if it cannot say.

    True for any activation but softmax (a plain ``Dense(10)`` is linear), False for softmax;
    None where that layer has no activation (a ``Softmax`` layer, an op), and for a subclassed model.
    """
    if isinstance(model, keras.Sequential):
        last = model.layers[-1] if model.layers else None
    else:
        last = (getattr(model, "operations", None) or [None])[-1]
    activation = getattr(last, "activation", None)
    if activation is None:
        return None
    return getattr(activation, "__name__", type(activation).__name__).lower() not in SOFTMAX_NAMES


def to_probabilities(outputs: np.ndarray, logits: bool | None = None) -> tuple[np.ndarray, bool]:
    """A digit model's ten outputs as probabilities: as they are, or the softmax of logits.

    Args:
        outputs: the model's ten outputs for one digit.
        logits: whether they are logits; None to tell by the outputs themselves: logits if
            one of them is negative, or if they do not sum to 1 within 1e-3.

    Returns:
        The ten probabilities, and whether they are the softmax of logits.

    Raises:
        ValueError: if ``outputs`` is not ten finite numbers, saying what came instead.

    >>> probabilities, from_logits = to_probabilities(np.array([2.0, -1, 0, 0, 0, 0, 0, 0, 0, 0]))   # logits
    >>> round(float(probabilities[0]), 3), round(float(probabilities.sum()), 3), from_logits
    (0.469, 1.0, True)
    >>> to_probabilities(np.full(10, 0.1))[1]   # probabilities already: shown as they are
    False
    """
    outputs = np.asarray(outputs)
    if outputs.shape != (10,) or not np.isfinite(outputs).all():
        raise ValueError(f"a digit model gives ten finite numbers, "
                         f"got {outputs.ravel()[:12].tolist()} of shape {outputs.shape}")
    if logits is None:
        logits = bool(outputs.min() < 0 or abs(float(outputs.sum()) - 1) > 1e-3)
    if not logits:
        return outputs, False
    exp = np.exp(outputs.astype(np.float64) - outputs.max())
    return exp / exp.sum(), True


def _one_line(error: BaseException, limit: int = 200) -> str:
    """An exception's type and the first line of its message, without Keras' framing and colours, at most ``limit`` long."""
    message = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)  # KeyError quotes
    text = re.sub(r"\x1b\[[0-9;]*m", "", message)
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.startswith("Exception encountered when calling")]
    line = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


class DigitPad(anywidget.AnyWidget):
    """A canvas to draw a digit on with the mouse, a pen or a finger, and ``model``'s reading of it.

    Beside the canvas the pad shows a Clear button, the 28x28 image the model is given
    (``read_drawing``), and the model's ten probabilities with its guess. It reads the
    drawing while you draw, at most once per animation frame and never more than one
    reading at a time. Without a digit to read it says "draw a digit". ``draw`` replays
    stroke paths through the same path, without a browser.

    The model is checked when the pad is built (``check_model``). A model that ends in a
    softmax gives probabilities, shown as they are. Any other gives logits (the TensorFlow
    quickstart's last ``Dense(10)`` does): the pad shows their softmax, and says so under its
    reading (``LOGITS_NOTE``). Which it is, the last layer of a Sequential or functional
    model tells, by its activation: softmax (Keras' or ``tf.nn.softmax``) gives probabilities,
    linear or any other gives logits. Where that layer has no activation (a ``Softmax``
    layer, an op such as ``keras.ops.softmax``) and for a subclassed model, the outputs tell,
    at each reading: logits if one of them is negative or they do not sum to 1 within 1e-3.

    Whatever goes wrong while reading a drawing, the model raising included, the pad shows
    in one line, naming the exception's type, and stays usable; ``error`` holds the exception.

    Copy along: ``check_model``, ``_logits_by_layer``, ``read_drawing``, ``to_probabilities``,
    ``_one_line``, ``render_strokes``, ``pixels_from_message``, and the files ``pad.js`` and
    ``pad.css`` beside this one.

    Args:
        model: a trained Keras model of 28x28 digits with ten outputs, fed (28, 28),
            (28, 28, 1) or (784,); or the path (str or ``pathlib.Path``) of one saved as .keras.

    Raises:
        TypeError, FileNotFoundError, ValueError: from ``check_model``, naming what does not fit.

    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    >>> pad = DigitPad(model)
    >>> pad
    DigitPad(draw a digit)
    >>> guess = pad.draw([[[140, 40], [140, 240]]])   # a "1", as a mouse would draw it
    >>> guess in range(10), len(pad.probabilities), pad.message.startswith(f"{guess} ("), pad.note
    (True, 10, True, '')
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
    note = traitlets.Unicode("").tag(sync=True)  # a line under the reading: LOGITS_NOTE, or nothing
    answered = traitlets.Int(0).tag(sync=True)  # counts the readings, so the canvas knows one arrived

    def __init__(self, model: keras.Model | str | os.PathLike, **kwargs) -> None:
        self.model, self._digit_shape = check_model(model)
        self._logits = _logits_by_layer(self.model)
        self.error: Exception | None = None  # the last exception met while reading a drawing
        super().__init__(**kwargs)
        self.on_msg(self._on_message)

    def __repr__(self) -> str:
        return f"DigitPad({self.message}; {self.note})" if self.note else f"DigitPad({self.message})"

    def read(self, pixels: np.ndarray) -> int | None:
        """Read a drawing (a 2-D uint8 array, as ``read_drawing`` takes): show it and the model's guess; return the guess.

        Anything raised on the way (a wrong array, the model failing) is shown in the pad, then raised.
        """
        try:
            image = read_drawing(pixels, self.pen_width)
            if image is None:
                self._show([], [], None, DRAW_A_DIGIT)
                return None
            outputs = np.asarray(self.model(image.reshape((1, *self._digit_shape)), training=False))
            probabilities, from_logits = to_probabilities(outputs[0], self._logits)
        except Exception as error:
            self._fail(error)
            raise
        guess = int(probabilities.argmax())
        self._show(np.round(image * 255).astype(int).ravel().tolist(), probabilities.round(4).tolist(), guess,
                   f"{guess} ({probabilities[guess]:.1%})", LOGITS_NOTE if from_logits else "")
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

    def _show(self, image: list, probabilities: list, guess: int | None, message: str, note: str = "") -> None:
        with self.hold_sync():  # one update: the canvas sees the new reading whole
            self.image, self.probabilities, self.guess, self.message, self.note = image, probabilities, guess, message, note
            self.answered += 1

    def _fail(self, error: Exception) -> None:
        """Show in the pad, in one line, what went wrong; keep the exception in ``error``."""
        self.error = error
        self._show([], [], None, f"could not read the drawing: {_one_line(error)}")

    def _on_message(self, _, content: dict, buffers: list) -> None:
        """A drawing from the canvas. Whatever goes wrong is shown in the pad, which stays usable; nothing is raised."""
        if not isinstance(content, dict) or content.get("type") != "pixels":
            return
        try:
            pixels = pixels_from_message(content, buffers)
        except Exception as error:  # noqa: BLE001 (shown in the pad; the kernel's log would hide it)
            self._fail(error)
            return
        with contextlib.suppress(Exception):  # read has shown it in the pad
            self.read(pixels)
