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
        :class:`~seqimportance.SequenceModelRegressor` it is explained as.

    Returns
    -------
    tags : Tags
        ``tags``, updated.
    """
    if is_trained_model(estimator):
        from ..keras._wrappers import SequenceModelRegressor

        estimator = SequenceModelRegressor()  # what a bare Keras model becomes
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


def as_estimator(estimator, cv):
    """The estimator to explain: a bare Keras model becomes a fitted regressor.

    Parameters
    ----------
    estimator : estimator, keras.Model or path of a .keras file
    cv : the meta-estimator's ``cv``

    Returns
    -------
    estimator : estimator
        ``estimator`` itself, or ``SequenceModelRegressor.from_model`` of the
        Keras model (effects and scores then speak of the raw outputs).
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
    from ..keras._wrappers import SequenceModelRegressor

    return SequenceModelRegressor.from_model(estimator)
