"""Sphinx configuration for the seqimportance documentation.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

sys.path.insert(0, os.path.abspath(".."))

import seqimportance  # noqa: E402

project = "seqimportance"
author = "The seqimportance developers"
copyright = "2026, The seqimportance developers"
version = release = seqimportance.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_static_path = ["_static"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Which inputs matter to a sequence model?",
    "fixed_sidebar": True,
}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"

# numpydoc lists no class members itself: the autosummary class template does
# that, and listing them twice gives duplicate-toc warnings.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No intersphinx: the build must not need the network.


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Skip scikit-learn's generated ``set_*_request`` methods.

    They document metadata routing with references into scikit-learn's own
    glossary, which do not resolve here.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
