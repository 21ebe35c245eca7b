"""The display layer: the eli5 explanation and the matplotlib plots.

It reads fitted importances (``feature_importances_``, ``importances_``, ...)
and imports no Keras; the public plots are :mod:`seqimportance.plotting`.
"""
