"""What :class:`~seqimportance.SequencePermutationImportance` takes from its estimator.

:func:`estimator_has` makes ``predict``, ``score``, ... available exactly
when the estimator has them; :func:`delegated_tags` gives the meta-estimator
the estimator's scikit-learn tags, with the input tags of sequence data;
:func:`as_estimator` turns a bare Keras model into the fitted wrapper that is
explained.
"""

import copy

from sklearn.utils._tags import get_tags

from ..keras._models import is_trained_model

__all__ = ["as_estimator", "delegated_tags", "estimator_has"]


def estimator_has(attr):
    """``available_if`` check: ``estimator_`` (before fit: ``estimator``) has ``attr``.

    Parameters
    ----------
    attr : str
        Name of the delegated method or attribute.

    Returns
    -------
    check : callable
        ``check(meta_estimator)``, True or raising AttributeError.
    """

    def check(self):
        if hasattr(self, "estimator_"):
            getattr(self.estimator_, attr)
            return True
        if hasattr(self, "feature_importances_"):
            raise AttributeError(
                f"{attr!r} is not available: with cv={self.cv!r} and refit=False no "
                "final estimator was fitted (estimator_ is not set)."
            )
        getattr(self.estimator, attr)
        return True

    return check


def delegated_tags(tags, estimator):
    """The meta-estimator's tags: those of ``estimator``, for 3-D finite input.

    Parameters
    ----------
    tags : Tags
        The meta-estimator's default tags, updated in place.
    estimator : estimator object, keras.Model or path of a .keras file
        The ``estimator`` parameter; a trained Keras model counts as the
        :class:`~seqimportance.SequenceModelRegressor` or
        :class:`~seqimportance.SequenceModelClassifier` it is explained as.

    Returns
    -------
    tags : Tags
        ``tags``, updated.
    """
    if is_trained_model(estimator):
        from ..keras._models import has_probability_head, is_keras_model
        from ..keras._wrappers import SequenceModelClassifier, SequenceModelRegressor

        # what a bare Keras model becomes (a file is not loaded for its tags)
        head = is_keras_model(estimator) and has_probability_head(estimator)
        estimator = SequenceModelClassifier() if head else SequenceModelRegressor()
    inner = get_tags(estimator)
    tags.estimator_type = inner.estimator_type
    tags.target_tags = copy.deepcopy(inner.target_tags)
    tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
    tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
    tags.input_tags = copy.deepcopy(inner.input_tags)
    tags.input_tags.three_d_array = True
    tags.input_tags.allow_nan = False
    tags.input_tags.sparse = False
    tags.non_deterministic = inner.non_deterministic
    return tags


def as_estimator(estimator, cv, scoring=None):
    """The estimator to explain: a bare Keras model becomes a fitted wrapper.

    A model whose output is a softmax or sigmoid is read as a classifier
    (:meth:`SequenceModelClassifier.from_model
    <seqimportance.SequenceModelClassifier.from_model>`, classes ``0..k-1``),
    any other as a regressor of its raw outputs.

    Parameters
    ----------
    estimator : estimator, keras.Model or path of a .keras file
    cv : the meta-estimator's ``cv``
    scoring : str, callable or None, default=None
        The scoring the importances use (None when they use no score): a
        classification metric on a model that cannot be read as a classifier
        is an error that names the fix.

    Returns
    -------
    estimator : estimator
        ``estimator`` itself, or the ``from_model`` wrapper of the Keras model.
    """
    if not is_trained_model(estimator):
        return estimator
    if cv != "prefit":
        raise ValueError(
            f"A trained Keras model can only be explained with cv='prefit' (got "
            f"cv={cv!r}): it cannot be refitted on cross-validation folds. Use "
            "cv='prefit' with held-out data, or pass an estimator that can be "
            "refitted, e.g. SequenceModelRegressor(model=build_function) or "
            "SequenceModelClassifier(model=build_function)."
        )
    from ..keras._models import has_probability_head, load_keras_model
    from ..keras._wrappers import SequenceModelClassifier, SequenceModelRegressor

    model = load_keras_model(estimator)
    if has_probability_head(model):
        try:
            return SequenceModelClassifier.from_model(model)
        except ValueError:  # an output geometry a classifier cannot read
            pass
    if _is_classification_scoring(scoring):
        raise ValueError(
            f"scoring={scoring!r} needs a classifier, but the Keras model's output "
            "is not read as one (no softmax or sigmoid output layer that "
            "SequenceModelClassifier.from_model can read). Pass "
            "SequenceModelClassifier.from_model(model, classes=[...]) as the "
            "estimator, or use a regression score or effect='rms'."
        )
    return SequenceModelRegressor.from_model(model)


def _is_classification_scoring(scoring):
    """Whether ``scoring`` (a name or a scorer) is a classification metric."""
    if scoring is None:
        return False
    if isinstance(scoring, str):
        from sklearn.metrics import get_scorer

        try:
            scoring = get_scorer(scoring)
        except ValueError:
            return False
    func = getattr(scoring, "_score_func", None)
    module = getattr(func, "__module__", "") or ""
    return module.endswith(("metrics._classification", "metrics._ranking"))
