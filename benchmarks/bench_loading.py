"""Time loading MNIST: the gzip IDX folder and a Keras mnist.npz, verified and not; medians of several runs.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_loading.py
The reference in the same run is plain gzip + numpy decoding with no checks, the floor a loader can reach.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np

from mnist_tutorial.data import IDX_NAMES, load_mnist
from timing import median_seconds  # benchmarks/timing.py, beside this script

REPEATS = 7


def plain_decode(folder: Path) -> None:
    for name in IDX_NAMES.values():
        content = gzip.decompress((folder / f"{name}.gz").read_bytes())
        np.frombuffer(content, np.uint8, offset=16 if "images" in name else 8)


def main() -> None:
    folder = Path(os.environ.get("MNIST_DATA_DIR", "../shared/data/mnist"))
    (x_train, y_train), (x_test, y_test) = load_mnist(folder)
    with tempfile.TemporaryDirectory() as npz_folder:
        np.savez(Path(npz_folder) / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
        timings = {
            "reference: gzip + numpy, no checks": median_seconds(lambda: plain_decode(folder), REPEATS),
            "load_mnist(gzip folder)": median_seconds(lambda: load_mnist(folder), REPEATS),
            "load_mnist(gzip folder, verify=False)": median_seconds(lambda: load_mnist(folder, verify=False), REPEATS),
            "load_mnist(mnist.npz)": median_seconds(lambda: load_mnist(npz_folder), REPEATS),
            "load_mnist(mnist.npz, verify=False)": median_seconds(lambda: load_mnist(npz_folder, verify=False), REPEATS),
        }
    reference = next(iter(timings.values()))
    print(f"median of {REPEATS} runs")
    for name, seconds in timings.items():
        print(f"{name:40s} {seconds:6.3f} s  {seconds / reference:4.2f}x reference")


if __name__ == "__main__":
    main()
