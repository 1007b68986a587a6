"""The digit pad in a real browser: JupyterLab on 127.0.0.1 in headless Chromium, digits drawn with the mouse.

The served notebook is notebook 05's setup cell, the convnet trained as notebook 05 trains
it (``tools.recipes.train_as_notebook``, from the same seed) but on the first 12,000 training images, and
notebook 05's pad cell, unchanged. A fifth of the images trains in a fifth of the time, and the convnet
still reads every recorded digit of ``img/strokes.json`` right (seeds 0, 1 and 2 checked). The test
runs all cells, then draws recorded stroke paths (``img/strokes.json``) on the pad's canvas
with the mouse, waits for the reading the kernel writes back into the pad, and checks each
guess, Clear, and that the browser console stays free of errors. It prints the time from the
end of the last stroke to its reading appearing (the front end's ``data-latency``).

Needs Chromium and Playwright, as tests/test_jupyterlab.py does; skips without them, except under CI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from mnist_tutorial.tools import lab

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_convnet.ipynb"
STROKES = json.loads((ROOT / "img" / "strokes.json").read_text())
CHROMIUM = lab.find_chromium()
pytestmark = pytest.mark.slow  # a browser, and notebook 05's convnet trained on a fifth of MNIST
TRAIN = """from mnist_tutorial.tools.recipes import CONVNET, train_as_notebook

convnet = train_as_notebook(CONVNET, SEED, x_train[:12_000], y_train[:12_000])"""

if CHROMIUM is None:
    message = f"the digit pad's browser test {lab.MISSING}"
    if os.environ.get("CI"):
        raise RuntimeError(f"{message}; under CI it must run, not skip")
    pytest.skip(message, allow_module_level=True)


def pad_notebook() -> nbformat.NotebookNode:
    """Notebook 05's setup cell, a cell that trains its convnet, and its pad cell, without outputs."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    setup = next(cell for cell in code if "SEED = " in cell.source)
    pad = next(cell for cell in code if "DigitPad(convnet)" in cell.source)
    cells = [nbformat.v4.new_code_cell(source) for source in (setup.source, TRAIN, pad.source)]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# The digit pad"), *cells],
                                    metadata=notebook.metadata)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The pad notebook open in JupyterLab with every cell run; yields (page, console errors)."""
    base = tmp_path_factory.mktemp("pad")
    (base / "served" / "notebooks").mkdir(parents=True)
    (base / "served" / "img").mkdir()
    (base / "served" / "img" / "strokes.json").write_text(json.dumps(STROKES))
    nbformat.write(pad_notebook(), base / "served" / "notebooks" / "pad.ipynb")
    with lab.jupyterlab(base / "served", base / "lab") as (url, token), lab.chromium(CHROMIUM) as browser:
        page = browser.new_page(viewport=lab.VIEWPORT)
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{url}/lab/tree/notebooks/pad.ipynb?token={token}&reset", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        page.wait_for_function(  # the kernel has started and the notebook is connected to it
            "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText ?? '')",
            timeout=90_000)
        page.locator(".lm-MenuBar-itemLabel").get_by_text("Run", exact=True).click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        page.wait_for_function(  # the first code cell is running or has run: [*] or [1]
            "() => /\\[[*0-9]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt')?.innerText ?? '')",
            timeout=30_000)
        try:
            page.wait_for_selector(".digit-pad-canvas", timeout=300_000)  # after training, which takes about 7 s
        except Exception:
            page.screenshot(path=str(base / "no_pad.png"))
            outputs = page.evaluate("() => [...document.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)")
            raise AssertionError(f"no pad after 300 s; the outputs: {outputs}; console errors: {errors}; "
                                 f"screenshot: {base / 'no_pad.png'}") from None
        yield page, errors
        page.close()


def reading(page) -> str:
    return page.locator(".digit-pad-message").inner_text()


def answered(page) -> int:
    return int(page.locator(".digit-pad").get_attribute("data-answered") or 0)


def wait_for_reading(page, after: int) -> str:
    """Wait until the kernel has answered a drawing sent after reading number ``after``, and return the pad's text."""
    page.wait_for_function(
        "after => { const pad = document.querySelector('.digit-pad');"
        " return Number(pad.dataset.answered) > after && pad.dataset.busy === 'false'; }", arg=after, timeout=30_000)
    return reading(page)


def draw(page, strokes: list) -> None:
    """Draw stroke paths (canvas pixels) with the mouse on the pad's canvas, scrolled into view first: the mouse
    draws only where the page shows the canvas, and where JupyterLab puts it depends on the cells above."""
    canvas = page.locator(".digit-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        (x, y), *rest = stroke
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.up()


def test_the_pad_shows_the_replayed_seven(page):
    page, errors = page
    page.wait_for_function("() => /^\\d \\(/.test(document.querySelector('.digit-pad-message').innerText)")
    assert reading(page).startswith("7 (")
    assert errors == []


@pytest.mark.parametrize("name", ["three", "four", "small_two", "zero"])
def test_a_digit_drawn_with_the_mouse_is_read(page, name):
    page, errors = page
    before = answered(page)
    page.locator(".digit-pad-clear").click()
    assert wait_for_reading(page, before) == "draw a digit"
    before = answered(page)
    draw(page, STROKES[name]["strokes"])
    text = wait_for_reading(page, before)
    assert text.startswith(f"{STROKES[name]['label']} ("), f"{name}: the pad says {text!r}"
    image = page.locator(".digit-pad-image").evaluate(
        "c => [...c.getContext('2d').getImageData(0, 0, 28, 28).data].filter((v, i) => i % 4 === 0 && v > 0).length")
    assert 40 < image < 400  # the 28x28 image the model was given shows the digit
    latency = float(page.locator(".digit-pad").get_attribute("data-latency"))
    print(f"{name}: read as {text}, {latency:.0f} ms from the end of the last stroke to the reading shown")
    assert 0 < latency < 10_000
    assert errors == []


def test_clear_says_draw_a_digit_and_a_dot_gets_no_guess(page):
    page, errors = page
    draw(page, STROKES["four"]["strokes"])
    before = answered(page)
    page.locator(".digit-pad-clear").click()
    assert wait_for_reading(page, before) == "draw a digit"
    before = answered(page)
    draw(page, [[[140, 140], [142, 141]]])
    assert wait_for_reading(page, before) == "draw a digit"
    assert page.locator(".digit-pad-guess").count() == 0  # no bar is marked as the guess
    assert errors == []
