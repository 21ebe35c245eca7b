"""Prefix-state reuse on JAX gives the numbers of full forward passes."""

import copy
import gc

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")
pytest.importorskip("jax")
if keras.backend.backend() != "jax":
    pytest.skip("needs KERAS_BACKEND=jax", allow_module_level=True)

from seqimportance import (  # noqa: E402
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
)
from seqimportance.core._buffers import sub_batch_rows  # noqa: E402
from seqimportance.datasets import (  # noqa: E402
    make_lagged_regression,
    make_seed_sequences,
)
from seqimportance.keras import _causal_stack, _prefix  # noqa: E402
from seqimportance.keras import _jax_predictor as jp  # noqa: E402
from seqimportance.keras._predictor import make_keras_predictor  # noqa: E402

F32 = dict(rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def data():
    X, y = make_lagged_regression(40, n_timesteps=6, n_features=3, random_state=0)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def seeds():
    X, y = make_seed_sequences(30, n_timesteps=5, random_state=0)
    return X.astype(np.float32), y


def _regressor(data, **params):
    params = {"model__units": 4, **params}
    return SequenceModelRegressor(random_state=0, **params).initialize(*data)


def _model(*layers, shape=(6, 3)):
    inputs = keras.Input(shape)
    hidden = inputs
    for layer in layers:
        hidden = layer(hidden)
    return keras.Model(inputs, hidden)


@pytest.fixture
def full_path_only(monkeypatch):
    """The predictor declines the first perturbed steps: full passes only."""

    def disable():
        monkeypatch.setattr(
            jp.JaxPredictor, "uses_first_steps", property(lambda self: False)
        )

    return disable


def _importances(est, X, y=None, **params):
    params = dict(effect="rms", n_iter=2, random_state=0, **params)
    return SequencePermutationImportance(est, **params).fit(X, y).importances_


def _suffix_calls(est):
    return make_keras_predictor(est).prefix_runner().suffix_calls


# ------------------------------------------------------------- recognition
@pytest.mark.parametrize(
    "make",
    [
        lambda: _model(keras.layers.LSTM(3), keras.layers.Dense(1)),
        lambda: _model(keras.layers.GRU(3, return_sequences=True),
                       keras.layers.SimpleRNN(2), keras.layers.Dense(1)),
        lambda: _model(keras.layers.LSTM(2, return_sequences=True),
                       keras.layers.Dense(1), keras.layers.Flatten()),
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
    ids=["lstm", "stacked", "per-step", "bidirectional", "backwards", "conv",
         "masking", "pooling"],
)
def test_recognition_is_tensorflows(make, request):
    model = make()
    served = request.node.callspec.id in ("lstm", "stacked", "per-step")
    assert (_causal_stack.recurrent_stack(model) is not None) == served
    assert _prefix.recurrent_stack is _causal_stack.recurrent_stack  # one rule


def test_recognised_behind_the_wrappers_only(data):
    est = _regressor(data, model__units=[4, 3])
    assert make_keras_predictor(est).uses_first_steps
    other = copy.copy(est)
    other.model_ = _model(keras.layers.LSTM(2, go_backwards=True),
                          keras.layers.Dense(1))
    assert not make_keras_predictor(other).uses_first_steps
    assert not make_keras_predictor(est, input_ndim=2).uses_first_steps


def test_unrecognised_model_silently_uses_full_passes(data, full_path_only):
    X, _ = data
    est = copy.copy(_regressor(data))
    est.model_ = _model(keras.layers.LSTM(2, go_backwards=True), keras.layers.Dense(1))
    hinted = _importances(est, X, axis="timestep", perturbation="gaussian")
    full_path_only()
    assert_allclose(
        hinted, _importances(est, X, axis="timestep", perturbation="gaussian"), **F32
    )


# --------------------------------------------------------------- oracles
@pytest.mark.parametrize("cell", ["lstm", "gru", "simple_rnn"])
def test_zero_perturbation_against_the_models_predict(data, cell):
    X, _ = data
    est = _regressor(data, model__cell=cell, model__units=[4, 3])
    calls = _suffix_calls(est)
    got = _importances(est, X, axis="timestep", perturbation="zero")
    assert _suffix_calls(est) > calls  # the copies ran from their first step
    base = est.predict(X)
    for t in range(X.shape[1]):
        X_t = X.copy()
        X_t[:, t] = 0.0
        expected = np.sqrt(np.mean((est.predict(X_t) - base) ** 2))
        assert_allclose(got[t], expected, **F32)


def test_zero_perturbation_per_timestep_head(seeds):
    X, y = seeds
    clf = SequenceModelClassifier(model__units=[4, 3], random_state=0)
    clf.initialize(X, y)
    assert clf.model_.output_shape == (None, 5)
    got = _importances(clf, X, axis="both", perturbation="zero")
    base = clf.predict_proba(X)
    for t in range(5):
        for f in range(X.shape[2]):
            X_t = X.copy()
            X_t[:, t, f] = 0.0
            expected = np.sqrt(np.mean((clf.predict_proba(X_t) - base) ** 2))
            assert_allclose(got[t * X.shape[2] + f], expected, **F32)


# ----------------------------------------- the estimators, reuse on and off
_MODELS = {
    "lstm": dict(model__units=6),
    "gru-stacked": dict(model__cell="gru", model__units=[5, 4]),
    "simple_rnn": dict(model__cell="simple_rnn", model__units=[4, 4]),
}


@pytest.mark.parametrize("model", sorted(_MODELS))
@pytest.mark.parametrize(
    "params",
    [
        dict(axis="timestep"),
        dict(axis="timestep", window=2),
        dict(axis="both"),
        dict(axis="both", window=4),
    ],
    ids=["timestep", "timestep-window", "both", "both-window"],
)
def test_regressors_equal_full_passes(data, model, params, full_path_only):
    X, _ = data
    est = _regressor(data, **_MODELS[model])
    kwargs = dict(perturbation="gaussian", scale=0.5, max_batch_bytes=5 * X.nbytes)
    runner = make_keras_predictor(est).prefix_runner()
    calls, run, full = runner.suffix_calls, runner.steps_run, runner.steps_full
    hinted = _importances(est, X, **params, **kwargs)
    assert runner.suffix_calls > calls
    assert runner.steps_run - run < runner.steps_full - full  # fewer steps
    full_path_only()
    assert_allclose(hinted, _importances(est, X, **params, **kwargs), **F32)
    assert hinted.max() > 0


@pytest.mark.parametrize("per_step", [True, False], ids=["per-step", "last-step"])
@pytest.mark.parametrize("axis", ["timestep", "both"])
def test_classifiers_equal_full_passes(seeds, per_step, axis, full_path_only):
    X, y = seeds
    if not per_step:
        y = y[:, -1]  # one label per sequence: a last-step head
    clf = SequenceModelClassifier(model__units=[4, 3], random_state=0)
    clf.initialize(X, y)
    assert (clf.model_.output_shape == (None, 5)) == per_step
    calls = _suffix_calls(clf)
    kwargs = dict(axis=axis, perturbation="gaussian", scale=0.5)
    hinted = _importances(clf, X, **kwargs)
    shuffled = _importances(clf, X, axis=axis, perturbation="shuffle")
    assert _suffix_calls(clf) > calls
    full_path_only()
    assert_allclose(hinted, _importances(clf, X, **kwargs), **F32)
    assert_allclose(
        shuffled, _importances(clf, X, axis=axis, perturbation="shuffle"), **F32
    )


def test_score_effect_equals_full_passes(data, full_path_only):
    X, y = data
    est = _regressor(data)
    params = dict(axis="timestep", perturbation="gaussian", scale=0.5,
                  n_iter=2, random_state=0)
    hinted = SequencePermutationImportance(est, **params).fit(X, y).importances_
    full_path_only()
    full = SequencePermutationImportance(est, **params).fit(X, y).importances_
    assert_allclose(hinted, full, **F32)


# ------------------------------------------------------ the predictor's side
def _copies(X, steps, seed=0):
    rng = np.random.default_rng(seed)
    batch = np.concatenate([X] * len(steps))
    for j, t in enumerate(steps):
        rows = slice(j * len(X), (j + 1) * len(X))
        batch[rows, t:] += rng.normal(size=batch[rows, t:].shape).astype(np.float32)
    return batch


@pytest.mark.parametrize(
    "steps",
    [[0, 3, 5, 1, 3, 2, 4], [0, 1, 2, 3, 3, 4, 5]],
    ids=["copies-change-places", "in-order"],
)
def test_predictor_hint_equals_full_pass(data, steps):
    X, _ = data
    est = _regressor(data, model__units=[4, 3])
    predictor = make_keras_predictor(est, batch_size=32)  # sub-batches, padded
    steps = np.array(steps)
    batch = _copies(X, steps)
    full = predictor(batch, "predict")
    assert_allclose(full, est.predict(batch), **F32)
    runner = predictor.prefix_runner()
    calls, run = runner.suffix_calls, runner.steps_run
    predictor._last = None
    hinted = predictor(batch, "predict", reference=X, first_steps=steps)
    assert_allclose(hinted, full, **F32)
    rows = sub_batch_rows(len(batch), 32)
    assert runner.suffix_calls - calls == -(-len(batch) // rows)
    assert runner.steps_run - run < len(batch) * X.shape[1]
    # One compile serves every start.
    assert runner._suffix_fn._cache_size() == 1


def test_hint_without_perturbed_steps_runs_full_passes(data):
    X, _ = data
    est = _regressor(data)
    predictor = make_keras_predictor(est)
    runner = predictor.prefix_runner()
    run, full = runner.steps_run, runner.steps_full
    batch = _copies(X, [0, 0])
    out = predictor(batch, "predict", reference=X, first_steps=[0, 0])
    assert runner.steps_run - run == runner.steps_full - full > 0  # every step
    assert runner._baseline is None  # no states of the reference needed
    assert_allclose(out, est.predict(batch), **F32)


@pytest.mark.parametrize(
    "params",
    [dict(model__cell="lstm"), dict(model__cell="gru", model__units=[4, 3]),
     dict(model__cell="simple_rnn")],
    ids=["lstm", "gru-stacked", "simple_rnn"],
)
def test_full_passes_through_the_step_loop_equal_the_jitted_model(data, params):
    X, _ = data
    est = _regressor(data, **params)
    batch = _copies(X, [0, 3, 5])
    looped = make_keras_predictor(est)
    runner = looped.prefix_runner()
    run = runner.steps_run
    out = looped(batch, "predict")
    assert runner.steps_run - run == len(batch) * X.shape[1]  # the loop ran
    plain = make_keras_predictor(est)
    plain.loop_full_passes = False
    assert_allclose(out, plain(batch, "predict"), **F32)
    assert_allclose(out, est.predict(batch), **F32)


def test_full_passes_of_other_models_stay_on_the_jitted_model(data):
    X, y = data
    model = _model(keras.layers.Conv1D(2, 2), keras.layers.LSTM(2),
                   keras.layers.Dense(1))
    est = SequenceModelRegressor.from_model(model)
    predictor = make_keras_predictor(est)
    assert not predictor._supported
    assert_allclose(predictor(X, "predict"), est.predict(X), **F32)


def test_weights_changed_in_place_are_seen(data):
    X, _ = data
    est = _regressor(data, model__cell="gru")
    predictor = make_keras_predictor(est)
    steps = np.array([2, 4, 1])
    batch = _copies(X, steps)
    predictor(batch, "predict", reference=X, first_steps=steps)
    est.model_.set_weights([w * 1.5 for w in est.model_.get_weights()])
    fresh = make_keras_predictor(est)  # same runner, same cached reference
    assert fresh.prefix_runner() is predictor.prefix_runner()
    hinted = fresh(batch, "predict", reference=X, first_steps=steps)
    assert_allclose(hinted, est.predict(batch), **F32)


def test_later_fits_compile_nothing_again(data):
    X, _ = data
    est = _regressor(data, model__units=[3, 3])
    params = dict(axis="timestep", perturbation="gaussian",
                  max_batch_bytes=5 * X.nbytes)
    first = _importances(est, X, **params)
    runner = make_keras_predictor(est).prefix_runner()
    compiled = runner._suffix_fn._cache_size()
    assert_allclose(_importances(est, X, **params), first, **F32)
    assert runner._suffix_fn._cache_size() == compiled


def test_baseline_states_go_with_the_data(data):
    X, _ = data
    est = _regressor(data)
    predictor = make_keras_predictor(est)
    reference = X.copy()
    batch = np.concatenate([reference, reference])
    predictor(batch, "predict", reference=reference, first_steps=[1, 2])
    runner = predictor.prefix_runner()
    assert runner._baseline is not None
    predictor._last = None
    del reference, batch
    gc.collect()
    assert runner._baseline is None


def test_compiled_functions_go_with_the_model(data):
    est = _regressor(data)
    predictor = make_keras_predictor(est)
    predictor.prefix_runner()
    model = est.model_
    assert model in jp._SHARED
    n_models = len(jp._SHARED)
    del est, predictor, model
    gc.collect()
    assert len(jp._SHARED) < n_models
