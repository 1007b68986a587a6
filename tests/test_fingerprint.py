"""Tests for the machine fingerprint and the strict-or-lax decision nbval's comparison follows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mnist_tutorial.tools import fingerprint, series

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def here() -> str:
    return fingerprint.fingerprint()


def test_the_fingerprint_is_the_same_in_two_fresh_processes_and_under_the_notebooks_settings(here):
    assert len(here) == fingerprint.DIGITS and int(here, 16) >= 0
    assert fingerprint.fingerprint() == here
    preset = {**os.environ, **fingerprint.NOTEBOOK_ENVIRONMENT}  # as a kernel has them after a notebook's first cell
    run = subprocess.run([sys.executable, "-m", "mnist_tutorial.tools.fingerprint"], env=preset, capture_output=True,
                         text=True, check=True)
    assert run.stdout.split()[-1] == here


def test_a_fingerprint_that_cannot_be_computed_says_why(tmp_path):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 'no TensorFlow here' >&2\nexit 1\n")
    python.chmod(0o755)
    with pytest.raises(RuntimeError, match="could not be computed:\nno TensorFlow here"):
        fingerprint.fingerprint(str(python))


def test_the_instruction_set_is_named():
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    expected = "AVX-512" if " avx512f" in cpuinfo else "AVX2" if " avx2" in cpuinfo else None
    assert expected is None or fingerprint.instruction_set() == expected


@pytest.fixture
def committed(tmp_path, here) -> Path:
    """A one-notebook series executed by the runner, with this machine's fingerprint recorded beside it."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    cells = [new_markdown_cell("# test"), new_code_cell("print(6 * 7)"), new_code_cell("print('done')")]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                      "language": "python"}}), folder / "01_a.ipynb")
    series.run_series(folder, log=lambda *a, **k: None)
    (folder / "machine.json").write_text(json.dumps({"fingerprint": here, "instruction_set": "test"}))
    return folder


def pytest_on(folder: Path, *options: str) -> subprocess.CompletedProcess:
    """Run pytest with nbval and the plugin over the folder's notebooks, as pyproject's addopts would."""
    (folder.parent / "pytest.ini").write_text("[pytest]\n")
    command = [sys.executable, "-m", "pytest", "-c", str(folder.parent / "pytest.ini"), "-p", "no:cacheprovider",
               "-p", "mnist_tutorial.tools.nbval_outputs", "--nbval", "--nbval-current-env",
               "--machine-file", str(folder / "machine.json"), *options, str(folder)]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder.parent, check=False)


def change_an_output(folder: Path) -> None:
    path = folder / "01_a.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert notebook.cells[1].outputs[0].text == "42\n"
    notebook.cells[1].outputs[0].text = "43\n"  # a regression: the committed figure and the computed one differ
    nbformat.write(notebook, path)


def test_a_matching_fingerprint_compares_every_output(committed, here):
    run = pytest_on(committed)
    assert run.returncode == 0, run.stdout
    assert f"notebook outputs: strict, this machine's fingerprint is the committed one ({here})" in run.stdout
    assert "2 notebook cells compared digit for digit" in run.stdout


def test_a_real_regression_on_a_matching_machine_still_fails(committed):
    change_an_output(committed)
    run = pytest_on(committed)
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout
    assert "43" in run.stdout and "42" in run.stdout


def test_another_fingerprint_runs_every_cell_lax_and_says_so_at_the_top_and_in_the_summary(committed, here):
    (committed / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}))
    change_an_output(committed)
    run = pytest_on(committed)
    assert run.returncode == 0, run.stdout
    line = (f"notebook outputs: LAX. This CPU ({fingerprint.instruction_set()}) computes in another order than the "
            f"machine that executed the notebooks: fingerprint {here} here, 0123456789abcdef in machine.json.")
    header, summary = run.stdout.split("collected", 1)
    assert line in header and line in summary
    assert "make test-strict (pytest --outputs strict) shows the differences" in summary
    assert "2 notebook cells executed, their outputs NOT compared (lax)" in summary


def test_a_lax_run_still_fails_on_a_cell_that_raises(committed):
    (committed / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}))
    path = committed / "01_a.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[2].source = "assert 1 + 1 == 3, 'the notebook\\'s own check'"
    nbformat.write(notebook, path)
    run = pytest_on(committed)
    assert run.returncode == 1 and "the notebook's own check" in run.stdout


def test_forcing_strict_on_another_fingerprint_fails_on_a_changed_output(committed, here):
    (committed / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}))
    change_an_output(committed)
    run = pytest_on(committed, "--outputs", "strict")
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout
    assert f"strict, as asked, although this machine's fingerprint {here} is not the committed 0123456789abcdef" \
        in run.stdout


def test_forcing_lax_computes_no_fingerprint_and_says_so(committed):
    change_an_output(committed)
    (committed / "machine.json").unlink()
    run = pytest_on(committed, "--outputs", "lax")
    assert run.returncode == 0 and "notebook outputs: lax, as asked" in run.stdout


def test_a_run_without_notebooks_decides_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "mnist_tutorial.tools.nbval_outputs",
         "--nbval", str(tmp_path / "test_one.py")], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0 and "notebook outputs" not in run.stdout


def test_the_committed_outputs_record_their_machine():
    machine = json.loads((ROOT / "notebooks" / "machine.json").read_text())
    assert len(machine["fingerprint"]) == fingerprint.DIGITS and machine["instruction_set"] in ("AVX2", "AVX-512")
