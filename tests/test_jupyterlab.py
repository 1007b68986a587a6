"""Every notebook opened in JupyterLab in headless Chromium, and checked the way a reader meets it.

JupyterLab runs on 127.0.0.1 with a random token and a free port. Its settings,
workspaces and runtime files go to temporary folders, so nothing of the user's
is touched. It serves a temporary copy of the notebooks. For each notebook the test
checks that:
- every cell renders;
- markdown is rendered (no raw source), with headings;
- every figure in the file shows as a visible image;
- no stderr or error output area is shown;
- the browser console stays free of errors.

A screenshot of each notebook's top is kept in the test's temporary folder.

Needs Chromium (Debian: apt-get install chromium) and Playwright for Python. Without
them the test skips and says what to install, except under CI, where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]

try:
    import jupyterlab  # noqa: F401
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None
if CHROMIUM is None or sync_playwright is None:
    message = "the browser test needs Chromium (Debian: apt-get install chromium) and pip install -e '.[test]'"
    if os.environ.get("CI"):
        raise RuntimeError(f"{message}; under CI it must run, not skip")
    pytest.skip(message, allow_module_level=True)

# What the page shows, read in the browser; counts follow JupyterLab 4's CSS classes.
INSPECT = """() => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell')];
  const markdown = cells.filter(c => c.classList.contains('jp-MarkdownCell'));
  const images = cells.flatMap(c => [...c.querySelectorAll('.jp-OutputArea-output img')]);
  return {
    cells: cells.length,
    markdown: markdown.length,
    renderedMarkdown: markdown.filter(c => c.classList.contains('jp-mod-rendered')).length,
    headings: cells.flatMap(c => [...c.querySelectorAll('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2')]).length,
    rawMarkdown: markdown.filter(c => /(^|\\n)#+ |\\*\\*/.test(c.querySelector('.jp-RenderedMarkdown')?.innerText ?? '#')).length,
    images: images.map(i => ({complete: i.complete, width: i.naturalWidth, shown: i.getBoundingClientRect().width})),
    stderr: document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').length,
    errors: document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]').length,
  };
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a temporary folder; yields (base URL, token, served folder)."""
    base = tmp_path_factory.mktemp("jupyterlab")
    served_dir, settings = base / "served", base / "settings"
    shutil.copytree(ROOT / "notebooks", served_dir / "notebooks")
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))  # attach every cell, not only those in view
    for name in ("apputils-extension/notification.jupyterlab-settings",):
        path = settings / "@jupyterlab" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = free_port(), os.urandom(16).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(base / "config"), "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
           "JUPYTER_DATA_DIR": str(base / "data")}
    log = (base / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={served_dir}",
         f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
         "--LabApp.extension_manager=readonly",  # no look-ups on PyPI
         *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; its log: {(base / 'jupyterlab.log').read_text()}")
                time.sleep(0.5)
        yield url, token, served_dir
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def open_in_lab(browser, served, relative: str, screenshot: Path) -> tuple[dict, list[str]]:
    """Open a notebook in JupyterLab and return what the page shows and the console errors."""
    url, token, _ = served
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        page.goto(f"{url}/lab/tree/{relative}?token={token}&reset", wait_until="domcontentloaded")
        expected = len(nbformat.read(served[2] / relative, as_version=4).cells)
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length >= n",
            arg=expected, timeout=90_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)", timeout=30_000)
        page.wait_for_function(  # markdown renders after its cell is attached
            "() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell')]"
            ".every(c => (c.querySelector('.jp-RenderedMarkdown')?.innerText ?? '').trim().length > 0)",
            timeout=30_000)
        page.screenshot(path=str(screenshot))
        return page.evaluate(INSPECT), console_errors
    finally:
        page.close()


def expected_counts(path: Path) -> tuple[int, int, int]:
    notebook = nbformat.read(path, as_version=4)
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                 for output in cell.outputs)
    markdown = sum(cell.cell_type == "markdown" for cell in notebook.cells)
    return len(notebook.cells), markdown, images


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_reader_sees_every_cell_figure_and_no_noise(browser, served, path, tmp_path):
    shown, console_errors = open_in_lab(browser, served, f"notebooks/{path.name}", tmp_path / f"{path.stem}.png")
    cells, markdown, images = expected_counts(path)
    assert shown["cells"] == cells
    assert shown["markdown"] == shown["renderedMarkdown"] == markdown
    assert shown["rawMarkdown"] == 0 and shown["headings"] >= 3
    assert len(shown["images"]) == images
    for image in shown["images"]:
        assert image["complete"] and image["width"] > 0 and image["shown"] > 0, image
    assert shown["stderr"] == 0 and shown["errors"] == 0
    assert console_errors == []
    assert (tmp_path / f"{path.stem}.png").stat().st_size > 10_000


def test_stderr_and_broken_figures_are_caught(browser, served, tmp_path):
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    noisy = nbformat.v4.new_code_cell("import sys\nprint('warning: noise', file=sys.stderr)", execution_count=1,
                                      outputs=[nbformat.v4.new_output("stream", name="stderr", text="warning: noise\n")])
    broken = nbformat.v4.new_code_cell("plt.show()", execution_count=2, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": "bm90IGEgcG5n", "text/plain": "<Figure>"})])
    notebook.cells[4:4] = [noisy, broken]
    nbformat.write(notebook, served[2] / "notebooks" / "broken_copy.ipynb")
    shown, _ = open_in_lab(browser, served, "notebooks/broken_copy.ipynb", tmp_path / "broken.png")
    assert shown["stderr"] == 1
    assert sum(image["width"] == 0 for image in shown["images"]) == 1
