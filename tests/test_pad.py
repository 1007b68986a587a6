"""Tests for mnist_tutorial.pad without a browser: the pad's Python side, fed as its canvas feeds it."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from mnist_tutorial.images import prepare_image
from mnist_tutorial.pad import (CANVAS, DRAW_A_DIGIT, LOGITS_NOTE, PEN_WIDTH, DigitPad, check_model, pixels_from_message,
                                read_drawing, render_strokes, to_probabilities)
from mnist_tutorial.training import set_seed

STROKES = json.loads((Path(__file__).resolve().parents[1] / "img" / "strokes.json").read_text())


@pytest.fixture(scope="module")
def model():
    """An untrained convnet-shaped classifier, seeded: these tests check the path, not the guess."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def send(pad: DigitPad, content: dict, buffers: list) -> None:
    """Deliver a message as the kernel does when the canvas sends one."""
    pad._handle_custom_msg(content, buffers)


def canvas_message(pixels: np.ndarray) -> tuple[dict, list]:
    return {"type": "pixels", "width": pixels.shape[1], "height": pixels.shape[0]}, [pixels.tobytes()]


def test_a_drawing_is_prepared_exactly_as_prepare_image_prepares_it(model):
    pad = DigitPad(model)
    pixels = render_strokes(STROKES["seven"]["strokes"])
    send(pad, *canvas_message(pixels))
    prepared = prepare_image(pixels)
    assert np.array_equal(read_drawing(pixels), prepared)
    assert pad.image == np.round(prepared * 255).astype(int).ravel().tolist()
    expected = np.asarray(model(prepared[None, ..., None], training=False))[0]
    np.testing.assert_allclose(pad.probabilities, expected, atol=1e-4)
    assert pad.guess == int(expected.argmax()) and pad.message == f"{pad.guess} ({expected.max():.1%})"
    assert repr(pad) == f"DigitPad({pad.message})" and pad.answered == 1 and pad.note == ""


def test_a_dense_model_is_given_784_pixels():
    dense = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    pad = DigitPad(dense)
    guess = pad.draw(STROKES["three"]["strokes"])
    assert guess in range(10) and len(pad.probabilities) == 10 and len(pad.image) == 784


@pytest.mark.parametrize("pixels", [
    np.zeros((CANVAS, CANVAS), np.uint8),                                      # nothing drawn
    render_strokes([[[140, 140]]]),                                            # a dot
    render_strokes([[[100, 100], [100 + PEN_WIDTH // 2, 100 + PEN_WIDTH // 2]]]),  # a short tick
], ids=["blank", "dot", "tick"])
def test_too_little_ink_asks_for_a_digit_and_shows_no_guess(model, pixels):
    pad = DigitPad(model)
    pad.draw(STROKES["seven"]["strokes"])
    send(pad, *canvas_message(pixels))
    assert (pad.message, pad.guess, pad.probabilities, pad.image) == (DRAW_A_DIGIT, None, [], [])
    assert repr(pad) == "DigitPad(draw a digit)"


def test_clear_empties_the_pad(model):
    pad = DigitPad(model)
    pad.draw(STROKES["four"]["strokes"])
    assert pad.strokes and pad.guess is not None
    pad.clear()
    assert (pad.strokes, pad.message, pad.guess) == ([], DRAW_A_DIGIT, None)


def test_a_stroke_from_the_edge_is_prepared_whole():
    stroke = STROKES["one_at_edge"]["strokes"]
    assert min(y for stroke_ in stroke for _, y in stroke_) == 0  # it starts on the canvas's top edge
    at_edge = read_drawing(render_strokes(stroke))
    inside = read_drawing(render_strokes([[[x, y + 30] for x, y in stroke_] for stroke_ in stroke]))
    rows = np.flatnonzero(at_edge.any(axis=1))
    assert rows[-1] - rows[0] + 1 == 20  # the whole stroke fills the 20-pixel box, as the same stroke inside does
    assert abs(at_edge.sum() - inside.sum()) < 0.05 * inside.sum()
    assert np.abs(at_edge - inside).max() < 0.5


@pytest.mark.parametrize("content, buffers, message", [
    ({"type": "pixels", "width": 280, "height": 280}, [bytes(100)],
     "the pad sent 100 bytes for a 280x280 drawing, which needs 78,400"),
    ({"type": "pixels", "height": 280}, [bytes(78400)], "needs a positive integer width and height, got None and 280"),
    ({"type": "pixels", "width": "280", "height": 280}, [bytes(78400)], "got '280' and 280"),
    ({"type": "pixels", "width": True, "height": 1}, [bytes(1)], "got True and 1"),
    ({"type": "pixels", "width": 280, "height": 280}, [], "needs one buffer of pixel bytes, got 0 buffers"),
    ({"type": "pixels", "width": 2, "height": 2}, [bytes(4), bytes(4)], "got 2 buffers"),
    ({"type": "pixels", "width": 2, "height": 2}, ["abcd"], "needs one buffer of pixel bytes"),
], ids=["short", "no width", "text width", "bool width", "no buffer", "two buffers", "text buffer"])
def test_bad_pixel_data_is_named_in_the_pad_which_stays_usable(model, content, buffers, message):
    pad = DigitPad(model)
    send(pad, content, buffers)
    assert pad.message.startswith("could not read the drawing: ") and message in pad.message
    assert pad.guess is None and pad.probabilities == []
    send(pad, *canvas_message(render_strokes(STROKES["seven"]["strokes"])))
    assert pad.guess in range(10) and pad.message.startswith(f"{pad.guess} (")


def test_other_messages_are_left_alone(model):
    pad = DigitPad(model)
    send(pad, {"type": "hello"}, [])
    assert pad.answered == 0 and pad.message == DRAW_A_DIGIT


@pytest.mark.parametrize("pixels, message", [
    (np.zeros((280, 280), np.float32), "must be a 2-D uint8 array .* got float32 of shape \\(280, 280\\)"),
    (np.zeros((280, 280, 4), np.uint8), "got uint8 of shape \\(280, 280, 4\\)"),
])
def test_read_drawing_names_a_wrong_array(pixels, message):
    with pytest.raises(ValueError, match=message):
        read_drawing(pixels)


def test_pixels_from_message_keeps_rows_in_order():
    pixels = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(pixels_from_message(*canvas_message(pixels)), pixels)
    assert pixels_from_message(*canvas_message(pixels)).flags.writeable  # a copy, not a view of the message


def test_render_strokes_draws_a_round_pen_and_names_a_bad_stroke():
    ink = render_strokes([[[50, 50]]], size=100, pen_width=20)
    rows, cols = np.nonzero(ink > 127)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 20  # a disc 20 wide
    assert ink[50, 50] == 255 and ink[41, 41] == 0  # full in the middle, the square's corner is bare
    with pytest.raises(ValueError, match="stroke 1: expected a list of \\[x, y\\] points, got array of shape \\(1, 3\\)"):
        render_strokes([[[1, 2]], [[1, 2, 3]]])
    with pytest.raises(ValueError, match="stroke 0: .* shape \\(0, 2\\)"):
        render_strokes([[]])


def test_replayed_strokes_are_what_the_canvas_shows(model):
    pad = DigitPad(model)
    pad.draw(STROKES["zero"]["strokes"])
    assert pad.strokes == [[[float(x), float(y)] for x, y in stroke] for stroke in STROKES["zero"]["strokes"]]
    assert (pad.size, pad.pen_width) == (CANVAS, PEN_WIDTH)


# The model: checked when the pad is built; logits shown as their softmax; whatever the model raises, shown.


@pytest.fixture(scope="module")
def quickstart(mnist):
    """The TensorFlow beginner quickstart's model, trained as the quickstart trains it, on 3,000 digits (470 steps)."""
    (x_train, y_train), _ = mnist
    set_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dropout(0.2), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train[:3000] / 255.0, y_train[:3000], epochs=5, verbose=0)
    return model


DIGITS = ["seven", "three", "four", "zero", "small_two", "one_at_edge"]


def prepared(name: str) -> np.ndarray:
    """The (28, 28) image the pad gives its model for a recorded digit."""
    return read_drawing(render_strokes(STROKES[name]["strokes"]))


@pytest.mark.parametrize("name", DIGITS)
def test_the_tensorflow_quickstart_model_gives_logits_and_the_pad_shows_their_softmax(quickstart, name):
    pad = DigitPad(quickstart)
    guess = pad.draw(STROKES[name]["strokes"])
    assert guess == STROKES[name]["label"]
    expected = tf.nn.softmax(quickstart(prepared(name)[None], training=False)[0]).numpy()
    np.testing.assert_allclose(pad.probabilities, expected, atol=1e-4)
    assert min(pad.probabilities) >= 0 and sum(pad.probabilities) == pytest.approx(1, abs=1e-3)
    assert pad.message == f"{guess} ({expected.max():.1%})" and pad.note == LOGITS_NOTE
    assert repr(pad) == f"DigitPad({guess} ({expected.max():.1%}); the model gives logits: showing their softmax)"
    pad.clear()
    assert (pad.message, pad.note, repr(pad)) == (DRAW_A_DIGIT, "", "DigitPad(draw a digit)")


def ends_in_softmax(how: str) -> keras.Model:
    inputs = keras.Input((784,))
    dense = keras.layers.Dense(10, activation={"activation": "softmax", "tf.nn.softmax": tf.nn.softmax}.get(how))(inputs)
    outputs = {"Activation layer": lambda: keras.layers.Activation("softmax")(dense),
               "Softmax layer": lambda: keras.layers.Softmax()(dense),
               "keras.ops.softmax": lambda: keras.ops.softmax(dense)}.get(how, lambda: dense)()
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("how", ["activation", "tf.nn.softmax", "Activation layer", "Softmax layer", "keras.ops.softmax"])
def test_a_model_that_ends_in_softmax_is_shown_as_it_is(how):
    keras.utils.set_random_seed(0)
    model = ends_in_softmax(how)
    pad = DigitPad(model)
    guess = pad.draw(STROKES["three"]["strokes"])
    expected = np.asarray(model(prepared("three").reshape(1, 784), training=False))[0]
    assert pad.probabilities == expected.round(4).tolist()  # as the model gave them: no softmax on top
    assert pad.note == "" and repr(pad) == f"DigitPad({guess} ({expected[guess]:.1%}))"


@pytest.mark.parametrize("outputs, logits, from_logits", [
    ([0.1] * 10, None, False),                             # a distribution
    ([0.1] * 9 + [0.1005], None, False),                   # sums to 1 within 1e-3
    ([0.1] * 9 + [0.102], None, True),                     # does not
    ([-0.5] + [0.15] * 9, None, True),                     # one negative
    ([0.0] * 10, None, True),                              # sums to 0
    ([0.1] * 10, True, True),                              # the last layer said logits
    ([3.0] + [0.0] * 9, False, False),                     # the last layer said softmax
], ids=["distribution", "within 1e-3", "sum off", "negative", "zeros", "layer says logits", "layer says softmax"])
def test_to_probabilities_tells_logits_by_the_layer_else_by_the_outputs(outputs, logits, from_logits):
    outputs = np.asarray(outputs, np.float32)
    probabilities, was_logits = to_probabilities(outputs, logits)
    assert was_logits == from_logits
    expected = tf.nn.softmax(outputs).numpy() if from_logits else outputs
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)


@pytest.mark.parametrize("outputs, message", [
    (np.full(5, 0.2), "ten finite numbers, got \\[0.2, 0.2, 0.2, 0.2, 0.2\\] of shape \\(5,\\)"),
    (np.array([np.nan] + [0.1] * 9), "ten finite numbers, got \\[nan, 0.1"),
])
def test_to_probabilities_names_what_is_not_ten_finite_numbers(outputs, message):
    with pytest.raises(ValueError, match=message):
        to_probabilities(outputs)


class Convnet(keras.Model):
    """A subclassed model: it declares no input shape, and takes (28, 28, 1) images only."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.flatten, self.dense = keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(10)

    def call(self, x):
        return self.dense(self.flatten(self.conv(x)))


def test_a_subclassed_model_is_fed_the_shape_it_takes_and_its_outputs_tell_logits():
    keras.utils.set_random_seed(0)
    model = Convnet()
    model(np.zeros((1, 28, 28, 1), np.float32))
    assert check_model(model) == (model, (28, 28, 1))
    pad = DigitPad(model)
    guess = pad.draw(STROKES["four"]["strokes"])
    logits = model(prepared("four")[None, ..., None])[0]
    assert guess == int(np.argmax(logits)) and pad.note == LOGITS_NOTE  # a plain Dense(10): some outputs negative
    np.testing.assert_allclose(pad.probabilities, tf.nn.softmax(logits).numpy(), atol=1e-4)


@pytest.mark.parametrize("inputs, shape", [
    (lambda: keras.Input((28, 28)), (28, 28)),
    (lambda: keras.Input((28, 28, 1)), (28, 28, 1)),
    (lambda: keras.Input((784,)), (784,)),
    (lambda: keras.Input((28, 28, 1), batch_size=1), (28, 28, 1)),
    (lambda: keras.Input((None, None, 1)), (28, 28, 1)),
], ids=["28x28", "28x28x1", "784", "batch of 1", "any size"])
def test_each_shape_the_pad_gives_is_fed(inputs, shape):
    tensor = inputs()
    flat = keras.layers.GlobalAveragePooling2D()(tensor) if len(shape) == 3 else keras.layers.Flatten()(tensor)
    model = keras.Model(tensor, keras.layers.Dense(10, activation="softmax")(flat))
    assert check_model(model)[1] == shape
    pad = DigitPad(model)
    assert pad.draw(STROKES["seven"]["strokes"]) in range(10) and len(pad.image) == 784


@pytest.mark.parametrize("given, named", [
    (None, "got NoneType: None"),
    (np.zeros(784), "got ndarray: array([0., 0."),
    (keras.layers.Dense(10), "got Dense: <Dense name="),
    (print, "got builtin_function_or_method: <built-in function print>"),
], ids=["None", "an array", "a layer", "a function"])
def test_what_is_not_a_keras_model_is_refused_when_the_pad_is_built(given, named):
    with pytest.raises(TypeError, match="DigitPad needs a trained Keras model \\(a keras.Model\\), or the path of one "
                                        "saved as .keras; ") as caught:
        DigitPad(given)
    assert named in str(caught.value)


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_a_saved_model_is_loaded_from_its_path(model, tmp_path, as_path):
    model.save(tmp_path / "my_model.keras")
    pad = DigitPad(as_path(tmp_path / "my_model.keras"))
    assert isinstance(pad.model, keras.Model) and pad.model is not model
    original = DigitPad(model)
    assert pad.draw(STROKES["zero"]["strokes"]) == original.draw(STROKES["zero"]["strokes"])
    assert (pad.probabilities, pad.message) == (original.probabilities, original.message)


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_a_missing_saved_model_is_named(tmp_path, as_path):
    missing = tmp_path / "my_model.keras"
    with pytest.raises(FileNotFoundError, match=f"no saved model at {missing}: DigitPad loads a model saved with"):
        DigitPad(as_path(missing))


def two_inputs() -> keras.Model:
    image, extra = keras.Input((784,)), keras.Input((3,))
    return keras.Model([image, extra], keras.layers.Dense(10)(keras.layers.Concatenate()([image, extra])))


def takes_32x32x3_only() -> keras.Model:
    model = Convnet()
    model(np.zeros((1, 32, 32, 3), np.float32))  # its Dense now expects a 32x32x3 image's features
    return model


@pytest.mark.parametrize("build, theirs", [
    (lambda: keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]),
     "this model's input shape is (None, 32, 32, 3)"),
    (lambda: keras.Sequential([keras.Input((28, 28, 3)), keras.layers.Flatten(), keras.layers.Dense(10)]),
     "this model's input shape is (None, 28, 28, 3)"),
    (lambda: keras.Sequential([keras.Input((784,), batch_size=32), keras.layers.Dense(10)]),
     "this model's input shape is (32, 784)"),
    (two_inputs, "this model's input shape is [(None, 784), (None, 3)]"),
    (takes_32x32x3_only, "this model takes none of them"),
], ids=["32x32x3", "28x28x3", "batch of 32", "two inputs", "subclassed 32x32x3"])
def test_a_model_the_pad_cannot_feed_is_named_with_its_input_shape(build, theirs):
    with pytest.raises(ValueError) as caught:
        DigitPad(build())
    assert str(caught.value) == ("DigitPad cannot feed this model: the pad gives a digit as (28, 28), (28, 28, 1) or "
                                 f"(784,), with a batch axis (None, 28, 28), (None, 28, 28, 1) or (None, 784); {theirs}")


def two_outputs() -> keras.Model:
    inputs = keras.Input((784,))
    return keras.Model(inputs, [keras.layers.Dense(10)(inputs), keras.layers.Dense(3)(inputs)])


@pytest.mark.parametrize("build, output", [
    (lambda: keras.Sequential([keras.Input((784,)), keras.layers.Dense(5, activation="softmax")]), "(None, 5)"),
    (lambda: keras.Sequential([keras.Input((28, 28)), keras.layers.Dense(10)]), "(None, 28, 10)"),
    (two_outputs, "[(None, 10), (None, 3)]"),
], ids=["5 outputs", "no Flatten", "two outputs"])
def test_a_model_without_ten_outputs_is_named_with_its_output_shape(build, output):
    with pytest.raises(ValueError) as caught:
        DigitPad(build())
    assert str(caught.value) == ("DigitPad shows ten probabilities, one per digit: it needs a model with an output "
                                 f"shape of (None, 10); this model's output shape is {output}")


def test_a_model_not_built_yet_is_refused():
    with pytest.raises(ValueError, match="the model 'untrained' is not built yet: train it"):
        DigitPad(keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)], name="untrained"))


class Fails(keras.layers.Layer):
    """Passes its input on, until told to fail: ``error`` is an exception to raise, or "nan" to give NaNs."""

    error: Exception | str | None = None

    def call(self, x):
        if isinstance(self.error, Exception):
            raise self.error
        return x * float("nan") if self.error == "nan" else x


@pytest.mark.parametrize("error, line", [
    (RuntimeError("the model broke\nand said more"), "RuntimeError: the model broke"),
    (MemoryError(), "MemoryError"),
    (tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"),
     "ResourceExhaustedError: OOM when allocating tensor"),
    (KeyError("weights"), "KeyError: weights"),
    (ValueError("x" * 500), "ValueError: " + "x" * 187 + "…"),
    ("nan", "ValueError: a digit model gives ten finite numbers, got [nan, nan,"),
], ids=["runtime", "memory", "tensorflow", "key", "long", "nan"])
def test_what_the_model_raises_is_shown_in_one_line_and_the_pad_stays_usable(model, error, line, caplog):
    fails = Fails()
    pad = DigitPad(keras.Sequential([keras.Input((784,)), fails, keras.layers.Dense(10, activation="softmax")]))
    pad.draw(STROKES["seven"]["strokes"])
    fails.error = error
    send(pad, *canvas_message(render_strokes(STROKES["three"]["strokes"])))
    assert pad.message.startswith(f"could not read the drawing: {line}") and "\n" not in pad.message
    assert len(pad.message) <= len("could not read the drawing: ") + 200
    assert (pad.guess, pad.probabilities, pad.image, pad.note) == (None, [], [], "")
    assert pad.error is not None and not caplog.records  # shown in the pad; no traceback in the kernel's log
    with pytest.raises(type(error) if isinstance(error, Exception) else ValueError):
        pad.draw(STROKES["three"]["strokes"])  # from Python, the pad shows it and raises it too
    assert pad.message.startswith(f"could not read the drawing: {line}")
    fails.error = None
    send(pad, *canvas_message(render_strokes(STROKES["three"]["strokes"])))
    assert pad.guess in range(10) and pad.message == f"{pad.guess} ({max(pad.probabilities):.1%})"
