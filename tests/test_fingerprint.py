"""Tests for the machine fingerprint and the strict, masked or lax comparison nbval follows by it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mnist_tutorial.tools import fingerprint, series

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def here(machine_fingerprint) -> str:
    return machine_fingerprint


@pytest.mark.slow
def test_the_fingerprint_is_the_same_in_two_fresh_processes_and_under_the_notebooks_settings(here):
    assert len(here) == fingerprint.HEX_DIGITS and int(here, 16) >= 0  # computed in a fresh process, once a session
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


def test_this_machine_computes_once_and_hands_the_fingerprint_to_the_processes_started_after(monkeypatch):
    computed = []
    monkeypatch.setattr(fingerprint, "fingerprint", lambda: computed.append(1) or "0123456789abcdef")
    monkeypatch.delenv(fingerprint.KNOWN_VARIABLE, raising=False)
    assert fingerprint.this_machine() == fingerprint.this_machine() == "0123456789abcdef" and computed == [1]
    assert os.environ[fingerprint.KNOWN_VARIABLE] == "0123456789abcdef"
    child = subprocess.run([sys.executable, "-c", "from mnist_tutorial.tools.fingerprint import this_machine; "
                            "print(this_machine())"], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "0123456789abcdef"  # a started process reads it: no TensorFlow in it


@pytest.mark.parametrize("value", ["", "c1d0fb35", "C1D0FB35052D20F4", "c1d0fb35052d20f4\n"])
def test_this_machine_names_a_variable_that_holds_no_fingerprint(monkeypatch, value):
    monkeypatch.setenv(fingerprint.KNOWN_VARIABLE, value)
    with pytest.raises(ValueError, match=f"MNIST_TUTORIAL_FINGERPRINT must be a machine fingerprint, 16 hexadecimal "
                                         f"digits \\(make fingerprint prints it\\), got {re.escape(repr(value))}"):
        fingerprint.this_machine()


# The flags lines of /proc/cpuinfo, shortened: an AVX-512 EPYC (Zen 4), an AVX2 one (Zen 2), and older x86 CPUs.
CPU_FLAGS = {
    "AVX-512": "fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq avx512cd avx512bw avx512vl",
    "AVX2": "fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni",
    "AVX": "fpu vme sse sse2 ssse3 sse4_1 sse4_2 avx",
    "SSE4.2": "fpu vme sse sse2 ssse3 sse4_1 sse4_2",
}


@pytest.mark.parametrize("expected", CPU_FLAGS)
def test_the_instruction_set_is_the_widest_in_the_cpus_flags(expected):
    cpuinfo = "".join(f"processor\t: {n}\nvendor_id\t: AuthenticAMD\nflags\t\t: {CPU_FLAGS[expected]}\n\n"
                      for n in range(2))
    assert fingerprint.instruction_set(cpuinfo) == expected


def test_the_instruction_set_of_a_cpu_with_neither_flag_is_the_machines_name(monkeypatch):
    monkeypatch.setattr("platform.machine", lambda: "aarch64")
    arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"
    assert fingerprint.instruction_set(arm) == "aarch64"
    assert fingerprint.instruction_set("") == "aarch64"


def fresh_copy(series_folder: Path, tmp_path: Path) -> Path:
    """A copy of an executed series for one test, which may change it: each series is executed once per module."""
    return Path(shutil.copytree(series_folder, tmp_path / "notebooks"))


def executed_series(folder: Path, cells: list) -> Path:
    """``folder`` made to hold a one-notebook series of ``cells``, executed by the runner as the committed outputs."""
    folder.mkdir()
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                      "language": "python"}}), folder / "01_a.ipynb")
    series.run_series(folder, log=lambda *a, **k: None)
    return folder


@contextmanager
def edited(folder: Path) -> Iterator[nbformat.NotebookNode]:
    """The series' notebook, written back once the block has changed it (its code, or its committed outputs)."""
    path = folder / "01_a.ipynb"
    notebook = nbformat.read(path, as_version=4)
    yield notebook
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def committed_series(tmp_path_factory, here) -> Path:
    """A one-notebook series executed by the runner, with this machine's fingerprint recorded beside it."""
    cells = [new_markdown_cell("# test"), new_code_cell("print(6 * 7)"), new_code_cell("print('done')")]
    folder = executed_series(tmp_path_factory.mktemp("committed") / "notebooks", cells)
    (folder / "machine.json").write_text(json.dumps({"fingerprint": here, "instruction_set": "test"}))
    return folder


@pytest.fixture
def committed(committed_series, tmp_path) -> Path:
    return fresh_copy(committed_series, tmp_path)


def pytest_on(folder: Path, *options: str, computing: bool = False) -> subprocess.CompletedProcess:
    """Run pytest with nbval and the plugin over the folder's notebooks, as pyproject's addopts would.

    It inherits this session's fingerprint (``fingerprint.this_machine``); ``computing`` makes it compute its own.
    """
    (folder.parent / "pytest.ini").write_text("[pytest]\n")
    command = [sys.executable, "-m", "pytest", "-c", str(folder.parent / "pytest.ini"), "-p", "no:cacheprovider",
               "-p", "mnist_tutorial.tools.nbval_outputs", "--nbval", "--nbval-current-env",
               "--machine-file", str(folder / "machine.json"), *options, str(folder)]
    environment = {name: value for name, value in os.environ.items()
                   if not (computing and name == fingerprint.KNOWN_VARIABLE)}
    return subprocess.run(command, capture_output=True, text=True, cwd=folder.parent, env=environment, check=False)


def change_an_output(folder: Path) -> None:
    with edited(folder) as notebook:
        assert notebook.cells[1].outputs[0].text == "42\n"
        notebook.cells[1].outputs[0].text = "43\n"  # a regression: the committed figure and the computed one differ


@pytest.mark.slow
def test_a_matching_fingerprint_compares_every_output(committed, here):
    run = pytest_on(committed, computing=True)  # the plugin computes this machine's fingerprint itself
    assert run.returncode == 0, run.stdout
    assert f"notebook outputs: strict, this machine's fingerprint is the committed one ({here})" in run.stdout
    assert "2 notebook cells compared digit for digit" in run.stdout


@pytest.mark.slow
def test_a_real_regression_on_a_matching_machine_still_fails(committed):
    change_an_output(committed)
    run = pytest_on(committed)
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout
    assert "43" in run.stdout and "42" in run.stdout


@pytest.mark.slow
def test_another_fingerprint_compares_every_output_masked_and_says_so_at_the_top_and_in_the_summary(committed, here):
    (committed / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}))
    change_an_output(committed)  # 42 against 43: only a number differs, as on another CPU
    run = pytest_on(committed)
    assert run.returncode == 0, run.stdout
    line = (f"notebook outputs: MASKED. This CPU ({fingerprint.instruction_set()}) computes in another order than "
            f"the machine that executed the notebooks: fingerprint {here} here, 0123456789abcdef in machine.json.")
    header, summary = run.stdout.split("collected", 1)
    assert line in header and line in summary
    assert "make test-strict (pytest --outputs strict) shows the digits that differ" in summary
    assert "2 notebook cells compared with every number masked, 0 run with their outputs ignored" in summary


@pytest.mark.slow
def test_lax_runs_every_cell_and_compares_nothing_when_asked(committed):
    change_an_output(committed)
    with edited(committed) as notebook:
        notebook.cells[1].outputs[0].text = "forty-two\n"  # a changed word, which only lax lets pass
    run = pytest_on(committed, "--outputs", "lax")
    assert run.returncode == 0, run.stdout
    assert "2 notebook cells executed, their outputs NOT compared (lax)" in run.stdout


# A small notebook with the kinds of output the series prints: numbers in words, a stderr line, an image
# alone (as a figure is), a table, and a result. Each regression below changes one cell's code.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==")
RICH_CELLS = {
    "words": "print(f'test accuracy {0.9766:.2%} after {5} epochs, {1234:,} images')",
    "stderr": "import sys\nprint('loading 60,000 images', file=sys.stderr)",
    "figure": f"from IPython.display import display\ndisplay({{'image/png': {PNG!r}}}, raw=True)",
    "table": "print('| model | accuracy |\\n| --- | --- |\\n| dense | 97.66% |\\n| convnet | 99.34% |')",
    "result": "round(2.302585, 3)",
}
REGRESSIONS = {
    "a changed word": ("words", "print(f'test precision {0.9766:.2%} after {5} epochs, {1234:,} images')"),
    "an extra stderr line": ("stderr", RICH_CELLS["stderr"] + "\nprint('DeprecationWarning: x is deprecated', "
                                                              "file=sys.stderr)"),
    "a missing figure": ("figure", "from IPython.display import display"),
    "an extra line in a table": ("table", RICH_CELLS["table"][:-2] + "\\n| lenet | 98.90% |')"),
    "a raised error": ("result", "raise ValueError('the model has 5 outputs')"),
}


@pytest.fixture(scope="module")
def rich_series(tmp_path_factory) -> Path:
    """A notebook of every kind of output, executed by the runner; its machine fingerprint is not this one."""
    cells = [new_markdown_cell("# test")] + [new_code_cell(source) for source in RICH_CELLS.values()]
    folder = executed_series(tmp_path_factory.mktemp("rich") / "notebooks", cells)
    (folder / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef", "instruction_set": "test"}))
    return folder


@pytest.fixture
def rich(rich_series, tmp_path) -> Path:
    return fresh_copy(rich_series, tmp_path)


def rewrite_cell(folder: Path, name: str, source: str) -> None:
    """Change the code of one of RICH_CELLS, keeping the committed outputs: what a re-run then compares."""
    with edited(folder) as notebook:
        notebook.cells[1 + list(RICH_CELLS).index(name)].source = source


@pytest.mark.slow
@pytest.mark.parametrize("regression", REGRESSIONS)
def test_a_masked_run_catches_every_regression_but_a_number(rich, regression):
    rewrite_cell(rich, *REGRESSIONS[regression])
    run = pytest_on(rich, "--outputs", "masked")
    assert run.returncode == 1 and "1 failed, 4 passed" in run.stdout, run.stdout


@pytest.mark.slow
def test_a_masked_run_passes_where_only_the_numbers_changed(rich):
    rewrite_cell(rich, "words", "print(f'test accuracy {0.9812:.2%} after {15} epochs, {987:,} images')")
    rewrite_cell(rich, "table", RICH_CELLS["table"].replace("97.66%", "100.00%").replace("99.34", "9.1"))
    rewrite_cell(rich, "result", "round(-0.5, 3)")
    run = pytest_on(rich, "--outputs", "masked")
    assert run.returncode == 0, run.stdout
    assert "5 notebook cells compared with every number masked" in run.stdout
    strict = pytest_on(rich, "--outputs", "strict")  # the same numbers, compared digit for digit, all differ
    assert strict.returncode == 1 and "3 failed, 2 passed" in strict.stdout, strict.stdout


@pytest.mark.slow
def test_a_lax_run_still_fails_on_a_cell_that_raises(committed):
    with edited(committed) as notebook:
        notebook.cells[2].source = "assert 1 + 1 == 3, 'the notebook\\'s own check'"
    run = pytest_on(committed, "--outputs", "lax")  # no output is compared, yet a cell that raises fails
    assert run.returncode == 1 and "the notebook's own check" in run.stdout


@pytest.mark.slow
def test_forcing_strict_on_another_fingerprint_fails_on_a_changed_output(committed, here):
    (committed / "machine.json").write_text(json.dumps({"fingerprint": "0123456789abcdef"}))
    change_an_output(committed)
    run = pytest_on(committed, "--outputs", "strict")
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout
    assert f"strict, as asked, although this machine's fingerprint {here} is not the committed 0123456789abcdef" \
        in run.stdout


@pytest.mark.slow
def test_forcing_lax_computes_no_fingerprint_and_says_so(committed):
    change_an_output(committed)
    (committed / "machine.json").unlink()
    run = pytest_on(committed, "--outputs", "lax")
    assert run.returncode == 0 and "notebook outputs: lax, as asked" in run.stdout


@pytest.mark.slow
def test_a_run_without_notebooks_decides_nothing(tmp_path):
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert True\n")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "mnist_tutorial.tools.nbval_outputs",
         "--nbval", str(tmp_path / "test_one.py")], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0 and "notebook outputs" not in run.stdout


def test_the_committed_outputs_record_their_machine():
    machine = json.loads((ROOT / "notebooks" / "machine.json").read_text())
    assert len(machine["fingerprint"]) == fingerprint.HEX_DIGITS and machine["instruction_set"] in ("AVX2", "AVX-512")


@pytest.fixture(scope="module")
def seeded_series(tmp_path_factory) -> Path:
    """A notebook whose setup chooses a seed, executed by the runner with its own seed, 0."""
    cells = [new_code_cell("SEED = 0  # chosen once"), new_code_cell("print(f'accuracy {SEED * 0.1 + 0.9:.2%}')")]
    return executed_series(tmp_path_factory.mktemp("seeded") / "notebooks", cells)


@pytest.fixture
def seeded(seeded_series, tmp_path) -> Path:
    return fresh_copy(seeded_series, tmp_path)


@pytest.mark.slow
def test_another_seed_runs_masked_and_passes_where_only_numbers_move(seeded):
    run = pytest_on(seeded, "--seed", "1")
    assert run.returncode == 0, run.stdout
    assert "notebook outputs: masked, with SEED = 1 in place of each notebook's own" in run.stdout
    strict = pytest_on(seeded, "--seed", "1", "--outputs", "strict")  # 100.00% against 90.00%: the seed reached the cell
    assert strict.returncode == 1 and "1 failed, 1 passed" in strict.stdout, strict.stdout


@pytest.mark.slow
def test_another_seed_fails_where_a_word_depends_on_the_seed(seeded):
    with edited(seeded) as notebook:
        notebook.cells[1].source += "\nprint('lucky' if SEED == 0 else 'unlucky')"
        notebook.cells[1].outputs[0].text += "lucky\n"
    assert pytest_on(seeded, "--outputs", "masked").returncode == 0  # its own seed: the same words
    run = pytest_on(seeded, "--seed", "1")
    assert run.returncode == 1 and "unlucky" in run.stdout, run.stdout


@pytest.mark.slow
def test_another_seed_needs_one_seed_line_in_every_notebook(seeded):
    with edited(seeded) as notebook:
        notebook.cells[0].source = "seed = 0"
    run = pytest_on(seeded, "--seed", "1")
    assert run.returncode == 4 and "01_a.ipynb needs exactly one line 'SEED = <number>' in its code, found 0" in \
        run.stderr, run.stderr
