"""SequencePermutationImportance on the package's Keras wrappers.

The classic experiment: a small recurrent network trained on
``make_seed_sequences`` (target ``x1 * x2 < 0.25`` at every timestep, ``x3``
pure noise), Gaussian input noise of scale 0.2 and the RMS change of the
predicted probabilities. The published run reported 0.116, 0.119 and 0.008
for x1, x2 and x3.
"""

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from seqimportance import (
    SequenceModelClassifier,
    SequenceModelRegressor,
    SequencePermutationImportance,
)
from seqimportance.core._seeding import job_rng
from seqimportance.inspection._cached_scoring import EstimatorScore
from seqimportance.core._perturbation import (
    Perturbation,
    make_units,
    perturb_unit,
    unit_index,
)
from seqimportance.datasets import make_lagged_regression, make_seed_sequences


@pytest.fixture(scope="module")
def seed_model():
    X, y = make_seed_sequences(400, n_timesteps=10, random_state=0)
    clf = SequenceModelClassifier(
        model__units=16,
        epochs=10,
        batch_size=32,
        optimizer__learning_rate=0.03,
        random_state=0,
    ).fit(X, y)
    return X, y, clf


@pytest.fixture(scope="module")
def lagged_model():
    X, y = make_lagged_regression(
        160, n_timesteps=5, n_features=3, lags=(0, 2), random_state=0
    )
    reg = SequenceModelRegressor(model__units=4, epochs=2, random_state=0).fit(X, y)
    return X, y, reg


def test_classic_lstm_experiment(seed_model):
    X, y, clf = seed_model
    imp = SequencePermutationImportance(
        clf, perturbation="gaussian", scale=0.2, effect="rms", n_iter=5, random_state=0
    ).fit(X, y)
    x1, x2, x3 = imp.feature_importances_
    assert imp.unit_names_.tolist() == ["x0", "x1", "x2"]
    assert min(x1, x2) > 5 * x3
    assert x3 > 0  # the noise still moves the network a little
    assert np.all(imp.feature_importances_std_ < 0.2 * imp.feature_importances_)


def test_keras_path_equals_the_public_predict_proba(seed_model):
    X, y, clf = seed_model
    imp = SequencePermutationImportance(
        clf, perturbation="gaussian", effect="rms", n_iter=2, random_state=3
    ).fit(X, y)
    # The oracle: the wrapper's predict_proba on each perturbed copy.
    perturbation = Perturbation("gaussian", X, scale=0.2)
    base = clf.predict_proba(X)
    _, units = make_units(10, 3)
    base_seed = np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    for u in (0, 2):
        Xp = X.copy()
        perturb_unit(
            Xp,
            unit_index(units[u], 10, 3),
            units[u][1],
            perturbation,
            job_rng(base_seed, 0, u, 1),
        )
        expected = np.sqrt(np.mean((clf.predict_proba(Xp) - base) ** 2))
        # float32 outputs of two paths (compiled vs predict): a few ulps of
        # probabilities of order 1, hence the absolute tolerance.
        assert_allclose(imp.importances_[u, 1], expected, rtol=1e-4, atol=1e-6)


def test_estimator_score_is_batched_and_agrees(lagged_model):
    X, y, reg = lagged_model
    assert (
        EstimatorScore(reg).func is not None
    )  # scikeras's score, on cached predictions
    imp = SequencePermutationImportance(reg, perturbation="zero", n_iter=1).fit(X, y)
    for f in range(3):
        Xz = X.copy()
        Xz[:, :, f] = 0
        expected = reg.score(X, y) - reg.score(Xz, y)
        assert_allclose(imp.importances_[f, 0], expected, rtol=1e-4, atol=1e-5)
    assert_allclose(imp.scores_[0], reg.score(X, y), rtol=1e-5, atol=1e-6)


def test_threads_give_the_same_numbers(lagged_model):
    X, y, reg = lagged_model
    params = {
        "effect": "mae",
        "perturbation": "uniform",
        "n_iter": 3,
        "random_state": 0,
    }
    sequential = SequencePermutationImportance(reg, **params).fit(X, y)
    with parallel_config(backend="threading", n_jobs=2):
        threaded = SequencePermutationImportance(
            reg, max_batch_bytes=X.nbytes, **params
        ).fit(X, y)
    # Other chunk shapes: float32 forward passes may differ in the last bits.
    assert_allclose(
        threaded.importances_, sequential.importances_, rtol=1e-4, atol=1e-6
    )


def test_shape_mismatch_with_a_fitted_wrapper(seed_model):
    X, y, clf = seed_model
    with pytest.raises(
        ValueError,
        match="X has 9 timesteps, but SequenceModelClassifier was fitted on sequences of 10",
    ):
        SequencePermutationImportance(clf).fit(X[:, :9], y)


@pytest.mark.slow
def test_grid_search_over_model_units(lagged_model):
    X, y, _ = lagged_model
    search = GridSearchCV(
        SequencePermutationImportance(
            SequenceModelRegressor(epochs=1, random_state=0),
            cv=None,
            n_iter=1,
            effect="rms",
            random_state=0,
        ),
        {"estimator__model__units": [2, 3]},
        cv=[(np.arange(0, 100), np.arange(100, 160))],  # one split: three small fits
    ).fit(X, y)
    best = search.best_estimator_
    assert search.best_params_["estimator__model__units"] in (2, 3)
    assert (
        best.estimator_.get_params()["model__units"]
        == search.best_params_["estimator__model__units"]
    )
    assert best.feature_importances_.shape == (3,)
    assert search.predict(X).shape == (len(X),)
