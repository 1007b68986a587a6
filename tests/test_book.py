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
- notebook 05's page shows the pad's picture and its sentence, and no widget;
- the search finds "convnet".

They need the book extra (``make test-book`` installs it) and Chromium, and skip without them,
except where ``MNIST_TUTORIAL_BOOK_TEST=required`` (``make test-book``, so CI) makes a skip an error. On
Python 3.10, which the book's Sphinx does not support, they skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from mnist_tutorial.tools import book, lab
from mnist_tutorial.tools.figures import PAD_FIGURE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
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


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> tuple[Path, Path, float]:
    """The book built twice from copies of the checkout, each in its own process: (first site, second, first's seconds)."""
    if TOO_OLD is not None:
        pytest.skip(f"the book's test needs {TOO_OLD}")
    if MISSING is not None:
        if REQUIRED:
            raise RuntimeError(f"the book's test needs {MISSING}; MNIST_TUTORIAL_BOOK_TEST=required forbids a skip")
        pytest.skip(f"the book's test needs {MISSING}")
    sites, seconds = [], []
    checkouts = [copy_of_the_checkout(tmp_path_factory.mktemp(f"checkout-{name}")) for name in ("first", "second")]
    for name, root in zip(("first", "second"), checkouts):
        began, output = time.perf_counter(), tmp_path_factory.mktemp(f"book-{name}")
        run = subprocess.run([sys.executable, "-m", "mnist_tutorial.tools.book", "--root", str(root), "--output",
                              str(output)], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, f"the build failed:\n{run.stdout}\n{run.stderr}"
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
def test_the_pad_is_its_picture_and_one_sentence(site):
    shown = site["pages"]["notebooks/05_convnet.html"]
    pictures = [image for image in shown["images"] if image["alt"] == book.PAD_ALT]
    assert len(pictures) == 1 and pictures[0]["width"] > 400
    assert book.PAD_SENTENCE.strip("*") in shown["text"]
    assert "DigitPad(7" not in shown["text"] and shown["widgets"] == 0


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
