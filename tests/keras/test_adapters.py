"""Every Keras-backed estimator gets the compiled path: scikeras's own wrappers
and Pipelines of transformers ending in a Keras-backed estimator."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")

from scikeras.wrappers import KerasClassifier, KerasRegressor  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from seqimportance import (  # noqa: E402
    SequenceModelRegressor,
    SequencePermutationImportance,
    SequenceScaler,
)
from seqimportance.keras import _predictor as kp  # noqa: E402
from seqimportance.keras._inference import keras_inference  # noqa: E402
from seqimportance.keras._predictor import KerasPredictor  # noqa: E402
from seqimportance.keras._jax_predictor import JaxPredictor  # noqa: E402

COMPILED = (KerasPredictor, JaxPredictor)  # the compiled predictor of each backend
from seqimportance.inspection._predictors import GenericPredictor, make_predictor  # noqa: E402

T, F = 5, 3
F32 = dict(rtol=1e-5, atol=1e-6)  # float32 outputs through two paths


def lstm(meta, compile_kwargs, units=4, n_out=1, activation=None):
    """A user's own scikeras build function."""
    _, n_timesteps, n_features = meta["X_shape_"]
    model = keras.Sequential(
        [
            keras.Input((n_timesteps, n_features)),
            keras.layers.LSTM(units),
            keras.layers.Dense(n_out, activation=activation),
        ]
    )
    model.compile(**compile_kwargs)
    return model


def lstm_classifier(meta, compile_kwargs):
    return lstm(meta, compile_kwargs, n_out=1, activation="sigmoid")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, T, F)).astype("float32")
    y = X[:, -1, 0] - X[:, -2, 1]
    return X, y


@pytest.fixture(scope="module")
def scikeras_regressor(data):
    X, y = data
    return KerasRegressor(
        model=lstm, loss="mse", optimizer="adam", epochs=2, verbose=0,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="module")
def scikeras_classifier(data):
    X, y = data
    return KerasClassifier(
        model=lstm_classifier, loss="binary_crossentropy", optimizer="adam",
        epochs=2, verbose=0, random_state=0,
    ).fit(X, (y > 0).astype(int))


@pytest.fixture(scope="module")
def pipeline(data):
    X, y = data
    return make_pipeline(
        SequenceScaler(),
        SequenceModelRegressor(model__units=4, epochs=2, random_state=0),
    ).fit(3 * X + 1, y)


def _generic_importances(estimator, X, y, monkeypatch, **params):
    with monkeypatch.context() as m:
        m.setattr(kp, "make_keras_predictor", lambda est, **kwargs: None)
        assert isinstance(make_predictor(estimator, 3), GenericPredictor)
        return SequencePermutationImportance(estimator, **params).fit(X, y)


def test_scikeras_regressor_gets_the_compiled_path(
    scikeras_regressor, data, monkeypatch
):
    X, y = data
    predictor = make_predictor(scikeras_regressor, 3)
    assert isinstance(predictor, COMPILED)
    assert predictor.methods == {"predict"}
    assert_allclose(predictor(X, "predict"), scikeras_regressor.predict(X), **F32)
    params = dict(perturbation="gaussian", effect="rms", n_iter=2, random_state=0)
    fast = SequencePermutationImportance(scikeras_regressor, **params).fit(X, y)
    slow = _generic_importances(scikeras_regressor, X, y, monkeypatch, **params)
    assert_allclose(fast.importances_, slow.importances_, rtol=1e-4, atol=1e-6)


def test_scikeras_classifier_serves_predict_proba(scikeras_classifier, data):
    X, _ = data
    predictor = make_predictor(scikeras_classifier, 3)
    assert isinstance(predictor, COMPILED)
    assert predictor.methods == {"predict", "predict_proba"}
    proba = scikeras_classifier.predict_proba(X)
    assert_allclose(predictor(X, "predict_proba"), proba, **F32)
    clear = np.abs(proba[:, 1] - 0.5) > 1e-5  # labels agree off the threshold
    assert clear.mean() > 0.9
    np.testing.assert_array_equal(
        predictor(X, "predict")[clear], scikeras_classifier.predict(X)[clear]
    )


def test_scikeras_classifier_effects_compare_probabilities(scikeras_classifier, data):
    # scikeras's classifiers are mis-tagged (is_classifier is False on
    # scikit-learn >= 1.6); rms still compares probabilities, not labels.
    X, y = data
    imp = SequencePermutationImportance(
        scikeras_classifier, perturbation="zero", effect="rms", n_iter=1
    ).fit(X)
    proba = scikeras_classifier.predict_proba(X)
    X0 = X.copy()
    X0[:, :, 0] = 0
    expected = np.sqrt(np.mean((scikeras_classifier.predict_proba(X0) - proba) ** 2))
    assert_allclose(imp.importances_[0, 0], expected, rtol=1e-4, atol=1e-6)


def test_pipeline_gets_the_compiled_path(pipeline, data, monkeypatch):
    X, y = data
    X = 3 * X + 1
    predictor = make_predictor(pipeline, 3)
    assert isinstance(predictor, COMPILED)
    assert_allclose(predictor(X, "predict"), pipeline.predict(X), **F32)
    params = dict(perturbation="uniform", effect="mae", n_iter=2, random_state=1)
    fast = SequencePermutationImportance(pipeline, **params).fit(X, y)
    slow = _generic_importances(pipeline, X, y, monkeypatch, **params)
    assert_allclose(fast.importances_, slow.importances_, rtol=1e-4, atol=1e-6)


def test_pipeline_importance_runs_every_row_through_the_compiled_path(
    pipeline, data, compiled_calls
):
    X, y = data
    SequencePermutationImportance(
        pipeline, perturbation="uniform", effect="mae", n_iter=2, random_state=1
    ).fit(3 * X + 1, y)
    assert sum(compiled_calls) == len(X) * (1 + F * 2)


def test_pipeline_score_through_the_compiled_path(pipeline, data, monkeypatch):
    X, y = data
    X = 3 * X + 1
    scored = SequencePermutationImportance(pipeline, n_iter=2, random_state=1).fit(
        X, y
    )
    slow_scored = _generic_importances(pipeline, X, y, monkeypatch, n_iter=2,
                                       random_state=1)
    assert_allclose(scored.importances_, slow_scored.importances_, rtol=1e-4,
                    atol=1e-5)


def test_two_dimensional_pipeline_input(data):
    X, y = data
    X2 = X[:, -1, :]
    pipe = make_pipeline(
        SequenceScaler(), SequenceModelRegressor(model__units=3, random_state=0)
    ).fit(X2, y)
    predictor = make_predictor(pipe, 2)
    assert isinstance(predictor, COMPILED)
    assert_allclose(predictor(X2[:, None, :], "predict"), pipe.predict(X2), **F32)


class OverridingRegressor(SequenceModelRegressor):
    def predict(self, X, **kwargs):
        return super().predict(X, **kwargs) + 1.0


class OwnScikeras(KerasRegressor):
    def predict(self, X, **kwargs):
        return super().predict(X, **kwargs) * 2.0


def test_unknown_estimators_fall_back_to_the_public_methods(data, pipeline):
    X, y = data
    overriding = OverridingRegressor(model__units=3, random_state=0).fit(X, y)
    assert keras_inference(overriding) is None
    own = OwnScikeras(model=lstm, loss="mse", verbose=0, random_state=0).fit(X, y)
    assert keras_inference(own) is None
    predictor = make_predictor(own, 3)
    assert isinstance(predictor, GenericPredictor)
    assert_allclose(predictor(X, "predict"), own.predict(X))
    # A pipeline whose last step is not Keras-backed, or a step that only
    # fits (no transform), or an estimator that is not fitted.
    scaler = pipeline.steps[0][1]
    from sklearn.linear_model import LinearRegression

    flat = FunctionTransformer(lambda Z: Z.reshape(len(Z), -1))
    assert keras_inference(make_pipeline(scaler, flat, LinearRegression())) is None
    assert keras_inference(Pipeline([("reg", SequenceModelRegressor())])) is None
