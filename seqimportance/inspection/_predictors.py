"""Predictors: predictions for a whole batch of stacked sequences in one call.

A predictor is a callable ``predictor(X_batch_3d, method) -> ndarray`` with a
``methods`` attribute, the frozenset of prediction methods the estimator
has. Its output is identical to
``getattr(estimator, method)(as_input_ndim(X_batch_3d, input_ndim))``.

Estimators backed by a Keras model (the package's wrappers, scikeras's own
wrappers, Pipelines ending in one; see :mod:`seqimportance.keras._inference`) get a
compiled predictor from :mod:`seqimportance.keras._predictor`, imported only
when Keras is already loaded; every other estimator is called through its
public methods, without importing TensorFlow.
"""

import sys

from ..core._validation import to_estimator_input
from ._cached_scoring import PREDICTION_METHODS

__all__ = [
    "GenericPredictor",
    "make_predictor",
]



class GenericPredictor:
    """Predictor that calls an estimator's public prediction methods.

    Parameters
    ----------
    estimator : fitted estimator
    input_ndim : {2, 3}
        Number of dimensions of the input the estimator takes.
    feature_names : ndarray of str or None, default=None
        Column names for 2-D input fitted on a DataFrame.
    """

    def __init__(self, estimator, input_ndim, feature_names=None):
        self.estimator = estimator
        self.input_ndim = input_ndim
        self.feature_names = feature_names
        self.methods = frozenset(m for m in PREDICTION_METHODS if hasattr(estimator, m))

    def __call__(self, X_batch_3d, method):
        if method not in self.methods:
            raise AttributeError(
                f"{type(self.estimator).__name__} has no method {method!r}; it has "
                f"{sorted(self.methods)}."
            )
        X = to_estimator_input(X_batch_3d, self.input_ndim, self.feature_names)
        return getattr(self.estimator, method)(X)

    def __repr__(self):
        name = type(self.estimator).__name__
        return f"GenericPredictor({name}, input_ndim={self.input_ndim})"


def make_predictor(estimator, input_ndim, *, feature_names=None):
    """Return the fastest predictor available for ``estimator``.

    Parameters
    ----------
    estimator : fitted estimator
    input_ndim : {2, 3}
        Number of dimensions of the input the estimator takes.
    feature_names : ndarray of str or None, default=None
        Column names for 2-D input fitted on a DataFrame (generic predictor).

    Returns
    -------
    predictor : callable ``(X_batch_3d, method) -> ndarray`` with ``methods``
    """
    # Without Keras loaded there is no Keras model to compile; DataFrame
    # input keeps its column names through the public methods.
    if "keras" in sys.modules and feature_names is None:
        from ..keras._predictor import make_keras_predictor

        predictor = make_keras_predictor(estimator, input_ndim=input_ndim)
        if predictor is not None:
            return predictor
    return GenericPredictor(estimator, input_ndim, feature_names)
