"""Sphinx configuration for the dcprune documentation.

Build from the repository root with dcprune importable (installed, or ``PYTHONPATH=.``)::

    python -m sphinx -W --keep-going -b html docs /tmp/docs_html
    python -m sphinx -W --keep-going -b doctest docs /tmp/docs_doctest   # run the tutorial

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
    "sphinx.ext.doctest",
]

# ``python -m sphinx -b doctest docs OUT`` runs the ``.. doctest::`` blocks of the tutorial
# (tests/test_docs.py does). Docstring examples are run by pytest (--doctest-modules), not here.
doctest_test_doctest_blocks = ""
# DCPRUNE_DOCS_QUICK=1 skips the blocks that run Monte Carlo (``:skipif: quick_docs``), which
# compile Numba kernels on first use.
doctest_global_setup = """
import os
quick_docs = os.environ.get("DCPRUNE_DOCS_QUICK") == "1"
"""

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


def _same_text(lines, doc):
    return " ".join("\n".join(lines).split()) == " ".join((doc or "").split())


def _drop_builtin_docstrings(app, what, name, obj, options, lines):
    # A registry (a dict or tuple) has no docstring of its own; autodoc would print the
    # docstring of dict or tuple instead. api.rst gives each registry its description.
    if what in ("data", "attribute") and type(obj) in (dict, tuple, list) and _same_text(lines, type(obj).__doc__):
        lines.clear()


# Attribute, property and data docstrings here are one-paragraph prose, never numpy sections.
# Napoleon would read a first line "The lower of the two: what ..." as "type: description"
# (Google's inline attribute type), so their text is restored after napoleon has run.
_PROSE = ("attribute", "property", "data")
_before_napoleon = {}


def _keep_prose(app, what, name, obj, options, lines):
    if what in _PROSE:
        _before_napoleon[name] = list(lines)


def _restore_prose(app, what, name, obj, options, lines):
    if what in _PROSE and name in _before_napoleon:
        lines[:] = _before_napoleon.pop(name)


def setup(app):
    # napoleon processes docstrings at the default priority, 500
    app.connect("autodoc-process-docstring", _keep_prose, priority=400)
    app.connect("autodoc-process-docstring", _restore_prose, priority=600)
    app.connect("autodoc-process-docstring", _drop_builtin_docstrings, priority=700)
