"""SequencePermutationImportance: permutation and perturbation importance."""

import os
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import get_scorer_names
from sklearn.utils import check_consistent_length
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _get_feature_names, check_is_fitted

from ..core._layouts import (
    DATA_FORMATS,
    estimator_input,
    for_evaluation,
    to_channels_last,
    to_estimator_layout,
)
from ..core._masking import padding_mask, unit_support, warn_low_support
from ..core._perturbation import (
    AXES,
    NOISE_PERTURBATIONS,
    PERTURBATIONS,
    check_perturbation_units,
    make_units,
)
from ..core._seeding import draw_base_seed
from ..core._statistics import importance_intervals, importance_pvalues
from ..core._validation import check_sequences
from ._caveats import describe_importances
from ._checks import check_target_for_scoring, warn_if_all_zero
from ._correlation_warning import warn_correlated_top_features
from ._delegation import as_estimator, delegated_tags, estimator_has
from ._evaluation import EFFECTS, make_fold_scorer
from ._folds import effect_method, evaluate_fold, iter_folds
from ._progress import Progress
from ._results import importance_frame

__all__ = ["SequencePermutationImportance"]


class SequencePermutationImportance(MetaEstimatorMixin, BaseEstimator):
    """Permutation and perturbation importance of the inputs of a sequence model.

    Meta-estimator in the spirit of eli5's ``PermutationImportance``, for
    estimators on 3-D input ``(n_samples, n_timesteps, n_features)`` (2-D
    input ``(n_samples, n_features)`` is read as one timestep). Each *unit*
    (a feature at all its timesteps, a timestep at all features, a
    ``(timestep, feature)`` cell, or a group of features) is perturbed
    ``n_iter`` times and the effect on the estimator is measured: the drop of
    its score, or the change of its predictions. Higher means more important.

    Perturbed copies are built in chunks with vectorised numpy and each chunk
    is predicted by one call, so the cost is close to that of the forward
    passes; Keras-backed estimators (the package's wrappers, scikeras's,
    Pipelines ending in one, trained Keras models) are run through a
    compiled inference function.

    Parameters
    ----------
    estimator : estimator object, keras.Model or path of a .keras file
        The model to explain: fitted when ``cv="prefit"``, otherwise fitted
        here. It must accept the ``X`` given to :meth:`fit` (3-D, or 2-D).
        A trained ``keras.Model`` (or the path of one saved as ``.keras``)
        is explained as :meth:`SequenceModelClassifier.from_model
        <seqimportance.SequenceModelClassifier.from_model>` would wrap it
        when its output layer is a softmax or sigmoid (so ``"accuracy"``,
        ``"roc_auc"`` and ``"neg_log_loss"`` work, with classes ``0..k-1``),
        else as :meth:`SequenceModelRegressor.from_model
        <seqimportance.SequenceModelRegressor.from_model>` would (effects and
        scores speak of its raw outputs); it needs ``cv="prefit"``. For other
        class labels pass ``SequenceModelClassifier.from_model(model,
        classes=...)`` instead.
    scoring : str, callable or None, default=None
        Scorer for ``effect="score"``, as in scikit-learn: a scorer name
        (``"roc_auc"``, ``"neg_mean_squared_error"``, ...), a callable
        ``scorer(estimator, X, y)``, or None for the estimator's ``score``.
        Ignored for other effects.
    n_iter : int, default=5
        Number of times each unit is perturbed (per fold).
    random_state : int, RandomState instance or None, default=None
        Seeds the perturbations. One base seed is drawn from it, and every
        ``(fold, unit, repeat)`` job gets its own generator derived from it,
        so results do not depend on ``max_batch_bytes``, ``n_jobs`` or the
        order of evaluation. Pass an int for reproducible results.
    cv : "prefit", None, int, cross-validation generator or iterable, \
            default="prefit"
        - ``"prefit"``: ``estimator`` is already fitted; importances are
          computed on the ``X`` given to :meth:`fit`.
        - None: ``estimator`` is fitted on ``X``, and importances are
          computed on the same ``X`` (training data).
        - int, splitter or iterable of ``(train, test)`` splits: a clone is
          fitted on each training part and importances are computed on the
          held-out part; ``importances_`` holds every fold's repeats.
    refit : bool, default=True
        With a cross-validation ``cv``, whether to also fit ``estimator`` on
        all of ``X`` as ``estimator_`` (used by ``predict``, ``score``, ...).
        Ignored for ``cv="prefit"`` and ``cv=None``.
    perturbation : {"shuffle", "time_shuffle", "gaussian", "uniform", "zero", \
            "mean", "conditional"} or callable, default="shuffle"
        - ``"shuffle"``: permute the unit's values across samples; each
          sample's sub-series moves as a whole and keeps its time order.
        - ``"time_shuffle"``: permute the unit's timesteps within each
          sample (one permutation for all the unit's features): the values
          stay, their order goes, so the importance says whether the order
          matters. Units need several timesteps (``axis="feature"``,
          ``groups``, or ``window`` > 1).
        - ``"gaussian"``: add noise ``N(0, scale)``.
        - ``"uniform"``: add noise ``U(-scale, scale)``.
        - ``"zero"``: replace the unit's values by 0.
        - ``"mean"``: replace each feature of the unit by its mean over the
          samples and all (real) timesteps of the evaluated data.
        - ``"conditional"``: replace the unit's values by a draw from an
          estimate of their distribution given the sample's other inputs,
          fitted on the evaluated data (each fold's held-out part with
          ``cv``): by default a linear regression on the other inputs at the
          same and adjacent timesteps, whose prediction is kept and whose
          residuals are resampled across samples (``conditional_model``
          changes the regressor). The importance then says what the unit
          adds beyond the other inputs; see the "Correlated inputs" page.
        - callable ``(values, rng) -> values``: ``values`` is an ndarray of
          shape ``(n_samples, n_unit_timesteps, n_unit_features)`` (a copy
          that may be modified), ``rng`` a :class:`numpy.random.Generator`;
          it must return an array of the same shape.

        ``"zero"`` and ``"mean"`` are deterministic: every repeat gives the
        same values, so they are evaluated once and repeated (zero std).
    scale : float, default=0.2
        Noise scale of ``"gaussian"`` (standard deviation) and ``"uniform"``
        (half-width); must be > 0 for them, ignored otherwise.
    relative_scale : bool, default=False
        Whether the noise scale of each feature is ``scale`` times that
        feature's standard deviation over the samples and timesteps of the
        evaluated data (the "0.1 x the feature's std" recipe).
    conditional_model : regressor or None, default=None
        The model of ``perturbation="conditional"``: None for the linear
        (Gaussian) model, or any scikit-learn regressor (an object with
        ``fit`` and ``predict``), cloned and fitted per unit on the other
        inputs, with out-of-fold residuals. Ignored for other perturbations.
    axis : {"feature", "timestep", "both"}, default="feature"
        What a unit is: ``"feature"``, one feature at all timesteps;
        ``"timestep"``, one timestep at all features (which lags matter);
        ``"both"``, one ``(timestep, feature)`` cell, with unit index
        ``t * n_features + f`` so that
        ``feature_importances_.reshape(n_timesteps, n_features)`` is the map.
    groups : dict or None, default=None
        Named groups of features perturbed together at all timesteps, as
        ``{name: [feature indices]}`` (e.g. the x, y, z axes of one sensor);
        the units are the groups, in dict order. Only with
        ``axis="feature"``.
    window : int, default=1
        With ``axis="timestep"`` or ``"both"``, a unit spans ``window``
        consecutive timesteps (the last block may be shorter), named by its
        range (``"t10-t14"``): the importance of periods rather than of
        single steps. At most the number of timesteps.
    mask_value : float or None, default=None
        Padding of variable-length sequences, as in Keras's ``Masking``: a
        timestep whose features all equal ``mask_value`` is padding. Padding
        is never perturbed (shuffles draw real values from donors that are
        real at the same positions), statistics use real steps, and effects
        are measured on the samples real at a unit's timesteps and, for
        per-timestep targets or outputs, at real timesteps only. See the
        "Variable-length sequences" page. None: no padding.
    feature_names : array-like of str or None, default=None
        Names of the features (last axis of ``X``) for ``unit_names_``, e.g.
        from :func:`~seqimportance.from_long_frame`; None uses a
        DataFrame's columns or ``"x0", "x1", ...``.
    effect : {"score", "rms", "mae"}, default="score"
        - ``"score"``: baseline score minus perturbed score (``scoring``).
        - ``"rms"``: root mean square change of the predictions, over samples
          and outputs (the classic "perturbation effect").
        - ``"mae"``: mean absolute change of the predictions.

        For ``"rms"`` and ``"mae"`` classifiers are compared on
        ``predict_proba`` if they have it, else ``decision_function``, else
        ``predict``; other estimators on ``predict``.
    data_format : {"channels_last", "channels_first", "flattened"}, \
            default="channels_last"
        Layout of 3-D ``X``, with Keras's names: ``"channels_last"`` is
        ``(n_samples, n_timesteps, n_features)``; ``"channels_first"`` is
        ``(n_samples, n_channels, n_timesteps)``, the layout of aeon, sktime
        and tsai. The estimator receives ``X`` in the layout given, and
        units, names and ``n_features_in_`` speak of features (channels) and
        timesteps either way. 2-D ``X`` is one timestep per sample in both.
        ``"flattened"``: ``X`` is given as ``(n_samples, n_timesteps,
        n_features)`` and the estimator receives (and, with ``cv``, is fitted
        on) ``X.reshape(n_samples, n_timesteps * n_features)``, timestep by
        timestep: models on flattened windows, such as Keras 3's
        ``keras.wrappers.SKLearnRegressor`` with a ``Reshape`` as first layer,
        or gradient boosting on lag windows.
    max_samples : int or float, default=1.0
        Samples evaluated per repeat, as in
        :func:`sklearn.inspection.permutation_importance`: an int is a
        number of samples, a float a fraction of them. Each repeat draws its
        own subset (the same for every unit, seeded by ``random_state``),
        and its importance compares the perturbed and unperturbed
        predictions or scores of that subset. Fewer samples per repeat make
        each repeat cheaper and noisier.
    max_batch_bytes : int, default=32 * 2**20
        Cap on the memory of the perturbed copies evaluated at once (one
        chunk, at least one copy of the evaluated data). Peak memory then does
        not grow with the number of units and repeats.
    n_jobs : int or None, default=None
        Number of joblib workers over chunks; None means 1 unless in a
        :func:`joblib.parallel_config` context, which also selects the
        backend (e.g. ``"dask"`` for a dask cluster). Results are the same
        for any value.
    verbose : int, default=0
        Whether to show a tqdm progress bar over the chunks (> 0).

    Attributes
    ----------
    feature_importances_ : ndarray of shape (n_units,)
        Mean importance of each unit over all repeats and folds.
    feature_importances_std_ : ndarray of shape (n_units,)
        Standard deviation over all repeats and folds.
    pvalues_ : ndarray of shape (n_units,)
        One-sided p-value of "the mean importance is greater than 0": a
        t-test on the repeats with one fold (it conditions on the model and
        the data: only the perturbation varies), on the fold means with
        several folds (corrected for the overlap of the training sets). See
        :meth:`confidence_intervals` and the "Deciding with importances"
        page.
    importances_ : ndarray of shape (n_units, n_iter * n_folds)
        Raw importances, fold by fold (scikit-learn's ``importances`` layout).
    results_ : list of ndarray of shape (n_units,)
        One array per repeat and fold (eli5's layout), the columns of
        ``importances_``.
    scores_ : list of float or None
        Baseline score of each fold for ``effect="score"``, else None.
    unit_names_ : ndarray of str of shape (n_units,)
        ``"x0", "x1", ...`` (or the DataFrame's column names) for
        ``axis="feature"``, ``"t0", "t1", ...`` for ``axis="timestep"``,
        ``"x{f}@t{t}"`` for ``axis="both"``, the group names with
        ``groups``.
    units_ : list of (ndarray, ndarray)
        The timestep indices and feature indices of each unit.
    unit_support_ : ndarray of int of shape (n_units,)
        Number of samples of ``X`` real at one or more of each unit's
        timesteps: ``n_samples`` without ``mask_value``. A unit's importance
        averages over these samples.
    estimator_ : estimator
        The fitted estimator: ``estimator`` itself for ``cv="prefit"``, the
        one fitted on all of ``X`` otherwise (absent with a
        cross-validation ``cv`` and ``refit=False``).
    n_features_in_ : int
        Number of features of ``X`` (last axis).
    n_timesteps_in_ : int
        Number of timesteps of ``X`` (1 for 2-D input).
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.
    caveats_ : str
        How the importances were computed and what they do and do not show.

    See Also
    --------
    sklearn.inspection.permutation_importance : Permutation importance of the
        columns of 2-D data.
    eli5.sklearn.PermutationImportance : The eli5 meta-estimator, 2-D only.

    Notes
    -----
    The caller's ``X`` is never modified: each job perturbs its own copy.

    Examples
    --------
    2-D data is read as one timestep, so a plain scikit-learn model works:

    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqimportance import SequencePermutationImportance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(500, 3))
    >>> y = 2 * X[:, 0] + X[:, 1] + 0.1 * rng.normal(size=500)
    >>> model = LinearRegression().fit(X, y)
    >>> imp = SequencePermutationImportance(
    ...     model, scoring="neg_mean_squared_error", n_iter=10, random_state=0
    ... ).fit(X, y)
    >>> imp.unit_names_.tolist()
    ['x0', 'x1', 'x2']
    >>> imp.feature_importances_.round(1)  # close to 2 * w**2 * Var(x)
    array([7.5, 2. , 0. ])
    >>> imp.importances_.shape
    (3, 10)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), str, os.PathLike],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "cv": [StrOptions({"prefit"}), "cv_object"],
        "refit": ["boolean"],
        "perturbation": [StrOptions(set(PERTURBATIONS)), callable],
        "scale": [Interval(Real, None, None, closed="neither")],
        "relative_scale": ["boolean"],
        "conditional_model": [HasMethods(["fit", "predict"]), None],
        "axis": [StrOptions(set(AXES))],
        "groups": [dict, None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "mask_value": [Real, None],
        "feature_names": ["array-like", None],
        "effect": [StrOptions(set(EFFECTS))],
        "data_format": [StrOptions(set(DATA_FORMATS))],
        "max_samples": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "max_batch_bytes": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        scoring=None,
        n_iter=5,
        random_state=None,
        cv="prefit",
        refit=True,
        perturbation="shuffle",
        scale=0.2,
        relative_scale=False,
        conditional_model=None,
        axis="feature",
        groups=None,
        window=1,
        mask_value=None,
        feature_names=None,
        effect="score",
        data_format="channels_last",
        max_samples=1.0,
        max_batch_bytes=32 * 2**20,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.n_iter = n_iter
        self.random_state = random_state
        self.cv = cv
        self.refit = refit
        self.perturbation = perturbation
        self.scale = scale
        self.relative_scale = relative_scale
        self.conditional_model = conditional_model
        self.axis = axis
        self.groups = groups
        self.window = window
        self.mask_value = mask_value
        self.feature_names = feature_names
        self.effect = effect
        self.data_format = data_format
        self.max_samples = max_samples
        self.max_batch_bytes = max_batch_bytes
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None, **fit_params):
        """Fit the estimator if asked (``cv``) and compute the importances.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences; 2-D input (also a DataFrame) is one timestep per
            sample. Held-out data for ``cv="prefit"`` if the importances
            should speak of generalisation.
        y : array-like of shape (n_samples,) or (n_samples, ...), default=None
            Targets; needed by ``effect="score"`` with supervised scorers, and
            to fit the estimator.
        **fit_params : dict
            Passed to ``estimator.fit`` (indexed per fold when they have one
            value per sample); ignored for ``cv="prefit"``.

        Returns
        -------
        self : object
            The fitted meta-estimator.
        """
        self._validate_params()
        estimator = as_estimator(
            self.estimator, self.cv, self.scoring if self.effect == "score" else None
        )
        input_ndim = np.ndim(X) if hasattr(X, "shape") else np.asarray(X).ndim
        X_given = check_sequences(X, estimator=self)
        X3d = to_channels_last(X_given, self.data_format)
        X_fit, X_fit_3d, fit_ndim = estimator_input(
            X, X_given, input_ndim, self.data_format
        )
        valid = padding_mask(X3d, self.mask_value)
        if y is not None:
            check_consistent_length(X3d, y)
        _, n_timesteps, n_features = X3d.shape
        if self.perturbation in NOISE_PERTURBATIONS and not self.scale > 0:
            raise ValueError(
                f"scale must be > 0 for perturbation={self.perturbation!r}: it is the "
                f"noise scale; got scale={self.scale!r}."
            )
        feature_names = _get_feature_names(X)
        unit_names, units = make_units(
            n_timesteps,
            n_features,
            axis=self.axis,
            groups=self.groups,
            feature_names=(
                feature_names if self.feature_names is None else self.feature_names
            ),
            window=self.window,
        )
        check_perturbation_units(self.perturbation, units)
        support = unit_support(valid, units, len(X3d))
        warn_low_support(unit_names, support, len(X3d))
        if self.effect != "score":
            effect_method(estimator, self.effect)  # fail before fitting anything
        elif self.scoring is None and not hasattr(estimator, "score"):
            make_fold_scorer(estimator, None)  # raises, naming the fix
        check_target_for_scoring(estimator, self.scoring, self.effect, y)

        base_seed = draw_base_seed(self.random_state)
        params = self.get_params(deep=False)
        progress = Progress(self.verbose)
        estimator_ = None
        fold_importances, scores = [], []
        self._split_sizes = []  # (n_train, n_test) of each split, for the t-test
        folds = iter_folds(
            estimator,
            self.cv,
            X_fit,
            X_fit_3d,
            X3d,
            y,
            fit_ndim,
            fit_params,
            self._split_sizes,
        )
        try:
            for fold, (fitted, X_eval, y_eval) in enumerate(folds):
                importances, score = evaluate_fold(
                    params,
                    for_evaluation(fitted, self.data_format),
                    X_eval,
                    y_eval,
                    units,
                    base_seed,
                    fold,
                    input_ndim,
                    feature_names,
                    progress,
                )
                fold_importances.append(importances)
                scores.append(score)
            if self.cv in ("prefit", None):
                estimator_ = fitted
            elif self.refit:
                estimator_ = clone(estimator).fit(X_fit, y, **fit_params)
        finally:
            progress.close()

        importances = np.concatenate(fold_importances, axis=1)
        for name in ("estimator_", "feature_names_in_"):
            if hasattr(self, name):
                delattr(self, name)
        if estimator_ is not None:
            self.estimator_ = estimator_
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        self.importances_ = importances
        self.results_ = [importances[:, k].copy() for k in range(importances.shape[1])]
        self.feature_importances_ = importances.mean(axis=1)
        self.feature_importances_std_ = importances.std(axis=1)
        self.scores_ = scores if self.effect == "score" else None
        self.unit_names_ = unit_names
        self.units_ = units
        self.unit_support_ = support
        self.n_features_in_ = n_features
        self.n_timesteps_in_ = n_timesteps
        self.caveats_ = describe_importances(params)
        self.pvalues_ = importance_pvalues(importances, self._split_sizes)
        warn_if_all_zero(importances, n_samples=len(X3d), effect=self.effect)
        warn_correlated_top_features(self, X3d, valid)
        return self

    # ------------------------------------------------------- statistics
    def confidence_intervals(self, level=0.95):
        """Confidence intervals of the mean importance of each unit.

        The t-interval of the test behind ``pvalues_``: over the repeats with
        one fold (uncertainty of the perturbation only, for this model and
        data), over the fold means with several folds (with Nadeau and
        Bengio's correction for overlapping training sets). NaN when there is
        a single repeat and fold.

        Parameters
        ----------
        level : float, default=0.95
            Confidence level, in (0, 1).

        Returns
        -------
        intervals : ndarray of shape (n_units, 2)
            Lower and upper bound of each unit, around
            ``feature_importances_``.
        """
        check_is_fitted(self)
        return importance_intervals(self.importances_, self._split_sizes, level=level)

    def to_frame(self, level=0.95):
        """The importances as a pandas DataFrame, one row per unit (needs pandas).

        Parameters
        ----------
        level : float, default=0.95
            Confidence level of the interval columns.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``unit``, ``mean``, ``std``, ``ci_lower``, ``ci_upper``
            and ``pvalue``, rows in unit order (sort with
            ``frame.sort_values("mean", ascending=False)``).
        """
        return importance_frame(self, level)

    # ------------------------------------------------------- delegation
    @available_if(estimator_has("predict"))
    def predict(self, X):
        """Predict with ``estimator_``."""
        check_is_fitted(self)
        X = to_estimator_layout(X, self.data_format)
        return self.estimator_.predict(X)

    @available_if(estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from ``estimator_``."""
        check_is_fitted(self)
        X = to_estimator_layout(X, self.data_format)
        return self.estimator_.predict_proba(X)

    @available_if(estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities from ``estimator_``."""
        check_is_fitted(self)
        X = to_estimator_layout(X, self.data_format)
        return self.estimator_.predict_log_proba(X)

    @available_if(estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of ``estimator_``."""
        check_is_fitted(self)
        X = to_estimator_layout(X, self.data_format)
        return self.estimator_.decision_function(X)

    @available_if(estimator_has("score"))
    def score(self, X, y=None, **kwargs):
        """Score of ``estimator_`` on ``(X, y)``."""
        check_is_fitted(self)
        X = to_estimator_layout(X, self.data_format)
        return self.estimator_.score(X, y, **kwargs)

    @property
    def classes_(self):
        """Class labels of ``estimator_``."""
        return self.estimator_.classes_

    def __sklearn_tags__(self):
        return delegated_tags(super().__sklearn_tags__(), self.estimator)

