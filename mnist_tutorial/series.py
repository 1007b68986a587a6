"""Execute the notebook series in place, safely, and collect each notebook's results table.

Each notebook's last cell prints a Markdown table of its results (see
``mnist_tutorial.training.check_against_tutorial``); this module runs the
notebooks in order, gathers those rows and writes them to ``results.json``.
A notebook is replaced only by a run that completed: it is executed in
memory, written to a temporary file beside it, and renamed over the original.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

RESULT_COLUMNS = ("model", "params", "epochs", "train time", "test accuracy", "tutorial", "check")


def find_notebooks(folder: str | os.PathLike) -> list[Path]:
    """Return the series' notebooks (``NN_name.ipynb``) in a folder, in order.

    >>> find_notebooks("/no/such/folder")
    []
    """
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def execute_notebook(path: str | os.PathLike, timeout: int = 900) -> nbformat.NotebookNode:
    """Execute a notebook in its own folder and return it with fresh outputs; the file is not touched.

    Raises ``nbclient.exceptions.CellExecutionError`` with the failing cell's
    error if a cell fails, and nbclient's other errors if the kernel dies or
    does not answer.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        extra_arguments=["--log-level=ERROR"],  # the kernel's own start-up warnings stay out of the terminal
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return notebook


def write_atomically(notebook: nbformat.NotebookNode, path: str | os.PathLike) -> None:
    """Write a notebook to a temporary file beside ``path`` and rename it over ``path``, keeping its permissions."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".ipynb", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            nbformat.write(notebook, file)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)  # mkstemp makes files private (0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def result_rows(notebook: nbformat.NotebookNode) -> list[dict[str, str]]:
    """Return the rows of the results table that a notebook's last code cell printed.

    >>> cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("stream", text=(
    ...     "| model | params | epochs | train time | test accuracy | tutorial | check |\\n"
    ...     "| --- | --- | --- | --- | --- | --- | --- |\\n"
    ...     "| mlp | 118,282 | 3 | 9.1 s | 97.21% | 97.06% | pass |\\n"))])
    >>> result_rows(nbformat.v4.new_notebook(cells=[cell]))[0]["test accuracy"]
    '97.21%'
    """
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code_cells:
        return []
    text = "".join(output.get("text", "") for output in code_cells[-1].outputs if output.output_type == "stream")
    rows = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == len(RESULT_COLUMNS) and cells[0] not in ("model", "---"):
            rows.append(dict(zip(RESULT_COLUMNS, cells)))
    return rows


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Format result rows, each with a ``notebook`` key, as a Markdown table.

    >>> print(markdown_table([{"notebook": "01", "model": "mlp", "check": "pass"}]))
    | notebook | model | params | epochs | train time | test accuracy | tutorial | check |
    | --- | --- | --- | --- | --- | --- | --- | --- |
    | 01 | mlp |  |  |  |  |  | pass |
    """
    columns = ("notebook", *RESULT_COLUMNS)
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(row.get(column, "") for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def run_series(
    folder: str | os.PathLike, check: bool = False, results_path: str | os.PathLike | None = None, log=print
) -> list[dict[str, str]]:
    """Execute every notebook of the series in order and return all result rows.

    Takes the notebooks' folder; ``check=True`` leaves the files untouched.
    Each completed notebook replaces its file (unless ``check``); the rows
    are also written as JSON to ``results_path`` if given. Stops at the
    first failing notebook: raises ``RuntimeError`` naming it, with the
    cell's error, and leaves that notebook's file as it was.
    """
    notebooks = find_notebooks(folder)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {folder}")
    rows: list[dict[str, str]] = []
    start = time.perf_counter()
    for number, path in enumerate(notebooks, 1):
        log(f"[{number}/{len(notebooks)}] {path.name} ...", end="", flush=True)
        began = time.perf_counter()
        try:
            notebook = execute_notebook(path)
        except Exception as error:  # a failing cell, a dead or silent kernel: all stop the series
            log(" FAILED")
            raise RuntimeError(f"{path.name} failed; the file was left as it was.\n{error}") from None
        if not check:
            write_atomically(notebook, path)
        found = result_rows(notebook)
        rows += [{"notebook": path.stem, **row} for row in found]
        now = time.perf_counter()
        log(f" done in {now - began:.0f} s (total {now - start:.0f} s)")
    if results_path is not None:
        Path(results_path).write_text(json.dumps(rows, indent=2) + "\n")
    return rows
