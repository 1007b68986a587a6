"""Tests for the series runner and the command line: safe in-place execution, results, failures."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from mnist_tutorial import series
from mnist_tutorial.__main__ import main

TABLE = (
    'print("| model | params | epochs | train time | test accuracy | tutorial | check |")\n'
    'print("| --- | --- | --- | --- | --- | --- | --- |")\n'
    'print("| tiny | 10 | 1 | 0.1 s | 99.00% | 98.00% | {verdict} |")'
)


def write_notebook(path, *sources):
    cells = [new_markdown_cell("# test")] + [new_code_cell(source) for source in sources]
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(notebook, path)
    return path.read_bytes()


def test_run_series_executes_in_place_and_collects_results(tmp_path):
    write_notebook(tmp_path / "01_a.ipynb", "x = 6 * 7\nprint(x)", TABLE.format(verdict="pass"))
    write_notebook(tmp_path / "02_b.ipynb", TABLE.format(verdict="pass"))
    logged = []
    rows = series.run_series(tmp_path, results_path=tmp_path / "results.json",
                             log=lambda *args, **kwargs: logged.append(" ".join(args)))
    assert [row["notebook"] for row in rows] == ["01_a", "02_b"]
    assert rows[0] == {"notebook": "01_a", "model": "tiny", "params": "10", "epochs": "1", "train time": "0.1 s",
                       "test accuracy": "99.00%", "tutorial": "98.00%", "check": "pass"}
    executed = nbformat.read(tmp_path / "01_a.ipynb", as_version=4)
    assert executed.cells[1].outputs[0].text == "42\n"
    assert json.loads((tmp_path / "results.json").read_text()) == rows
    assert any("[1/2] 01_a.ipynb" in line for line in logged)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_a.ipynb", "02_b.ipynb", "results.json"]


def test_executing_in_place_keeps_the_files_permissions(tmp_path):
    path = tmp_path / "01_a.ipynb"
    write_notebook(path, "print('hello')")
    path.chmod(0o664)
    series.run_series(tmp_path, log=lambda *a, **k: None)
    assert path.stat().st_mode & 0o777 == 0o664


def test_check_mode_leaves_the_files_untouched(tmp_path):
    before = write_notebook(tmp_path / "01_a.ipynb", "print('hello')", TABLE.format(verdict="pass"))
    rows = series.run_series(tmp_path, check=True, log=lambda *a, **k: None)
    assert rows[0]["check"] == "pass"
    assert (tmp_path / "01_a.ipynb").read_bytes() == before


def test_a_failing_notebook_stops_the_series_and_stays_as_it_was(tmp_path):
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(verdict="pass"))
    broken = write_notebook(tmp_path / "02_b.ipynb", "raise ValueError('the model fell short')")
    never_run = write_notebook(tmp_path / "03_c.ipynb", "print('never')")
    with pytest.raises(RuntimeError, match="02_b.ipynb failed; the file was left as it was") as error:
        series.run_series(tmp_path, log=lambda *a, **k: None)
    assert "the model fell short" in str(error.value)
    assert (tmp_path / "02_b.ipynb").read_bytes() == broken
    assert (tmp_path / "03_c.ipynb").read_bytes() == never_run
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_an_interrupted_run_leaves_the_notebook_intact(tmp_path, monkeypatch):
    before = write_notebook(tmp_path / "01_a.ipynb", "print('hello')")

    def interrupted(path, timeout=900):
        raise KeyboardInterrupt

    monkeypatch.setattr(series, "execute_notebook", interrupted)
    with pytest.raises(KeyboardInterrupt):
        series.run_series(tmp_path, log=lambda *a, **k: None)
    assert (tmp_path / "01_a.ipynb").read_bytes() == before


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


def test_cli_run_prints_the_table_and_fails_on_a_failed_check(tmp_path, capsys):
    write_notebook(tmp_path / "01_a.ipynb", TABLE.format(verdict="pass"))
    assert main(["run", "--notebooks", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| 01_a | tiny | 10 | 1 | 0.1 s | 99.00% | 98.00% | pass |" in out
    write_notebook(tmp_path / "02_b.ipynb", TABLE.format(verdict="FAIL"))
    assert main(["run", "--check", "--notebooks", str(tmp_path)]) == 1


def test_cli_run_reports_a_missing_folder(tmp_path, capsys):
    assert main(["run", "--notebooks", str(tmp_path / "none")]) == 1
    assert "no notebooks named NN_*.ipynb in" in capsys.readouterr().err


def test_cli_data_prints_the_verified_facts(mnist_dir, capsys):
    assert main(["data", "--data-dir", str(mnist_dir)]) == 0
    out = capsys.readouterr().out
    assert "verified against the official checksums" in out
    assert "train: images (60000, 28, 28) uint8, labels (60000,), first [5 0 4 1 9 2 1 3 1 4]" in out
    assert "training class counts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]" in out
