"""scikit-learn's estimator checks on the package's estimators.

The Keras wrappers run with a 2-unit SimpleRNN trained eagerly for one epoch
of one full batch, so each of the many small fits of the checks is cheap.
scikit-learn feeds 2-D data, which the wrappers read as one timestep per
sample.
"""

import functools

from sklearn.utils.estimator_checks import parametrize_with_checks

from seqimportance import (
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequenceScaler,
    build_recurrent_model,
)


class _TinyRecurrentModel(functools.partial):
    """``build_recurrent_model`` with one 2-unit SimpleRNN layer.

    A partial with a fixed repr keeps the test ids the same in every process
    (pytest-xdist requires it); a function's repr holds its address.
    """

    def __repr__(self):
        return "tiny_recurrent_model"


tiny_recurrent_model = _TinyRecurrentModel(
    build_recurrent_model, units=2, cell="simple_rnn"
)

_SMALL = dict(
    model=tiny_recurrent_model,
    epochs=1,
    batch_size=-1,
    random_state=0,
    run_eagerly=True,
)

ESTIMATORS = [
    SequenceModelRegressor(**_SMALL),
    SequenceModelClassifier(**_SMALL),
    SequenceScaler(),
]

_KERAS_WRAPPER_FAILURES = {
    "check_mixin_order": (
        "scikeras's KerasClassifier/KerasRegressor list ClassifierMixin/"
        "RegressorMixin right of BaseEstimator; Python's method resolution "
        "order keeps that order in every subclass."
    ),
    "check_estimator_tags_renamed": (
        "scikeras's BaseWrapper defines the legacy _more_tags without "
        "__sklearn_tags__; the subclasses define __sklearn_tags__ (the tags "
        "themselves are correct and tested in test_wrappers.py)."
    ),
}


def expected_failed_checks(estimator):
    if isinstance(estimator, (SequenceModelClassifier, SequenceModelRegressor)):
        return _KERAS_WRAPPER_FAILURES
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
