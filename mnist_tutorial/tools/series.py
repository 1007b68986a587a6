"""Execute the notebook series in place, safely, and collect each notebook's results.

Each notebook's last cell displays its results table (``mnist_tutorial.results.check_against_tutorial``),
with the results as data in the output's metadata; this module runs the notebooks
in order, gathers that data and writes it to ``results.json``.
A notebook is replaced only by a run that completed: it is executed in
memory, written to a temporary file beside it, and renamed over the original.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbclient
import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from mnist_tutorial.results import COLUMNS, Result, _markdown_table  # the notebooks' table, with a notebook column

#: Seconds one cell may run: several times the slowest cell, notebook 05's convnet training (the README has its time).
CELL_TIMEOUT = 1800
#: How many closing lines of a failing cell's traceback a failure shows.
ERROR_LINES = 12
#: The signals that stop a run: Ctrl-C, and SIGTERM (a `kill`, or a CI runner's timeout).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The output type of a widget's view: a pointer to a model in the kernel, not saved (``without_widget_views``).
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def find_notebooks(folder: str | os.PathLike) -> list[Path]:
    """Return the series' notebooks (``NN_name.ipynb``) in a folder, in order.

    >>> find_notebooks("/no/such/folder")
    []
    """
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


class RunFailed(Exception):
    """A notebook of the series did not complete; the message names it, the cell and the reason."""


def quiet_half_built_event_loops(unraisable) -> None:
    """``sys.unraisablehook`` for a run that a signal stopped: drop the one message a half-built event loop leaves.

    A stop signal can land while asyncio builds an event loop; at exit, that loop's ``__del__`` then fails on an
    attribute it never got, and Python prints "Exception ignored in: ...BaseEventLoop.__del__" under the runner's
    own message. Anything else unraisable is shown as Python shows it.
    """
    if getattr(unraisable.object, "__qualname__", "") == "BaseEventLoop.__del__" and \
            isinstance(unraisable.exc_value, AttributeError):
        return
    sys.__unraisablehook__(unraisable)


class RunInterrupted(Exception):
    """The run was stopped by Ctrl-C (SIGINT) or SIGTERM; ``signum`` says which."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum


class _Client(nbclient.NotebookClient):
    """nbclient's notebook client, but the runner keeps SIGINT and SIGTERM from the moment the kernel starts.

    nbclient installs handlers that stop the kernel and let the cells run on into errors; ``take_signals``
    puts the runner's own back right after, before anything is awaited.
    """

    def __init__(self, notebook: nbformat.NotebookNode, take_signals, **kwargs) -> None:
        super().__init__(notebook, **kwargs)
        self.take_signals = take_signals

    async def async_start_new_kernel(self, **kwargs) -> None:
        self.take_signals()
        await super().async_start_new_kernel(**kwargs)


async def _shut_down(client: nbclient.NotebookClient) -> None:
    """Stop the kernel, if nbclient's own clean-up did not (a signal can arrive while the kernel starts)."""
    atexit.unregister(client._cleanup_kernel)  # nbclient's last-resort clean-up at exit, now done here
    if client.km is not None and client.km.has_kernel:
        await client.km.shutdown_kernel(now=True)


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: The line of a notebook's setup cell that chooses its seed: ``SEED = 0``.
SEED_LINE = re.compile(r"^SEED = \d+\b", re.M)


def with_seed(notebook: nbformat.NotebookNode, seed: int) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` whose one ``SEED = ...`` line sets ``seed`` instead; the original is unchanged.

    Raises:
        ValueError: unless exactly one line of the notebook's code starts with ``SEED = <number>``.

    >>> notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("SEED = 0  # chosen once")])
    >>> with_seed(notebook, 3).cells[0].source, notebook.cells[0].source
    ('SEED = 3  # chosen once', 'SEED = 0  # chosen once')
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    found = [(cell, len(SEED_LINE.findall(cell.source))) for cell in notebook.cells if cell.cell_type == "code"]
    if sum(count for _, count in found) != 1:
        raise ValueError(f"a notebook run with another seed needs exactly one line 'SEED = <number>' in its code, "
                         f"found {sum(count for _, count in found)}")
    changed = copy.deepcopy(notebook)
    for cell in changed.cells:
        if cell.cell_type == "code":
            cell.source = SEED_LINE.sub(f"SEED = {seed}", cell.source)
    return changed


def execute_notebook(path: str | os.PathLike, cell_timeout: int = CELL_TIMEOUT,
                     seed: int | None = None) -> nbformat.NotebookNode:
    """Execute a notebook in its own folder and return it with fresh outputs; the file is not touched.

    The cells keep no execution timestamps (nbclient's ``record_timing`` is
    off, and old ones are dropped), so a re-run differs only where outputs did.
    With ``seed``, a copy runs with that seed in place of its own (``with_seed``).
    The kernel is shut down however the run ends.

    Raises:
        RunFailed: a cell raised (the message ends with the last lines of its
            error), ran longer than ``cell_timeout`` seconds, or the kernel died.
        RunInterrupted: SIGINT or SIGTERM arrived while the notebook ran.
        ValueError: ``seed`` was given, but the notebook has no one ``SEED = ...`` line.
    """
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    if seed is not None:
        notebook = with_seed(notebook, seed)
    for cell in notebook.cells:  # a re-run's diff should show changed outputs, not new timestamps
        cell.metadata.pop("execution", None)
    execution = _execute(notebook, path, cell_timeout)
    try:
        return without_widget_views(asyncio.run(execution))
    finally:
        execution.close()  # a signal that comes before asyncio.run starts it must not leave it unawaited


def without_widget_views(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop the widget views from a notebook's outputs, keeping their text; the notebook is changed in place.

    A view names a widget model (by a random id) that lives only in the kernel that made
    it: saved, it would differ on every run, and JupyterLab would show "model not found"
    when the notebook is reopened. The text (the widget's repr) stays, and running the cell
    shows the widget again.

    >>> view = {"application/vnd.jupyter.widget-view+json": {"model_id": "a1"}, "text/plain": "DigitPad(7)"}
    >>> cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("execute_result", view)])
    >>> without_widget_views(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs[0].data
    {'text/plain': 'DigitPad(7)'}
    """
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    return notebook


async def _execute(notebook: nbformat.NotebookNode, path: Path, cell_timeout: int) -> nbformat.NotebookNode:
    """Run ``notebook`` with nbclient; turn signals into a clean cancellation and errors into ``RunFailed``."""
    return await _Execution(notebook, path, cell_timeout).run()


class _Execution:
    """One notebook executed by nbclient, with the runner's hold on SIGINT and SIGTERM and its account of a failure.

    Create it inside the event loop that runs it: a stop signal cancels the task that runs it.
    """

    def __init__(self, notebook: nbformat.NotebookNode, path: Path, cell_timeout: int) -> None:
        self.notebook, self.path, self.cell_timeout = notebook, path, cell_timeout
        self.task, self.loop = asyncio.current_task(), asyncio.get_running_loop()
        self.received: list[int] = []  # the stop signal, once one came
        self.stopping: list[asyncio.Task] = []  # holds the kill-then-cancel task while it runs
        self.running: list[nbformat.NotebookNode] = []  # the code cells started so far; the last one is running
        self.client = _Client(
            notebook,
            self.take_signals,
            timeout=cell_timeout,
            kernel_name="python3",
            record_timing=False,
            store_widget_state=False,  # widget state belongs to the kernel that made it; see without_widget_views
            extra_arguments=["--log-level=ERROR"],  # the kernel's own start-up warnings stay out of the terminal
            resources={"metadata": {"path": str(path.parent)}},
            on_cell_start=self.count_cell,
        )

    async def run(self) -> nbformat.NotebookNode:
        """Execute every cell, holding the stop signals meanwhile and giving the previous handlers back after."""
        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        self.take_signals()
        try:
            await self.client.async_execute()
        except BaseException as error:
            if self.received:  # whatever the cancellation became in nbclient: a "dead kernel", a closed socket...
                await _shut_down(self.client)
                raise RunInterrupted(self.path.name, self.received[0]) from None
            failure = self.failure(error)
            if failure is None:
                raise
            raise failure from None
        finally:
            if threading.current_thread() is threading.main_thread():
                for signum, handler in previous.items():
                    self.loop.remove_signal_handler(signum)
                    signal.signal(signum, handler)  # asyncio would leave the default handlers behind
        return self.notebook

    def take_signals(self) -> None:
        """Make SIGINT and SIGTERM call ``stop`` (in the main thread only: signals go nowhere else)."""
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.loop.add_signal_handler(signum, self.stop, signum)

    def stop(self, signum: int) -> None:
        """Kill the kernel and cancel the run, once: a second Ctrl-C must not cut short the kernel's shutdown."""
        if not self.received:
            self.received.append(signum)
            self.client.shutdown_kernel = "immediate"
            self.stopping.append(asyncio.ensure_future(self.kill_then_cancel()))

    async def kill_then_cancel(self) -> None:
        """Kill the kernel outright, then cancel the run.

        Outright: nbclient's clean-up, ``shutdown_kernel(now=True)``, interrupts the kernel before killing it,
        and a kernel killed while it answers that interrupt can print a libzmq assertion here.
        """
        try:
            if self.client.km is not None and self.client.km.has_kernel:
                await self.client.km.signal_kernel(signal.SIGKILL)
        finally:
            self.task.cancel()

    def count_cell(self, cell: nbformat.NotebookNode, **_) -> None:
        """nbclient's ``on_cell_start`` hook: keep count of the code cells, to name the one that fails."""
        if cell.cell_type == "code":
            self.running.append(cell)

    def where(self) -> str:
        """The notebook and the code cell running, as a failure names them."""
        return f"{self.path.name}, code cell {len(self.running)}"

    def failure(self, error: BaseException) -> RunFailed | None:
        """The ``RunFailed`` that says what went wrong in a cell, or None for an error that is not a cell's."""
        if isinstance(error, DeadKernelError):
            return RunFailed(f"{self.where()}: the kernel died (killed, or out of memory)")
        if isinstance(error, CellTimeoutError):
            return RunFailed(f"{self.where()}: the cell ran longer than {self.cell_timeout} s, the limit for one cell "
                             "(--cell-timeout)")
        if isinstance(error, CellExecutionError):
            errors = [output for output in self.running[-1].outputs if output.output_type == "error"] if self.running else []
            report = "\n".join(errors[-1].traceback) if errors else f"{error.ename}: {error.evalue}"
            lines = ANSI_ESCAPE.sub("", report).strip().splitlines()
            return RunFailed(f"{self.where()} raised {error.ename}:\n" + "\n".join(lines[-ERROR_LINES:]))
        return None


def write_atomically(content: nbformat.NotebookNode | str, path: str | os.PathLike) -> None:
    """Write a notebook, or text, to a temporary file beside ``path`` and rename it over ``path``.

    ``path`` keeps its permissions; a new file gets the usual ones (0666 less the umask). Whatever goes
    wrong, ``path`` is either as it was or completely written, and no temporary file is left.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            if isinstance(content, str):
                file.write(content)
            else:
                nbformat.write(content, file)
        # mkstemp makes files private (0600)
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's file-creation mask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def result_rows(notebook: nbformat.NotebookNode) -> list[dict]:
    """Return the results the notebook's last code cell displayed, as ``Result.to_dict`` data.

    >>> table = {"metadata": {"mnist_tutorial": {"results": [{"model": "mlp"}]}}}
    >>> cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("execute_result", **table)])
    >>> result_rows(nbformat.v4.new_notebook(cells=[cell]))
    [{'model': 'mlp'}]
    """
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = code_cells[-1].outputs if code_cells else []
    return [row for output in outputs for row in output.get("metadata", {}).get("mnist_tutorial", {}).get("results", [])]


def _result(row: dict) -> Result:
    """The ``Result`` of a row of ``results.json``, without its ``notebook`` key."""
    return Result.from_dict({key: value for key, value in row.items() if key != "notebook"})


def passed(row: dict) -> bool:
    """True if a row of ``results.json`` reached its target."""
    return _result(row).passed


def results_table_markdown(rows: list[dict]) -> str:
    """Return the series' results table in Markdown: result rows, each ``Result.to_dict`` data with a ``notebook`` key.

    >>> row = {"notebook": "01", "model": "mlp", "params": 10, "epochs": 3, "seconds": 9.0, "accuracy": 0.97,
    ...        "target": {"reported": 0.9706, "tolerance": 0.005, "minimum": 0.0, "measured_on": "test"}}
    >>> print(results_table_markdown([row]))
    | notebook | model | params | epochs | train time | accuracy | expected | check |
    | --- | --- | --- | --- | --- | --- | --- | --- |
    | 01 | mlp | 10 | 3 | 9.0 s | 97.00% | 97.06% | pass (needs 96.56%) |
    """
    return _markdown_table(("notebook", *COLUMNS), [[row["notebook"], *_result(row).cells().values()] for row in rows])


def run_series(
    folder: str | os.PathLike,
    check: bool = False,
    results_path: str | os.PathLike | None = None,
    log=print,
    cell_timeout: int = CELL_TIMEOUT,
    seed: int | None = None,
) -> list[dict]:
    """Execute every notebook of the series in order and return all result rows.

    Takes the notebooks' folder; ``check=True`` leaves the files untouched.
    Each completed notebook replaces its file (unless ``check``), and its rows
    replace its rows in the JSON file ``results_path``, if given, at once: a
    run that stops keeps the rows of every notebook that completed. Stops at the
    first notebook that fails, and leaves that notebook's file as it was.
    With ``seed``, copies of the notebooks run with that seed in place of
    their own (``with_seed``), nothing is written, and every notebook runs
    even after one has failed, so that each one's checks are reported.

    Raises:
        FileNotFoundError: no ``NN_*.ipynb`` notebooks in ``folder``.
        RunFailed: a notebook failed (see ``execute_notebook``), or its file
            or ``results_path`` could not be written; with ``seed``, after the
            last notebook, naming every one that failed.
        RunInterrupted: Ctrl-C or SIGTERM; the message says which notebook
            was left as it was and which were already updated.
    """
    notebooks = find_notebooks(folder)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {folder}")
    if seed is not None:
        check, results_path = True, None  # the copies with another seed are never written
    return _SeriesRun(notebooks, check, results_path, log, cell_timeout, seed).run()


class _SeriesRun:
    """One run of the series: the notebooks run so far, their rows, and what to say if the run stops."""

    def __init__(self, notebooks: list[Path], check: bool, results_path: str | os.PathLike | None, log,
                 cell_timeout: int, seed: int | None) -> None:
        self.notebooks, self.check, self.log, self.cell_timeout, self.seed = notebooks, check, log, cell_timeout, seed
        self.results_path = Path(results_path) if results_path is not None else None
        self.rows: list[dict] = []
        self.failures: list[str] = []  # with another seed: every notebook that failed, each one's message
        self.updated: list[str] = []  # the notebooks written in place
        self.earlier = _read_rows(results_path)  # the last run's rows, each replaced as its notebook completes
        self.running: Path | None = None  # the notebook being executed, while its progress line is open
        self.start = time.perf_counter()

    def run(self) -> list[dict]:
        """Run every notebook in order and return all result rows; see ``run_series``."""
        try:
            with _signals_raise():
                for number, path in enumerate(self.notebooks, 1):
                    self.run_notebook(number, path)
                if self.failures:
                    raise RunFailed(f"with seed {self.seed}, {len(self.failures)} of {len(self.notebooks)} notebooks "
                                    "failed:\n\n" + "\n\n".join(self.failures))
        except RunInterrupted as stop:
            raise self.interrupted(stop.signum) from None
        return self.rows

    def run_notebook(self, number: int, path: Path) -> None:
        """Execute one notebook, with its progress line, and keep what it gave; a failure stops the run, unless seeded."""
        self.running = path
        self.log(f"[{number}/{len(self.notebooks)}] {path.name} ...", end="", flush=True)
        began = time.perf_counter()
        try:
            notebook = execute_notebook(path, self.cell_timeout, self.seed)
        except RunFailed as failure:
            self.log(" FAILED")
            if self.seed is None:
                raise RunFailed(f"{failure}\n{path.name} was left as it was.") from None
            self.failures.append(str(failure))
            self.running = None
            return
        self.keep(notebook, number, path)
        now = time.perf_counter()
        self.log(f" done in {now - began:.0f} s (total {now - self.start:.0f} s)")
        self.running = None

    def keep(self, notebook: nbformat.NotebookNode, number: int, path: Path) -> None:
        """Write the executed notebook in place (unless checking), and its rows in place of its last ones."""
        if not self.check:
            _write(notebook, path)
            self.updated.append(path.name)
        self.rows += [{"notebook": path.stem, **row} for row in result_rows(notebook)]
        if self.results_path is not None:
            to_come = {later.stem for later in self.notebooks[number:]}
            later = [row for row in self.earlier if row.get("notebook") in to_come]
            _write_text(json.dumps(self.rows + later, indent=2) + "\n", self.results_path)

    def interrupted(self, signum: int) -> RunInterrupted:
        """What a stop signal ends the run with: which notebook was left as it was, which were updated."""
        if self.running is not None:
            self.log(" interrupted")
        where = f"while running {self.running.name}, which was left as it was" if self.running else "between notebooks"
        done = f"already updated: {', '.join(self.updated)}" if self.updated else "no notebook was updated"
        return RunInterrupted(f"interrupted by {signal.Signals(signum).name} {where}; {done}", signum)


def _read_rows(path: str | os.PathLike | None) -> list[dict]:
    """The rows of a results file, or none if there is no such file or it holds no list of rows."""
    try:
        rows = json.loads(Path(path).read_text()) if path is not None else []
    except (OSError, ValueError):
        return []
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


@contextlib.contextmanager
def _signals_raise():
    """Turn SIGINT and SIGTERM into ``RunInterrupted`` in this thread, so a file being written is cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise RunInterrupted("interrupted", signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _write(notebook: nbformat.NotebookNode, path: Path) -> None:
    """``write_atomically`` for a notebook that ran, with a failure to write said as ``RunFailed``."""
    try:
        write_atomically(notebook, path)
    except OSError as error:
        raise RunFailed(f"{path.name} ran, but could not be written: {error.strerror or error} "
                        f"(in {path.parent})") from None


def _write_text(text: str, path: Path) -> None:
    """``write_atomically`` for text, with a failure to write said as ``RunFailed``."""
    try:
        write_atomically(text, path)
    except OSError as error:
        raise RunFailed(f"could not write {path}: {error.strerror or error}") from None
