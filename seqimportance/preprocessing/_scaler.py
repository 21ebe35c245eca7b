"""Per-feature standardisation of sequences, for pipelines before a sequence model."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.extmath import _incremental_mean_and_var
from sklearn.utils.validation import _check_feature_names, check_is_fitted

from ..core._layouts import DATA_FORMATS, to_channels_last
from ..core._validation import as_input_ndim, check_sequence_shape, check_sequences

__all__ = ["SequenceScaler"]

_FLOATS = (np.float64, np.float32)


class SequenceScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise each feature over all samples and timesteps of sequences.

    For input of shape ``(n_samples, n_timesteps, n_features)`` the mean and
    standard deviation of feature ``f`` are taken over all
    ``n_samples * n_timesteps`` values of ``X[:, :, f]``, and every value
    becomes ``(x - mean_[f]) / scale_[f]``: the sequence counterpart of
    :class:`~sklearn.preprocessing.StandardScaler`, which it equals on 2-D
    input. A 2-D array ``(n_samples, n_features)`` is read as one timestep
    per sample and given back 2-D. Sequences of any length can be transformed
    once fitted; only the number of features must match.

    Parameters
    ----------
    with_mean : bool, default=True
        Centre each feature on its mean.
    with_std : bool, default=True
        Divide each feature by its standard deviation (features of zero
        variance are left unscaled).
    copy : bool, default=True
        If False, try to transform float input in place.
    data_format : {"channels_last", "channels_first", "flattened"}, \
            default="channels_last"
        Layout of 3-D input: ``(n_samples, n_timesteps, n_features)`` or
        ``(n_samples, n_channels, n_timesteps)`` (aeon, sktime, tsai), in
        which case each channel is standardised and the output keeps that
        layout. ``"flattened"``: fitted on 3-D ``(n_samples, n_timesteps,
        n_features)``; :meth:`transform` and :meth:`inverse_transform` take
        such sequences or their flattened rows ``(n_samples, n_timesteps *
        n_features)`` and give flattened rows, timestep by timestep, for a
        model on flattened windows (Keras 3's ``keras.wrappers``, gradient
        boosting) in a :class:`~sklearn.pipeline.Pipeline`.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        Mean of each feature; None when ``with_mean=False`` and
        ``with_std=False``.
    var_ : ndarray of shape (n_features,) or None
        Variance of each feature; None when ``with_std=False``.
    scale_ : ndarray of shape (n_features,) or None
        Divisor of each feature (standard deviation, 1 where it is zero);
        None when ``with_std=False``.
    n_samples_seen_ : int
        Number of values per feature the statistics were computed from
        (``n_samples * n_timesteps``, summed over ``partial_fit`` calls).
    n_features_in_ : int
        Number of features (last axis) seen in fit.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for tabular data.
    SequenceModelClassifier, SequenceModelRegressor : Models that take the
        scaled sequences, e.g. in a :class:`~sklearn.pipeline.Pipeline`.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance import SequenceScaler
    >>> X = np.arange(24, dtype=float).reshape(2, 4, 3)
    >>> scaler = SequenceScaler().fit(X)
    >>> scaler.mean_
    array([10.5, 11.5, 12.5])
    >>> Xt = scaler.transform(X)
    >>> Xt.shape
    (2, 4, 3)
    >>> np.allclose(Xt.reshape(-1, 3).mean(axis=0), 0)
    True
    >>> np.allclose(scaler.inverse_transform(Xt), X)
    True
    """

    _parameter_constraints = {
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "copy": ["boolean"],
        "data_format": [StrOptions(set(DATA_FORMATS))],
    }

    def __init__(
        self, *, with_mean=True, with_std=True, copy=True, data_format="channels_last"
    ):
        self.with_mean = with_mean
        self.with_std = with_std
        self.copy = copy
        self.data_format = data_format

    def _reset(self):
        for name in ("mean_", "var_", "scale_", "n_samples_seen_"):
            if hasattr(self, name):
                delattr(self, name)

    def fit(self, X, y=None):
        """Compute the per-feature mean and standard deviation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences; a 2-D array is read as one timestep per sample.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            The fitted scaler.
        """
        self._reset()
        return self.partial_fit(X, y)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Update the per-feature mean and standard deviation with a batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            A batch of sequences; their length may differ between calls.
        y : None
            Ignored.

        Returns
        -------
        self : SequenceScaler
            The updated scaler.
        """
        first = not hasattr(self, "n_samples_seen_")
        _check_feature_names(self, X, reset=first)
        ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
        X = check_sequences(X, dtype=_FLOATS, estimator=self)
        X = to_channels_last(X, self.data_format)
        if self.data_format == "flattened":
            if first and ndim != 3:
                raise ValueError(
                    "SequenceScaler(data_format='flattened') is fitted on 3-D X "
                    "(n_samples, n_timesteps, n_features), which tells it the "
                    f"features; got {ndim}-D X of shape {X.shape[::2]}."
                )
            X = self._unflatten(X, ndim)
        if first:
            self.n_features_in_ = X.shape[2]
        else:
            check_sequence_shape(
                X, None, self.n_features_in_, fitted_on=type(self).__name__
            )
        values = X.reshape(-1, X.shape[2])
        n_features = values.shape[1]

        if not (self.with_mean or self.with_std):
            self.mean_ = None
            self.var_ = None
            self.n_samples_seen_ = getattr(self, "n_samples_seen_", 0) + values.shape[0]
            self.scale_ = None
            return self

        if first:
            self.mean_ = np.zeros(n_features, dtype=np.float64)
            self.var_ = np.zeros(n_features) if self.with_std else None
            self.n_samples_seen_ = 0
        last_var = self.var_ if self.with_std else None
        self.mean_, var, count = _incremental_mean_and_var(
            values,
            last_mean=self.mean_,
            last_variance=last_var,
            last_sample_count=np.full(n_features, self.n_samples_seen_, dtype=np.int64),
        )
        self.n_samples_seen_ = int(count[0])
        if self.with_std:
            self.var_ = var
            scale = np.sqrt(var)
            scale[_is_constant(var, self.mean_, self.n_samples_seen_)] = 1.0
            self.scale_ = scale
        else:
            self.var_ = None
            self.scale_ = None
        return self

    def _unflatten(self, X3, ndim):
        """Flattened rows ``(n, 1, T * F)`` as ``(n, T, F)``; 3-D X as it is."""
        if ndim == 3:
            return X3
        width, n_features = X3.shape[2], self.n_features_in_
        if width % n_features:
            raise ValueError(
                f"X has {width} columns, which are not flattened rows of "
                f"{n_features} features (n_timesteps * {n_features} columns) as "
                f"{type(self).__name__} was fitted on."
            )
        return X3.reshape(len(X3), width // n_features, n_features)

    def _output(self, X3, ndim):
        """``X3`` (channels-last view) back in the caller's layout."""
        if self.data_format == "flattened":
            return X3.reshape(len(X3), -1)
        return as_input_ndim(to_channels_last(X3, self.data_format), ndim)

    def _checked(self, X, copy):
        check_is_fitted(self, "n_samples_seen_")
        _check_feature_names(self, X, reset=False)
        # The caller's layout, given back on output (2-D in, 2-D out).
        ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
        copy = self.copy if copy is None else copy
        X3 = check_sequences(X, dtype=_FLOATS, copy=copy, estimator=self)
        # A channels-first array is worked on through a channels-last view.
        X3 = to_channels_last(X3, self.data_format)
        if self.data_format == "flattened":
            X3 = self._unflatten(X3, ndim)
        check_sequence_shape(
            X3, None, self.n_features_in_, fitted_on=type(self).__name__
        )
        return X3, ndim

    def transform(self, X, copy=None):
        """Standardise ``X`` with the statistics from fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences with the number of features seen in fit.
        copy : bool, default=None
            Copy the input; None uses ``self.copy``.

        Returns
        -------
        X_tr : ndarray of the shape of ``X``
            Standardised sequences, float32 for float32 input, else float64;
            flattened rows ``(n_samples, n_timesteps * n_features)`` for
            ``data_format="flattened"``.
        """
        X3, ndim = self._checked(X, copy)
        if self.with_mean:
            X3 -= self.mean_.astype(X3.dtype, copy=False)
        if self.with_std:
            X3 /= self.scale_.astype(X3.dtype, copy=False)
        return self._output(X3, ndim)

    def inverse_transform(self, X, copy=None):
        """Undo :meth:`transform`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Standardised sequences.
        copy : bool, default=None
            Copy the input; None uses ``self.copy``.

        Returns
        -------
        X_original : ndarray of the shape of ``X``
            Sequences on the original scale.
        """
        X3, ndim = self._checked(X, copy)
        if self.with_std:
            X3 *= self.scale_.astype(X3.dtype, copy=False)
        if self.with_mean:
            X3 += self.mean_.astype(X3.dtype, copy=False)
        return self._output(X3, ndim)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _is_constant(var, mean, n_samples):
    """Variance at the level of its rounding error (as scikit-learn's scalers)."""
    eps = np.finfo(np.float64).eps
    upper_bound = n_samples * eps * var + (n_samples * mean * eps) ** 2
    return var <= upper_bound
