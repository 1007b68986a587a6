"""The project's own files agree: pyproject, environment.yml, constraints.txt, Makefile and CI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from mnist_tutorial.tools import matrix
from mnist_tutorial.tools.lock import locked_versions, marker_environment
from mnist_tutorial.tools.matrix import supported_pythons

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: tomli, the same parser, from the test extra
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"tensorflow-cpu": "tensorflow"}  # conda-forge's tensorflow is the CPU build


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower()


#: The benchmark's extra: PyTorch and JAX, measured beside TensorFlow by make bench-training, and no part of the
#: lessons, the conda environment or CI.
BENCHMARK_EXTRAS = {"peers"}
BOOK_EXTRAS = {"book"}  # the static site's engine (make book): neither the lessons' nor the peers'; tests/test_book.py checks it


def pyproject_names(extras: str = "lessons") -> set[str]:
    """The names in pyproject's dependencies and extras; the benchmark's peers with ``extras="peers"``, alone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    chosen = {name: extra for name, extra in project["optional-dependencies"].items()
              if name not in BOOK_EXTRAS and (name in BENCHMARK_EXTRAS) == (extras == "peers")}
    requirements = ([] if extras == "peers" else project["dependencies"]) + [r for e in chosen.values() for r in e]
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


SUPPORTED_PYTHONS = supported_pythons(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
#: What the committed notebooks were executed with (Python 3.11, the CI combination): a re-lock must keep them.
EXECUTED_WITH = {"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6", "matplotlib": "3.11.2"}


def lesson_requirements(python: str) -> set[str]:
    """The names of the dependencies and the cpu and test extras that apply on Linux x86-64 with ``python``."""
    extras = project()["optional-dependencies"]
    requirements = [Requirement(r) for r in project()["dependencies"] + extras["cpu"] + extras["test"]]
    return {canonicalize_name(r.name) for r in requirements
            if r.marker is None or r.marker.evaluate(marker_environment(python))}


@pytest.mark.parametrize("python", SUPPORTED_PYTHONS)
def test_the_lock_pins_every_dependency_exactly_once_for_every_supported_python(python):
    """One constraints.txt for every Python: each dependency pinned, once, by the lines whose markers apply."""
    pins = locked_versions((ROOT / "constraints.txt").read_text(), python)
    assert lesson_requirements(python) - set(pins) == set(), f"not pinned for Python {python}"
    assert "tomli" in pins if python == "3.10" else "tomli" not in pins


def test_the_lock_keeps_the_versions_the_committed_notebooks_were_executed_with():
    pins = locked_versions((ROOT / "constraints.txt").read_text(), "3.11")
    assert {name: pins[name] for name in EXECUTED_WITH} == EXECUTED_WITH


def test_the_lock_gives_older_pythons_the_newest_release_they_can_install():
    """NumPy 2.3 and Keras 3.13 need Python 3.11: 3.10 gets the last release that installs on it, not a failed pin."""
    older, newer = (locked_versions((ROOT / "constraints.txt").read_text(), python) for python in ("3.10", "3.11"))
    assert older["numpy"].startswith("2.2.") and older["keras"].startswith("3.12.")
    assert older["tensorflow-cpu"] == newer["tensorflow-cpu"]


def test_the_peers_are_pinned_apart_to_pytorchs_cpu_build():
    pins = locked_versions((ROOT / "constraints-peers.txt").read_text(), "3.11")
    for name in pyproject_names("peers"):
        assert re.fullmatch(r"\d+(\.\d+)*(\+cpu)?", pins.get(name, "")), f"the peer {name} is not pinned"
    assert pins["torch"].endswith("+cpu"), "PyTorch's CPU build, not the CUDA one plain torch is on PyPI"
    assert not set(pins) & set(locked_versions((ROOT / "constraints.txt").read_text(), "3.11")), "pinned twice"


def conda_ranges() -> dict[str, SpecifierSet]:
    """environment.yml's version range of each package, python's included."""
    ranges = {}
    for line in re.findall(r"^  - ([A-Za-z0-9_.-]+[<>=!,.0-9]*)$", (ROOT / "environment.yml").read_text(), re.MULTILINE):
        name = requirement_name(line)
        ranges[name] = SpecifierSet(line[len(name):])
    return ranges


def test_environment_yml_gives_the_same_ranges_as_pyproject():
    """conda installs the versions pip would: the same Pythons, the same TensorFlow, Keras and NumPy floors."""
    declared, conda = project(), conda_ranges()
    assert conda["python"] == SpecifierSet(declared["requires-python"])
    extras = declared["optional-dependencies"]
    for requirement in map(Requirement, declared["dependencies"] + extras["cpu"] + extras["test"]):
        name = CONDA_NAMES.get(canonicalize_name(requirement.name), canonicalize_name(requirement.name))
        assert conda[name] == requirement.specifier, f"{name}: {conda[name]} in environment.yml"


def test_the_matrix_tests_each_end_of_each_declared_range():
    """make test-matrix: every supported Python with the lock, and the declared floors of TensorFlow and Keras."""
    by_name = {row.name: row for row in matrix.rows()}
    assert [row.python for row in by_name.values() if not row.first] == SUPPORTED_PYTHONS == ["3.10", "3.11", "3.12",
                                                                                           "3.13"]
    oldest, newest = by_name["oldest TensorFlow and Keras first"], by_name["newest TensorFlow first"]
    tensorflow = next(Requirement(r) for r in project()["optional-dependencies"]["cpu"])
    assert oldest.first == (f"tensorflow-cpu=={matrix.floor([str(tensorflow)], 'tensorflow-cpu')}", "keras==3.10")
    assert tensorflow.specifier == SpecifierSet(">=2.18,<2.22") and oldest.python == "3.10"
    assert newest.first == ("tensorflow-cpu<2.22,>=2.18",) and newest.python == "3.13"
    assert "Python 3.10 to 3.13" in (ROOT / "README.md").read_text()
    assert re.search(r"^\s*(time )?make test-matrix-quick\s*$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_peers_stay_out_of_the_lessons_the_tests_and_ci():
    """PyTorch and JAX are installed by make peers alone: not by make test, CI, conda, or the cpu and test extras."""
    makefile, ci = (ROOT / "Makefile").read_text(), (ROOT / ".ci" / "run").read_text()
    assert pyproject_names("peers") == {"torch", "jax"}
    assert not pyproject_names("peers") & (pyproject_names() | conda_names())
    stamp = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "peers" not in stamp and "peers" not in ci and "make test" in ci
    peers = re.search(r"^\$\(PEERS\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert '-e ".[cpu,test,peers]"' in peers and "--extra-index-url https://download.pytorch.org/whl/cpu" in peers


def test_ci_runs_the_readme_test_command():
    readme, ci = (ROOT / "README.md").read_text(), (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    assert re.search(r"^\s*(time )?make test\s*$", ci, re.MULTILINE)


# Every distribution that installs the tensorflow/ package; two of them in one environment overwrite each other.
TENSORFLOW_DISTRIBUTIONS = {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos",
                            "tf-nightly", "tf-nightly-cpu", "intel-tensorflow"}
PLATFORMS = {  # PEP 508 marker environments of the machines readers use
    "linux x86-64": {"sys_platform": "linux", "platform_machine": "x86_64"},
    "linux aarch64": {"sys_platform": "linux", "platform_machine": "aarch64"},
    "macOS arm64": {"sys_platform": "darwin", "platform_machine": "arm64"},
    "windows": {"sys_platform": "win32", "platform_machine": "AMD64"},
}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]



def applies(requirement: Requirement, platform: dict, extra: str = "") -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**platform, "extra": extra})


def reached(requirements: list[str], platform: dict) -> set[str]:
    """The names of every distribution these requirements pull in on ``platform``, through the installed metadata."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or not applies(requirement, platform):
            continue
        seen.add(name)
        try:
            todo += [Requirement(r) for r in metadata.requires(name) or []]
        except metadata.PackageNotFoundError:
            pass  # not installed here (a platform-only dependency): its own name was still checked
    return seen


@pytest.mark.parametrize("platform", PLATFORMS, ids=list(PLATFORMS))
def test_installing_the_project_without_an_extra_adds_no_tensorflow(platform):
    """A reader whose environment has tensorflow (Colab, conda, a GPU box) keeps it: pip adds no second one."""
    pulled_in = reached(project()["dependencies"], PLATFORMS[platform])
    assert {"keras", "numpy", "matplotlib"} <= pulled_in
    assert not pulled_in & TENSORFLOW_DISTRIBUTIONS


@pytest.mark.parametrize(("platform", "expected"), [("linux x86-64", "tensorflow-cpu"), ("linux aarch64", "tensorflow"),
                                                     ("macOS arm64", "tensorflow"), ("windows", "tensorflow")])
def test_the_cpu_extra_installs_one_tensorflow_and_the_silent_one_on_linux(platform, expected):
    cpu = [Requirement(r) for r in project()["optional-dependencies"]["cpu"]]
    assert [r.name for r in cpu if applies(r, PLATFORMS[platform], "cpu")] == [expected]
    gpu = [Requirement(r) for r in project()["optional-dependencies"]["gpu"]]
    assert [(r.name, r.extras) for r in gpu] == [("tensorflow", {"and-cuda"})]
    assert TENSORFLOW_DISTRIBUTIONS.isdisjoint(canonicalize_name(Requirement(r).name)
                                               for r in project()["optional-dependencies"]["test"])


def test_the_readme_commands_install_the_cpu_extra():
    assert '-e ".[cpu,test]"' in (ROOT / "Makefile").read_text()
    assert 'pip install -c constraints.txt -e ".[cpu,test]"' in (ROOT / "README.md").read_text()


def test_conda_environment_installs_tensorflow_once_and_leaves_pip_nothing_to_add():
    text = (ROOT / "environment.yml").read_text()
    pip_lines = re.findall(r"^ {6}- (.+)$", text, re.MULTILINE)
    assert pip_lines == ["-e ."], "pip must install the project alone, with no extra that names a TensorFlow"
    assert "tensorflow" in conda_names()
    core = {requirement_name(r) for r in project()["dependencies"]}
    assert core <= conda_names(), "conda installs every dependency, so pip resolves none of them"


def test_importing_without_tensorflow_says_what_to_install():
    hide_tensorflow = textwrap.dedent(
        """
        import sys

        class Hide:
            def __init__(self, finder):
                self.finder = finder

            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] == "tensorflow":
                    return None
                return self.finder.find_spec(name, path, target)

        sys.meta_path[:] = [Hide(f) if hasattr(f, "find_spec") else f for f in sys.meta_path]
        import mnist_tutorial
        """
    )
    result = subprocess.run([sys.executable, "-c", hide_tensorflow], capture_output=True, text=True)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: mnist_tutorial needs TensorFlow, and none is installed.")
    assert 'pip install -e ".[cpu]"' in last and 'pip install -e ".[gpu]"' in last


def test_building_the_project_prints_no_deprecation_warning(tmp_path):
    """The build backend is the pinned setuptools in this environment, so this builds offline, from a copy
    (setuptools leaves build/ and *.egg-info/ in the folder it builds)."""
    source = tmp_path / "source"
    shutil.copytree(ROOT / "mnist_tutorial", source / "mnist_tutorial", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(tmp_path / "wheels"), str(source)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    (wheel,) = (tmp_path / "wheels").glob("mnist_tutorial-*.whl")
    assert "deprecat" not in output.lower(), [line for line in output.splitlines() if "eprecat" in line]
    with zipfile.ZipFile(wheel) as archive:  # the digit pad's front end ships beside its class
        assert {"mnist_tutorial/pad.js", "mnist_tutorial/pad.css", "mnist_tutorial/pad.py"} <= set(archive.namelist())
