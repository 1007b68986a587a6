"""Helpers for the MNIST tutorial notebooks: data, preprocessing, models, training, images and plots.

>>> import mnist_tutorial
>>> mnist_tutorial.load_mnist is mnist_tutorial.data.load_mnist
True
"""

from mnist_tutorial import data
from mnist_tutorial.data import load_mnist

__all__ = ["data", "load_mnist"]
__version__ = "0.1.0"
