"""Tests for the series runner and the command line: safe in-place execution, results, failures."""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mnist_tutorial.tools import fingerprint, series
from mnist_tutorial.tools.cli import main

# A results table as a notebook's last cell displays it; {accuracy} 0.99 passes, 0.9 fails.
TABLE = (
    "from mnist_tutorial.results import Result, ResultsTable, Target\n"
    'ResultsTable([Result("tiny", 10, 1, 0.1, {accuracy}, Target(0.98, tolerance=0.003))])'
)


def write_notebook(path, *sources):
    cells = [new_markdown_cell("# test")] + [new_code_cell(source) for source in sources]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, path)
    return path.read_bytes()


@pytest.mark.slow
def test_run_series_executes_in_place_and_collects_results(tmp_path):
    write_notebook(tmp_path / "01_a.ipynb", "x = 6 * 7\nprint(x)", TABLE.format(accuracy=0.99))
    write_notebook(tmp_path / "02_b.ipynb", TABLE.format(accuracy=0.99))
    logged = []
    rows = series.run_series(tmp_path, results_path=tmp_path / "results.json",
                             log=lambda *args, **kwargs: logged.append(" ".join(args)))
    assert [row["notebook"] for row in rows] == ["01_a", "02_b"]
    assert rows[0] == {"notebook": "01_a", "model": "tiny", "params": 10, "epochs": 1, "seconds": 0.1, "accuracy": 0.99,
                       "target": {"reported": 0.98, "tolerance": 0.003, "minimum": 0.0, "measured_on": "test",
                                  "published": None}}
    executed = nbformat.read(tmp_path / "01_a.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].text == "42\n"
    assert all("execution" not in cell.metadata for cell in executed.cells)  # no timestamps to diff
    assert json.loads((tmp_path / "results.json").read_text()) == rows
    assert any("[1/2] 01_a.ipynb" in line for line in logged)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_a.ipynb", "02_b.ipynb", "results.json"]


@pytest.mark.slow
def test_executing_in_place_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "01_a.ipynb"
    write_notebook(path, "print('hello')")
    path.chmod(0o664)
    series.run_series(tmp_path, log=lambda *a, **k: None)
    assert path.stat().st_mode & 0o777 == 0o664


@pytest.mark.slow
def test_check_mode_leaves_the_files_untouched(tmp_path):
    before = write_notebook(tmp_path / "01_a.ipynb", "print('hello')", TABLE.format(accuracy=0.99))
    rows = series.run_series(tmp_path, check=True, log=lambda *a, **k: None)
    assert series.passed(rows[0])
    assert (tmp_path / "01_a.ipynb").read_bytes() == before


@pytest.mark.slow
def test_a_failing_notebook_stops_the_series_and_stays_as_it_was(tmp_path):
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(accuracy=0.99))
    broken = write_notebook(tmp_path / "02_b.ipynb", "x = 1", "raise ValueError('the model fell short')")
    never_run = write_notebook(tmp_path / "03_c.ipynb", "print('never')")
    with pytest.raises(series.RunFailed) as error:
        series.run_series(tmp_path, log=lambda *a, **k: None)
    message = str(error.value)
    assert message.startswith("02_b.ipynb, code cell 2 raised ValueError:\n")
    assert message.endswith("ValueError: the model fell short\n02_b.ipynb was left as it was.")
    assert "\x1b" not in message and "CellExecutionError" not in message and "nbclient" not in message
    assert len(message.splitlines()) <= series.ERROR_LINES + 2
    assert (tmp_path / "02_b.ipynb").read_bytes() == broken
    assert (tmp_path / "03_c.ipynb").read_bytes() == never_run
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


@pytest.fixture
def stand_in_fingerprint(monkeypatch) -> None:
    """``run`` first takes this machine's fingerprint, a fresh TensorFlow process unless the job computed it: a
    stand-in, handed over as the job would hand it, for the tests of what else ``run`` does
    (test_cli_run_records_the_machine_beside_the_outputs records the real one)."""
    monkeypatch.setenv(fingerprint.KNOWN_VARIABLE, "0123456789abcdef")


@pytest.mark.slow
def test_a_kernel_that_dies_is_named_and_the_notebook_kept(tmp_path, capsys, stand_in_fingerprint):
    before = write_notebook(tmp_path / "01_a.ipynb", "print('start')", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert main(["run", "--notebooks", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "01_a.ipynb, code cell 2: the kernel died (killed, or out of memory)" in err
    assert "01_a.ipynb was left as it was." in err and "Traceback" not in err
    assert (tmp_path / "01_a.ipynb").read_bytes() == before and not list(tmp_path.glob(".*"))


@pytest.mark.slow
def test_a_cell_that_hangs_is_stopped_after_the_cell_time_limit(tmp_path, capsys, stand_in_fingerprint):
    before = write_notebook(tmp_path / "01_a.ipynb", "print('start')", "import time\ntime.sleep(120)")
    began = time.monotonic()
    assert main(["run", "--cell-timeout", "3", "--notebooks", str(tmp_path)]) == 1
    assert time.monotonic() - began < 60
    err = capsys.readouterr().err
    assert "01_a.ipynb, code cell 2: the cell ran longer than 3 s, the limit for one cell (--cell-timeout)" in err
    assert "Traceback" not in err
    assert (tmp_path / "01_a.ipynb").read_bytes() == before


def kernels_in(folder: Path) -> list[int]:
    """The live kernel processes started in ``folder`` (the runner starts each kernel in its notebook's folder)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if "ipykernel_launcher" in " ".join(process.info["cmdline"] or []) and process.cwd() == str(folder) \
                    and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def read_until(runner: subprocess.Popen, text: str, seconds: float = 90) -> str:
    """Read the runner's stdout as it comes until ``text`` appears (progress lines end without a newline)."""
    seen, deadline = "", time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline and runner.poll() is None:
        if select.select([runner.stdout], [], [], 0.1)[0]:
            seen += os.read(runner.stdout.fileno(), 4096).decode()
    assert text in seen, seen
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("when", ["while a cell runs", "while the kernel starts"])
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_says_what_was_kept_and_leaves_no_kernel_or_temporary_file(tmp_path, signum, status, when,
                                                                                      stand_in_fingerprint):
    write_notebook(tmp_path / "01_a.ipynb", "print('quick')")
    started = tmp_path / "started"
    before = write_notebook(tmp_path / "02_b.ipynb", f"open({str(started)!r}, 'w').close()\nimport time\ntime.sleep(120)")
    runner = subprocess.Popen([sys.executable, "-m", "mnist_tutorial", "run", "--notebooks", str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = read_until(runner, "[2/2] 02_b.ipynb ...")
    if when == "while a cell runs":
        deadline = time.monotonic() + 90
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists()
    runner.send_signal(signum)
    rest, err = runner.communicate(timeout=60)
    out, err = out + rest.decode(), err.decode()
    assert runner.returncode == status, (out, err)
    name = signal.Signals(signum).name
    assert err.strip() == (f"interrupted by {name} while running 02_b.ipynb, which was left as it was; "
                           "already updated: 01_a.ipynb")
    assert "Traceback" not in out + err and "Error" not in out + err
    assert "[2/2] 02_b.ipynb ... interrupted" in out
    assert (tmp_path / "02_b.ipynb").read_bytes() == before
    assert nbformat.read(tmp_path / "01_a.ipynb", as_version=4).cells[1].outputs[0].text == "quick\n"
    assert not list(tmp_path.glob(".*")), "a temporary file was left beside the notebooks"
    deadline = time.monotonic() + 10
    while kernels_in(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not kernels_in(tmp_path), "a kernel outlived the runner"


@pytest.fixture
def small_filesystem(tmp_path) -> Iterator[Path]:
    """A 64 KiB tmpfs (root only; CI runs as root): a real full disk, and remounted read-only, a real read-only one."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True).returncode == 0
    if not mounted:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and must be able to mount a tmpfs for the full-disk test")
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.mark.slow
def test_a_full_disk_keeps_the_committed_notebook_and_says_why(small_filesystem):
    path = small_filesystem / "01_a.ipynb"
    before = write_notebook(path, "print('x' * 200_000)")  # the executed notebook does not fit in 64 KiB
    with pytest.raises(series.RunFailed, match=r"01_a.ipynb ran, but could not be written: No space left on device"):
        series.run_series(small_filesystem, log=lambda *a, **k: None)
    assert path.read_bytes() == before and sorted(small_filesystem.iterdir()) == [path]


@pytest.mark.slow
def test_a_read_only_folder_keeps_the_committed_notebook_and_says_why(tmp_path, request):
    path = tmp_path / "01_a.ipynb"
    if os.geteuid() == 0:  # root writes through file permissions: make the file system itself read-only
        folder = request.getfixturevalue("small_filesystem")
        path = folder / "01_a.ipynb"
        before = write_notebook(path, "print('hello')")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        reason = "Read-only file system"
    else:
        before = write_notebook(path, "print('hello')")
        tmp_path.chmod(0o555)
        request.addfinalizer(lambda: tmp_path.chmod(0o755))
        reason = "Permission denied"
    with pytest.raises(series.RunFailed, match=f"01_a.ipynb ran, but could not be written: {reason}"):
        series.run_series(path.parent, log=lambda *a, **k: None)
    assert path.read_bytes() == before and sorted(path.parent.iterdir()) == [path]


def test_write_atomically_never_leaves_a_half_written_file(tmp_path, monkeypatch):
    path = tmp_path / "01_a.ipynb"
    before = write_notebook(path, "print('hello')")

    def fails(notebook, file):
        file.write("{ half")
        raise OSError("disk full")

    monkeypatch.setattr(series.nbformat, "write", fails)
    with pytest.raises(OSError, match="disk full"):
        series.write_atomically(nbformat.read(path, as_version=4), path)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_write_atomically_writes_text_with_the_permissions_a_file_would_get(tmp_path):
    fresh, kept = tmp_path / "results.json", tmp_path / "old.json"
    kept.write_text("old")
    kept.chmod(0o640)
    series.write_atomically("[]\n", fresh)
    series.write_atomically("new", kept)
    mask = os.umask(0)
    os.umask(mask)
    assert fresh.read_text() == "[]\n" and fresh.stat().st_mode & 0o777 == 0o666 & ~mask
    assert kept.read_text() == "new" and kept.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json", "results.json"]


@pytest.mark.slow
def test_a_results_file_that_cannot_be_written_stays_as_it_was(tmp_path, monkeypatch):
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(accuracy=0.99))
    results = tmp_path / "results.json"
    results.write_text("the committed results\n")
    real_replace = os.replace

    def no_space_for_json(source, target):
        if str(target).endswith(".json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(series.os, "replace", no_space_for_json)
    with pytest.raises(series.RunFailed, match=f"could not write {results}: No space left on device"):
        series.run_series(tmp_path, results_path=results, log=lambda *a, **k: None)
    assert results.read_text() == "the committed results\n"
    assert not list(tmp_path.glob(".*"))


@pytest.mark.slow
def test_cli_run_prints_the_table_and_fails_on_a_failed_check(tmp_path, capsys, stand_in_fingerprint):
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(accuracy=0.99))
    assert main(["run", "--notebooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| 01_a | tiny | 10 | 1 | 0.1 s | 99.00% | 98.00% | pass (needs 97.70%) |" in out
    write_notebook(tmp_path / "02_b.ipynb", TABLE.format(accuracy=0.9))
    assert main(["run", "--check", "--notebooks", str(tmp_path)]) == 1
    assert "| 02_b | tiny | 10 | 1 | 0.1 s | 90.00% | 98.00% | FAIL (needs 97.70%) |" in capsys.readouterr().out


def test_cli_run_reports_a_missing_folder(tmp_path, capsys, stand_in_fingerprint):
    assert main(["run", "--notebooks", str(tmp_path / "none")]) == 1
    assert "no notebooks named NN_*.ipynb in" in capsys.readouterr().err


def test_cli_data_prints_the_verified_facts(mnist_dir, capsys):
    assert main(["data", "--data-dir", str(mnist_dir)]) == 0
    out = capsys.readouterr().out
    assert "verified against the official checksums" in out
    assert "train: images (60000, 28, 28) uint8, labels (60000,), first [5 0 4 1 9 2 1 3 1 4]" in out
    assert "training class counts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]" in out


def test_cli_data_checks_fashion_mnist_too(fashion_dir, capsys):
    assert main(["data", "--fashion", "--data-dir", str(fashion_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Fashion-MNIST loaded and verified against the official checksums")
    assert "first [9 0 0 3 0 2 7 2 5 5]" in out and f"training class counts: {[6000] * 10}" in out


@pytest.mark.slow
def test_a_rerun_drops_old_timestamps_so_its_diff_shows_only_changed_outputs(tmp_path):
    path = tmp_path / "01_a.ipynb"
    write_notebook(path, "print('same every run')")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].metadata["execution"] = {"iopub.status.busy": "2026-11-23T01:11:30.927231Z"}
    nbformat.write(notebook, path)
    series.run_series(tmp_path, log=lambda *a, **k: None)
    first = path.read_bytes()
    assert b"iopub" not in first and b"shell.execute_reply" not in first
    series.run_series(tmp_path, log=lambda *a, **k: None)
    assert path.read_bytes() == first


def test_the_readme_states_the_runners_cell_time_limit():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"`--cell-timeout` (default {series.CELL_TIMEOUT} s" in readme


@pytest.mark.slow
def test_with_seed_substitutes_the_seed_in_a_copy_only(tmp_path):
    before = write_notebook(tmp_path / "01_a.ipynb", "SEED = 0  # chosen once\nprint(f'seed {SEED}')")
    notebook = series.execute_notebook(tmp_path / "01_a.ipynb", seed=3)
    assert notebook.cells[1].source.startswith("SEED = 3  # chosen once") and notebook.cells[1].outputs[0].text == "seed 3\n"
    assert (tmp_path / "01_a.ipynb").read_bytes() == before


@pytest.mark.parametrize("sources", [("print('no seed')",), ("SEED = 0", "SEED = 1")])
def test_with_seed_needs_exactly_one_seed_line(sources):
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    with pytest.raises(ValueError, match="exactly one line 'SEED = <number>'"):
        series.with_seed(notebook, 1)


def test_every_notebook_of_the_series_takes_another_seed():
    for path in series.find_notebooks(Path(__file__).resolve().parents[1] / "notebooks"):
        changed = series.with_seed(nbformat.read(path, as_version=4), 7)
        setup = next(cell.source for cell in changed.cells if cell.cell_type == "code")
        assert "\nSEED = 7\nset_seed(SEED)\n" in setup, path.name


@pytest.mark.slow
def test_a_run_with_another_seed_writes_nothing_and_reports_every_failing_notebook(tmp_path, capsys):
    first = write_notebook(tmp_path / "01_a.ipynb", "SEED = 0", "assert SEED == 0, f'fails with seed {SEED}'")
    second = write_notebook(tmp_path / "02_b.ipynb", "SEED = 0", TABLE.format(accuracy=0.99))
    third = write_notebook(tmp_path / "03_c.ipynb", "SEED = 0", "assert SEED < 2, 'also fails'")
    (tmp_path / "results.json").write_text("[]\n")
    assert main(["run", "--check", "--seed", "2", "--notebooks", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "with SEED = 2 in copies of the notebooks" in out
    assert err.strip().startswith("with seed 2, 2 of 3 notebooks failed:")
    assert "AssertionError: fails with seed 2" in err and "AssertionError: also fails" in err
    assert [(tmp_path / name).read_bytes() for name in ("01_a.ipynb", "02_b.ipynb", "03_c.ipynb")] == [first, second, third]
    assert (tmp_path / "results.json").read_text() == "[]\n" and not (tmp_path / "machine.json").exists()


@pytest.mark.slow
def test_results_are_recorded_as_each_notebook_completes(tmp_path):
    """Each notebook's rows replace its old ones as it completes: a notebook after it sees this run's rows."""
    (tmp_path / "results.json").write_text(json.dumps([{"notebook": "01_a", "model": "old"},
                                                       {"notebook": "02_b", "model": "last run's"},
                                                       {"notebook": "03_gone", "model": "gone"}]))
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(accuracy=0.99))
    write_notebook(tmp_path / "02_b.ipynb", "import json\nprint([row['model'] for row in json.load(open('results.json'))])")
    series.run_series(tmp_path, results_path=tmp_path / "results.json", log=lambda *a, **k: None)
    assert nbformat.read(tmp_path / "02_b.ipynb", as_version=4).cells[1].outputs[0].text == "['tiny', \"last run's\"]\n"
    assert [row["model"] for row in json.loads((tmp_path / "results.json").read_text())] == ["tiny"]


@pytest.mark.slow
def test_cli_run_records_the_machine_beside_the_outputs(tmp_path, machine_fingerprint, monkeypatch):
    computed = []  # run computes it once a job, the fingerprint command every time: this session's stands in

    def once(python: str = sys.executable) -> str:
        computed.append(python)
        return machine_fingerprint

    monkeypatch.setattr(fingerprint, "fingerprint", once)
    monkeypatch.delenv(fingerprint.KNOWN_VARIABLE, raising=False)  # a job that has not computed it yet
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(accuracy=0.99))
    assert main(["run", "--notebooks", str(tmp_path)]) == 0 and main(["run", "--notebooks", str(tmp_path)]) == 0
    machine = json.loads((tmp_path / "machine.json").read_text())
    assert machine == {"fingerprint": machine_fingerprint, "instruction_set": fingerprint.instruction_set()}
    assert len(computed) == 1, "the second run should reuse the job's fingerprint"
    assert main(["fingerprint", "--notebooks", str(tmp_path)]) == 0 and len(computed) == 2


@pytest.mark.slow
def test_a_widget_is_saved_as_its_text_alone_the_same_on_every_run(tmp_path):
    path = tmp_path / "01_a.ipynb"
    write_notebook(path, "import ipywidgets\nipywidgets.IntSlider(value=7, description='digit')")
    series.run_series(tmp_path, log=lambda *a, **k: None)
    first = path.read_bytes()
    notebook = nbformat.reads(first.decode(), as_version=4)
    assert "widgets" not in notebook.metadata  # no widget state: it belongs to the kernel that ran
    (output,) = notebook.cells[1].outputs
    assert list(output.data) == ["text/plain"] and "IntSlider(value=7" in output.data["text/plain"]
    series.run_series(tmp_path, log=lambda *a, **k: None)
    assert path.read_bytes() == first  # a view's random model id would differ here


def test_a_half_built_event_loop_says_nothing_at_exit_after_a_stop(tmp_path):
    """A signal that cuts an event loop's set-up short leaves a loop whose __del__ fails at exit (seen once in a
    fresh-clone CI run, 'while the kernel starts'); after a stop the runner drops that message, and only that one."""
    script = tmp_path / "half_built.py"
    script.write_text(textwrap.dedent("""
        import asyncio, sys
        from mnist_tutorial.tools.series import quiet_half_built_event_loops
        if sys.argv[1] == "quiet":
            sys.unraisablehook = quiet_half_built_event_loops
        loop = asyncio.SelectorEventLoop.__new__(asyncio.SelectorEventLoop)  # never initialised, as if cut short
        loop._closed = False
        del loop

        class Other:
            def __del__(self):
                raise AttributeError("another object's failure")

        if sys.argv[1] == "quiet":
            Other()
    """))
    runs = {how: subprocess.run([sys.executable, str(script), how], capture_output=True, text=True)
            for how in ("loud", "quiet")}
    assert "BaseEventLoop.__del__" in runs["loud"].stderr and "AttributeError" in runs["loud"].stderr
    assert "BaseEventLoop" not in runs["quiet"].stderr
    assert "another object's failure" in runs["quiet"].stderr  # anything else is still shown
