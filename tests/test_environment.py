"""The project's own files agree: pyproject, environment.yml, constraints.txt, Makefile and CI."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"tensorflow-cpu": "tensorflow"}  # conda-forge's tensorflow is the CPU build


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {CONDA_NAMES.get(requirement_name(r), requirement_name(r)) for r in requirements}


def conda_names() -> set[str]:
    names, section = set(), None
    for line in (ROOT / "environment.yml").read_text().splitlines():
        section = line[:-1] if re.fullmatch(r"[a-z]+:", line) else section
        match = re.match(r"^  - ([A-Za-z0-9_.-]+)", line) if section == "dependencies" else None
        if match and match.group(1) not in {"python", "pip"}:
            names.add(requirement_name(match.group(1)))
    return names


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert conda_names() == pyproject_names()


def test_constraints_pin_every_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for name in pyproject_names() | {"tensorflow-cpu"}:
        if name == "tensorflow":
            continue  # Linux x86-64, where CI runs, installs tensorflow-cpu
        assert re.fullmatch(r"\d+(\.\d+)*(\.post\d+)?", pins.get(name, "")), f"{name} is not pinned"


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    assert re.search(r"^\s*(time )?make test\s*$", ci, re.MULTILINE)
