"""Sphinx configuration of the book, the committed notebooks as a static site: ``make book`` builds it.

``python -m mnist_tutorial.tools.book`` lays the sources out (book/index.md, README.md,
benchmarks/README.md, notebooks/ and img/, as in the checkout, so every relative link
stays as it is) and runs Sphinx on them with this configuration, warnings as errors.
The notebooks are read as committed: nothing is executed.
"""

project = "MNIST with Keras 3"
author = "the mnist-tutorial authors"
copyright = "2026, the mnist-tutorial authors"  # fixed: a build never stamps the year it ran

extensions = ["myst_nb", "mnist_tutorial.tools.book"]
root_doc = "index"
exclude_patterns = ["_build"]

# myst-nb: the committed outputs, never executed; no JavaScript from a CDN for widgets.
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_merge_streams = True
# MyST: '../README.md#results' is a link to the README page's "Results" heading, as on a code host;
# html_image turns the README's <img> tags into images Sphinx copies into the site.
myst_heading_anchors = 4
myst_enable_extensions = ["html_image"]

html_theme = "sphinx_book_theme"
html_title = "MNIST with Keras 3"
html_favicon = "favicon.svg"  # a handwritten 7; without one, the browser's request for /favicon.ico fails
html_context = {"default_mode": "auto"}  # the reader's light or dark; unset, the theme logs an error
html_copy_source = True  # the download button offers each notebook as committed (_sources/)
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navbar_persistent": [],  # the search field is in the sidebar; unset, pydata-sphinx-theme 0.20 puts a second one above
}
