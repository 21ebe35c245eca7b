"""Prefix-state reuse gives the numbers of full forward passes."""

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow_backend

from seqimportance import (  # noqa: E402
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
)
from seqimportance.keras import _compile_policy as compile_policy  # noqa: E402
from seqimportance.keras import _predictor as kp  # noqa: E402
from seqimportance.keras import _prefix  # noqa: E402
from seqimportance.keras._predictor import make_keras_predictor  # noqa: E402
from seqimportance.datasets import (  # noqa: E402
    make_lagged_regression,
    make_seed_sequences,
)

F32 = dict(rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def data():
    X, y = make_lagged_regression(40, n_timesteps=6, n_features=3, random_state=0)
    return X.astype(np.float32), y


def _regressor(data, **params):
    params = {"model__units": 3, **params}
    return SequenceModelRegressor(random_state=0, **params).initialize(*data)


@pytest.fixture
def full_path_only(monkeypatch):
    """Today's path: the predictor declines the first perturbed steps."""

    def disable():
        monkeypatch.setattr(
            kp.KerasPredictor, "uses_first_steps", property(lambda self: False)
        )

    return disable


def _importances(est, X, y, **params):
    params = dict(effect="rms", n_iter=2, random_state=0, **params)
    return SequencePermutationImportance(est, **params).fit(X, y).importances_


# ------------------------------------------------------------- recognition
@pytest.mark.parametrize(
    "params",
    [
        dict(model__units=[4, 3]),
        dict(model__cell="gru"),
        dict(model__cell="simple_rnn", model__units=[3, 2]),
    ],
)
def test_recognises_stacks_of_causal_layers(data, params):
    est = _regressor(data, **params)
    assert _prefix.recurrent_stack(est.model_) is not None
    assert make_keras_predictor(est).uses_first_steps


def _model(*layers, shape=(6, 3)):
    inputs = keras.Input(shape)
    hidden = inputs
    for layer in layers:
        hidden = layer(hidden)
    return keras.Model(inputs, hidden)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _model(keras.layers.Bidirectional(keras.layers.LSTM(2)),
                       keras.layers.Dense(1)),
        lambda: _model(keras.layers.LSTM(2, go_backwards=True), keras.layers.Dense(1)),
        lambda: _model(keras.layers.Conv1D(2, 2), keras.layers.LSTM(2),
                       keras.layers.Dense(1)),
        lambda: _model(keras.layers.Masking(0.0), keras.layers.LSTM(2),
                       keras.layers.Dense(1)),
        lambda: _model(keras.layers.LSTM(2, return_sequences=True),
                       keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)),
    ],
    ids=["bidirectional", "backwards", "conv", "masking", "pooling"],
)
def test_other_models_are_not_recognised(make):
    assert _prefix.recurrent_stack(make()) is None


def test_unrecognised_model_silently_uses_full_passes(data, full_path_only):
    X, y = data
    est = copy.copy(_regressor(data))
    est.model_ = _model(keras.layers.LSTM(2, go_backwards=True), keras.layers.Dense(1))
    assert not make_keras_predictor(est).uses_first_steps
    hinted = _importances(est, X, y, axis="timestep", perturbation="gaussian")
    full_path_only()
    assert_allclose(
        hinted, _importances(est, X, y, axis="timestep", perturbation="gaussian"),
        **F32,
    )


# --------------------------------------------------------------- oracles
@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_zero_perturbation_against_full_pass_per_unit(data, cell):
    X, y = data
    est = _regressor(data, model__cell=cell, model__units=[4, 3])
    got = _importances(est, X, y, axis="timestep", perturbation="zero")
    base = est.predict(X)
    for t in range(X.shape[1]):
        X_t = X.copy()
        X_t[:, t] = 0.0
        expected = np.sqrt(np.mean((est.predict(X_t) - base) ** 2))
        assert_allclose(got[t], expected, **F32)


def test_zero_perturbation_per_timestep_head(full_path_only):
    X, y = make_seed_sequences(30, n_timesteps=5, random_state=0)
    clf = SequenceModelClassifier(model__units=[3, 3], random_state=0)
    clf.initialize(X, y)
    assert clf.model_.output_shape == (None, 5)
    got = _importances(clf, X, y, axis="both", perturbation="zero")
    base = clf.predict_proba(X)
    for t in range(5):
        for f in range(X.shape[2]):
            X_t = X.copy()
            X_t[:, t, f] = 0.0
            expected = np.sqrt(np.mean((clf.predict_proba(X_t) - base) ** 2))
            assert_allclose(got[t * X.shape[2] + f], expected, **F32)


@pytest.mark.parametrize(
    "params",
    [
        dict(axis="timestep"),
        dict(axis="both"),
        dict(axis="timestep", window=2),
        dict(axis="both", window=4),
    ],
)
def test_random_perturbations_equal_todays_path(data, params, full_path_only):
    X, y = data
    est = _regressor(data, model__units=[4, 3])
    kwargs = dict(perturbation="gaussian", scale=0.5, max_batch_bytes=5 * X.nbytes)
    hinted = _importances(est, X, y, **params, **kwargs)
    shuffled = _importances(est, X, y, **params, perturbation="shuffle")
    full_path_only()
    assert_allclose(hinted, _importances(est, X, y, **params, **kwargs), **F32)
    assert_allclose(
        shuffled, _importances(est, X, y, **params, perturbation="shuffle"), **F32
    )
    assert hinted.max() > 0


def test_score_effect_equals_todays_path(data, full_path_only):
    X, y = data
    est = _regressor(data)
    params = dict(axis="timestep", perturbation="gaussian", scale=0.5,
                  n_iter=2, random_state=0)
    hinted = SequencePermutationImportance(est, **params).fit(X, y).importances_
    full_path_only()
    full = SequencePermutationImportance(est, **params).fit(X, y).importances_
    assert_allclose(hinted, full, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------ the predictor's side
@pytest.mark.parametrize(
    "steps",
    [[0, 3, 5, 1, 3, 2, 4], [0, 1, 2, 3, 3, 4, 5]],
    ids=["copies-change-places", "in-order"],
)
@pytest.mark.parametrize("trusted", [False, True])
def test_predictor_hint_equals_full_pass(data, steps, trusted):
    X, _ = data
    est = _regressor(data, model__units=[4, 3])
    predictor = make_keras_predictor(est, batch_size=32)  # sub-batches, padded
    rng = np.random.default_rng(0)
    steps = np.array(steps)
    batch = np.concatenate([X] * len(steps))
    for j, t in enumerate(steps):
        rows = slice(j * len(X), (j + 1) * len(X))
        batch[rows, t:] += rng.normal(size=batch[rows, t:].shape).astype(np.float32)
    full = predictor(batch, "predict")
    hinted = predictor(
        batch, "predict", reference=X, first_steps=steps, trusted=trusted
    )
    assert_allclose(hinted, full, **F32)
    runner = predictor.compiled.prefix_runner(32, "auto")
    # One plain-graph function serves every start and sub-batch size.
    suffix = runner._functions[("suffix", "<f4", False)]
    assert suffix.experimental_get_tracing_count() == 1


def test_prefix_with_xla(data, monkeypatch):
    monkeypatch.setattr(compile_policy, "XLA_MIN_WORK", 0)
    X, _ = data
    est = _regressor(data, model__units=[4, 3], model__cell="gru")
    predictor = make_keras_predictor(est, batch_size=64)
    steps = np.array([2, 4, 1])
    batch = np.concatenate([X] * len(steps))
    for j, t in enumerate(steps):
        batch[j * len(X) : (j + 1) * len(X), t:] *= -1.0
    full = predictor(batch, "predict")
    for _ in range(compile_policy.XLA_AFTER_CALLS):  # then compiled
        predictor(batch, "predict", reference=X, first_steps=steps)
    assert compile_policy.wait_for_background(timeout=120)
    runner = predictor.compiled.prefix_runner(64, "auto")
    assert runner.xla_ok is True
    assert any(len(key) == 3 and key[2] is True for key in runner._functions)
    hinted = predictor(batch, "predict", reference=X, first_steps=steps)
    assert_allclose(hinted, full, **F32)


def test_baseline_states_go_with_the_data(data):
    import gc

    X, _ = data
    est = _regressor(data)
    predictor = make_keras_predictor(est, batch_size=64)
    reference = X.copy()
    batch = np.concatenate([reference, reference])
    predictor(batch, "predict", reference=reference, first_steps=[1, 2])
    runner = predictor.compiled.prefix_runner(64, "auto")
    assert runner._baseline is not None
    del reference, batch
    gc.collect()
    assert runner._baseline is None


def test_prefix_batch_size_counts_what_the_loop_keeps():
    def model(units, per_step):
        inputs = keras.Input((50, 16))
        hidden = keras.layers.LSTM(units, return_sequences=per_step)(inputs)
        return keras.Model(inputs, keras.layers.Dense(1)(hidden))

    # 4 * (50 * 16 + 2 * 64) bytes per row: 9,039 rows in 32 MiB, so 8192.
    assert _prefix.prefix_default_batch_size(model(64, False)) == 8192
    # Plus 50 * 64 outputs: 2,032 rows, so 1024.
    assert _prefix.prefix_default_batch_size(model(64, True)) == 1024
    assert _prefix.prefix_default_batch_size(_model(keras.layers.Conv1D(2, 2))) is None
