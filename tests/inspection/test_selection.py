"""SequenceSelectFromModel: selection on the last axis, scikit-learn's
threshold semantics, significance, pipelines and searches."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqimportance import SequencePermutationImportance, SequenceSelectFromModel


def _flatten(X):
    return X.reshape(len(X), -1)


def _flat_linear():
    return make_pipeline(FunctionTransformer(_flatten), LinearRegression())


class FixedImportances(BaseEstimator):
    """Fitted with given importances (and optionally coefficients)."""

    def __init__(self, importances=None, coef=None):
        self.importances = importances
        self.coef = coef

    def fit(self, X, y=None):
        if self.importances is not None:
            self.feature_importances_ = np.asarray(self.importances, dtype=float)
        if self.coef is not None:
            self.coef_ = np.asarray(self.coef, dtype=float)
        self.fitted_ = True
        return self


@pytest.fixture(scope="module")
def planted():
    """Features 0 and 1 matter (at the last timestep and at t=2), 2 and 3 do not."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 5, 4))
    y = X[:, -1, 0] + 0.6 * X[:, 2, 1] + 0.3 * rng.normal(size=240)
    return X, y


def _spi(**params):
    params = {"cv": 3, "n_iter": 3, "random_state": 0, **params}
    return SequencePermutationImportance(_flat_linear(), **params)


# ------------------------------------------------------------ what it keeps
def test_keeps_the_planted_features_at_every_timestep(planted):
    X, y = planted
    selector = SequenceSelectFromModel(_spi(), threshold="significant").fit(X, y)
    assert_array_equal(selector.get_support(), [True, True, False, False])
    assert_array_equal(selector.get_support(indices=True), [0, 1])
    assert_array_equal(selector.get_feature_names_out(), ["x0", "x1"])
    Xt = selector.transform(X)
    assert_array_equal(Xt, X[:, :, :2])
    assert not np.shares_memory(Xt, X)
    back = selector.inverse_transform(Xt)
    assert_array_equal(back[:, :, :2], X[:, :, :2])
    assert_array_equal(back[:, :, 2:], 0.0)
    # The importances that decided are the held-out ones of the internal cv.
    assert len(selector.estimator_.scores_) == 3
    assert_array_equal(selector.importances_, selector.estimator_.feature_importances_)
    assert selector.threshold_ == 0.05


def test_two_dimensional_input_selects_columns_and_keeps_names(planted):
    pd = pytest.importorskip("pandas")
    X, y = planted
    frame = pd.DataFrame(X[:, -1, :], columns=["a", "b", "c", "d"])
    selector = SequenceSelectFromModel(
        SequencePermutationImportance(LinearRegression(), cv=3, random_state=0),
        max_features=1,
    ).fit(frame, y)
    assert_array_equal(selector.get_feature_names_out(), ["a"])
    assert_array_equal(selector.transform(frame), frame[["a"]].to_numpy())
    assert selector.inverse_transform(np.ones((2, 1))).tolist() == [[1, 0, 0, 0]] * 2


@pytest.mark.parametrize(
    "threshold, max_features",
    [
        (None, None),
        ("mean", None),
        ("median", None),
        ("1.25*median", None),
        ("0.5*mean", 2),
        (0.15, None),
        (-np.inf, 3),
    ],
)
def test_thresholds_as_in_scikit_learn(threshold, max_features):
    importances = [0.3, 0.05, 0.2, 0.0, 0.45]
    X = np.random.RandomState(0).normal(size=(10, 5))
    ours = SequenceSelectFromModel(
        FixedImportances(importances), threshold=threshold, max_features=max_features
    ).fit(X)
    ref = SelectFromModel(
        FixedImportances(importances), threshold=threshold, max_features=max_features
    ).fit(X)
    assert_array_equal(ours.get_support(), ref.get_support())
    assert ours.threshold_ == pytest.approx(ref.threshold_)
    # The same selection on 3-D input, at every timestep.
    X3 = np.random.RandomState(1).normal(size=(10, 4, 5))
    ours3 = SequenceSelectFromModel(
        FixedImportances(importances), threshold=threshold, max_features=max_features
    ).fit(X3)
    assert_array_equal(ours3.transform(X3), X3[:, :, ref.get_support()])


def test_max_features_callable_and_negative_importances():
    X = np.zeros((6, 3, 4))
    selector = SequenceSelectFromModel(
        FixedImportances([-0.2, 0.1, 0.4, 0.05]),
        threshold=-np.inf,
        max_features=lambda X: X.shape[2] // 2,
    ).fit(X)
    assert selector.max_features_ == 2
    # A negative permutation importance ranks last: it is not made absolute.
    assert_array_equal(selector.get_support(), [False, True, True, False])


def test_coefficients_are_reduced_over_all_axes_but_the_last():
    coef = np.array([[[1.0, -0.1, 0.0]], [[-2.0, 0.1, 0.5]]])  # (2, 1, 3)
    X = np.zeros((4, 2, 3))
    selector = SequenceSelectFromModel(FixedImportances(coef=coef)).fit(X)
    assert_allclose(selector.importances_, [3.0, 0.2, 0.5])
    assert_array_equal(selector.get_support(), [True, False, False])  # >= mean


def test_significance_level_and_nan_pvalues(planted):
    X, y = planted
    spi = _spi(cv=KFold(3)).fit(X, y)
    strict = SequenceSelectFromModel(spi, prefit=True, threshold="significant:1e-12")
    loose = SequenceSelectFromModel(spi, prefit=True, threshold="significant:0.5")
    expected = spi.pvalues_ < 1e-12
    assert_array_equal(strict.fit(X, y).get_support(), expected)
    assert_array_equal(loose.fit(X, y).get_support(), spi.pvalues_ < 0.5)
    assert strict.threshold_ == 1e-12
    # One repeat of one fold: no p-value, so nothing is significant.
    single = _spi(cv=None, n_iter=1)
    selector = SequenceSelectFromModel(single, threshold="significant").fit(X, y)
    assert not selector.get_support().any()
    with pytest.warns(UserWarning, match="No features were selected"):
        assert selector.transform(X).shape == (240, 5, 0)


def test_prefit_uses_a_copy_and_threshold_changes_need_no_refit(planted):
    X, y = planted
    spi = _spi().fit(X, y)
    selector = SequenceSelectFromModel(spi, prefit=True, threshold=-np.inf).fit(X, y)
    assert selector.estimator_ is not spi
    assert_array_equal(selector.importances_, spi.feature_importances_)
    assert selector.get_support().all()
    selector.set_params(threshold="significant")
    assert_array_equal(selector.get_support(), [True, True, False, False])


# ---------------------------------------------------------- in pipelines
def test_pipeline_grid_search_over_max_features_and_threshold(planted):
    X, y = planted
    pipe = Pipeline(
        [
            ("select", SequenceSelectFromModel(_spi(n_iter=2, refit=False))),
            ("flat", FunctionTransformer(_flatten)),
            ("model", LinearRegression()),
        ]
    )
    search = GridSearchCV(
        pipe,
        {"select__max_features": [1, 2], "select__threshold": [-np.inf, "significant"]},
        cv=3,
    ).fit(X, y)
    assert search.best_params_["select__max_features"] == 2
    scores = search.cv_results_["mean_test_score"]
    assert scores.max() > scores.min() + 0.1  # one feature is clearly worse
    assert search.best_estimator_[0].transform(X).shape == (240, 5, 2)
    assert search.predict(X).shape == (240,)


# ------------------------------------------------------------ bad input
def test_errors_name_what_was_expected(planted):
    X, y = planted
    with pytest.raises(
        ValueError,
        match=r"needs one importance per feature, shape \(4,\); "
        r"SequencePermutationImportance gives shape \(5,\). .* axis='feature'",
    ):
        SequenceSelectFromModel(_spi(axis="timestep")).fit(X, y)
    with pytest.raises(
        ValueError,
        match="threshold='significant' selects by p-value, but FixedImportances "
        "has no pvalues_",
    ):
        SequenceSelectFromModel(
            FixedImportances([1, 0, 0, 0]), threshold="significant"
        ).fit(X).get_support()
    with pytest.raises(ValueError, match=r"'significant:ALPHA' with 0 < ALPHA <= 1"):
        SequenceSelectFromModel(_spi(), threshold="significant:five").fit(X, y)
    with pytest.raises(ValueError, match="threshold must be a float, 'mean', "):
        SequenceSelectFromModel(
            FixedImportances([1, 0, 0, 0]), threshold="average"
        ).fit(X).get_support()
    selector = SequenceSelectFromModel(FixedImportances([1, 0, 0, 0])).fit(X)
    with pytest.raises(
        ValueError, match=r"X has 3 features, but SequenceSelectFromModel is "
        r"expecting 4 features as input \(got shape \(240, 5, 3\)\)",
    ):
        selector.transform(X[:, :, :3])
    with pytest.raises(ValueError, match=r"X has 3 features, but 1 were selected"):
        selector.inverse_transform(X[:, :, :3])
    with pytest.raises(NotFittedError, match="prefit=True, estimator must be fitted"):
        SequenceSelectFromModel(_spi(), prefit=True).fit(X, y)
    with pytest.raises(ValueError, match="reads coef_ or feature_importances_, but"):
        SequenceSelectFromModel(FixedImportances()).fit(X)
    with pytest.raises(ValueError, match="The 'max_features' parameter"):
        SequenceSelectFromModel(_spi(), max_features=-1).fit(X, y)
    with pytest.raises(NotFittedError):
        SequenceSelectFromModel(_spi()).transform(X)


@parametrize_with_checks(
    [
        SequenceSelectFromModel(
            SequencePermutationImportance(
                LinearRegression(), cv=None, n_iter=2, random_state=0
            ),
            threshold=-np.inf,
        ),
        SequenceSelectFromModel(LogisticRegression()),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
