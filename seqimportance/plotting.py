"""Plots of sequence importances (matplotlib, imported on first use).

Every function takes an ``ax=`` and returns the Axes it drew on, in the
matplotlib way, so plots compose into the user's own figures. Each accepts a
fitted :class:`~seqimportance.SequencePermutationImportance` (an unfitted one
raises :class:`~sklearn.exceptions.NotFittedError`), and also plain numbers:
eli5's ``PermutationImportance``, the ``Bunch`` returned by
:func:`sklearn.inspection.permutation_importance`, or arrays.

Install matplotlib with ``pip install "seqimportance[plot]"``. The functions
live in the display layer (``seqimportance.display``); this module is their
public home.
"""

from .display._correlation_plot import plot_feature_correlation
from .display._plots import (
    plot_importance_distribution,
    plot_importance_heatmap,
    plot_importances,
    plot_timestep_importances,
)

__all__ = [
    "plot_importances",
    "plot_importance_distribution",
    "plot_timestep_importances",
    "plot_importance_heatmap",
    "plot_feature_correlation",
]
