"""Plot of the correlation between features: matrix or dendrogram (matplotlib).

It shows what :func:`~seqimportance.cluster_features` groups: the
correlation over samples and real timesteps, features ordered by the
hierarchical clustering, or the clustering's dendrogram on the distance
``1 - |r|``.
"""

import numpy as np
from scipy.cluster import hierarchy

from ..core._clustering import correlation_and_names, correlation_linkage
from ._plots import _get_ax

__all__ = ["plot_feature_correlation"]

KINDS = ("matrix", "dendrogram")


def plot_feature_correlation(
    X,
    *,
    kind="matrix",
    method="spearman",
    linkage="complete",
    feature_names=None,
    mask_value=None,
    threshold=None,
    ax=None,
    cmap="RdBu_r",
    colorbar=True,
):
    """Correlation of the features of sequences, as a matrix or a dendrogram.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
        Sequences, channels-last; 2-D input (also a DataFrame) is one
        timestep per sample.
    kind : {"matrix", "dendrogram"}, default="matrix"
        ``"matrix"``: the correlation matrix, features in the order of the
        dendrogram's leaves (correlated features side by side);
        ``"dendrogram"``: the hierarchical clustering on ``1 - |r|``.
    method : {"spearman", "pearson"}, default="spearman"
        The correlation, as in :func:`~seqimportance.cluster_features`.
    linkage : {"complete", "average", "single"}, default="complete"
        Linkage of the clustering.
    feature_names : array-like of str or None, default=None
        Labels; None uses a DataFrame's columns or ``"x0", "x1", ...``.
    mask_value : float or None, default=None
        Padding: steps whose features all equal it are left out.
    threshold : float or None, default=None
        With ``kind="dendrogram"``, draws the cut of
        ``cluster_features(X, threshold)`` as a dashed line at ``1 -
        threshold``.
    ax : matplotlib Axes, default=None
        Where to draw; None draws on a new figure.
    cmap : str or Colormap, default="RdBu_r"
        Colour map of the matrix, from -1 to 1.
    colorbar : bool, default=True
        Whether to add a colour bar to the matrix.

    Returns
    -------
    ax : matplotlib Axes
        For ``kind="matrix"`` the image is ``ax.images[0]``, its array the
        reordered correlation matrix.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    corr, names = correlation_and_names(X, method, mask_value, feature_names)
    n_features = corr.shape[0]
    ax = _get_ax(ax)
    Z = correlation_linkage(corr, linkage) if n_features > 1 else None
    if kind == "dendrogram":
        if Z is None:
            raise ValueError("A dendrogram needs at least two features.")
        hierarchy.dendrogram(Z, labels=names, ax=ax, orientation="top")
        ax.set_ylabel(f"1 - |{method} r| ({linkage} linkage)")
        if threshold is not None:
            ax.axhline(1 - threshold, color="grey", linestyle="--", linewidth=1)
        return ax
    order = np.arange(n_features) if Z is None else hierarchy.leaves_list(Z)
    image = ax.imshow(
        corr[np.ix_(order, order)], cmap=cmap, vmin=-1, vmax=1,
        interpolation="nearest",
    )
    labels = [names[f] for f in order]
    ax.set_xticks(np.arange(n_features), labels=labels, rotation=90)
    ax.set_yticks(np.arange(n_features), labels=labels)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=f"{method.capitalize()} correlation")
    return ax
