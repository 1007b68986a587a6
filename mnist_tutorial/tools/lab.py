"""Open notebooks in JupyterLab in headless Chromium, the way a reader meets them.

JupyterLab runs on 127.0.0.1 with a random token and a free port, its settings,
workspaces and runtime files in a temporary folder, so nothing of the user's is
touched. The browser test (tests/test_jupyterlab.py) inspects every notebook with
it, and ``python -m mnist_tutorial figures`` takes the README's screenshot.

Needs the project's test extra (``pip install -e '.[test]'``: jupyterlab and
playwright) and the system Chromium (Debian: ``apt-get install chromium``);
Playwright's own browser download is not used.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 1000}
MISSING = "needs Chromium (Debian: apt-get install chromium) and the test extra (pip install -e '.[test]')"

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


def find_chromium() -> str | None:
    """Return the path of the system Chromium, or None if it is missing or Playwright/JupyterLab are not installed."""
    try:
        import jupyterlab  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now: a server started next can listen on it.

    >>> with socket.socket() as server:
    ...     server.bind(("127.0.0.1", free_port()))  # would raise OSError if another socket held the port
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quiet_settings(settings: Path) -> None:
    """Attach every cell (not only those in view), and never fetch news or look for updates."""
    for name, values in (("notebook-extension/tracker", {"windowingMode": "none"}),
                         ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False})):
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def jupyterlab(root: str | os.PathLike, workdir: str | os.PathLike) -> Iterator[tuple[str, str]]:
    """Run JupyterLab serving ``root`` on 127.0.0.1 and yield ``(url, token)``; stop it on exit, whatever happens.

    Its configuration, settings, workspaces, runtime files and log go under
    ``workdir``. Raises ``RuntimeError`` with JupyterLab's log if it does not
    start within 90 seconds.
    """
    workdir = Path(workdir)
    _quiet_settings(workdir / "settings")
    port, token = free_port(), os.urandom(16).hex()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"), "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"),
           "JUPYTER_DATA_DIR": str(workdir / "data")}
    log_path = workdir / "jupyterlab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
             f"--LabApp.user_settings_dir={workdir / 'settings'}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
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
                        raise RuntimeError(f"JupyterLab did not start; its log: {log_path.read_text()}") from None
                    time.sleep(0.5)
            yield url, token
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[object]:
    """Launch the system Chromium headless through Playwright and yield the browser; close it on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_notebook(
    browser, url: str, token: str, relative: str, cells: int, screenshot: str | os.PathLike
) -> tuple[dict, list[str]]:
    """Open a notebook in JupyterLab, wait until it has rendered, screenshot its top, and say what the page shows.

    ``relative`` is the notebook's path under the served folder, ``cells`` the
    number of cells to wait for. Returns the counts of ``INSPECT`` and the
    browser console's errors.
    """
    page = browser.new_page(viewport=VIEWPORT)
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    try:
        page.goto(f"{url}/lab/tree/{relative}?token={token}&reset", wait_until="domcontentloaded")
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length >= n",
            arg=cells, timeout=90_000)
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


def screenshot(notebook: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Write a screenshot of the top of ``notebook`` as JupyterLab shows it to ``path`` (a 1400x1000 PNG).

    The notebook's folder is copied to a temporary folder and served from
    there, so the original is never touched; the PNG is written beside
    ``path`` and renamed over it only once complete. Raises ``RuntimeError``
    if Chromium, JupyterLab or Playwright is missing.
    """
    import nbformat

    executable, notebook, path = find_chromium(), Path(notebook), Path(path)
    if executable is None:
        raise RuntimeError(f"a JupyterLab screenshot {MISSING}")
    cells = len(nbformat.read(notebook, as_version=4).cells)
    with tempfile.TemporaryDirectory(prefix="mnist-tutorial-lab-") as temporary:
        served = Path(temporary) / "served"
        shutil.copytree(notebook.parent, served / notebook.parent.name)
        partial = path.with_name(f".{path.stem}.partial{path.suffix}")  # Playwright reads the format from the suffix
        try:
            with jupyterlab(served, Path(temporary) / "lab") as (url, token), chromium(executable) as browser:
                open_notebook(browser, url, token, f"{notebook.parent.name}/{notebook.name}", cells, partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return path
