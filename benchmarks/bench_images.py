"""How long ``prepare_image`` takes for photos from 28x28 to 6000x4000 (24 megapixels): arrays, JPEG and PNG files.

Each photo is one MNIST test digit rendered as a photo (mnist_tutorial.images.render_photo),
enlarged to the size, with sensor noise so the files compress as photos do. Medians of
5 runs. The reference, measured in the same run, is ``read_image`` at full size: what
decoding the photo and making it gray cost before any of the preparation.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_images.py
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from mnist_tutorial.data import load_mnist
from mnist_tutorial.images import prepare_image, read_image, render_photo
from timing import median_seconds  # benchmarks/timing.py, beside this script

SIZES = [(28, 28), (480, 640), (800, 800), (1200, 1600), (3000, 4000), (4000, 6000)]
REPEATS = 5


def main() -> None:
    _, (x_test, _) = load_mnist()
    rng = np.random.default_rng(0)
    photo = render_photo(x_test[0], "uneven light", rng)
    folder = Path(tempfile.mkdtemp())
    print(f"{'size':>11s} {'input':>6s} {'read_image':>10s} {'prepare_image':>13s} {'ratio':>6s}")
    worst = 0.0
    for height, width in SIZES:
        image = tf.image.resize(photo, (height, width), method="bilinear", antialias=True).numpy()
        noise = rng.normal(0, 4, image.shape)
        image = np.clip(image + noise, 0, 255).round().astype(np.uint8)
        sources = {"array": image}
        (folder / "photo.jpg").write_bytes(tf.io.encode_jpeg(image, quality=90).numpy())
        (folder / "photo.png").write_bytes(tf.io.encode_png(image).numpy())
        sources["jpeg"], sources["png"] = folder / "photo.jpg", folder / "photo.png"
        for kind, source in sources.items():
            reference = median_seconds(lambda: read_image(source), REPEATS)
            prepared = median_seconds(lambda: prepare_image(source), REPEATS)
            worst = max(worst, prepared)
            print(f"{height:5d}x{width:<5d} {kind:>6s} {reference:9.3f}s {prepared:12.3f}s {prepared / reference:6.2f}")
    print(f"slowest prepare_image: {worst:.3f} s (median of {REPEATS})")


if __name__ == "__main__":
    main()
