"""make_importance_scorer: importances in cross_validate and in searches, equal
to SequencePermutationImportance on the same split and seed."""

import pickle

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from seqimportance import SequencePermutationImportance, make_importance_scorer


def _flatten(X):
    return X.reshape(len(X), -1)


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 3))
    y = 1.5 * X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.normal(size=150)
    return X, y


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(120, 3, 2))
    y = X[:, 2, 0] - 0.5 * X[:, 0, 1] + 0.2 * rng.normal(size=120)
    return X, y, make_pipeline(FunctionTransformer(_flatten), LinearRegression())


def test_cross_validate_entries_equal_the_meta_estimator_on_each_split(tabular):
    X, y = tabular
    cv = KFold(3, shuffle=True, random_state=0)
    result = cross_validate(
        Ridge(),
        X,
        y,
        cv=cv,
        scoring=make_importance_scorer("r2", n_iter=4, random_state=0),
        return_estimator=True,
    )
    assert {f"test_importance_x{j}" for j in range(3)} <= set(result)
    for k, (_, test) in enumerate(cv.split(X)):
        model = result["estimator"][k]
        imp = SequencePermutationImportance(
            model, scoring="r2", n_iter=4, random_state=0
        ).fit(X[test], y[test])
        for j, name in enumerate(imp.unit_names_):
            assert result[f"test_importance_{name}"][k] == pytest.approx(
                imp.feature_importances_[j], rel=1e-12, abs=1e-15
            )
        assert result["test_score"][k] == pytest.approx(
            get_scorer("r2")(model, X[test], y[test]), rel=1e-12
        )


def test_grid_search_reports_every_candidates_importances(tabular):
    X, y = tabular
    alphas = [0.01, 300.0]
    search = GridSearchCV(
        Ridge(),
        {"alpha": alphas},
        cv=3,
        scoring=make_importance_scorer(
            "neg_mean_squared_error", n_iter=3, random_state=0
        ),
        refit="score",
    ).fit(X, y)
    results = search.cv_results_
    for name in ("score", "importance_x0", "importance_x1", "importance_x2"):
        assert results[f"mean_test_{name}"].shape == (2,)
        splits = np.array([results[f"split{k}_test_{name}"] for k in range(3)])
        assert_allclose(results[f"mean_test_{name}"], splits.mean(axis=0))
        assert_allclose(results[f"std_test_{name}"], splits.std(axis=0))
    assert search.best_params_ == {"alpha": 0.01}
    # Heavy shrinkage lowers every importance, most of all the largest.
    x0 = results["mean_test_importance_x0"]
    assert x0[0] > 1.5 * x0[1] > 0
    assert abs(results["mean_test_importance_x2"]).max() < 0.05
    assert search.predict(X).shape == (150,)


def test_randomized_search_in_parallel_gives_the_same_numbers(tabular):
    X, y = tabular
    params = dict(
        param_distributions={"alpha": [0.1, 1.0, 10.0, 100.0]},
        n_iter=3,
        cv=2,
        scoring=make_importance_scorer("r2", n_iter=2, random_state=3),
        refit="score",
        random_state=0,
    )
    ref = RandomizedSearchCV(Ridge(), **params).fit(X, y)
    with parallel_config(backend="threading"):
        par = RandomizedSearchCV(Ridge(), n_jobs=2, **params).fit(X, y)
    for key in ("mean_test_score", "mean_test_importance_x0", "std_test_importance_x1"):
        assert_array_equal(par.cv_results_[key], ref.cv_results_[key])


def test_sequence_units_name_the_entries(sequences):
    X, y, model = sequences
    scorer = make_importance_scorer(
        "r2", axis="both", n_iter=2, random_state=0, perturbation="zero"
    )
    result = cross_validate(model, X, y, cv=2, scoring=scorer)
    names = [f"test_importance_x{f}@t{t}" for t in range(3) for f in range(2)]
    assert set(names) <= set(result)
    means = {name: result[name].mean() for name in names}
    assert max(means, key=means.get) == "test_importance_x0@t2"
    grouped = make_importance_scorer(groups={"first": [0], "second": [1]}, n_iter=2,
                                     random_state=0)
    result = cross_validate(model, X, y, cv=2, scoring=grouped)
    assert {"test_score", "test_importance_first", "test_importance_second"} <= set(
        result
    )


def test_effect_rms_reports_the_score_of_scoring(tabular):
    X, y = tabular
    labels = (y > 0).astype(int)
    model = LogisticRegression().fit(X[:100], labels[:100])
    scorer = make_importance_scorer("roc_auc", effect="rms", n_iter=2, random_state=0)
    out = scorer(model, X[100:], labels[100:])
    assert out["score"] == pytest.approx(
        get_scorer("roc_auc")(model, X[100:], labels[100:])
    )
    imp = SequencePermutationImportance(
        model, effect="rms", n_iter=2, random_state=0
    ).fit(X[100:], labels[100:])
    assert_allclose(
        [out[f"importance_x{j}"] for j in range(3)], imp.feature_importances_
    )


def test_parameters_are_checked_and_the_scorer_pickles():
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['cv'\]"):
        make_importance_scorer(cv=3)
    with pytest.raises(TypeError, match=r"arguments \['n_repeats'\]"):
        make_importance_scorer(n_repeats=3)
    scorer = make_importance_scorer("r2", n_iter=2, random_state=0)
    assert repr(scorer) == (
        "make_importance_scorer(scoring='r2', n_iter=2, random_state=0)"
    )
    restored = pickle.loads(pickle.dumps(scorer))
    X = np.random.RandomState(0).normal(size=(40, 2))
    model = LinearRegression().fit(X, X[:, 0])
    assert restored(model, X, X[:, 0]) == scorer(model, X, X[:, 0])
