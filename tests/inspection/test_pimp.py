"""permutation_test_importance (PIMP) against its definition, and its p-values
over many data sets: uniform under the null, small for a planted input."""

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from seqimportance import SequencePermutationImportance, permutation_test_importance
from seqimportance.core._seeding import draw_base_seed
from seqimportance.core._statistics import importance_pvalues


def neg_mse(estimator, X, y):
    """A cheap scorer: the calibration tests fit thousands of small models."""
    return -float(np.mean((estimator.predict(X) - y) ** 2))


def _flatten(X):
    return X.reshape(len(X), -1)


@pytest.fixture(scope="module")
def planted():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = 2 * X[:, 0] + rng.normal(size=80)
    return X, y


def test_observed_importances_are_those_of_the_meta_estimator(planted):
    X, y = planted
    result = permutation_test_importance(
        LinearRegression(), X, y, n_permutations=5, cv=KFold(4), n_iter=3,
        scoring="r2", random_state=0,
    )
    imp = SequencePermutationImportance(
        LinearRegression(), cv=KFold(4), n_iter=3, scoring="r2",
        random_state=draw_base_seed(0),
    ).fit(X, y)
    assert_array_equal(result.importances, imp.importances_)
    assert_array_equal(result.importances_mean, imp.feature_importances_)
    assert_array_equal(result.importances_std, imp.feature_importances_std_)
    assert_array_equal(result.unit_names, ["x0", "x1", "x2"])
    assert result.null_importances.shape == (3, 5)
    count = (result.null_importances >= result.importances_mean[:, None]).sum(1)
    assert_allclose(result.pvalues, (count + 1) / 6)


def test_null_importances_come_from_permuted_targets(planted):
    X, y = planted
    result = permutation_test_importance(
        LinearRegression(), X, y, n_permutations=30, cv=None, n_iter=2,
        scoring=neg_mse, random_state=0,
    )
    # With y permuted, x0 explains nothing: its null importance is near the
    # overfitting level of a noise input (2 w**2 Var(x), w ~ 1/sqrt(n)), far
    # below its observed importance, 2 w**2 Var(x) with w close to 2.
    w = LinearRegression().fit(X, y).coef_[0]
    assert result.importances_mean[0] == pytest.approx(2 * w**2 * X[:, 0].var(),
                                                       rel=0.3)
    assert result.null_importances[0].max() < result.importances_mean[0] / 4
    assert result.pvalues[0] == pytest.approx(1 / 31)
    # Null runs differ from each other: each permutes y anew.
    assert len(np.unique(result.null_importances[0])) == 30


def test_same_numbers_for_any_n_jobs_and_the_same_seed(planted):
    X, y = planted
    params = dict(n_permutations=6, cv=3, n_iter=2, scoring=neg_mse)
    ref = permutation_test_importance(LinearRegression(), X, y, random_state=1,
                                      **params)
    with parallel_config(backend="threading"):
        par = permutation_test_importance(
            LinearRegression(), X, y, random_state=1, n_jobs=2, **params
        )
    again = permutation_test_importance(
        LinearRegression(), X, y, random_state=np.random.RandomState(1), **params
    )
    other = permutation_test_importance(LinearRegression(), X, y, random_state=2,
                                        **params)
    for result in (par, again):
        assert_array_equal(result.null_importances, ref.null_importances)
        assert_array_equal(result.pvalues, ref.pvalues)
    assert not np.array_equal(other.null_importances, ref.null_importances)


def test_sequences_and_importance_params_pass_through():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 4, 2))
    y = X[:, 2, 1] + 0.1 * rng.normal(size=60)
    model = make_pipeline(FunctionTransformer(_flatten), LinearRegression())
    result = permutation_test_importance(
        model, X, y, n_permutations=9, cv=None, n_iter=2, axis="timestep",
        scoring=neg_mse, random_state=0,
    )
    assert result.unit_names.tolist() == ["t0", "t1", "t2", "t3"]
    assert result.null_importances.shape == (4, 9)
    assert result.pvalues[2] == pytest.approx(0.1)
    assert result.pvalues[[0, 1, 3]].min() > 0.1


def test_classifiers_are_refitted_on_permuted_labels(planted):
    X, y = planted
    labels = (y > 0).astype(int)
    result = permutation_test_importance(
        LogisticRegression(), X, labels, n_permutations=9, cv=3, n_iter=2,
        scoring="accuracy", random_state=0,
    )
    assert result.pvalues[0] == pytest.approx(0.1)
    assert np.abs(result.null_importances[0]).max() < 0.2


def test_parameters_are_checked_by_name(planted):
    X, y = planted
    with pytest.raises(InvalidParameterError, match="The 'cv' parameter of "
                       "permutation_test_importance must be .* Got 'prefit'"):
        permutation_test_importance(LinearRegression(), X, y, cv="prefit")
    with pytest.raises(InvalidParameterError, match="'n_permutations' parameter"):
        permutation_test_importance(LinearRegression(), X, y, n_permutations=0)
    with pytest.raises(
        TypeError,
        match=r"unexpected keyword arguments \['axes', 'refit'\]; "
        r"\*\*importance_params are the parameters of SequencePermutationImportance",
    ):
        permutation_test_importance(LinearRegression(), X, y, axes=1, refit=True)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        permutation_test_importance(LinearRegression(), X, y[:-1])


# -------------------------------------------------------------- calibration
def _many(n_seeds, coef, n_iter=1):
    pimp, ttest = [], []
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(40, 3))
        y = coef * X[:, 0] + rng.normal(size=40)
        result = permutation_test_importance(
            LinearRegression(), X, y, n_permutations=19, cv=None, n_iter=n_iter,
            scoring=neg_mse, random_state=seed,
        )
        pimp.append(result.pvalues)
        ttest.append(importance_pvalues(result.importances))
    return np.array(pimp), np.array(ttest)


def test_pvalues_are_uniform_when_nothing_is_related():
    pvalues, _ = _many(50, coef=0.0)
    # Exact under this null: P(p <= k / 20) <= k / 20 (ties count against).
    for level in (0.05, 0.25, 0.5):
        assert np.mean(pvalues <= level) < level + 0.07
    assert np.mean(pvalues <= 0.5) > 0.35
    assert 0.4 < pvalues.mean() < 0.65


def test_pvalues_of_a_noise_input_stay_calibrated_on_training_data():
    """Importances on the training data favour noise inputs (the model overfits
    them); PIMP's null has the same bias, the one-fold t-test does not."""
    pimp, ttest = _many(30, coef=2.0, n_iter=3)
    assert np.all(pimp[:, 0] == pytest.approx(1 / 20))
    assert np.mean(pimp[:, 1:] <= 0.05) < 0.1
    assert np.mean(ttest[:, 1:] < 0.05) > 0.2
