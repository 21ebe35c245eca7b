"""data_format="flattened": 3-D X, the estimator sees X.reshape(n, T * F)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from seqimportance import SequencePermutationImportance
from seqimportance.core._layouts import FlattenedEstimator

N, T, F = 3000, 4, 3
SCALE = 0.5


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, T, F))
    B = rng.normal(size=(T, F))
    B[:, 2] = 0.0  # the third feature does not count
    y = np.einsum("ntf,tf->n", X, B)
    return X, y, B


def _flat(X):
    return X.reshape(len(X), -1)


def _spi(estimator, **params):
    return SequencePermutationImportance(estimator, random_state=0, **params)


def test_linear_model_on_windows_matches_the_closed_form(data):
    # f(X) = sum_t sum_f B[t, f] X[t, f]; N(0, s^2) noise on feature j at
    # every timestep changes f by N(0, s^2 sum_t B[t, j]^2): RMS s |B[:, j]|.
    X, y, B = data
    model = LinearRegression().fit(_flat(X), y)
    perm = _spi(model, cv="prefit", perturbation="gaussian", scale=SCALE,
                effect="rms", data_format="flattened", n_iter=3).fit(X, y)
    expected = SCALE * np.sqrt((B**2).sum(axis=0))
    assert_allclose(perm.feature_importances_, expected, rtol=0.03, atol=1e-9)
    assert perm.feature_importances_[2] == pytest.approx(0.0, abs=1e-9)
    by_step = _spi(model, cv="prefit", perturbation="gaussian", scale=SCALE,
                   effect="rms", data_format="flattened", axis="timestep",
                   n_iter=3).fit(X, y)
    assert_allclose(by_step.feature_importances_,
                    SCALE * np.sqrt((B**2).sum(axis=1)), rtol=0.03)


def test_same_numbers_as_a_pipeline_that_flattens_itself(data):
    X, y, _ = data
    model = LinearRegression().fit(_flat(X), y)
    pipeline = make_pipeline(FunctionTransformer(_flat), LinearRegression()).fit(X, y)
    for params in (dict(perturbation="shuffle"), dict(axis="both", effect="mae"),
                   dict(axis="timestep", window=2, perturbation="zero", effect="rms")):
        flat = _spi(model, cv="prefit", data_format="flattened", **params).fit(X, y)
        own = _spi(pipeline, cv="prefit", **params).fit(X, y)
        assert_array_equal(flat.importances_, own.importances_)
        assert_array_equal(flat.unit_names_, own.unit_names_)


def test_cross_validation_fits_the_estimator_on_flattened_rows(data):
    X, y, B = data
    before = X.copy()
    perm = _spi(LinearRegression(), cv=3, data_format="flattened").fit(X, y)
    assert perm.estimator_.n_features_in_ == T * F
    assert_array_equal(X, before)
    assert perm.importances_.shape == (F, 3 * 5)
    assert np.argsort(perm.feature_importances_)[0] == 2
    assert_allclose(perm.predict(X), y, atol=1e-8)  # delegation: 3-D X


def test_flattened_estimator_reshapes_timestep_by_timestep():
    X = np.arange(24.0).reshape(2, 4, 3)
    seen = []

    class Recorder(LinearRegression):
        def predict(self, X):
            seen.append(X)
            return X[:, 0]

    FlattenedEstimator(Recorder()).predict(X)
    assert_array_equal(seen[0], X.reshape(2, 12))
    assert_array_equal(seen[0][0, 3:6], X[0, 1])  # timestep 1 follows timestep 0


def test_errors_name_the_layout(data):
    X, y, _ = data
    model = LinearRegression().fit(_flat(X), y)
    with pytest.raises(ValueError, match=r"data_format='flattened' takes 3-D X.*"
                       r"got 2-D X of shape \(3000, 12\)"):
        _spi(model, cv="prefit", data_format="flattened").fit(_flat(X), y)
    with pytest.raises(ValueError, match="X has 9 features, but LinearRegression "
                       "is expecting 12"):
        _spi(model, cv="prefit", data_format="flattened").fit(X[:, :3], y)


def test_sequence_scaler_gives_flattened_rows_for_a_window_model(data):
    from seqimportance import SequenceScaler

    X, y, _ = data
    X = X * [1.0, 10.0, 100.0] + 5.0
    flat = SequenceScaler(data_format="flattened").fit(X)
    plain = SequenceScaler().fit(X)
    rows = flat.transform(X)
    assert rows.shape == (N, T * F)
    assert_allclose(rows, plain.transform(X).reshape(N, -1))
    assert_allclose(flat.transform(X.reshape(N, -1)), rows)  # rows in, rows out
    assert_allclose(flat.inverse_transform(rows), X.reshape(N, -1))
    # in a pipeline on 3-D X, the scaled rows reach a model on windows
    pipeline = make_pipeline(SequenceScaler(data_format="flattened"),
                             LinearRegression()).fit(X, y)
    perm = _spi(pipeline, cv="prefit", perturbation="shuffle").fit(X, y)
    assert np.argsort(perm.feature_importances_)[0] == 2
    with pytest.raises(ValueError, match="fitted on 3-D X"):
        SequenceScaler(data_format="flattened").fit(X.reshape(N, -1))
    with pytest.raises(ValueError, match="X has 13 columns, which are not flattened"):
        flat.transform(np.ones((2, 13)))


def test_selection_on_flattened_windows_in_a_pipeline(data):
    # The importance estimator takes the layout; the selector keeps 3-D
    # features, and the scaler flattens the kept ones for the window model.
    from seqimportance import SequenceScaler, SequenceSelectFromModel

    X, y, _ = data
    selector = SequenceSelectFromModel(
        _spi(LinearRegression(), cv=3, data_format="flattened"), max_features=2
    )
    pipeline = make_pipeline(
        selector, SequenceScaler(data_format="flattened"), LinearRegression()
    ).fit(X, y)
    assert_array_equal(pipeline[0].get_support(), [True, True, False])
    assert pipeline[-1].n_features_in_ == T * 2
    assert_allclose(pipeline.predict(X), y, atol=1e-8)
