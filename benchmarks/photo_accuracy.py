"""How well the notebooks' models read real handwriting photographed: MNIST test digits rendered as photos.

Renders the first N MNIST test digits as photos (mnist_tutorial.images.render_photos, one condition
per photo, seeded), prepares each with ``prepare_image``, and compares two models' accuracy on
the prepared photos with their accuracy on the same digits as MNIST gives them: notebook 03's
512-unit Adam MLP (RECIPES["adam_512"]) and notebook 05's convnet, each trained as its notebook
trains it, from seed 0. Prints the accuracy per condition, so the weak ones show, and the
same without ``even_strokes`` (the step that brings strokes to MNIST's width), so what it
gains or costs shows.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/photo_accuracy.py [--digits 1050]
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse

import numpy as np

from mnist_tutorial.data import load_mnist
from mnist_tutorial.images import (PHOTO_CONDITIONS, WORKING_SIZE, center_by_mass, ink_on_black, prepare_image,
                                   read_image, render_photos)
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.tools.recipes import CONVNET, train_as_notebook
from timing import seconds


def without_even_strokes(photo: np.ndarray) -> np.ndarray:
    """``prepare_image`` without its ``even_strokes`` step: the strokes keep the width they were photographed with."""
    digit = center_by_mass(ink_on_black(read_image(photo, shorter_side=WORKING_SIZE)))
    return digit / digit.max()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=1050, help="how many test digits to render (default 1050)")
    digits = parser.parse_args().digits
    (x_train, y_train), (x_test, y_test) = load_mnist()

    rendered, (photos, conditions) = seconds(lambda: render_photos(x_test[:digits]))
    prepared_in, (prepared, unevened) = seconds(lambda: (np.stack([prepare_image(photo) for photo in photos]),
                                                         np.stack([without_even_strokes(photo) for photo in photos])))
    print(f"{digits} photos rendered in {rendered:.0f} s, prepared in {prepared_in:.0f} s")
    truth, conditions = y_test[:digits], np.array(conditions)

    models = {
        "adam_512 (notebook 03)": (train_as_notebook("adam_512", 0, x_train, y_train),
                                   lambda images: images.reshape(len(images), 784)),
        "convnet (notebook 05)": (train_as_notebook(CONVNET, 0, x_train, y_train), lambda images: images[..., np.newaxis]),
    }
    print(f"\n{'model':24s} {'MNIST':>7s} {'photos':>7s} {'loss':>7s} {'without even_strokes':>20s}")
    right = {}
    for name, (model, shape) in models.items():
        original = model.predict(shape(scale(x_test[:digits])), verbose=0).argmax(1) == truth
        right[name] = model.predict(shape(prepared), verbose=0).argmax(1) == truth
        uneven = model.predict(shape(unevened), verbose=0).argmax(1) == truth
        print(f"{name:24s} {original.mean():7.2%} {right[name].mean():7.2%} "
              f"{100 * (original.mean() - right[name].mean()):6.2f} pt {uneven.mean():20.2%}")
    print(f"\n{'condition':22s} {'photos':>6s} " + " ".join(f"{name.split()[0]:>9s}" for name in models))
    for condition in PHOTO_CONDITIONS:
        chosen = conditions == condition
        print(f"{condition:22s} {chosen.sum():6d} " + " ".join(f"{right[name][chosen].mean():9.1%}" for name in models))


if __name__ == "__main__":
    main()
