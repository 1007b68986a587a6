"""Seed, shuffle into batches, train by hand, and evaluate: what goes around ``model.fit`` and what it does inside."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from mnist_tutorial.models import multiply_adds


def set_seed(seed: int) -> None:
    """Make a run repeatable: ``keras.utils.set_random_seed(seed)`` and TensorFlow's op determinism.

    After the same ``set_seed``, two trainings give bit-identical weights on the same machine.

    Raises:
        ValueError: for a negative or non-integer seed.

    >>> set_seed(0); a = np.random.rand()
    >>> set_seed(0); a == np.random.rand()
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    keras.utils.set_random_seed(int(seed))
    tf.config.experimental.enable_op_determinism()


def _check_positive_integers(**values: int) -> None:
    """Raise ValueError naming the first of ``values`` that is not a positive integer (``True`` is not one)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def shuffled_batches(x: np.ndarray, y: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """Return ``(x, y)`` as a ``tf.data`` pipeline that draws a new order every epoch, in batches.

    ``tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)``: what the
    notebooks feed ``model.fit(dataset, shuffle=False)`` (notebook 06 explains why).

    Args:
        x: the inputs, one sample per row.
        y: the targets, as many as ``x`` has samples.
        batch_size: samples per batch; the last batch holds the rest.

    Returns:
        A ``tf.data.Dataset`` of ``(x, y)`` batches.

    Raises:
        ValueError: if ``x`` and ``y`` differ in length, ``x`` is empty or
            ``batch_size`` is not a positive integer.

    Copy along: ``_check_positive_integers``.

    >>> keras.utils.set_random_seed(0)
    >>> data = shuffled_batches(np.arange(5), np.arange(5), batch_size=2)
    >>> [[int(v) for v in x] for x, _ in data], [[int(v) for v in x] for x, _ in data]
    ([[3, 0], [4, 1], [2]], [[4, 2], [3, 0], [1]])
    """
    _check_positive_integers(batch_size=batch_size)
    lengths = [len(a) if np.ndim(a) else 0 for a in (x, y)]
    if lengths[0] == 0 or lengths[0] != lengths[1]:
        raise ValueError(f"x and y must hold the same, non-zero number of samples, got {lengths}")
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size)


class FusedRMSprop:
    """RMSprop as Keras defines it, each weight updated by TensorFlow's one fused kernel ``ResourceApplyRMSProp``.

    Per weight ``w`` with gradient ``g`` (Keras' defaults, no momentum):
    ``ms = rho * ms + (1 - rho) * g**2`` and ``w -= learning_rate * g / sqrt(ms + epsilon)``.
    Keras' ``RMSprop`` runs about ten element-wise kernels for that; this runs one, with
    the same formula and different rounding. Use it like a Keras optimizer: ``apply(gradients, variables)``.

    Args:
        learning_rate: the step size.
        rho: the decay of the moving average of squared gradients.
        epsilon: added to that average under the square root.

    >>> weight = keras.Variable([1.0, -2.0])
    >>> optimizer = FusedRMSprop()
    >>> optimizer.apply([tf.constant([0.5, 0.5])], [weight])
    >>> weight.numpy().round(5)  # 1 - 0.001 * 0.5 / sqrt(0.1 * 0.25 + 1e-7)
    array([ 0.99684, -2.00316], dtype=float32)
    """

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7) -> None:
        self.learning_rate, self.rho, self.epsilon = learning_rate, rho, epsilon
        self.mean_squares: list[tf.Variable] = []
        self.momentums: list[tf.Variable] = []

    def build(self, variables: list[keras.Variable]) -> None:
        """Create the moving average of squared gradients (and an unused momentum) for each variable, as zeros."""
        self.mean_squares = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in variables]
        self.momentums = [tf.Variable(tf.zeros(v.shape, v.dtype), trainable=False) for v in variables]

    def apply(self, gradients: list[tf.Tensor], variables: list[keras.Variable]) -> None:
        """Update each variable in place from its gradient; the first call builds the optimizer's state."""
        if not self.mean_squares:
            self.build(variables)
        for gradient, variable, mean_square, momentum in zip(gradients, variables, self.mean_squares, self.momentums):
            tf.raw_ops.ResourceApplyRMSProp(
                var=variable.value.handle, ms=mean_square.handle, mom=momentum.handle, lr=self.learning_rate,
                rho=self.rho, momentum=0.0, epsilon=self.epsilon, grad=gradient)


def _training_tensors(x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int) -> tuple[tf.Tensor, tf.Tensor, int]:
    """Return ``x`` and ``y`` as tensors and their number of samples, after checking what ``train_by_hand`` is given.

    Copy along: ``_check_positive_integers``.

    Raises:
        ValueError: if ``x`` and ``y`` differ in length or are empty, or ``epochs`` or ``batch_size`` is not a
            positive integer.
    """
    _check_positive_integers(epochs=epochs, batch_size=batch_size)
    num_samples = len(x) if np.ndim(x) else 0
    if num_samples == 0 or num_samples != (len(y) if np.ndim(y) else 0):
        raise ValueError(f"x and y must hold the same, non-zero number of samples, got {np.shape(x)} and {np.shape(y)}")
    return tf.constant(x), tf.constant(y), num_samples


def train_by_hand(model: keras.Model, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, loss_fn: keras.losses.Loss,
                  optimizer: keras.optimizers.Optimizer, metric: keras.metrics.Metric) -> dict[str, list[float]]:
    """Train ``model`` as ``fit`` does on ``shuffled_batches``, in the loop notebook 06 writes by hand: one graph call per epoch.

    Each epoch's order is the one ``shuffled_batches`` draws; with ``RMSprop()``, epoch 1 learns ``fit``'s weights bit for bit.
    Copy along: ``_training_tensors``.

    Args:
        model: a Keras model, built.
        x, y: the inputs, one sample per row, and as many targets.
        epochs, batch_size: passes over the data, and samples per step (the last batch holds the rest).
        loss_fn: the loss, such as ``keras.losses.CategoricalCrossentropy()``.
        optimizer: anything with ``apply(gradients, variables)``: a Keras optimizer, or ``FusedRMSprop``.
        metric: tracked on the training batches, such as ``keras.metrics.CategoricalAccuracy()``.

    Returns:
        ``{"loss": [...], metric name: [...]}``, one value per epoch, like ``fit``'s ``history.history``.

    Raises:
        ValueError: if ``x`` and ``y`` differ in length or are empty, or ``epochs`` or ``batch_size`` is not a positive integer.

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    >>> train_by_hand(model, np.eye(2, dtype="float32"), np.array([0, 1]), 3, 1, keras.losses.SparseCategoricalCrossentropy(),
    ...               keras.optimizers.RMSprop(), keras.metrics.SparseCategoricalAccuracy(name="accuracy")).keys()
    dict_keys(['loss', 'accuracy'])
    """
    x, y, num_samples = _training_tensors(x, y, epochs, batch_size)
    orders = tf.data.Dataset.range(num_samples).shuffle(num_samples).batch(num_samples)
    mean_loss = keras.metrics.Mean()

    @tf.function
    def train_epoch(order):
        for start in tf.range(0, num_samples, batch_size):
            batch = order[start:start + batch_size]
            x_batch, y_batch = tf.gather(x, batch), tf.gather(y, batch)
            with tf.GradientTape() as tape:
                predictions = model(x_batch, training=True)
                loss = loss_fn(y_batch, predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            mean_loss.update_state(loss, sample_weight=tf.shape(x_batch)[0])
            metric.update_state(y_batch, predictions)
    history: dict[str, list[float]] = {"loss": [], metric.name: []}
    for _ in range(epochs):
        mean_loss.reset_state()
        metric.reset_state()
        train_epoch(orders.get_single_element())
        history["loss"].append(float(mean_loss.result()))
        history[metric.name].append(float(metric.result()))
    return history


def _median_seconds(run: Callable[[], object], repeats: int) -> float:
    """Call ``run`` once to warm up, then ``repeats`` times, and return the median of those calls' seconds."""
    run()
    seconds = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds)


def matmul_peak(size: int = 4096, repeats: int = 5) -> float:
    """Return this machine's matrix-product speed in FLOP/s: the fastest of ``repeats`` float32 products in NumPy.

    A product of two ``size`` x ``size`` matrices costs ``2 * size**3`` floating-point operations. The fastest
    product, not the median, since whatever else runs on the machine can only slow a product down.

    Args:
        size: the matrices' side.
        repeats: the products timed, after one that warms up.

    Returns:
        Floating-point operations per second.

    Raises:
        ValueError: unless ``size`` and ``repeats`` are positive.

    >>> flop_per_epoch = 2 * (2 * 784 * 512 + 3 * 512 * 10) * 60_000  # notebook 02's net: its products in an epoch
    >>> print(f"{flop_per_epoch / 1e9:.1f} GFLOP, {flop_per_epoch / matmul_peak(size=512, repeats=3):.2f} s at that speed")
    98.2 GFLOP, ... s at that speed
    """
    if size <= 0 or repeats <= 0:
        raise ValueError(f"size and repeats must be positive, got {size} and {repeats}")
    a, b = (np.random.default_rng(seed).random((size, size), dtype=np.float32) for seed in (0, 1))
    a @ b  # the first product warms up
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    return 2 * size**3 / min(seconds)


def _dense_kernel_shapes(model: keras.Model) -> list[tuple[int, ...]]:
    """Return the kernel shapes of the model's weighted layers, or raise ValueError unless all are ``Dense`` (one or more)."""
    weighted = [layer for layer in model.layers if layer.weights]
    if not weighted or not all(isinstance(layer, keras.layers.Dense) for layer in weighted):
        raise ValueError(f"need a model whose weighted layers are all Dense, got "
                         f"{[type(layer).__name__ for layer in weighted]}")
    return [tuple(layer.kernel.shape) for layer in weighted]


def _training_products(shapes: list[tuple[int, ...]], batch_size: int, steps: int) -> Callable[[], tf.Tensor]:
    """Return a graph function that runs ``steps`` training steps' matrix products, and nothing else, on random data.

    Each step runs ``a @ w`` forward through kernels of these shapes, then backward ``a.T @ d`` (the gradient
    of each kernel) and ``d @ w.T`` (the gradient of each layer's input, but the first's). The function
    returns a sum over the products, so that none of them is left out of the graph.
    """
    xs = tf.random.stateless_uniform((steps, batch_size, shapes[0][0]), seed=(0, 0))
    kernels = [tf.random.stateless_uniform(shape, seed=(0, k + 1), maxval=0.01) for k, shape in enumerate(shapes)]

    @tf.function
    def run():
        total = tf.constant(0.0)
        for i in tf.range(steps):
            inputs = [xs[i]]
            for kernel in kernels:
                inputs.append(inputs[-1] @ kernel)
            d = inputs.pop()
            for k in reversed(range(len(kernels))):
                total += tf.reduce_sum(tf.transpose(inputs[k]) @ d)
                if k > 0:
                    d = d @ tf.transpose(kernels[k])
        return total

    return run


def step_matmul_peak(model: keras.Model, batch_size: int = 128, steps: int = 100, repeats: int = 5) -> float:
    """Return TensorFlow's matrix-product speed in FLOP/s at the shapes of a dense model's training step.

    Each step runs the products a training step of ``model`` runs, and nothing else: ``a @ w``
    forward through every layer, then backward ``a.T @ d`` (the gradient of each layer's weights)
    and ``d @ w.T`` (the gradient of each layer's input, but the first's), on random float32
    data, with the model's kernel shapes (its weights are not used). ``steps`` steps run in one
    graph call; the result is the median of ``repeats`` calls, after one that traces.

    Copy along: ``multiply_adds``, from the models module; ``_check_positive_integers``, ``_dense_kernel_shapes``,
    ``_training_products``, ``_median_seconds``.

    Args:
        model: a built model whose weighted layers are ``Dense`` layers, such as notebook 02's.
        batch_size: the rows of each step's input.
        steps: the steps per call.
        repeats: the calls timed.

    Returns:
        Floating-point operations per second: 2 for each of ``multiply_adds(model, training=True)``, per row.

    Raises:
        ValueError: unless the model's weighted layers are all ``Dense`` (one or more) and
            ``batch_size``, ``steps`` and ``repeats`` are positive integers.

    >>> model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(512), keras.layers.Dense(10)])
    >>> flop_per_step = 2 * multiply_adds(model, training=True) * 128  # notebook 02's net, at batch 128
    >>> print(f"{flop_per_step / 1e6:.0f} MFLOP a step, "
    ...       f"{flop_per_step / step_matmul_peak(model, steps=2, repeats=1) * 1e3:.2f} ms at that speed")
    209 MFLOP a step, ... ms at that speed
    """
    _check_positive_integers(batch_size=batch_size, steps=steps, repeats=repeats)
    run = _training_products(_dense_kernel_shapes(model), batch_size, steps)
    seconds = _median_seconds(lambda: run().numpy(), repeats)
    return 2 * multiply_adds(model, training=True) * batch_size * steps / seconds


def evaluate(model: keras.Model, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Return the model's loss and accuracy on ``(x, y)`` as a dict of floats.

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(10, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> sorted(evaluate(model, np.zeros((4, 2)), np.zeros(4)))
    ['accuracy', 'loss']
    """
    results = model.evaluate(x, y, batch_size=1000, verbose=0, return_dict=True)
    return {name: float(value) for name, value in results.items()}


def predict_classes(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Return the most probable digit for each input, ``argmax`` of ``model.predict``.

    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    >>> model.set_weights([np.eye(2), np.zeros(2)])  # class 0 for a larger first input, class 1 otherwise
    >>> predict_classes(model, np.array([[5.0, 0.0], [0.0, 5.0], [1.0, 3.0]]))
    array([0, 1, 1])
    """
    return np.argmax(model.predict(x, batch_size=1000, verbose=0), axis=1)


def _check_labels(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return both label arrays, or raise ValueError unless they are 1-D integer arrays of one length."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} must be a 1-D array of integer labels, got shape {labels.shape} of {labels.dtype}")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    return y_true, y_pred


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Count each (true, predicted) pair with ``tf.math.confusion_matrix``: rows true, columns predicted.

    Copy along: ``_check_labels``.

    Raises:
        ValueError: unless both are 1-D integer label arrays of one length.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)
    array([[1, 0],
           [1, 1]], dtype=int32)
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return tf.math.confusion_matrix(y_true, y_pred, num_classes=num_classes).numpy()


def misclassified(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Return the indices where the prediction differs from the true label.

    Copy along: ``_check_labels``.

    Raises:
        ValueError: unless both are 1-D integer label arrays of one length.

    >>> misclassified([7, 2, 1, 0], [7, 3, 1, 6])
    array([1, 3])
    """
    y_true, y_pred = _check_labels(y_true, y_pred)
    return np.flatnonzero(y_true != y_pred)
