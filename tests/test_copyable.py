"""Every public helper works when a student copies it into a file of their own.

A helper is copied with its module's imports and constants, and with the helpers that its
docstring's "Copy along:" line names (and theirs). The test checks that the line names exactly
the module's functions, classes and tables that the helper uses, then copies each helper into a
fresh module and runs its doctest there.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import re
import sys

import matplotlib
import matplotlib.pyplot as plt
import pytest

LEARNER_MODULES = ("data", "preprocessing", "models", "training", "results", "images", "plots")
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


def declared(obj) -> set[str]:
    """The names in the "Copy along:" line of a docstring."""
    match = re.search(r"Copy along: (.*)", obj.__doc__ or "")
    return set(re.findall(r"``(\w+)``", match.group(1))) if match else set()


MODULES = {name: Module(name) for name in LEARNER_MODULES}
HELPERS = [
    (module.name, name)
    for module in MODULES.values()
    for name, obj in vars(module.object).items()
    if not name.startswith("_") and name in module.definitions and isinstance(module.definitions[name], (ast.FunctionDef, ast.ClassDef))
]


def student_file(module: Module, name: str) -> str:
    """The source a student ends up with: imports, constants, and ``name`` with everything it needs."""
    needed: dict[str, set[str]] = {}  # module -> names
    todo = [(module.name, name)]
    while todo:
        where, what = todo.pop()
        if what in MODULES[where].package_imports:
            where = MODULES[where].package_imports[what]
        if what in needed.setdefault(where, set()):
            continue
        needed[where].add(what)
        todo += [(where, dependency) for dependency in MODULES[where].dependencies(what)]
    order = sorted(needed, key=LEARNER_MODULES.index)  # data flows one way: a module needs only earlier ones
    parts = ["from __future__ import annotations"]
    for where in order:
        parts += [MODULES[where].text(node) for node in MODULES[where].imports if "__future__" not in MODULES[where].text(node)]
    for where in order:
        parts += [MODULES[where].text(node) for node in MODULES[where].constants]
    for where in order:
        source = MODULES[where]
        parts += [source.text(node) for key, node in source.definitions.items() if key in needed[where]]
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize(("module_name", "name"), HELPERS, ids=[f"{m}.{n}" for m, n in HELPERS])
def test_copy_along_names_exactly_what_the_helper_uses(module_name, name):
    module = MODULES[module_name]
    uses_here = module.dependencies(name)
    assert declared(getattr(module.object, name)) == uses_here, (
        f"{module_name}.{name} uses {sorted(uses_here) or 'no other helper'}: its docstring's 'Copy along:' line "
        f"must name exactly those")


@pytest.mark.parametrize(("module_name", "name"), HELPERS, ids=[f"{m}.{n}" for m, n in HELPERS])
def test_a_copied_helper_passes_its_own_doctest(module_name, name, monkeypatch, tmp_path):
    matplotlib.use("Agg")
    path = tmp_path / "student.py"  # a real file, as a student's is: tf.function's AutoGraph reads its source
    path.write_text(student_file(MODULES[module_name], name))
    spec = importlib.util.spec_from_file_location("student", path)
    student = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "student", student)  # dataclasses look their module up
    spec.loader.exec_module(student)
    tests = doctest.DocTestFinder().find(student.__dict__[name], name, module=student, globs=student.__dict__)
    assert any(test.examples for test in tests), f"{module_name}.{name} has no doctest"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test, out=lambda text: pytest.fail(f"copied alone, {module_name}.{name} fails its doctest:\n{text}"))
    assert runner.failures == 0
    plt.close("all")
