"""A machine fingerprint: a digest of a short computation through the kernels the notebooks train with.

Two machines that give the same digest compute the notebooks' training in the same order, to the
last bit, and so reproduce the committed outputs digit for digit; two that give different digests
do not, and a training run on one is as different from the other as another seed would be.

What it covers, and why that is enough. The notebooks' numbers come from a few kernels: dense
layers' matrix products (forward and both gradients), 2-D convolutions and max pooling with their
gradients, softmax cross-entropy, and the Adam and RMSprop updates, fed by ``tf.data`` and
evaluated in batches. Which code path a kernel takes is chosen by the CPU's instruction set
(oneDNN's ``sgemm`` picks its kernel at run time, even with ``TF_ENABLE_ONEDNN_OPTS=0``), by
Eigen's block sizes (taken from the CPU's cache sizes) and by the shapes. So the computation
below runs each of those kernels at the notebooks' own shapes: the 784-512-10 net with RMSprop at
batch 128 and its last, smaller batch of 96 (60,000 = 468 x 128 + 96), the 784-512-512-10 and
784-64-64-10 nets with Adam at batch 32, the 784-128-128-10 net at batch 32, notebook 05's convnet
with Adam at batch 128, and predictions at batch 32 (``evaluate``'s default) and 1,000. It starts
from ``set_seed(0)`` and seeded NumPy data, under the environment every notebook's first cell
sets, in a fresh process. The versions of TensorFlow, Keras and NumPy go into the digest too.

A kernel that differs only at a shape not covered here would slip through; then the strict
comparison fails on a changed output, which is loud, never silent.

Run: ``python -m mnist_tutorial.tools.fingerprint`` prints the digest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: What every notebook's setup cell puts in the environment before TensorFlow is imported.
NOTEBOOK_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
#: Hex digits of the SHA-256 digest that are kept: enough to tell machines apart, short enough to read.
HEX_DIGITS = 16
#: The file beside the notebooks where the runner records the machine that executed them.
MACHINE_FILE = "machine.json"
#: Where ``this_machine`` leaves the fingerprint it computed, for the processes started after it (tests, kernels).
KNOWN_VARIABLE = "MNIST_TUTORIAL_FINGERPRINT"


def committed_machine(path: str | os.PathLike) -> dict:
    """Return the machine the runner recorded in ``path`` (a ``MACHINE_FILE``), or {} if there is none to read.

    >>> committed_machine("/no/such/machine.json")
    {}
    """
    try:
        machine = json.loads(open(path, encoding="utf-8").read())
    except (OSError, ValueError):
        return {}
    return machine if isinstance(machine, dict) else {}


def instruction_set(cpuinfo: str | None = None) -> str:
    """Return the widest x86 vector instruction set this CPU has ("AVX-512", "AVX2", ...), or the machine's name.

    Reads the flags of the first processor in ``cpuinfo``, the text of Linux's ``/proc/cpuinfo``
    (this machine's by default); without any, it names the machine (``platform.machine()``).

    >>> instruction_set("flags : fpu sse4_2 avx avx2 fma")  # a line of an AVX2 machine's /proc/cpuinfo
    'AVX2'
    """
    import platform

    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as file:
                cpuinfo = file.read()
        except OSError:
            cpuinfo = ""
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return name
    return platform.machine() or "unknown"


def compute() -> str:
    """Run the fingerprint's computation in this process and return its digest; call it before TensorFlow is imported.

    Sets the notebooks' environment first, so the computation runs as a notebook's would.
    """
    os.environ.update(NOTEBOOK_ENVIRONMENT)
    import hashlib

    import keras
    import numpy as np
    import tensorflow as tf

    from mnist_tutorial.models import build_convnet, build_mlp
    from mnist_tutorial.training import set_seed

    set_seed(0)
    rng = np.random.default_rng(0)
    images = rng.random((224, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, 224)
    one_hot = keras.utils.to_categorical(labels, 10)
    flat = images.reshape(len(images), 784)
    digest = hashlib.sha256(f"tensorflow {tf.__version__} keras {keras.__version__} numpy {np.__version__}".encode())
    # (model, inputs, targets, batch sizes of the steps): every kernel the notebooks train with, at their shapes
    runs = [
        (build_mlp((512,), optimizer="rmsprop", loss="categorical_crossentropy"), flat, one_hot, (128, 96)),
        (build_mlp((512, 512), loss="categorical_crossentropy"), flat, one_hot, (32, 32)),
        (build_mlp((64, 64), loss="categorical_crossentropy"), flat, one_hot, (32, 32)),
        (build_mlp((128, 128), input_shape=(28, 28)), images[..., 0], labels, (32, 32)),
        (build_convnet(steps_per_epoch=2, epochs=1), images, labels, (128, 96)),
    ]
    for model, x, y, batches in runs:
        start = 0
        for size in batches:
            model.train_on_batch(x[start:start + size], y[start:start + size])
            start += size
        for weights in model.get_weights():
            digest.update(np.ascontiguousarray(weights).tobytes())
        for batch_size in (32, 1000):
            digest.update(model.predict(x, batch_size=batch_size, verbose=0).tobytes())
    return digest.hexdigest()[:HEX_DIGITS]


def fingerprint(python: str = sys.executable) -> str:
    """Return this machine's digest, computed in a fresh Python process (as a notebook's kernel is).

    Raises:
        RuntimeError: if that process fails; the message ends with its last lines of error.
    """
    run = subprocess.run([python, "-m", "mnist_tutorial.tools.fingerprint"], capture_output=True, text=True,
                         check=False)
    lines = run.stdout.split()
    if run.returncode != 0 or not lines:
        raise RuntimeError("the machine fingerprint could not be computed:\n"
                           + "\n".join(run.stderr.strip().splitlines()[-8:]))
    return lines[-1]


def this_machine() -> str:
    """Return this machine's fingerprint, computed once per job: a test session, and the runs it starts, share it.

    ``$MNIST_TUTORIAL_FINGERPRINT`` where a process before this one computed it; else ``fingerprint()``,
    which is then put there for the processes this one starts. ``make fingerprint`` always computes.

    Raises:
        ValueError: if the variable is set but is not a fingerprint (``HEX_DIGITS`` hexadecimal digits).
        RuntimeError: if the fingerprint has to be computed and cannot be.

    >>> KNOWN_VARIABLE
    'MNIST_TUTORIAL_FINGERPRINT'
    """
    known = os.environ.get(KNOWN_VARIABLE)
    if known is None:
        os.environ[KNOWN_VARIABLE] = known = fingerprint()
    elif len(known) != HEX_DIGITS or any(digit not in "0123456789abcdef" for digit in known):
        raise ValueError(f"{KNOWN_VARIABLE} must be a machine fingerprint, {HEX_DIGITS} hexadecimal digits "
                         f"(make fingerprint prints it), got {known!r}; unset it to compute it again")
    return known


if __name__ == "__main__":
    print(compute())
