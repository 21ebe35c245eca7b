"""Layouts of 3-D input: channels-last inside, the estimator's layout at the edges.

The package works on ``(n_samples, n_timesteps, n_features)`` arrays
(Keras's ``"channels_last"``). Time-series libraries such as aeon, sktime and
tsai use ``(n_samples, n_channels, n_timesteps)`` (``"channels_first"``).
Such input is transposed once when it enters (:func:`to_channels_last`), and
an estimator fitted on it is wrapped once (:class:`ChannelsFirstEstimator`)
so that every batch it receives is transposed back: the perturbation and
evaluation code never sees channels-first data.

Models on flattened windows (``"flattened"``: Keras 3's own scikit-learn
wrappers, which take 2-D input only, with a ``Reshape`` as first layer;
gradient boosting or linear models on lag windows) get each sequence as one
row ``X.reshape(n, n_timesteps * n_features)``, timestep by timestep. The
caller gives 3-D ``X``; the estimator is fitted on the flattened rows
(:func:`estimator_input`) and wrapped (:class:`FlattenedEstimator`) so that
every 3-D batch is flattened on its way in.
"""

import numpy as np
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if

__all__ = [
    "DATA_FORMATS",
    "ChannelsFirstEstimator",
    "FlattenedEstimator",
    "LayoutEstimator",
    "estimator_input",
    "to_estimator_layout",
    "for_evaluation",
    "to_channels_last",
]

DATA_FORMATS = ("channels_last", "channels_first", "flattened")


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


def _flatten(X):
    return X.reshape(X.shape[0], -1) if getattr(X, "ndim", 0) == 3 else X


def to_estimator_layout(X, data_format):
    """``X`` as given by the caller, in the estimator's layout.

    Only ``"flattened"`` differs: 3-D ``X`` becomes ``(n, T * F)`` rows.
    """
    if data_format == "flattened" and np.ndim(X) == 3:
        return np.asarray(X).reshape(len(X), -1)
    return X


def estimator_input(X, X_given, input_ndim, data_format):
    """What the estimator is fitted on, for ``data_format``.

    Parameters
    ----------
    X : array-like
        The data as given to ``fit``.
    X_given : ndarray of shape (n_samples, ...)
        ``X`` validated as 3-D, in the caller's layout.
    input_ndim : {2, 3}
        Number of dimensions of ``X``.
    data_format : str

    Returns
    -------
    X_fit, X_fit_3d, fit_ndim
        The estimator's training input, the same as 3-D (``(n, 1, T * F)``
        for flattened rows) and its number of dimensions.

    Raises
    ------
    ValueError
        For ``"flattened"`` with 2-D ``X``: the timesteps cannot be recovered.
    """
    if data_format != "flattened":
        return X, X_given, input_ndim
    if input_ndim != 3:
        raise ValueError(
            "data_format='flattened' takes 3-D X of shape (n_samples, "
            "n_timesteps, n_features) and gives the estimator "
            "X.reshape(n_samples, n_timesteps * n_features); got 2-D X of shape "
            f"{X_given.shape[::2]}. Reshape the flattened rows to 3-D first "
            "(X.reshape(n_samples, n_timesteps, n_features))."
        )
    X_flat = _flatten(X_given)
    return X_flat, X_flat[:, None, :], 2


def _inner_has(name):
    def check(self):
        return hasattr(self.estimator, name)

    return check


class LayoutEstimator:
    """A fitted estimator on another layout, called with channels-last input.

    Every method converts its 3-D input with :meth:`to_estimator` and calls
    the same method of ``estimator``; tags and ``classes_`` are the
    estimator's, so scikit-learn's scorers treat it as the estimator itself.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    @staticmethod
    def to_estimator(X):
        """A channels-last batch in the layout of the estimator."""
        raise NotImplementedError

    def fit(self, X, y=None, **fit_params):
        self.estimator.fit(self.to_estimator(X), y, **fit_params)
        return self

    @available_if(_inner_has("predict"))
    def predict(self, X, **kwargs):
        return self.estimator.predict(self.to_estimator(X), **kwargs)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, **kwargs):
        return self.estimator.predict_proba(self.to_estimator(X), **kwargs)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X, **kwargs):
        return self.estimator.predict_log_proba(self.to_estimator(X), **kwargs)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X, **kwargs):
        return self.estimator.decision_function(self.to_estimator(X), **kwargs)

    @available_if(_inner_has("score"))
    def score(self, X, y=None, **kwargs):
        return self.estimator.score(self.to_estimator(X), y, **kwargs)

    @property
    def classes_(self):
        return self.estimator.classes_

    def __sklearn_tags__(self):
        return get_tags(self.estimator)

    def __sklearn_is_fitted__(self):
        return True

    def __repr__(self):
        return f"{type(self).__name__}({self.estimator!r})"


class ChannelsFirstEstimator(LayoutEstimator):
    """A fitted estimator on channels-first input, called with channels-last input.

    Every method transposes its 3-D input ``(n, T, C)`` to ``(n, C, T)`` and
    calls the same method of ``estimator``.

    Parameters
    ----------
    estimator : fitted estimator
        Fitted on ``(n_samples, n_channels, n_timesteps)`` input.
    """

    to_estimator = staticmethod(_swap)


class FlattenedEstimator(LayoutEstimator):
    """A fitted estimator on flattened windows, called with 3-D input.

    Every method reshapes its 3-D input ``(n, T, F)`` to ``(n, T * F)``
    (row-major: timestep by timestep) and calls the same method of
    ``estimator``.

    Parameters
    ----------
    estimator : fitted estimator
        Fitted on ``X.reshape(n_samples, n_timesteps * n_features)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqimportance.core._layouts import FlattenedEstimator
    >>> X = np.arange(24.0).reshape(4, 3, 2)
    >>> reg = LinearRegression().fit(X.reshape(4, 6), X[:, -1, 0])
    >>> FlattenedEstimator(reg).predict(X).round(6).tolist()
    [4.0, 10.0, 16.0, 22.0]
    """

    to_estimator = staticmethod(_flatten)


def for_evaluation(estimator, data_format):
    """The fitted estimator as the evaluation code calls it (channels-last)."""
    if data_format == "channels_first":
        return ChannelsFirstEstimator(estimator)
    if data_format == "flattened":
        return FlattenedEstimator(estimator)
    return estimator
