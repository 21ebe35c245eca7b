"""Time structure: windows of timesteps and the order question (time_shuffle)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin

from seqimportance import SequencePermutationImportance, pad_sequences
from seqimportance.core._perturbation import make_units
from seqimportance.core._validation import check_sequences


class Stateless(RegressorMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True


class StepSum(Stateless):
    """Sum of feature 0 over all timesteps."""

    def predict(self, X):
        return check_sequences(X)[:, :, 0].sum(axis=1)


class RealMean(Stateless):
    """Mean of feature 0 over the real (non-zero) timesteps."""

    def predict(self, X):
        X = check_sequences(X)
        real = np.any(X != 0.0, axis=2)
        return (X[:, :, 0] * real).sum(axis=1) / real.sum(axis=1)


class LastValue(Stateless):
    """Feature 0 at the last real (non-zero) timestep."""

    def predict(self, X):
        X = check_sequences(X)
        real = np.any(X != 0.0, axis=2)
        last = X.shape[1] - 1 - np.argmax(real[:, ::-1], axis=1)
        return X[np.arange(len(X)), last, 0]


def _spi(estimator, **params):
    params.setdefault("random_state", 0)
    params.setdefault("n_iter", 3)
    return SequencePermutationImportance(estimator, **params)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(200, 12, 3))


# ---------------------------------------------------------------- windows
def test_window_units_are_blocks_named_by_their_range():
    names, units = make_units(12, 2, axis="timestep", window=5)
    assert names.tolist() == ["t0-t4", "t5-t9", "t10-t11"]
    assert [u[0].tolist() for u in units] == [
        [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11]
    ]
    assert all(u[1].tolist() == [0, 1] for u in units)
    names, units = make_units(5, 2, axis="both", window=3, feature_names=["a", "b"])
    assert names.tolist() == ["a@t0-t2", "b@t0-t2", "a@t3-t4", "b@t3-t4"]
    assert units[1][0].tolist() == [0, 1, 2] and units[1][1].tolist() == [1]
    names, _ = make_units(3, 1, axis="timestep", window=1)
    assert names.tolist() == ["t0", "t1", "t2"]  # today's names


def test_window_importance_equals_the_blocks_closed_form(X):
    # Zero ablation of a block of StepSum: the change is the block's sum.
    imp = _spi(
        StepSum(), axis="timestep", window=5, perturbation="zero", effect="mae"
    ).fit(X)
    expected = [
        np.abs(X[:, block, 0].sum(axis=1)).mean()
        for block in (slice(0, 5), slice(5, 10), slice(10, 12))
    ]
    assert_allclose(imp.feature_importances_, expected, rtol=1e-12)
    assert imp.unit_names_.tolist() == ["t0-t4", "t5-t9", "t10-t11"]
    assert "window of 5 timesteps" in imp.caveats_


def test_window_both_is_a_block_by_feature_map(X):
    imp = _spi(
        StepSum(), axis="both", window=4, perturbation="zero", effect="mae"
    ).fit(X)
    heat = imp.feature_importances_.reshape(3, 3)
    assert (heat[:, 0] > 1.0).all()
    assert_array_equal(heat[:, 1:], 0.0)


def test_window_with_padding_averages_over_samples_real_in_the_block():
    rng = np.random.default_rng(1)
    lengths = rng.integers(1, 9, size=150)
    X = pad_sequences([rng.normal(size=(n, 2)) for n in lengths], maxlen=8)
    real = np.any(X != 0.0, axis=2)
    imp = _spi(
        StepSum(), axis="timestep", window=3, perturbation="zero", effect="mae",
        mask_value=0.0,
    ).fit(X)
    for b, block in enumerate((slice(0, 3), slice(3, 6), slice(6, 8))):
        rows = real[:, block].any(axis=1)
        expected = np.abs(X[rows, block, 0].sum(axis=1)).mean()
        assert_allclose(imp.feature_importances_[b], expected, rtol=1e-12)
        assert imp.unit_support_[b] == rows.sum()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"axis": "timestep", "window": 13}, "window=13 is longer than the sequences"),
        ({"axis": "feature", "window": 2}, "needs axis='timestep' or axis='both'"),
        ({"axis": "timestep", "window": 0}, "'window' parameter .* range \\[1, inf\\)"),
        ({"axis": "timestep", "window": 2.0}, "'window' parameter"),
    ],
)
def test_bad_windows(X, params, match):
    with pytest.raises(ValueError, match=match):
        _spi(StepSum(), effect="rms", **params).fit(X)


# ----------------------------------------------------------- time shuffle
def test_time_shuffle_answers_whether_the_order_matters(X):
    mean = _spi(RealMean(), perturbation="time_shuffle", effect="rms").fit(X)
    last = _spi(LastValue(), perturbation="time_shuffle", effect="rms").fit(X)
    # The mean of a series does not depend on its order; its last value does.
    assert_allclose(mean.feature_importances_, 0.0, atol=1e-12)
    assert last.feature_importances_[0] > 1.0
    assert_array_equal(last.feature_importances_[1:], 0.0)
    # Shuffling across samples would call both models' feature 0 important.
    across = _spi(RealMean(), effect="rms").fit(X)
    assert across.feature_importances_[0] > 0.2
    assert "permuted in time within each sample" in mean.caveats_


def test_time_shuffle_with_padding_reorders_real_steps_only():
    rng = np.random.default_rng(2)
    lengths = rng.integers(2, 11, size=200)
    for padding in ("pre", "post"):
        X = pad_sequences(
            [rng.normal(size=(n, 2)) for n in lengths], maxlen=10, padding=padding
        )
        params = dict(perturbation="time_shuffle", effect="rms", mask_value=0.0)
        mean = _spi(RealMean(), **params).fit(X)
        assert_allclose(mean.feature_importances_, 0.0, atol=1e-12)
        last = _spi(LastValue(), **params).fit(X)
        assert last.feature_importances_[0] > 1.0


def test_time_shuffle_within_windows():
    X = np.random.default_rng(3).normal(size=(150, 6, 2))
    imp = _spi(
        LastValue(), perturbation="time_shuffle", axis="timestep", window=3,
        effect="rms",
    ).fit(X)
    assert imp.feature_importances_[0] == 0.0  # order inside t0-t2 is not read
    assert imp.feature_importances_[1] > 1.0  # t5 moves within t3-t5


@pytest.mark.parametrize(
    "params",
    [{"axis": "timestep"}, {"axis": "both"}],
)
def test_time_shuffle_of_single_timesteps_is_an_error(X, params):
    with pytest.raises(ValueError, match="every unit here spans a single timestep"):
        _spi(LastValue(), perturbation="time_shuffle", effect="rms", **params).fit(X)


def test_time_shuffle_of_one_timestep_input_is_an_error():
    X2d = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match="single timestep"):
        _spi(StepSum(), perturbation="time_shuffle", effect="rms").fit(X2d)


def test_time_shuffle_is_reproducible_and_independent_of_chunks(X):
    params = dict(perturbation="time_shuffle", effect="rms", n_iter=4)
    a = _spi(LastValue(), **params).fit(X)
    b = _spi(LastValue(), max_batch_bytes=1, **params).fit(X)
    assert_array_equal(a.importances_, b.importances_)
    c = _spi(LastValue(), random_state=1, **params).fit(X)
    assert not np.array_equal(a.importances_, c.importances_)


def test_groups_time_shuffle_moves_the_groups_steps_together(X):
    # One permutation for all features of a unit: rows of a timestep stay whole.
    class Difference(Stateless):
        def predict(self, X):
            X = check_sequences(X)
            return ((X[:, :, 0] - X[:, :, 1]) ** 2).sum(axis=1)

    imp = _spi(
        Difference(), perturbation="time_shuffle", effect="rms",
        groups={"pair": [0, 1], "other": [2]},
    ).fit(X)
    assert_allclose(imp.feature_importances_, 0.0, atol=1e-9)


def test_feature_names_name_the_units(X):
    imp = _spi(
        StepSum(), feature_names=["a", "b", "c"], axis="both", window=6,
        effect="rms", perturbation="zero",
    ).fit(X)
    assert imp.unit_names_.tolist() == [
        "a@t0-t5", "b@t0-t5", "c@t0-t5", "a@t6-t11", "b@t6-t11", "c@t6-t11"
    ]
    with pytest.raises(ValueError, match="feature_names has 2 names; X has 3"):
        _spi(StepSum(), feature_names=["a", "b"], effect="rms").fit(X)


# ----------------------------------------------------------------- display
def test_plots_place_windows_at_their_first_timestep(X):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from seqimportance.plotting import (
        plot_importance_heatmap,
        plot_timestep_importances,
    )

    both = _spi(
        StepSum(), axis="both", window=5, perturbation="zero", effect="mae"
    ).fit(X)
    ax = plot_importance_heatmap(both)
    assert ax.images[0].get_array().shape == (3, 3)  # features x windows
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "5", "10"]
    assert "window of 5" in ax.get_xlabel()
    steps = _spi(
        StepSum(), axis="timestep", window=5, perturbation="zero", effect="mae"
    ).fit(X)
    ax = plot_timestep_importances(steps)
    assert_array_equal(ax.lines[0].get_xdata(), [0, 5, 10])
    plt.close("all")


def test_eli5_names_windows_and_padding_support():
    pytest.importorskip("eli5")
    from seqimportance.display._eli5 import unit_labels

    X = np.random.default_rng(0).normal(size=(40, 6, 2))
    both = _spi(
        StepSum(), axis="both", window=4, perturbation="zero", effect="mae"
    ).fit(X)
    assert unit_labels(both, ["a", "b"]).tolist() == [
        "a@t0-t3", "b@t0-t3", "a@t4-t5", "b@t4-t5"
    ]
    X[:30, 4:] = 0.0  # 30 of 40 samples are 4 steps long
    padded = _spi(
        StepSum(), axis="timestep", window=2, perturbation="zero", effect="mae",
        mask_value=0.0,
    ).fit(X)
    assert unit_labels(padded).tolist() == [
        "t0-t1 [40 real]", "t2-t3 [40 real]", "t4-t5 [10 real]"
    ]
