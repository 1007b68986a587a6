"""TensorFlow's environment as every notebook sets it, for the benchmarks: import this before anything else.

``import _environment`` first in a benchmark script puts ``fingerprint.NOTEBOOK_ENVIRONMENT`` (no notices on
stderr, no oneDNN graph rewrites) into ``os.environ`` before TensorFlow is imported, leaving any value already set.
"""

import os

from mnist_tutorial.tools.fingerprint import NOTEBOOK_ENVIRONMENT  # imports no TensorFlow

for name, value in NOTEBOOK_ENVIRONMENT.items():
    os.environ.setdefault(name, value)
