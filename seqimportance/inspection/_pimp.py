"""permutation_test_importance: PIMP, the importance counterpart of
scikit-learn's ``permutation_test_score``.

Altmann et al. (2010), "Permutation importance: a corrected feature
importance measure": refit the model on permuted targets many times; the
importances computed then are what importance looks like when no input is
related to the target. The p-value of a unit is the share of these null
importances at least as large as the observed one.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import Bunch, _safe_indexing, check_consistent_length, indexable
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.parallel import Parallel, delayed

from ..core._seeding import draw_base_seed
from ..core._statistics import permutation_pvalues
from ._importance import SequencePermutationImportance

__all__ = ["permutation_test_importance"]

# Parameters of SequencePermutationImportance that permutation_test_importance
# sets itself; every other one may be passed through **importance_params.
_OWN = {
    "estimator", "scoring", "n_iter", "random_state", "cv", "refit", "n_jobs", "verbose"
}


def _importances(estimator, X, y, params, fit_params):
    """Mean importances of one run (true or permuted targets)."""
    imp = SequencePermutationImportance(estimator, refit=False, **params)
    imp.fit(X, y, **fit_params)
    return imp


def _null_importances(estimator, X, y, params, fit_params, seed):
    order = np.random.default_rng(seed).permutation(len(y))
    y_null = _safe_indexing(y, order)
    return _importances(estimator, X, y_null, params, fit_params).feature_importances_


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like"],
        "y": ["array-like"],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [None, str, callable],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "params": [dict, None],
    },
    prefer_skip_nested_validation=False,  # the estimator is not validated yet
)
def permutation_test_importance(
    estimator,
    X,
    y,
    *,
    n_permutations=100,
    cv=5,
    scoring=None,
    n_iter=5,
    random_state=None,
    n_jobs=None,
    verbose=0,
    params=None,
    **importance_params,
):
    """Permutation test of each unit's importance (PIMP, Altmann et al.).

    The importance counterpart of
    :func:`sklearn.model_selection.permutation_test_score`: the importances of
    ``estimator`` fitted on ``(X, y)`` are compared with *null importances*,
    computed in the same way after refitting on ``n_permutations`` random
    permutations of ``y``. A permutation breaks every relation between the
    inputs and the target, so the null importances show how large an
    importance gets by chance, from overfitting or from the scale of an
    input; the p-value of a unit is
    ``(count(null >= observed) + 1) / (n_permutations + 1)``.

    The test is exact (the p-values are uniform or larger) when no input is
    related to the target; for an unrelated input among related ones it is
    approximate, and in practice conservative. Unlike
    :attr:`SequencePermutationImportance.pvalues_` it assumes nothing about
    the shape of the distribution, at the cost of ``n_permutations + 1``
    fits of the whole procedure.

    Parameters
    ----------
    estimator : estimator object
        The model, unfitted; clones are fitted on every run. It must accept
        the ``X`` given here (3-D, or 2-D).
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
        Sequences, as for :meth:`SequencePermutationImportance.fit`.
    y : array-like of shape (n_samples,) or (n_samples, ...)
        Targets, permuted along the first axis for the null runs.
    n_permutations : int, default=100
        Number of permutations of ``y``; the smallest p-value is
        ``1 / (n_permutations + 1)``.
    cv : None, int, cross-validation generator or iterable, default=5
        As in :class:`SequencePermutationImportance`, except ``"prefit"``
        (every run fits): an int, splitter or iterable computes the
        importances on held-out parts (5 folds by default, stratified for
        classifiers), None on the training data itself.
    scoring : str, callable or None, default=None
        Scorer for ``effect="score"``, as in
        :class:`SequencePermutationImportance`.
    n_iter : int, default=5
        Repeats of each unit's perturbation, per fold and run.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations of ``y`` and the perturbations. Pass an int
        for reproducible results; they do not depend on ``n_jobs``.
    n_jobs : int or None, default=None
        Number of joblib workers over the permutations (the runs themselves
        are sequential); honours :func:`joblib.parallel_config`.
    verbose : int, default=0
        Verbosity of joblib.
    params : dict or None, default=None
        Parameters passed to ``estimator.fit``.
    **importance_params
        Further parameters of :class:`SequencePermutationImportance`
        (``perturbation``, ``axis``, ``groups``, ``effect``, ``scale``,
        ``max_batch_bytes``, ...).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        - ``importances_mean``, ``importances_std`` : ndarray of shape
          (n_units,), the observed importances.
        - ``importances`` : ndarray of shape (n_units, n_iter * n_folds),
          the observed raw importances.
        - ``null_importances`` : ndarray of shape (n_units, n_permutations),
          the mean importance of every unit in every permuted run.
        - ``pvalues`` : ndarray of shape (n_units,), the permutation
          p-values.
        - ``unit_names`` : ndarray of str of shape (n_units,).

    See Also
    --------
    SequencePermutationImportance : The importances, with t-test p-values
        (``pvalues_``) that cost no refit.
    sklearn.model_selection.permutation_test_score : The same test for the
        score of a model.

    References
    ----------
    A. Altmann, L. Tolosi, O. Sander and T. Lengauer, "Permutation
    importance: a corrected feature importance measure", Bioinformatics 26
    (10), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqimportance import permutation_test_importance
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = X[:, 0] + rng.normal(size=100)
    >>> result = permutation_test_importance(
    ...     LinearRegression(), X, y, n_permutations=19, random_state=0
    ... )
    >>> result.null_importances.shape
    (3, 19)
    >>> result.pvalues[0]  # no permuted run came close to x0
    np.float64(0.05)
    """
    unknown = sorted(set(importance_params) - _spi_params())
    taken = sorted(set(importance_params) & _OWN)
    if unknown or taken:
        raise TypeError(
            "permutation_test_importance got unexpected keyword arguments "
            f"{unknown + taken}; **importance_params are the parameters of "
            f"SequencePermutationImportance other than {sorted(_OWN)}: "
            f"{sorted(_spi_params() - _OWN)}."
        )
    X, y = indexable(X, y)
    check_consistent_length(X, y)
    fit_params = {} if params is None else params
    base_seed = draw_base_seed(random_state)
    run_params = dict(
        importance_params, scoring=scoring, n_iter=n_iter, cv=cv,
        random_state=base_seed,
    )
    observed = _importances(estimator, X, y, run_params, fit_params)
    seeds = np.random.SeedSequence(base_seed).spawn(n_permutations)
    null = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_null_importances)(estimator, X, y, run_params, fit_params, seed)
        for seed in seeds
    )
    null = np.column_stack(null)
    return Bunch(
        importances_mean=observed.feature_importances_,
        importances_std=observed.feature_importances_std_,
        importances=observed.importances_,
        null_importances=null,
        pvalues=permutation_pvalues(observed.feature_importances_, null),
        unit_names=observed.unit_names_,
    )


def _spi_params():
    return set(SequencePermutationImportance._get_param_names())
