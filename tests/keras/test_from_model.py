"""Trained Keras models, no training: from_model and bare models in importance."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

keras = pytest.importorskip("keras")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from seqimportance import (  # noqa: E402
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
    SequenceScaler,
)
from seqimportance.keras._predictor import KerasPredictor  # noqa: E402
from seqimportance.keras._jax_predictor import JaxPredictor  # noqa: E402

COMPILED = (KerasPredictor, JaxPredictor)  # the compiled predictor of each backend
from seqimportance.inspection._predictors import make_predictor  # noqa: E402

T, F = 6, 3
# Outputs of the same float32 model through model.predict and the wrapper's
# paths: equal up to a few float32 ulps.
F32 = dict(rtol=1e-5, atol=1e-6)


def _model(head, units=4, seed=0, return_sequences=False):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((T, F)),
            keras.layers.LSTM(units, return_sequences=return_sequences),
            head,
        ]
    )


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(40, T, F))


@pytest.fixture(scope="module")
def planted():
    """A trained LSTM regressor whose target reads x0 and x1, not x2."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, T, F)).astype("float32")
    y = X[:, -1, 0] + 0.5 * X[:, -2, 1]
    model = _model(keras.layers.Dense(1), units=8, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    model.fit(X, y, epochs=30, batch_size=64, verbose=0)
    return model, X, y


def _weights(model):
    return [w.copy() for w in model.get_weights()]


# ------------------------------------------------------------ regressor
def test_regressor_from_model_predicts_as_the_model(X):
    model = _model(keras.layers.Dense(1))
    before = _weights(model)
    reg = SequenceModelRegressor.from_model(model)
    assert reg.model_ is model
    assert (reg.n_timesteps_in_, reg.n_features_in_) == (T, F)
    pred = reg.predict(X)
    assert pred.shape == (40,) and pred.dtype == np.float64
    assert_allclose(pred, model.predict(X, verbose=0)[:, 0], **F32)
    for w, w0 in zip(model.get_weights(), before):
        assert_array_equal(w, w0)  # no training
    y = model.predict(X, verbose=0)[:, 0]
    assert reg.score(X, y) == pytest.approx(1.0, abs=1e-6)


def test_regressor_from_model_multi_output_and_per_timestep(X):
    two = SequenceModelRegressor.from_model(_model(keras.layers.Dense(2)))
    assert two.predict(X).shape == (40, 2)
    steps = _model(keras.layers.Dense(1), return_sequences=True)  # (None, T, 1)
    reg = SequenceModelRegressor.from_model(steps)
    assert reg.predict(X).shape == (40, T)
    assert_allclose(reg.predict(X), steps.predict(X, verbose=0)[:, :, 0], **F32)


def test_two_dimensional_model_input():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((F,)), keras.layers.Dense(1)])
    reg = SequenceModelRegressor.from_model(model)
    assert (reg.n_timesteps_in_, reg.n_features_in_) == (1, F)
    X2 = np.random.default_rng(0).normal(size=(10, F))
    assert_allclose(reg.predict(X2), model.predict(X2, verbose=0)[:, 0], **F32)
    predictor = make_predictor(reg, 2)
    assert isinstance(predictor, COMPILED)
    assert_allclose(predictor(X2[:, None, :], "predict"), reg.predict(X2), **F32)


def test_from_a_keras_file(tmp_path, X):
    model = _model(keras.layers.Dense(1))
    path = tmp_path / "lstm.keras"
    model.save(path)
    reg = SequenceModelRegressor.from_model(path)
    assert_allclose(reg.predict(X), model.predict(X, verbose=0)[:, 0], **F32)
    reg_str = SequenceModelRegressor.from_model(str(path))
    assert_allclose(reg_str.predict(X), reg.predict(X), **F32)


# ----------------------------------------------------------- classifier
def test_classifier_classes_inferred_from_the_output_layer(X):
    binary = _model(keras.layers.Dense(1, activation="sigmoid"))
    clf = SequenceModelClassifier.from_model(binary)
    assert_array_equal(clf.classes_, [0, 1])
    proba = clf.predict_proba(X)
    p = binary.predict(X, verbose=0)[:, 0]
    assert_allclose(proba[:, 1], p, **F32)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(clf.predict(X), (proba[:, 1] > 0.5).astype(int))

    softmax = _model(keras.layers.Dense(4, activation="softmax"))
    clf = SequenceModelClassifier.from_model(softmax)
    assert_array_equal(clf.classes_, np.arange(4))
    proba = clf.predict_proba(X)
    assert_allclose(proba, softmax.predict(X, verbose=0), **F32)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(clf.predict(X), proba.argmax(axis=1))


def test_classifier_with_given_classes(X):
    softmax = _model(keras.layers.Dense(3, activation="softmax"))
    clf = SequenceModelClassifier.from_model(softmax, classes=["a", "b", "c"])
    assert_array_equal(clf.classes_, ["a", "b", "c"])
    proba = clf.predict_proba(X)
    assert_array_equal(clf.predict(X), np.array(["a", "b", "c"])[proba.argmax(1)])
    y = clf.predict(X)
    assert clf.score(X, y) == 1.0


def test_per_timestep_classifier(X):
    model = _model(
        keras.layers.Dense(1, activation="sigmoid"), return_sequences=True
    )
    clf = SequenceModelClassifier.from_model(model)
    assert_array_equal(clf.classes_, np.arange(T))
    proba = clf.predict_proba(X)
    assert proba.shape == (40, T)
    assert_allclose(proba, model.predict(X, verbose=0)[:, :, 0], **F32)
    assert clf.predict(X).shape == (40, T)


@pytest.mark.parametrize(
    "head, classes, match",
    [
        (("softmax", 3), [0, 1], "classes has 2 labels, but the model's output"),
        (("sigmoid", 1), ["a", "b", "c"], r"one sigmoid unit \(2 classes\)"),
        (("softmax", 3), ["c", "b", "a"], "unique labels in sorted order"),
        (("linear", 1), None, "output layer is linear"),
        (("sigmoid", 3), ["a", "b", "c"], "column indices 0..2"),
    ],
)
def test_classes_that_do_not_match_the_output_layer(head, classes, match):
    activation, units = head
    model = _model(keras.layers.Dense(units, activation=activation))
    with pytest.raises(ValueError, match=match):
        SequenceModelClassifier.from_model(model, classes=classes)


# --------------------------------------------------------------- errors
def test_bad_models_get_clear_errors(tmp_path):
    unbuilt = keras.Sequential([keras.layers.LSTM(4), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="is not built"):
        SequenceModelRegressor.from_model(unbuilt)
    a, b = keras.Input((T, F)), keras.Input((T, F))
    two_inputs = keras.Model([a, b], keras.layers.Dense(1)(a + b))
    with pytest.raises(ValueError, match="has 2 inputs"):
        SequenceModelRegressor.from_model(two_inputs)
    inp = keras.Input((T, F))
    two_outputs = keras.Model(inp, [keras.layers.Dense(1)(inp), inp])
    with pytest.raises(ValueError, match="has 2 outputs"):
        SequenceModelRegressor.from_model(two_outputs)
    image = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match=r"input of shape \(None, 4, 4, 1\)"):
        SequenceModelRegressor.from_model(image)
    not_keras = tmp_path / "notes.keras"
    not_keras.write_text("not a model")
    with pytest.raises(ValueError, match="is not a Keras model"):
        SequenceModelRegressor.from_model(not_keras)
    with pytest.raises(ValueError, match="no such file"):
        SequenceModelRegressor.from_model(tmp_path / "missing.keras")
    with pytest.raises(TypeError, match="must be a keras.Model or the path"):
        SequenceModelRegressor.from_model(object())


# ---------------------------------------- clone, pickle, pipeline, frozen
def test_clone_copies_the_model_and_refit_fine_tunes_the_copy(X):
    model = _model(keras.layers.Dense(1))
    model.compile(optimizer="sgd", loss="mse")
    before = _weights(model)
    reg = SequenceModelRegressor.from_model(model, epochs=2)
    cloned = clone(reg)
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    assert cloned.model is not model
    for w, w0 in zip(cloned.model.get_weights(), before):
        assert_array_equal(w, w0)  # a copy with the trained weights
    y = np.random.default_rng(3).normal(size=len(X))
    cloned.fit(X, y)
    assert cloned.model_ is cloned.model
    after = cloned.model_.get_weights()
    assert any(not np.array_equal(w, w0) for w, w0 in zip(after, before))
    for w, w0 in zip(model.get_weights(), before):
        assert_array_equal(w, w0)  # the user's model is untouched


def test_pickle_round_trip(X):
    clf = SequenceModelClassifier.from_model(
        _model(keras.layers.Dense(3, activation="softmax")), classes=["a", "b", "c"]
    )
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.classes_, clf.classes_)
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X), **F32)


def test_prefit_last_step_of_a_pipeline_and_frozen_estimator(X):
    model = _model(keras.layers.Dense(1))
    scaler = SequenceScaler().fit(X)
    reg = SequenceModelRegressor.from_model(model)
    pipe = make_pipeline(scaler, reg)  # all steps fitted: a prefit pipeline
    assert_allclose(pipe.predict(X), reg.predict(scaler.transform(X)), **F32)
    y = pipe.predict(X)
    frozen = FrozenEstimator(reg)
    assert clone(frozen) is frozen
    scores = cross_val_score(frozen, X, model.predict(X, verbose=0)[:, 0], cv=2)
    assert_allclose(scores, 1.0, atol=1e-5)  # never refitted
    assert pipe.score(X, y) == pytest.approx(1.0, abs=1e-6)


# --------------------------------------------- importance of a bare model
def test_importance_of_a_bare_trained_model_in_one_line(planted):
    model, X, y = planted
    imp = SequencePermutationImportance(
        model, perturbation="gaussian", effect="rms", random_state=0
    ).fit(X, y)
    assert isinstance(imp.estimator_, SequenceModelRegressor)
    assert imp.estimator_.model_ is model
    x0, x1, x2 = imp.feature_importances_
    assert x0 > 5 * x2 and x1 > 5 * x2
    # The same numbers as its from_model wrapper, and as the public predict.
    wrapped = SequenceModelRegressor.from_model(model)
    again = SequencePermutationImportance(
        wrapped, perturbation="gaussian", effect="rms", random_state=0
    ).fit(X, y)
    assert_allclose(imp.importances_, again.importances_, rtol=1e-4, atol=1e-6)
    scored = SequencePermutationImportance(
        model, scoring="neg_mean_squared_error", random_state=0
    ).fit(X, y)
    assert scored.feature_importances_[0] > 5 * abs(scored.feature_importances_[2])


def test_bare_model_uses_the_compiled_path(planted, monkeypatch, compiled_calls):
    model, X, y = planted
    monkeypatch.setattr(
        keras.Model, "predict", lambda *a, **k: pytest.fail("model.predict called")
    )
    SequencePermutationImportance(
        model, perturbation="gaussian", effect="rms", n_iter=2, random_state=0
    ).fit(X)
    assert sum(compiled_calls) == len(X) * (1 + 3 * 2)  # baseline + 3 features x 2


def test_bare_model_from_a_path(planted, tmp_path):
    model, X, y = planted
    path = tmp_path / "planted.keras"
    model.save(path)
    imp = SequencePermutationImportance(
        str(path), perturbation="zero", effect="mae"
    ).fit(X)
    direct = SequencePermutationImportance(
        model, perturbation="zero", effect="mae"
    ).fit(X)
    assert_allclose(imp.feature_importances_, direct.feature_importances_, **F32)


def test_bare_model_needs_prefit_and_one_input(planted):
    model, X, y = planted
    with pytest.raises(ValueError, match="only be explained with cv='prefit'"):
        SequencePermutationImportance(model, cv=3).fit(X, y)
    a, b = keras.Input((T, F)), keras.Input((T, F))
    two_inputs = keras.Model([a, b], keras.layers.Dense(1)(a + b))
    with pytest.raises(ValueError, match="has 2 inputs"):
        SequencePermutationImportance(two_inputs, effect="rms").fit(X)


def test_eli5_display_of_a_bare_model(planted):
    eli5 = pytest.importorskip("eli5")
    model, X, y = planted
    imp = SequencePermutationImportance(
        model, perturbation="gaussian", effect="rms", n_iter=3, random_state=0
    ).fit(X)
    text = eli5.format_as_text(
        eli5.explain_weights(imp, feature_names=["a", "b", "noise"])
    )
    rows = [line.split()[-1] for line in text.splitlines() if "±" in line]
    assert rows[-1] == "noise"  # the unused input ranks last
    assert f"{imp.feature_importances_[0]:.4f}" in text
