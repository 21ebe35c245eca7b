"""eli5 display of :class:`~seqimportance.SequencePermutationImportance`.

``eli5.explain_weights`` is a ``singledispatch`` function; this module
registers one more implementation for our meta-estimator, mirroring eli5's
own ``explain_permutation_importance``. Afterwards ``eli5.show_weights``,
``eli5.format_as_text``, ``eli5.format_as_html`` and
``eli5.format_as_dataframe`` read a fitted ``SequencePermutationImportance``
exactly as they read eli5's ``PermutationImportance``.

``import eli5`` is slow and starts TensorFlow (through ``eli5.keras``), so
``import seqimportance`` does not import it. Instead:

* if eli5 is already imported, the function is registered at once;
* otherwise a small import hook waits for ``eli5`` and registers the
  function as soon as eli5's own ``__init__`` has run.

Either way ``eli5.explain_weights(perm)`` works whatever the import order,
and neither eli5, TensorFlow nor IPython is imported by seqimportance itself.
"""

import importlib.abc
import re
import sys
import textwrap
import threading
import warnings

import numpy as np
from sklearn.base import is_regressor

from ..core._perturbation import timestep_label

__all__ = ["explain_sequence_permutation_importance"]

_TOP = 20  # eli5's default for explain_weights

DESCRIPTION = (
    "Importances of the inputs of a sequence model: how much the "
    "{effect_what} when the values of one unit ({unit_what}) are perturbed, "
    "averaged over repeats. Rows are sorted by importance; "
    '"weight ± 2·std" spans two standard deviations of the repeats.'
)

_UNIT_WHAT = {
    "feature": "one feature at every timestep",
    "timestep": "one timestep, every feature",
    "both": "one feature at one timestep",
    "groups": "one group of features at every timestep",
}


def explain_sequence_permutation_importance(
    estimator,
    vec=None,
    top=_TOP,
    target_names=None,  # ignored, as in eli5's PermutationImportance
    targets=None,  # ignored
    feature_names=None,
    feature_re=None,
    feature_filter=None,
):
    """Return an eli5 ``Explanation`` of a fitted SequencePermutationImportance.

    Registered with ``eli5.explain_weights``; call it through
    ``eli5.explain_weights(perm, ...)`` or ``eli5.show_weights(perm, ...)``.

    Parameters
    ----------
    estimator : SequencePermutationImportance
        A fitted instance.
    vec : object, default=None
        Something with ``get_feature_names_out()`` giving one name per input
        feature; used only when ``feature_names`` is None.
    top : int or None, default=20
        Number of units to show, the most important first; None shows all.
    target_names, targets : ignored
        Accepted for compatibility with ``eli5.explain_weights``.
    feature_names : list of str, eli5 FeatureNames or None, default=None
        Names to show. None uses ``estimator.unit_names_``. A list is read
        according to the estimator's ``axis``:

        * ``axis="feature"``: one name per input feature;
        * ``groups``: one name per input feature, shown as
          ``"group (name_a, name_b)"``, or one name per group;
        * ``axis="both"``: one name per input feature, shown as
          ``"name@t3"``, or one name per (timestep, feature) unit;
        * ``axis="timestep"``: one name per timestep (for example dates or
          lags); names of features do not apply, because a timestep unit
          spans every feature.
    feature_re : str or compiled regex, default=None
        Show only units whose name matches (``re.search``).
    feature_filter : callable, default=None
        Show only units whose name passes ``feature_filter(name)``.

    Returns
    -------
    explanation : eli5.base.Explanation
        With ``feature_importances`` (name, weight, std) sorted by weight,
        and a description that ends with ``estimator.caveats_``.
    """
    from eli5._feature_importances import get_feature_importance_explanation
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "feature_importances_")
    coef = np.asarray(estimator.feature_importances_)
    coef_std = np.asarray(estimator.feature_importances_std_)
    if feature_names is None and vec is not None:
        if hasattr(vec, "get_feature_names_out"):
            feature_names = np.asarray(vec.get_feature_names_out())
    names = unit_labels(estimator, feature_names)
    explanation = get_feature_importance_explanation(
        estimator,
        None,
        coef,
        coef_std=coef_std,
        feature_names=names,
        feature_filter=feature_filter,
        feature_re=feature_re,
        top=top,
        description=_description(estimator),
        is_regression=_is_regression(estimator),
        num_features=coef.shape[0],
    )
    return explanation


def _is_regression(estimator):
    inner = getattr(estimator, "estimator_", None)
    try:
        return bool(inner is not None and is_regressor(inner))
    except AttributeError:  # an estimator without scikit-learn tags
        return False


def _axis_kind(estimator):
    if getattr(estimator, "groups", None) is not None:
        return "groups"
    return getattr(estimator, "axis", "feature")


def _description(estimator):
    effect = getattr(estimator, "effect", "score")
    if effect == "score":
        effect_what = "score drops"
    elif effect == "mae":
        effect_what = "predictions change (mean absolute change)"
    else:
        effect_what = "predictions change (root mean square change)"
    unit_what = _UNIT_WHAT.get(_axis_kind(estimator), "a set of inputs")
    text = textwrap.fill(
        DESCRIPTION.format(effect_what=effect_what, unit_what=unit_what), width=72
    )
    caveats = (getattr(estimator, "caveats_", "") or "").strip()
    caveats = "\n\n".join(  # re-wrap each paragraph to the width of the text
        textwrap.fill(" ".join(paragraph.split()), width=72)
        for paragraph in re.split(r"\n\s*\n", caveats)
    )
    return "\n" + text + "\n" + ("\n" + caveats + "\n" if caveats else "")


def unit_labels(estimator, feature_names=None):
    """Names of the units of a fitted estimator, for display.

    Parameters
    ----------
    estimator : SequencePermutationImportance
        A fitted instance.
    feature_names : list of str, eli5 FeatureNames or None, default=None
        See :func:`explain_sequence_permutation_importance`.

    Returns
    -------
    names : ndarray of str or eli5 FeatureNames
        One name per unit, in unit order.
    """
    n_units = len(estimator.feature_importances_)
    if feature_names is None:
        names = getattr(estimator, "unit_names_", None)
        if names is None:
            return np.array([f"x{i}" for i in range(n_units)])
        return _with_support(estimator, np.asarray(names, dtype=object))
    if type(feature_names).__name__ == "FeatureNames":
        return feature_names  # eli5 checks its length
    if isinstance(feature_names, str):
        raise TypeError(
            "feature_names must be a list of names, not a single string; "
            f"got {feature_names!r}."
        )
    names = [str(name) for name in feature_names]
    kind = _axis_kind(estimator)
    n_features = getattr(estimator, "n_features_in_", None)
    units = getattr(estimator, "units_", None)
    if kind in ("groups", "both") and len(names) == n_features and units is not None:
        labels = getattr(estimator, "unit_names_", None)
        out = []
        for i, (t_idx, f_idx) in enumerate(units):
            members = [names[f] for f in np.asarray(f_idx).ravel()]
            if kind == "both":
                out.append(f"{members[0]}@{timestep_label(t_idx)}")
            else:
                group = labels[i] if labels is not None else f"g{i}"
                out.append(f"{group} ({', '.join(members)})")
        return np.asarray(out, dtype=object)
    if len(names) == n_units:
        return np.asarray(names, dtype=object)
    if kind == "timestep":
        expected = f"one name per timestep ({n_units})"
    elif kind == "groups":
        expected = f"one name per input feature ({n_features}) or per group ({n_units})"
    elif kind == "both":
        expected = (
            f"one name per input feature ({n_features}) or per "
            f"(timestep, feature) unit ({n_units})"
        )
    else:
        expected = f"one name per input feature ({n_units})"
    raise ValueError(
        f"feature_names has {len(names)} names; with axis={kind!r} it must "
        f"have {expected}."
    )


def _with_support(estimator, names):
    """With padding, say how many samples are real in each unit, if they differ."""
    support = getattr(estimator, "unit_support_", None)
    if getattr(estimator, "mask_value", None) is None or support is None:
        return names
    support = np.asarray(support)
    if support.size == 0 or (support == support[0]).all():
        return names
    return np.array(
        [f"{name} [{s} real]" for name, s in zip(names, support)], dtype=object
    )


# --- registration -----------------------------------------------------------

_registered = False
_explained = []  # the meta-estimator class, given by install_eli5_display
_lock = threading.Lock()


def register():
    """Register the explanation with eli5 (imports eli5); idempotent."""
    global _registered
    with _lock:
        if _registered or not _explained:
            return
        from eli5.sklearn.explain_weights import register as eli5_register

        eli5_register(_explained[0])(explain_sequence_permutation_importance)
        _registered = True


class _Eli5ImportHook(importlib.abc.MetaPathFinder):
    """Registers the explanation right after ``eli5`` itself is imported.

    The hook only finds the real spec of ``eli5`` through the other finders
    and wraps its loader's ``exec_module`` (on that loader instance, so the
    module keeps its own loader and spec); it removes itself afterwards.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "eli5":
            return None
        spec = None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec
        _remove_hook()

        def exec_and_register(module):
            exec_module(module)
            try:
                register()
            except Exception as exc:  # never break the user's `import eli5`
                warnings.warn(
                    "seqimportance could not register its eli5 display: "
                    f"{exc!r}",
                    RuntimeWarning,
                    stacklevel=2,
                )

        loader.exec_module = exec_and_register
        return spec


_hook = _Eli5ImportHook()


def _remove_hook():
    try:
        sys.meta_path.remove(_hook)
    except ValueError:
        pass


def install_eli5_display(cls):
    """Show fitted ``cls`` instances through ``eli5.explain_weights``.

    Registers at once if eli5 is imported, otherwise right after its import
    (the package calls this with the meta-estimator's class, so that the
    display layer does not import the inspection layer).
    """
    if not _explained:
        _explained.append(cls)
    eli5 = sys.modules.get("eli5")
    if eli5 is not None and hasattr(eli5, "explain_weights"):
        register()
    elif not any(isinstance(f, _Eli5ImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _hook)

