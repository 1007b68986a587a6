"""The test matrix: every supported Python, and each end of the supported TensorFlow range, in a fresh environment.

The rows (``ROWS``), all read from pyproject.toml so that the declared ranges are the tested ones:

- each Python that ``requires-python`` allows, with the lock (``pip install -c constraints.txt -e ".[cpu,test]"``,
  the README's path): the newest TensorFlow;
- the oldest TensorFlow and Keras the project declares, installed first on the oldest Python, then the project with
  the test extra and no lock, as a reader who already has that TensorFlow would add it;
- the newest TensorFlow, installed first on the newest Python the same way, with everything else as new as it comes.

Each row gets a fresh virtual environment in .matrix/ (uv, from its cache, with pip's interface and resolution
rules), runs the quick tier (``pytest -m "not slow"``), and with ``--notebooks`` executes notebook 02 without
comparing (it saves the net notebook 05 loads), then notebooks 01 and 05 compared masked, with their own checks. It
prints a table: the row, the versions it got, its tests and its time.

Run: ``python -m mnist_tutorial.tools.matrix`` (``make test-matrix``, with the notebooks; ``make test-matrix-quick``
without them). ``--rows 3.10 floor`` runs the rows whose names contain those words.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from mnist_tutorial.tools.lock import LOCK, ROOT, uv

MATRIX_DIR = ROOT / ".matrix"  # gitignored; one environment per row
QUICK = ["-m", "not slow", "tests", "mnist_tutorial"]
NOTEBOOKS = ["--outputs", "masked", "notebooks/01_normalize_and_flatten_mlp.ipynb", "notebooks/05_convnet.ipynb"]
SAVES_THE_NET = ["--outputs", "lax", "notebooks/02_dense_512_rmsprop.ipynb"]  # run, not compared: 05 loads its net
VERSIONS = ("import sys; from importlib.metadata import version as v, PackageNotFoundError as E\n"
            "def get(*names):\n"
            "    for name in names:\n"
            "        try: return v(name)\n"
            "        except E: pass\n"
            "    return '-'\n"
            "print(sys.version.split()[0], get('tensorflow-cpu', 'tensorflow'), get('keras'), get('numpy'))")


@dataclass(frozen=True)
class Row:
    """One environment of the matrix: a Python, what is installed before the project, and the project's extras."""

    name: str
    python: str
    first: tuple[str, ...] = ()  # installed first, without the lock; () for a row that installs with the lock
    extras: str = "cpu,test"

    @property
    def folder(self) -> Path:
        """The row's environment, in .matrix/."""
        return MATRIX_DIR / re.sub(r"[^a-z0-9.]+", "-", self.name.lower()).strip("-")

    def installs(self, project: Path = ROOT) -> list[list[str]]:
        """The ``uv pip install`` commands, in order, that fill the row's environment (its Python given by -p)."""
        install = [uv(), "pip", "install", "--quiet", "-p", str(self.folder / "bin" / "python")]
        editable = ["-e", f"{project}[{self.extras}]"]
        if not self.first:
            return [[*install, "-c", str(LOCK), *editable]]
        return [[*install, *self.first], [*install, *editable]]


@dataclass
class Outcome:
    """What a row got: its versions, each tier's pytest summary, and the seconds it took to build and to test."""

    row: Row
    versions: list[str] = field(default_factory=lambda: ["-"] * 4)
    tests: dict[str, str] = field(default_factory=dict)
    build_seconds: float = 0.0
    test_seconds: float = 0.0
    failed: bool = False


def project_table(root: Path = ROOT) -> dict:
    """Return the [project] table of pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def supported_pythons(requires_python: str) -> list[str]:
    """Return the CPython 3 minor versions, from 3.8 to 3.19, that ``requires_python`` allows.

    >>> supported_pythons(">=3.10,<3.14")
    ['3.10', '3.11', '3.12', '3.13']
    """
    allowed = SpecifierSet(requires_python)
    return [f"3.{minor}" for minor in range(8, 20) if allowed.contains(f"3.{minor}.0")]


def floor(requirements: list[str], name: str) -> str:
    """Return the lower bound (``>=``) the first requirement named ``name`` declares.

    >>> floor(["numpy>=2.0,<3", "keras>=3.9,<4"], "keras")
    '3.9'
    """
    requirement = next(Requirement(r) for r in requirements if Requirement(r).name == name)
    return next(spec.version for spec in requirement.specifier if spec.operator == ">=")


def rows(project: dict | None = None) -> list[Row]:
    """The matrix's rows, from pyproject's requires-python, TensorFlow range (the cpu extra) and Keras floor."""
    project = project or project_table()
    pythons = supported_pythons(project["requires-python"])
    cpu, dependencies = project["optional-dependencies"]["cpu"], project["dependencies"]
    tensorflow = next(r for r in cpu if Requirement(r).name == "tensorflow-cpu")  # the CPU build: Linux x86-64
    oldest = (f"tensorflow-cpu=={floor(cpu, 'tensorflow-cpu')}", f"keras=={floor(dependencies, 'keras')}")
    newest = (f"tensorflow-cpu{Requirement(tensorflow).specifier}",)  # the newest release in the declared range
    return ([Row(f"Python {python}, the lock", python) for python in pythons]
            + [Row("oldest TensorFlow and Keras first", pythons[0], oldest, "test"),
               Row("newest TensorFlow first", pythons[-1], newest, "test")])


def find_python(version: str) -> str:
    """Return a CPython ``version`` ("3.10") interpreter: pythonX.Y on PATH, then pyenv's, then /usr/bin's.

    Raises:
        FileNotFoundError: if none of them runs as that version.
    """
    candidates = [shutil.which(f"python{version}") or "", *sorted(glob.glob(os.path.expanduser(
        f"~/.pyenv/versions/{version}.*/bin/python")), reverse=True), f"/usr/bin/python{version}"]
    for candidate in (c for c in candidates if c and os.access(c, os.X_OK)):
        found = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if found.returncode == 0 and found.stdout.strip() == version:
            return candidate
    raise FileNotFoundError(f"no Python {version} found (python{version} on PATH, pyenv's or /usr/bin's)")


def row_environment(row: Row) -> dict[str, str]:
    """The environment a row's tests run in: its own Python first on PATH, and a fingerprint of its own."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"VIRTUAL_ENV", "MNIST_TUTORIAL_FINGERPRINT", "PYTHONPATH"}}
    environment["PATH"] = f"{row.folder / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def summary(output: str) -> str:
    """Return pytest's closing counts ("666 passed", "1 failed, 665 passed"), or its last line if it has none.

    >>> summary("...\\n==== 1 failed, 665 passed, 74 deselected, 877 warnings in 76.00s (0:01:16) ====\\n")
    '1 failed, 665 passed'
    """
    lines = output.strip().splitlines() or [""]
    counts = re.findall(r"(\d+) (passed|failed|errors?)\b", lines[-1])
    return ", ".join(f"{count} {word}" for count, word in counts) or lines[-1][-60:]


def build(row: Row) -> float:
    """Build the row's fresh environment; return the seconds it took. A failed install raises CalledProcessError."""
    began = time.perf_counter()
    shutil.rmtree(row.folder, ignore_errors=True)
    subprocess.run([uv(), "venv", "--quiet", "--seed", "-p", find_python(row.python), str(row.folder)], check=True)
    for command in row.installs():
        subprocess.run(command, check=True, cwd=ROOT)
    return time.perf_counter() - began


def pytest(row: Row, arguments: list[str], log: str) -> tuple[bool, str]:
    """Run pytest in the row's environment; return whether it passed and its summary. Its output goes to ``log``."""
    command = [str(row.folder / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q", *arguments]
    result = subprocess.run(command, cwd=ROOT, env=row_environment(row), capture_output=True, text=True)
    (row.folder / log).write_text(result.stdout + result.stderr)
    return result.returncode == 0, summary(result.stdout)


def run_row(row: Row, notebooks: bool) -> Outcome:
    """Build the row's environment and run its tiers; a failure is recorded in the outcome, never raised."""
    outcome = Outcome(row)
    try:
        outcome.build_seconds = build(row)
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        outcome.failed, outcome.tests["build"] = True, f"build failed: {error}"[:160]
        return outcome
    outcome.versions = subprocess.run([str(row.folder / "bin" / "python"), "-c", VERSIONS], capture_output=True,
                                      text=True).stdout.split() or outcome.versions
    began = time.perf_counter()
    tiers = [("quick", QUICK)] + ([("02 (run)", SAVES_THE_NET), ("01, 05", NOTEBOOKS)] if notebooks else [])
    for tier, arguments in tiers:
        passed, outcome.tests[tier] = pytest(row, arguments, f"pytest-{tier.split()[0].strip(',')}.log")
        outcome.failed |= not passed
    outcome.test_seconds = time.perf_counter() - began
    return outcome


def table(outcomes: list[Outcome]) -> str:
    """The matrix as a Markdown table: each row, the versions it got, its tests and its times."""
    lines = ["| row | Python | TensorFlow | Keras | NumPy | tests | build | tests' time |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for outcome in outcomes:
        tests = "; ".join(f"{tier}: {result}" for tier, result in outcome.tests.items())
        lines.append(f"| {outcome.row.name} | {' | '.join(outcome.versions)} | {tests} | "
                     f"{outcome.build_seconds:.0f} s | {outcome.test_seconds:.0f} s |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen rows (``--jobs`` at a time), print the table, and return 1 if any row failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", action="store_true", help="also notebook 02 (run), then 01 and 05 (masked)")
    parser.add_argument("--rows", nargs="*", default=[], help="only the rows whose names contain one of these")
    parser.add_argument("--jobs", type=int, default=1, help="rows at a time (the notebooks always run one at a time)")
    args = parser.parse_args(argv)
    chosen = [row for row in rows() if not args.rows or any(word in row.name for word in args.rows)]
    began = time.perf_counter()
    jobs = 1 if args.notebooks else max(1, args.jobs)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(lambda row: run_row(row, args.notebooks), chosen))
    print(table(outcomes))
    print(f"\n{len(outcomes)} rows in {time.perf_counter() - began:.0f} s; logs in {MATRIX_DIR}/<row>/")
    return 1 if any(outcome.failed for outcome in outcomes) or not outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
