"""cluster_features and feature_correlation against planted groups."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import rankdata, spearmanr

from seqimportance import cluster_features
from seqimportance.core._clustering import _ranks, feature_correlation


@pytest.fixture(scope="module")
def planted():
    """x0, x2, x4 copies of one signal; x1, x3 of another; x5 alone."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 400, 6))
    X = np.empty((400, 6, 6))
    X[:, :, 0] = a
    X[:, :, 2] = a + 0.2 * rng.standard_normal((400, 6))
    X[:, :, 4] = np.exp(a)  # monotone: a rank correlation of 1
    X[:, :, 1] = b
    X[:, :, 3] = -b + 0.2 * rng.standard_normal((400, 6))  # negative counts too
    X[:, :, 5] = rng.standard_normal((400, 6))
    return X


def test_groups_the_planted_copies(planted):
    groups = cluster_features(planted, threshold=0.8)
    assert groups == {"x0+x2+x4": [0, 2, 4], "x1+x3": [1, 3], "x5": [5]}
    names = [f"s{f}" for f in range(6)]
    named = cluster_features(planted, threshold=0.8, feature_names=names)
    assert list(named) == ["s0+s2+s4", "s1+s3", "s5"]
    # threshold=1 groups exact monotone copies only
    exact = cluster_features(planted, threshold=1.0)
    assert exact == {"x0+x4": [0, 4], "x1": [1], "x2": [2], "x3": [3], "x5": [5]}
    # Pearson sees exp(a) as less correlated with a than Spearman does
    pearson = cluster_features(planted, threshold=0.85, method="pearson")
    assert [4] in pearson.values()


def test_spearman_over_samples_and_timesteps(planted):
    corr = feature_correlation(planted)
    expected = spearmanr(planted.reshape(-1, 6)).statistic
    assert_allclose(corr, expected, atol=1e-12)
    assert_allclose(np.diag(corr), 1.0)


def test_padding_and_constant_features():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 4, 3))
    X[:, :, 1] = X[:, :, 0]
    X[:, :, 2] = 5.0
    X[:50, 2:] = 0.0  # padded steps, whose zeros would add agreement
    corr = feature_correlation(X, mask_value=0.0)
    assert corr[0, 1] == pytest.approx(1.0)
    assert corr[0, 2] == 0.0 and corr[2, 2] == 1.0
    assert cluster_features(X, mask_value=0.0) == {"x0+x1": [0, 1], "x2": [2]}


def test_2d_input_and_dataframes():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    a = rng.standard_normal(200)
    frame = pd.DataFrame({"u": a, "v": rng.standard_normal(200), "w": 2 * a})
    assert cluster_features(frame) == {"u+w": [0, 2], "v": [1]}


@pytest.mark.parametrize(
    "params, match",
    [
        ({"threshold": 0.0}, r"threshold must be a correlation in \(0, 1\]"),
        ({"threshold": 1.5}, r"threshold must be a correlation in \(0, 1\]"),
        ({"method": "kendall"}, "method must be one of"),
        ({"linkage": "ward"}, "linkage must be one of"),
        ({"feature_names": ["a"]}, "feature_names has 1 names"),
    ],
)
def test_errors(planted, params, match):
    with pytest.raises(ValueError, match=match):
        cluster_features(planted, **params)


def test_ranks_equal_scipy_average_ranks_with_and_without_ties():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(500, 4))
    values[:, 1] = np.round(values[:, 1])  # many ties
    values[:, 3] = 2.0  # constant: one tie of all rows
    assert_array_equal(_ranks(values), rankdata(values, axis=0))
    assert_array_equal(_ranks(values[:1]), [[1.0, 1.0, 1.0, 1.0]])
