"""A pytest plugin: how nbval compares the notebooks' outputs, by whether this machine computes as the committed run's did.

Before any notebook is collected, the run decides how nbval compares outputs (``--outputs``):

- ``strict``, where this machine's fingerprint (``mnist_tutorial.tools.fingerprint``) is the one
  the runner recorded beside the notebooks (``--machine-file``, notebooks/machine.json): every
  output is compared digit for digit, after notebooks/sanitize.cfg.
- ``masked``, where it is not: every output is compared after the same sanitizers and one more,
  ``NUMBER``, which turns every number into ``#``. Another CPU trains as another seed would, so
  the numbers move; the words, the lines, the warnings, the errors and the tables must not.
- ``lax``, only when asked (``--outputs lax`` or nbval's ``--nbval-lax``): every cell and every
  notebook's own checks run, no output is compared.

In strict and masked runs a figure is compared by its presence: each image becomes ``IMAGE``, so
a cell must show as many images as the committed one. The run names its mode, and why, in a line at
its top, and in its summary, with how many cells it compared. Every notebook cell is marked ``slow``, so
``-m "not slow"`` (make test-quick) leaves the notebooks out. pyproject's addopts load it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_tutorial.tools.fingerprint import MACHINE_FILE

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OUTPUTS = pytest.StashKey[tuple[str, str]]()  # (mode, the line that says why)
UNCOMPARED = pytest.StashKey[set[str]]()  # the cells run whose outputs are not compared (NBVAL_IGNORE_OUTPUT)
#: Every number, with any blanks around it (a padded column moves with the number's width): one ``#``.
NUMBER = (r"[ \t]*-?\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?[ \t]*", " # ")
#: An image (base64 PNG or JPEG) is compared by its presence, not its pixels.
IMAGE = (r"^(?:iVBORw0KGgo|/9j/)[A-Za-z0-9+/=\s]*$", "IMAGE")
IMAGE_TYPES = ("image/png", "image/jpeg")
COMPARED = {"strict": "compared digit for digit", "masked": "compared with every number masked",
            "lax": "executed, their outputs NOT compared (lax)"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notebook outputs")
    group.addoption("--outputs", choices=("auto", "strict", "masked", "lax"), default="auto",
                    help="how nbval compares the notebooks' outputs: strict (every digit), masked (every output with "
                         "its numbers masked), lax (none; every cell and every check still runs), or auto: strict "
                         "where this machine's fingerprint is the committed one, else masked (the default)")
    group.addoption("--seed", type=int, default=None, dest="notebook_seed", metavar="N",
                    help="execute each notebook with SEED = N in place of its own line 'SEED = ...' and compare its "
                         "outputs masked (unless --outputs says otherwise): another seed moves every trained figure, "
                         "as another CPU does")
    group.addoption("--machine-file", default=str(NOTEBOOKS / MACHINE_FILE),
                    help="the committed outputs' machine fingerprint, as the runner wrote it")


def outputs_mode(config: pytest.Config) -> tuple[str, str]:
    """Decide how nbval compares outputs: ``(strict, masked or lax, the line that says why)``; fingerprints if needed."""
    asked = "lax" if config.option.nbval_lax else config.option.outputs
    seed = config.option.notebook_seed
    if seed is not None and asked == "auto":
        return "masked", (f"notebook outputs: masked, with SEED = {seed} in place of each notebook's own: every output "
                          "is compared with its numbers masked, as on a CPU that computes in another order")
    if asked in ("lax", "masked"):
        what = "no output is compared" if asked == "lax" else "every output is compared with its numbers masked"
        return asked, f"notebook outputs: {asked}, as asked: every cell and every check runs, {what}"
    from mnist_tutorial.tools.fingerprint import committed_machine, instruction_set, this_machine

    machine_file = Path(config.option.machine_file)
    committed = committed_machine(machine_file).get("fingerprint", "none recorded")
    here = this_machine()
    if here == committed:
        return "strict", (f"notebook outputs: strict, this machine's fingerprint is the committed one ({here}): "
                          "every output is compared digit for digit")
    if asked == "strict":
        return "strict", (f"notebook outputs: strict, as asked, although this machine's fingerprint {here} is not "
                          f"the committed {committed}: expect last-digit differences")
    return "masked", (f"notebook outputs: MASKED. This CPU ({instruction_set()}) computes in another order than the "
                      f"machine that executed the notebooks: fingerprint {here} here, {committed} in "
                      f"{machine_file.name}. Every output is compared with its numbers masked (words, lines, "
                      "warnings, errors and the number of figures must match); every notebook's own checks hold "
                      "the numbers; make test-strict (pytest --outputs strict) shows the digits that differ.")


def collects_notebooks(config: pytest.Config) -> bool:
    """True if this run may collect a notebook: nbval is on and an argument is a notebook or a folder that holds one."""
    if not (getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)):
        return False  # nbval off, or not even loaded (-p no:nbval)
    for argument in config.args:
        path = Path(config.invocation_params.dir, argument.split("::")[0]).resolve()
        if path.suffix == ".ipynb" or path == NOTEBOOKS or path in NOTEBOOKS.parents or NOTEBOOKS in path.parents:
            return True
        if path.is_dir() and any(path.glob("*.ipynb")):
            return True
    return False


@pytest.hookimpl(trylast=True)  # after nbval's own pytest_configure
def pytest_configure(config: pytest.Config) -> None:
    if not any(line.startswith("slow:") for line in config.getini("markers")):  # pyproject registers it; other inis
        config.addinivalue_line("markers", "slow: a test that takes long, as every notebook cell does")
    if collects_notebooks(config):
        mode, line = outputs_mode(config)
        config.option.nbval_lax = mode == "lax"  # nbval reads it as it collects each notebook
        config.stash[OUTPUTS] = (mode, line)


@pytest.hookimpl(tryfirst=True)  # before pytest's own -m deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every notebook cell is marked ``slow`` (``-m "not slow"`` leaves the notebooks out); with ``--seed N``, each
    notebook's one line ``SEED = ...`` sets N instead (as ``run --seed N`` does)."""
    notebooks: dict[pytest.Collector, list] = {}  # each notebook's code cells
    for item in items:
        if item.nodeid.split("::")[0].endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)
            if hasattr(item, "cell"):
                notebooks.setdefault(item.parent, []).append(item.cell)
    seed = config.option.notebook_seed
    if seed is None:
        return
    from mnist_tutorial.tools.series import SEED_LINE

    for notebook, cells in notebooks.items():
        found = sum(len(SEED_LINE.findall(cell.source)) for cell in cells)
        if found != 1:
            raise pytest.UsageError(f"--seed {seed}: {notebook.name} needs exactly one line 'SEED = <number>' in "
                                    f"its code, found {found}")
        for cell in cells:
            cell.source = SEED_LINE.sub(f"SEED = {seed}", cell.source)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Once nbval has read sanitize.cfg into a notebook's patterns, add the image rule, and in a masked run NUMBER."""
    yield
    mode = item.config.stash.get(OUTPUTS, (None, None))[0]
    notebook = item.parent
    if mode is not None and not getattr(item, "options", {}).get("check", True):
        item.config.stash.setdefault(UNCOMPARED, set()).add(item.nodeid)
    if mode in ("strict", "masked") and hasattr(notebook, "sanitize_patterns") and hasattr(notebook, "skip_compare"):
        notebook.skip_compare = tuple(key for key in notebook.skip_compare if key not in IMAGE_TYPES)
        notebook.sanitize_patterns[IMAGE[0]] = IMAGE[1]
        if mode == "masked":
            notebook.sanitize_patterns[NUMBER[0]] = NUMBER[1]  # last: after every rule of sanitize.cfg


def pytest_report_header(config: pytest.Config) -> str | None:
    return config.stash.get(OUTPUTS, (None, None))[1]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    mode, line = config.stash.get(OUTPUTS, (None, None))
    if mode is None:
        return
    cells = {report.nodeid for kind in ("passed", "failed") for report in terminalreporter.stats.get(kind, [])
             if report.when == "call" and report.nodeid.split("::")[0].endswith(".ipynb")}
    ignored = len(cells & config.stash.get(UNCOMPARED, set()))
    terminalreporter.write_sep("=", f"notebook outputs {mode}", red=mode == "lax", bold=True)
    if mode == "lax":
        terminalreporter.write_line(f"{len(cells)} notebook cells {COMPARED[mode]}")
    else:
        terminalreporter.write_line(f"{len(cells) - ignored} notebook cells {COMPARED[mode]}, "
                                    f"{ignored} run with their outputs ignored (NBVAL_IGNORE_OUTPUT)")
    terminalreporter.write_line(line)
