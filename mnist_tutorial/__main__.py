"""``python -m mnist_tutorial {data,run,figures}``: the tooling's command line (``mnist_tutorial.tools.cli``)."""

import sys

from mnist_tutorial.tools.cli import run

if __name__ == "__main__":
    sys.exit(run())
