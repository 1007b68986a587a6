"""Every public helper works when a student copies it into a file of their own.

A helper is copied with its module's imports and constants, and with the helpers that its
docstring's "Copy along:" line names, and theirs, as the README tells a student to: a table
(such as ``RECIPES``) brings what it is built from, which its own line of code shows, and the
line may name files (``pad.js``) that are copied beside. The test checks that every function's
and class's line, private ones too, names exactly the module's functions, classes and tables
that it uses. Then it copies each public helper into a fresh module by following those lines
alone, and runs the helper's doctest there.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

LEARNER_MODULES = ("data", "preprocessing", "models", "training", "results", "images", "plots", "pad")
PACKAGE = "mnist_tutorial"


class Module:
    """One learner module's source, split into what a copy takes along for free and what it must name."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.object = importlib.import_module(f"{PACKAGE}.{name}")
        with open(self.object.__file__) as file:
            self.source = file.read()
        tree = ast.parse(self.source)
        self.imports: list[ast.stmt] = []
        self.package_imports: dict[str, str] = {}  # a name imported from a sibling module -> that module
        self.definitions: dict[str, ast.stmt] = {}  # functions, classes and tables built from them
        self.constants: list[ast.stmt] = []  # literals and the like, copied along with every helper
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None) or ""
                if module.startswith(PACKAGE):
                    self.package_imports.update({alias.name: module.split(".")[-1] for alias in node.names})
                else:
                    self.imports.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.definitions[node.name] = node
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                self.constants.append(node)
                for target in targets:
                    self.definitions[target.id] = node
        named = set(self.definitions) | set(self.package_imports)
        self.constants = [node for node in self.constants if not (uses(node) & named - assigned(node))]
        for node in self.constants:
            for name in assigned(node):
                del self.definitions[name]

    def dependencies(self, name: str) -> set[str]:
        """The module's definitions and sibling imports that ``name``'s code uses."""
        return uses(self.definitions[name]) & (set(self.definitions) | set(self.package_imports)) - {name}

    def text(self, node: ast.stmt) -> str:
        """The node's source lines, with its decorators."""
        first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
        return "\n".join(self.source.splitlines()[first - 1 : node.end_lineno])


def uses(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def assigned(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {target.id for target in targets}


def copy_along(obj) -> set[str]:
    """The names and files in the "Copy along:" line of a docstring (the line may run on over the next)."""
    match = re.search(r"Copy along: (.*?)(\n\s*\n|$)", obj.__doc__ or "", re.DOTALL)
    return set(re.findall(r"``([\w.]+)``", match.group(1))) if match else set()


def declared(obj) -> set[str]:
    """The helpers (not files) that the "Copy along:" line of a docstring names."""
    return {name for name in copy_along(obj) if "." not in name}


def files(obj) -> set[str]:
    """The files that the "Copy along:" line of a docstring names, to be copied beside the student's file."""
    return {name for name in copy_along(obj) if "." in name}


MODULES = {name: Module(name) for name in LEARNER_MODULES}
FUNCTIONS = [  # every function and class, private ones too: each one's line is followed
    (module.name, name)
    for module in MODULES.values()
    for name, node in module.definitions.items()
    if isinstance(node, (ast.FunctionDef, ast.ClassDef))
]
HELPERS = [(module, name) for module, name in FUNCTIONS if not name.startswith("_")]


def needs(module: Module, name: str, lines=declared) -> set[str]:
    """What a student copies along with ``name``: what its "Copy along:" line names; for a table, what it is built from."""
    if isinstance(module.definitions[name], (ast.FunctionDef, ast.ClassDef)):
        return lines(getattr(module.object, name))
    return module.dependencies(name)


def student_file(module: Module, name: str, lines=declared) -> tuple[str, set[str]]:
    """The source a student ends up with by following the "Copy along:" lines, and the files to copy beside it.

    ``lines`` reads a docstring's line; the test that an incomplete line is caught passes another.
    """
    needed: dict[str, set[str]] = {}  # module -> names
    todo = [(module.name, name)]
    while todo:
        where, what = todo.pop()
        if what in MODULES[where].package_imports:
            where = MODULES[where].package_imports[what]
        if what in needed.setdefault(where, set()) or what not in MODULES[where].definitions:
            continue  # already taken, or a name the line got wrong: the copy will fail on it
        needed[where].add(what)
        todo += [(where, dependency) for dependency in needs(MODULES[where], what, lines)]
    order = sorted(needed, key=LEARNER_MODULES.index)  # data flows one way: a module needs only earlier ones
    parts = ["from __future__ import annotations"]
    for where in order:
        parts += [MODULES[where].text(node) for node in MODULES[where].imports if "__future__" not in MODULES[where].text(node)]
    for where in order:
        parts += [MODULES[where].text(node) for node in MODULES[where].constants]
    beside = set()
    for where in order:
        source = MODULES[where]
        parts += [source.text(node) for key, node in source.definitions.items() if key in needed[where]]
        beside |= {Path(source.object.__file__).with_name(file) for key in needed[where] if key in FUNCTION_NAMES[where]
                   for file in files(getattr(source.object, key))}
    return "\n\n".join(parts) + "\n", beside


FUNCTION_NAMES = {module: {name for where, name in FUNCTIONS if where == module} for module in LEARNER_MODULES}


def copy_and_import(module_name: str, name: str, folder: Path, monkeypatch, lines=declared):
    """Copy ``name`` into ``folder/student.py`` by the README's rule, with its files beside, and import it."""
    source, beside = student_file(MODULES[module_name], name, lines)
    path = folder / "student.py"  # a real file, as a student's is: tf.function's AutoGraph reads its source
    path.write_text(source)
    for file in beside:
        shutil.copy(file, folder / file.name)
    spec = importlib.util.spec_from_file_location("student", path)
    student = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "student", student)  # dataclasses look their module up
    spec.loader.exec_module(student)
    return student


@pytest.mark.parametrize(("module_name", "name"), FUNCTIONS, ids=[f"{m}.{n}" for m, n in FUNCTIONS])
def test_copy_along_names_exactly_what_the_helper_uses(module_name, name):
    module = MODULES[module_name]
    uses_here = module.dependencies(name)
    assert declared(getattr(module.object, name)) == uses_here, (
        f"{module_name}.{name} uses {sorted(uses_here) or 'no other helper'}: its docstring's 'Copy along:' line "
        f"must name exactly those")


@pytest.mark.parametrize(("module_name", "name"), HELPERS, ids=[f"{m}.{n}" for m, n in HELPERS])
def test_a_copied_helper_passes_its_own_doctest(module_name, name, monkeypatch, tmp_path):
    matplotlib.use("Agg")
    student = copy_and_import(module_name, name, tmp_path, monkeypatch)
    tests = doctest.DocTestFinder().find(student.__dict__[name], name, module=student, globs=student.__dict__)
    assert any(test.examples for test in tests), f"{module_name}.{name} has no doctest"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test, out=lambda text: pytest.fail(f"copied alone, {module_name}.{name} fails its doctest:\n{text}"))
    assert runner.failures == 0
    plt.close("all")


def test_a_line_that_leaves_out_a_helper_of_a_helper_is_caught(monkeypatch, tmp_path):
    # prepare_image needs read_image, which needs _to_gray: only read_image's own line names _to_gray.
    # Without that line, a student's copy fails on the name, as the copy made here does.
    def without_to_gray(obj):
        return declared(obj) - {"_to_gray"}

    student = copy_and_import("images", "prepare_image", tmp_path, monkeypatch, lines=without_to_gray)
    with pytest.raises(NameError, match="_to_gray"):
        student.prepare_image(np.zeros((3, 3), np.uint8))
    assert "def _to_gray(" in student_file(MODULES["images"], "prepare_image")[0]
