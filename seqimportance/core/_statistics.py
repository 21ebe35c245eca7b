"""Uncertainty and significance of importances (numpy and scipy only).

Two tests answer "is the importance of this unit greater than 0?".

**The t-test on the repeats and folds** (:func:`importance_pvalues`,
:func:`importance_intervals`) reads the ``importances_`` matrix of a fitted
:class:`~seqimportance.SequencePermutationImportance`, whose columns are the
repeats of each fold, fold after fold. What it can say depends on what varied:

- *One fold* (``cv="prefit"``, ``cv=None``, or a single split): the repeats
  differ only by the random perturbation; model and data are fixed. The
  test is a one-sample t-test on the ``n_iter`` repeats (``n_iter - 1``
  degrees of freedom). It asks whether the *expected* importance of this
  model on this data (the mean over infinitely many perturbations) is
  greater than 0. A small p-value says that the model uses the unit on this
  data, not that the unit carries signal in new data.
- *Several folds* (cross-validation ``cv``): each fold has its own model and
  its own held-out data, so the fold means vary with the data as well. The
  test is a one-sample t-test on the ``k`` fold means (``k - 1`` degrees of
  freedom), with the variance corrected for the overlap of the training sets
  (Nadeau and Bengio's corrected resampled t-test: the variance of the mean
  is ``s**2 * (1 / k + n_test / n_train)`` instead of ``s**2 / k``). It asks
  whether the expected held-out importance of the learning procedure is
  greater than 0. The repeats of one fold share a model and are averaged
  first: treated as independent, they would make the test far too
  confident.

Both assume the replicates are roughly normal; with few of them the test is
approximate. When every replicate is the same (a deterministic perturbation
on one fold, or a unit the model ignores), the mean is exact: the p-value is
0 for a positive importance and 1 otherwise, and the interval is one point.
With a single replicate the spread is unknown and the result is NaN.

**The permutation test** (:func:`permutation_pvalues`, used by
:func:`~seqimportance.permutation_test_importance`) compares the observed
importance with importances computed after refitting on permuted targets
(Altmann et al., 2010): ``(count(null >= observed) + 1) / (n_null + 1)``.
"""

import numpy as np
from scipy.special import stdtr, stdtrit

__all__ = [
    "importance_intervals",
    "importance_pvalues",
    "permutation_pvalues",
    "replicates",
]


def replicates(importances, split_sizes=()):
    """The values a t-test treats as replicates, and the variance factor.

    Parameters
    ----------
    importances : ndarray of shape (n_units, n_columns)
        Raw importances, the repeats of each fold, fold after fold.
    split_sizes : sequence of (n_train, n_test) pairs, default=()
        One pair per cross-validation split; fewer than two means one fold.

    Returns
    -------
    values : ndarray of shape (n_units, n_replicates)
        The repeats (one fold) or the fold means (several folds).
    factor : float
        The variance of the mean is ``factor * var(values, ddof=1)``.
    """
    importances = np.asarray(importances, dtype=float)
    if importances.ndim != 2:
        raise ValueError(
            "importances must be a 2-D array (n_units, n_columns); got shape "
            f"{importances.shape}."
        )
    n_folds = len(split_sizes)
    if n_folds < 2:
        return importances, 1.0 / max(importances.shape[1], 1)
    n_units, n_columns = importances.shape
    if n_columns % n_folds:
        raise ValueError(
            f"importances has {n_columns} columns, which is not a multiple of "
            f"the {n_folds} folds."
        )
    values = importances.reshape(n_units, n_folds, -1).mean(axis=2)
    sizes = np.asarray(split_sizes, dtype=float)
    test_to_train = float(np.mean(sizes[:, 1] / sizes[:, 0]))
    return values, 1.0 / n_folds + test_to_train


def _mean_and_error(importances, split_sizes):
    values, factor = replicates(importances, split_sizes)
    n = values.shape[1]
    mean = values.mean(axis=1)
    if n < 2:
        nan = np.full(values.shape[0], np.nan)
        return mean, nan, nan, n
    # A unit whose replicates are all equal has an exact mean: the spread is
    # set to exactly 0 (not a rounding residue of the mean's arithmetic).
    constant = np.all(values == values[:, :1], axis=1)
    spread = np.where(constant, 0.0, values.std(axis=1, ddof=1))
    return mean, spread * np.sqrt(factor), constant, n


def importance_pvalues(importances, split_sizes=()):
    """One-sided p-values of "the mean importance is greater than 0".

    Parameters
    ----------
    importances : ndarray of shape (n_units, n_columns)
        Raw importances, the repeats of each fold, fold after fold.
    split_sizes : sequence of (n_train, n_test) pairs, default=()
        One pair per cross-validation split; fewer than two means one fold.

    Returns
    -------
    pvalues : ndarray of shape (n_units,)
        See the module docstring for the test; NaN with a single replicate.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._statistics import importance_pvalues
    >>> importances = np.array([[1.0, 1.2, 0.9, 1.1], [0.1, -0.1, 0.2, -0.2],
    ...                         [0.0, 0.0, 0.0, 0.0]])
    >>> importance_pvalues(importances).round(3)
    array([0. , 0.5, 1. ])
    """
    mean, error, constant, n = _mean_and_error(importances, split_sizes)
    if n < 2:
        return error
    with np.errstate(divide="ignore", invalid="ignore"):
        t = mean / error
    pvalues = stdtr(n - 1, -t)  # P(T >= t) for Student's t with n - 1 dof
    exact = np.where(mean > 0, 0.0, 1.0)
    pvalues = np.where(constant, exact, pvalues)
    return np.where(np.isnan(mean), np.nan, pvalues)


def importance_intervals(importances, split_sizes=(), *, level=0.95):
    """Two-sided confidence intervals of the mean importance.

    Parameters
    ----------
    importances : ndarray of shape (n_units, n_columns)
        Raw importances, the repeats of each fold, fold after fold.
    split_sizes : sequence of (n_train, n_test) pairs, default=()
        One pair per cross-validation split; fewer than two means one fold.
    level : float, default=0.95
        Confidence level, in (0, 1).

    Returns
    -------
    intervals : ndarray of shape (n_units, 2)
        Lower and upper bounds, ``mean -/+ t_{(1 + level) / 2} * error``;
        NaN with a single replicate.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._statistics import importance_intervals
    >>> importance_intervals(np.array([[1.0, 3.0]]), level=0.5).round(3)
    array([[1., 3.]])
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got level={level!r}.")
    mean, error, _, n = _mean_and_error(importances, split_sizes)
    if n < 2:
        return np.column_stack([error, error])
    half = stdtrit(n - 1, 0.5 + level / 2) * error
    return np.column_stack([mean - half, mean + half])


def permutation_pvalues(observed, null):
    """Empirical p-values of the observed importances against null importances.

    Parameters
    ----------
    observed : ndarray of shape (n_units,)
        Importances computed with the true targets.
    null : ndarray of shape (n_units, n_permutations)
        Importances computed after refitting on permuted targets.

    Returns
    -------
    pvalues : ndarray of shape (n_units,)
        ``(count(null >= observed) + 1) / (n_permutations + 1)``; ties count
        against the observed value, so a unit that is 0 everywhere gets 1.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._statistics import permutation_pvalues
    >>> permutation_pvalues(np.array([5.0, 0.0]),
    ...                     np.array([[0.1, 0.3, -0.2], [0.0, 0.1, -0.1]]))
    array([0.25, 0.75])
    """
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    if null.ndim != 2 or null.shape[0] != observed.shape[0]:
        raise ValueError(
            f"null must have shape (n_units, n_permutations) with n_units = "
            f"{observed.shape[0]}; got shape {null.shape}."
        )
    count = np.sum(null >= observed[:, np.newaxis], axis=1)
    return (count + 1.0) / (null.shape[1] + 1.0)
