"""The peers in bench_training.py's run: notebook 02's net and notebook 05's convnet in PyTorch, and in Keras 3 on JAX.

bench_training.py starts every measurement here in a process of its own (Keras picks its backend when it is
imported, and each library's thread pools would compete with TensorFlow's in one process), with TensorFlow's
thread count, and reads the one line of JSON it prints last:

  python benchmarks/peers.py CONTENDER --seed S --epochs E --threads N [--learning-rates FILE.npy]

  torch_dataloader  notebook 02's net in PyTorch: Linear 512, ReLU, Linear 10, cross-entropy on the logits, RMSprop
                    with Keras' settings (PyTorch's defaults are lr=0.01, alpha=0.99, eps=1e-8), batch 128, fed by
                    DataLoader(TensorDataset(x, y), batch_size=128, shuffle=True): a new order every epoch
  torch_indices     the same net, fed by a loop over torch.randperm's indices: a new order every epoch
  torch_compiled    torch_indices with torch.compile on the whole step (forward, backward and RMSprop)
  torch_convnet     notebook 05's convnet in PyTorch (the same random shift, layers, dropout, Adam with Keras'
                    epsilon on the learning rates of the schedule, from --learning-rates), fed as torch_indices
  jax_dense         notebook 02's model, compile and fit unchanged (models.RECIPES, the tf.data idiom), on JAX
  jax_convnet       notebook 05's convnet (models.build_convnet) and fit unchanged, on JAX
  torch_products, jax_products
                    the seconds of a 4096x4096 float32 product, and of --steps steps of a dense step's products at
                    --layer-sizes and batch 128 (as training.step_matmul_peak runs them in TensorFlow)
  torch_stages, jax_stages
                    seconds per epoch of the dense net's step built up in stages, as bench_training.py's (e) does:
                    torch_indices' step, and the same step written in raw JAX
Each training contender trains 1 + E epochs, one to warm up (tracing, compiling) and E timed, and reports the
seconds per timed epoch and the test accuracy after them all. Both libraries keep their own weight initialisation.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from mnist_tutorial.data import load_mnist
from timing import seconds, warm_median  # benchmarks/timing.py, beside this script

BATCH = 128


def timed_epochs(train_epoch, epochs: int) -> float:
    """Run one epoch to warm up, then return the seconds per epoch of ``epochs`` more."""
    train_epoch()
    return seconds(lambda: [train_epoch() for _ in range(epochs)])[0] / epochs


def torch_data(convnet: bool):
    """MNIST as PyTorch tensors: images in [0, 1] (flat, or N x 1 x 28 x 28) and integer labels."""
    import torch

    (x_train, y_train), (x_test, y_test) = load_mnist()
    shape = (-1, 1, 28, 28) if convnet else (-1, 28 * 28)
    return [torch.from_numpy(x.reshape(shape).astype(np.float32) / 255) for x in (x_train, x_test)], [
        torch.from_numpy(y.astype(np.int64)) for y in (y_train, y_test)]


def torch_shift():
    """Keras' RandomTranslation(0.08, 0.08, fill_mode="constant", interpolation="nearest") as a PyTorch module."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class RandomShift(nn.Module):
        """While training, move each image by up to 8% of its size each way, nearest pixel, zeros beyond the edge."""

        def forward(self, x):
            if not self.training:
                return x
            theta = torch.zeros(len(x), 2, 3)
            theta[:, 0, 0] = theta[:, 1, 1] = 1
            theta[:, :, 2] = (torch.rand(len(x), 2) * 2 - 1) * 0.08 * 2  # the grid spans [-1, 1]: 2 per image size
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)

    return RandomShift()


def torch_model(convnet: bool):
    """Notebook 02's 784-512-10 net, or notebook 05's convnet, in PyTorch; both end in logits."""
    from torch import nn

    if not convnet:
        return nn.Sequential(nn.Linear(28 * 28, 512), nn.ReLU(), nn.Linear(512, 10))
    return nn.Sequential(torch_shift(), nn.Conv2d(1, 32, 5, stride=2), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2),
                         nn.ReLU(), nn.Flatten(), nn.Dropout(0.25), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_training(contender: str, seed: int, epochs: int, learning_rates: str | None) -> dict:
    """Train one PyTorch contender; return its seconds per timed epoch and its test accuracy."""
    import torch

    torch.manual_seed(seed)
    convnet = contender == "torch_convnet"
    (x, test_x), (y, test_y) = torch_data(convnet)
    model = torch_model(convnet)
    rates = np.load(learning_rates) if convnet else None  # the one-cycle schedule's rate at every step (models.one_cycle)
    per_epoch = timed_epochs(torch_epoch(contender, model, torch_optimizer(model, rates), x, y, rates), epochs)
    model.eval()
    with torch.no_grad():
        accuracy = float((model(test_x).argmax(1) == test_y).float().mean())
    return {"seconds_per_epoch": per_epoch, "accuracy": accuracy, "torch": torch.__version__}


def torch_optimizer(model, rates: np.ndarray | None):
    """Adam with Keras' epsilon, starting at ``rates[0]``, for the convnet; RMSprop with Keras' settings otherwise."""
    import torch

    if rates is not None:
        return torch.optim.Adam(model.parameters(), lr=float(rates[0]), eps=1e-7)
    return torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)  # Keras' RMSprop


def torch_epoch(contender: str, model, optimizer, x, y, rates: np.ndarray | None):
    """A function that trains ``model`` one epoch as ``contender`` does, at ``rates[step]`` at each step if given."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    steps, history = [0], []
    totals = {"loss": torch.zeros(()), "correct": torch.zeros((), dtype=torch.int64)}

    def step(x_batch, y_batch):
        optimizer.zero_grad(set_to_none=True)
        logits = model(x_batch)
        loss = F.cross_entropy(logits, y_batch)
        loss.backward()
        optimizer.step()
        return loss.detach() * len(y_batch), (logits.argmax(1) == y_batch).sum()

    run_step = torch.compile(step) if contender == "torch_compiled" else step

    def train_on(x_batch, y_batch):
        if rates is not None:
            optimizer.param_groups[0]["lr"] = float(rates[steps[0]])
        loss, correct = run_step(x_batch, y_batch)
        totals["loss"] += loss
        totals["correct"] += correct
        steps[0] += 1

    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)

    def train_epoch():
        model.train()
        totals["loss"].zero_()
        totals["correct"].zero_()
        if contender == "torch_dataloader":
            for x_batch, y_batch in loader:
                train_on(x_batch, y_batch)
        else:
            order = torch.randperm(len(x))
            for start in range(0, len(x), BATCH):
                batch = order[start:start + BATCH]
                train_on(x[batch], y[batch])
        history.append(float(totals["loss"]) / len(x))  # the epoch's mean loss, as fit's history holds it

    return train_epoch


def torch_stages(epochs: int) -> dict:
    """Seconds per epoch of torch_indices' step built up: forward and backward, + RMSprop, + the epoch's metrics."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    (x, _), (y, _) = torch_data(convnet=False)
    model = torch_model(convnet=False)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7)

    def forward_backward(x_batch, y_batch):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x_batch), y_batch).backward()

    def training_step(x_batch, y_batch):
        forward_backward(x_batch, y_batch)
        optimizer.step()

    total, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)

    def with_metrics(x_batch, y_batch):
        nonlocal total, correct
        optimizer.zero_grad(set_to_none=True)
        logits = model(x_batch)
        loss = F.cross_entropy(logits, y_batch)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(y_batch)
        correct += (logits.argmax(1) == y_batch).sum()

    per_epoch = {}
    for stage in (forward_backward, training_step, with_metrics):
        def epoch(stage=stage):
            order = torch.randperm(len(x))
            for start in range(0, len(x), BATCH):
                batch = order[start:start + BATCH]
                stage(x[batch], y[batch])
        per_epoch[stage.__name__] = warm_median(epoch, epochs)
    return per_epoch


def torch_products(layer_sizes: list[int], steps: int) -> dict:
    """Seconds of a 4096x4096 product and of ``steps`` dense steps' products, medians of 5, in PyTorch."""
    import torch

    big = torch.rand(4096, 4096)
    xs = torch.rand(steps, BATCH, layer_sizes[0])
    kernels = [torch.rand(m, n) * 0.01 for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

    def products():
        with torch.inference_mode():
            for i in range(steps):
                inputs = [xs[i]]
                for kernel in kernels:
                    inputs.append(inputs[-1] @ kernel)
                d = inputs.pop()
                for k in reversed(range(len(kernels))):
                    inputs[k].T @ d
                    if k > 0:
                        d = d @ kernels[k].T

    return {"big": warm_median(lambda: big @ big), "step": warm_median(products)}


def jax_products(layer_sizes: list[int], steps: int) -> dict:
    """The same as ``torch_products``, in JAX: each a jitted function, its result waited for."""
    import jax
    import jax.numpy as jnp

    key = jax.random.PRNGKey(0)
    big = jax.random.uniform(key, (4096, 4096))
    xs = jax.random.uniform(key, (steps, BATCH, layer_sizes[0]))
    kernels = [jax.random.uniform(key, (m, n)) * 0.01 for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

    @jax.jit
    def product(a):
        return a @ a

    @jax.jit
    def products(xs, kernels):
        def one_step(i, total):
            inputs = [xs[i]]
            for kernel in kernels:
                inputs.append(inputs[-1] @ kernel)
            d = inputs.pop()
            for k in reversed(range(len(kernels))):
                total += jnp.sum(inputs[k].T @ d)
                if k > 0:
                    d = d @ kernels[k].T
            return total
        return jax.lax.fori_loop(0, steps, one_step, jnp.float32(0))

    return {"big": warm_median(lambda: product(big).block_until_ready()),
            "step": warm_median(lambda: products(xs, kernels).block_until_ready()), "jax": jax.__version__}


def jax_stages(epochs: int) -> dict:
    """Seconds per epoch of notebook 02's step in raw JAX, built up: forward and backward, then + RMSprop.

    One jitted ``fori_loop`` runs all of an epoch's batches, as bench_training.py's (e) does in TensorFlow:
    the net, softmax cross-entropy and Keras' RMSprop formula written in ``jax.numpy``, with no Keras around them.
    """
    import jax
    import jax.numpy as jnp

    (x_train, y_train), _ = load_mnist()
    steps = len(x_train) // BATCH
    xs = jnp.asarray(x_train[: steps * BATCH].reshape(steps, BATCH, 28 * 28).astype(np.float32) / 255)
    ys = jax.nn.one_hot(y_train[: steps * BATCH].reshape(steps, BATCH), 10)
    keys = jax.random.split(jax.random.PRNGKey(0), 2)
    params = [jax.random.uniform(keys[0], (784, 512), minval=-0.07, maxval=0.07), jnp.zeros(512),
              jax.random.uniform(keys[1], (512, 10), minval=-0.1, maxval=0.1), jnp.zeros(10)]

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        logits = jax.nn.relu(x @ w1 + b1) @ w2 + b2
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits), axis=1))

    gradients = jax.value_and_grad(loss)

    def forward_backward(i, carry):
        params, squares, total = carry
        value, grads = gradients(params, xs[i], ys[i])
        return params, squares, total + value + sum(jnp.sum(g) for g in grads)  # uses all of every gradient

    def training_step(i, carry):
        params, squares, total = carry
        value, grads = gradients(params, xs[i], ys[i])
        squares = [0.9 * s + 0.1 * g * g for s, g in zip(squares, grads)]
        params = [p - 0.001 * g / jnp.sqrt(s + 1e-7) for p, g, s in zip(params, grads, squares)]
        return params, squares, total + value

    per_epoch = {}
    for stage in (forward_backward, training_step):
        epoch = jax.jit(lambda params, stage=stage: jax.lax.fori_loop(
            0, steps, stage, (params, [jnp.zeros_like(p) for p in params], jnp.float32(0)))[2])
        per_epoch[stage.__name__] = warm_median(lambda: epoch(params).block_until_ready(), epochs) * len(
            x_train) / (steps * BATCH)
    return per_epoch


def jax_training(contender: str, seed: int, epochs: int) -> dict:
    """Train notebook 02's model or notebook 05's convnet with Keras on JAX, as their notebooks do."""
    import jax
    import keras

    from mnist_tutorial.models import RECIPES, build_convnet
    from mnist_tutorial.preprocessing import scale
    from mnist_tutorial.training import evaluate, shuffled_batches

    if keras.backend.backend() != "jax":
        raise SystemExit(f"KERAS_BACKEND must be jax for {contender}, got {keras.backend.backend()}")
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    if contender == "jax_convnet":
        x, y, test_x, test_y = scale(x_train)[..., np.newaxis], y_train, scale(x_test)[..., np.newaxis], y_test
        model = build_convnet(-(-len(x) // BATCH), epochs=1 + epochs)
    else:
        recipe = RECIPES["dense_512_rmsprop"]
        (x, y), (test_x, test_y) = recipe.prepare(x_train, y_train), recipe.prepare(x_test, y_test)
        model = recipe.build()
    data = shuffled_batches(x, y, BATCH)
    per_epoch = timed_epochs(lambda: model.fit(data, epochs=1, shuffle=False, verbose=0), epochs)
    return {"seconds_per_epoch": per_epoch, "accuracy": evaluate(model, test_x, test_y)["accuracy"],
            "jax": jax.__version__, "keras": keras.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=["torch_dataloader", "torch_indices", "torch_compiled", "torch_convnet",
                                              "jax_dense", "jax_convnet", "torch_products", "jax_products",
                                              "torch_stages", "jax_stages"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs, after a 1-epoch warm-up")
    parser.add_argument("--threads", type=int, required=True, help="PyTorch's thread count: TensorFlow's")
    parser.add_argument("--learning-rates", help="torch_convnet: a .npy of the schedule's rate at every step")
    parser.add_argument("--layer-sizes", default="784,512,10", help="the products contenders: the dense net's sizes")
    parser.add_argument("--steps", type=int, default=100, help="the products contenders: steps per timed call")
    args = parser.parse_args()
    sizes = [int(n) for n in args.layer_sizes.split(",")]
    if args.contender.startswith("torch"):
        import torch

        torch.set_num_threads(args.threads)
        if args.contender == "torch_products":
            result = torch_products(sizes, args.steps)
        elif args.contender == "torch_stages":
            result = torch_stages(args.epochs)
        else:
            result = torch_training(args.contender, args.seed, args.epochs, args.learning_rates)
        result["threads"] = torch.get_num_threads()
    elif args.contender == "jax_products":
        result = jax_products(sizes, args.steps)
    elif args.contender == "jax_stages":
        result = jax_stages(args.epochs)
    else:
        result = jax_training(args.contender, args.seed, args.epochs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
