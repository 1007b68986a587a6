"""A pytest plugin: strict output comparison where this machine computes as the committed outputs' did, lax elsewhere.

Before any notebook is collected, the run decides how nbval compares outputs (``--outputs``).
Where this machine's fingerprint (``mnist_tutorial.tools.fingerprint``) is the one the runner
recorded beside the notebooks (``--machine-file``, notebooks/machine.json), every output is
compared digit for digit (strict). Where it is not, every cell and every notebook's own checks
still run, but no digits are compared (lax), and the run says so in a line at its top and again
in its summary, with both digests and the command that forces strict. ``--outputs strict`` and
``--outputs lax`` (or nbval's ``--nbval-lax``) force either. pyproject's addopts load it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mnist_tutorial.tools.fingerprint import MACHINE_FILE

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
OUTPUTS = pytest.StashKey[tuple[str, str]]()  # (mode, the line that says why)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("notebook outputs")
    group.addoption("--outputs", choices=("auto", "strict", "lax"), default="auto",
                    help="how nbval compares the notebooks' outputs: strict (every digit), lax (none; every cell and "
                         "every check still runs), or auto: strict where this machine's fingerprint is the committed "
                         "one, else lax (the default)")
    group.addoption("--machine-file", default=str(NOTEBOOKS / MACHINE_FILE),
                    help="the committed outputs' machine fingerprint, as the runner wrote it")


def outputs_mode(config: pytest.Config) -> tuple[str, str]:
    """Decide how nbval compares outputs: ``("strict" or "lax", the line that says why)``; fingerprints only if needed."""
    asked = "lax" if config.option.nbval_lax else config.option.outputs
    if asked == "lax":
        return "lax", "notebook outputs: lax, as asked: every cell and every check runs, no digits are compared"
    from mnist_tutorial.tools.fingerprint import committed_machine, fingerprint, instruction_set

    machine_file = Path(config.option.machine_file)
    committed = committed_machine(machine_file).get("fingerprint", "none recorded")
    here = fingerprint()
    if here == committed:
        return "strict", (f"notebook outputs: strict, this machine's fingerprint is the committed one ({here}): "
                          "every output is compared digit for digit")
    if asked == "strict":
        return "strict", (f"notebook outputs: strict, as asked, although this machine's fingerprint {here} is not "
                          f"the committed {committed}: expect last-digit differences")
    return "lax", (f"notebook outputs: LAX. This CPU ({instruction_set()}) computes in another order than the machine "
                   f"that executed the notebooks: fingerprint {here} here, {committed} in {machine_file.name}. Every "
                   "cell and every notebook's own checks run, but no digits are compared; "
                   "make test-strict (pytest --outputs strict) shows the differences.")


def collects_notebooks(config: pytest.Config) -> bool:
    """True if this run may collect a notebook: nbval is on and an argument is a notebook or a folder that holds one."""
    if not (config.option.nbval or config.option.nbval_lax):
        return False
    for argument in config.args:
        path = Path(config.invocation_params.dir, argument.split("::")[0]).resolve()
        if path.suffix == ".ipynb" or path == NOTEBOOKS or path in NOTEBOOKS.parents or NOTEBOOKS in path.parents:
            return True
        if path.is_dir() and any(path.glob("*.ipynb")):
            return True
    return False


@pytest.hookimpl(trylast=True)  # after nbval's own pytest_configure
def pytest_configure(config: pytest.Config) -> None:
    if collects_notebooks(config):
        mode, line = outputs_mode(config)
        config.option.nbval_lax = mode == "lax"  # nbval reads it as it collects each notebook
        config.stash[OUTPUTS] = (mode, line)


def pytest_report_header(config: pytest.Config) -> str | None:
    return config.stash.get(OUTPUTS, (None, None))[1]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    mode, line = config.stash.get(OUTPUTS, (None, None))
    if mode is None:
        return
    cells = sum(1 for kind in ("passed", "failed") for report in terminalreporter.stats.get(kind, [])
                if report.when == "call" and report.nodeid.split("::")[0].endswith(".ipynb"))
    compared = "compared digit for digit" if mode == "strict" else "executed, their outputs NOT compared (lax)"
    terminalreporter.write_sep("=", f"notebook outputs {mode}", red=mode == "lax", bold=True)
    terminalreporter.write_line(f"{cells} notebook cells {compared}")
    terminalreporter.write_line(line)
