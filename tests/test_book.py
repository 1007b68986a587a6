"""The book (make book): its pieces alone, then the whole site built twice and read in headless Chromium.

The quick tests check the pieces that need neither Sphinx nor a browser: the pad's picture
in place of its widget, the README's own anchors on the landing page, the layout of the
sources, the pins. The slow ones build the site from the checkout, each build in its own
process, into two temporary folders, serve the first on 127.0.0.1, and open every page in
the project's Chromium (``mnist_tutorial.tools.lab``) with every request to another host
aborted and recorded. They check that:
- the build takes under a minute, a link to a heading that is not there stops it, and a
  second build, from a copy of the sources in another folder, gives the same files
  (``STAMPED`` names those that may differ: none);
- ``make figures`` draws the pad's picture with pad.js, at the committed picture's size;
- every page loads with no console error, no failed request and nothing from another host;
- every image has loaded, and every link inside the site leads to a page and heading there;
- the landing page has the notebooks, the results and the quick start; each notebook's page
  its committed figures and a download button for the notebook as committed;
- notebook 05's page shows the pad, and its sentence, and no widget;
- the search finds "convnet".

The book is built with notebook 05's convnet trained as the notebook trains it on the first 12,000
training images (as tests/test_pad_browser.py does: it reads every recorded digit right), so the pad on
notebook 05's page reads drawings in the page, as the book built after ``make run`` does. On that page:
- the recorded digits (img/strokes.json), drawn with the mouse stroke by stroke, one after another with
  Clear between them, are read right, the reading following the drawing, with no console error;
- a reading takes at most ``READING_MS`` in the page (prepared and read; measured per reading);
- for the recorded digits and ``extra_drawings`` (24 more), drawn by the pad's own code on its canvas, the
  page and Python (``read_drawing``, then the Keras model) give the same 28x28 input, digit and
  probabilities, within ``PIXEL_TOLERANCE`` and ``PROBABILITY_TOLERANCE``;
- a drawing too small or too faint gets the words the notebook's pad gives it.

They need the book extra (``make test-book`` installs it) and Chromium, and skip without them,
except where ``MNIST_TUTORIAL_BOOK_TEST=required`` (``make test-book``, so CI) makes a skip an error. On
Python 3.10, which the book's Sphinx does not support, they skip.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from mnist_tutorial.tools import book, book_pad, lab
from mnist_tutorial.tools.figures import PAD_FIGURE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STROKES = {name: entry for name, entry in json.loads((ROOT / "img" / "strokes.json").read_text()).items()
           if name != "about"}
#: Files of the site that may differ between two builds of the same sources, and why: none. Sphinx 9 stamps no
#: time into the pages (no "last updated", a fixed copyright), .buildinfo holds a hash of the configuration,
#: and myst-nb names each output image by its content's hash.
STAMPED: dict[str, str] = {}
BUILD_SECONDS = 60
WIDGET_VIEW_OUTPUT = {"output_type": "execute_result", "execution_count": 3, "metadata": {},
                      "data": {book.WIDGET_VIEW: {"model_id": "a1", "version_major": 2}, "text/plain": "DigitPad(7)"}}


def notebook_with(*outputs: dict) -> dict:
    """A notebook JSON with one code cell holding ``outputs``."""
    cell = {"cell_type": "code", "source": "pad", "metadata": {}, "execution_count": 3, "outputs": list(outputs)}
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_the_pad_becomes_its_picture_and_one_sentence():
    saved = {"output_type": "execute_result", "metadata": {}, "data": {"text/plain": ["DigitPad(7 (100.0%))"]}}
    for pad in (WIDGET_VIEW_OUTPUT, saved):
        outputs = book.static_widgets(notebook_with(json.loads(json.dumps(pad))), "notebooks/05_convnet")["cells"][0][
            "outputs"]
        assert outputs == [book.pad_output("notebooks/05_convnet")]
    markdown = outputs[0]["data"]["text/markdown"]
    assert markdown.startswith(f"![{book.PAD_ALT}](../img/pad.png)\n\n")
    assert "JupyterLab" in book.PAD_SENTENCE and "reads the digit you draw" in book.PAD_SENTENCE
    assert book.PAD_SENTENCE.count(".") == 1 and book.PAD_SENTENCE.endswith(".*")  # one sentence, in italics
    assert book.pad_output("index")["data"]["text/markdown"].split("\n")[0].endswith("(img/pad.png)")


def test_other_widgets_keep_their_text_and_other_outputs_are_untouched():
    slider = {"output_type": "display_data", "metadata": {},
              "data": {book.WIDGET_VIEW: {"model_id": "b2"}, "text/plain": "IntSlider(value=3)"}}
    stream = {"output_type": "stream", "name": "stdout", "text": "DigitPad(7)\n"}
    outputs = book.static_widgets(notebook_with(slider, stream), "notebooks/x")["cells"][0]["outputs"]
    assert outputs == [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "IntSlider(value=3)"}},
                       stream]


def test_notebook_05_has_the_one_pad_the_book_replaces():
    notebook = json.loads((ROOT / "notebooks" / "05_convnet.ipynb").read_text())
    pads = [output for cell in notebook["cells"] for output in cell.get("outputs", []) if book.is_pad(output)]
    assert len(pads) == 1, f"notebook 05 shows {len(pads)} pads; the book replaces each with the picture"
    for path in NOTEBOOKS:
        if path.name != "05_convnet.ipynb":
            assert book.WIDGET_VIEW not in path.read_text(), path.name


def test_the_landing_page_sends_the_readme_anchors_to_the_readme_page():
    assert book.readme_anchors("see [below](#results) and [there](notebooks/05_convnet.ipynb#setup)") == (
        "see [below](README.md#results) and [there](notebooks/05_convnet.ipynb#setup)")
    readme = (ROOT / "README.md").read_text()
    start, end = (readme.index(f"<!-- book: the landing page {mark} here -->") for mark in ("starts", "ends"))
    opening = readme[start:end]
    for heading in ("## Quick start", "## The notebooks", "## Results"):
        assert heading in opening, f"the landing page lost the README's {heading!r}"
    assert all(f"(notebooks/{path.name})" in opening for path in NOTEBOOKS)


def test_the_layout_keeps_the_checkout_paths(tmp_path):
    copied = book.lay_out(tmp_path)
    expected = {"index.md", "README.md", "benchmarks/README.md", book.PAD_PICTURE,
                *(f"notebooks/{path.name}" for path in NOTEBOOKS)}
    assert expected <= set(copied) and all(name.endswith((".md", ".ipynb", ".png")) for name in copied)
    assert (tmp_path / "notebooks" / "05_convnet.ipynb").read_bytes() == (ROOT / "notebooks" / "05_convnet.ipynb").read_bytes()
    (tmp_path / "out" / "html").mkdir(parents=True)
    (tmp_path / "out" / "html" / "mine.txt").write_text("not a build's")
    with pytest.raises(ValueError, match="out holds files that no book build wrote; not deleting them"):
        book.build(tmp_path / "out")  # a folder of someone else's files is never emptied
    assert (tmp_path / "out" / "html" / "mine.txt").exists()


def test_a_file_a_page_links_to_comes_along_and_nothing_from_outside(tmp_path):
    root = tmp_path / "checkout"
    for name, text in {"book/index.md": "# Book\n", "README.md": "[the runner](tools/run.py), [web](https://x.org)\n",
                       "tools/run.py": "print()\n", "data/d.json": "{}\n", "secret.txt": "no\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    cell = {"cell_type": "markdown", "metadata": {}, "source": ["[data](../data/d.json#top)\n", "[gone](../nothing.py) "
                                                                 "[out](../../outside.txt) [self](01_a.ipynb)"]}
    (tmp_path / "outside.txt").write_text("not the checkout's\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "01_a.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}}))
    assert book.lay_out(tmp_path / "laid", root) == ["README.md", "data/d.json", "index.md", "notebooks/01_a.ipynb",
                                                     "tools/run.py"]
    assert (tmp_path / "laid" / "tools" / "run.py").read_text() == "print()\n"


def test_the_pad_picture_is_the_one_make_figures_draws():
    assert book.PAD_PICTURE == f"img/{PAD_FIGURE}"
    assert (ROOT / book.PAD_PICTURE).stat().st_size > 5_000


def test_the_book_extra_is_pinned_and_only_the_book_installs_it():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: tomli, the same parser
        import tomli as tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pinned = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    pins = {name.lower().replace("_", "-"): version for name, version in pinned}  # with markers or hashes after, too
    for requirement in extras["book"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()
        assert re.fullmatch(r"\d+(\.\d+)+", pins.get(name, "")), f"{name} is not pinned exactly"
    assert not {"sphinx", "myst-nb"} & {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in extras["test"]}
    makefile, ci = (ROOT / "Makefile").read_text(), (ROOT / ".ci" / "run").read_text()
    stamp = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "book" not in stamp and '-e ".[cpu,test,book]"' in makefile
    assert "make test-book" in ci
    assert re.search(r"^test-book:.*\n\tMNIST_TUTORIAL_BOOK_TEST=required ", makefile, re.MULTILINE)


# The site, built and read in a browser.

CHROMIUM = lab.find_chromium()
REQUIRED = os.environ.get("MNIST_TUTORIAL_BOOK_TEST") == "required"
TOO_OLD = "Python 3.11 or later, which its Sphinx needs" if sys.version_info < (3, 11) else None
MISSING = ("the book extra (make test-book installs it)" if importlib.util.find_spec("sphinx") is None else
           None if CHROMIUM is not None else lab.MISSING)
#: Read in the browser: what a page shows, its images and the links it holds (absolute, without a query).
PAGE = """() => ({
  images: [...document.images].map(i => ({src: i.currentSrc, width: i.naturalWidth, alt: i.alt})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  text: document.querySelector('main')?.innerText ?? document.body.innerText,
  widgets: document.querySelectorAll('script[type^="application/vnd.jupyter.widget"]').length,
  downloads: [...document.querySelectorAll('a.btn-download-source-button')].map(a => a.href),
})"""


def copy_of_the_checkout(root: Path) -> Path:
    """Copy what the book is built from (its sources and book/) into ``root``, at the checkout's paths; return it.

    Each build reads its own copy, in another folder, made before either build starts: a notebook that
    changes in the checkout meanwhile changes neither, and where the sources lie changes nothing built.
    """
    for name in book.lay_out(root / "laid", ROOT):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "laid" / name).rename(root / name)
    (root / "book").mkdir()
    (root / "index.md").rename(root / "book" / "index.md")
    for name in ("conf.py", "favicon.svg"):
        (root / "book" / name).write_bytes((ROOT / "book" / name).read_bytes())
    return root


def needs_the_book() -> None:
    """Skip without the book extra or Chromium, or on Python 3.10; under make test-book (CI), fail instead."""
    if TOO_OLD is not None:
        pytest.skip(f"the book's test needs {TOO_OLD}")
    if MISSING is not None:
        if REQUIRED:
            raise RuntimeError(f"the book's test needs {MISSING}; MNIST_TUTORIAL_BOOK_TEST=required forbids a skip")
        pytest.skip(f"the book's test needs {MISSING}")


@pytest.fixture(scope="module")
def convnet(tmp_path_factory):
    """Notebook 05's convnet trained as the notebook trains it, on the first 12,000 images (7 s), and where it is saved."""
    needs_the_book()
    from mnist_tutorial import load_mnist
    from mnist_tutorial.tools.recipes import CONVNET, train_as_notebook

    (x_train, y_train), _ = load_mnist()
    model = train_as_notebook(CONVNET, 0, x_train[:12_000], y_train[:12_000])
    path = tmp_path_factory.mktemp("convnet") / "convnet.keras"
    model.save(path)
    return model, path


@pytest.fixture(scope="module")
def builds(tmp_path_factory, convnet) -> tuple[Path, Path, float]:
    """The book built twice from copies of the checkout, each in its own process, its pad reading with ``convnet``:
    (first site, second, first's seconds)."""
    sites, seconds = [], []
    checkouts = [copy_of_the_checkout(tmp_path_factory.mktemp(f"checkout-{name}")) for name in ("first", "second")]
    for name, root in zip(("first", "second"), checkouts):
        began, output = time.perf_counter(), tmp_path_factory.mktemp(f"book-{name}")
        run = subprocess.run([sys.executable, "-m", "mnist_tutorial.tools.book", "--root", str(root), "--output",
                              str(output), "--model", str(convnet[1])], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"the build failed:\n{run.stdout}\n{run.stderr}"
        assert f"the pad reads drawings in the page with {convnet[1]} (902 KB of weights)" in run.stdout
        seconds.append(time.perf_counter() - began)
        sites.append(output / "html")
    print(f"builds: {seconds[0]:.1f} s and {seconds[1]:.1f} s; the site: {book.site_size(sites[0])}")
    return sites[0], sites[1], seconds[0]


def read_page(browser, url: str, blocked: list[str]) -> dict:
    """Open ``url`` and return ``PAGE`` with the console errors and the failed requests, once every image is in."""
    page = browser.new_page(viewport=lab.VIEWPORT)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
    page.on("response", lambda response: problems.append(f"{response.status}: {response.url}")
            if response.status >= 400 else None)
    page.route("**/*", lambda route: route.continue_() if urllib.parse.urlsplit(route.request.url).hostname
               == "127.0.0.1" else (blocked.append(route.request.url), route.abort()))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
        return {**page.evaluate(PAGE), "problems": problems}
    finally:
        page.close()


@pytest.fixture(scope="module")
def site(builds) -> dict:
    """Every page of the first build, read in Chromium from 127.0.0.1: {page path: what it shows}, and what was blocked."""
    html, blocked, pages = builds[0], [], {}
    with book.serve(html) as url, lab.chromium(CHROMIUM) as browser:
        for path in sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html") if "_static" not in p.parts):
            pages[path] = read_page(browser, f"{url}/{path}", blocked)
        pages["search.html?q=convnet"] = search(browser, f"{url}/search.html?q=convnet", blocked)
    return {"url": url, "html": html, "pages": pages, "blocked": blocked}


def search(browser, url: str, blocked: list[str]) -> dict:
    """Search the site as a reader does, and return the results' page paths, with the page's problems."""
    found = read_page(browser, url, blocked)
    page = browser.new_page(viewport=lab.VIEWPORT)
    try:
        page.goto(url)
        page.wait_for_function("() => document.querySelectorAll('#search-results li').length > 0", timeout=30_000)
        found["results"] = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
    finally:
        page.close()
    return found


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_the_build_takes_under_a_minute_and_rebuilds_the_same_files(builds):
    first, second, seconds = builds
    assert seconds < BUILD_SECONDS
    files = {path.relative_to(first).as_posix() for path in first.rglob("*") if path.is_file()}
    assert files == {path.relative_to(second).as_posix() for path in second.rglob("*") if path.is_file()}
    differing = sorted(name for name in files if (first / name).read_bytes() != (second / name).read_bytes())
    assert differing == sorted(STAMPED), f"files that differ between two builds: {differing}"
    assert {"index.html", "search.html", "README.html", "benchmarks/README.html"} <= files
    assert {f"notebooks/{path.stem}.html" for path in NOTEBOOKS} <= files


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_every_page_loads_with_no_error_and_nothing_from_another_host(site):
    assert len(site["pages"]) >= len(NOTEBOOKS) + 5
    for path, shown in site["pages"].items():
        assert shown["problems"] == [], f"{path}: {shown['problems']}"
    assert site["blocked"] == [], "requests to another host (aborted)"


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_every_image_has_loaded(site):
    images = [(path, image) for path, shown in site["pages"].items() for image in shown["images"]]
    assert len(images) >= len(NOTEBOOKS)
    for path, image in images:
        assert image["width"] > 0 and image["src"].startswith(site["url"]), f"{path}: {image}"


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_every_link_inside_the_site_leads_to_a_page_and_heading_there(site):
    checked = 0
    for path, shown in site["pages"].items():
        for link in shown["links"]:
            if not link.startswith(site["url"] + "/"):
                continue
            parts = urllib.parse.urlsplit(link)
            target = site["html"] / urllib.parse.unquote(parts.path).lstrip("/")
            assert target.is_file(), f"{path} links to {link}, which is not in the site"
            if parts.fragment and target.suffix == ".html":
                ids = set(re.findall(r'\bid="([^"]+)"', target.read_text()))
                assert urllib.parse.unquote(parts.fragment) in ids, f"{path} links to {link}: no such heading"
            checked += 1
    assert checked > 200


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_the_landing_page_says_what_the_series_is_and_how_to_run_it(site):
    shown = site["pages"]["index.html"]
    for words in ("A reproducible notebook series", "The series is for", "Quick start", "make run", "The notebooks",
                  "Results", "convnet", "99.34%"):
        assert words in shown["text"], words
    for path in NOTEBOOKS:
        assert f"{site['url']}/notebooks/{path.stem}.html" in shown["links"], path.stem
    assert f"{site['url']}/README.html#running-on-another-machine" in shown["links"]


@pytest.mark.slow  # builds the book, or reads it in a browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_each_notebook_has_its_figures_and_a_download_button(site, path):
    shown = site["pages"][f"notebooks/{path.stem}.html"]
    notebook = json.loads(path.read_text())
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    figures = sum("image/png" in output.get("data", {}) for output in outputs)
    pads = sum(book.is_pad(output) for output in outputs)
    assert len(shown["images"]) == figures + pads
    assert [link.removeprefix(site["url"]) for link in shown["downloads"]] == [f"/_sources/notebooks/{path.name}"]
    assert (site["html"] / "_sources" / "notebooks" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_the_pad_and_its_one_sentence(site):
    shown = site["pages"]["notebooks/05_convnet.html"]
    pictures = [image for image in shown["images"] if image["alt"] == book.PAD_ALT]
    assert len(pictures) == 1 and pictures[0]["width"] > 400  # shown until the convnet has loaded
    assert book_pad.LIVE_SENTENCE in shown["text"] and book.PAD_SENTENCE.strip("*") not in shown["text"]
    assert "DigitPad(7" not in shown["text"] and shown["widgets"] == 0
    assert (site["html"] / "_static" / "pad" / "convnet.bin").stat().st_size == 902_184  # under 1 MB


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_the_search_finds_convnet(site):
    results = site["pages"]["search.html?q=convnet"]["results"]
    assert f"{site['url']}/notebooks/05_convnet.html" in results, results


@pytest.mark.slow  # builds the book, or reads it in a browser
def test_a_link_to_a_missing_heading_stops_the_build(builds, tmp_path):
    root = copy_of_the_checkout(tmp_path / "checkout")
    notebook = root / "notebooks" / NOTEBOOKS[0].name
    broken = json.loads(notebook.read_text())
    broken["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "[gone](../README.md#no-such-heading)"})
    notebook.write_text(json.dumps(broken))
    run = subprocess.run([sys.executable, "-m", "mnist_tutorial.tools.book", "--root", str(root), "--output",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "no-such-heading" in run.stderr and "the book's build failed" in run.stderr


@pytest.mark.slow  # a browser
def test_the_pad_picture_is_what_pad_js_shows(tmp_path):
    if CHROMIUM is None:
        pytest.skip(f"the pad's picture {lab.MISSING}")
    import keras
    import matplotlib.image

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, activation="softmax")])
    path = book.pad_figure(model, tmp_path / "pad.png")
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 450  # the 280-pixel canvas and the side column, with margins
    assert (pixels[..., :3] < 0.2).mean() > 0.02  # the drawn 7 in black ink
    committed = matplotlib.image.imread(ROOT / book.PAD_PICTURE)
    assert committed.shape == pixels.shape  # the committed picture is one pad.js drew at this size


# The pad on notebook 05's page, which reads drawings in the page.

#: The longest a reading may take in the page (the canvas's ink prepared and read), in headless Chromium on the 2-core
#: CI machine (issue 44). Each drawing is read five times and the fastest counts, since whatever else runs on the
#: machine can only slow a reading down (as training.matmul_peak times its products); one over the limit is timed
#: again after a pause, up to three times (on the shared machine, another job once held both cores for five
#: readings in a row). Measured on the 2-core machine
#: while other jobs held both cores (load 5 to 7): the fastest of each of the 30 drawings 7.7 to 17.8 ms; the 378
#: readings while drawing with the mouse, a median of 8.9 ms.
READING_MS = 50
#: The page against Python (``read_drawing``, then the Keras model) on the same canvas, over the 6 recorded digits
#: and the 24 ``extra_drawings``: the largest difference of a pixel of the 28x28 input (0 to 1) and of a probability.
#: Measured over the 30: 0 for every pixel (the page computes in float32 in NumPy's and TensorFlow's order), and
#: 1.8e-07 for a probability (the page sums in float64, Keras in float32).
PIXEL_TOLERANCE = 1e-6
PROBABILITY_TOLERANCE = 1e-5


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list[list[float]]:
    """Points every 10 degrees along an ellipse's arc, from ``start`` to ``end`` degrees (clockwise on screen)."""
    steps = max(2, round(abs(end - start) / 10) + 1)
    return [[cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))]
            for a in np.linspace(start, end, steps)]


def _moved(strokes: list, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0, turn: float = 0.0,
           slant: float = 0.0) -> list:
    """Stroke paths scaled about the canvas's centre, turned by ``turn`` degrees, slanted, then moved; kept on it."""
    c, s, centre = math.cos(math.radians(turn)), math.sin(math.radians(turn)), book_pad_canvas() / 2
    moved = []
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x, y = (x - centre) * scale, (y - centre) * scale
            x, y = c * x - s * y + slant * y, s * x + c * y
            points.append([min(max(x + centre + dx, 2), 2 * centre - 2), min(max(y + centre + dy, 2), 2 * centre - 2)])
        moved.append(points)
    return moved


def book_pad_canvas() -> int:
    """The pad's canvas side, as the widget has it."""
    from mnist_tutorial.pad import CANVAS

    return CANVAS


def extra_drawings() -> dict[str, list]:
    """24 drawings beside the recorded ones: six more digits written as arcs and lines, and each recorded digit
    smaller and off centre, turned, and slanted."""
    drawings = {
        "one_with_flag": [[[115, 80], [150, 50], [150, 235]]],
        "two_curly": [_arc(140, 100, 48, 42, 200, 380) + [[100, 232], [195, 232]]],
        "five": [[[190, 55], [110, 55], [105, 130]], _arc(140, 178, 55, 52, -120, 150)],
        "six": [[[178, 52], [130, 85], [100, 150]] + _arc(145, 182, 47, 47, 180, 540)],
        "eight": [_arc(140, 92, 38, 36, 90, 450), _arc(140, 185, 47, 46, -90, 270)],
        "nine": [_arc(138, 98, 42, 40, 0, 360), [[180, 98], [172, 240]]],
    }
    for name, entry in STROKES.items():
        drawings[f"{name}_small_off_centre"] = _moved(entry["strokes"], scale=0.6, dx=-35, dy=30)
        drawings[f"{name}_turned"] = _moved(entry["strokes"], scale=0.9, turn=12)
        drawings[f"{name}_slanted"] = _moved(entry["strokes"], slant=0.25)
    return drawings


@pytest.fixture(scope="module")
def pad_page(builds):
    """Notebook 05's page of the first build, served from 127.0.0.1 with other hosts aborted, its pad loaded:
    (page, problems: console errors, failed requests and blocked hosts)."""
    with book.serve(builds[0]) as url, lab.chromium(CHROMIUM) as browser:
        page, problems = browser.new_page(viewport=lab.VIEWPORT), []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
        page.route("**/*", lambda route: route.continue_() if urllib.parse.urlsplit(route.request.url).hostname
                   == "127.0.0.1" else (problems.append(f"outside: {route.request.url}"), route.abort()))
        page.goto(f"{url}/notebooks/05_convnet.html")
        page.wait_for_selector(".digit-pad-book[data-ready]", state="attached", timeout=30_000)
        assert page.locator(".digit-pad-book").get_attribute("data-ready") == "yes", page.locator(
            ".digit-pad-book-status").inner_text()
        page.locator(".digit-pad-canvas").scroll_into_view_if_needed()
        yield page, problems
        page.close()


def pad_state(page) -> dict:
    """The pad's message, how many readings it has shown, whether one is under way, and the page's reading times."""
    return page.evaluate("""() => { const pad = document.querySelector('.digit-pad-book .digit-pad');
        return {message: pad.querySelector('.digit-pad-message').innerText, answered: Number(pad.dataset.answered),
                busy: pad.dataset.busy, latency: Number(pad.dataset.latency ?? 0),
                readings: document.querySelector('.digit-pad-book').bookPad.readings.slice()}; }""")


def settled(page, after: int) -> dict:
    """Wait for a reading after reading number ``after``, with none under way; return ``pad_state``."""
    page.wait_for_function("after => { const pad = document.querySelector('.digit-pad-book .digit-pad');"
                           " return Number(pad.dataset.answered) > after && pad.dataset.busy === 'false'; }",
                           arg=after, timeout=10_000)
    return pad_state(page)


def mouse_draw(page, strokes: list, halfway=None) -> None:
    """Draw stroke paths (canvas pixels) with the mouse; ``halfway()`` is called half-way along the first stroke."""
    box = page.locator(".digit-pad-book .digit-pad-canvas").bounding_box()
    scale = box["width"] / book_pad_canvas()
    for number, stroke in enumerate(strokes):
        (x, y), *rest = stroke
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for index, (x, y) in enumerate(rest):
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
            if halfway is not None and number == 0 and index == len(rest) // 2:
                halfway()
        page.mouse.up()


@pytest.fixture(scope="module")
def drawn_with_the_mouse(pad_page) -> dict:
    """Each recorded digit drawn with the mouse after Clear: {name: (what the pad said, readings while drawing,
    the latency from the stroke's end to its reading shown)}, and every reading's milliseconds in the page."""
    page, _ = pad_page
    results = {}
    for name, entry in STROKES.items():
        before = pad_state(page)["answered"]
        page.locator(".digit-pad-book .digit-pad-clear").click()
        assert settled(page, before)["message"] == "draw a digit"
        start, seen = pad_state(page)["answered"], []

        def halfway() -> None:  # the pad has read the drawing before the stroke ends
            page.wait_for_function("after => Number(document.querySelector('.digit-pad-book .digit-pad')"
                                   ".dataset.answered) > after", arg=start, timeout=5_000)
            seen.append(pad_state(page)["message"])

        mouse_draw(page, entry["strokes"], halfway)
        state = settled(page, start)
        results[name] = (state["message"], seen, state["latency"])
    return {"digits": results, "readings": pad_state(page)["readings"]}


@pytest.mark.slow  # a browser
def test_recorded_digits_drawn_with_the_mouse_are_read_right_as_they_are_drawn(pad_page, drawn_with_the_mouse):
    for name, (message, seen, latency) in drawn_with_the_mouse["digits"].items():
        label = STROKES[name]["label"]
        assert re.fullmatch(rf"{label} \(\d+\.\d%\)", message), f"{name}: the pad says {message!r}"
        assert seen and seen[0] != "draw a digit" or len(STROKES[name]["strokes"][0]) < 10, (name, seen)
        print(f"{name}: {message}, read half-way as {seen[0]!r}, {latency:.0f} ms from the stroke's end to its reading")
    image = pad_page[0].locator(".digit-pad-book .digit-pad-image").evaluate(
        "c => [...c.getContext('2d').getImageData(0, 0, 28, 28).data].filter((v, i) => i % 4 === 0 && v > 0).length")
    assert 40 < image < 400  # the 28x28 image the model was given shows the last digit
    assert pad_page[1] == []


def page_reading(page, strokes: list) -> dict:
    """The pad's own code draws ``strokes`` on its canvas, and the page reads it five times: the canvas's ink, the
    reading, and the fastest of the five readings' milliseconds."""
    return page.evaluate("""strokes => { const pad = document.querySelector('.digit-pad-book').bookPad;
        const ink = pad.replay(strokes), times = [];
        let reading;
        for (let k = 0; k < 5; k++) {
          const began = performance.now();
          reading = pad.read(ink);
          times.push(performance.now() - began);
        }
        return {ink: Array.from(ink), pixels: reading.pixels && Array.from(reading.pixels), guess: reading.guess,
                probabilities: reading.probabilities, message: reading.message, ms: Math.min(...times)}; }""", strokes)


@pytest.fixture(scope="module")
def page_readings(pad_page) -> dict:
    """The recorded digits and ``extra_drawings``, each drawn by the pad's code and read by the page (``page_reading``)."""
    drawings = {**{name: entry["strokes"] for name, entry in STROKES.items()}, **extra_drawings()}
    return {name: page_reading(pad_page[0], strokes) for name, strokes in drawings.items()}


def fastest_reading(page, strokes: list) -> float:
    """The fastest of five readings of ``strokes`` in the page, in milliseconds, taken again up to three times after a
    pause if it is over ``READING_MS``: another process holding both cores can only slow a reading down."""
    fastest = page_reading(page, strokes)["ms"]
    for _ in range(3):
        if fastest <= READING_MS:
            break
        page.wait_for_timeout(500)
        fastest = min(fastest, page_reading(page, strokes)["ms"])
    return fastest


@pytest.mark.slow  # a browser
def test_a_reading_takes_at_most_50_ms_in_the_page(pad_page, page_readings, drawn_with_the_mouse):
    fastest = {name: shown["ms"] for name, shown in page_readings.items()}
    again = sorted(name for name, ms in fastest.items() if ms > READING_MS)
    drawings = {**{name: entry["strokes"] for name, entry in STROKES.items()}, **extra_drawings()}
    fastest.update({name: fastest_reading(pad_page[0], drawings[name]) for name in again})
    slowest = max(fastest, key=fastest.get)
    while_drawing = drawn_with_the_mouse["readings"]
    print(f"{len(fastest)} drawings, each read 5 times: the fastest of each from {min(fastest.values()):.1f} to "
          f"{fastest[slowest]:.1f} ms ({slowest}); {len(while_drawing)} readings while drawing with the mouse: median "
          f"{np.median(while_drawing):.1f} ms, slowest {max(while_drawing):.1f} ms; timed again: {again}")
    assert fastest[slowest] <= READING_MS, slowest
    assert len(while_drawing) > 2 * len(STROKES) and np.median(while_drawing) <= READING_MS


@pytest.mark.slow  # a browser
def test_the_page_prepares_and_reads_a_drawing_as_python_does(pad_page, page_readings, convnet):
    from mnist_tutorial.pad import read_drawing

    assert len(page_readings) == len(STROKES) + 24
    pixels, probabilities, right = [], [], 0
    for name, shown in page_readings.items():
        prepared = read_drawing(np.array(shown["ink"], np.uint8).reshape(book_pad_canvas(), -1))
        expected = np.asarray(convnet[0](prepared[None, ..., None], training=False))[0]
        guess = int(expected.argmax())
        pixels.append(float(np.abs(np.array(shown["pixels"], np.float32) - prepared.ravel()).max()))
        probabilities.append(float(np.abs(np.array(shown["probabilities"]) - expected).max()))
        assert shown["guess"] == guess and shown["message"] == f"{guess} ({expected[guess]:.1%})", name
        right += name in STROKES and guess == STROKES[name]["label"]
    print(f"{len(page_readings)} drawings: largest pixel difference {max(pixels):.2g}, "
          f"largest probability difference {max(probabilities):.2g}")
    assert max(pixels) <= PIXEL_TOLERANCE and max(probabilities) <= PROBABILITY_TOLERANCE
    assert right == len(STROKES)
    assert pad_page[1] == []


@pytest.mark.slow  # a browser
def test_a_drawing_too_small_or_too_faint_gets_the_notebooks_words(pad_page, convnet):
    from mnist_tutorial.pad import DigitPad

    page, problems = pad_page
    before = pad_state(page)["answered"]
    page.locator(".digit-pad-book .digit-pad-clear").click()
    mouse_draw(page, [[[140, 140], [150, 146]]])  # a tick
    assert settled(page, before + 1)["message"] == "draw a digit"
    assert page.locator(".digit-pad-book .digit-pad-guess").count() == 0  # no bar marked as the guess
    faint = np.zeros((book_pad_canvas(), book_pad_canvas()), np.uint8)
    faint[60:220, 130:152] = 20  # a "1" in ink 8% of full: less than the 15% contrast prepare_image needs
    pad = DigitPad(convnet[0])
    with pytest.raises(ValueError, match="no visible ink"):
        pad.read(faint)
    shown = page.evaluate("ink => document.querySelector('.digit-pad-book').bookPad.read(Uint8Array.from(ink)).message",
                          faint.ravel().tolist())
    assert shown == pad.message == ("could not read the drawing: ValueError: the image has no visible ink: the brightest "
                                    "strokes stand 0.08 above the paper (needs 0.15, and above the paper's noise); is "
                                    "it blank, or the photo too dark or washed out?")
    assert problems == []
