"""Importances that would be meaningless fail or warn, naming the cause."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import make_scorer, mean_absolute_error

from seqimportance import SequencePermutationImportance


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=60)
    return X, y, LinearRegression().fit(X, y)


@pytest.mark.parametrize(
    "scoring, named",
    [
        ("r2", "scoring='r2'"),
        (None, r"scoring=None \(the estimator's score method\)"),
        (make_scorer(mean_absolute_error), r"the scorer make_scorer\(mean_abs.*\)"),
    ],
)
def test_missing_y_is_named_before_any_work(data, scoring, named):
    X, _, model = data
    with pytest.raises(
        ValueError,
        match=rf"effect='score' requires y to be passed, but the target y is None: "
        rf"{named} compares the predictions with the targets. Pass y to fit, or "
        r"measure the change of the predictions with effect='rms'",
    ):
        SequencePermutationImportance(model, scoring=scoring).fit(X)


def test_no_y_is_fine_where_nothing_needs_it(data):
    X, _, model = data

    def spread(estimator, X, y):
        return float(np.std(estimator.predict(X)))

    imp = SequencePermutationImportance(model, scoring=spread, perturbation="zero")
    assert imp.fit(X).feature_importances_[:2].min() > 0.1
    rms = SequencePermutationImportance(model, effect="rms", random_state=0).fit(X)
    assert rms.feature_importances_[:2].min() > 0.1


def test_nan_baseline_score_is_an_error_naming_the_cause(data):
    X, y, model = data
    with pytest.warns(Warning), pytest.raises(
        ValueError,
        match=r"The baseline score is NaN: scoring='r2' is undefined on 1 sample\(s\) "
        r"as evaluated .* so every importance would be NaN",
    ):
        SequencePermutationImportance(model, scoring="r2").fit(X[:1], y[:1])
    # A fold whose test part has one class: roc_auc is undefined there.
    labels = (y > 0).astype(int)
    everything, positives = np.arange(len(y)), np.flatnonzero(labels)
    with pytest.warns(Warning), pytest.raises(
        ValueError, match=r"The baseline score of fold 1 is NaN: scoring='roc_auc'"
    ):
        SequencePermutationImportance(
            LogisticRegression(),
            scoring="roc_auc",
            cv=[(everything, everything), (everything, positives)],
        ).fit(X, labels)


def test_one_sample_warns_that_shuffling_changes_nothing(data):
    X, y, model = data
    with pytest.warns(UserWarning, match="X has a single sample: shuffling it"):
        imp = SequencePermutationImportance(
            model, scoring="neg_mean_squared_error"
        ).fit(X[:1], y[:1])
    assert_array_equal(imp.importances_, 0.0)


@pytest.mark.parametrize(
    "model, target",
    [(DummyRegressor(), "regression"), (DummyClassifier(), "classification")],
)
def test_constant_model_warns_and_is_never_significant(data, model, target):
    X, y, _ = data
    if target == "classification":
        y = (y > 0).astype(int)
    for effect in ("score", "rms"):
        with pytest.warns(
            UserWarning,
            match="All importances are exactly 0: no perturbation changed the "
            r"estimator's .*Either the estimator is constant",
        ):
            imp = SequencePermutationImportance(
                model, cv=None, effect=effect, random_state=0
            ).fit(X, y)
        assert_array_equal(imp.pvalues_, 1.0)


def test_a_working_model_does_not_warn(data):
    X, y, model = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequencePermutationImportance(model, random_state=0).fit(X, y)
