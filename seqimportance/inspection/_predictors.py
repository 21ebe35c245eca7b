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

import importlib
import sys

import numpy as np

from ..core._validation import as_input_ndim
from ._cached_scoring import PREDICTION_METHODS

__all__ = [
    "GenericPredictor",
    "make_predictor",
    "to_estimator_input",
]



def to_estimator_input(X_3d, input_ndim, feature_names=None):
    """Give sequences back in the caller's layout.

    A 2-D caller gets ``(n, F)`` again, as a DataFrame with its columns when it
    fitted on a DataFrame (``feature_names``), so that the estimator sees the
    same kind of input as in fit.
    """
    X = as_input_ndim(X_3d, input_ndim)
    if feature_names is not None and input_ndim == 2:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names, copy=False)
    return X


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
        try:
            module = importlib.import_module("seqimportance.keras._predictor")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}._keras_predictor":
                raise
        else:
            predictor = module.make_keras_predictor(estimator, input_ndim=input_ndim)
            if predictor is not None:
                return predictor
    return GenericPredictor(estimator, input_ndim, feature_names)


def flat_predictions(predictions, n_rows):
    """Predictions as a float array of shape (n_rows, n_outputs).

    Lists of per-output arrays (multi-output ``predict_proba``) are stacked
    along the outputs.
    """
    if isinstance(predictions, list):
        parts = [np.asarray(p).reshape(n_rows, -1) for p in predictions]
        predictions = np.concatenate(parts, axis=1)
    predictions = np.asarray(predictions)
    if not (np.issubdtype(predictions.dtype, np.number) or predictions.dtype == bool):
        raise TypeError(
            "effect='rms' and effect='mae' measure numeric changes of predictions, "
            f"but the predictions have dtype {predictions.dtype}. Use effect='score', "
            "or an estimator with predict_proba or decision_function."
        )
    return predictions.reshape(n_rows, -1).astype(np.float64, copy=False)
