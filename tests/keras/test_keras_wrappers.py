"""Keras 3's own scikit-learn wrappers on flattened windows, and bare classifiers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

keras = pytest.importorskip("keras")
pytest.importorskip("keras.wrappers")

from sklearn.base import is_classifier  # noqa: E402

from seqimportance import (  # noqa: E402
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
)
from seqimportance.core._layouts import FlattenedEstimator  # noqa: E402
from seqimportance.inspection._predictors import make_predictor  # noqa: E402
from seqimportance.keras._predictor import KerasPredictor  # noqa: E402
from seqimportance.keras._jax_predictor import JaxPredictor  # noqa: E402

COMPILED = (KerasPredictor, JaxPredictor)  # the compiled predictor of each backend

N, T, F = 120, 5, 3
F32 = dict(rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, T, F)).astype("float32")
    y = X[:, -1, 0] + 0.5 * X[:, :, 1].mean(axis=1)
    return X, y, (y > 0).astype(int)


def _layers(head):
    keras.utils.set_random_seed(0)
    return [keras.layers.LSTM(4), head]


def _flat_build(layers, loss):
    def build(X, y):
        model = keras.Sequential(
            [keras.Input((T * F,)), keras.layers.Reshape((T, F))] + layers
        )
        model.compile("adam", loss)
        return model

    return build


def _spi(estimator, **params):
    return SequencePermutationImportance(
        estimator, cv="prefit", random_state=0, n_iter=3, **params
    )


def test_sklearn_regressor_on_flattened_windows_equals_the_3d_model(data):
    X, y, _ = data
    layers = _layers(keras.layers.Dense(1))
    est = keras.wrappers.SKLearnRegressor(
        model=_flat_build(layers, "mse"), fit_kwargs={"epochs": 1, "verbose": 0}
    ).fit(X.reshape(N, -1), y)
    # the same layers (same weights) on 3-D input
    model_3d = keras.Sequential([keras.Input((T, F))] + layers)
    reference = SequenceModelRegressor.from_model(model_3d)
    assert isinstance(make_predictor(FlattenedEstimator(est), 3), COMPILED)
    for params in (dict(effect="rms"), dict(scoring="r2"),
                   dict(axis="timestep", perturbation="shuffle")):
        flat = _spi(est, data_format="flattened", **params).fit(X, y)
        own = _spi(reference, **params).fit(X, y)
        assert_allclose(flat.importances_, own.importances_, **F32)
    assert_allclose(
        _spi(est, data_format="flattened").fit(X, y).predict(X),
        est.predict(X.reshape(N, -1)), **F32,
    )


def test_sklearn_classifier_on_flattened_windows_scored_by_accuracy(data):
    X, _, labels = data
    layers = _layers(keras.layers.Dense(2, activation="softmax"))
    est = keras.wrappers.SKLearnClassifier(
        model=_flat_build(layers, "categorical_crossentropy"),
        fit_kwargs={"epochs": 1, "verbose": 0},
    ).fit(X.reshape(N, -1), labels)
    predictor = make_predictor(FlattenedEstimator(est), 3)
    assert isinstance(predictor, COMPILED)
    assert predictor.methods == {"predict", "decision_function"}
    assert_array_equal(predictor(X, "predict"), est.predict(X.reshape(N, -1)))
    model_3d = keras.Sequential([keras.Input((T, F))] + layers)
    reference = SequenceModelClassifier.from_model(model_3d)
    flat = _spi(est, data_format="flattened", scoring="accuracy").fit(X, labels)
    own = _spi(reference, scoring="accuracy").fit(X, labels)
    assert_allclose(flat.importances_, own.importances_, atol=1e-12)


def _bare(head):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((T, F)), keras.layers.LSTM(4), head])


@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc", "neg_log_loss"])
def test_bare_softmax_classifier_is_scored_as_a_classifier(data, scoring):
    X, _, labels = data
    model = _bare(keras.layers.Dense(2, activation="softmax"))
    bare = _spi(model, scoring=scoring).fit(X, labels)
    assert is_classifier(bare) and is_classifier(bare.estimator_)
    wrapped = _spi(SequenceModelClassifier.from_model(model), scoring=scoring)
    assert_allclose(bare.importances_, wrapped.fit(X, labels).importances_)


def test_bare_sigmoid_classifier_and_rms_on_its_probabilities(data):
    X, _, labels = data
    model = _bare(keras.layers.Dense(1, activation="sigmoid"))
    perm = _spi(model, scoring="accuracy").fit(X, labels)
    assert_array_equal(perm.estimator_.classes_, [0, 1])
    rms = _spi(model, effect="rms").fit(X, labels)
    as_regressor = _spi(SequenceModelRegressor.from_model(model), effect="rms")
    # RMS over [1 - p, p] equals RMS over p.
    assert_allclose(rms.importances_, as_regressor.fit(X, labels).importances_,
                    **F32)


def test_classification_score_of_a_linear_head_names_the_fix(data):
    X, _, labels = data
    model = _bare(keras.layers.Dense(2))
    with pytest.raises(ValueError, match=r"scoring='accuracy' needs a classifier.*"
                       r"SequenceModelClassifier\.from_model\(model, classes="):
        _spi(model, scoring="accuracy").fit(X, labels)
    # a regression score and the effects keep working on it
    _spi(model, effect="rms").fit(X, labels)
