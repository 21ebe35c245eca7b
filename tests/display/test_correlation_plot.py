"""plot_feature_correlation: the matrix in dendrogram order, and the dendrogram."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("matplotlib")

from seqimportance.core._clustering import feature_correlation  # noqa: E402
from seqimportance.plotting import plot_feature_correlation  # noqa: E402


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3, 4))
    X[:, :, 3] = X[:, :, 0] + 0.1 * rng.standard_normal((200, 3))
    return X


def test_matrix_puts_correlated_features_side_by_side(X):
    import matplotlib.pyplot as plt

    ax = plot_feature_correlation(X)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == ["x0", "x1", "x2", "x3"]
    assert abs(labels.index("x0") - labels.index("x3")) == 1
    order = [int(label[1:]) for label in labels]
    corr = feature_correlation(X)
    assert_allclose(ax.images[0].get_array(), corr[np.ix_(order, order)])
    plt.close("all")


def test_dendrogram_with_its_cut(X):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    out = plot_feature_correlation(
        X, kind="dendrogram", threshold=0.8, feature_names=list("abcd"), ax=ax
    )
    assert out is ax
    assert sorted(t.get_text() for t in ax.get_xticklabels()) == list("abcd")
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="kind must be one of"):
        plot_feature_correlation(X, kind="pie")
    plt.close("all")
