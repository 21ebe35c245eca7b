"""Plots of sequence importances (matplotlib, imported on first use).

Every function takes an ``ax=`` and returns the Axes it drew on, in the
matplotlib way, so plots compose into the user's own figures. Each accepts a
fitted :class:`~seqimportance.SequencePermutationImportance` (an unfitted one
raises :class:`~sklearn.exceptions.NotFittedError`), and also plain numbers:
eli5's ``PermutationImportance``, the ``Bunch`` returned by
:func:`sklearn.inspection.permutation_importance`, or arrays.

Install matplotlib with ``pip install "seqimportance[plot]"``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..core._statistics import importance_intervals, importance_pvalues
from ._eli5 import unit_labels

__all__ = [
    "plot_importances",
    "plot_importance_distribution",
    "plot_timestep_importances",
    "plot_importance_heatmap",
]

_EFFECT_LABELS = {
    "score": "Importance (decrease in score)",
    "rms": "Importance (RMS change of predictions)",
    "mae": "Importance (mean absolute change of predictions)",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib; install it with "
            "pip install 'seqimportance[plot]'."
        ) from exc
    return plt


def _get_ax(ax):
    if ax is None:
        _, ax = _pyplot().subplots()
    return ax


def _is_estimator(obj):
    return hasattr(obj, "fit") and hasattr(obj, "get_params")


class _Importances:
    """The numbers a plot needs, read from any accepted input."""

    def __init__(self, mean, std=None, raw=None, estimator=None):
        self.mean = np.asarray(mean, dtype=float)
        self.std = None if std is None else np.asarray(std, dtype=float)
        self.raw = None if raw is None else np.asarray(raw, dtype=float)
        self.estimator = estimator

    @property
    def n_units(self):
        return self.mean.shape[0]

    def names(self, feature_names=None):
        if self.estimator is not None:
            return np.asarray(unit_labels(self.estimator, feature_names), dtype=str)
        if feature_names is None:
            return np.array([f"x{i}" for i in range(self.n_units)])
        names = np.asarray([str(n) for n in feature_names])
        if names.shape[0] != self.n_units:
            raise ValueError(
                f"feature_names has {names.shape[0]} names; expected one per "
                f"unit ({self.n_units})."
            )
        return names

    def xlabel(self):
        effect = getattr(self.estimator, "effect", None)
        return _EFFECT_LABELS.get(effect, "Importance")

    def axis(self):
        if self.estimator is None:
            return None
        if getattr(self.estimator, "groups", None) is not None:
            return "groups"
        return getattr(self.estimator, "axis", "feature")


def _read(obj, *, param="perm_or_importances"):
    """Accept a fitted estimator, a Bunch/dict or an array of importances."""
    if _is_estimator(obj):
        check_is_fitted(obj, "feature_importances_")
        raw = getattr(obj, "importances_", None)
        if raw is None and getattr(obj, "results_", None) is not None:
            raw = np.asarray(obj.results_).T
        return _Importances(
            obj.feature_importances_,
            getattr(obj, "feature_importances_std_", None),
            raw,
            estimator=obj,
        )
    if hasattr(obj, "keys") and "importances_mean" in obj:
        return _Importances(
            obj["importances_mean"], obj.get("importances_std"), obj.get("importances")
        )
    try:
        values = np.asarray(obj, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim not in (1, 2) or values.size == 0:
        raise TypeError(
            f"{param} must be a fitted SequencePermutationImportance (or another "
            "estimator with feature_importances_), a Bunch with "
            "importances_mean, or an array of shape (n_units,) or "
            f"(n_units, n_repeats); got {type(obj).__name__}"
            + ("" if values is None else f" of shape {values.shape}")
            + "."
        )
    if values.ndim == 1:
        return _Importances(values)
    return _Importances(values.mean(axis=1), values.std(axis=1), values)


def _order(mean, top):
    order = np.argsort(-mean, kind="stable")
    if top is not None:
        if int(top) < 1:
            raise ValueError(f"top must be a positive int or None; got {top!r}.")
        order = order[: int(top)]
    return order


def plot_importances(
    perm_or_importances,
    *,
    ax=None,
    top=None,
    feature_names=None,
    n_std=1.0,
    ci=None,
    alpha=None,
    color="C0",
    **bar_kws,
):
    """Horizontal bar chart of importances with error bars, largest on top.

    Parameters
    ----------
    perm_or_importances : SequencePermutationImportance, Bunch or array-like
        A fitted meta-estimator (any estimator with ``feature_importances_``
        and ``feature_importances_std_``, such as eli5's
        ``PermutationImportance``), the ``Bunch`` of
        :func:`sklearn.inspection.permutation_importance`, or an array of
        shape ``(n_units,)`` (no error bars) or ``(n_units, n_repeats)``.
    ax : matplotlib Axes, default=None
        Where to draw; None draws on a new figure.
    top : int, default=None
        Show only the ``top`` most important units.
    feature_names : list of str, default=None
        Names to show; for a fitted meta-estimator they are read as in
        ``eli5.explain_weights`` (one per input feature, mapped to units).
        None uses ``unit_names_`` (or ``x0, x1, ...``).
    n_std : float, default=1.0
        Error bars span ``n_std`` standard deviations of the repeats on each
        side (eli5's tables show 2).
    ci : float or None, default=None
        Draw confidence intervals of the mean at this level (e.g. 0.95)
        instead of ``n_std`` standard deviations: those of
        :meth:`~seqimportance.SequencePermutationImportance.confidence_intervals`,
        or t-intervals over the repeats for other inputs.
    alpha : float or None, default=None
        Mark the units whose p-value is below ``alpha`` with a star (the
        line labelled ``"p < alpha"``): ``pvalues_`` of a fitted
        meta-estimator, ``pvalues`` of the Bunch of
        :func:`~seqimportance.permutation_test_importance`, or a one-sided
        t-test over the repeats for other inputs.
    color : color, default="C0"
        Bar colour.
    **bar_kws
        Passed to :meth:`matplotlib.axes.Axes.barh`.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.display._plots import plot_importances
    >>> ax = plot_importances(np.array([[0.0, 0.5], [1.0, 2.0]]))
    >>> [float(bar.get_width()) for bar in ax.patches]
    [1.5, 0.25]
    >>> [tick.get_text() for tick in ax.get_yticklabels()]
    ['x1', 'x0']
    """
    data = _read(perm_or_importances)
    names = data.names(feature_names)
    order = _order(data.mean, top)
    xerr = None if data.std is None else n_std * data.std[order]
    if ci is not None:
        bounds = _intervals(perm_or_importances, data, ci)[order]
        xerr = np.abs(bounds - data.mean[order, np.newaxis]).T
    ax = _get_ax(ax)
    positions = np.arange(order.shape[0])
    ax.barh(
        positions,
        data.mean[order],
        xerr=xerr,
        color=color,
        capsize=3,
        error_kw={"ecolor": "0.25"},
        **bar_kws,
    )
    ax.set_yticks(positions, labels=list(names[order]))
    ax.set_ylim(positions[-1] + 0.6, -0.6)  # largest on top
    if alpha is not None:
        _mark_significant(ax, perm_or_importances, data, order, xerr, alpha)
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel(data.xlabel())
    return ax


def _intervals(obj, data, level):
    """(n_units, 2) confidence intervals of the mean, for any accepted input."""
    if hasattr(obj, "confidence_intervals"):
        return obj.confidence_intervals(level)
    if data.raw is None:
        raise ValueError(
            "ci needs the importance of every repeat (importances of shape "
            "(n_units, n_repeats)); got only one value per unit."
        )
    return importance_intervals(data.raw, level=level)


def _pvalues(obj, data):
    pvalues = getattr(obj, "pvalues_", None)
    if pvalues is None and hasattr(obj, "keys") and "pvalues" in obj:
        pvalues = obj["pvalues"]
    if pvalues is not None:
        return np.asarray(pvalues, dtype=float)
    if data.raw is None:
        raise ValueError(
            "alpha needs p-values (pvalues_, a Bunch with pvalues) or the "
            "importance of every repeat; got only one value per unit."
        )
    return importance_pvalues(data.raw)


def _mark_significant(ax, obj, data, order, xerr, alpha):
    """A star right of each bar whose unit has a p-value below alpha."""
    significant = _pvalues(obj, data)[order] < alpha
    ends = data.mean[order].copy()
    if xerr is not None:
        ends += np.nan_to_num(np.atleast_2d(xerr)[-1])
    pad = 0.03 * max(np.nanmax(np.abs(ends)), 1e-12)
    positions = np.arange(order.shape[0])
    ax.plot(
        np.maximum(ends, 0.0)[significant] + pad,
        positions[significant],
        linestyle="none",
        marker="*",
        color="k",
        label=f"p < {alpha:g}",
    )
    ax.legend(loc="lower right")


def plot_importance_distribution(
    perm_or_importances, *, ax=None, top=None, feature_names=None, **boxplot_kws
):
    """Box plot of the importances over repeats (and folds), largest on top.

    Shows what a mean and a standard deviation hide: skew, outliers, and
    whether the repeats of two units overlap.

    Parameters
    ----------
    perm_or_importances : SequencePermutationImportance, Bunch or array-like
        A fitted meta-estimator (its ``importances_``), the ``Bunch`` of
        :func:`sklearn.inspection.permutation_importance`, or an array of
        shape ``(n_units, n_repeats)``.
    ax : matplotlib Axes, default=None
        Where to draw; None draws on a new figure.
    top : int, default=None
        Show only the ``top`` units with the largest mean importance.
    feature_names : list of str, default=None
        Names to show, as in :func:`plot_importances`.
    **boxplot_kws
        Passed to :meth:`matplotlib.axes.Axes.boxplot`.

    Returns
    -------
    ax : matplotlib Axes
    """
    data = _read(perm_or_importances)
    if data.raw is None:
        raise ValueError(
            "plot_importance_distribution needs the importance of every repeat "
            "(importances_ of shape (n_units, n_repeats)); got only one value "
            "per unit."
        )
    names = data.names(feature_names)
    order = _order(data.mean, top)
    ax = _get_ax(ax)
    positions = np.arange(1, order.shape[0] + 1)
    _boxplot_h(ax, [data.raw[i] for i in order], positions, list(names[order]),
               **boxplot_kws)
    ax.set_ylim(positions[-1] + 0.6, 0.4)  # largest on top
    ax.axvline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel(data.xlabel())
    return ax


def _boxplot_h(ax, values, positions, labels, **kws):
    import matplotlib

    major, minor = (int(v) for v in matplotlib.__version__.split(".")[:2])
    if (major, minor) >= (3, 10):
        kws.setdefault("orientation", "horizontal")
        kws.setdefault("tick_labels", labels)
    else:  # pragma: no cover - older matplotlib
        kws.setdefault("vert", False)
        kws.setdefault("labels", labels)
    ax.boxplot(values, positions=positions, **kws)


def _check_axis(data, allowed, func):
    axis = data.axis()
    if axis is not None and axis not in allowed:
        raise ValueError(
            f"{func} needs importances computed with axis in {sorted(allowed)}; "
            f"this estimator has axis={axis!r}."
        )
    return axis


def _feature_axis_names(estimator, n_features, feature_names):
    if feature_names is not None:
        names = [str(n) for n in feature_names]
        if len(names) != n_features:
            raise ValueError(
                f"feature_names has {len(names)} names; expected one per input "
                f"feature ({n_features})."
            )
        return names
    names_in = getattr(estimator, "feature_names_in_", None)
    if names_in is not None:
        return [str(n) for n in names_in]
    return [f"x{f}" for f in range(n_features)]


def _time_positions(estimator, n_t):
    """x values of the time units (the first timestep of each window) and label."""
    window = getattr(estimator, "window", 1) if estimator is not None else 1
    units = getattr(estimator, "units_", None)
    if units is None or not window or window == 1:
        return np.arange(n_t), "Timestep"
    starts = np.unique([int(np.asarray(t).ravel()[0]) for t, _ in units])
    return starts, f"Timestep (start of each window of {window})"


def _importance_map(data):
    """(mean, std) as (n_timesteps, n_features) arrays for axis="both"."""
    est = data.estimator
    n_f = est.n_features_in_
    n_t = data.mean.shape[0] // n_f  # timesteps, or windows of them
    mean = data.mean.reshape(n_t, n_f)
    std = None if data.std is None else data.std.reshape(n_t, n_f)
    return mean, std


def plot_timestep_importances(
    perm_or_importances,
    *,
    ax=None,
    timesteps=None,
    feature_names=None,
    n_std=1.0,
    kind="line",
    label=None,
    **plot_kws,
):
    """Importance over time, with a band of ``n_std`` standard deviations.

    For ``axis="timestep"`` one curve shows how much each timestep matters;
    for ``axis="both"`` there is one curve per feature.

    Parameters
    ----------
    perm_or_importances : SequencePermutationImportance, Bunch or array-like
        A meta-estimator fitted with ``axis="timestep"`` or ``axis="both"``,
        or timestep importances: an array of shape ``(n_timesteps,)`` or
        ``(n_timesteps, n_repeats)``, or a ``Bunch`` with
        ``importances_mean``.
    ax : matplotlib Axes, default=None
        Where to draw; None draws on a new figure.
    timesteps : array-like of shape (n_timesteps,), default=None
        x values (numbers, or dates); None uses ``0 .. n_timesteps - 1``.
    feature_names : list of str, default=None
        Legend labels for ``axis="both"`` (one per input feature).
    n_std : float, default=1.0
        Half-width of the band, in standard deviations of the repeats; 0
        draws no band.
    kind : {"line", "bar"}, default="line"
        Curve with a shaded band, or bars with error bars (one curve only).
    label : str, default=None
        Legend label of the curve (single-curve plots).
    **plot_kws
        Passed to :meth:`matplotlib.axes.Axes.plot` or
        :meth:`~matplotlib.axes.Axes.bar`.

    Returns
    -------
    ax : matplotlib Axes
    """
    if kind not in ("line", "bar"):
        raise ValueError(f"kind must be 'line' or 'bar'; got {kind!r}.")
    data = _read(perm_or_importances)
    axis = _check_axis(data, {"timestep", "both"}, "plot_timestep_importances")
    if axis == "both":
        mean, std = _importance_map(data)
        curves = list(mean.T)
        stds = [None] * len(curves) if std is None else list(std.T)
        labels = _feature_axis_names(data.estimator, mean.shape[1], feature_names)
        if kind == "bar":
            raise ValueError(
                "kind='bar' draws one curve; for axis='both' use kind='line' "
                "or plot_importance_heatmap."
            )
    else:
        curves, stds, labels = [data.mean], [data.std], [label]
    n_t = curves[0].shape[0]
    x, time_label = _time_positions(data.estimator, n_t)
    x = x if timesteps is None else np.asarray(timesteps)
    if x.shape[0] != n_t:
        raise ValueError(
            f"timesteps has {x.shape[0]} values; expected one per timestep ({n_t})."
        )
    ax = _get_ax(ax)
    for i, (y, s, lab) in enumerate(zip(curves, stds, labels)):
        color = plot_kws.pop("color", None) if len(curves) == 1 else f"C{i}"
        if kind == "bar":
            yerr = None if (s is None or n_std == 0) else n_std * s
            ax.bar(x, y, yerr=yerr, color=color or "C0", capsize=3, label=lab,
                   **plot_kws)
            continue
        (line,) = ax.plot(x, y, marker="o", color=color, label=lab, **plot_kws)
        if s is not None and n_std > 0:
            ax.fill_between(x, y - n_std * s, y + n_std * s,
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel(time_label)
    ax.set_ylabel(data.xlabel())
    if len(curves) > 1 or label is not None:
        ax.legend()
    return ax


def plot_importance_heatmap(
    perm_or_map,
    *,
    ax=None,
    feature_names=None,
    timesteps=None,
    cmap="viridis",
    colorbar=True,
    **imshow_kws,
):
    """Heat map of a (timestep, feature) importance map; time runs left to right.

    Parameters
    ----------
    perm_or_map : SequencePermutationImportance or array-like
        A meta-estimator fitted with ``axis="both"`` (its map is
        ``feature_importances_.reshape(n_timesteps_in_, n_features_in_)``),
        or an array of shape ``(n_timesteps, n_features)``.
    ax : matplotlib Axes, default=None
        Where to draw; None draws on a new figure.
    feature_names : list of str, default=None
        Row labels, one per input feature.
    timesteps : array-like of shape (n_timesteps,), default=None
        Column labels; None uses ``0 .. n_timesteps - 1``.
    cmap : str or Colormap, default="viridis"
        Colour map.
    colorbar : bool, default=True
        Whether to add a colour bar to the figure.
    **imshow_kws
        Passed to :meth:`matplotlib.axes.Axes.imshow`.

    Returns
    -------
    ax : matplotlib Axes
        The image is ``ax.images[0]``; its array is the map transposed,
        shape ``(n_features, n_timesteps)``.
    """
    if _is_estimator(perm_or_map):
        data = _read(perm_or_map, param="perm_or_map")
        _check_axis(data, {"both"}, "plot_importance_heatmap")
        imap, _ = _importance_map(data)
        label = data.xlabel()
        estimator = data.estimator
    else:
        imap = np.asarray(perm_or_map, dtype=float)
        if imap.ndim != 2:
            raise ValueError(
                "perm_or_map must be a fitted SequencePermutationImportance "
                "with axis='both' or an array of shape (n_timesteps, "
                f"n_features); got an array of shape {imap.shape}."
            )
        label, estimator = "Importance", None
    n_t, n_f = imap.shape
    names = _feature_axis_names(estimator, n_f, feature_names)
    ticks, time_label = _time_positions(estimator, n_t)
    ticks = ticks if timesteps is None else np.asarray(timesteps)
    if ticks.shape[0] != n_t:
        raise ValueError(
            f"timesteps has {ticks.shape[0]} values; expected one per timestep "
            f"({n_t})."
        )
    ax = _get_ax(ax)
    image = ax.imshow(imap.T, aspect="auto", cmap=cmap, interpolation="nearest",
                      **imshow_kws)
    ax.set_yticks(np.arange(n_f), labels=names)
    step = max(1, n_t // 12)
    ax.set_xticks(np.arange(0, n_t, step), labels=[str(t) for t in ticks[::step]])
    ax.set_xlabel(time_label)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=label)
    return ax
