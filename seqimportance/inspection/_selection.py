"""SequenceSelectFromModel: scikit-learn's SelectFromModel for sequences.

Features are the last axis of 3-D input ``(n_samples, n_timesteps,
n_features)`` (the columns of 2-D input); a selected feature keeps all its
timesteps. With a :class:`~seqimportance.SequencePermutationImportance`
whose ``cv`` splits the training data, the importances that decide come from
held-out parts of that data, and the threshold can be their significance.
"""

import warnings
from copy import deepcopy
from numbers import Integral, Real
from operator import attrgetter

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectorMixin
from sklearn.feature_selection._from_model import _calculate_threshold
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils._tags import get_tags
from sklearn.utils.validation import _check_feature_names, check_is_fitted, check_scalar

from ..core._validation import check_sequences

__all__ = ["SequenceSelectFromModel"]

_THRESHOLDS = (
    "a float, 'mean', 'median', 'k*mean', 'k*median', 'significant' or "
    "'significant:ALPHA' (p-value < ALPHA)"
)


def _ndim(X):
    return X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim


def _significance_level(threshold):
    """ALPHA of ``"significant"`` / ``"significant:ALPHA"``, else None."""
    if not isinstance(threshold, str) or not threshold.startswith("significant"):
        return None
    rest = threshold[len("significant"):].strip()
    if not rest:
        return 0.05
    try:
        alpha = float(rest.lstrip(":").strip()) if rest.startswith(":") else None
    except ValueError:
        alpha = None
    if alpha is None or not 0 < alpha <= 1:
        raise ValueError(
            f"threshold={threshold!r}: the significance form is 'significant' "
            "(p-value < 0.05) or 'significant:ALPHA' with 0 < ALPHA <= 1, e.g. "
            "'significant:0.01'."
        )
    return alpha


class SequenceSelectFromModel(MetaEstimatorMixin, SelectorMixin, BaseEstimator):
    """Select features of sequences by importance, as ``SelectFromModel`` does.

    Keeps the features (last axis of 3-D input, columns of 2-D input) whose
    importance passes ``threshold``, at every timestep. The importances come
    from ``estimator``: typically a
    :class:`~seqimportance.SequencePermutationImportance`, whose internal
    ``cv`` computes them on held-out parts of the training data, which
    scikit-learn's ``SelectFromModel(prefit=True)`` and ``RFE`` cannot do;
    or any estimator with ``feature_importances_`` or ``coef_``. In a
    :class:`~sklearn.pipeline.Pipeline`, ``threshold`` and ``max_features``
    can be searched with :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        The estimator that gives the importances: fitted here on
        ``(X, y)`` (a clone), or already fitted with ``prefit=True``.
    threshold : str, float or None, default=None
        Features whose importance is greater than or equal to the threshold
        are kept:

        - a float;
        - ``"mean"``, ``"median"``, or a multiple such as ``"1.25*mean"``,
          of the importances;
        - ``"significant"``: features whose p-value (the estimator's
          ``pvalues_``, e.g. of a ``SequencePermutationImportance``) is below
          0.05; ``"significant:0.01"`` sets another level;
        - None: ``"mean"``, or ``1e-5`` for an L1-penalised estimator, as in
          scikit-learn.
    max_features : int, callable or None, default=None
        Keep at most this many features, the most important first (after
        the threshold); a callable receives ``X`` and returns the number.
        To select on ``max_features`` alone, set ``threshold=-np.inf``.
    prefit : bool, default=False
        Whether ``estimator`` is already fitted; :meth:`fit` then only checks
        it and keeps a deep copy, and does not fit it again.
    importance_getter : str or callable, default="auto"
        ``"auto"`` reads ``coef_`` (absolute values, summed over all axes
        but the last) or else ``feature_importances_`` (as it is: a negative
        permutation importance means the feature hurts, so it ranks last).
        A string is an attribute path (``"named_steps.model.coef_"``); a
        callable receives the fitted estimator. Either must give one value
        per feature.

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator (a deep copy of ``estimator`` with
        ``prefit=True``).
    n_features_in_ : int
        Number of features of ``X`` (last axis).
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.
    max_features_ : int
        The maximum number of features, when ``max_features`` is set.
    threshold_ : float
        The importance threshold; for ``"significant"``, the level that the
        p-values are compared with.
    importances_ : ndarray of shape (n_features,)
        The importances the selection used.

    See Also
    --------
    sklearn.feature_selection.SelectFromModel : The same for 2-D data.
    SequencePermutationImportance : Held-out importances and their p-values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from seqimportance import (
    ...     SequencePermutationImportance, SequenceSelectFromModel
    ... )
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5, 4))
    >>> y = X[:, -1, 0] + 0.5 * X[:, 2, 1] + 0.3 * rng.normal(size=200)
    >>> flat = FunctionTransformer(lambda Z: Z.reshape(len(Z), -1))
    >>> model = make_pipeline(flat, LinearRegression())
    >>> selector = SequenceSelectFromModel(
    ...     SequencePermutationImportance(model, cv=3, random_state=0),
    ...     threshold="significant",
    ... ).fit(X, y)
    >>> selector.get_support()
    array([ True,  True, False, False])
    >>> selector.transform(X).shape
    (200, 5, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"])],
        "threshold": [Interval(Real, None, None, closed="both"), str, None],
        "max_features": [Interval(Integral, 0, None, closed="left"), callable, None],
        "prefit": ["boolean"],
        "importance_getter": [str, callable],
    }

    def __init__(
        self,
        estimator,
        *,
        threshold=None,
        max_features=None,
        prefit=False,
        importance_getter="auto",
    ):
        self.estimator = estimator
        self.threshold = threshold
        self.max_features = max_features
        self.prefit = prefit
        self.importance_getter = importance_getter

    def fit(self, X, y=None, **fit_params):
        """Fit the estimator (unless ``prefit``) and read its importances.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences.
        y : array-like of shape (n_samples,) or (n_samples, ...), default=None
            Targets.
        **fit_params : dict
            Passed to ``estimator.fit``; ignored with ``prefit=True``.

        Returns
        -------
        self : object
            The fitted selector.
        """
        self._validate_params()
        _significance_level(self.threshold)  # a malformed level fails early
        X3d = check_sequences(X, ensure_all_finite=not self._allow_nan(), dtype=None)
        if self.max_features is not None:
            max_features = (
                self.max_features(X) if callable(self.max_features)
                else self.max_features
            )
            check_scalar(max_features, "max_features", Integral, min_val=0)
            self.max_features_ = max_features
        elif hasattr(self, "max_features_"):
            del self.max_features_
        if self.prefit:
            try:
                check_is_fitted(self.estimator)
            except NotFittedError as exc:
                raise NotFittedError(
                    "With prefit=True, estimator must be fitted already; "
                    f"{type(self.estimator).__name__} is not."
                ) from exc
            estimator = deepcopy(self.estimator)
        else:
            estimator = clone(self.estimator).fit(X, y, **fit_params)
        self.n_features_in_ = X3d.shape[2]
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and len(names) == self.n_features_in_:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        else:
            _check_feature_names(self, X, reset=True)
        self.estimator_ = estimator
        self.importances_ = self._importances(estimator)
        return self

    def _allow_nan(self):
        return get_tags(self.estimator).input_tags.allow_nan

    def _importances(self, estimator):
        getter = self.importance_getter
        reduce = False
        if getter == "auto":
            if hasattr(estimator, "coef_"):
                getter, reduce = attrgetter("coef_"), True
            elif hasattr(estimator, "feature_importances_"):
                getter = attrgetter("feature_importances_")
            else:
                raise ValueError(
                    "importance_getter='auto' reads coef_ or feature_importances_, "
                    f"but the fitted {type(estimator).__name__} has neither; pass "
                    "importance_getter (an attribute path or a callable), or use "
                    "a SequencePermutationImportance as the estimator."
                )
        elif isinstance(getter, str):
            getter = attrgetter(getter)
        values = np.asarray(getter(estimator), dtype=float)
        if reduce:
            values = np.abs(values)
            if values.ndim > 1:
                values = values.reshape(-1, values.shape[-1]).sum(axis=0)
        if values.shape != (self.n_features_in_,):
            raise ValueError(
                f"SequenceSelectFromModel selects features (the last axis of X), so "
                f"it needs one importance per feature, shape ({self.n_features_in_},)"
                f"; {type(estimator).__name__} gives shape {values.shape}. With a "
                "SequencePermutationImportance, use axis='feature' and no groups."
            )
        return values

    @property
    def threshold_(self):
        """The threshold in use: importance, or p-value level for "significant"."""
        check_is_fitted(self)
        alpha = _significance_level(self.threshold)
        if alpha is not None:
            return alpha
        try:
            return float(
                _calculate_threshold(self.estimator, self.importances_, self.threshold)
            )
        except ValueError as exc:
            raise ValueError(
                f"threshold must be {_THRESHOLDS}; got {self.threshold!r}."
            ) from exc

    def _get_support_mask(self):
        check_is_fitted(self)
        importances = self.importances_
        threshold = self.threshold_
        alpha = _significance_level(self.threshold)
        if alpha is not None:
            pvalues = getattr(self.estimator_, "pvalues_", None)
            if pvalues is None:
                raise ValueError(
                    f"threshold={self.threshold!r} selects by p-value, but "
                    f"{type(self.estimator_).__name__} has no pvalues_; use a "
                    "SequencePermutationImportance as the estimator."
                )
            keep = np.asarray(pvalues) < alpha  # NaN p-values are not kept
        else:
            keep = importances >= threshold
        max_features = getattr(self, "max_features_", None)
        if max_features is not None:
            top = np.zeros_like(keep)
            top[np.argsort(-importances, kind="mergesort")[:max_features]] = True
            keep &= top
        return keep

    def transform(self, X):
        """Keep the selected features, at every timestep.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences (or rows) with the features seen in :meth:`fit`.

        Returns
        -------
        X_selected : ndarray of shape (n_samples, n_timesteps, n_selected) or \
                (n_samples, n_selected)
            The selected features; 2-D input stays 2-D (a DataFrame stays a
            DataFrame with pandas output).
        """
        check_is_fitted(self)
        if _ndim(X) == 2:
            return super().transform(X)
        X = self._check_3d(X)
        mask = self.get_support()
        if not mask.any():
            warnings.warn(
                "No features were selected: either the data is too noisy or the "
                "selection test too strict.",
                UserWarning,
            )
        return X[:, :, mask]

    def inverse_transform(self, X):
        """Put the selected features back in place, with zeros elsewhere.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_selected) or \
                (n_samples, n_selected)
            Selected features, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            ``X`` with features of zeros where :meth:`transform` removed some.
        """
        check_is_fitted(self)
        if _ndim(X) != 3:
            return super().inverse_transform(X)
        X = check_array(X, dtype=None, allow_nd=True, ensure_all_finite=False)
        support = self.get_support()
        if X.shape[2] != support.sum():
            raise ValueError(
                f"X has {X.shape[2]} features, but {support.sum()} were selected "
                f"(got shape {X.shape})."
            )
        out = np.zeros(X.shape[:2] + (support.size,), dtype=X.dtype)
        out[:, :, support] = X
        return out

    def _check_3d(self, X):
        X = check_array(
            X,
            dtype=None,
            allow_nd=True,
            ensure_all_finite=not self._allow_nan(),
            input_name="X",
        )
        if X.ndim != 3:
            check_sequences(X)  # raises, naming the shapes accepted
        if X.shape[2] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[2]} features, but SequenceSelectFromModel is "
                f"expecting {self.n_features_in_} features as input (got shape "
                f"{X.shape})."
            )
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.sparse = False
        return tags
