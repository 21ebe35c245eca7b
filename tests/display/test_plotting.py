"""Plots draw the numbers they are given: bar widths, order, error bars, maps."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression

from seqimportance import SequencePermutationImportance
from seqimportance.plotting import (
    plot_importance_distribution,
    plot_importance_heatmap,
    plot_importances,
    plot_timestep_importances,
)

matplotlib.use("Agg")


class FittedImportances(BaseEstimator):
    """Holds the fitted attributes of the SequencePermutationImportance contract."""

    def __init__(self, axis="feature", groups=None, effect="score"):
        self.axis = axis
        self.groups = groups
        self.effect = effect

    def fit(self, importances, n_timesteps, n_features, unit_names):
        self.importances_ = np.asarray(importances, dtype=float)
        self.feature_importances_ = self.importances_.mean(axis=1)
        self.feature_importances_std_ = self.importances_.std(axis=1)
        self.results_ = list(self.importances_.T)
        self.unit_names_ = np.asarray(unit_names)
        self.n_timesteps_in_ = n_timesteps
        self.n_features_in_ = n_features
        return self


def _ax():
    return Figure().subplots()


def _errorbar_halfwidths(ax):
    """Half-widths of the horizontal error bars drawn by barh(xerr=...)."""
    (segments,) = [c for c in ax.collections if len(c.get_segments())]
    return np.array([abs(s[1, 0] - s[0, 0]) / 2 for s in segments.get_segments()])


@pytest.fixture
def feature_perm():
    rng = np.random.RandomState(0)
    importances = np.array([0.10, 0.50, 0.02, 0.30])[:, None] + rng.normal(
        0, 0.01, size=(4, 6)
    )
    return FittedImportances().fit(importances, 5, 4, ["x0", "x1", "x2", "x3"])


def test_bars_are_the_importances_sorted_with_std_error_bars(feature_perm):
    ax = plot_importances(feature_perm, ax=_ax(), n_std=2.0)
    order = np.argsort(-feature_perm.feature_importances_)
    widths = np.array([p.get_width() for p in ax.patches])
    assert np.allclose(widths, feature_perm.feature_importances_[order])
    assert np.all(np.diff(widths) <= 0)
    # the first bar (largest) is drawn at the top
    ys = np.array([p.get_y() for p in ax.patches])
    assert ax.get_ylim()[0] > ax.get_ylim()[1] and np.all(np.diff(ys) > 0)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["x1", "x3", "x0", "x2"]
    assert np.allclose(
        _errorbar_halfwidths(ax), 2.0 * feature_perm.feature_importances_std_[order]
    )
    assert ax.get_xlabel() == "Importance (decrease in score)"


def test_top_and_feature_names(feature_perm):
    ax = plot_importances(feature_perm, ax=_ax(), top=2, feature_names=list("abcd"))
    assert len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "d"]
    with pytest.raises(ValueError, match="feature_names has 3 names"):
        plot_importances(feature_perm, ax=_ax(), feature_names=list("abc"))
    with pytest.raises(ValueError, match="top must be a positive int"):
        plot_importances(feature_perm, ax=_ax(), top=0)


def test_plots_return_the_given_axes_and_make_one_without_it(feature_perm):
    ax = _ax()
    assert plot_importances(feature_perm, ax=ax) is ax
    assert plot_importance_distribution(feature_perm, ax=ax) is ax
    new = plot_importances(feature_perm)
    assert new is not ax and new.figure is not None
    import matplotlib.pyplot as plt

    plt.close(new.figure)


def test_accepts_sklearn_bunch_and_arrays():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = 3 * X[:, 0] + X[:, 2]
    bunch = permutation_importance(
        LinearRegression().fit(X, y), X, y, n_repeats=4, random_state=0
    )
    ax = plot_importances(bunch, ax=_ax())
    widths = [p.get_width() for p in ax.patches]
    assert np.allclose(widths, np.sort(bunch.importances_mean)[::-1])
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "x0"

    ax = plot_importances([0.2, 0.7], ax=_ax())
    assert [p.get_width() for p in ax.patches] == [0.7, 0.2]
    assert not [c for c in ax.collections if len(c.get_segments())]  # no std
    with pytest.raises(TypeError, match="must be a fitted SequencePermutationImp"):
        plot_importances("x1", ax=_ax())


@pytest.mark.parametrize(
    "make",
    [
        lambda: FittedImportances(axis="both"),
        lambda: SequencePermutationImportance(LinearRegression()),
    ],
    ids=["stand-in", "SequencePermutationImportance"],
)
def test_unfitted_estimator_raises_not_fitted(make):
    perm = make()
    for plot in (
        plot_importances,
        plot_importance_distribution,
        plot_timestep_importances,
        plot_importance_heatmap,
    ):
        with pytest.raises(NotFittedError):
            plot(perm, ax=_ax())


def test_distribution_boxes_show_the_repeats(feature_perm):
    ax = plot_importance_distribution(feature_perm, ax=_ax())
    order = np.argsort(-feature_perm.feature_importances_)
    raw = feature_perm.importances_
    # median lines: vertical segments spanning the box height, one per box
    medians = {
        int(round(np.mean(line.get_ydata()))): line.get_xdata()[0]
        for line in ax.lines
        if len(line.get_xdata()) == 2
        and line.get_xdata()[0] == line.get_xdata()[1]
        and 0.1 < np.ptp(line.get_ydata()) < 0.5  # not the zero line
    }
    assert sorted(medians) == [1, 2, 3, 4]
    for k, unit in enumerate(order):
        assert np.isclose(medians[k + 1], np.median(raw[unit]))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"x{i}" for i in order]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # largest on top
    with pytest.raises(ValueError, match="needs the importance of every repeat"):
        plot_importance_distribution([0.1, 0.2], ax=_ax())


def test_timestep_curve_and_band():
    mean = np.array([0.0, 0.1, 0.4, 0.2])
    raw = mean[:, None] + np.array([[-0.01, 0.01]])
    perm = FittedImportances(axis="timestep").fit(raw, 4, 3, ["t0", "t1", "t2", "t3"])
    ax = plot_timestep_importances(perm, ax=_ax())
    (line,) = [ln for ln in ax.lines if len(ln.get_xdata()) == 4]
    assert np.allclose(line.get_xdata(), np.arange(4))
    assert np.allclose(line.get_ydata(), mean)
    (band,) = ax.collections
    vertices = band.get_paths()[0].vertices
    assert np.isclose(vertices[:, 1].max(), 0.41) and np.isclose(
        vertices[:, 1].min(), -0.01
    )
    ax = plot_timestep_importances(perm, ax=_ax(), kind="bar", timesteps=[5, 6, 7, 8])
    assert [p.get_x() + p.get_width() / 2 for p in ax.patches] == [5, 6, 7, 8]
    assert np.allclose([p.get_height() for p in ax.patches], mean)

    feature_perm = FittedImportances().fit(raw, 4, 4, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="axis in \\['both', 'timestep'\\]"):
        plot_timestep_importances(feature_perm, ax=_ax())
    with pytest.raises(ValueError, match="timesteps has 2 values"):
        plot_timestep_importances(perm, ax=_ax(), timesteps=[1, 2])


def _both_perm():
    n_t, n_f = 4, 3
    imap = np.arange(n_t * n_f, dtype=float).reshape(n_t, n_f) / 10
    raw = np.repeat(imap.reshape(-1, 1), 3, axis=1)
    names = [f"x{f}@t{t}" for t in range(n_t) for f in range(n_f)]
    return FittedImportances(axis="both").fit(raw, n_t, n_f, names), imap


def test_heatmap_draws_the_timestep_by_feature_map():
    perm, imap = _both_perm()
    ax = plot_importance_heatmap(perm, ax=_ax(), feature_names=["a", "b", "c"])
    (image,) = ax.images
    assert np.allclose(np.asarray(image.get_array()), imap.T)  # time along x
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    ax = plot_importance_heatmap(imap, ax=_ax(), colorbar=False)
    assert np.allclose(np.asarray(ax.images[0].get_array()), imap.T)
    with pytest.raises(ValueError, match="axis in \\['both'\\]"):
        plot_importance_heatmap(FittedImportances().fit(imap.T, 4, 3, list("abc")),
                                ax=_ax())
    with pytest.raises(ValueError, match="shape \\(n_timesteps, n_features\\)"):
        plot_importance_heatmap(np.zeros(3), ax=_ax())


def test_timestep_plot_of_both_has_one_curve_per_feature():
    perm, imap = _both_perm()
    ax = plot_timestep_importances(perm, ax=_ax())
    curves = [ln for ln in ax.lines if len(ln.get_xdata()) == 4]
    assert [ln.get_label() for ln in curves] == ["x0", "x1", "x2"]
    for f, line in enumerate(curves):
        assert np.allclose(line.get_ydata(), imap[:, f])


def test_renders_to_png(tmp_path, feature_perm):
    import matplotlib.pyplot as plt

    perm, _ = _both_perm()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    plot_importances(feature_perm, ax=axes[0])
    plot_timestep_importances(perm, ax=axes[1])
    plot_importance_heatmap(perm, ax=axes[2])
    path = tmp_path / "importances.png"
    fig.savefig(path)
    plt.close(fig)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class FlattenRegression(LinearRegression):
    """Linear regression on flattened sequences (accepts 3-D input)."""

    def fit(self, X, y):
        return super().fit(np.asarray(X).reshape(len(X), -1), y)

    def predict(self, X):
        return super().predict(np.asarray(X).reshape(len(X), -1))


@pytest.fixture(scope="module")
def planted_both():
    """x0 at t2 and x1 at t4 decide y; the map must light up exactly there."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5, 3))
    y = 3 * X[:, 2, 0] + X[:, 4, 1]
    model = FlattenRegression().fit(X, y)
    return SequencePermutationImportance(
        model, axis="both", n_iter=3, random_state=0
    ).fit(X, y)


def test_heatmap_of_a_fitted_meta_estimator_finds_the_planted_cells(planted_both):
    ax = plot_importance_heatmap(planted_both, ax=_ax())
    shown = np.asarray(ax.images[0].get_array())  # (n_features, n_timesteps)
    assert shown.shape == (3, 5)
    assert np.allclose(shown, planted_both.feature_importances_.reshape(5, 3).T)
    f, t = np.unravel_index(np.argmax(shown), shown.shape)
    assert (f, t) == (0, 2)
    assert sorted(np.argsort(shown.ravel())[-2:]) == sorted(
        [np.ravel_multi_index((0, 2), (3, 5)), np.ravel_multi_index((1, 4), (3, 5))]
    )
    ax = plot_importances(planted_both, ax=_ax(), top=2)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x0@t2", "x1@t4"]


def test_timestep_plot_of_a_fitted_meta_estimator(planted_both):
    X = np.random.RandomState(1).normal(size=(200, 5, 3))
    y = 3 * X[:, 2, 0] + X[:, 4, 1]
    perm = SequencePermutationImportance(
        FlattenRegression().fit(X, y), axis="timestep", n_iter=3, random_state=0
    ).fit(X, y)
    ax = plot_timestep_importances(perm, ax=_ax())
    (line,) = [ln for ln in ax.lines if len(ln.get_xdata()) == 5]
    assert np.allclose(line.get_ydata(), perm.feature_importances_)
    assert np.argmax(line.get_ydata()) == 2
    assert ax.get_ylabel() == "Importance (decrease in score)"
