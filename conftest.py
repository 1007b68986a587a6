"""Test-session set-up shared by the unit tests, the doctests and nbval.

TensorFlow's C++ logging is quieted and matplotlib draws off-screen. MNIST
comes from $MNIST_DATA_DIR, else ../shared/data/mnist; with neither, the
run stops at once with instructions, rather than letting a test try a download.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

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
