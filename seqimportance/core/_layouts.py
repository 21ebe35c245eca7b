"""Layouts of 3-D input: channels-last inside, the caller's layout at the edges.

The package works on ``(n_samples, n_timesteps, n_features)`` arrays
(Keras's ``"channels_last"``). Time-series libraries such as aeon, sktime and
tsai use ``(n_samples, n_channels, n_timesteps)`` (``"channels_first"``).
Such input is transposed once when it enters (:func:`to_channels_last`), and
an estimator fitted on it is wrapped once (:class:`ChannelsFirstEstimator`)
so that every batch it receives is transposed back: the perturbation and
evaluation code never sees channels-first data.
"""

from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if

__all__ = [
    "DATA_FORMATS",
    "ChannelsFirstEstimator",
    "for_evaluation",
    "to_channels_last",
]

DATA_FORMATS = ("channels_last", "channels_first")


def to_channels_last(X_3d, data_format):
    """``X_3d`` (validated, 3-D) as ``(n_samples, n_timesteps, n_features)``.

    2-D caller input was read as ``(n, 1, F)`` already and is not affected:
    one timestep per sample whatever the layout.
    """
    if data_format == "channels_first":
        return X_3d.transpose(0, 2, 1)
    return X_3d


def _swap(X):
    return X.transpose(0, 2, 1) if getattr(X, "ndim", 0) == 3 else X


def _inner_has(name):
    def check(self):
        return hasattr(self.estimator, name)

    return check


class ChannelsFirstEstimator:
    """A fitted estimator on channels-first input, called with channels-last input.

    Every method transposes its 3-D input ``(n, T, C)`` to ``(n, C, T)`` and
    calls the same method of ``estimator``; tags and ``classes_`` are the
    estimator's, so scikit-learn's scorers treat it as the estimator itself.

    Parameters
    ----------
    estimator : fitted estimator
        Fitted on ``(n_samples, n_channels, n_timesteps)`` input.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y=None, **fit_params):
        self.estimator.fit(_swap(X), y, **fit_params)
        return self

    @available_if(_inner_has("predict"))
    def predict(self, X, **kwargs):
        return self.estimator.predict(_swap(X), **kwargs)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, **kwargs):
        return self.estimator.predict_proba(_swap(X), **kwargs)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X, **kwargs):
        return self.estimator.predict_log_proba(_swap(X), **kwargs)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X, **kwargs):
        return self.estimator.decision_function(_swap(X), **kwargs)

    @available_if(_inner_has("score"))
    def score(self, X, y=None, **kwargs):
        return self.estimator.score(_swap(X), y, **kwargs)

    @property
    def classes_(self):
        return self.estimator.classes_

    def __sklearn_tags__(self):
        return get_tags(self.estimator)

    def __sklearn_is_fitted__(self):
        return True

    def __repr__(self):
        return f"ChannelsFirstEstimator({self.estimator!r})"


def for_evaluation(estimator, data_format):
    """The fitted estimator as the evaluation code calls it (channels-last)."""
    if data_format == "channels_first":
        return ChannelsFirstEstimator(estimator)
    return estimator
