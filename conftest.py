"""Test-session set-up shared by the unit tests, the doctests and nbval.

MNIST comes from $MNIST_DATA_DIR, else ../shared/data/mnist; with neither,
the run stops at once with instructions, rather than letting a test try a
download. Matplotlib draws off-screen in this process only.

Nothing else is put in the environment: nbval's kernels inherit it, and they
must start as clean as a reader's kernel in JupyterLab, so that each notebook
is shown to quiet TensorFlow by itself. (pytest's capture keeps TensorFlow's
own stderr lines out of the test report.)
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data" / "mnist"


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("MNIST_DATA_DIR") and SHARED_DATA.is_dir():
        os.environ["MNIST_DATA_DIR"] = str(SHARED_DATA)
    folder = os.environ.get("MNIST_DATA_DIR")
    if not folder or not Path(folder).is_dir():
        raise pytest.UsageError(
            f"The tests read MNIST from a folder and never download it, but MNIST_DATA_DIR={folder!r} "
            "is not a folder. Set MNIST_DATA_DIR to a folder holding the four official IDX files "
            "(train-images-idx3-ubyte.gz ...) or mnist.npz."
        )
