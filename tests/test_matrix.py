"""Tests for the test matrix (mnist_tutorial.tools.matrix) and the lock (mnist_tutorial.tools.lock)."""

import shutil

import pytest

from mnist_tutorial.tools import lock, matrix
from mnist_tutorial.tools.matrix import Outcome, Row


def test_a_locked_row_installs_the_project_with_the_lock_in_one_command():
    row = Row("Python 3.12, the lock", "3.12")
    (command,) = row.installs()
    assert command[:3] == [lock.uv(), "pip", "install"] and command[-4:] == [
        "-c", str(lock.LOCK), "-e", f"{lock.ROOT}[cpu,test]"]
    assert command[command.index("-p") + 1] == str(matrix.MATRIX_DIR / "python-3.12-the-lock" / "bin" / "python")


def test_a_row_with_tensorflow_first_adds_the_project_after_it_without_the_lock():
    row = Row("oldest TensorFlow and Keras first", "3.10", ("tensorflow-cpu==2.18", "keras==3.9"), "test")
    first, then = row.installs()
    assert first[-2:] == ["tensorflow-cpu==2.18", "keras==3.9"] and then[-2:] == ["-e", f"{lock.ROOT}[test]"]
    assert "-c" not in first + then


def test_a_rows_tests_find_its_own_python_first_and_compute_their_own_fingerprint(monkeypatch):
    monkeypatch.setenv("MNIST_TUTORIAL_FINGERPRINT", "0123456789abcdef")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/main/.venv")
    environment = matrix.row_environment(Row("Python 3.13, the lock", "3.13"))
    assert environment["PATH"].startswith(str(matrix.MATRIX_DIR / "python-3.13-the-lock" / "bin") + ":")
    assert "MNIST_TUTORIAL_FINGERPRINT" not in environment and "VIRTUAL_ENV" not in environment


def test_a_python_that_is_not_there_is_named():
    with pytest.raises(FileNotFoundError, match=r"no Python 3\.99 found"):
        matrix.find_python("3.99")


def test_a_row_that_cannot_be_built_is_a_failed_row_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(matrix, "MATRIX_DIR", tmp_path)
    outcome = matrix.run_row(Row("Python 3.99, the lock", "3.99"), notebooks=False)
    assert outcome.failed and outcome.tests == {"build": "build failed: no Python 3.99 found (python3.99 on PATH, "
                                                          "pyenv's or /usr/bin's)"}


def test_the_table_gives_each_rows_versions_tests_and_times():
    outcome = Outcome(Row("newest TensorFlow first", "3.13", ("tensorflow-cpu<2.22,>=2.18",), "test"),
                      ["3.13.0", "2.21.0", "3.15.1", "2.5.5"], {"quick": "694 passed", "01, 05": "60 passed"},
                      build_seconds=3.4, test_seconds=51.2)
    header, rule, line = matrix.table([outcome]).splitlines()
    assert header == "| row | Python | TensorFlow | Keras | NumPy | tests | build | tests' time |"
    assert line == ("| newest TensorFlow first | 3.13.0 | 2.21.0 | 3.15.1 | 2.5.5 | quick: 694 passed; "
                    "01, 05: 60 passed | 3 s | 51 s |")


@pytest.mark.parametrize(("output", "expected"), [
    ("== 694 passed, 74 deselected in 60.12s ==", "694 passed"),
    ("== 1 failed, 693 passed, 3 errors in 61.00s ==", "1 failed, 693 passed, 3 errors"),
    ("ERROR: file or directory not found: tests", "ERROR: file or directory not found: tests"),
])
def test_the_summary_is_pytests_closing_counts(output, expected):
    assert matrix.summary("collected 700 items\n" + output) == expected


@pytest.mark.slow
def test_relocking_keeps_every_pin(tmp_path):
    """make constraints is a fixed point: re-locking the committed lock changes no pin for any supported Python.

    Slow: uv asks PyPI for the packages' metadata (its cache answers most of it).
    """
    if not shutil.which(lock.uv()):
        pytest.skip("uv is not installed (the test extra installs it)")
    relocked = tmp_path / "constraints.txt"
    shutil.copy(lock.LOCK, relocked)
    lock.lock(relocked)
    for python in matrix.supported_pythons(matrix.project_table()["requires-python"]):
        assert lock.locked_versions(relocked.read_text(), python) == lock.locked_versions(lock.LOCK.read_text(), python)
    assert relocked.read_text().startswith(lock.LOCK_HEADER)


def test_the_peers_pins_are_what_the_environment_has_beyond_the_lock(tmp_path):
    """make constraints-peers: every installed distribution the lock does not pin, at its installed version."""
    from importlib.metadata import version

    locked, peers = tmp_path / "constraints.txt", tmp_path / "constraints-peers.txt"
    locked.write_text(f"numpy=={version('numpy')}\nkeras=={version('keras')} ; python_full_version >= '3.0'\n")
    lock.pin_peers(peers, locked)
    text = peers.read_text()
    assert text.startswith(lock.PEERS_HEADER) and f"\npytest=={version('pytest')}\n" in text
    assert "\nnumpy==" not in text and "\nkeras==" not in text and "\npip==" not in text
    assert "mnist-tutorial" not in text
