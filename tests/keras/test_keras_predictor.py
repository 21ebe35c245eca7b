"""The compiled Keras predictor returns what the wrappers' public methods return."""

import collections
import copy
import gc
import pickle
import threading
import weakref

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow_backend

from sklearn.linear_model import Ridge  # noqa: E402

from seqimportance import (  # noqa: E402
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
    build_recurrent_model,
)
from seqimportance.keras import _compile_policy as compile_policy  # noqa: E402
from seqimportance.keras import _predictor as kp  # noqa: E402
from seqimportance.keras import _shared_compiled  # noqa: E402
from seqimportance.keras._predictor import (  # noqa: E402
    KerasPredictor,
    make_keras_predictor,
)
from seqimportance.inspection._predictors import GenericPredictor, make_predictor  # noqa: E402
from seqimportance.datasets import (  # noqa: E402
    make_lagged_regression,
    make_seed_sequences,
)

# float32 forward passes: the compiled and the eager/``model.predict`` paths
# may differ in the last bits.
F32 = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(autouse=True)
def no_shared_functions(monkeypatch):
    """Each test starts with no architecture compiled (models of one
    architecture share their functions; see test_shared_compiled.py)."""
    monkeypatch.setattr(_shared_compiled, "_SHARED", collections.OrderedDict())


def assert_labels_agree(labels, expected, proba):
    """Labels equal wherever the probability is clear of the 0.5 threshold.

    Two float32 paths may round a probability within a few ulps of 0.5 to
    either side, so labels there say nothing about the predictor.
    """
    clear = np.abs(proba - 0.5) > 1e-5
    assert clear.mean() > 0.9
    assert_array_equal(labels[clear], expected[clear])


@pytest.fixture(scope="module")
def seed_data():
    return make_seed_sequences(120, n_timesteps=6, random_state=0)


@pytest.fixture(scope="module")
def classifier(seed_data):
    X, y = seed_data
    return SequenceModelClassifier(model__units=4, epochs=1, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def lagged_data():
    return make_lagged_regression(100, n_timesteps=5, n_features=3, random_state=0)


@pytest.fixture(scope="module")
def regressor(lagged_data):
    X, y = lagged_data
    return SequenceModelRegressor(model__units=3, epochs=1, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def flat_classifier(lagged_data):
    X, _ = lagged_data
    X2 = X[:, -1, :]
    y = (X2[:, 0] > 0).astype(int)
    clf = SequenceModelClassifier(model__units=3, epochs=1, random_state=0).fit(X2, y)
    return clf, X2


def _rows(X, n):
    """``n`` rows made of X's rows, so that the batch needs padding."""
    return X[np.arange(n) % len(X)]


# ---------------------------------------------------------------- agreement
@pytest.mark.parametrize("n_rows", [120, 77])
def test_classifier_matches_public_methods(classifier, seed_data, n_rows):
    X = _rows(seed_data[0], n_rows)  # 77: sub-batches of 32, the last one padded
    predictor = make_keras_predictor(classifier, batch_size=32)
    assert isinstance(predictor, KerasPredictor)
    assert predictor.methods == {"predict", "predict_proba"}
    proba = predictor(X, "predict_proba")
    expected = classifier.predict_proba(X)
    assert proba.shape == expected.shape == (n_rows, 6)
    assert proba.dtype == expected.dtype
    assert_allclose(proba, expected, **F32)
    assert_labels_agree(predictor(X, "predict"), classifier.predict(X), expected)


def test_regressor_matches_predict(regressor, lagged_data):
    X = _rows(lagged_data[0], 70)
    predictor = make_keras_predictor(regressor, batch_size=64)
    assert predictor.methods == {"predict"}
    y_pred = predictor(X, "predict")
    expected = regressor.predict(X)
    assert y_pred.shape == expected.shape == (70,)
    assert y_pred.dtype == np.float64
    assert_allclose(y_pred, expected, **F32)
    with pytest.raises(AttributeError, match="has no method 'predict_proba'"):
        predictor(X, "predict_proba")


def test_two_dimensional_input(flat_classifier):
    clf, X2 = flat_classifier
    predictor = make_keras_predictor(clf, batch_size=64)
    X3 = X2[:, np.newaxis, :]  # the importance code hands over (n, 1, F)
    proba = clf.predict_proba(X2)
    assert_allclose(predictor(X3, "predict_proba"), proba, **F32)
    assert_labels_agree(predictor(X3, "predict"), clf.predict(X2), proba[:, 1])


def test_float64_input_and_caller_array_untouched(regressor, lagged_data):
    X = lagged_data[0].astype(np.float64)
    before = X.copy()
    predictor = make_keras_predictor(regressor, batch_size=64)
    assert_allclose(predictor(X, "predict"), regressor.predict(X), **F32)
    assert_array_equal(X, before)


def test_make_predictor_dispatches_to_keras(regressor, classifier):
    assert isinstance(make_predictor(regressor, 3), KerasPredictor)
    assert isinstance(make_predictor(classifier, 3), KerasPredictor)
    assert isinstance(
        make_predictor(Ridge().fit(np.ones((3, 2)), [1, 2, 3]), 2), GenericPredictor
    )


def test_importances_equal_generic_path(regressor, lagged_data, monkeypatch):
    X, y = lagged_data
    params = dict(
        n_iter=2,
        random_state=0,
        perturbation="gaussian",
        scale=0.5,
        max_batch_bytes=3 * X.nbytes,
    )
    fast = SequencePermutationImportance(regressor, effect="rms", **params).fit(X, y)
    fast_score = SequencePermutationImportance(regressor, **params).fit(X, y)
    monkeypatch.setattr(kp, "make_keras_predictor", lambda estimator, **kwargs: None)
    slow = SequencePermutationImportance(regressor, effect="rms", **params).fit(X, y)
    slow_score = SequencePermutationImportance(regressor, **params).fit(X, y)
    assert fast.feature_importances_[0] > 0  # the model reads its inputs
    assert_allclose(fast.importances_, slow.importances_, rtol=1e-4, atol=1e-7)
    assert_allclose(
        fast_score.importances_, slow_score.importances_, rtol=1e-4, atol=1e-7
    )


# ------------------------------------------------------ tracing and caching
def test_traced_once_across_chunk_calls(regressor, lagged_data):
    X = lagged_data[0]
    fresh = copy.deepcopy(regressor)  # its own model: nothing traced yet
    predictor = make_keras_predictor(fresh, batch_size=16)
    assert predictor.tracing_count == 0
    results = [predictor(_rows(X, n), "predict") for n in (48, 32, 16, 45, 80)]
    # Every call is cut into sub-batches of 16 rows, the last one of 45 padded.
    assert predictor.tracing_count == 1
    assert [len(r) for r in results] == [48, 32, 16, 45, 80]
    assert_allclose(results[3], fresh.predict(_rows(X, 45)), **F32)
    # Another predictor of the same fitted model (a refit of the importance
    # meta-estimator) reuses the compiled function.
    again = make_keras_predictor(fresh, batch_size=16)
    again(X, "predict")
    assert again.tracing_count == 1


def test_follows_weights_updated_in_place(regressor, lagged_data):
    # partial_fit / warm_start train the same model_: the compiled functions
    # read its variables, so they must see the new weights.
    X = lagged_data[0]
    est = copy.deepcopy(regressor)
    predictor = make_keras_predictor(est, batch_size=64)
    before = predictor(X, "predict")
    est.model_.set_weights([0.5 * w for w in est.model_.get_weights()])
    after = predictor(X, "predict")
    assert not np.allclose(after, before)
    assert_allclose(after, est.predict(X), **F32)


def test_sub_batches_are_equal_and_nearly_unpadded():
    # Multiples of the evaluation set's size share one shape.
    assert kp._sub_batch_rows(4000, 2048) == 2000
    assert kp._sub_batch_rows(10 * 4000, 2048) == 2000
    assert kp._sub_batch_rows(3750, 4096) == 3752  # multiple of 8
    assert kp._sub_batch_rows(250, 4096) == 256
    assert kp._sub_batch_rows(7, 4096) == 8
    assert kp._sub_batch_rows(77, 32) == 32
    assert kp._sub_batch_rows(5, 3) == 3


def test_default_batch_size_bounds_activation_memory():
    def model(n_timesteps, n_features, units):
        meta = {
            "n_features_in_": n_features,
            "n_timesteps_in_": n_timesteps,
            "n_outputs_": 1,
            "target_type_": "continuous",
            "y_ndim_": 1,
        }
        return build_recurrent_model(
            meta, {"optimizer": "adam", "loss": None}, units=units
        )

    # 50 x (16 + 64 + 1) float32 per row: 2071 rows in 32 MiB, so 2048
    # (the plain graph); 8285 in 128 MiB, so 8192 (XLA).
    assert kp._default_batch_size(model(50, 16, 64)) == 2048
    assert kp._default_batch_size(model(50, 16, 64), 128 * 2**20) == 8192
    assert kp._default_batch_size(model(10, 3, 8)) == 8192  # capped
    assert kp._default_batch_size(model(2000, 64, 256)) == 64  # floor


def test_plain_graph_calls_cut_into_smaller_pieces(regressor, lagged_data):
    X = lagged_data[0]  # 100 rows: one XLA-shaped sub-batch of 104 rows
    predictor = make_keras_predictor(copy.deepcopy(regressor), batch_size=128)
    predictor.plain_batch_size = 32
    seen = []
    original = kp._CompiledModel._run

    def recording(self, key, function, x, share=False):
        seen.append((key[2], len(x)))
        return original(self, key, function, x, share)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kp._CompiledModel, "_run", recording)
        out = predictor(X, "predict")
    assert seen == [(False, 32), (False, 32), (False, 32), (False, 8)]
    assert_allclose(out, regressor.predict(X), **F32)
    default = make_keras_predictor(regressor)
    assert default.plain_batch_size <= default.batch_size


def test_compiled_functions_freed_with_model(regressor, lagged_data):
    X = lagged_data[0]
    est = copy.deepcopy(regressor)  # a model of its own
    predictor = make_keras_predictor(est, batch_size=64, jit_compile=False)
    predictor(X, "predict")
    model_ref = weakref.ref(est.model_)
    compiled_ref = weakref.ref(predictor.compiled)
    assert kp._COMPILED[model_ref()] is compiled_ref()
    del est, predictor
    gc.collect()
    assert model_ref() is None
    assert compiled_ref() is None  # the compiled functions went with the model


def test_pickled_copy_reuses_compiled_function(regressor, lagged_data):
    X = lagged_data[0]
    predictor = make_keras_predictor(regressor, batch_size=64)
    expected = predictor(X, "predict")
    traces = predictor.tracing_count
    copy_ = pickle.loads(pickle.dumps(predictor))
    assert_array_equal(copy_(X, "predict"), expected)
    assert copy_.compiled is predictor.compiled
    assert copy_.tracing_count == traces


def test_copy_in_another_process_compiles_once(regressor, lagged_data, monkeypatch):
    X = lagged_data[0]
    predictor = make_keras_predictor(regressor, batch_size=64)
    expected = predictor(X, "predict")
    payload = pickle.dumps(predictor)
    # A process that never saw the token: the first copy compiles for its own
    # model, the next copies reuse that.
    monkeypatch.setattr(kp, "_BY_TOKEN", weakref.WeakValueDictionary())
    monkeypatch.setattr(kp, "_RECEIVED", kp.collections.OrderedDict())
    first, second = pickle.loads(payload), pickle.loads(payload)
    assert_allclose(first(X, "predict"), expected, **F32)
    assert_allclose(second(X, "predict"), expected, **F32)
    assert first.compiled is second.compiled is not predictor.compiled
    assert second.tracing_count == 1


def test_concurrent_calls_from_threads(classifier, seed_data):
    X = seed_data[0]
    predictor = make_keras_predictor(classifier, batch_size=32)
    expected = predictor(X, "predict_proba")
    results = [None] * 4

    def work(i):
        results[i] = predictor(X[i:], "predict_proba")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, result in enumerate(results):
        assert_allclose(result, expected[i:], **F32)


# ------------------------------------------------------------------- XLA
@pytest.fixture
def xla_for_any_size(monkeypatch):
    """Batches of any size are worth an XLA compile (the tests' models are tiny)."""
    monkeypatch.setattr(compile_policy, "XLA_MIN_WORK", 0)


def _xla_ready(predictor, X):
    """Call twice (plain graph; the second starts the compile), then wait."""
    out = predictor(X, "predict")
    predictor(X, "predict")
    assert compile_policy.wait_for_background(timeout=120)
    return out


def test_auto_serves_plain_graph_then_xla(regressor, lagged_data, xla_for_any_size):
    X = lagged_data[0]
    est = copy.deepcopy(regressor)  # its own model: nothing compiled yet
    xla = make_keras_predictor(est, batch_size=32)
    plain = make_keras_predictor(est, batch_size=32, jit_compile=False)
    first = _xla_ready(xla, X)
    assert xla.uses_xla is True
    assert plain.uses_xla is False
    assert_allclose(first, plain(X, "predict"), **F32)
    assert_allclose(xla(X, "predict"), first, **F32)  # now through XLA
    assert set(k[2] for k in xla.compiled._functions) == {False, True}


def test_xla_compile_starts_beside_a_shapes_first_call(
    regressor, lagged_data, xla_for_any_size, monkeypatch
):
    monkeypatch.setattr(compile_policy, "XLA_AT_FIRST_CALL", True)
    X = lagged_data[0]  # 100 rows: one sub-batch of 104
    predictor = make_keras_predictor(copy.deepcopy(regressor), batch_size=128)
    first = predictor(X, "predict")
    assert compile_policy.wait_for_background(timeout=120)
    assert predictor.uses_xla is True  # checked against the first call's outputs
    key = ((104, 5, 3), "<f4", True)
    assert key in predictor.compiled._functions
    assert_allclose(predictor(X, "predict"), first, **F32)
    # The XLA function calls the plain graph's trace: the model traced once.
    xla = predictor.compiled._functions[key]
    ops = {op.type for op in xla.get_concrete_function().graph.get_operations()}
    assert "While" not in ops and "StatelessWhile" not in ops
    assert ops & {"PartitionedCall", "StatefulPartitionedCall"}


def test_xla_only_once_a_shape_is_called_again(
    regressor, lagged_data, xla_for_any_size
):
    X = lagged_data[0]  # 100 rows: one sub-batch of 104
    predictor = make_keras_predictor(copy.deepcopy(regressor), batch_size=128)
    predictor(X, "predict")
    assert compile_policy.wait_for_background(timeout=120)
    assert predictor.uses_xla is None  # a one-shot call compiles nothing
    predictor(X, "predict")
    assert compile_policy.wait_for_background(timeout=120)
    assert predictor.uses_xla is True
    assert ((104, 5, 3), "<f4", True) in predictor.compiled._functions


def test_smaller_calls_run_on_a_compiled_shape_of_at_most_twice_the_rows(
    regressor, lagged_data, xla_for_any_size
):
    X = lagged_data[0]  # 100 rows
    chunk = np.concatenate([X, X])  # 200 rows: one sub-batch of 200
    predictor = make_keras_predictor(copy.deepcopy(regressor), batch_size=256)
    expected = _xla_ready(predictor, chunk)
    keys = set(predictor.compiled._functions)
    assert ((200, 5, 3), "<f4", True) in keys
    # The evaluation set (104 rows) goes padded through the chunks' executable
    # instead of a compile of its own, with the same outputs.
    for _ in range(3):
        assert_allclose(predictor(X, "predict"), expected[:100], **F32)
    assert compile_policy.wait_for_background(timeout=120)
    assert set(predictor.compiled._functions) == keys
    compiled = predictor.compiled
    assert compiled.padded_rows(104, (5, 3)) == 200
    assert compiled.padded_rows(96, (5, 3)) == 96  # more than twice: its own
    assert compiled.padded_rows(104, (5, 4)) == 104  # another input shape
    plain = make_keras_predictor(predictor.estimator, batch_size=256, jit_compile=False)
    assert plain(X, "predict").shape == expected[:100].shape


def test_plain_graph_pieces_shrink_while_their_shape_compiles(regressor):
    compiled = make_keras_predictor(copy.deepcopy(regressor)).compiled
    compiled.row_work = 4096  # 16 KB a row
    assert compiled._while_compiling(1024) == 1024  # 16 MiB: left alone
    assert compiled._while_compiling(2048) == 512  # 32 MiB: cut to 8 MiB
    compiled.row_work = 2**20  # a huge row: at least the smallest batch
    assert compiled._while_compiling(256) == 64


def test_auto_compiles_no_xla_for_small_work(regressor, lagged_data):
    # The tests' models are tiny: the plain graph serves them, nothing else.
    est = copy.deepcopy(regressor)
    predictor = make_keras_predictor(est, batch_size=32)
    _xla_ready(predictor, lagged_data[0])
    assert predictor.uses_xla is None
    assert predictor.tracing_count == 1


def test_xla_on_request(regressor, lagged_data):
    X = lagged_data[0]
    strict = make_keras_predictor(
        copy.deepcopy(regressor), batch_size=32, jit_compile=True
    )
    assert_allclose(strict(X, "predict"), regressor.predict(X), **F32)
    assert strict.uses_xla is True


def test_falls_back_when_xla_fails(
    regressor, lagged_data, monkeypatch, xla_for_any_size
):
    X = lagged_data[0]
    real_new_function = kp._CompiledModel._new_function

    def failing_xla(self, x, jit):
        function = real_new_function(self, x, jit)
        if not jit:
            return function

        def broken(*args):  # (x), or (weights, x) for a shared function
            raise RuntimeError("XLA compilation failed")

        broken.experimental_get_tracing_count = lambda: 0
        return broken

    monkeypatch.setattr(kp._CompiledModel, "_new_function", failing_xla)
    est = copy.deepcopy(regressor)
    predictor = make_keras_predictor(est, batch_size=32)
    assert_allclose(_xla_ready(predictor, X), regressor.predict(X), **F32)
    assert_allclose(predictor(X, "predict"), regressor.predict(X), **F32)
    assert predictor.uses_xla is False
    assert "XLA compilation failed" in str(predictor.compiled.xla_error)
    strict = make_keras_predictor(
        copy.deepcopy(regressor), batch_size=32, jit_compile=True
    )
    with pytest.raises(RuntimeError, match="XLA compilation failed"):
        strict(X, "predict")


def test_falls_back_when_xla_disagrees(
    regressor, lagged_data, monkeypatch, xla_for_any_size
):
    X = lagged_data[0]
    monkeypatch.setattr(kp._CompiledModel, "_agrees", lambda self, *args: False)
    predictor = make_keras_predictor(copy.deepcopy(regressor), batch_size=32)
    _xla_ready(predictor, X)
    assert_allclose(predictor(X, "predict"), regressor.predict(X), **F32)
    assert predictor.uses_xla is False
    assert all(not k[2] for k in predictor.compiled._functions)
    strict = make_keras_predictor(
        copy.deepcopy(regressor), batch_size=32, jit_compile=True
    )
    with pytest.raises(RuntimeError, match="XLA-compiled outputs .* differ"):
        strict(X, "predict")


def test_worth_xla_by_work_size():
    work = compile_policy.XLA_MIN_WORK
    assert compile_policy.worth_xla(work, 1)
    assert not compile_policy.worth_xla(work - 1, 1)
    # W1: 10 steps x (3 inputs + 3 x 32 + 1) per row; chunks yes, eval set no.
    assert compile_policy.worth_xla(3752, 10 * 100)
    assert not compile_policy.worth_xla(256, 10 * 100)


def test_invalid_parameters(regressor):
    with pytest.raises(
        ValueError, match="jit_compile must be 'auto', True or False; got 'yes'"
    ):
        make_keras_predictor(regressor, jit_compile="yes")
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        make_keras_predictor(regressor, batch_size=0)


# ----------------------------------------------------- when it does not apply
def _with_model(estimator, model):
    other = copy.copy(estimator)
    other.model_ = model
    return other


def test_none_for_other_estimators(lagged_data):
    X, y = lagged_data
    assert make_keras_predictor(Ridge().fit(X[:, 0, :], y)) is None
    assert make_keras_predictor(SequenceModelRegressor()) is None  # not fitted


def test_none_for_several_inputs_or_outputs(regressor):
    inp = keras.Input((5, 3))
    flat = keras.layers.Flatten()(inp)
    heads = [keras.layers.Dense(1)(flat), keras.layers.Dense(1)(flat)]
    two_out = keras.Model(inp, heads)
    assert make_keras_predictor(_with_model(regressor, two_out)) is None
    a, b = keras.Input((5, 3)), keras.Input((5, 3))
    added = keras.layers.Flatten()(keras.layers.Add()([a, b]))
    two_in = keras.Model([a, b], keras.layers.Dense(1)(added))
    assert make_keras_predictor(_with_model(regressor, two_in)) is None


def test_none_when_predict_is_overridden(regressor):
    class Shifted(SequenceModelRegressor):
        def predict(self, X, **kwargs):
            return super().predict(X, **kwargs) + 1.0

    shifted = copy.copy(regressor)
    shifted.__class__ = Shifted
    assert make_keras_predictor(shifted) is None
    assert isinstance(make_predictor(shifted, 3), GenericPredictor)


def test_none_when_fitted_on_dataframe(regressor):
    # Fitted on a 2-D DataFrame: the public methods handle the column names.
    named = copy.copy(regressor)
    named.feature_names_in_ = np.array(["a", "b", "c"], dtype=object)
    assert make_keras_predictor(named) is None


# ------------------------------------------------------------ trusted batches
def test_trusted_batches_skip_only_the_finiteness_check(
    regressor, lagged_data, check_trusted_batches
):
    X = lagged_data[0].astype(np.float32)
    check_trusted_batches(make_keras_predictor(regressor, jit_compile=False), X)


def _hints_of_calls(monkeypatch):
    calls = []
    original = KerasPredictor.__call__

    def recording(self, X_batch, method, **hints):
        calls.append(hints.get("trusted", False))
        return original(self, X_batch, method, **hints)

    monkeypatch.setattr(KerasPredictor, "__call__", recording)
    return calls


@pytest.mark.parametrize(
    "params, trusted",
    [
        (dict(perturbation="gaussian"), True),
        (dict(perturbation="shuffle"), True),
        (dict(perturbation=lambda values, rng: values + 1.0), False),
        (dict(perturbation="gaussian", mask_value=0.0), False),
    ],
    ids=["gaussian", "shuffle", "callable", "padded"],
)
def test_only_batches_of_builtin_perturbations_are_trusted(
    monkeypatch, regressor, lagged_data, params, trusted
):
    X, y = lagged_data
    if "mask_value" in params:  # every other sequence padded at its start
        X = X.copy()
        X[::2, :2] = 0.0
    calls = _hints_of_calls(monkeypatch)
    SequencePermutationImportance(
        regressor, n_iter=2, effect="rms", random_state=0, **params
    ).fit(X, y)
    if "mask_value" in params:  # the unperturbed data has its own call
        assert calls[0] is False  # the caller's array
        assert len(calls) > 1 and all(c is trusted for c in calls[1:])
    else:  # one chunk: the unperturbed copy goes first in its batch
        assert calls == [trusted]


def test_callable_returning_nan_is_still_rejected(regressor, lagged_data):
    X, y = lagged_data
    spi = SequencePermutationImportance(
        regressor, perturbation=lambda values, rng: values * np.nan, effect="rms"
    )
    with pytest.raises(ValueError, match="NaN"):
        spi.fit(X, y)
