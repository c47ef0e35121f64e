"""Sphinx configuration for the pytensor_optim documentation."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

project = "pytensor_optim"
author = "The pytensor_optim developers"
copyright = "pytensor_optim developers"

import pytensor_optim  # noqa: E402

version = release = pytensor_optim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "numpydoc",
]

# Documentation is built without network access: no intersphinx inventories.
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
