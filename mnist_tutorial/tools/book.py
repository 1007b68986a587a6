"""The book: the committed notebooks as a static site, built offline, without executing them (``make book``).

``build`` lays the sources out as the checkout has them (book/index.md as the landing
page, README.md, benchmarks/README.md, the notebooks and img/), so every relative link
a notebook or the README holds (``../README.md#results``, ``02_dense_512_rmsprop.ipynb``)
is a link between two pages of the site, and the same link still works in JupyterLab
and on a code host; any other file they link to comes along as a download. Sphinx builds
them with book/conf.py (myst-nb, sphinx-book-theme), warnings as errors, so a link to a
page or heading that is not there stops the build.

This module is also the Sphinx extension that book/conf.py names (``setup``):
- the digit pad's output, which needs a kernel, becomes a pad that reads drawings in the
  page, with the convnet ``build`` exported (``tools.book_pad``), and one sentence; without an
  exported convnet, the pad's picture and one sentence. Any other widget keeps its text alone
  (``static_widgets``);
- the README's links to its own headings (``#results``), included into the landing
  page, lead to the README's page (``readme_anchors``).

``serve`` serves a built site on 127.0.0.1 for the browser test, and ``pad_figure``
draws the picture of the digit pad with its own front end (``make figures``).

Needs the book extra (``pip install -e '.[book]'``, Python 3.11 or later); ``pad_figure``
needs Chromium and the test extra, as ``mnist_tutorial.tools.lab`` does.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import posixpath
import re
import shutil
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from mnist_tutorial.tools.fingerprint import NOTEBOOK_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]  # the checkout
BOOK = ROOT / "book"  # conf.py and index.md
OUTPUT = BOOK / "_build"  # html/, and the laid-out sources and Sphinx's doctrees beside it
#: What the site is built from, as paths of the checkout (globs), laid out at the same paths.
SOURCES = ("README.md", "benchmarks/README.md", "notebooks/[0-9][0-9]_*.ipynb", "img/*.png")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # as mnist_tutorial.tools.series names it
#: The picture shown in place of the digit pad, a path of the checkout (``make figures`` takes it).
PAD_PICTURE = "img/pad.png"
PAD_ALT = "The digit pad: a hand-drawn 7 on the canvas, the 28x28 image the convnet is given, and its ten probabilities"
PAD_SENTENCE = ("*A picture of the digit pad: run this notebook in JupyterLab, and the pad reads the digit "
                "you draw on it as you draw.*")
PAD_REPR = re.compile(r"^DigitPad\(")  # the text a saved pad output keeps (DigitPad.__repr__)
#: The convnet the book's pad reads with, a path of the checkout: notebook 05 saves it (gitignored).
CONVNET = "notebooks/convnet.keras"
PAD_FOLDER = "_pad"  # in the laid-out sources: its pad/ becomes the site's _static/pad/


def _text(value: str | list[str]) -> str:
    """A notebook's multi-line string, stored as one string or as a list of lines, as one string."""
    return value if isinstance(value, str) else "".join(value)


def is_pad(output: dict) -> bool:
    """Whether a notebook output shows the digit pad: its text is the pad's repr, with or without a widget view.

    >>> is_pad({"output_type": "execute_result", "data": {"text/plain": ["DigitPad(7 (100.0%))"]}})
    True
    >>> is_pad({"output_type": "display_data", "data": {WIDGET_VIEW: {"model_id": "b2"}, "text/plain": "IntSlider()"}})
    False
    >>> is_pad({"output_type": "stream", "name": "stdout", "text": "DigitPad(7)"})
    False
    """
    return bool(PAD_REPR.match(_text(output.get("data", {}).get("text/plain", ""))))


def pad_output(docname: str, live: bool = False) -> dict:
    """The output shown in place of the pad on page ``docname``: the live pad (HTML) or its picture, and one sentence.

    >>> pad_output("notebooks/05_convnet")["data"]["text/markdown"].split("\\n")[0]
    '![The digit pad: a hand-drawn 7 on the canvas, ...](../img/pad.png)'
    >>> pad_output("notebooks/05_convnet", live=True)["data"]["text/html"].split("\\n")[0]
    '<div class="digit-pad-book" data-model="../_static/pad/convnet.json">'
    """
    folder = posixpath.dirname(docname) or "."
    if live:
        from mnist_tutorial.tools.book_pad import pad_html

        data = {"text/html": pad_html(posixpath.relpath("_static/pad", folder), PAD_ALT)}
    else:
        data = {"text/markdown": f"![{PAD_ALT}]({posixpath.relpath(PAD_PICTURE, folder)})\n\n{PAD_SENTENCE}"}
    return {"output_type": "display_data", "metadata": {}, "data": data}


def static_widgets(notebook: dict, docname: str, live: bool = False) -> dict:
    """Return ``notebook`` (JSON) with the pad's outputs as ``pad_output`` gives them, and no widget view left.

    A widget view names a model that lives only in a kernel: a static page would show an
    empty box, or load a widget manager from a CDN. Any other widget keeps its text.
    ``notebook`` is changed in place; ``live`` says whether the build exported a convnet for the page's pad.
    """
    for cell in notebook.get("cells", []):
        outputs = cell.get("outputs", [])
        for index, output in enumerate(outputs):
            if is_pad(output):
                outputs[index] = pad_output(docname, live)
            else:
                output.get("data", {}).pop(WIDGET_VIEW, None)
    return notebook


def readme_anchors(text: str, readme: str = "README.md") -> str:
    """Point the README's links to its own headings at the README's page: included elsewhere, they lead there.

    >>> readme_anchors("[masked](#running-on-another-machine), [results](benchmarks/README.md#x)")
    '[masked](README.md#running-on-another-machine), [results](benchmarks/README.md#x)'
    """
    return re.sub(r"\]\(#", f"]({readme}#", text)


def _on_source_read(app, docname: str, source: list[str]) -> None:
    """Sphinx's source-read: a notebook's widgets as static content, before myst-nb reads it."""
    if app.env.doc2path(docname).suffix == ".ipynb":
        live = (Path(app.srcdir) / PAD_FOLDER / "pad" / "convnet.json").is_file()
        source[0] = json.dumps(static_widgets(json.loads(source[0]), docname, live))


def _on_config_inited(app, config) -> None:
    """Sphinx's config-inited: the exported pad (``_pad/``) is never read as a page."""
    config.exclude_patterns.append(PAD_FOLDER)


def _on_build_finished(app, exception: Exception | None) -> None:
    """Sphinx's build-finished: the exported pad (``_pad/pad/``), if any, copied into the site as ``_static/pad/``."""
    exported = Path(app.srcdir) / PAD_FOLDER / "pad"
    if exception is None and app.builder.format == "html" and exported.is_dir():
        shutil.copytree(exported, Path(app.outdir) / "_static" / "pad", dirs_exist_ok=True)


def _on_include_read(app, relative_path: Path, parent_docname: str, content: list[str]) -> None:
    """Sphinx's include-read: README.md included into another page keeps its links to its own headings."""
    if relative_path.as_posix() == "README.md" and parent_docname != "README":
        content[0] = readme_anchors(content[0])


def setup(app) -> dict:
    """The Sphinx extension of book/conf.py."""
    app.connect("config-inited", _on_config_inited)
    app.connect("build-finished", _on_build_finished)
    app.connect("source-read", _on_source_read)
    app.connect("include-read", _on_include_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def linked_files(relative: str, text: str) -> list[str]:
    """The files a Markdown text at path ``relative`` links to, as paths beside it: no page, web address or anchor.

    >>> linked_files("notebooks/05.ipynb", "[pad](../mnist_tutorial/pad.py#L3), [02](02.ipynb), [web](https://x.org)")
    ['mnist_tutorial/pad.py', 'notebooks/02.ipynb']
    """
    targets = re.findall(r"\]\(<?([^)\s>]+)>?\)", text)
    paths = [urllib.parse.unquote(target.split("#")[0].split("?")[0]) for target in targets
             if not re.match(r"[a-z][a-z0-9+.-]*:|#", target)]
    return sorted({posixpath.normpath(posixpath.join(posixpath.dirname(relative), path)) for path in paths if path})


def _markdown(path: Path) -> str:
    """A Markdown file's text, or a notebook's Markdown cells, one after another."""
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = json.loads(path.read_text()).get("cells", [])
    return "\n".join(_text(cell.get("source", "")) for cell in cells if cell.get("cell_type") == "markdown")


def _copy(root: Path, relative: str, source: Path) -> str:
    """Copy the file ``relative`` of ``root`` to the same path under ``source``; return ``relative``."""
    (source / relative).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / relative, source / relative)
    return relative


def lay_out(source: Path, root: Path = ROOT) -> list[str]:
    """Copy the book's sources (``SOURCES`` and book/index.md) from ``root`` into the empty folder ``source``.

    They keep their paths, so their relative links hold. Any other file of ``root`` that one
    of them links to (a helper's source, a data file) comes along, and the site offers it as a
    download. Returns the paths copied, sorted.
    """
    copied = {_copy(root, path.relative_to(root).as_posix(), source)
              for pattern in SOURCES for path in sorted(root.glob(pattern))}
    inside = root.resolve()
    for relative in sorted(copied):
        if relative.endswith((".md", ".ipynb")):
            for linked in linked_files(relative, _markdown(source / relative)):
                path = (root / linked).resolve()
                if linked not in copied and path.is_file() and inside in path.parents:
                    copied.add(_copy(root, linked, source))
    shutil.copy2(root / "book" / "index.md", source / "index.md")
    return sorted([*copied, "index.md"])


MARK = ".mnist-tutorial-book"  # the file that says a folder is the book's build folder, which a build may empty


def _claim(output: Path) -> list[Path]:
    """Mark ``output`` as the book's build folder, and empty its source/, doctrees/ and html/; return those three.

    ``output`` must be missing, empty, or a former build's (marked, or holding a site). Raises
    ``ValueError``, deleting nothing, for any other folder: ``--output`` never empties one of yours.
    """
    if output.exists() and any(output.iterdir()):
        if not ((output / MARK).exists() or (output / "html" / ".buildinfo").exists()):
            raise ValueError(f"{output} holds files that no book build wrote; not deleting them")
    output.mkdir(parents=True, exist_ok=True)
    (output / MARK).write_text("The book's build folder (python -m mnist_tutorial.tools.book): each build empties it.\n")
    for name in ("source", "doctrees", "html", "jupyter_execute"):  # the last, myst-nb's, it makes again
        shutil.rmtree(output / name, ignore_errors=True)
    folders = [output / name for name in ("source", "doctrees", "html")]
    for folder in folders:
        folder.mkdir()
    return folders


def export_pad(source: Path, root: Path, model: str | Path | None) -> str:
    """Export the convnet for the page's pad into the laid-out ``source``; return what the build says about it.

    ``model`` is a saved .keras file; None takes ``CONVNET`` of ``root`` where notebook 05 has saved it,
    and without it the pad stays its picture (nothing is trained). Raises ``FileNotFoundError`` for a
    ``model`` given that is not there, ``ValueError`` for a model the page cannot compute.
    """
    from mnist_tutorial.tools.book_pad import export

    path = Path(model) if model is not None else root / CONVNET
    if model is None and not path.is_file():
        return f"the pad is its picture: no {CONVNET} (notebook 05 saves it; make run)"
    description = export(path, source / PAD_FOLDER / "pad", root / PAD_PICTURE)
    return f"the pad reads drawings in the page with {path} ({description['parameters'] * 4 / 1e3:.0f} KB of weights)"


def build(output: str | Path = OUTPUT, root: Path = ROOT, model: str | Path | None = None) -> Path:
    """Build the site into ``output``/html from a fresh layout of the sources, warnings as errors; return html/.

    ``output`` also holds the laid-out sources (source/) and Sphinx's doctrees; each build
    starts them afresh. The page's pad reads with ``model`` (``export_pad``), and says so.
    Raises ``RuntimeError`` with Sphinx's exit status if it fails.
    """
    output = Path(output)
    source, doctrees, html = _claim(output)
    lay_out(source, root)
    print(export_pad(source, root, model))
    from sphinx.cmd.build import build_main  # the book extra, imported once the folders are known to be a build's

    status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-c", str(root / "book"), "-d", str(doctrees),
                         str(source), str(html)])
    if status != 0:
        raise RuntimeError(f"the book's build failed (Sphinx exit status {status}); its warnings are above")
    return html


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files and keeps quiet: no line per request on stderr."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        """Log nothing."""


class _Server(http.server.ThreadingHTTPServer):
    """Serves each request from a thread; a reader who leaves before a file has come (a page closed) is no error."""

    def handle_error(self, request, client_address) -> None:
        """Print the traceback, as the base class does, unless the client closed the connection."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder: str | Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 at a free port from a thread; yield its URL, stop on exit.

    >>> with serve(ROOT / "book") as url:
    ...     import urllib.request
    ...     urllib.request.urlopen(f"{url}/index.md").read().startswith(b"# ")
    True
    """
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


#: The pad's synced traits that its front end reads, for ``pad_picture``.
PAD_STATE = ("size", "pen_width", "strokes", "image", "probabilities", "guess", "message", "note", "answered")
_PAD_PAGE = """<!doctype html><meta charset="utf-8"><title>pad</title><link rel="icon" href="data:,">
<style>body { margin: 0; padding: 12px; background: #fff; display: inline-block; } %(css)s</style>
<div id="pad"></div>
<script type="module">
const state = %(state)s;
const model = { get: (name) => state[name], set: (name, value) => { state[name] = value; },
                save_changes() {}, send() {}, on() {}, off() {} };
const { default: widget } = await import("./pad.js");
widget.render({ model, el: document.getElementById("pad") });
document.body.dataset.ready = "yes";
</script>"""


def pad_picture(state: dict, path: str | Path) -> Path:
    """Write a PNG of the digit pad's front end (pad.js, pad.css) showing ``state``, a pad's ``PAD_STATE`` traits.

    The front end runs in headless Chromium, with a stand-in for the kernel's model that
    holds ``state``: the picture is what JupyterLab shows of a pad in that state.
    Raises ``RuntimeError`` if Chromium or Playwright is missing, or the page logs an error.
    """
    import tempfile

    from mnist_tutorial.tools import lab

    executable, path, package = lab.find_chromium(), Path(path), Path(__file__).resolve().parents[1]
    if executable is None:
        raise RuntimeError(f"the pad's picture {lab.MISSING}")
    with tempfile.TemporaryDirectory(prefix="mnist-tutorial-pad-") as folder:
        shutil.copy(package / "pad.js", folder)
        page_text = _PAD_PAGE % {"css": (package / "pad.css").read_text(), "state": json.dumps(state)}
        Path(folder, "index.html").write_text(page_text)
        with serve(folder) as url, lab.chromium(executable) as browser:
            page, errors = browser.new_page(viewport={"width": 600, "height": 400}), []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{url}/index.html")
            page.wait_for_selector("body[data-ready=yes]", timeout=30_000)
            if errors:
                raise RuntimeError(f"the pad's page logged errors: {errors}")
            page.locator("body").screenshot(path=str(path))
    return path


def pad_figure(model, path: str | Path, strokes: str | Path = ROOT / "img" / "strokes.json") -> Path:
    """Write the pad's picture for ``model`` to ``path``: notebook 05's pad, holding the recorded 7 it replays.

    ``model`` is a trained Keras model, as ``DigitPad`` takes it; ``strokes`` the recorded
    stroke paths (img/strokes.json). ``make figures`` draws it with its convnet.
    """
    from mnist_tutorial.pad import DigitPad

    pad = DigitPad(model)
    pad.draw(json.loads(Path(strokes).read_text())["seven"]["strokes"])
    return pad_picture({name: getattr(pad, name) for name in PAD_STATE}, path)


def site_size(html: Path) -> tuple[int, int]:
    """The number of files of a built site and their bytes."""
    files = [path for path in html.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def main(argv: list[str] | None = None) -> int:
    """``python -m mnist_tutorial.tools.book [--output DIR]``: build the book and say where, how big, how fast."""
    parser = argparse.ArgumentParser(prog="python -m mnist_tutorial.tools.book", description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the build folder (the site goes to its html/)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to build from (default: this one)")
    parser.add_argument("--model", type=Path, default=None,
                        help=f"the saved convnet the page's pad reads with (default: the checkout's {CONVNET}, if there)")
    args = parser.parse_args(argv)
    for name, value in NOTEBOOK_ENVIRONMENT.items():  # before the pad's export imports TensorFlow: no notice
        os.environ.setdefault(name, value)
    began = time.perf_counter()
    try:
        html = build(args.output, args.root, args.model)
    except (RuntimeError, ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1
    files, size = site_size(html)
    print(f"built {html / 'index.html'} in {time.perf_counter() - began:.1f} s: {files} files, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
