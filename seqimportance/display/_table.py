"""The numbers of a fitted importance, as columns and as an eli5-style text table.

Both read fitted attributes only (``feature_importances_``,
``feature_importances_std_``, ``pvalues_``, ``confidence_intervals()``,
``unit_names_``), whatever computed them; nothing here computes an
importance.
"""

import math

import numpy as np

from ._eli5 import _description, unit_labels

__all__ = [
    "describe_method",
    "format_importance_table",
    "importance_columns",
    "ranked_order",
]

COLUMNS = ("unit", "mean", "std", "ci_lower", "ci_upper", "pvalue")


def importance_columns(perm, level=0.95, feature_names=None):
    """The importances of a fitted estimator as columns, in unit order.

    The same numbers as
    :meth:`SequencePermutationImportance.to_frame
    <seqimportance.SequencePermutationImportance.to_frame>`, without pandas.

    Parameters
    ----------
    perm : SequencePermutationImportance
        A fitted meta-estimator (or another object with
        ``feature_importances_`` and ``feature_importances_std_``; the
        interval and p-value columns are NaN when it has no
        ``confidence_intervals`` or ``pvalues_``).
    level : float, default=0.95
        Confidence level of the interval columns.
    feature_names : list of str or None, default=None
        Names of the units, read as in ``eli5.explain_weights``; None uses
        ``unit_names_``.

    Returns
    -------
    columns : dict of list
        Keys ``unit`` (str), ``mean``, ``std``, ``ci_lower``, ``ci_upper``
        and ``pvalue`` (float, NaN where not available).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqimportance import SequencePermutationImportance
    >>> from seqimportance.display._table import importance_columns
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(100, 2))
    >>> y = X[:, 0]
    >>> perm = SequencePermutationImportance(
    ...     LinearRegression().fit(X, y), n_iter=3, random_state=0).fit(X, y)
    >>> columns = importance_columns(perm)
    >>> columns["unit"], round(columns["mean"][1], 3)
    (['x0', 'x1'], 0.0)
    """
    mean = np.asarray(perm.feature_importances_, dtype=float)
    std = getattr(perm, "feature_importances_std_", None)
    std = np.full_like(mean, np.nan) if std is None else np.asarray(std, dtype=float)
    if hasattr(perm, "confidence_intervals"):
        intervals = np.asarray(perm.confidence_intervals(level), dtype=float)
    else:
        intervals = np.full((mean.shape[0], 2), np.nan)
    pvalues = getattr(perm, "pvalues_", None)
    pvalues = (
        np.full_like(mean, np.nan) if pvalues is None
        else np.asarray(pvalues, dtype=float)
    )
    names = unit_labels(perm, feature_names)
    return {
        "unit": [str(name) for name in names],
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "ci_lower": [float(v) for v in intervals[:, 0]],
        "ci_upper": [float(v) for v in intervals[:, 1]],
        "pvalue": [float(v) for v in pvalues],
    }


def describe_method(perm):
    """The plain-language description of the method and its caveats.

    The text that ``eli5.show_weights(perm)`` shows above the table: what a
    unit is, what the effect measures, and ``perm.caveats_``, wrapped at 72
    characters, paragraphs separated by blank lines.
    """
    return _description(perm).strip()


def ranked_order(columns):
    """Indices of the units, most important first (ties keep unit order)."""
    return [int(i) for i in np.argsort(-np.asarray(columns["mean"]), kind="stable")]


def format_pvalue(p):
    """A p-value for display: ``"<0.001"``, 3 decimals, or ``"-"`` if NaN."""
    if p is None or math.isnan(p):
        return "-"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}"


def format_importance_table(columns, top=None):
    """An eli5-style text table: weight ± 2·std, p-value and unit, ranked.

    Parameters
    ----------
    columns : dict of list
        As returned by :func:`importance_columns`.
    top : int or None, default=None
        Show only the ``top`` most important units; None shows all.

    Returns
    -------
    text : str
        One header line and one line per unit, without a final newline.

    Examples
    --------
    >>> from seqimportance.display._table import format_importance_table
    >>> columns = {"unit": ["a", "b"], "mean": [0.1, 0.5], "std": [0.01, 0.02],
    ...            "ci_lower": [0.0, 0.4], "ci_upper": [0.2, 0.6],
    ...            "pvalue": [0.2, 0.0001]}
    >>> print(format_importance_table(columns))
    Weight ± 2·std   p-value  Feature
    0.5000 ± 0.0400   <0.001  b
    0.1000 ± 0.0200    0.200  a
    """
    order = ranked_order(columns)
    if top is not None:
        order = order[: int(top)]
    weights = [_weight(columns["mean"][i]) for i in order]
    spreads = [_weight(2 * columns["std"][i], zero="0.0000") for i in order]
    pvalues = [format_pvalue(columns["pvalue"][i]) for i in order]
    w_width = max([len(w) for w in weights] + [0])
    cells = [f"{w:>{w_width}} ± {s}" for w, s in zip(weights, spreads)]
    header = "Weight ± 2·std"
    width = max([len(header)] + [len(c) for c in cells])
    cells = [cell.ljust(width) for cell in cells]
    p_width = max([len("p-value")] + [len(p) for p in pvalues])
    lines = [f"{header.ljust(width)}  {'p-value':>{p_width}}  Feature"]
    for cell, p, i in zip(cells, pvalues, order):
        lines.append(f"{cell}  {p:>{p_width}}  {columns['unit'][i]}")
    return "\n".join(lines)


def _weight(value, zero="0"):
    """eli5's number format: 4 decimals, a bare ``0`` for an exact zero."""
    if value is None or math.isnan(value):
        return "nan"
    if value == 0:
        return zero
    return f"{value:.4f}"
