"""The benchmarks: the training benchmark's peers (a peer that is missing or fails is skipped with its reason, and
the lines go on), and the classic convnet that notebook 05's replaced, kept as their reference."""

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from mnist_tutorial.models import multiply_adds

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
_ENVIRON = dict(os.environ)
import bench_training  # noqa: E402
import choose_convnet  # noqa: E402

# The scripts' preamble (_environment.py) sets TensorFlow's environment for their own process. This process
# imported TensorFlow before it, so put the environment back: the subprocesses other tests start must compute
# as this process does (test_training's bit-identical test compares the two).
os.environ.clear()
os.environ.update(_ENVIRON)


def test_a_peer_that_is_not_installed_is_skipped_with_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    assert bench_training.run_peer("torch_indices", threads=2, seed=0, epochs=1) == (
        None, "torch is not installed (make peers installs the benchmark's peers extra)")


def test_a_peer_that_fails_is_skipped_with_its_last_line_of_error(tmp_path, monkeypatch):
    failing = tmp_path / "peers.py"
    failing.write_text("import sys\nprint('some output')\nsys.exit('torch.compile needs a C++ compiler')\n")
    monkeypatch.setattr(bench_training, "PEERS", failing)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert bench_training.run_peer("torch_compiled", threads=2, seed=0, epochs=1) == (
        None, "torch_compiled failed (exit status 1): torch.compile needs a C++ compiler")


def test_a_peer_passes_its_options_and_gets_jax_for_keras(tmp_path, monkeypatch):
    echo = tmp_path / "peers.py"
    echo.write_text("import json, os, sys\nprint(json.dumps({'argv': sys.argv[1:], 'backend': os.environ.get('KERAS_BACKEND')}))\n")
    monkeypatch.setattr(bench_training, "PEERS", echo)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    result, why = bench_training.run_peer("jax_dense", threads=3, seed=2, epochs=4)
    assert why == "" and result == {"argv": ["jax_dense", "--threads", "3", "--seed", "2", "--epochs", "4"], "backend": "jax"}


@pytest.mark.parametrize("median, line", [
    ({}, "peers: fastest=none ratio_to_limit=nan"),
    ({"hand": (0.9, 0.98), "torch_indices": (1.5, 0.97), "jax_dense": (1.2, 0.97)}, "peers: fastest=jax_dense ratio_to_limit=2.40"),
    ({"torch_dataloader": (2.0, 0.97), "tf_convnet": (0.1, 0.99)}, "peers: fastest=torch_dataloader ratio_to_limit=4.00"),
])
def test_the_peers_line_names_the_fastest_peer_of_the_dense_net(median, line):
    assert bench_training.peers_line(median, limit=0.5) == line


@pytest.mark.parametrize("multiples, line", [
    ({"tutorial": 5.29, "TensorFlow matmuls": 1.0}, ""),
    ({"hand": 2.58, "TensorFlow forward_backward": 0.874, "JAX training_step": 0.9996},
     "below the limit, so the limit was measured too slow: TensorFlow forward_backward 0.874x, JAX training_step 0.9996x"),
])
def test_a_figure_below_the_limit_is_named(multiples, line):
    assert bench_training.below_limit(multiples) == line


def test_the_classic_convnet_is_kept_as_the_reference():
    model = choose_convnet.build_classic_convnet()
    assert [layer.name for layer in model.layers] == [
        "conv_1", "pool_1", "conv_2", "pool_2", "flatten", "dropout_1", "hidden", "dropout_2", "output"]
    assert model.get_layer("conv_2").output.shape == (None, 11, 11, 64)
    assert model.count_params() == 225_034
    assert multiply_adds(model) == 26 * 26 * 9 * 32 + 11 * 11 * 288 * 64 + 1600 * 128 + 128 * 10
