"""What ``ONEDNN_MAX_CPU_ISA=AVX2`` costs: oneDNN's matrix products capped at AVX2, against its own choice, in one run.

oneDNN picks its ``sgemm`` kernel for the CPU at its first product, even with
``TF_ENABLE_ONEDNN_OPTS=0``; capping it at AVX2 makes an AVX-512 machine compute some products
as an AVX2 one does. Each setting runs in a fresh process, the two interleaved --repeats times:
the peak of a 4096x4096 float32 ``tf.matmul``, the notebooks' path for the 512-unit net
(``bench_training.project_path``: the recipe, seeded, on the tf.data idiom, 3 epochs after a
warm-up), and the machine fingerprint (``tools.fingerprint``), which says whether the cap makes
this machine compute like another. Medians.

Run: MNIST_DATA_DIR=../shared/data/mnist python benchmarks/bench_isa.py [--repeats 3]
"""

from __future__ import annotations

import _environment  # noqa: F401 (first: TensorFlow's environment, before anything imports TensorFlow)
import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

SETTINGS = {"oneDNN's choice": {}, "ONEDNN_MAX_CPU_ISA=AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}


def child() -> None:
    """Measure in this process and print ``peak_gflops=... fit_s_per_epoch=... accuracy=...``."""
    import tensorflow as tf

    from bench_training import project_path
    from mnist_tutorial.data import load_mnist
    from mnist_tutorial.models import RECIPES
    from timing import warm_median

    a, b = tf.random.uniform((4096, 4096), seed=0), tf.random.uniform((4096, 4096), seed=1)
    product = warm_median(lambda: tf.matmul(a, b).numpy(), 5)
    (x_train, y_train), (x_test, y_test) = load_mnist()
    recipe = RECIPES["dense_512_rmsprop"]
    per_epoch, accuracy = project_path(*recipe.prepare(x_train, y_train), *recipe.prepare(x_test, y_test), epochs=3)
    print(f"peak_gflops={2 * 4096**3 / product / 1e9:.1f} fit_s_per_epoch={per_epoch:.3f} accuracy={accuracy:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    from mnist_tutorial.tools.fingerprint import fingerprint

    here = Path(__file__).resolve().parent
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETTINGS}
    digests = {}
    for _ in range(args.repeats):
        for name, extra in SETTINGS.items():
            env = {**os.environ, **extra, "PYTHONPATH": str(here)}
            line = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
                                  check=True).stdout.split("\n")[-2]
            runs[name].append({key: float(value) for key, value in (item.split("=") for item in line.split())})
            os.environ.update(extra)
            digests[name] = fingerprint()
            for key in extra:
                del os.environ[key]
    print(f"{'setting':26s} {'tf.matmul peak':>15s} {'fit s/epoch':>12s} {'accuracy':>9s}  fingerprint")
    for name, measured in runs.items():
        peak = statistics.median(run["peak_gflops"] for run in measured)
        per_epoch = statistics.median(run["fit_s_per_epoch"] for run in measured)
        accuracy = statistics.median(run["accuracy"] for run in measured)
        print(f"{name:26s} {peak:10.0f} GFLOP/s {per_epoch:10.2f} s {accuracy:9.2%}  {digests[name]}")
    base, capped = (statistics.median(run["fit_s_per_epoch"] for run in runs[name]) for name in SETTINGS)
    print(f"capped at AVX2, the notebooks' path takes {capped / base:.2f} times as long")


if __name__ == "__main__":
    main()
