"""Notebook 05's convnet against the classic Keras layout it replaced, in one run, against the arithmetic limit.

Both train on the 60,000 training images as their notebooks train them (set_seed, the tf.data
idiom shuffled every epoch, batch 128): the classic layout 10 epochs at Adam's constant rate
(``choose_convnet.build_classic_convnet``), notebook 05's convnet its own epochs on its one-cycle
schedule (``models.build_convnet``). For each: parameters, multiply-adds per image, FLOP per
epoch (2 for each of a training step's multiply-adds, ``models.multiply_adds(training=True)``: the forward pass
and both gradients, but none for the first layer's input), seconds per epoch (the median of the epochs
after the first, which traces), the total, each as a multiple of the limit (FLOP per epoch at
the peak of a 4096x4096 matrix product, ``training.matmul_peak``), and test accuracy. Then
where the classic layout's step goes: one training step at batch 128 timed as layers are added.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_convnet.py
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import statistics

import keras
import numpy as np
import tensorflow as tf

from choose_convnet import build_classic_convnet
from mnist_tutorial.data import load_mnist
from mnist_tutorial.models import CONVNET_BATCH_SIZE, CONVNET_EPOCHS, build_convnet, multiply_adds
from mnist_tutorial.preprocessing import scale
from mnist_tutorial.training import evaluate, matmul_peak, set_seed, shuffled_batches
from timing import median_seconds, seconds

CLASSIC_EPOCHS = 10


def epoch_seconds(model: keras.Model, data, epochs: int) -> list[float]:
    """Train ``model`` on ``data`` one ``fit`` call per epoch, ``epochs`` of them; return each epoch's seconds.

    One call per epoch trains to the very weights that one call for all the epochs does.
    """
    return [seconds(lambda: model.fit(data, initial_epoch=epoch, epochs=epoch + 1, shuffle=False, verbose=0))[0]
            for epoch in range(epochs)]


def step_seconds(layers: list[keras.layers.Layer], batch: int = 128, steps: int = 30) -> float:
    """Seconds of one training step (forward, gradients, Adam) of ``layers`` then a Dense 10 softmax, at ``batch``."""
    model = keras.Sequential([keras.Input((28, 28, 1)), *layers, keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    optimizer, loss_fn = keras.optimizers.Adam(), keras.losses.SparseCategoricalCrossentropy()
    x, y = tf.random.uniform((batch, 28, 28, 1)), tf.zeros((batch,), tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)

    step()
    return median_seconds(lambda: [step() for _ in range(steps)], repeats=3) / steps


def main() -> None:
    (x_train, y_train), (x_test, y_test) = load_mnist()
    train_images, test_images = scale(x_train)[..., np.newaxis], scale(x_test)[..., np.newaxis]
    peak = matmul_peak()
    print(f"matrix-product peak: {peak / 1e9:.0f} GFLOP/s (NumPy, 4096x4096 float32)\n")
    steps_per_epoch = -(-len(train_images) // CONVNET_BATCH_SIZE)
    contenders = {
        "classic (max pooling)": (build_classic_convnet, CLASSIC_EPOCHS),
        "notebook 05 (strides)": (lambda: build_convnet(steps_per_epoch), CONVNET_EPOCHS),
    }
    print(f"{'convnet':22s} {'params':>8s} {'MACs/img':>9s} {'TFLOP/ep':>8s} {'limit s/ep':>10s} {'s/epoch':>8s} "
          f"{'x limit':>7s} {'epochs':>6s} {'total s':>8s} {'x limit':>7s} {'test acc':>8s}")
    for name, (build, epochs) in contenders.items():
        set_seed(0)
        model = build()
        epochs_seconds = epoch_seconds(model, shuffled_batches(train_images, y_train, CONVNET_BATCH_SIZE), epochs)
        total, per_epoch = sum(epochs_seconds), statistics.median(epochs_seconds[1:])
        flop = 2 * multiply_adds(model, training=True) * len(train_images)
        limit = flop / peak
        accuracy = evaluate(model, test_images, y_test)["accuracy"]
        print(f"{name:22s} {model.count_params():8,d} {multiply_adds(model) / 1e6:8.2f}M {flop / 1e12:8.2f} "
              f"{limit:10.2f} {per_epoch:8.2f} {per_epoch / limit:6.2f}x {epochs:6d} {total:8.1f} "
              f"{total / (limit * epochs):6.2f}x {accuracy:8.2%}", flush=True)

    layers = keras.layers
    stages = {
        "conv_1 (3x3, 32)": [layers.Conv2D(32, 3, activation="relu")],
        "+ pool_1": [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2)],
        "+ conv_2 (3x3, 64)": [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                               layers.Conv2D(64, 3, activation="relu")],
        "+ pool_2": [layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                     layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2)],
        "notebook 05: conv_1 + conv_2, stride 2": [layers.Conv2D(32, 5, strides=2, activation="relu"),
                                                    layers.Conv2D(64, 3, strides=2, activation="relu")],
    }
    print(f"\nwhere the classic step goes: one training step at batch 128, layers added one at a time "
          f"(then a Dense 10), as seconds per epoch of {steps_per_epoch} steps")
    for name, stage in stages.items():
        print(f"  {name:40s} {step_seconds(stage) * steps_per_epoch:6.2f} s", flush=True)


if __name__ == "__main__":
    main()
