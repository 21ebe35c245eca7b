"""The built-in recurrent model: architecture, head and loss per task, errors."""

import keras
import numpy as np
import pytest

from seqimportance import build_recurrent_model

T, F = 6, 3


def _meta(target_type, *, classifier, n_out=1, y_ndim=1, n_timesteps=T):
    meta = {
        "n_features_in_": F,
        "n_timesteps_in_": n_timesteps,
        "target_type_": target_type,
        "n_outputs_": n_out,
        "y_ndim_": y_ndim,
        "estimator_type": "classifier" if classifier else "regressor",
    }
    if classifier:
        meta["classes_"] = np.arange(n_out)
        meta["n_classes_"] = n_out
    return meta


def _build(meta, loss=None, **kwargs):
    return build_recurrent_model(meta, {"optimizer": "adam", "loss": loss}, **kwargs)


def _loss_name(model):
    loss = model.loss
    return loss if isinstance(loss, str) else type(loss).__name__


@pytest.mark.parametrize(
    "meta, output_shape, activation, loss",
    [
        (_meta("binary", classifier=True, n_out=2), (None, 1), "sigmoid",
         "binary_crossentropy"),
        (_meta("multiclass", classifier=True, n_out=4), (None, 4), "softmax",
         "sparse_categorical_crossentropy"),
        (_meta("multilabel-indicator", classifier=True, n_out=3, y_ndim=2), (None, 3),
         "sigmoid", "binary_crossentropy"),
        (_meta("continuous", classifier=False), (None, 1), "linear",
         "mean_squared_error"),
        (_meta("continuous-multioutput", classifier=False, n_out=2, y_ndim=2),
         (None, 2), "linear", "mean_squared_error"),
    ],
    ids=["binary", "multiclass", "multilabel", "regression", "multioutput"],
)
def test_head_and_loss_follow_the_target(meta, output_shape, activation, loss):
    model = _build(meta)
    assert model.input_shape == (None, T, F)
    assert model.output_shape == output_shape
    head = model.get_layer("output")
    assert head.activation.__name__ == activation
    assert _loss_name(model) == loss
    # Not per-timestep: the last recurrent layer returns its final state only.
    assert not model.get_layer("lstm_0").return_sequences


def test_given_loss_replaces_the_default():
    model = _build(_meta("binary", classifier=True, n_out=2), loss="hinge")
    assert model.loss == "hinge"


@pytest.mark.parametrize(
    "target_type, classifier, activation",
    [
        ("multilabel-indicator", True, "sigmoid"),
        ("continuous-multioutput", False, "linear"),
    ],
)
def test_per_timestep_is_automatic_for_one_column_per_timestep(
    target_type, classifier, activation
):
    model = _build(_meta(target_type, classifier=classifier, n_out=T, y_ndim=2))
    assert model.output_shape == (None, T)
    assert model.get_layer("lstm_0").return_sequences
    assert model.get_layer("output_step").activation.__name__ == activation
    assert model.get_layer("output_step").units == 1


def test_per_timestep_output_depends_on_the_past_only():
    # Oracle: output t of a per-timestep model is a function of inputs 0..t,
    # so changing the inputs after t leaves outputs 0..t unchanged.
    keras.utils.set_random_seed(0)
    model = _build(
        _meta("continuous-multioutput", classifier=False, n_out=T, y_ndim=2),
        units=[5, 4],
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, T, F)).astype("float32")
    X_late = X.copy()
    X_late[:, 3:, :] = rng.normal(size=(8, T - 3, F))
    out, out_late = np.asarray(model(X)), np.asarray(model(X_late))
    np.testing.assert_allclose(out[:, :3], out_late[:, :3], rtol=1e-6, atol=1e-7)
    assert np.abs(out[:, 3:] - out_late[:, 3:]).min() > 0


def test_per_timestep_false_reads_the_final_state():
    model = _build(
        _meta("continuous-multioutput", classifier=False, n_out=T, y_ndim=2),
        per_timestep=False,
    )
    assert model.output_shape == (None, T)
    assert not model.get_layer("lstm_0").return_sequences
    assert model.get_layer("output").units == T


def test_per_timestep_auto_needs_more_than_one_timestep_and_a_2d_target():
    one_step = _build(
        _meta(
            "continuous-multioutput", classifier=False, n_out=1, y_ndim=2,
            n_timesteps=1,
        )
    )
    assert not one_step.get_layer("lstm_0").return_sequences
    # A 1-D target never gets per-timestep outputs, even with T == 1 output.
    flat = _build(_meta("continuous", classifier=False, n_out=1, n_timesteps=1))
    assert not flat.get_layer("lstm_0").return_sequences


def test_per_timestep_true_with_a_mismatched_target_is_an_error():
    with pytest.raises(ValueError, match=r"per_timestep=True needs .*\(n_samples, 6\)"):
        _build(_meta("binary", classifier=True, n_out=2), per_timestep=True)


@pytest.mark.parametrize(
    "cell, layer_cls",
    [("lstm", keras.layers.LSTM), ("gru", keras.layers.GRU),
     ("simple_rnn", keras.layers.SimpleRNN)],
)
def test_cells_units_and_dropout(cell, layer_cls):
    model = _build(
        _meta("continuous", classifier=False), cell=cell, units=[7, 5],
        dropout=0.1, recurrent_dropout=0.2,
    )
    recurrent = [layer for layer in model.layers if isinstance(layer, layer_cls)]
    assert [layer.units for layer in recurrent] == [7, 5]
    assert [layer.return_sequences for layer in recurrent] == [True, False]
    assert all(layer.dropout == 0.1 and layer.recurrent_dropout == 0.2
               for layer in recurrent)


def test_units_accepts_an_int():
    model = _build(_meta("continuous", classifier=False), units=3)
    assert model.get_layer("lstm_0").units == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cell": "transformer"},
         r"'cell' parameter .* must be one of .* Got 'transformer'"),
        ({"units": []}, r"'units' parameter .* Got \(\) instead"),
        ({"units": [4, 0]}, r"'units' parameter .* Got \(4, 0\) instead"),
        ({"units": 2.5}, r"'units' parameter"),
        ({"dropout": 1.0}, r"'dropout' parameter .* \[0, 1\)\. Got 1\.0 instead"),
        ({"recurrent_dropout": -0.1}, r"'recurrent_dropout' parameter"),
        ({"per_timestep": "yes"}, r"'per_timestep' parameter .* Got 'yes' instead"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _build(_meta("continuous", classifier=False), **kwargs)


def test_multiclass_multioutput_is_not_supported():
    meta = _meta("multiclass-multioutput", classifier=True, n_out=3, y_ndim=2)
    meta["n_classes_"] = None
    with pytest.raises(ValueError, match="does not support 'multiclass-multioutput'"):
        _build(meta)


def test_works_with_plain_scikeras_metadata():
    # Without n_timesteps_in_ / estimator_type (a plain scikeras wrapper):
    # the length comes from X_shape_ and a classifier from classes_.
    meta = {
        "n_features_in_": T,  # scikeras counts axis 1
        "X_shape_": (10, T, F),
        "target_type_": "binary",
        "classes_": np.array([0, 1]),
        "n_classes_": 2,
        "n_outputs_": 1,
    }
    model = _build(meta)
    assert model.input_shape == (None, T, F)
    assert model.get_layer("output").activation.__name__ == "sigmoid"


@pytest.mark.parametrize("per_timestep", [False, True])
def test_float64_layers_compute_in_float64(per_timestep):
    # Oracle: a float64 network equals the same weights run in float64 numpy
    # up to float64 rounding, far below float32's 1e-7.
    if keras.backend.backend() == "jax":
        jax = pytest.importorskip("jax")
        if not jax.config.jax_enable_x64:
            pytest.skip("JAX computes in float64 only with jax_enable_x64")
    n_out = T if per_timestep else 1
    meta = _meta(
        "continuous-multioutput" if per_timestep else "continuous",
        classifier=False,
        n_out=n_out,
        y_ndim=2 if per_timestep else 1,
    )
    keras.utils.set_random_seed(0)
    model = _build(meta, cell="simple_rnn", units=3, dtype="float64")
    assert all(w.dtype == "float64" for w in model.weights)
    X = np.random.default_rng(0).normal(size=(4, T, F))
    out = np.asarray(model(X))
    assert out.dtype == np.float64
    kernel, recurrent, bias, dense_w, dense_b = [np.asarray(w) for w in model.weights]
    h = np.zeros((4, 3))
    steps = []
    for t in range(T):
        h = np.tanh(X[:, t] @ kernel + h @ recurrent + bias)
        steps.append(h @ dense_w + dense_b)
    expected = np.concatenate(steps, axis=1) if per_timestep else steps[-1]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
