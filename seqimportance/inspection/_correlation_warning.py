"""A warning when correlated features both rank high under a marginal perturbation.

A marginal perturbation (a shuffle, noise, a constant) of one of two strongly
correlated features asks the model about combinations that the data never
shows, and leaves the information of the feature in its twin: neither
importance then says what the feature adds. After :meth:`fit
<seqimportance.SequencePermutationImportance.fit>` with ``axis="feature"``,
the most important features are checked for such pairs.
"""

import warnings

import numpy as np

from ..core._clustering import step_correlation
from ..core._masking import real_step_values

__all__ = ["CORRELATION_THRESHOLD", "TOP_FEATURES", "warn_correlated_top_features"]

#: |Spearman r| above which two high-ranking features are reported.
CORRELATION_THRESHOLD = 0.8
#: How many of the most important features are checked.
TOP_FEATURES = 5


def warn_correlated_top_features(perm, X3d, valid):
    """Warn when two of the most important features are strongly correlated.

    Parameters
    ----------
    perm : SequencePermutationImportance
        Fitted; only ``axis="feature"`` without ``groups`` and a built-in
        perturbation other than ``"conditional"`` are checked.
    X3d : ndarray of shape (n_samples, n_timesteps, n_features)
        The data given to ``fit``, channels-last.
    valid : ndarray of bool of shape (n_samples, n_timesteps) or None
        Its real steps.
    """
    kind = perm.perturbation
    if callable(kind) or kind == "conditional":
        return
    if perm.axis != "feature" or perm.groups is not None:
        return
    mean = np.asarray(perm.feature_importances_, dtype=float)
    order = [u for u in np.argsort(-mean, kind="stable")[:TOP_FEATURES] if mean[u] > 0]
    if len(order) < 2:
        return
    values = real_step_values(X3d[:, :, order], valid)
    corr = step_correlation(values, "spearman")
    names = perm.unit_names_
    pairs = [
        f"{names[order[a]]} and {names[order[b]]} (r = {corr[a, b]:.2f})"
        for a in range(len(order))
        for b in range(a + 1, len(order))
        if abs(corr[a, b]) > CORRELATION_THRESHOLD
    ]
    if not pairs:
        return
    warnings.warn(
        f"Strongly correlated features rank among the {TOP_FEATURES} most "
        f"important: {'; '.join(pairs)} (Spearman correlation over samples and "
        f"timesteps). perturbation={kind!r} changes one feature of a pair "
        "without the other, so the model is asked about combinations the data "
        "never shows, and the information of each stays in its twin: neither "
        "importance says what the feature adds. Use perturbation='conditional' "
        "for what each feature adds beyond the others, or group them with "
        "seqimportance.cluster_features(X) and pass the result as groups=.",
        UserWarning,
        stacklevel=3,
    )
