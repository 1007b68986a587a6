"""Helpers for the MNIST tutorial notebooks: data, preprocessing, models, training, images and plots.

>>> import mnist_tutorial
>>> mnist_tutorial.load_mnist is mnist_tutorial.data.load_mnist
True
"""

import importlib.util

if importlib.util.find_spec("tensorflow") is None:
    raise ImportError(
        "mnist_tutorial needs TensorFlow, and none is installed. Install the project with the TensorFlow for "
        'your machine: pip install -e ".[cpu]" (no GPU), or pip install -e ".[gpu]" (Linux with an NVIDIA GPU). '
        "Or install TensorFlow your own way (conda, pip install tensorflow) and the project after it."
    )

from mnist_tutorial import data  # noqa: E402
from mnist_tutorial.data import load_mnist  # noqa: E402

__all__ = ["data", "load_mnist"]
__version__ = "0.1.0"
