"""Models of one architecture share compiled inference, with their own weights."""

import collections
import copy
import gc
import weakref

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow_backend

from seqimportance import (  # noqa: E402
    SequenceModelRegressor,
    SequencePermutationImportance,
)
from seqimportance.keras import _predictor as kp  # noqa: E402
from seqimportance.keras import _shared_compiled as sc  # noqa: E402
from seqimportance.keras._predictor import make_keras_predictor  # noqa: E402
from seqimportance.datasets import make_lagged_regression  # noqa: E402

F32 = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(autouse=True)
def no_shared_functions(monkeypatch):
    monkeypatch.setattr(sc, "_SHARED", collections.OrderedDict())


@pytest.fixture(scope="module")
def data():
    return make_lagged_regression(60, n_timesteps=5, n_features=3, random_state=0)


def _regressor(data, seed, **params):
    X, y = data
    params = {"model__units": 3, **params}
    reg = SequenceModelRegressor(random_state=seed, **params)
    return reg.initialize(X, y)  # untrained: weights differ by seed


def _plain_functions(predictor):
    return [f for k, f in predictor.compiled._functions.items() if not k[2]]


def test_same_architecture_traces_once_with_own_weights(data):
    X = data[0]
    first, second = _regressor(data, 0), _regressor(data, 1)
    p1 = make_keras_predictor(first, jit_compile=False)
    p2 = make_keras_predictor(second, jit_compile=False)
    assert p1.compiled.shared and p2.compiled._set is p1.compiled._set
    out1, out2 = p1(X, "predict"), p2(X, "predict")
    assert_allclose(out1, first.predict(X), **F32)
    assert_allclose(out2, second.predict(X), **F32)
    assert not np.allclose(out1, out2)  # each model's own weights
    (function,) = _plain_functions(p2)
    assert function.experimental_get_tracing_count() == 1
    # The weights are arguments: the graph holds no variable of any model.
    assert function.get_concrete_function().variables == ()


def test_build_function_names_do_not_matter():
    def build():
        inputs = keras.Input((4, 2))
        hidden = keras.layers.GRU(3)(inputs)  # gru, gru_1, ...: new names
        return keras.Model(inputs, keras.layers.Dense(1)(hidden))

    a, b = build(), build()
    assert a.layers[1].name != b.layers[1].name
    assert sc.architecture_key(a) == sc.architecture_key(b) is not None


def test_different_architectures_are_not_shared(data):
    key = sc.architecture_key(_regressor(data, 0).model_)
    assert key is not None
    assert sc.architecture_key(_regressor(data, 0, model__units=4).model_) != key
    assert sc.architecture_key(_regressor(data, 0, model__cell="gru").model_) != key

    def build(activation):
        inputs = keras.Input((4, 2))
        hidden = keras.layers.LSTM(3)(inputs)
        out = keras.layers.Dense(1, activation=activation)(hidden)
        return keras.Model(inputs, out)

    assert sc.architecture_key(build("relu")) != sc.architecture_key(build("tanh"))


def test_custom_layers_get_functions_of_their_own(data):
    class Doubled(keras.layers.Layer):  # its config does not say what it does
        def call(self, x):
            return 2.0 * x

    inputs = keras.Input((5, 3))
    hidden = keras.layers.LSTM(3)(Doubled()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    assert sc.architecture_key(model) is None
    reg = copy.copy(_regressor(data, 0))
    reg.model_ = model
    predictor = make_keras_predictor(reg, jit_compile=False)
    assert not predictor.compiled.shared
    assert_allclose(predictor(data[0], "predict"), reg.predict(data[0]), **F32)


def test_shared_functions_do_not_keep_models_alive(data):
    est = _regressor(data, 0)
    predictor = make_keras_predictor(est, jit_compile=False)
    predictor(data[0], "predict")
    functions = predictor.compiled._set
    model_ref = weakref.ref(est.model_)
    del est, predictor
    gc.collect()
    assert model_ref() is None
    assert sc._SHARED  # the architecture's functions stay for the next model
    assert functions.functions


def test_importances_of_a_second_model_equal_generic_path(data, monkeypatch):
    X, y = data
    params = dict(n_iter=2, random_state=0, perturbation="gaussian", scale=0.5,
                  effect="rms")
    first, second = _regressor(data, 0), _regressor(data, 1)
    SequencePermutationImportance(first, **params).fit(X, y)
    fast = SequencePermutationImportance(second, **params).fit(X, y)
    monkeypatch.setattr(kp, "make_keras_predictor", lambda estimator, **kwargs: None)
    slow = SequencePermutationImportance(second, **params).fit(X, y)
    assert_allclose(fast.importances_, slow.importances_, rtol=1e-4, atol=1e-7)


def test_traced_functions_are_called_flat_with_each_models_weights(data):
    X = data[0]
    first, second = _regressor(data, 0), _regressor(data, 1)
    p1 = make_keras_predictor(first, jit_compile=False)
    p2 = make_keras_predictor(second, jit_compile=False)
    p1(X, "predict")  # traces, through the tf.function's own call
    (function,) = _plain_functions(p1)
    flat = p1.compiled._set._flat[function]
    assert flat is not None
    calls = []
    p1.compiled._set._flat[function] = lambda *a: calls.append(1) or flat(*a)
    for est, predictor in [(second, p2), (first, p1)]:
        assert_allclose(predictor(X[:7], "predict"), est.predict(X[:7]), **F32)
    assert len(calls) == 2 and function.experimental_get_tracing_count() == 1


def test_flat_call_falls_back_to_the_tf_function(data):
    X = data[0]
    est = _regressor(data, 0)
    predictor = make_keras_predictor(est, jit_compile=False)
    predictor(X, "predict")
    (function,) = _plain_functions(predictor)

    def refuses(weights, x):
        raise TypeError("not these inputs")

    predictor.compiled._set._flat[function] = refuses
    assert_allclose(predictor(X[:5], "predict"), est.predict(X[:5]), **F32)
    assert predictor.compiled._set._flat[function] is None  # not tried again
    assert_allclose(predictor(X[:4], "predict"), est.predict(X[:4]), **F32)
