"""The project's tooling, apart from what a learner reads: the notebook runner, the figures, JupyterLab.

``series`` executes the notebooks in place (``python -m mnist_tutorial run``),
``figures`` redraws img/ (``python -m mnist_tutorial figures``), ``book`` builds the
notebooks into a static site (``make book``), ``lab`` opens
notebooks in JupyterLab in headless Chromium, ``fingerprint`` tells machines that
compute alike, ``nbval_outputs`` (a pytest plugin) compares the notebooks' outputs
strictly where they do, ``recipes`` trains a notebook's model as the notebook does (for
the figures, the benchmarks and the tests), and ``cli`` is the command line.
None of it is imported by ``import mnist_tutorial``.
"""
