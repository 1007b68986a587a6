"""Generate the figures of img/ (used by the README) from the helpers: ``python -m mnist_tutorial figures``.

Two small models are trained for the figures that need one: the 512-unit
rmsprop net (curves, confusion matrix, own photo) and the convnet (filters).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mnist_tutorial import plots
from mnist_tutorial.images import prepare_image, read_image
from mnist_tutorial.models import CONVNET_BATCH_SIZE, RECIPES, build_convnet
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.training import confusion_matrix, predict_classes, set_seed, shuffled_batches

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
) -> list[Path]:
    """Draw every figure of ``FIGURES`` into ``folder`` and return their paths.

    Takes the loaded ``mnist`` tuples, the photo to show as "your own digit",
    the epochs for the two models and an optional ``limit`` on the training
    images (for quick tests).
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

    recipe = RECIPES["dense_512_rmsprop"]
    x, y = recipe.prepare(x_fit, y_fit)
    split = int(len(x) * 0.9)  # the last 10% for validation, as notebook 04 holds it out
    set_seed(seed)
    dense = recipe.build()
    history = dense.fit(shuffled_batches(x[:split], y[:split], recipe.batch_size), epochs=epochs, shuffle=False,
                        validation_data=(x[split:], y[split:]), verbose=0)
    written.append(_save(plots.plot_history(history), folder / FIGURES[3]))
    test_x, _ = recipe.prepare(x_test, y_test)
    written.append(_save(plots.plot_confusion_matrix(confusion_matrix(y_test, predict_classes(dense, test_x))).figure,
                         folder / FIGURES[4]))

    digit = prepare_image(photo)
    probabilities = dense.predict(digit.reshape(1, 784), verbose=0)[0]
    fig = plots.plot_photo_prediction(read_image(photo), digit, probabilities)
    written.append(_save(fig, folder / FIGURES[5]))

    set_seed(seed)
    convnet = build_convnet(steps_per_epoch=-(-len(x_fit) // CONVNET_BATCH_SIZE), epochs=conv_epochs)
    convnet.fit(shuffled_batches(scale(x_fit)[..., np.newaxis], y_fit, CONVNET_BATCH_SIZE), epochs=conv_epochs,
                shuffle=False, verbose=0)
    written.append(_save(plots.plot_filters(convnet.get_layer("conv_1").get_weights()[0]), folder / FIGURES[6]))
    return written
