"""Generate the figures of img/ (used by the README) from the helpers: ``python -m mnist_tutorial figures``.

Two small models are trained for the figures that need one: the 512-unit
rmsprop net (curves, confusion matrix, own photo) and the convnet (filters).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import keras
import matplotlib.pyplot as plt

from mnist_tutorial import plots
from mnist_tutorial.images import prepare_image, read_image
from mnist_tutorial.models import RECIPES
from mnist_tutorial.tools.recipes import CONVNET, train_as_notebook
from mnist_tutorial.training import confusion_matrix, predict_classes

#: The files written, in the order they are made.
FIGURES = (
    "sample_digits.png",
    "pixel_values.png",
    "network.png",
    "training_curves.png",
    "confusion_matrix.png",
    "own_digit.png",
    "convnet_filters.png",
)
#: The README's JupyterLab screenshot: this notebook of notebooks/, written to this file of img/.
#: ``python -m mnist_tutorial figures`` takes it when Chromium is there (see ``mnist_tutorial.tools.lab``).
SCREENSHOT_OF, SCREENSHOT = "03_adam_variants_64_512.ipynb", "jupyterlab.png"
#: The digit pad's picture, which the book shows in place of notebook 05's pad (``mnist_tutorial.tools.book``),
#: drawn by the ``pad_figure`` given to ``make_figures`` where Chromium is installed.
PAD_FIGURE = "pad.png"


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def make_figures(
    folder: str | os.PathLike,
    mnist,
    photo: str | os.PathLike,
    epochs: int = 5,
    conv_epochs: int = 2,
    limit: int | None = None,
    seed: int = 0,
    pad_figure: Callable[[keras.Model, Path], Path] | None = None,
) -> list[Path]:
    """Draw every figure of ``FIGURES`` into ``folder`` and return their paths.

    Takes the loaded ``mnist`` tuples, the photo to show as "your own digit",
    the epochs for the two models and an optional ``limit`` on the training
    images (for quick tests). With ``pad_figure`` (``tools.book.pad_figure``, which needs
    Chromium), the pad's picture for the convnet is drawn too, as ``PAD_FIGURE``, last.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (x_train, y_train), (x_test, y_test) = mnist
    x_fit, y_fit = x_train[:limit], y_train[:limit]
    written = [
        _save(plots.plot_digits(x_train[:10], labels=y_train[:10]), folder / FIGURES[0]),
        _save(plots.plot_pixel_values(x_train[0]).figure, folder / FIGURES[1]),
        _save(plots.plot_network(RECIPES["normalize_flatten_mlp"].build()).figure, folder / FIGURES[2]),
    ]

    # the last 10% held out for validation, as notebook 04 holds it out
    dense = train_as_notebook("dense_512_rmsprop", seed, x_fit, y_fit, epochs=epochs, held_out=0.1)
    written.append(_save(plots.plot_history(dense.history), folder / FIGURES[3]))
    test_x, _ = RECIPES["dense_512_rmsprop"].prepare(x_test, y_test)
    written.append(_save(plots.plot_confusion_matrix(confusion_matrix(y_test, predict_classes(dense, test_x))).figure,
                         folder / FIGURES[4]))

    digit = prepare_image(photo)
    probabilities = dense.predict(digit.reshape(1, 784), verbose=0)[0]
    fig = plots.plot_photo_prediction(read_image(photo), digit, probabilities)
    written.append(_save(fig, folder / FIGURES[5]))

    convnet = train_as_notebook(CONVNET, seed, x_fit, y_fit, epochs=conv_epochs)
    written.append(_save(plots.plot_filters(convnet.get_layer("conv_1").get_weights()[0]), folder / FIGURES[6]))
    if pad_figure is not None:
        written.append(pad_figure(convnet, folder / PAD_FIGURE))
    return written
