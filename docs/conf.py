"""Sphinx configuration for the pytensor_optim documentation."""

import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

project = "pytensor_optim"
author = "The pytensor_optim developers"
copyright = "pytensor_optim developers"

import pytensor_optim  # noqa: E402

version = release = pytensor_optim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    # MathJax 3 shipped with the pages (_static/mathjax), not loaded from a
    # CDN: the math renders offline, from the built folder or a file:// URL
    "sphinx-mathjax-offline",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    # intersphinx_mapping with inventories written at build time, so that
    # links to PyTensor, NumPy, SciPy, Python and JAX need no network
    "local_inventories",
    # the figures, drawn from the package at build time (docs/plots/)
    "matplotlib.sphinxext.plot_directive",
    "numpydoc",
]

plot_formats = [("png", 110)]
plot_html_show_formats = False

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"

# ``sphinx-build -b doctest docs docs/_build/doctest`` runs the examples of
# these pages and of the docstrings; the docstrings' examples use the names
# of their own module, which the doctest builder does not provide.
doctest_global_setup = "from pytensor_optim import Status"

templates_path = []
exclude_patterns = ["_build"]
master_doc = "index"

html_theme = "alabaster"
html_theme_options = {
    "description": "Optimization algorithms for PyTensor",
    "fixed_sidebar": True,
}
html_static_path = []


def _redraw_figures(app, env, added, changed, removed):
    """Draw the figures again on every build, from the package as it is now.

    Sphinx does not know that a figure depends on the package, and the plot
    directive redraws only when its script is newer than the image: remove
    the images and read the pages with figures again.
    """
    shutil.rmtree(Path(app.doctreedir).parent / "plot_directive", ignore_errors=True)
    return [
        docname
        for docname in env.found_docs
        if ".. plot::" in Path(env.doc2path(docname)).read_text(encoding="utf-8")
    ]


def setup(app):
    app.connect("env-get-outdated", _redraw_figures)
