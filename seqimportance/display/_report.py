"""A self-contained HTML report of a fitted importance, to share.

One file, readable offline in any browser: no script, no external style
sheet, font or image. The figures are the package's plots
(:mod:`seqimportance.plotting`), drawn with matplotlib's Agg renderer and
embedded as base64 PNG ``data:`` URIs. The report reads the fitted
attributes of the meta-estimator (``feature_importances_``,
``importances_``, ``pvalues_``, ``confidence_intervals()``, ``caveats_``,
``estimator_``); it computes no importance.
"""

import base64
import html
import io
import os
import re

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._eli5 import _axis_kind
from ._model_summary import summarize_model
from ._table import describe_method, format_pvalue, importance_columns, ranked_order

__all__ = ["install_to_html", "report"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #1a1a1a; background: #ffffff; margin: 2em auto; max-width: 1100px;
       padding: 0 1.5em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em;
     margin-top: 1.8em; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.95em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: right; }
th { background: #e8edf3; color: #111; }
td.name, th.name { text-align: left; }
tr:nth-child(even) td { background: #f6f8fa; }
td.bar { width: 160px; text-align: left; }
td.bar span { display: inline-block; height: 0.8em; background: #1f77b4; }
dl.params { display: grid; grid-template-columns: max-content auto;
            gap: 0.15em 1.2em; }
dl.params dt { font-weight: bold; }
dl.params dd { margin: 0; font-family: monospace; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
.method p { max-width: 50em; }
footer { color: #777; font-size: 0.85em; margin-top: 3em; }
"""

_PARAMS = ("perturbation", "scale", "relative_scale", "effect", "scoring", "axis",
           "window", "groups", "n_iter", "max_samples", "mask_value",
           "data_format", "cv", "random_state")


def report(perm, path=None, *, X=None, feature_names=None, level=0.95, top=30,
           title=None, data_description=None, model_summary=None):
    """A self-contained HTML report of a fitted importance.

    The report holds the ranked table (mean, standard deviation, confidence
    interval and p-value of every unit), a bar chart with error bars, the
    importance over time and the (timestep, feature) heat map when the
    ``axis`` has them, a summary of the model (input shape, layers,
    parameters) and of the data, the options used, and the plain-language
    description of the method and its caveats that ``eli5.show_weights``
    shows. It is one HTML file with no external resource: the figures are
    PNG ``data:`` URIs, the style is inline, there is no script.

    Parameters
    ----------
    perm : SequencePermutationImportance
        A fitted meta-estimator.
    path : str, os.PathLike or None, default=None
        Where to write the report (UTF-8); None only returns it.
    X : array-like or None, default=None
        The data the importances were computed on; only its shape is
        reported. None reports the timesteps and features the estimator saw.
    feature_names : list of str or None, default=None
        Names of the units, read as in ``eli5.explain_weights`` (for
        ``axis="feature"``, one per input feature); None uses
        ``unit_names_``.
    level : float, default=0.95
        Confidence level of the intervals in the table.
    top : int or None, default=30
        Units shown in the bar chart (the most important); the table shows
        all of them. None shows all.
    title : str or None, default=None
        Title of the report; None uses a title naming the effect.
    data_description : str or None, default=None
        One line on where the data came from (a file name, a split), shown
        with its shape.
    model_summary : dict or None, default=None
        A summary of the model as :func:`summarize_model
        <seqimportance.display._model_summary.summarize_model>` gives it;
        None reads it from ``perm.estimator_``.

    Returns
    -------
    html : str
        The report.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from seqimportance import SequencePermutationImportance, report
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 5, 2))
    >>> y = X[:, :, 0].sum(axis=1)
    >>> perm = SequencePermutationImportance(
    ...     LinearRegression(), cv=None, n_iter=3, random_state=0
    ... ).fit(X.reshape(200, -1), y)
    >>> text = report(perm)
    >>> text.startswith("<!DOCTYPE html>"), "<table" in text, "http" in text
    (True, True, False)
    """
    check_is_fitted(perm, "feature_importances_")
    columns = importance_columns(perm, level, feature_names)
    if model_summary is None and hasattr(perm, "estimator_"):
        model_summary = summarize_model(perm.estimator_)
    sections = [
        _header(perm, title),
        _section("Importances", _table_html(columns, level) + _figures(
            perm, feature_names, top)),
        _section("Method and caveats", _method_html(perm)),
        _section("Options", _params_html(perm)),
        _section("Data", _data_html(perm, X, data_description)),
    ]
    if model_summary is not None:
        sections.append(_section("Model", _model_html(model_summary)))
    sections.append(_footer())
    text = _page(title or _default_title(perm), "\n".join(sections))
    if path is not None:
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(text)
    return text


def install_to_html(cls):
    """Give ``cls`` a ``to_html`` method that calls :func:`report`.

    The package calls this with the meta-estimator's class (as it does for
    the eli5 display), so that the display layer does not import the
    inspection layer, nor the inspection layer the display.
    """
    if "to_html" not in vars(cls):
        cls.to_html = to_html


def to_html(self, path=None, **kwargs):
    """A self-contained HTML report of the importances (needs matplotlib).

    The same as ``seqimportance.report(self, path, **kwargs)``: the ranked
    table, the plots, the model, the data and the description of the
    method, in one file with no external resource.

    Parameters
    ----------
    path : str, os.PathLike or None, default=None
        Where to write the report; None only returns it.
    **kwargs : dict
        Passed to :func:`seqimportance.report` (``X``, ``feature_names``,
        ``level``, ``top``, ``title``, ...).

    Returns
    -------
    html : str
        The report.
    """
    return report(self, path, **kwargs)


# --- pieces ------------------------------------------------------------------

def _esc(value):
    return html.escape(str(value), quote=True)


def _section(title, body):
    anchor = re.sub(r"[^a-z]+", "-", title.lower()).strip("-")
    return f'<section id="{anchor}">\n<h2>{_esc(title)}</h2>\n{body}\n</section>'


def _default_title(perm):
    kind = _axis_kind(perm)
    what = {"feature": "features", "timestep": "timesteps",
            "both": "(timestep, feature) cells", "groups": "groups of features"}
    return f"Importance of the {what.get(kind, 'inputs')}"


def _header(perm, title):
    n_units = len(perm.feature_importances_)
    n_repeats = np.shape(getattr(perm, "importances_", [[0]]))[-1]
    lead = (f"{n_units} units, {n_repeats} repeats each; perturbation "
            f"{getattr(perm, 'perturbation', '?')!s}, effect "
            f"{getattr(perm, 'effect', '?')!s}.")
    return (f"<header>\n<h1>{_esc(title or _default_title(perm))}</h1>\n"
            f'<p class="lead">{_esc(lead)}</p>\n</header>')


def _number(value):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.4f}"


def _table_html(columns, level):
    order = ranked_order(columns)
    peak = max([abs(v) for v in columns["mean"] if np.isfinite(v)] + [1e-300])
    rows = []
    for rank, i in enumerate(order, start=1):
        mean = columns["mean"][i]
        width = 0 if not np.isfinite(mean) else max(0.0, mean) / peak * 150
        rows.append(
            "<tr>"
            f"<td>{rank}</td><td class=\"name\">{_esc(columns['unit'][i])}</td>"
            f"<td>{_number(mean)}</td><td>{_number(columns['std'][i])}</td>"
            f"<td>{_number(columns['ci_lower'][i])}</td>"
            f"<td>{_number(columns['ci_upper'][i])}</td>"
            f"<td>{_esc(format_pvalue(columns['pvalue'][i]))}</td>"
            f'<td class="bar"><span style="width: {width:.0f}px"></span></td>'
            "</tr>"
        )
    pct = f"{100 * level:g}%"
    head = (
        '<table class="importances">\n<thead><tr><th>Rank</th>'
        '<th class="name">Unit</th><th>Mean</th><th>Std</th>'
        f"<th>{pct} CI lower</th><th>{pct} CI upper</th><th>p-value</th>"
        '<th class="name"></th></tr></thead>\n<tbody>\n'
    )
    note = (
        "<p>Mean and standard deviation over the repeats; the interval is the "
        f"{pct} t-interval of the mean and the p-value the one-sided test of "
        '"the mean importance is greater than 0" (see the method below).</p>'
    )
    return head + "\n".join(rows) + "\n</tbody>\n</table>\n" + note


def _figures(perm, feature_names, top):
    from ._plots import (
        plot_importance_heatmap,
        plot_importances,
        plot_timestep_importances,
    )

    kind = _axis_kind(perm)
    n_units = len(perm.feature_importances_)
    shown = n_units if top is None else min(n_units, int(top))
    out = []
    fig, ax = _figure(8.0, 1.2 + 0.32 * shown)
    plot_importances(perm, ax=ax, top=top, feature_names=feature_names, n_std=2.0)
    caption = "Mean importance, error bars: 2 standard deviations of the repeats"
    if shown < n_units:
        caption += f"; the {shown} most important of {n_units} units"
    out.append(_img(fig, "Bar chart of the importances", caption + "."))
    names = _input_feature_names(perm, feature_names)
    if kind in ("timestep", "both"):
        fig, ax = _figure(8.0, 3.6)
        plot_timestep_importances(
            perm, ax=ax, feature_names=names if kind == "both" else None)
        out.append(_img(fig, "Importance over time",
                        "Importance over time, band: 1 standard deviation."))
    if kind == "both":
        n_features = int(getattr(perm, "n_features_in_", 1))
        fig, ax = _figure(8.0, 1.4 + 0.35 * n_features)
        plot_importance_heatmap(perm, ax=ax, feature_names=names)
        out.append(_img(fig, "Heat map of the importances",
                        "Importance of each (timestep, feature) cell."))
    return "\n".join(out)


def _input_feature_names(perm, feature_names):
    n_features = getattr(perm, "n_features_in_", None)
    if feature_names is not None and len(feature_names) == n_features:
        return [str(n) for n in feature_names]
    given = getattr(perm, "feature_names", None)
    if given is not None and len(given) == n_features:
        return [str(n) for n in given]
    return None


def _figure(width, height):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, min(max(height, 2.4), 14.0)), layout="constrained")
    return fig, fig.subplots()


def _img(fig, alt, caption):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _method_html(perm):
    paragraphs = [p for p in re.split(r"\n\s*\n", describe_method(perm)) if p.strip()]
    body = "\n".join(f"<p>{_esc(' '.join(p.split()))}</p>" for p in paragraphs)
    return f'<div class="method">\n{body}\n</div>'


def _params_html(perm):
    params = perm.get_params(deep=False) if hasattr(perm, "get_params") else {}
    items = []
    for name in _PARAMS:
        if name not in params:
            continue
        value = params[name]
        if callable(value) and not isinstance(value, type):
            value = getattr(value, "__name__", type(value).__name__)
        items.append(f"<dt>{_esc(name)}</dt><dd>{_esc(repr(value))}</dd>")
    return '<dl class="params">\n' + "\n".join(items) + "\n</dl>"


def _data_html(perm, X, description):
    n_timesteps = getattr(perm, "n_timesteps_in_", None)
    n_features = getattr(perm, "n_features_in_", None)
    rows = []
    if description:
        rows.append(("Source", description))
    if X is not None:
        rows.append(("Shape", " x ".join(str(d) for d in np.shape(X))))
    rows.append(("Timesteps per sample", n_timesteps))
    rows.append(("Features per timestep", n_features))
    names = getattr(perm, "feature_names_in_", None)
    if names is None:
        names = getattr(perm, "feature_names", None)
    if names is not None:
        rows.append(("Feature names", ", ".join(str(n) for n in names)))
    support = getattr(perm, "unit_support_", None)
    if getattr(perm, "mask_value", None) is not None and support is not None:
        rows.append(("Real samples per unit", f"{int(np.min(support))} to "
                                              f"{int(np.max(support))}"))
    return _kv_table(rows)


def _kv_table(rows):
    body = "\n".join(
        f'<tr><th class="name">{_esc(k)}</th><td class="name">{_esc(v)}</td></tr>'
        for k, v in rows if v is not None
    )
    return f'<table class="summary">\n{body}\n</table>'


def _model_html(summary):
    rows = [("Model", summary.get("description", summary.get("name")))]
    if summary.get("kind") != "keras":
        rows.append(("Input features", summary.get("n_features_in")))
        return _kv_table(rows)
    rows += [("Input shape", summary.get("input_shape")),
             ("Output shape", summary.get("output_shape")),
             ("Parameters", summary.get("total_params")),
             ("Trainable parameters", summary.get("trainable_params"))]
    layers = "\n".join(
        f'<tr><td class="name">{_esc(name)}</td><td class="name">{_esc(kind)}</td>'
        f'<td class="name">{_esc(shape)}</td>'
        f"<td>{'-' if params is None else params}</td></tr>"
        for name, kind, shape, params in summary.get("layers", [])
    )
    table = (
        '<table class="layers">\n<thead><tr><th class="name">Layer</th>'
        '<th class="name">Type</th><th class="name">Output shape</th>'
        f"<th>Parameters</th></tr></thead>\n<tbody>\n{layers}\n</tbody>\n</table>"
    )
    return _kv_table(rows) + "\n" + table


def _footer():
    from .._version import __version__

    return f"<footer>Made with seqimportance {_esc(__version__)}.</footer>"


def _page(title, body):
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )
