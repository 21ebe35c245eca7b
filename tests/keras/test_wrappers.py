"""SequenceModelClassifier / SequenceModelRegressor: tags, input, hook, workflows."""

import pickle
import subprocess
import sys

import keras
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.class_weight import compute_sample_weight
from scikeras.wrappers import KerasClassifier, KerasRegressor

from seqimportance import (
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequenceScaler,
)
from seqimportance.datasets import make_lagged_regression, make_seed_sequences


def small(cls, **params):
    """A tiny, seeded, eagerly run model: cheap to fit on a few samples."""
    defaults = dict(model__units=3, epochs=1, random_state=0, run_eagerly=True)
    return cls(**{**defaults, **params})


@pytest.fixture(scope="module")
def seed_data():
    return make_seed_sequences(80, n_timesteps=5, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_lagged_regression(80, n_timesteps=5, n_features=3, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4, 2))
    y = (X[:, :, 0].mean(axis=1) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def per_timestep_clf(seed_data):
    # Compiled (not eager): the realistic path for the hook guarantee.
    X, y = seed_data
    return SequenceModelClassifier(model__units=4, epochs=2, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def reg(reg_data):
    X, y = reg_data
    return SequenceModelRegressor(model__units=4, epochs=2, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def binary_clf(binary_data):
    X, y = binary_data
    return small(SequenceModelClassifier).fit(X, y)


# -- tags and cross-validation ---------------------------------------------


def test_subclasses_of_scikeras():
    assert issubclass(SequenceModelClassifier, KerasClassifier)
    assert issubclass(SequenceModelRegressor, KerasRegressor)


def test_estimator_type_and_tags():
    clf, reg_ = SequenceModelClassifier(), SequenceModelRegressor()
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(reg_) and not is_classifier(reg_)
    for est, kind in ((clf, "classifier"), (reg_, "regressor")):
        tags = get_tags(est)
        assert tags.estimator_type == kind
        assert tags.input_tags.three_d_array and tags.input_tags.two_d_array
        assert not tags.input_tags.sparse
        assert tags.target_tags.required
    assert get_tags(clf).classifier_tags.multi_label
    assert get_tags(clf).regressor_tags is None
    assert get_tags(reg_).classifier_tags is None


def test_check_cv_stratifies_the_classifier_only(binary_data):
    _, y = binary_data
    cv = check_cv(3, y, classifier=is_classifier(SequenceModelClassifier()))
    assert isinstance(cv, StratifiedKFold)
    cv = check_cv(3, y, classifier=is_classifier(SequenceModelRegressor()))
    assert isinstance(cv, KFold)


def test_roc_auc_cross_validation_is_finite_on_sorted_labels(binary_data):
    # With labels sorted, unstratified KFold gives one-class test folds and
    # roc_auc is undefined (NaN); stratified folds keep both classes.
    X, y = binary_data
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    assert len(set(y[-len(y) // 3:])) == 1  # what KFold's last fold would hold
    clf = small(SequenceModelClassifier)
    scores = cross_val_score(clf, X, y, cv=3, scoring="roc_auc")
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))


# -- input, fitted attributes, errors ----------------------------------------


def test_fitted_attributes_count_features_and_timesteps(per_timestep_clf, reg):
    assert per_timestep_clf.n_features_in_ == 3
    assert per_timestep_clf.n_timesteps_in_ == 5
    np.testing.assert_array_equal(per_timestep_clf.classes_, np.arange(5))
    assert reg.n_features_in_ == 3 and reg.n_timesteps_in_ == 5
    assert reg.model_.input_shape == (None, 5, 3)


def test_two_d_input_is_one_timestep(binary_data):
    X, y = binary_data
    X2 = X[:, 0, :]
    est = small(SequenceModelClassifier).fit(X2, y)
    assert (est.n_timesteps_in_, est.n_features_in_) == (1, 2)
    assert est.model_.input_shape == (None, 1, 2)
    # 2-D and its (n, 1, F) reading predict the same.
    np.testing.assert_array_equal(
        est.predict_proba(X2), est.predict_proba(X2[:, None, :])
    )


def test_predictions_layout_and_dtype(per_timestep_clf, reg, seed_data, reg_data):
    X, y = seed_data
    labels = per_timestep_clf.predict(X)
    proba = per_timestep_clf.predict_proba(X)
    assert labels.shape == y.shape == proba.shape == (80, 5)
    assert set(np.unique(labels)) <= {0, 1}
    assert proba.dtype == np.float64 and proba.min() >= 0 and proba.max() <= 1
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(int))
    y_pred = reg.predict(reg_data[0])
    assert y_pred.shape == (80,) and y_pred.dtype == np.float64


def test_predict_proba_of_one_sample_keeps_the_sample_axis(binary_clf, binary_data):
    X, _ = binary_data
    proba = binary_clf.predict_proba(X[:1])
    assert proba.shape == (1, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "shape, match",
    [
        ((4, 4, 3), r"X has 4 timesteps, but SequenceModelRegressor was fitted on "
                    r"sequences of 5 timesteps .*expected \(n_samples, 5, 3\)"),
        ((4, 5, 2), r"X has 2 features, but SequenceModelRegressor is expecting 3 "
                    r"features as input"),
        ((4, 3), r"X has 1 timesteps, but SequenceModelRegressor was fitted on "
                 r"sequences of 5"),
        ((4, 5, 3, 1), r"X must be a 3-D array .*got an array of shape \(4, 5, 3, 1\)"),
        ((15,), r"got an array of shape \(15,\) \(1-D\)\. Reshape your data"),
    ],
)
def test_predict_rejects_other_shapes(reg, shape, match):
    with pytest.raises(ValueError, match=match):
        reg.predict(np.zeros(shape))
    with pytest.raises(ValueError, match=match):
        reg._sequence_input(np.zeros(shape))


def test_fit_errors(reg_data):
    X, y = reg_data
    est = small(SequenceModelRegressor)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y"):
        est.fit(X, None)
    with pytest.raises(TypeError, match="dense data is required"):
        est.fit(sparse.csr_matrix(X[:, 0, :]), y)
    with pytest.raises(ValueError, match="X must be a 3-D array"):
        est.fit(X[..., None], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.fit(X, y[:-1])
    with pytest.raises(ValueError, match="contains NaN"):
        X_nan = X.copy()
        X_nan[0, 0, 0] = np.nan
        est.fit(X_nan, y)
    with pytest.raises(ValueError, match=r"The 'epochs' parameter of "
                                         r"SequenceModelRegressor must be"):
        small(SequenceModelRegressor, epochs=0).fit(X, y)


def test_predict_before_fit_raises_not_fitted(reg_data):
    with pytest.raises(NotFittedError):
        SequenceModelRegressor().predict(reg_data[0])
    with pytest.raises(NotFittedError):
        SequenceModelClassifier()._sequence_input(reg_data[0])


def test_caller_arrays_are_not_modified(binary_data):
    X, y = binary_data
    X_before, y_before = X.copy(), y.copy()
    sw = np.ones(len(y))
    est = small(SequenceModelClassifier, class_weight="balanced")
    est.fit(X, y, sample_weight=sw)
    est.predict(X)
    np.testing.assert_array_equal(sw, 1.0)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_class_weight_equals_the_matching_sample_weight(binary_data):
    X, y = binary_data
    y = y.copy()
    y[:40] = 0  # imbalanced, so "balanced" weights are not all one
    weighted = small(SequenceModelClassifier, class_weight="balanced").fit(X, y)
    explicit = small(SequenceModelClassifier).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    unweighted = small(SequenceModelClassifier).fit(X, y)
    np.testing.assert_array_equal(weighted.predict_proba(X), explicit.predict_proba(X))
    assert not np.array_equal(weighted.predict_proba(X), unweighted.predict_proba(X))


@pytest.mark.parametrize("cls", [SequenceModelRegressor, SequenceModelClassifier])
def test_integer_sample_weight_equals_repeated_samples(cls, binary_data):
    # One full batch: weights (rescaled to mean 1) and repetitions give the
    # same weighted-mean loss, so the same training step and predictions.
    # Plain SGD, whose steps scale with the loss (Adam's barely do). A
    # float64 model: repeated samples make a batch of another shape, whose
    # float32 sums may round differently on another CPU.
    X, y = binary_data
    sw = np.random.RandomState(1).randint(0, 4, size=len(y))
    sw[:2] = (0, 3)  # a dropped sample and a repeated one, whatever the draw
    est = small(
        cls,
        epochs=2,
        batch_size=-1,
        optimizer="sgd",
        optimizer__learning_rate=0.5,
        model__dtype="float64",
    )
    method = "predict_proba" if cls is SequenceModelClassifier else "predict"
    weighted = getattr(clone(est).fit(X, y, sample_weight=sw), method)(X)
    repeated = getattr(clone(est).fit(X.repeat(sw, axis=0), y.repeat(sw)), method)(X)
    scaled = getattr(clone(est).fit(X, y, sample_weight=10.0 * sw), method)(X)
    unweighted = getattr(clone(est).fit(X, y), method)(X)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weighted, scaled, rtol=1e-5, atol=1e-6)
    assert not np.allclose(weighted, unweighted, rtol=1e-5, atol=1e-6)


# -- the hook of the fast predictor -----------------------------------------


def _raw(est, X):
    return np.asarray(est.model_(est._sequence_input(X), training=False))


def test_hook_reproduces_predict_and_predict_proba(per_timestep_clf, seed_data):
    X, _ = seed_data
    est = per_timestep_clf
    x = est._sequence_input(X)
    assert x.dtype == np.float32 and x.shape == (80, 5, 3)
    np.testing.assert_array_equal(x, X.astype(np.float32))
    raw = _raw(est, X)
    np.testing.assert_array_equal(
        est._postprocess_predictions(raw, "predict"), est.predict(X)
    )
    proba = est._postprocess_predictions(raw, "predict_proba")
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=1e-6, atol=1e-6)


def test_hook_on_binary_and_two_d_input(binary_clf, binary_data):
    X, _ = binary_data
    X2 = X[:, :1, :]  # fitted on T=4; check the 2-D path on its own fit below
    with pytest.raises(ValueError, match="1 timesteps"):
        binary_clf._sequence_input(X2)
    raw = _raw(binary_clf, X)
    assert raw.shape == (60, 1)
    proba = binary_clf._postprocess_predictions(raw, "predict_proba")
    np.testing.assert_allclose(proba, binary_clf.predict_proba(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(proba[:, 1], raw[:, 0], rtol=1e-6)
    np.testing.assert_array_equal(
        binary_clf._postprocess_predictions(raw, "predict"), binary_clf.predict(X)
    )


def test_hook_on_the_regressor_and_two_d_input(reg_data):
    X, y = reg_data
    X2 = X[:, -1, :]
    est = small(SequenceModelRegressor).fit(X2, y)
    x = est._sequence_input(X2)
    assert x.shape == (80, 1, 3) and x.dtype == np.float32
    y_pred = est._postprocess_predictions(_raw(est, X2), "predict")
    assert y_pred.shape == (80,) and y_pred.dtype == np.float64
    np.testing.assert_allclose(y_pred, est.predict(X2), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"method must be one of \('predict',\)"):
        est._postprocess_predictions(_raw(est, X2), "predict_proba")


# -- targets -------------------------------------------------------------------


def test_multiclass_string_labels(binary_data):
    X, _ = binary_data
    y = np.array(["low", "mid", "high"])[np.arange(len(X)) % 3]
    est = small(SequenceModelClassifier).fit(X, y)
    assert est.model_.output_shape == (None, 3)
    np.testing.assert_array_equal(est.classes_, ["high", "low", "mid"])
    proba = est.predict_proba(X)
    assert proba.shape == (60, 3)
    # float64 rows that sum to 1 at float64 precision, as scikit-learn's
    # classifiers give (a float32 softmax sums to 1 only within 1.2e-7).
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(est.predict(X), est.classes_[proba.argmax(axis=1)])


def test_multi_output_and_per_timestep_regression(reg_data):
    X, y = reg_data
    Y2 = np.column_stack([y, -y])
    est = small(SequenceModelRegressor).fit(X, Y2)
    assert est.model_.output_shape == (None, 2)
    pred = est.predict(X)
    assert pred.shape == (80, 2) and pred.dtype == np.float64
    Yt = X[:, :, 0].cumsum(axis=1)  # one target per timestep
    est = small(SequenceModelRegressor).fit(X, Yt)
    assert est.model_.get_layer("lstm_0").return_sequences
    assert est.predict(X).shape == (80, 5)


def test_regressor_learns_a_linear_target():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] - 2 * X[:, 1]
    est = SequenceModelRegressor(
        model__units=8, model__cell="gru", epochs=25, batch_size=20,
        optimizer__learning_rate=0.03, random_state=0,
    ).fit(X, y)
    assert est.score(X, y) > 0.9
    assert len(est.history_["loss"]) == 25
    assert est.history_["loss"][-1] < est.history_["loss"][0] / 5


# -- reproducibility, pickling, cloning, parameters ---------------------------


def test_same_random_state_same_model(per_timestep_clf, seed_data):
    X, y = seed_data
    # Compiled training, as the fixture: a second fit in the same process
    # gives the same model.
    again = SequenceModelClassifier(model__units=4, epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(
        again.predict_proba(X), per_timestep_clf.predict_proba(X)
    )
    other = small(SequenceModelClassifier, model__units=4, epochs=2, random_state=1)
    assert not np.allclose(
        other.fit(X, y).predict_proba(X), per_timestep_clf.predict_proba(X)
    )


def test_random_state_instance_is_read_not_advanced(binary_data):
    X, y = binary_data
    rs = np.random.RandomState(3)
    state = rs.get_state()[1].copy()
    first = small(SequenceModelClassifier, random_state=rs).fit(X, y)
    np.testing.assert_array_equal(rs.get_state()[1], state)
    second = small(SequenceModelClassifier, random_state=np.random.RandomState(3))
    second.fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # Not scikeras's seed 0 for every RandomState.
    zero = small(SequenceModelClassifier, random_state=0).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), zero.predict_proba(X))


@pytest.mark.parametrize("name", ["per_timestep_clf", "reg"])
def test_pickle_round_trip_predicts_the_same(request, name, seed_data, reg_data):
    est = request.getfixturevalue(name)
    X = seed_data[0] if name == "per_timestep_clf" else reg_data[0]
    restored = pickle.loads(pickle.dumps(est))
    assert type(restored) is type(est)
    assert (restored.n_timesteps_in_, restored.n_features_in_) == (5, 3)
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    if hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))


def test_clone_get_params_set_params(per_timestep_clf, seed_data):
    params = per_timestep_clf.get_params()
    assert params["model__units"] == 4 and params["optimizer"] == "adam"
    assert params["verbose"] == 0 and params["model"] is None
    cloned = clone(per_timestep_clf)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "model_")
    cloned.set_params(model__units=2, model__cell="gru", epochs=1, run_eagerly=True)
    X, y = seed_data
    cloned.fit(X, y)
    layer = cloned.model_.get_layer("gru_0")
    assert isinstance(layer, keras.layers.GRU) and layer.units == 2
    assert per_timestep_clf.model_.get_layer("lstm_0").units == 4  # original untouched


def test_warm_start_continues_training(reg_data):
    X, y = reg_data
    est = small(SequenceModelRegressor, warm_start=True).fit(X, y)
    model = est.model_
    weights = [w.copy() for w in model.get_weights()]
    est.fit(X, y)
    assert est.model_ is model  # same network, trained further
    assert any(not np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    cold = small(SequenceModelRegressor).fit(X, y)
    first = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not first


def test_pipeline_grid_search_over_model_params(binary_data):
    X, y = binary_data
    pipe = Pipeline(
        [("scale", SequenceScaler()), ("clf", small(SequenceModelClassifier))]
    )
    search = GridSearchCV(
        pipe, {"clf__model__units": [2, 3]}, cv=2, scoring="roc_auc"
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    units = search.best_params_["clf__model__units"]
    assert best.named_steps["clf"].model_.get_layer("lstm_0").units == units
    assert best.predict_proba(X).shape == (60, 2)
    assert best.named_steps["clf"].n_timesteps_in_ == 4


def test_user_build_function(reg_data):
    seen = {}

    def build(meta, compile_kwargs, hidden=2):
        seen.update(meta)
        inputs = keras.Input((meta["n_timesteps_in_"], meta["n_features_in_"]))
        hidden_layer = keras.layers.Dense(hidden, activation="tanh")(
            keras.layers.Flatten()(inputs)
        )
        model = keras.Model(inputs, keras.layers.Dense(1)(hidden_layer))
        model.compile(loss="mse", optimizer=compile_kwargs["optimizer"])
        return model

    X, y = reg_data
    est = SequenceModelRegressor(model=build, model__hidden=5, random_state=0).fit(X, y)
    assert seen["n_timesteps_in_"] == 5 and seen["n_features_in_"] == 3
    assert seen["estimator_type"] == "regressor"
    assert est.model_.layers[2].units == 5
    assert est.predict(X).shape == (80,)
    np.testing.assert_allclose(
        est._postprocess_predictions(_raw(est, X), "predict"), est.predict(X),
        rtol=1e-6, atol=1e-6,
    )


def test_default_constructor_fits_out_of_the_box():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 3, 2))
    y = (X[:, -1, 0] > 0).astype(int)
    clf = SequenceModelClassifier().fit(X, y)  # built-in LSTM(32), adam, 1 epoch
    assert clf.model_.get_layer("lstm_0").units == 32
    assert clf.model_.loss == "binary_crossentropy"
    assert type(clf.model_.optimizer).__name__ == "Adam"
    assert clf.predict(X).shape == (24,)


def test_small_and_batched_predictions_agree(
    per_timestep_clf, reg, seed_data, reg_data
):
    # Up to one batch goes through predict_on_batch, more through
    # keras.Model.predict: the numbers must not depend on the path.
    for est, X in ((per_timestep_clf, seed_data[0]), (reg, reg_data[0])):
        method = est.predict_proba if hasattr(est, "predict_proba") else est.predict
        full = method(X)  # 80 samples > 32: batched
        np.testing.assert_allclose(method(X[:10]), full[:10], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(method(X, batch_size=7), full, rtol=1e-6, atol=1e-6)


def test_roc_auc_scorer_on_per_timestep_targets(per_timestep_clf, seed_data):
    from sklearn.metrics import get_scorer, roc_auc_score

    X, y = seed_data
    score = get_scorer("roc_auc")(per_timestep_clf, X, y)
    assert np.isfinite(score)
    assert score == pytest.approx(roc_auc_score(y, per_timestep_clf.predict_proba(X)))


def test_seeded_fit_leaves_tensorflow_as_it_was():
    # In a fresh process (scikeras's seeding leaves TensorFlow's op
    # determinism switched on there, and an unseeded fit with a random op
    # then fails), a seeded fit must restore determinism and the seeds.
    code = """
import random
import numpy as np
from tensorflow.python.framework import config
from seqimportance import SequenceModelClassifier
X = np.random.RandomState(0).normal(size=(40, 3, 2))
y = (X[:, -1, 0] > 0).astype(int)
state = random.getstate()
SequenceModelClassifier(model__units=2, random_state=0).fit(X, y)
assert not config.is_op_determinism_enabled()
assert random.getstate() == state
SequenceModelClassifier(model__units=2, model__dropout=0.2).fit(X, y)
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
