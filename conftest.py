"""Test-session set-up shared by the unit tests, the doctests and nbval.

MNIST comes from $MNIST_DATA_DIR, else ../shared/data/mnist, and Fashion-MNIST
from $FASHION_MNIST_DATA_DIR, else ../shared/data/fashion-mnist; without them,
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

from mnist_tutorial.data import FASHION_MNIST, MNIST

matplotlib.use("Agg")

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
SHARED_FOLDERS = ((MNIST, "mnist"), (FASHION_MNIST, "fashion-mnist"))  # each dataset's folder in ../shared/data


def pytest_configure(config: pytest.Config) -> None:
    for source, shared in SHARED_FOLDERS:
        variable = source.env_var
        if not os.environ.get(variable) and (SHARED_DATA / shared).is_dir():
            os.environ[variable] = str(SHARED_DATA / shared)
        folder = os.environ.get(variable)
        if not folder or not Path(folder).is_dir():
            alternative = f" or {source.keras_cache}" if source.is_npz else ""
            raise pytest.UsageError(
                f"The tests read {source.name} from a folder and never download it, but {variable}={folder!r} "
                f"is not a folder. Set {variable} to a folder holding the four official IDX files "
                f"(train-images-idx3-ubyte.gz ...){alternative}."
            )
