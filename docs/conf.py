"""Sphinx configuration for the dcprune documentation.

Build from the repository root with dcprune importable (installed, or ``PYTHONPATH=.``)::

    python -m sphinx -W --keep-going -b html docs /tmp/docs_html

Nothing is added to ``sys.path`` here: autodoc documents whichever ``dcprune`` the build's
Python imports.
"""

import dcprune

project = "dcprune"
author = "dcprune authors"
copyright = "dcprune authors"
release = dcprune.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

# Docstrings are prose with numpy-style sections where they have sections at all.
napoleon_google_docstring = False
napoleon_numpy_docstring = True

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "description"

exclude_patterns = ["_build"]
templates_path = []
html_static_path = []
html_theme = "alabaster"
