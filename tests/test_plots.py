"""Tests for mnist_tutorial.plots: the data drawn, titles, labels and colours; never plt.show()."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from mnist_tutorial import plots
from mnist_tutorial.models import build_mlp


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a helper called plt.show()")

    monkeypatch.setattr(plt, "show", refuse)
    yield
    plt.close("all")


def test_plot_digit_draws_the_image_on_a_given_axes():
    image = np.arange(784).reshape(784)
    fig, ax = plt.subplots()
    assert plots.plot_digit(image, title="5", ax=ax) is ax
    np.testing.assert_array_equal(ax.images[0].get_array(), image.reshape(28, 28))
    assert ax.images[0].get_cmap().name == "binary" and ax.get_title() == "5"


def test_plot_digits_grid_titles_and_mistakes():
    images = np.random.default_rng(0).random((12, 28, 28))
    labels, predictions = np.arange(12) % 10, np.arange(12) % 10
    predictions[3] = 8
    fig = plots.plot_digits(images, labels, predictions, ncols=6)
    assert len(fig.axes) == 12
    assert fig.axes[3].get_title() == "8 (true 3)" and fig.axes[3].title.get_color() == "red"
    assert fig.axes[4].get_title() == "4" and fig.axes[4].title.get_color() == "black"
    np.testing.assert_array_equal(fig.axes[11].images[0].get_array(), images[11])
    assert fig.axes[6].get_subplotspec().rowspan.start == 1  # a 2x6 grid
    with pytest.raises(ValueError, match="predictions has 2 entries for 12 images"):
        plots.plot_digits(images, labels, predictions[:2])


def test_plot_pixel_values_prints_every_non_blank_pixel():
    image = np.zeros((28, 28), np.uint8)
    image[10, 3], image[20, 25] = 18, 253
    ax = plots.plot_pixel_values(image)
    assert sorted((text.get_text(), text.get_position()) for text in ax.texts) == [("18", (3, 10)), ("253", (25, 20))]
    assert [text.get_color() for text in ax.texts if text.get_text() == "253"] == ["white"]


def test_plot_history_draws_each_series():
    logs = {"loss": [0.5, 0.3, 0.2], "val_loss": [0.4, 0.35, 0.36], "accuracy": [0.8, 0.9, 0.95]}
    fig = plots.plot_history(logs)
    loss_ax, accuracy_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["training", "validation"]
    np.testing.assert_array_equal(loss_ax.lines[1].get_ydata(), logs["val_loss"])
    np.testing.assert_array_equal(accuracy_ax.lines[0].get_xdata(), [1, 2, 3])
    assert accuracy_ax.get_xlabel() == "epoch"


def test_plot_history_overlays_several_runs_one_colour_each():
    class History:  # what keras.Model.fit returns, as far as plot_history reads it
        def __init__(self, logs):
            self.history = logs

    runs = {"64 units": History({"loss": [0.3, 0.2], "accuracy": [0.9, 0.95]}),
            "512 units": {"loss": [0.2, 0.1], "val_loss": [0.25, 0.2], "accuracy": [0.93, 0.97]}}
    loss_ax, _ = plots.plot_history(runs).axes
    labels = [line.get_label() for line in loss_ax.lines]
    assert labels == ["64 units", "512 units", "512 units, validation"]
    np.testing.assert_array_equal(loss_ax.lines[2].get_ydata(), [0.25, 0.2])
    assert loss_ax.lines[1].get_color() == loss_ax.lines[2].get_color() != loss_ax.lines[0].get_color()
    assert loss_ax.lines[2].get_linestyle() == "--"


def test_plot_photo_prediction_shows_photo_input_and_probabilities():
    photo, digit = np.linspace(0, 1, 1200).reshape(40, 30), np.eye(28)
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    fig = plots.plot_photo_prediction(photo, digit, probabilities, true_label=1)
    photo_ax, input_ax, bars_ax = fig.axes
    np.testing.assert_array_equal(photo_ax.images[0].get_array(), photo)
    np.testing.assert_array_equal(input_ax.images[0].get_array(), digit)
    assert bars_ax.get_title() == "predicted 7 (82.0%), true 1" and bars_ax.patches[7].get_facecolor()[:3] != (0.83, 0.83, 0.83)


def test_plot_confusion_matrix_writes_counts():
    matrix = np.arange(100).reshape(10, 10)
    fig, ax = plt.subplots()
    assert plots.plot_confusion_matrix(matrix, ax=ax) is ax
    assert len(ax.texts) == 100 and ax.texts[23].get_text() == "23"
    np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
    assert ax.get_xlabel() == "predicted digit"


def test_plot_probabilities_bars_and_colours():
    probabilities = np.full(10, 0.02)
    probabilities[7] = 0.82
    ax = plots.plot_probabilities(probabilities, true_label=1)
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], probabilities)
    assert matplotlib.colors.to_hex(ax.patches[7].get_facecolor()) == matplotlib.colors.to_hex("tab:red")
    assert ax.get_title() == "predicted 7 (82.0%), true 1"


def test_plot_network_reads_the_layers_from_the_model():
    ax = plots.plot_network(build_mlp((128, 128), input_shape=(28, 28)), max_nodes=6)
    assert [text.get_text() for text in ax.texts] == ["input\n784", "hidden_1\n128", "hidden_2\n128", "output\n10"]
    assert len(ax.collections) == 4  # one column of nodes per layer
    assert sum(len(c.get_offsets()) for c in ax.collections) == 6 * 4


def test_plot_filters_draws_each_kernel_slice():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 1, 5))
    fig = plots.plot_filters(kernel, ncols=4)
    assert len(fig.axes) == 5
    np.testing.assert_array_equal(fig.axes[4].images[0].get_array(), kernel[:, :, 0, 4])
    with pytest.raises(ValueError, match=r"kernel must have shape \(height, width, 1, filters\), got \(3, 3, 2, 5\)"):
        plots.plot_filters(np.zeros((3, 3, 2, 5)))


def test_plot_feature_maps_draws_each_channel():
    maps = np.random.default_rng(0).random((11, 11, 3))
    fig = plots.plot_feature_maps(maps)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), maps[:, :, 1])
    assert fig.axes[0].images[0].get_cmap().name == "viridis"
    with pytest.raises(ValueError, match="maps must have shape"):
        plots.plot_feature_maps(np.zeros((11, 11)))


def test_plot_photo_gallery_pairs_each_photo_with_what_the_model_saw():
    photos = [np.zeros((40, 30, 3), np.uint8), np.ones((50, 60))]
    digits = np.stack([np.eye(28), np.eye(28)[::-1]])
    fig = plots.plot_photo_gallery(photos, digits, [7, 1], labels=[7, 4], titles=["jpeg", "blur"])
    top, bottom = fig.axes[:2], fig.axes[2:]
    assert [ax.get_title() for ax in top] == ["jpeg", "blur"]
    assert [(ax.get_title(), ax.title.get_color()) for ax in bottom] == [("7", "black"), ("1 (true 4)", "red")]
    np.testing.assert_array_equal(bottom[1].images[0].get_array(), digits[1])
    with pytest.raises(ValueError, match="got 2 photos, 2 digits and 1 predictions"):
        plots.plot_photo_gallery(photos, digits, [7])


def test_plot_epoch_times_bars_ratios_and_limit():
    fig, ax = plt.subplots()
    seconds = {"limit": 1.0, "eager": 12.0, "fit": 3.0}
    assert plots.plot_epoch_times(seconds, limit=1.0, ax=ax) is ax
    assert [bar.get_width() for bar in ax.patches] == [1.0, 12.0, 3.0]
    assert [text.get_text() for text in ax.texts] == ["1.00x", "12.00x", "3.00x"]
    assert [label.get_text() for label in ax.get_yticklabels()] == list(seconds)
    assert ax.lines[0].get_xdata()[0] == 1.0
    with pytest.raises(ValueError, match="need positive seconds per epoch and a positive limit"):
        plots.plot_epoch_times({"fit": 0.0}, limit=1.0)
    plt.close("all")


def test_plot_confusion_matrix_names_the_classes():
    names = ["T-shirt/top", "Trouser"]
    ax = plots.plot_confusion_matrix(np.array([[9, 1], [2, 8]]), class_names=names)
    assert [label.get_text() for label in ax.get_xticklabels()] == names
    assert [label.get_text() for label in ax.get_yticklabels()] == names
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    plt.close("all")


def test_plot_activations_draws_each_function_and_the_gradient_keras_trains_with():
    fig = plt.figure()
    assert plots.plot_activations(fig=fig) is fig
    assert [ax.get_title() for ax in fig.axes] == ["relu", "sigmoid", "tanh"]
    curves = {}
    for ax in fig.axes:
        assert [line.get_label() for line in ax.lines] == [f"{ax.get_title()}(x)", "gradient"]
        (x, y), (x_again, gradient) = (line.get_data() for line in ax.lines)
        np.testing.assert_array_equal(x, x_again)
        curves[ax.get_title()] = x, y, gradient
    x, y, gradient = curves["relu"]
    assert x.min() == -4 and x.max() == 4 and 0 in x
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(gradient[x < 0], 0)
    np.testing.assert_array_equal(gradient[x > 0], 1)
    assert gradient[x == 0] == 0  # TensorFlow's choice at the kink
    x, y, gradient = curves["sigmoid"]
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-x)), atol=1e-6)
    np.testing.assert_allclose(gradient, y * (1 - y), atol=1e-6)
    assert gradient[x == 0] == 0.25 and gradient.max() == 0.25 and max(gradient[0], gradient[-1]) < 0.02
    x, y, gradient = curves["tanh"]
    np.testing.assert_allclose(y, np.tanh(x), atol=1e-6)
    np.testing.assert_allclose(gradient, 1 - np.tanh(x) ** 2, atol=1e-5)
    assert gradient[x == 0] == 1 and max(gradient[0], gradient[-1]) < 0.002  # vanishes for large inputs


def test_plot_activations_takes_other_names_and_ranges_and_refuses_unknown_ones():
    fig = plots.plot_activations(("elu",), limit=2.0)
    (x, y), (_, gradient) = (line.get_data() for line in fig.axes[0].lines)
    assert len(fig.axes) == 1 and (x.min(), x.max()) == (-2, 2)
    np.testing.assert_allclose(gradient[x > 0], 1)
    np.testing.assert_allclose(gradient[x < 0], np.exp(x[x < 0]), atol=1e-6)  # elu's gradient left of 0 is e^x
    with pytest.raises(ValueError, match="nope"):
        plots.plot_activations(("nope",))
    with pytest.raises(ValueError, match="limit must be positive"):
        plots.plot_activations(limit=0)


def test_plot_architecture_draws_every_layer_with_its_output_shape_in_order():
    from mnist_tutorial.models import build_convnet

    fig, ax = plt.subplots()
    assert plots.plot_architecture(build_convnet(), ax=ax) is ax
    assert [text.get_text() for text in ax.texts] == [
        "Input → (28, 28, 1)",
        "RandomTranslation → (28, 28, 1)",
        "Conv2D 32 5x5 /2 → (12, 12, 32)",
        "Conv2D 64 3x3 /2 → (5, 5, 64)",
        "Flatten → (1600,)",
        "Dropout 0.25 → (1600,)",
        "Dense 128 → (128,)",
        "Dense 10 → (10,)",
    ]
    heights = [text.get_position()[1] for text in ax.texts]
    assert heights == sorted(heights, reverse=True) and len(set(heights)) == len(heights)  # top to bottom, one row each
    assert len(ax.patches) == len(ax.texts) - 1  # an arrow between each box and the next


def test_plot_architecture_labels_pooling_and_uneven_strides_and_refuses_an_unbuilt_model():
    import keras

    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, (3, 5), strides=(1, 2), name="conv"),
                              keras.layers.MaxPooling2D(2, name="pool"), keras.layers.Dense(4, name="dense")])
    labels = [text.get_text() for text in plots.plot_architecture(model).texts]
    assert labels == ["Input → (28, 28, 1)", "Conv2D 8 3x5 /1x2 → (26, 12, 8)", "MaxPooling2D 2x2 → (13, 6, 8)",
                      "Dense 4 → (13, 6, 4)"]
    with pytest.raises(ValueError, match="layer 'dense' has no output shape yet: build the model with keras.Input"):
        plots.plot_architecture(keras.Sequential([keras.layers.Dense(3, name="dense")]))
