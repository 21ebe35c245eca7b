"""Correlated features: their correlation and groups (numpy and scipy).

Features are compared over every real ``(sample, timestep)`` of the data:
each feature's values at all real steps form one column, and the correlation
of two columns is their rank (Spearman) or linear (Pearson) correlation.
Groups are the clusters of a hierarchical clustering on the distance
``1 - |r|``, cut at ``1 - threshold``: with the default complete linkage,
every two features of a group have ``|r| >= threshold``, and the groups are
ready for the ``groups=`` parameter of
:class:`~seqimportance.SequencePermutationImportance`.
"""

import numbers

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform
from sklearn.utils.validation import _get_feature_names

from ._masking import padding_mask, real_step_values
from ._validation import check_sequences

__all__ = [
    "CORRELATION_METHODS",
    "LINKAGES",
    "cluster_features",
    "correlation_and_names",
    "correlation_linkage",
    "feature_correlation",
    "step_correlation",
]

CORRELATION_METHODS = ("spearman", "pearson")
LINKAGES = ("complete", "average", "single")


def step_correlation(values, method="spearman"):
    """Correlation matrix of the columns of ``values`` (n_steps, n_features).

    A constant column has correlation 0 with every other column (1 with
    itself), instead of NaN.
    """
    if method not in CORRELATION_METHODS:
        raise ValueError(
            f"method must be one of {CORRELATION_METHODS} (the correlation of "
            f"two features); got {method!r}."
        )
    values = np.asarray(values, dtype=np.float64)
    if method == "spearman":
        values = _ranks(values)
    centred = values - values.mean(axis=0)
    norm = np.sqrt(np.einsum("ij,ij->j", centred, centred))
    constant = norm == 0
    norm[constant] = 1.0
    centred /= norm
    corr = np.clip(centred.T @ centred, -1.0, 1.0)
    corr[constant, :] = 0.0
    corr[:, constant] = 0.0
    np.fill_diagonal(corr, 1.0)
    return corr


def _ranks(values):
    """Average ranks of each column (as ``scipy.stats.rankdata``), cheaply.

    One sort of each column (contiguous: several times faster than
    ``rankdata``'s); tied values share the mean of their positions.
    """
    columns = np.ascontiguousarray(values.T)
    n = columns.shape[1]
    order = np.argsort(columns, axis=1)
    ordered = np.take_along_axis(columns, order, axis=1)
    ranks = np.empty_like(columns)
    for j in range(len(columns)):
        new = np.empty(n, dtype=bool)
        new[:1] = True
        np.not_equal(ordered[j, 1:], ordered[j, :-1], out=new[1:])
        starts = np.flatnonzero(new)
        ends = np.append(starts[1:], n)  # one past the last of each run of ties
        mean_positions = (starts + ends + 1) / 2.0  # 1-based
        ranks[j, order[j]] = np.repeat(mean_positions, ends - starts)
    return ranks.T


def feature_correlation(X, *, method="spearman", mask_value=None):
    """Correlation between the features of sequences, over samples and timesteps.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
        Sequences, channels-last; 2-D input is one timestep per sample.
    method : {"spearman", "pearson"}, default="spearman"
        Rank correlation (robust to monotone transformations and outliers)
        or linear correlation.
    mask_value : float or None, default=None
        Padding: steps whose features all equal it are left out.

    Returns
    -------
    corr : ndarray of shape (n_features, n_features)
        Symmetric, with ones on the diagonal; 0 for a constant feature.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._clustering import feature_correlation
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5, 2))
    >>> X[:, :, 1] = 3 * X[:, :, 0] + 1
    >>> feature_correlation(X).round(2)
    array([[1., 1.],
           [1., 1.]])
    """
    X3d = check_sequences(X)
    valid = padding_mask(X3d, mask_value)
    return step_correlation(real_step_values(X3d, valid), method)


def correlation_linkage(corr, linkage="complete"):
    """Hierarchical clustering of features on the distance ``1 - |corr|``.

    Parameters
    ----------
    corr : ndarray of shape (n_features, n_features)
        A correlation matrix.
    linkage : {"complete", "average", "single"}, default="complete"
        How the distance of two clusters is taken: the largest, mean or
        smallest distance between their features.

    Returns
    -------
    Z : ndarray of shape (n_features - 1, 4)
        The linkage matrix of :func:`scipy.cluster.hierarchy.linkage`.
    """
    if linkage not in LINKAGES:
        raise ValueError(
            f"linkage must be one of {LINKAGES}; got {linkage!r}."
        )
    distance = 1.0 - np.abs(np.asarray(corr, dtype=np.float64))
    distance = (distance + distance.T) / 2
    np.fill_diagonal(distance, 0.0)
    distance = np.clip(distance, 0.0, 1.0)
    return hierarchy.linkage(squareform(distance, checks=False), method=linkage)


def correlation_and_names(X, method, mask_value, feature_names):
    """The features' correlation matrix and their names (``x0, x1, ...`` by default).

    Names come from ``feature_names``, else from DataFrame columns of ``X``.
    """
    if feature_names is None:
        feature_names = _get_feature_names(X)
    corr = feature_correlation(X, method=method, mask_value=mask_value)
    n_features = corr.shape[0]
    if feature_names is None:
        return corr, [f"x{f}" for f in range(n_features)]
    names = [str(name) for name in np.asarray(feature_names).ravel()]
    if len(names) != n_features:
        raise ValueError(
            f"feature_names has {len(names)} names; X has {n_features} "
            "features (last axis), and each needs one name."
        )
    return corr, names


def cluster_features(
    X,
    threshold=0.8,
    *,
    method="spearman",
    linkage="complete",
    feature_names=None,
    mask_value=None,
):
    """Group the features whose correlation is high, for ``groups=``.

    Hierarchical clustering of the features on the distance ``1 - |r|``,
    with ``r`` their correlation over all samples and real timesteps, cut at
    ``1 - threshold`` (as scikit-learn's example "Permutation Importance
    with Multicollinear or Correlated Features" does with Ward's linkage;
    complete linkage makes ``threshold`` a bound on every pair). Perturbing
    each group together measures the importance of what the group carries,
    which its members share.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
        Sequences, channels-last; 2-D input (also a DataFrame) is one
        timestep per sample.
    threshold : float, default=0.8
        Correlation, in (0, 1], at which features are grouped: with
        ``linkage="complete"`` every two features of a group have
        ``|r| >= threshold``; with ``"average"`` their clusters' mean
        ``|r|`` is at least ``threshold``; with ``"single"`` each feature has
        ``|r| >= threshold`` with another of its group.
    method : {"spearman", "pearson"}, default="spearman"
        Rank correlation or linear correlation.
    linkage : {"complete", "average", "single"}, default="complete"
        Linkage of the clustering.
    feature_names : array-like of str or None, default=None
        Names of the features; None uses a DataFrame's columns or ``"x0",
        "x1", ...``.
    mask_value : float or None, default=None
        Padding: steps whose features all equal it are left out.

    Returns
    -------
    groups : dict of str to list of int
        One entry per group, ordered by the group's first feature: a group
        of one feature is named by it, a larger group by its features'
        names joined with ``"+"``.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance import cluster_features
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 4, 3))
    >>> X[:, :, 2] = X[:, :, 0] + 0.1 * rng.normal(size=(300, 4))
    >>> cluster_features(X, threshold=0.8)
    {'x0+x2': [0, 2], 'x1': [1]}
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not 0 < threshold <= 1
    ):
        raise ValueError(
            "threshold must be a correlation in (0, 1] at which features are "
            f"grouped; got {threshold!r}."
        )
    if linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}; got {linkage!r}.")
    corr, names = correlation_and_names(X, method, mask_value, feature_names)
    n_features = corr.shape[0]
    if n_features == 1:
        return {names[0]: [0]}
    labels = hierarchy.fcluster(
        correlation_linkage(corr, linkage), t=1.0 - threshold, criterion="distance"
    )
    members = {}
    for f, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(f)
    ordered = sorted(members.values(), key=lambda group: group[0])
    return {"+".join(names[f] for f in group): group for group in ordered}
