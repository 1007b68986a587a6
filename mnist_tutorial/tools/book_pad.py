"""The digit pad in the book: notebook 05's convnet exported for the page, which reads drawings with it, no kernel.

``export`` writes what the page needs into a folder that the book's build serves as
``_static/pad/``: the convnet's description (``convnet.json``: its layers, their shapes and
activations, where each one's weights lie) and its weights (``convnet.bin``, float32, as
trained: 225,546 of them, 902 KB), beside the widget's own front end (``pad.js``,
``pad.css``) and ``book_pad.js``, which prepares a drawing as ``mnist_tutorial.pad.read_drawing``
does and runs the forward pass in plain JavaScript. Nothing comes from outside the site.

``pad_html`` is the pad's output on the page: the pad's picture, which the script replaces
with the live pad once the convnet has loaded, and one sentence.

Needs Keras to read the saved model (``export``); the rest needs nothing.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # mnist_tutorial/
#: The files of the page's pad, served from ``_static/pad/``: the widget's front end and the page's reader.
FRONT_END = (PACKAGE / "pad.js", PACKAGE / "pad.css", Path(__file__).with_name("book_pad.js"))
DESCRIPTION, WEIGHTS, PICTURE = "convnet.json", "convnet.bin", "pad.png"
#: What the page says under the live pad: where it reads, and where the notebook's pad reads.
LIVE_SENTENCE = ("This pad reads your drawing in the page, with notebook 05's convnet as it was when the book was built; "
                 "the notebook's own pad reads it in the kernel, in JupyterLab.")
#: Layers that pass their input on unchanged at inference: random augmentation, dropout, the input.
IDENTITY = ("InputLayer", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomFlip", "Dropout",
            "SpatialDropout2D", "GaussianNoise")
ACTIVATIONS = ("relu", "linear", "softmax")


def _activation(layer) -> str:
    """A layer's activation by name; ValueError for one the page's forward pass does not have."""
    name = getattr(layer.activation, "__name__", type(layer.activation).__name__)
    if name not in ACTIVATIONS:
        raise ValueError(f"layer {layer.name!r}: the book's pad computes {', '.join(ACTIVATIONS)}, not {name}")
    return name


def _weights(layer, offset: int) -> tuple[dict, list]:
    """A Conv2D's or Dense's kernel and bias as (where they lie from ``offset``, the float32 arrays)."""
    import numpy as np

    if not layer.use_bias:
        raise ValueError(f"layer {layer.name!r}: the book's pad needs a bias")
    kernel, bias = (np.asarray(array, dtype="<f4") for array in layer.get_weights())
    spec = {"kernel": {"shape": list(kernel.shape), "offset": offset, "size": int(kernel.size)},
            "bias": {"shape": list(bias.shape), "offset": offset + int(kernel.size), "size": int(bias.size)}}
    return spec, [kernel, bias]


def layer_spec(layer, offset: int) -> tuple[dict | None, list]:
    """What the page's forward pass needs of one Keras layer, and its weights; None for a layer it skips.

    Raises:
        ValueError: naming the layer, for one the page cannot compute.
    """
    kind = type(layer).__name__
    if kind in IDENTITY:
        return None, []
    if kind == "Flatten":
        return {"name": layer.name, "type": "flatten"}, []
    if kind == "Dense":
        spec, arrays = _weights(layer, offset)
        return {"name": layer.name, "type": "dense", "activation": _activation(layer), **spec}, arrays
    if kind == "Conv2D":
        if (layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1
                or layer.padding not in ("valid", "same")):
            raise ValueError(f"layer {layer.name!r}: the book's pad computes channels-last Conv2D, undilated, "
                             "ungrouped, with 'valid' or 'same' padding")
        spec, arrays = _weights(layer, offset)
        return {"name": layer.name, "type": "conv2d", "activation": _activation(layer), "padding": layer.padding,
                "strides": list(layer.strides), **spec}, arrays
    raise ValueError(f"layer {layer.name!r} ({kind}): the book's pad computes Conv2D, Dense and Flatten "
                     f"(and skips {', '.join(IDENTITY)})")


def describe(model) -> tuple[dict, bytes]:
    """A Keras Sequential digit model as the page's description and its weights' bytes (float32, little-endian).

    Raises:
        ValueError: for a model the page cannot feed or compute, naming what does not fit.
    """
    shape = tuple(model.input_shape[1:])
    if shape not in ((28, 28, 1), (784,)):
        raise ValueError(f"the book's pad feeds a digit as (28, 28, 1) or (784,); this model takes {shape}")
    layers, arrays = [], []
    for layer in model.layers:
        spec, weights = layer_spec(layer, sum(int(array.size) for array in arrays))
        if spec is not None:
            layers.append(spec)
            arrays.extend(weights)
    if not layers or layers[-1]["type"] != "dense" or layers[-1]["kernel"]["shape"][-1] != 10:
        raise ValueError("the book's pad needs a model that ends in a Dense layer of ten outputs")
    data = b"".join(array.tobytes() for array in arrays)
    description = {"format": "mnist-tutorial book pad 1", "name": model.name, "input": list(shape), "layers": layers,
                   "weights": WEIGHTS, "parameters": len(data) // 4, "sha256": hashlib.sha256(data).hexdigest()}
    return description, data


def export(model: str | os.PathLike, folder: str | Path, picture: Path | None = None) -> dict:
    """Write the page's pad into ``folder``: the model saved at ``model`` (a .keras file) described and its weights,
    the front end's files, and ``picture`` (the pad's, shown until the live pad replaces it); return the description.

    Raises:
        FileNotFoundError: if there is no saved model at ``model``.
        ValueError: for a model the page cannot compute (``describe``).
    """
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"no saved model at {path}")
    import keras  # only here: the rest of the book needs no TensorFlow (book.main quiets it first)

    from mnist_tutorial.pad import CANVAS, PEN_WIDTH

    description, data = describe(keras.saving.load_model(path, compile=False))
    description.update(canvas=CANVAS, pen_width=PEN_WIDTH)  # the widget's canvas, which the page's pad draws on
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS).write_bytes(data)
    (folder / DESCRIPTION).write_text(json.dumps(description, indent=1) + "\n")
    for source in FRONT_END:
        shutil.copyfile(source, folder / source.name)
    if picture is not None and picture.is_file():
        shutil.copyfile(picture, folder / PICTURE)
    return description


def pad_html(static: str, alt: str) -> str:
    """The pad's output on a page whose ``_static/pad/`` is at ``static`` (relative): picture, live pad, sentence.

    The picture shows until the convnet has loaded, and stays where scripts do not run (a page opened as a file).

    >>> print(pad_html("../_static/pad", "A pad").splitlines()[0])
    <div class="digit-pad-book" data-model="../_static/pad/convnet.json">
    """
    return "\n".join([
        f'<div class="digit-pad-book" data-model="{static}/{DESCRIPTION}">',
        f'<img class="digit-pad-book-picture" src="{static}/{PICTURE}" alt="{html.escape(alt)}">',
        '<p class="digit-pad-book-status"></p>',
        "</div>",
        f'<link rel="stylesheet" href="{static}/pad.css">',
        f'<script type="module" src="{static}/book_pad.js"></script>',
        f"<p><em>{html.escape(LIVE_SENTENCE)}</em></p>",
    ])
