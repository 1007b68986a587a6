"""Matplotlib figures for the notebooks. Every helper takes ``ax=`` (or ``fig=``), returns what it drew on, never shows.

>>> import matplotlib; matplotlib.use("Agg")
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_digit(image: np.ndarray, title: str | None = None, ax: Axes | None = None, cmap: str = "binary") -> Axes:
    """Draw one 28x28 digit in the tutorials' ``binary`` colormap (ink dark on white) and return the Axes.

    Takes a (28, 28) or (784,) image of any scale.

    >>> ax = plot_digit(np.eye(28), title="label 5")
    >>> ax.get_title(), ax.images[0].get_array().shape
    ('label 5', (28, 28))
    """
    ax = ax if ax is not None else plt.figure(figsize=(2.5, 2.5)).add_subplot()
    ax.imshow(np.asarray(image).reshape(28, 28), cmap=cmap)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title)
    return ax


def _prediction_title(predicted, label) -> tuple[str, str]:
    """A prediction's title and its colour: the digit in black, or in red with the true one when wrong."""
    if label is None or predicted == label:
        return f"{predicted}", "black"
    return f"{predicted} (true {label})", "red"


def plot_digits(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    predictions: np.ndarray | None = None,
    ncols: int = 10,
    fig: Figure | None = None,
) -> Figure:
    """Draw digits in a grid titled with their labels, and predictions when given; mistakes in red.

    Copy along: ``plot_digit``, ``_prediction_title``.

    Returns the Figure. Raises ``ValueError`` if labels or predictions do not
    match the number of images.

    >>> fig = plot_digits(np.zeros((3, 28, 28)), labels=[7, 2, 1], predictions=[7, 3, 1])
    >>> [(ax.get_title(), ax.title.get_color()) for ax in fig.axes]
    [('7', 'black'), ('3 (true 2)', 'red'), ('1', 'black')]
    """
    images = np.asarray(images)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != len(images):
            raise ValueError(f"{name} has {len(values)} entries for {len(images)} images")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig = fig if fig is not None else plt.figure(figsize=(1.2 * ncols, 1.4 * nrows))
    for index, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        title, color = None, "black"
        if predictions is not None:
            title, color = _prediction_title(predictions[index], None if labels is None else labels[index])
        elif labels is not None:
            title = f"{labels[index]}"
        plot_digit(image, title=title, ax=ax)
        ax.title.set_color(color)
    fig.tight_layout()
    return fig


def plot_pixel_values(image: np.ndarray, ax: Axes | None = None) -> Axes:
    """Draw a 28x28 digit with each pixel's value printed over it: what the computer sees.

    Blank pixels (0) are left unlabelled so the digit's shape stays readable.

    >>> image = np.zeros((28, 28), np.uint8); image[5, 7] = 255
    >>> [text.get_text() for text in plot_pixel_values(image).texts]
    ['255']
    """
    image = np.asarray(image).reshape(28, 28)
    ax = ax if ax is not None else plt.figure(figsize=(10, 10)).add_subplot()
    ax.imshow(image, cmap="binary")
    bright = image.max() / 2 if image.max() else 1
    values = image if np.issubdtype(image.dtype, np.integer) else np.round(image, 1)
    for row, col in zip(*np.nonzero(image)):
        ax.text(col, row, f"{values[row, col]}", ha="center", va="center", fontsize=6,
                color="white" if image[row, col] > bright else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_history(history, fig: Figure | None = None) -> Figure:
    """Draw loss and accuracy per epoch, training and (when logged) validation, side by side.

    Args:
        history: a Keras ``History`` or its ``history`` dict; or, to compare
            runs, a dict of them keyed by each run's label.
        fig: the Figure to draw on; a new one by default.

    Returns:
        The Figure, with a loss Axes and an accuracy Axes.

    >>> runs = {"64 units": {"loss": [0.3, 0.2], "accuracy": [0.9, 0.95]},
    ...         "512 units": {"loss": [0.2, 0.1], "accuracy": [0.93, 0.97], "val_accuracy": [0.92, 0.94]}}
    >>> [line.get_label() for line in plot_history(runs).axes[1].lines]
    ['64 units', '512 units', '512 units, validation']
    """
    logs = getattr(history, "history", history)
    one_run = all(isinstance(values, (list, tuple, np.ndarray)) for values in logs.values())
    runs = {"": logs} if one_run else {label: getattr(run, "history", run) for label, run in logs.items()}
    fig = fig if fig is not None else plt.figure(figsize=(10, 3.5))
    for index, metric in enumerate(("loss", "accuracy")):
        ax = fig.add_subplot(1, 2, index + 1)
        for number, (run, run_logs) in enumerate(runs.items()):
            color = None if one_run else f"C{number}"
            for prefix, kind, style in (("", "training", "-"), ("val_", "validation", "--")):
                if prefix + metric in run_logs:
                    values = run_logs[prefix + metric]
                    label = kind if one_run else run + (", validation" if prefix else "")
                    ax.plot(range(1, len(values) + 1), values, marker="o", label=label, color=color,
                            linestyle="-" if one_run else style)
        ax.set_title(metric)
        ax.set_xlabel("epoch")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_epoch_times(seconds: dict[str, float], limit: float, ax: Axes | None = None) -> Axes:
    """Draw seconds per epoch as horizontal bars on a log scale, each labelled with its multiple of ``limit``.

    Args:
        seconds: seconds per epoch, keyed by what was timed, drawn top to bottom.
        limit: the arithmetic limit in seconds per epoch, drawn as a dashed line.
            On a log scale, equal steps are equal ratios, so a 20-fold and a 1.5-fold gap both show.
        ax: the Axes to draw on; a new one by default.

    Returns:
        The Axes.

    Raises:
        ValueError: if ``seconds`` is empty or a time or the limit is not positive.

    >>> ax = plot_epoch_times({"fit": 2.0, "by hand": 1.0}, limit=0.8)
    >>> [text.get_text() for text in ax.texts]
    ['2.50x', '1.25x']
    """
    if not seconds or limit <= 0 or min(seconds.values()) <= 0:
        raise ValueError(f"need positive seconds per epoch and a positive limit, got {seconds!r} and {limit!r}")
    ax = ax if ax is not None else plt.figure(figsize=(8, 0.45 * len(seconds) + 1)).add_subplot()
    labels, values = list(seconds), list(seconds.values())
    bars = ax.barh(labels, values, color="C0")
    ax.invert_yaxis()
    ax.axvline(limit, color="C3", linestyle="--", label=f"arithmetic limit, {limit:.2f} s")
    for bar, value in zip(bars, values):
        ax.annotate(f"{value / limit:.2f}x", (value, bar.get_y() + bar.get_height() / 2), xytext=(4, 0),
                    textcoords="offset points", va="center")
    ax.set_xscale("log")
    ax.set_xlim(min(min(values), limit) / 2, max(values) * 3)
    ax.set_xlabel("seconds per epoch (log scale)")
    ax.legend(loc="upper right")
    return ax


def plot_confusion_matrix(matrix: np.ndarray, class_names: list[str] | None = None, ax: Axes | None = None) -> Axes:
    """Draw a confusion matrix (rows true class, columns predicted) with the counts written in.

    Args:
        matrix: the counts, as ``training.confusion_matrix`` returns them.
        class_names: tick labels, one per class; the digits' indices by default.
        ax: the Axes to draw on; a new one by default.

    Returns:
        The Axes.

    >>> ax = plot_confusion_matrix(np.array([[5, 1], [0, 7]]))
    >>> [text.get_text() for text in ax.texts], ax.get_ylabel()
    (['5', '1', '0', '7'], 'true digit')
    """
    matrix = np.asarray(matrix)
    ax = ax if ax is not None else plt.figure(figsize=(6, 6)).add_subplot()
    ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, f"{count}", ha="center", va="center", fontsize=8,
                color="white" if count > matrix.max() / 2 else "black")
    kind = "digit" if class_names is None else "class"
    ax.set_xticks(range(len(matrix)))
    ax.set_yticks(range(len(matrix)))
    if class_names is not None:
        ax.set_xticklabels(class_names, rotation=45, ha="right")
        ax.set_yticklabels(class_names)
    ax.set_xlabel(f"predicted {kind}")
    ax.set_ylabel(f"true {kind}")
    return ax


def plot_probabilities(probabilities: np.ndarray, true_label: int | None = None, ax: Axes | None = None) -> Axes:
    """Draw a bar chart of the 10 class probabilities of one prediction; the predicted digit in blue, a wrong one in red.

    >>> ax = plot_probabilities(np.eye(10)[3] * 0.9 + 0.01, true_label=3)
    >>> round(float(ax.patches[3].get_height()), 2), ax.get_title()
    (0.91, 'predicted 3 (91.0%), true 3')
    """
    probabilities = np.asarray(probabilities).reshape(-1)
    predicted = int(np.argmax(probabilities))
    ax = ax if ax is not None else plt.figure(figsize=(5, 3)).add_subplot()
    colors = ["lightgray"] * len(probabilities)
    colors[predicted] = "tab:blue" if true_label in (None, predicted) else "tab:red"
    ax.bar(range(len(probabilities)), probabilities, color=colors)
    ax.set_xticks(range(len(probabilities)))
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    title = f"predicted {predicted} ({probabilities[predicted]:.1%})"
    ax.set_title(title if true_label is None else f"{title}, true {true_label}")
    return ax


def plot_photo_prediction(photo: np.ndarray, digit: np.ndarray, probabilities: np.ndarray,
                          true_label: int | None = None, fig: Figure | None = None) -> Figure:
    """Draw a photo, the 28x28 digit the model sees, and the model's probabilities, side by side.

    Copy along: ``plot_digit``, ``plot_probabilities``.

    Args:
        photo: the photo as gray values in [0, 1] (``images.read_image``).
        digit: what the model sees (``images.prepare_image``).
        probabilities: the model's 10 class probabilities for ``digit``.
        true_label: the digit written, if known.
        fig: the Figure to draw on; a new one by default.

    Returns:
        The Figure, with three Axes.

    >>> fig = plot_photo_prediction(np.ones((40, 30)), np.zeros((28, 28)), np.eye(10)[3])
    >>> [ax.get_title() for ax in fig.axes]
    ['the photo', 'what the model sees', 'predicted 3 (100.0%)']
    """
    fig = fig if fig is not None else plt.figure(figsize=(11, 3))
    photo_ax, input_ax, bars_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 2]})
    photo_ax.imshow(photo, cmap="gray", vmin=0, vmax=1)
    photo_ax.set_title("the photo")
    photo_ax.axis("off")
    plot_digit(digit, title="what the model sees", ax=input_ax, cmap="gray")
    plot_probabilities(probabilities, true_label=true_label, ax=bars_ax)
    fig.tight_layout()
    return fig


def plot_photo_gallery(photos: list[np.ndarray], digits: np.ndarray, predictions: np.ndarray,
                       labels: np.ndarray | None = None, titles: list[str] | None = None,
                       fig: Figure | None = None) -> Figure:
    """Draw photos in a row, and under each the 28x28 digit the model saw, titled with its prediction.

    Copy along: ``plot_digit``, ``_prediction_title``.

    Args:
        photos: the photos, gray in [0, 1] or RGB (uint8 or in [0, 1]), of any sizes.
        digits: what the model saw, one (28, 28) image per photo.
        predictions: the model's digit for each.
        labels: the true digits; a wrong prediction is titled in red with the truth.
        titles: a title over each photo.
        fig: the Figure to draw on; a new one by default.

    Returns:
        The Figure: photos in the top row, digits below.

    >>> fig = plot_photo_gallery([np.ones((40, 30))] * 2, np.zeros((2, 28, 28)), [3, 5], labels=[3, 8])
    >>> [ax.get_title() for ax in fig.axes[2:]]
    ['3', '5 (true 8)']
    """
    if not len(photos) == len(digits) == len(predictions):
        raise ValueError(f"got {len(photos)} photos, {len(digits)} digits and {len(predictions)} predictions")
    fig = fig if fig is not None else plt.figure(figsize=(1.3 * len(photos), 3))
    axes = fig.subplots(2, len(photos), squeeze=False)
    for column, (photo, digit, predicted) in enumerate(zip(photos, digits, predictions)):
        axes[0, column].imshow(photo, cmap="gray", vmin=0, vmax=1 if np.asarray(photo).dtype != np.uint8 else 255)
        axes[0, column].axis("off")
        if titles is not None:
            axes[0, column].set_title(titles[column], fontsize=7)
        title, color = _prediction_title(predicted, None if labels is None else labels[column])
        plot_digit(digit, title=title, ax=axes[1, column], cmap="gray")
        axes[1, column].title.set_color(color)
    return fig


def plot_network(model, ax: Axes | None = None, max_nodes: int = 10) -> Axes:
    """Sketch a Keras MLP: a column of nodes per layer (at most ``max_nodes`` drawn), labelled with its size.

    Reads the sizes from the model itself: its input and each Dense layer.
    Returns the Axes; the column labels are its texts.

    >>> import keras
    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512, name="hidden"),
    ...                           keras.layers.Dense(10, name="output")])
    >>> [text.get_text() for text in plot_network(model).texts]
    ['input\\n784', 'hidden\\n512', 'output\\n10']
    """
    sizes = [("input", int(np.prod(model.inputs[0].shape[1:])))]
    sizes += [(layer.name, layer.units) for layer in model.layers if hasattr(layer, "units")]
    ax = ax if ax is not None else plt.figure(figsize=(2.2 * len(sizes), 4)).add_subplot()
    columns = []
    for x, (_, size) in enumerate(sizes):
        shown = min(size, max_nodes)
        columns.append([(x, y) for y in np.linspace(-1, 1, shown) * (shown / max_nodes)])
    for left, right in zip(columns, columns[1:]):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0, x1], [y0, y1], color="lightgray", linewidth=0.5, zorder=1)
    for x, ((name, size), nodes) in enumerate(zip(sizes, columns)):
        ax.scatter([n[0] for n in nodes], [n[1] for n in nodes], s=120, color="tab:blue", zorder=2)
        ax.text(x, -1.35, f"{name}\n{size}", ha="center", va="top")
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-1.8, 1.2)
    ax.axis("off")
    return ax


def plot_activations(names: tuple[str, ...] = ("relu", "sigmoid", "tanh"), limit: float = 4.0,
                     fig: Figure | None = None) -> Figure:
    """Draw each activation function and its gradient from ``-limit`` to ``limit``, one Axes per activation.

    The gradients are the ones Keras trains with: ``tf.GradientTape`` differentiates
    ``keras.activations.get(name)`` at every point drawn (so relu's gradient at 0 is 0).

    Args:
        names: activation names that ``keras.activations.get`` accepts, drawn left to right.
        limit: the input range drawn, symmetric about 0, which is one of the points.
        fig: the Figure to draw on; a new one by default.

    Returns:
        The Figure, with one Axes per activation, titled with its name: the function
        as a solid line, then its gradient as a dashed one.

    Raises:
        ValueError: for a name Keras does not know, or a ``limit`` that is not positive.

    >>> fig = plot_activations()
    >>> [ax.get_title() for ax in fig.axes]
    ['relu', 'sigmoid', 'tanh']
    >>> x, gradient = fig.axes[1].lines[1].get_data()  # sigmoid's gradient is largest at 0, where it is 1/4
    >>> float(gradient[x == 0][0]), float(gradient.max())
    (0.25, 0.25)
    """
    import keras  # here, not at the top: the module's other figures do not need TensorFlow
    import tensorflow as tf

    if not limit > 0:
        raise ValueError(f"limit must be positive, got {limit!r}")
    x = tf.constant(np.arange(-200, 201) * (limit / 200), dtype=tf.float32)  # 401 points, 0 among them
    fig = fig if fig is not None else plt.figure(figsize=(3.4 * len(names), 3))
    for index, name in enumerate(names):
        activation = keras.activations.get(name)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = activation(x)
        gradient = tape.gradient(y, x)  # each output depends on its own input only: the derivative, point by point
        ax = fig.add_subplot(1, len(names), index + 1)
        ax.plot(x.numpy(), y.numpy(), color="C0", label=f"{name}(x)")
        ax.plot(x.numpy(), gradient.numpy(), color="C1", linestyle="--", label="gradient")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_grid(images: np.ndarray, titles: list[str] | None = None, ncols: int = 8, cmap: str = "gray",
              fig: Figure | None = None) -> Figure:
    """Draw small 2-D images (filters, feature maps) in a grid, each scaled to its own range; return the Figure.

    >>> fig = plot_grid(np.zeros((3, 5, 5)), titles=["a", "b", "c"], ncols=2)
    >>> len(fig.axes), fig.axes[2].get_title()
    (3, 'c')
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (n, height, width), got {images.shape}")
    ncols = min(ncols, len(images))
    nrows = -(-len(images) // ncols)
    fig = fig if fig is not None else plt.figure(figsize=(1.1 * ncols, 1.1 * nrows + 0.3))
    for index, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        ax.imshow(image, cmap=cmap)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[index], fontsize=8)
    return fig


def plot_filters(kernel: np.ndarray, ncols: int = 8, fig: Figure | None = None) -> Figure:
    """Draw each filter of a first Conv2D layer, from its kernel of shape (height, width, 1, filters).

    Copy along: ``plot_grid``.

    Light pixels are positive weights, dark ones negative.

    >>> import keras
    >>> layer = keras.layers.Conv2D(4, 3); layer.build((None, 28, 28, 1))
    >>> len(plot_filters(layer.get_weights()[0]).axes)
    4
    """
    kernel = np.asarray(kernel)
    if kernel.ndim != 4 or kernel.shape[2] != 1:
        raise ValueError(f"kernel must have shape (height, width, 1, filters), got {kernel.shape}")
    return plot_grid(np.moveaxis(kernel[:, :, 0, :], -1, 0), ncols=ncols, fig=fig)


def plot_feature_maps(maps: np.ndarray, ncols: int = 8, fig: Figure | None = None) -> Figure:
    """Draw the feature maps of one image, from a layer output of shape (height, width, channels).

    Copy along: ``plot_grid``.

    >>> len(plot_feature_maps(np.random.rand(26, 26, 6)).axes)
    6
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (height, width, channels), got {maps.shape}")
    return plot_grid(np.moveaxis(maps, -1, 0), ncols=ncols, cmap="viridis", fig=fig)


def _layer_label(layer) -> str:
    """A layer's box label: its class name and main settings, then its output shape (batch axis left out)."""
    kind = type(layer).__name__
    settings = ""
    if hasattr(layer, "filters") and hasattr(layer, "kernel_size"):  # Conv1D, Conv2D...: filters, size, stride
        settings = f" {layer.filters} " + "x".join(map(str, layer.kernel_size))
        if any(step != 1 for step in layer.strides):  # "/2": every second position, on each axis
            steps = layer.strides
            settings += " /" + (f"{steps[0]}" if len(set(steps)) == 1 else "x".join(map(str, steps)))
    elif hasattr(layer, "units"):
        settings = f" {layer.units}"
    elif hasattr(layer, "pool_size"):
        settings = " " + "x".join(map(str, layer.pool_size))
    elif hasattr(layer, "rate"):
        settings = f" {layer.rate:g}"
    try:
        shape = tuple(layer.output.shape[1:])
    except (AttributeError, ValueError) as error:
        raise ValueError(f"layer {layer.name!r} has no output shape yet: build the model with keras.Input first") from error
    return f"{kind}{settings} → {shape}"


def plot_architecture(model, ax: Axes | None = None) -> Axes:
    """Draw a Keras model as a column of boxes, top to bottom: its input, then one box per layer, with arrows.

    Each box names the layer's class and main settings (filters, kernel size and stride; units; pool
    size; dropout rate) and the shape of what it passes on, without the batch axis: for example
    ``Conv2D 32 5x5 /2 → (12, 12, 32)``. Layers are drawn in ``model.layers`` order, as a chain.

    Copy along: ``_layer_label``.

    Args:
        model: a built Keras model (a ``Sequential`` that starts with ``keras.Input``, or a functional one).
        ax: the Axes to draw on; a new one by default.

    Returns:
        The Axes: its texts are the box labels, top to bottom, and its patches the arrows between them.

    Raises:
        ValueError: if a layer has no output shape yet (the model was never built).

    >>> import keras
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, strides=2, name="conv"),
    ...                           keras.layers.Flatten(name="flatten"), keras.layers.Dense(10, name="output")])
    >>> [text.get_text() for text in plot_architecture(model).texts]
    ['Input → (8, 8, 1)', 'Conv2D 4 3x3 /2 → (3, 3, 4)', 'Flatten → (36,)', 'Dense 10 → (10,)']
    """
    from matplotlib.patches import FancyArrowPatch

    layers = [_layer_label(layer) for layer in model.layers]  # first: an unbuilt model fails here, with the reason
    labels = [f"Input → {tuple(model.inputs[0].shape[1:])}", *layers]
    ax = ax if ax is not None else plt.figure(figsize=(5, 0.55 * len(labels) + 0.2)).add_subplot()
    for row, label in enumerate(labels):
        kind = label.split()[0]
        colour = "#cfe2f3" if kind.startswith("Conv") else "#d9ead3" if kind == "Dense" else "#eeeeee"
        ax.text(0, -row, label, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "gray"})
        if row:
            ax.add_patch(FancyArrowPatch((0, 1 - row), (0, -row), arrowstyle="-|>", mutation_scale=10,
                                         shrinkA=10, shrinkB=10, color="gray"))
    ax.set_xlim(-1, 1)
    ax.set_ylim(0.5 - len(labels), 0.5)
    ax.axis("off")
    return ax
