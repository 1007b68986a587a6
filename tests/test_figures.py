"""The img/ figures: the README shows only images that exist, and the command regenerates them all."""

import re
from pathlib import Path

import matplotlib.image
import pytest

from mnist_tutorial.tools.figures import FIGURES, SCREENSHOT, SCREENSHOT_OF, make_figures

ROOT = Path(__file__).resolve().parents[1]


def test_every_image_the_readme_references_exists():
    readme = (ROOT / "README.md").read_text()
    references = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme) + re.findall(r'<img src="([^"]+)"', readme)
    assert len(references) >= 5
    for reference in references:
        assert (ROOT / reference).is_file(), f"README shows {reference}, which does not exist"
    generated = {f"img/{name}" for name in (*FIGURES, SCREENSHOT)}
    assert generated <= set(references), "a generated figure is not shown in the README"
    assert (ROOT / "notebooks" / SCREENSHOT_OF).is_file()


@pytest.mark.slow
def test_the_figures_command_regenerates_every_figure(mnist, tmp_path):
    photo = ROOT / "img" / "photos" / "digit_3_chalkboard.jpg"
    written = make_figures(tmp_path, mnist, photo, epochs=1, conv_epochs=1, limit=3000)
    assert [path.name for path in written] == list(FIGURES)
    for path in written:
        height, width = matplotlib.image.imread(path).shape[:2]
        assert height > 100 and width > 100, path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIGURES)
