"""The folds of :class:`~seqimportance.SequencePermutationImportance`.

:func:`iter_folds` fits (or, for ``cv="prefit"``, checks) the estimator of
each fold and yields the data its importances are computed on;
:func:`evaluate_fold` perturbs that data and measures the effect on the
fold's estimator, repeat by repeat; :func:`effect_method` picks the
prediction method that ``effect="rms"`` / ``"mae"`` compare.
"""

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _check_method_params, check_is_fitted

from ..core._masking import PaddingMask
from ..core._perturbation import Perturbation, group_seed_keys
from ..core._subsampling import resolve_max_samples, subsample_rows
from ..core._validation import check_sequence_shape
from ._cached_scoring import PREDICTION_METHODS
from ._checks import check_baseline_score
from ._evaluation import FoldEvaluator, compute_importances, make_fold_scorer
from ._predictors import make_predictor

__all__ = ["check_fitted_shape", "effect_method", "evaluate_fold", "iter_folds"]


def iter_folds(estimator, cv, X, X_given, X3d, y, input_ndim, fit_params, split_sizes):
    """Yield ``(fitted estimator, X_eval_3d, y_eval)`` for each fold.

    Parameters
    ----------
    estimator : estimator
        Fitted already for ``cv="prefit"``; otherwise cloned and fitted here.
    cv : "prefit", None, int, cross-validation generator or iterable
        The ``cv`` parameter of the meta-estimator.
    X : array-like
        The data as given to ``fit``, which the estimators are fitted on.
    X_given : ndarray of shape (n_samples, ...)
        ``X`` validated as 3-D, in the caller's layout.
    X3d : ndarray of shape (n_samples, n_timesteps, n_features)
        The same, channels-last.
    y : array-like or None
        Targets.
    input_ndim : {2, 3}
        Number of dimensions of the ``X`` given.
    fit_params : dict
        Passed to ``fit`` (indexed per fold when they have one value per
        sample).
    split_sizes : list
        Receives ``(n_train, n_test)`` of each split, for the t-test.

    Yields
    ------
    fitted : estimator
        The estimator of the fold.
    X_eval : ndarray of shape (n_eval, n_timesteps, n_features)
        The data the importances are computed on, channels-last.
    y_eval : array-like or None
        Its targets.
    """
    if cv == "prefit":
        check_is_fitted(estimator)
        check_fitted_shape(estimator, X_given, input_ndim)
        yield estimator, X3d, y
    elif cv is None:
        yield clone(estimator).fit(X, y, **fit_params), X3d, y
    else:
        cv = check_cv(cv, y, classifier=is_classifier(estimator))
        X, y = indexable(X, y)  # array-likes without __getitem__ become arrays
        for train, test in cv.split(X3d, y):
            split_sizes.append((len(train), len(test)))
            fitted = clone(estimator).fit(
                _safe_indexing(X, train),
                None if y is None else _safe_indexing(y, train),
                **_check_method_params(X, fit_params, train),
            )
            yield (
                fitted,
                X3d[test],
                None if y is None else _safe_indexing(y, test),
            )


def check_fitted_shape(estimator, X3d, input_ndim):
    """Compare X with the shape a prefit estimator was fitted on, where known.

    Parameters
    ----------
    estimator : fitted estimator
        Its ``n_timesteps_in_`` and ``n_features_in_``, where set, are
        compared with ``X3d``.
    X3d : ndarray of shape (n_samples, n_timesteps, n_features)
        The data to evaluate, as 3-D.
    input_ndim : {2, 3}
        Number of dimensions of the ``X`` given.

    Raises
    ------
    ValueError
        If the timesteps or features differ from those seen in fit.
    """
    name = type(estimator).__name__
    n_timesteps = getattr(estimator, "n_timesteps_in_", None)
    n_features = getattr(estimator, "n_features_in_", None)
    if n_timesteps is not None and n_features is not None:
        check_sequence_shape(X3d, n_timesteps, n_features, fitted_on=name)
    elif input_ndim == 2 and n_features is not None and n_features != X3d.shape[2]:
        raise ValueError(
            f"X has {X3d.shape[2]} features, but {name} is expecting {n_features} "
            f"features as input (got shape {X3d.shape[::2]})."
        )


def evaluate_fold(
    params,
    estimator,
    X_eval,
    y_eval,
    units,
    base_seed,
    fold,
    input_ndim,
    feature_names,
    progress,
):
    """Importances of every unit and repeat on one fold, and its baseline score.

    Parameters
    ----------
    params : dict
        ``SequencePermutationImportance.get_params(deep=False)``: how to
        perturb, what to measure and how to run.
    estimator : fitted estimator
        The estimator of the fold, taking input in the caller's layout.
    X_eval : ndarray of shape (n_eval, n_timesteps, n_features)
        The data of the fold, channels-last.
    y_eval : array-like or None
        Its targets.
    units : list of (ndarray, ndarray)
        The timestep indices and feature indices of each unit.
    base_seed : int
        The seed every job's generator is derived from.
    fold : int
        Index of the fold, part of each job's seed.
    input_ndim : {2, 3}
        Number of dimensions of the ``X`` given.
    feature_names : ndarray of str or None
        Column names the estimator was given, for DataFrame input.
    progress : Progress
        Told of the chunks planned and done.

    Returns
    -------
    importances : ndarray of shape (n_units, n_iter)
        The importances of the fold.
    baseline_score : float or None
        The score of the unperturbed data for ``effect="score"``, else None.
    """
    effect, mask_value = params["effect"], params["mask_value"]
    predictor = make_predictor(estimator, input_ndim, feature_names=feature_names)
    if effect == "score":
        scorer, method = make_fold_scorer(estimator, params["scoring"]), None
    else:
        scorer, method = None, effect_method(estimator, effect, predictor.methods)
    padding = PaddingMask.from_data(X_eval, mask_value)
    perturbation = Perturbation(
        params["perturbation"],
        X_eval,
        scale=params["scale"],
        relative_scale=params["relative_scale"],
        padding=padding,
        units=units,
        conditional_model=params.get("conditional_model"),
    )

    seed_keys = None if params["groups"] is None else group_seed_keys(units)

    def evaluator_for(X_part, y_part, padding, perturbation=perturbation):
        return FoldEvaluator(
            predictor,
            estimator,
            X_part,
            y_part,
            units,
            perturbation,
            effect=effect,
            scorer=scorer,
            method=method,
            base_seed=base_seed,
            fold=fold,
            input_ndim=input_ndim,
            feature_names=feature_names,
            padding=padding,
            seed_keys=seed_keys,
        )

    evaluator = evaluator_for(X_eval, y_eval, padding)
    run = dict(
        max_batch_bytes=params["max_batch_bytes"],
        n_jobs=params["n_jobs"],
        on_chunk_done=progress.update,
        on_plan=progress.add,
    )
    n_iter = params["n_iter"]
    count = resolve_max_samples(params["max_samples"], len(X_eval))
    if count is None:
        importances = compute_importances(evaluator, n_iter, **run)
    else:  # each repeat on its own subset, against that subset's baseline
        columns = []
        for repeat in range(n_iter):
            rows = subsample_rows(base_seed, fold, repeat, len(X_eval), count)
            y_part = None if y_eval is None else _safe_indexing(y_eval, rows)
            X_part = X_eval[rows]
            part_padding = PaddingMask.from_data(X_part, mask_value)
            part = evaluator_for(X_part, y_part, part_padding, perturbation.take(rows))
            columns.append(compute_importances(part, 1, first_repeat=repeat, **run))
        importances = np.concatenate(columns, axis=1)
        evaluator.compute_baseline()
    check_baseline_score(
        evaluator.baseline_score,
        fold=fold,
        n_samples=len(X_eval),
        scoring=params["scoring"],
    )
    return importances, evaluator.baseline_score


def effect_method(estimator, effect, methods=None):
    """Prediction method compared by ``effect="rms"`` / ``"mae"``.

    Parameters
    ----------
    estimator : estimator
        The estimator whose predictions are compared.
    effect : {"rms", "mae"}
        The effect, for the error message.
    methods : iterable of str or None, default=None
        The methods of the fast predictor, if one is used; the estimator's
        public prediction methods count as well.

    Returns
    -------
    method : str
        ``predict_proba``, ``decision_function`` or ``predict``, in this order
        of preference for classifiers, in the reverse order for others.

    Raises
    ------
    ValueError
        If the estimator has none of these methods.
    """
    if methods is None:
        methods = {m for m in PREDICTION_METHODS if hasattr(estimator, m)}
    else:  # the fast predictor's methods, or a public one it lacks
        methods = set(methods) | {
            m for m in PREDICTION_METHODS if hasattr(estimator, m)
        }
    # scikeras's own classifiers are mis-tagged on scikit-learn >= 1.6 but
    # still say what they are in _estimator_type.
    classifier = is_classifier(estimator) or (
        getattr(estimator, "_estimator_type", None) == "classifier"
    )
    if classifier:
        order = ("predict_proba", "decision_function", "predict")
    else:
        order = ("predict", "decision_function", "predict_proba")
    for method in order:
        if method in methods:
            return method
    raise ValueError(
        f"effect={effect!r} measures the change of the predictions, but "
        f"{type(estimator).__name__} has none of the methods {', '.join(order)}. "
        "Use effect='score' or an estimator that can predict."
    )
