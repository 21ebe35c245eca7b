"""Channels-first input (aeon, sktime, tsai): same numbers as channels-last."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.utils.validation import check_is_fitted

from seqimportance import SequencePermutationImportance, SequenceScaler

N, C, T = 120, 3, 8


class ChannelsFirstRegressor(RegressorMixin, BaseEstimator):
    """Linear model of flattened (n, C, T) input that insists on that layout."""

    def fit(self, X, y):
        assert X.ndim == 3 and X.shape[1:] == (C, T), X.shape
        self.model_ = LinearRegression().fit(X.reshape(len(X), -1), y)
        return self

    def predict(self, X):
        check_is_fitted(self)
        assert X.ndim == 3 and X.shape[1:] == (C, T), X.shape
        return self.model_.predict(X.reshape(len(X), -1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, C, T))  # channels first
    y = 2 * X[:, 0, -1] + X[:, 2].mean(axis=1) + 0.01 * rng.normal(size=N)
    return X, y


class ChannelsLastView(ChannelsFirstRegressor):
    """The same fitted model, called with (n, T, C) input."""

    def __init__(self, inner=None):
        self.inner = inner

    def fit(self, X, y):
        return self

    def predict(self, X):
        return self.inner.predict(X.transpose(0, 2, 1))

    def __sklearn_is_fitted__(self):
        return True


@pytest.mark.parametrize(
    "params",
    [
        dict(perturbation="shuffle"),
        dict(perturbation="gaussian", effect="rms", relative_scale=True),
        dict(perturbation="mean", effect="mae"),
        dict(axis="timestep", perturbation="shuffle"),
        dict(axis="both", perturbation="zero", effect="rms"),
    ],
)
def test_same_numbers_as_channels_last_on_transposed_data(data, params):
    X, y = data
    model = ChannelsFirstRegressor().fit(X, y)
    first = SequencePermutationImportance(
        model, data_format="channels_first", n_iter=3, random_state=0, **params
    ).fit(X, y)
    last = SequencePermutationImportance(
        ChannelsLastView(model), n_iter=3, random_state=0, **params
    ).fit(X.transpose(0, 2, 1), y)
    assert_allclose(first.importances_, last.importances_, rtol=1e-12, atol=1e-12)
    assert_array_equal(first.unit_names_, last.unit_names_)
    assert (first.n_features_in_, first.n_timesteps_in_) == (C, T)


def test_units_are_channels_and_planted_channels_rank_first(data):
    X, y = data
    model = ChannelsFirstRegressor().fit(X, y)
    imp = SequencePermutationImportance(
        model, data_format="channels_first", n_iter=5, random_state=0
    ).fit(X, y)
    assert imp.unit_names_.tolist() == ["x0", "x1", "x2"]
    x0, x1, x2 = imp.feature_importances_
    assert x0 > 10 * abs(x1) and x2 > 10 * abs(x1)
    timesteps = SequencePermutationImportance(
        model, data_format="channels_first", axis="timestep", random_state=0
    ).fit(X, y)
    assert timesteps.unit_names_.shape == (T,)
    assert timesteps.feature_importances_.argmax() == T - 1  # x0 at the last step


def test_channels_first_under_cross_validation_gives_the_estimator_its_layout(data):
    X, y = data
    imp = SequencePermutationImportance(
        ChannelsFirstRegressor(), data_format="channels_first", cv=3, random_state=0
    ).fit(X, y)
    assert imp.importances_.shape == (C, 3 * 5)
    assert imp.predict(X).shape == (N,)  # estimator_ takes channels-first input


def test_caller_array_is_not_modified_and_bad_format_is_an_error(data):
    X, y = data
    before = X.copy()
    model = ChannelsFirstRegressor().fit(X, y)
    SequencePermutationImportance(
        model, data_format="channels_first", perturbation="gaussian", random_state=0
    ).fit(X, y)
    assert_array_equal(X, before)
    with pytest.raises(ValueError, match="'data_format' parameter .* must be a str"):
        SequencePermutationImportance(model, data_format="NCT").fit(X, y)


def test_sequence_scaler_channels_first(data):
    X, _ = data
    first = SequenceScaler(data_format="channels_first").fit(X)
    last = SequenceScaler().fit(X.transpose(0, 2, 1))
    assert_allclose(first.mean_, last.mean_)
    assert_allclose(first.scale_, last.scale_)
    assert first.n_features_in_ == C
    Xt = first.transform(X)
    assert Xt.shape == X.shape
    assert_allclose(Xt, last.transform(X.transpose(0, 2, 1)).transpose(0, 2, 1))
    assert_allclose(Xt.mean(axis=(0, 2)), 0, atol=1e-12)
    assert_allclose(first.inverse_transform(Xt), X)
    in_place = X.copy()
    out = SequenceScaler(copy=False, data_format="channels_first").fit(X).transform(
        in_place
    )
    assert_allclose(out, Xt)


def test_an_aeon_classifier_on_channels_first_data():
    # A real time-series classifier from aeon, which takes (n, channels, T):
    # the label depends on the mean of channel 0 and the spread of channel
    # 2; channels 1 and 3 are noise.
    feature_based = pytest.importorskip("aeon.classification.feature_based")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 4, 20))
    y = (X[:, 0].mean(axis=1) + X[:, 2].std(axis=1) - 1 > 0).astype(int)
    clf = feature_based.SummaryClassifier(random_state=0).fit(X[:160], y[:160])
    imp = SequencePermutationImportance(
        clf,
        data_format="channels_first",
        scoring="accuracy",
        n_iter=5,
        random_state=0,
    ).fit(X[160:], y[160:])
    x0, x1, x2, x3 = imp.feature_importances_
    assert x0 > 0.2 and x2 > 0.05
    assert max(abs(x1), abs(x3)) < 0.03
    assert min(x0, x2) > 2 * max(abs(x1), abs(x3))
