"""The lock: constraints.txt pins every package of the cpu, test and book extras for every supported Python.

One file holds for every Python the project supports: uv's universal resolution writes a pin with an
environment marker wherever a package's newest release no longer installs on an older Python (NumPy
2.4 needs 3.11, so 3.10 gets 2.2.6), and pip reads the markers as constraints. Re-locking keeps every
pin the file already has where it still fits, so the CI combination's versions (Python 3.11, the ones
the committed notebooks were executed with) move only when a pin must. The benchmark's peers (PyTorch's
CPU build, from PyTorch's own index, and JAX) are pinned apart in constraints-peers.txt.

Run: ``python -m mnist_tutorial.tools.lock`` (``make constraints``) re-locks constraints.txt with uv;
``--peers`` (``make constraints-peers``) re-pins the peers from this environment, where make peers installed them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "constraints.txt"
PEER_PINS = ROOT / "constraints-peers.txt"
LOCKED_EXTRAS = ("cpu", "test", "book")  # the gpu extra (CUDA's packages) and the peers are not locked here
OLDEST_PYTHON = "3.10"  # the universal lock's lower end; requires-python in pyproject.toml gives the upper
LOCK_HEADER = ("# The exact versions of the cpu, test and book extras for every supported Python (Linux x86-64 and the\n"
               "# markers for elsewhere): Python 3.11's are the ones CI and the committed notebooks use. pip reads it:\n"
               "#   pip install -c constraints.txt -e \".[cpu,test]\"\n"
               "# Regenerate with: make constraints (uv pip compile --universal, keeping every pin that still fits)\n")
PEERS_HEADER = ("# The benchmark's peers (make peers), measured on Python 3.11 and never installed by CI: PyTorch's CPU\n"
                "# build from PyTorch's own index, JAX, and what they add to constraints.txt. Regenerate with: make "
                "constraints-peers\n")


def marker_environment(python: str) -> dict[str, str]:
    """Return the PEP 508 marker environment of CPython ``python`` ("3.10" or "3.10.13") on Linux x86-64.

    >>> marker_environment("3.10")["python_version"], marker_environment("3.13.0")["python_full_version"]
    ('3.10', '3.13.0')
    """
    parts = python.split(".")
    full = python if len(parts) == 3 else f"{python}.0"
    return {"python_version": ".".join(parts[:2]), "python_full_version": full, "sys_platform": "linux",
            "platform_machine": "x86_64", "platform_system": "Linux", "os_name": "posix",
            "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def locked_versions(text: str, python: str) -> dict[str, str]:
    """Return {canonical name: version} that the lock ``text`` pins for CPython ``python`` on Linux x86-64.

    Raises:
        ValueError: if a line is not an exact pin, or two lines pin one package for the same Python.

    >>> text = "numpy==2.2.6 ; python_full_version < '3.11'\\nnumpy==2.4.6 ; python_full_version >= '3.11'\\n"
    >>> locked_versions(text, "3.10")["numpy"], locked_versions(text, "3.12")["numpy"]
    ('2.2.6', '2.4.6')
    """
    pins: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier or [None]
        if specifier is None or specifier.operator != "==":
            raise ValueError(f"not an exact pin: {line!r}")
        if requirement.marker is None or requirement.marker.evaluate(marker_environment(python)):
            name = canonicalize_name(requirement.name)
            if name in pins:
                raise ValueError(f"{name} is pinned twice for Python {python}")
            pins[name] = specifier.version
    return pins


def uv() -> str:
    """Return the uv beside this Python (the test extra installs it), else the one on PATH."""
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else (shutil.which("uv") or "uv")


def lock(path: Path = LOCK) -> None:
    """Re-lock ``path`` for every supported Python with uv, keeping each of its pins that still resolves."""
    extras = [option for extra in LOCKED_EXTRAS for option in ("--extra", extra)]
    subprocess.run([uv(), "pip", "compile", str(ROOT / "pyproject.toml"), *extras, "--universal",
                    "--python-version", OLDEST_PYTHON, "--no-header", "--no-annotate", "--quiet",
                    "-o", str(path)], check=True)  # uv reads the pins already in path as its preferences
    path.write_text(LOCK_HEADER + path.read_text())


def pin_peers(path: Path = PEER_PINS, lock_path: Path = LOCK) -> None:
    """Pin, in ``path``, every installed distribution that the lock does not pin: the peers and what they add."""
    locked = set(locked_versions(lock_path.read_text(), f"{sys.version_info.major}.{sys.version_info.minor}"))
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    extra = sorted(name for name in installed if name not in locked and name not in {"pip", "mnist-tutorial"})
    path.write_text(PEERS_HEADER + "".join(f"{name}=={installed[name]}\n" for name in extra))


def main(argv: list[str] | None = None) -> int:
    """Re-lock constraints.txt, or with ``--peers`` re-pin constraints-peers.txt from this environment."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", action="store_true", help="re-pin the benchmark's peers from this environment")
    args = parser.parse_args(argv)
    pin_peers() if args.peers else lock()
    return 0


if __name__ == "__main__":
    sys.exit(main())
