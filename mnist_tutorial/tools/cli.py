"""The command line: ``python -m mnist_tutorial {data,run,fingerprint,figures}``.

``data`` loads and verifies MNIST (or, with ``--fashion``, Fashion-MNIST) and prints its facts; ``run`` executes the
notebook series in place and prints the results table (``--check --seed N``: copies with another seed, files
untouched); ``fingerprint`` compares this machine's with the one that executed the committed outputs; ``figures``
redraws the figures in img/, and the JupyterLab screenshot where Chromium is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: notebooks/ and img/


def command_data(args: argparse.Namespace) -> int:
    """Load and verify MNIST (or Fashion-MNIST), then print what was loaded."""
    import numpy as np

    from mnist_tutorial.data import FASHION_MNIST, MNIST, load_dataset

    source = FASHION_MNIST if args.fashion else MNIST
    began = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = load_dataset(source, args.data_dir)
    seconds = time.perf_counter() - began
    print(f"{source.name} loaded and verified against the official checksums in {seconds:.2f} s")
    print(f"  train: images {x_train.shape} {x_train.dtype}, labels {y_train.shape}, first {y_train[:10]}")
    print(f"  test:  images {x_test.shape} {x_test.dtype}, labels {y_test.shape}, first {y_test[:10]}")
    print(f"  training class counts: {np.bincount(y_train).tolist()}")
    return 0


def command_run(args: argparse.Namespace) -> int:
    """Execute the notebooks and print the results table."""
    from mnist_tutorial.tools.fingerprint import MACHINE_FILE, instruction_set, this_machine
    from mnist_tutorial.tools.series import (CELL_TIMEOUT, RunFailed, RunInterrupted, passed, quiet_half_built_event_loops,
                                             results_table_markdown, run_series, write_atomically)

    in_place = not args.check and args.seed is None
    mode = "executing in place" if in_place else "checking (files untouched)"
    seeded = "" if args.seed is None else f", with SEED = {args.seed} in copies of the notebooks"
    print(f"Notebook series in {args.notebooks}, {mode}{seeded}", flush=True)
    began = time.perf_counter()
    try:
        machine = {"fingerprint": this_machine(), "instruction_set": instruction_set()} if in_place else None
        rows = run_series(args.notebooks, check=not in_place,
                          results_path=args.notebooks / "results.json" if in_place else None,
                          cell_timeout=args.cell_timeout or CELL_TIMEOUT, seed=args.seed)
        if machine is not None:  # the committed outputs say which machine kind made them
            write_atomically(json.dumps(machine, indent=2) + "\n", args.notebooks / MACHINE_FILE)
    except (RunFailed, FileNotFoundError, RuntimeError, OSError, ValueError) as error:
        print(f"\n{error}", file=sys.stderr)
        return 1
    except RunInterrupted as stop:
        print(f"\n{stop}", file=sys.stderr)
        sys.unraisablehook = quiet_half_built_event_loops  # the signal may have cut an event loop's set-up short
        return 128 + stop.signum  # 130 for Ctrl-C, 143 for SIGTERM, as a shell reports them
    print(f"\nAll notebooks ran in {time.perf_counter() - began:.0f} s.\n")
    print(results_table_markdown(rows))
    return 0 if all(passed(row) for row in rows) else 1


def command_fingerprint(args: argparse.Namespace) -> int:
    """Print this machine's fingerprint beside the committed one's; exit 1 where they differ."""
    from mnist_tutorial.tools.fingerprint import MACHINE_FILE, committed_machine, fingerprint, instruction_set

    here, committed = fingerprint(), committed_machine(args.notebooks / MACHINE_FILE)
    print(f"this machine:          {here} ({instruction_set()})")
    print(f"the committed outputs: {committed.get('fingerprint', 'not recorded')} "
          f"({committed.get('instruction_set', 'unknown')})")
    same = here == committed.get("fingerprint")
    print("the same: make test compares every output digit for digit" if same else
          "different: make test compares every output with its numbers masked (make test-strict shows the digits)")
    return 0 if same else 1


def command_figures(args: argparse.Namespace) -> int:
    """Redraw the figures of img/ from the helpers."""
    import os

    from mnist_tutorial.tools.fingerprint import NOTEBOOK_ENVIRONMENT

    for name, value in NOTEBOOK_ENVIRONMENT.items():  # before figures imports TensorFlow
        os.environ.setdefault(name, value)
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    from mnist_tutorial.data import load_mnist
    from mnist_tutorial.tools import book, lab
    from mnist_tutorial.tools.figures import PAD_FIGURE, SCREENSHOT, SCREENSHOT_OF, make_figures

    photo, chromium = ROOT / "img" / "photos" / "digit_3_chalkboard.jpg", lab.find_chromium()
    for path in make_figures(args.output, load_mnist(args.data_dir), photo,
                             pad_figure=None if chromium is None else book.pad_figure):
        print(f"wrote {path}")
    if chromium is None:
        print(f"kept {args.output / PAD_FIGURE} as it was: the pad's picture {lab.MISSING}")
        print(f"kept {args.output / SCREENSHOT} as it was: the JupyterLab screenshot {lab.MISSING}")
    else:
        print(f"wrote {lab.screenshot(ROOT / 'notebooks' / SCREENSHOT_OF, args.output / SCREENSHOT)}")
    return 0


def positive_seconds(text: str) -> int:
    """Parse a whole, positive number of seconds for argparse."""
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds above 0, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run a command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m mnist_tutorial", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data", help="load and verify MNIST, or Fashion-MNIST")
    data.add_argument("--data-dir", type=Path, default=None, help="folder of the IDX files or mnist.npz")
    data.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead of MNIST")
    data.set_defaults(handler=command_data)
    run = commands.add_parser("run", help="execute the notebook series and print the results table")
    run.add_argument("--check", action="store_true", help="execute without overwriting the notebooks")
    run.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the notebooks' folder")
    # The default lives in mnist_tutorial.tools.series, imported only when a run starts (nbformat is slow to import).
    run.add_argument("--cell-timeout", type=positive_seconds, default=None, metavar="SECONDS",
                     help="stop a notebook whose cell runs longer than this "
                          "(default: mnist_tutorial.tools.series.CELL_TIMEOUT)")
    run.add_argument("--seed", type=int, default=None, metavar="N",
                     help="run copies of the notebooks with SEED = N and report every check; writes nothing")
    run.set_defaults(handler=command_run)
    machine = commands.add_parser("fingerprint", help="this machine's fingerprint against the committed outputs'")
    machine.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the notebooks' folder")
    machine.set_defaults(handler=command_fingerprint)
    figures = commands.add_parser("figures", help="redraw the figures in img/")
    figures.add_argument("--output", type=Path, default=ROOT / "img", help="where to write them")
    figures.add_argument("--data-dir", type=Path, default=None, help="folder of the IDX files or mnist.npz")
    figures.set_defaults(handler=command_figures)
    args = parser.parse_args(argv)
    return args.handler(args)


def run() -> int:
    """``main()``, and exit status 130 for a Ctrl-C that comes before the runner takes over its signals."""
    try:
        return main()
    except KeyboardInterrupt:  # while Python was still importing
        print("interrupted before anything was run", file=sys.stderr)
        return 130
