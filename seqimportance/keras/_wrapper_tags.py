"""scikit-learn tags of the Keras wrappers.

:func:`sequence_tags` sets what the wrappers declare: 2-D and 3-D input, no
sparse input or NaN, a required target, and classifier or regressor tags by
the scikeras ``_estimator_type``. :class:`LegacyTagsRoot` ends the method
resolution order for scikit-learn 1.6, which still calls the legacy
``_more_tags``.
"""

from sklearn.base import BaseEstimator
from sklearn.utils._tags import ClassifierTags, RegressorTags

__all__ = ["LegacyTagsRoot", "sequence_tags"]


class LegacyTagsRoot:
    """End of the method resolution order for scikit-learn 1.6.

    scikit-learn 1.6 still reads the legacy ``_more_tags`` of scikeras's
    ``BaseWrapper`` and then calls each class's ``__sklearn_tags__`` and
    ``_more_tags`` unbound; ``ClassifierMixin`` / ``RegressorMixin`` (placed
    right of ``BaseEstimator`` by scikeras) and ``BaseWrapper`` call
    ``super()`` there and would reach ``object``. This class answers both
    calls. Later versions only call ``__sklearn_tags__`` on the instance,
    which resolves to :class:`~seqimportance.keras._wrappers._SequenceWrapperMixin`.
    """

    def __sklearn_tags__(self):
        return BaseEstimator.__sklearn_tags__(self)

    def _more_tags(self):
        return {}


def sequence_tags(tags, estimator_type):
    """Set the tags of a Keras wrapper of sequence models.

    Parameters
    ----------
    tags : Tags
        The tags from scikeras's wrapper, updated in place.
    estimator_type : {"classifier", "regressor"}
        The wrapper's ``_estimator_type``.

    Returns
    -------
    tags : Tags
        ``tags``, updated.
    """
    tags.input_tags.two_d_array = True
    tags.input_tags.three_d_array = True
    tags.input_tags.sparse = False
    tags.input_tags.allow_nan = False
    tags.target_tags.required = True
    tags.target_tags.multi_output = True
    tags.target_tags.single_output = True
    if estimator_type == "classifier":
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(poor_score=True, multi_label=True)
        tags.regressor_tags = None
    else:
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags(poor_score=True)
        tags.classifier_tags = None
    return tags
