"""max_samples: each repeat on its own seeded subset of the samples."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression

from seqimportance import SequencePermutationImportance
from seqimportance.core._seeding import draw_base_seed
from seqimportance.core._subsampling import resolve_max_samples, subsample_rows


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = 3 * X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=200)
    return X, y, LinearRegression().fit(X, y)


def test_all_samples_is_the_default_and_gives_the_same_numbers(tabular):
    X, y, model = tabular
    default = SequencePermutationImportance(model, random_state=0).fit(X, y)
    for everything in (1.0, 200):
        same = SequencePermutationImportance(
            model, max_samples=everything, random_state=0
        ).fit(X, y)
        assert_array_equal(same.importances_, default.importances_)


@pytest.mark.parametrize("max_samples, count", [(50, 50), (0.25, 50)])
def test_each_repeat_scores_its_own_subset(tabular, max_samples, count):
    # Oracle: zeroing feature f of a linear model changes each prediction by
    # w_f * x_f, so the mean absolute change over repeat r's rows is known.
    X, y, model = tabular
    imp = SequencePermutationImportance(
        model,
        perturbation="zero",
        effect="mae",
        max_samples=max_samples,
        n_iter=4,
        random_state=7,
    ).fit(X, y)
    base_seed = draw_base_seed(7)
    for r in range(4):
        rows = subsample_rows(base_seed, 0, r, 200, count)
        assert len(np.unique(rows)) == count
        expected = np.abs(model.coef_ * X[rows]).mean(axis=0)
        assert_allclose(imp.importances_[:, r], expected, rtol=1e-12)
    assert imp.importances_.std(axis=1).min() > 0  # subsets differ by repeat


def test_subsampled_scores_are_paired_and_reproducible(tabular):
    X, y, model = tabular
    params = dict(
        scoring="neg_mean_squared_error", max_samples=0.5, n_iter=6, random_state=3
    )
    imp = SequencePermutationImportance(model, **params).fit(X, y)
    again = SequencePermutationImportance(
        model, max_batch_bytes=X.nbytes, n_jobs=2, **params
    ).fit(X, y)
    assert_array_equal(imp.importances_, again.importances_)
    full = SequencePermutationImportance(model, n_iter=30, **{
        k: v for k, v in params.items() if k not in ("max_samples", "n_iter")
    }).fit(X, y)
    # Planted order, and close to the full-data importances (2 w^2 Var x).
    assert imp.feature_importances_.argmax() == 0
    assert abs(imp.feature_importances_[2]) < 0.05
    assert_allclose(imp.feature_importances_, full.feature_importances_, rtol=0.3,
                    atol=0.05)
    assert imp.scores_[0] == pytest.approx(-np.mean((model.predict(X) - y) ** 2))


def test_resolve_and_errors(tabular):
    X, y, model = tabular
    assert resolve_max_samples(1.0, 10) is None
    assert resolve_max_samples(0.5, 10) == 5
    assert resolve_max_samples(0.01, 10) == 1
    assert resolve_max_samples(3, 10) == 3
    with pytest.raises(ValueError, match="max_samples=500 is larger than the number"):
        SequencePermutationImportance(model, max_samples=500).fit(X, y)
    with pytest.raises(ValueError, match="'max_samples' parameter"):
        SequencePermutationImportance(model, max_samples=1.5).fit(X, y)
    with pytest.raises(ValueError, match="'max_samples' parameter"):
        SequencePermutationImportance(model, max_samples=0).fit(X, y)
