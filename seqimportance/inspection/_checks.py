"""Checks that stop importances from being silently meaningless.

Each names the cause and the fix: a scorer that needs ``y`` without one, a
baseline score that is NaN (so every importance would be NaN), and
importances that are all exactly 0 (a constant model, or a perturbation
that changes nothing).
"""

import warnings

import numpy as np
from sklearn.base import is_classifier, is_regressor

__all__ = ["check_baseline_score", "check_target_for_scoring", "warn_if_all_zero"]


def _needs_target(estimator, scoring):
    if isinstance(scoring, str):
        return True  # every named scikit-learn scorer compares with y_true
    if scoring is None:
        return is_classifier(estimator) or is_regressor(estimator)
    return hasattr(scoring, "_score_func")  # a make_scorer scorer


def check_target_for_scoring(estimator, scoring, effect, y):
    """Raise when ``effect="score"`` needs ``y`` and ``y`` is None."""
    if effect != "score" or y is not None or not _needs_target(estimator, scoring):
        return
    what = (
        f"scoring={scoring!r}"
        if isinstance(scoring, str)
        else "scoring=None (the estimator's score method)"
        if scoring is None
        else f"the scorer {scoring!r}"
    )
    raise ValueError(
        f"effect='score' requires y to be passed, but the target y is None: "
        f"{what} compares the predictions with the targets. Pass y to fit, or "
        "measure the change of the predictions with effect='rms' or "
        "effect='mae', which need no y."
    )


def check_baseline_score(score, *, fold, n_samples, scoring):
    """Raise when the unperturbed score of a fold is NaN."""
    if score is None or not np.isnan(score):
        return
    where = f" of fold {fold}" if fold else ""
    what = "the estimator's score" if scoring is None else f"scoring={scoring!r}"
    raise ValueError(
        f"The baseline score{where} is NaN: {what} is undefined on {n_samples} "
        "sample(s) as evaluated (r2 needs at least 2 samples, roc_auc both "
        "classes, ...), so every importance would be NaN. Evaluate on more "
        "samples, or choose another scoring."
    )


def warn_if_all_zero(importances, *, n_samples, effect):
    """Warn when every importance is exactly 0."""
    importances = np.asarray(importances)
    if importances.size == 0 or np.any(importances != 0):
        return
    what = "score" if effect == "score" else "predictions"
    if n_samples == 1:
        cause = (
            "X has a single sample: shuffling it changes nothing, and one "
            "sample says little about any input. Evaluate on more samples."
        )
    else:
        cause = (
            "Either the estimator is constant (it ignores its input: was it "
            "fitted properly?), or the perturbation leaves the data unchanged "
            "(e.g. 'zero' on data that is already 0)."
        )
    warnings.warn(
        f"All importances are exactly 0: no perturbation changed the "
        f"estimator's {what}. {cause}",
        UserWarning,
        stacklevel=3,
    )
