"""Train a notebook's model as its notebook trains it: the one way the benchmarks, the figures and the tests do."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from mnist_tutorial.models import CONVNET_BATCH_SIZE, CONVNET_EPOCHS, RECIPES, Recipe, build_convnet
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.training import set_seed, shuffled_batches

#: Notebook 05's convnet, by the name ``train_as_notebook`` knows it by.
CONVNET = "convnet"
#: Notebook 04's last model (and its ``results.TARGETS`` key): notebook 02's net and settings, stopped early.
EARLY_STOPPED = "dense_512_rmsprop_early_stopping"
_EARLY_STOPPED_RECIPE = Recipe(EARLY_STOPPED, (512,), "rmsprop", "categorical_crossentropy", "flatten_and_scale",
                               epochs=20, batch_size=128)


def train_as_notebook(name: str, seed: int, images: np.ndarray, labels: np.ndarray, *, epochs: int | None = None,
                      held_out: float = 0.0, callbacks: Sequence[keras.callbacks.Callback] = ()) -> keras.Model:
    """Train a notebook's model from ``seed`` as its notebook trains it, and return it (``model.history`` is fit's).

    ``set_seed(seed)``, the model built, then ``fit`` on ``shuffled_batches`` (a new order every epoch) of the
    images prepared as the notebook prepares them: seed 0 on the 60,000 training images gives the notebook's model.

    Args:
        name: a recipe of ``models.RECIPES``; ``CONVNET``, notebook 05's convnet, its one-cycle schedule spanning
            ``epochs``; or ``EARLY_STOPPED``, notebook 04's last model, at most 20 epochs on the first 90% of the
            images, stopped once the loss on the last 10% has not fallen for 2 epochs, the best epoch's weights kept.
        seed: the seed set before the model is built.
        images: uint8 training images, (n, 28, 28).
        labels: their digits.
        epochs: the notebook's by default.
        held_out: the fraction of the images, the last ones, that ``fit`` only validates on; none by default.
        callbacks: for ``fit``.

    Returns:
        The trained model.

    Raises:
        KeyError: for a name that is none of these.

    >>> model = train_as_notebook("adam_64", 0, np.zeros((40, 28, 28), np.uint8), np.arange(40) % 10, epochs=1)
    >>> model.name, len(model.history.history["loss"])
    ('adam_64', 1)
    """
    if name == CONVNET:
        x, y, batch_size, epochs = scale(images)[..., np.newaxis], labels, CONVNET_BATCH_SIZE, epochs or CONVNET_EPOCHS
        set_seed(seed)
        model = build_convnet(-(-len(x) // batch_size), epochs)
    else:
        recipe = _EARLY_STOPPED_RECIPE if name == EARLY_STOPPED else RECIPES[name]
        (x, y), batch_size, epochs = recipe.prepare(images, labels), recipe.batch_size, epochs or recipe.epochs
        set_seed(seed)
        model = recipe.build()
    if name == EARLY_STOPPED:
        held_out = held_out or 0.1
        callbacks = [*callbacks, keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)]
    split = int(len(x) * (1 - held_out))
    model.fit(shuffled_batches(x[:split], y[:split], batch_size), epochs=epochs, shuffle=False, verbose=0,
              validation_data=(x[split:], y[split:]) if held_out else None, callbacks=list(callbacks))
    return model
