"""The notebooks read as lessons: prose that states no figure a run produces, no tooling, short cells, an ending.

A figure a run produces is printed by the code cell that computes it; typed into markdown, it goes stale with
the next run and is wrong at once on another CPU. So every decimal and every percentage in a notebook's
markdown must be a figure a tutorial published (``results.TARGETS``), a setting written in the same
notebook's code, or an entry of ``ALLOWED``, each with its reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

from mnist_tutorial.results import TARGETS
from mnist_tutorial.tools.series import find_notebooks

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = find_notebooks(NOTEBOOKS)
CELL_WORDS, NOTEBOOK_WORDS = 150, 1200

#: Figures a lesson may state that are neither a tutorial's nor its code's: (notebook number, figure) -> reason.
ALLOWED = {
    ("01", "2.3"): "ln 10, the loss of a model that gives each of ten classes the same probability",
    ("05", "99.25%"): "the classic Keras MNIST convnet's reported figure (keras/examples/mnist_cnn.py, linked)",
    ("07", "87-88%"): "a multilayer perceptron's published Fashion-MNIST baseline (Xiao et al., 2017)",
    ("07", "90-92%"): "a small convnet's published Fashion-MNIST baseline (Xiao et al., 2017)",
}
# What a learner does not need: the project's tooling, its machines and its history.
TOOLING = {
    "an issue": r"\bissues?\b",
    "a script or a tooling module": r"\b[\w/.]+\.py\b|\bbenchmarks/|mnist_tutorial\.tools|\bscripts?/",
    "a test": r"\bpytest\b|\bnbval\b|\btests?/|\btest_\w+\.py\b|\bregression tests?\b|\bthe tests\b",
    "a date": r"\b20\d\d-\d\d-\d\d\b",
    "a machine": r"\bmachines?\b|\bAVX|\bEPYC\b|\binstruction sets?\b|\bfingerprints?\b",
    "the runner": r"\brunner\b|\bresults\.json\b|\bmachine\.json\b|`make \w|\bmake (run|test|check|seed|bench)",
    "an earlier version": r"\b(earlier|previous|this|last|older) version\b|\buntil this version\b",
    "CI": r"\bCI\b",
}
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
FIGURE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?%|\d+\.\d+)(?!\w|\.\d)")  # a full stop may end it
CODE_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d*|\d*\.\d+|\d+)(?:e(-?\d+))?(?![\w.])")


#: A code cell that defines a helper the package also holds starts with this line, as d2l marks its cells.
SAVED = re.compile(r"#@save (mnist_tutorial\.\w+)\n")


def saved_definitions() -> list[tuple[str, str, str, str]]:
    """Every function and class defined in a ``#@save`` cell: (notebook, module, name, its source in the cell)."""
    found = []
    for path in PATHS:
        for cell in nbformat.read(path, as_version=4).cells:
            marked = SAVED.match(cell.source) if cell.cell_type == "code" else None
            if marked:
                tree = ast.parse(cell.source)
                found += [(path.stem[:2], marked.group(1), node.name, ast.get_source_segment(cell.source, node))
                          for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))]
    return found


def without_docstrings(source: str) -> str:
    """The code's syntax tree as text, every docstring left out: what the code does, not how it is described."""
    tree = ast.parse(textwrap.dedent(source))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and body and \
                isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and \
                isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def markdown_of(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def words(text: str) -> int:
    return len(LINK.sub(r"\1", text).split())


def target_percentages() -> set[float]:
    """Every figure in TARGETS, as a percentage: reported, minimum, needed and the published ranges."""
    values = set()
    for target in TARGETS.values():
        values |= {target.minimum, target.needed, *(target.published or ())}
        if target.has_reported:
            values.add(target.reported)
    return {100 * value for value in values if value and not math.isnan(value)}


def code_values(notebook: nbformat.NotebookNode) -> set[float]:
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return {float(f"{number}e{exponent or 0}") for number, exponent in CODE_NUMBER.findall(code)}


def unexplained_figures(number: str, notebook: nbformat.NotebookNode) -> list[str]:
    """The decimals and percentages in the notebook's markdown that nothing accounts for."""
    published, settings = target_percentages(), code_values(notebook)
    found = []
    for text in markdown_of(notebook):
        for figure in FIGURE.findall(LINK.sub(r"\1", text)):
            if (number, figure) in ALLOWED:
                continue
            value = float(figure.rstrip("%").split("-")[-1])
            shown = 10 ** -len(figure.rstrip("%").partition(".")[2]) / 2  # half the last digit shown
            if figure.endswith("%"):
                if "-" in figure or not (any(abs(value - p) <= shown for p in published)
                                         or value / 100 in settings or value in settings):
                    found.append(figure)
            elif value not in settings and not any(abs(100 * value - p) <= 100 * shown for p in published):
                found.append(figure)
    return found


@pytest.fixture(params=PATHS, ids=[path.stem for path in PATHS])
def lesson(request) -> tuple[str, nbformat.NotebookNode]:
    return request.param.stem[:2], nbformat.read(request.param, as_version=4)


def test_no_figure_a_run_produces_stands_in_the_prose(lesson):
    number, notebook = lesson
    assert unexplained_figures(number, notebook) == []


def test_the_prose_names_no_tooling(lesson):
    _, notebook = lesson
    for text in markdown_of(notebook):
        prose = LINK.sub(r"\1", text)
        for what, pattern in TOOLING.items():
            found = re.search(pattern, prose, re.I if what != "CI" else 0)
            assert found is None, f"the prose names {what} ({found.group(0)!r}) in: {text[:80]!r}"
    readme_links = [url for text in markdown_of(notebook) for _, url in LINK.findall(text) if "README" in url]
    assert len(readme_links) <= 1, f"more than one link to a README: {readme_links}"


SAVED_DEFINITIONS = saved_definitions()


def test_the_lessons_define_the_helpers_they_explain():
    names = {(number, name) for number, _, name, _ in SAVED_DEFINITIONS}
    assert {("06", "FusedRMSprop"), ("06", "matmul_peak")} <= names, names


@pytest.mark.parametrize("number, module, name, source", SAVED_DEFINITIONS,
                         ids=[f"{number}-{name}" for number, _, name, _ in SAVED_DEFINITIONS])
def test_a_helper_defined_in_a_lesson_is_the_package_code(number, module, name, source):
    """Copied from the lesson or from the package, a student gets the same function: the code is identical,
    only the docstrings may differ (the package's states the whole contract, with an example)."""
    packaged = inspect.getsource(getattr(importlib.import_module(module), name))
    assert without_docstrings(source) == without_docstrings(packaged), f"notebook {number}'s {name} is not {module}'s"


def test_a_changed_line_in_a_saved_helper_is_caught():
    packaged = inspect.getsource(importlib.import_module("mnist_tutorial.training").matmul_peak)
    changed = packaged.replace("min(seconds)", "max(seconds)")
    assert changed != packaged and without_docstrings(changed) != without_docstrings(packaged)
    assert without_docstrings(packaged.replace("floating-point", "FLOP")) == without_docstrings(packaged)


def test_the_code_imports_no_tooling(lesson):
    _, notebook = lesson
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert "mnist_tutorial.tools" not in code and "results.json" not in code


def test_every_markdown_cell_says_one_thing_briefly(lesson):
    _, notebook = lesson
    for text in markdown_of(notebook):
        assert words(text) <= CELL_WORDS, f"{words(text)} words in a markdown cell: {text[:80]!r}"
    total = sum(words(text) for text in markdown_of(notebook))
    assert total <= NOTEBOOK_WORDS, f"{total} words of markdown"


def test_every_lesson_ends_with_a_summary_exercises_then_its_check(lesson):
    _, notebook = lesson
    headings = [(i, cell.source.splitlines()[0]) for i, cell in enumerate(notebook.cells)
                if cell.cell_type == "markdown" and cell.source.startswith("## ")]
    names = [heading for _, heading in headings]
    assert names[-3:-1] == ["## Summary", "## Exercises"] and names[-1].startswith("## Check"), names
    summary, exercises = (notebook.cells[i].source for i, _ in headings[-3:-1])
    points = [line for line in summary.splitlines() if line.startswith("- ")]
    numbered = [line for line in exercises.splitlines() if re.match(r"\d+\. ", line)]
    assert 3 <= len(points) <= 5, summary
    assert 3 <= len(numbered) <= 4, exercises


@pytest.mark.parametrize("figure, stands", [("97.93%", False), ("98.17%", True), ("0.25", False), ("0.31", True),
                                            ("2.3", False), ("96.94% to 97.52%", True),
                                            ("98.07%. Then", False), ("97.61%. Then", True)])
def test_a_figure_is_caught_unless_published_set_in_code_or_allowed(figure, stands):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"The model reads {figure} here."),
                                               nbformat.v4.new_code_cell("layers.Dropout(0.25)")])
    assert bool(unexplained_figures("01", notebook)) == stands
