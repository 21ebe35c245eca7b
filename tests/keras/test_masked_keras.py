"""Padded sequences through Keras: the Masking layer of the built-in model, the
wrappers on padded data, and importances of a masked LSTM."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.metrics import r2_score

from seqimportance import (
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
    build_recurrent_model,
    pad_sequences,
)

keras = pytest.importorskip("keras")


def _sequences(n, T, F=3, min_len=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(L, F)) for L in rng.integers(min_len, T + 1, size=n)]


def test_builder_adds_a_masking_layer_that_skips_padding():
    meta = {"n_features_in_": 3, "n_timesteps_in_": 8, "n_outputs_": 1,
            "target_type_": "continuous", "y_ndim_": 1}
    model = build_recurrent_model(
        meta, {"optimizer": "adam", "loss": None}, units=4, mask_value=-1.0
    )
    masking = model.layers[1]
    assert isinstance(masking, keras.layers.Masking)
    assert masking.mask_value == -1.0
    seqs = _sequences(20, 8)
    post = pad_sequences(seqs, padding="post", mask_value=-1.0, dtype="float32")
    pre = pad_sequences(seqs, padding="pre", mask_value=-1.0, dtype="float32")
    # The padding is skipped wherever it is: same state after the real steps.
    assert_allclose(model.predict(post, verbose=0), model.predict(pre, verbose=0),
                    rtol=1e-4, atol=1e-5)
    unmasked = build_recurrent_model(meta, {"optimizer": "adam", "loss": None}, units=4)
    assert not any(isinstance(la, keras.layers.Masking) for la in unmasked.layers)


def test_builder_rejects_a_nan_mask_value():
    meta = {"n_features_in_": 2, "n_timesteps_in_": 4, "target_type_": "continuous"}
    with pytest.raises(ValueError, match="mask_value must be a finite number"):
        build_recurrent_model(meta, {"loss": None}, mask_value=float("nan"))


def test_per_timestep_training_ignores_padded_targets():
    seqs = _sequences(64, 6, seed=1)
    X = pad_sequences(seqs, maxlen=6)
    real = np.any(X != 0.0, axis=2)
    y = np.where(real, X[:, :, 0], 0.0)
    reg = SequenceModelRegressor(
        model__units=4, model__mask_value=0.0, epochs=1, random_state=0
    ).fit(X, y)
    assert reg.model_.output_shape == (None, 6)
    y_other = np.where(real, y, 50.0)  # padded targets far off
    model, X32 = reg.model_, X.astype("float32")
    loss = model.evaluate(X32, y, batch_size=len(X), verbose=0)
    assert_allclose(
        model.evaluate(X32, y_other, batch_size=len(X), verbose=0), loss, rtol=1e-5
    )
    # The masked mean of the squared errors of the real steps.
    expected = np.mean((reg.predict(X) - y)[real] ** 2)
    assert_allclose(loss, expected, rtol=1e-4)
    again = pickle.loads(pickle.dumps(reg))
    assert_allclose(again.predict(X), reg.predict(X), rtol=1e-6)

    imp = SequencePermutationImportance(reg, mask_value=0.0, n_iter=2, random_state=0)
    imp.fit(X, y_other)  # scoring=None: the regressor's r2, on the real steps
    assert_allclose(imp.scores_[0], r2_score(y[real], reg.predict(X)[real]),
                    rtol=1e-6)


def test_per_timestep_classifier_with_padding():
    seqs = _sequences(64, 5, seed=2)
    X = pad_sequences(seqs, maxlen=5)
    real = np.any(X != 0.0, axis=2)
    y = np.where(real, X[:, :, 0] > 0, 0).astype(int)
    clf = SequenceModelClassifier(
        model__units=4, model__mask_value=0.0, epochs=1, random_state=0
    ).fit(X, y)
    imp = SequencePermutationImportance(
        clf, mask_value=0.0, scoring="roc_auc", n_iter=2, random_state=0
    ).fit(X, y)
    from sklearn.metrics import roc_auc_score

    proba = clf.predict_proba(X)
    assert_allclose(imp.scores_[0], roc_auc_score(y[real], proba[real]), rtol=1e-6)


def test_masked_lstm_recovers_the_planted_features():
    """Variable lengths: y reads x0 at the last real step and x1 at the first."""
    seqs = _sequences(500, 10, seed=0)
    X = pad_sequences(seqs, maxlen=10, padding="post")
    y = np.array([s[-1, 0] - 0.7 * s[0, 1] for s in seqs])
    reg = SequenceModelRegressor(
        model__units=8,
        model__mask_value=0.0,
        epochs=8,
        batch_size=32,
        optimizer__learning_rate=0.03,
        random_state=0,
    ).fit(X, y)
    imp = SequencePermutationImportance(
        reg, mask_value=0.0, scoring="r2", n_iter=3, random_state=0
    ).fit(X, y)
    x0, x1, x2 = imp.feature_importances_
    assert x0 > x1 > 20 * max(x2, 1e-3)
    assert x1 > 0.2
