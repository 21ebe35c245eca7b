"""Scores of cached predictions: a proxy estimator and the fold's scorer.

A scikit-learn scorer calls ``estimator.predict(X)`` (or ``predict_proba``,
``decision_function``); :func:`proxy_class` builds a small stand-in whose
methods return the predictions that were already computed for a chunk, as
scikit-learn caches predictions for multi-metric scoring, so the score of a
perturbed copy costs no model call. :func:`make_fold_scorer` turns
``scoring`` into the scorer of one fold (:class:`EstimatorScore` for
``scoring=None``: the estimator's own ``score``, on cached predictions where
that score is a function of ``predict``).
"""

import functools

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

__all__ = [
    "PREDICTION_METHODS",
    "CachedPredictionProxy",
    "EstimatorScore",
    "flat_predictions",
    "make_fold_scorer",
    "proxy_class",
]

# scikit-learn's prediction methods, in the order a scorer may ask for them.
PREDICTION_METHODS = (
    "predict",
    "predict_proba",
    "decision_function",
    "predict_log_proba",
)


class CachedPredictionProxy:
    """Stand-in for a fitted estimator, answering from cached predictions.

    Called with the exact ``X`` object it was made for, a prediction method
    returns the cached predictions of its job; with any other input it calls
    the real estimator. Every other attribute (``classes_``,
    ``__sklearn_tags__``, ...) is the real estimator's, so ``is_classifier``,
    ``pos_label`` handling and ``_get_response_values`` behave as with the
    real estimator. Only the prediction methods of the real estimator exist
    (see :func:`proxy_class`), so scorers pick the same response method.
    """

    def __init__(self, estimator, predictions, job, X):
        self._proxy_estimator = estimator
        self._proxy_predictions = predictions
        self._proxy_job = job
        self._proxy_X = X

    def __getattr__(self, name):
        # Prediction methods exist only on the class (see proxy_class); the
        # _proxy_ guard keeps copy/pickle from recursing before __init__.
        if name.startswith("_proxy_") or name in PREDICTION_METHODS:
            raise AttributeError(name)
        return getattr(self._proxy_estimator, name)

    def __sklearn_is_fitted__(self):
        return True

    def __repr__(self):
        return f"CachedPredictionProxy({self._proxy_estimator!r})"


def _cached_method(name):
    def method(self, X, *args, **kwargs):
        if X is self._proxy_X and not args and not kwargs:
            return self._proxy_predictions.job(name, self._proxy_job)
        return getattr(self._proxy_estimator, name)(X, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"CachedPredictionProxy.{name}"
    return method


@functools.cache
def proxy_class(methods):
    """Subclass of :class:`CachedPredictionProxy` with exactly ``methods``."""
    namespace = {m: _cached_method(m) for m in PREDICTION_METHODS if m in methods}
    return type("CachedPredictionProxy", (CachedPredictionProxy,), namespace)


# -------------------------------------------------------------------- scoring
def _is_predict_based_score(func):
    """Whether ``func(self, X, y)`` only uses ``self.predict(X)`` to score.

    Calling such a function with a proxy as ``self`` scores the cached
    predictions with exactly the estimator's own ``score`` semantics.
    """
    if func is None:
        return False
    if func in (ClassifierMixin.score, RegressorMixin.score):
        return True
    # scikeras's BaseWrapper.score: validates y, then scorer(y, self.predict(X)).
    return (
        getattr(func, "__module__", None) == "scikeras.wrappers"
        and getattr(func, "__qualname__", None) == "BaseWrapper.score"
    )


class EstimatorScore:
    """``scoring=None``: the estimator's own ``score``, batched where safe.

    When the estimator's ``score`` is known to score ``self.predict(X)``
    (sklearn's classifier and regressor mixins, scikeras's wrappers, and a
    Pipeline whose final step has such a ``score``), it is called with the
    proxy as ``self`` so that it scores cached predictions; otherwise
    ``estimator.score(X, y)`` is called on the real estimator for each job.
    """

    def __init__(self, estimator):
        self.func = None
        self.final_step = False
        func = getattr(getattr(estimator, "score", None), "__func__", None)
        if _is_predict_based_score(func):
            self.func = func
        elif (
            getattr(func, "__qualname__", None) == "Pipeline.score"
            and getattr(func, "__module__", None) == "sklearn.pipeline"
        ):
            final = estimator.steps[-1][1]
            final_func = getattr(getattr(final, "score", None), "__func__", None)
            if _is_predict_based_score(final_func):
                # Pipeline.score(X, y) == final.score(transform(X), y), which
                # scores final.predict(transform(X)) == pipeline.predict(X).
                self.func = final_func
                self.final_step = True

    def __call__(self, estimator, X, y):
        if self.func is not None and isinstance(estimator, CachedPredictionProxy):
            if self.final_step:
                estimator = type(estimator)(
                    estimator._proxy_estimator.steps[-1][1],
                    estimator._proxy_predictions,
                    estimator._proxy_job,
                    estimator._proxy_X,
                )
            return self.func(estimator, X, y)
        return estimator.score(X, y)


def make_fold_scorer(estimator, scoring):
    """The scorer for ``effect="score"``: sklearn's for str/callable ``scoring``."""
    from sklearn.metrics import check_scoring

    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(
                "scoring=None uses the estimator's score method, but "
                f"{type(estimator).__name__} has none; pass scoring (a scorer name "
                "or callable) or choose effect='rms' or effect='mae'."
            )
        return EstimatorScore(estimator)
    return check_scoring(estimator, scoring=scoring)


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
