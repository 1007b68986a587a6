"""Tests for mnist_tutorial.pad without a browser: the pad's Python side, fed as its canvas feeds it."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from mnist_tutorial.images import prepare_image
from mnist_tutorial.pad import CANVAS, DRAW_A_DIGIT, PEN_WIDTH, DigitPad, pixels_from_message, read_drawing, render_strokes

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
    assert repr(pad) == f"DigitPad({pad.message})" and pad.answered == 1


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
