"""Padded, variable-length sequences: masks, donors, masked effects, against oracles.

The oracles are numpy estimators whose behaviour on padding is known exactly:
one that fails loudly when a padded position changes or a padded value
reaches a real position, one that reads only the last real step, one that
sums the real steps, and per-timestep models whose padded outputs depend on
inputs that should not matter.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score, roc_auc_score

from seqimportance import SequencePermutationImportance, pad_sequences
from seqimportance.core._masking import (
    PaddingMask,
    UnitPadding,
    padding_mask,
    time_shuffle,
)
from seqimportance.core._perturbation import Perturbation, perturb_unit, unit_index
from seqimportance.core._validation import check_sequences

PERTURBATIONS = ("shuffle", "time_shuffle", "gaussian", "uniform", "zero", "mean")


def _variable_length(n=150, T=8, F=3, padding="post", mask_value=0.0, seed=0,
                     min_len=1):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, T + 1, size=n)
    lengths[0] = T  # one full-length sample
    seqs = [rng.normal(size=(L, F)) for L in lengths]
    X = pad_sequences(seqs, padding=padding, mask_value=mask_value)
    return X, lengths


def _real(X, mask_value):
    return np.any(X != mask_value, axis=2)


# ----------------------------------------------------------- oracle models
class Stateless(BaseEstimator):
    """A fixed function of the input: fitted from the start."""

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True


class PaddingGuard(RegressorMixin, BaseEstimator):
    """Fails loudly if a padded position changes or a real step becomes padding.

    Batches are stacked copies of the evaluated data, so row ``r`` is sample
    ``r % n`` of the data seen in ``fit``.
    """

    def __init__(self, mask_value=0.0):
        self.mask_value = mask_value

    def fit(self, X, y=None):
        self.X_ = np.array(X)
        self.real_ = _real(self.X_, self.mask_value)
        self.w_ = np.arange(1.0, self.X_.shape[2] + 1)
        return self

    def predict(self, X):
        X = check_sequences(X)
        n = len(self.X_)
        assert len(X) % n == 0
        for start in range(0, len(X), n):
            block = X[start : start + n]
            padded = ~self.real_
            same = block[padded].view(np.uint64) == self.X_[padded].view(np.uint64)
            if not same.all():
                raise AssertionError("a padded position was changed")
            if (block[self.real_] == self.mask_value).all(axis=1).any():
                raise AssertionError("a real timestep became padding")
            if (block[self.real_] == self.mask_value).any():
                raise AssertionError("a padded value reached a real position")
        return np.tanh((X * self.w_).sum(axis=(1, 2)))


class LastRealStep(RegressorMixin, Stateless):
    """Predicts feature 0 at each sample's last real timestep."""

    def __init__(self, mask_value=0.0):
        self.mask_value = mask_value

    def predict(self, X):
        X = check_sequences(X)
        real = _real(X, self.mask_value)
        last = X.shape[1] - 1 - np.argmax(real[:, ::-1], axis=1)
        return X[np.arange(len(X)), last, 0]


class RealSum(RegressorMixin, Stateless):
    """Sum of feature 0 over the real steps (padding is 0, so over all steps)."""

    def predict(self, X):
        return check_sequences(X)[:, :, 0].sum(axis=1)


class PerStep(RegressorMixin, Stateless):
    """Per-timestep output: feature 0 at real steps; at padded steps, noise
    that depends on feature 1 (a masked model's padded outputs mean nothing)."""

    def __init__(self, mask_value=0.0):
        self.mask_value = mask_value

    def predict(self, X):
        X = check_sequences(X)
        real = _real(X, self.mask_value)
        garbage = np.repeat(X[:, :, 1].sum(axis=1, keepdims=True), X.shape[1], 1)
        return np.where(real, X[:, :, 0], garbage)


class PerStepClassifier(ClassifierMixin, BaseEstimator):
    """Binary label per timestep; probabilities like PerStep (multilabel layout)."""

    def __init__(self, mask_value=0.0):
        self.mask_value = mask_value

    def fit(self, X, y):
        self.classes_ = np.arange(np.shape(y)[1])
        return self

    def predict_proba(self, X):
        logits = PerStep(self.mask_value).predict(X)
        return 1 / (1 + np.exp(-3 * logits))

    def predict(self, X):
        return (self.predict_proba(X) > 0.5).astype(int)


def _spi(estimator, **params):
    params.setdefault("random_state", 0)
    params.setdefault("n_iter", 3)
    return SequencePermutationImportance(estimator, **params)


# ------------------------------------------------------------------ masks
def test_mask_follows_keras_masking_semantics():
    keras = pytest.importorskip("keras")
    X = np.array(
        [
            [[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]],  # middle step all zero
            [[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]],  # pre-padded
            [[4.0, 5.0], [0.0, 0.0], [0.0, 0.0]],  # post-padded
        ]
    )
    expected = np.asarray(keras.layers.Masking(0.0).compute_mask(X))
    assert_array_equal(padding_mask(X, 0.0), expected)
    assert_array_equal(
        expected, [[True, False, True], [False, False, True], [True, False, False]]
    )


def test_mask_compares_in_the_dtype_of_X():
    X = np.full((1, 3, 2), 0.1, dtype=np.float32)
    X[0, 0] = 1.0
    # 0.1 in float32 is not 0.1 in float64: compared as Keras does, in X's dtype.
    assert padding_mask(X, 0.1).tolist() == [[True, False, False]]


def test_all_padding_sample_is_an_error():
    X = np.ones((4, 3, 2))
    X[2] = -1.0
    with pytest.raises(ValueError, match=r"1 sample\(s\) that are padding .*index 2"):
        padding_mask(X, -1.0)
    with pytest.raises(ValueError, match="padding at every timestep"):
        _spi(LastRealStep(-1.0), mask_value=-1.0, effect="rms").fit(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf, "0", True])
def test_mask_value_must_be_a_finite_number(bad):
    X, _ = _variable_length(n=20)
    with pytest.raises(ValueError, match="mask_value"):
        _spi(LastRealStep(), mask_value=bad, effect="rms").fit(X)


def test_nan_padding_stays_an_error():
    X, _ = _variable_length(n=20)
    X[X == 0.0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _spi(LastRealStep(), mask_value=0.0, effect="rms").fit(X)


def test_padding_mask_object_is_none_without_padding():
    X = np.ones((5, 4, 2))
    assert PaddingMask.from_data(X, 0.0) is None
    assert PaddingMask.from_data(X, None) is None
    X[0, 3] = 0.0
    mask = PaddingMask.from_data(X, 0.0)
    assert mask.unit(np.array([0, 1])) is None  # no padding at these steps
    unit = mask.unit(np.array([3]))
    assert_array_equal(unit.rows, [1, 2, 3, 4])
    assert mask.unit(np.array([3])) is unit  # shared by units of one timestep


# ----------------------------------------------------------------- donors
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_shuffle_draws_real_values_from_donors_real_at_the_same_positions(padding):
    X, lengths = _variable_length(n=200, padding=padding)
    real = _real(X, 0.0)
    n, T, F = X.shape
    unit = (np.arange(T), np.array([1]))
    mask = PaddingMask.from_data(X, 0.0)
    moved = 0
    for seed in range(5):
        dst = X.copy()
        perturb_unit(
            dst, unit_index(unit, T, F), unit[1], Perturbation("shuffle", X),
            np.random.default_rng(seed), mask.unit(unit[0]),
        )
        assert_array_equal(dst[~real], X[~real])  # padding untouched
        assert_array_equal(np.delete(dst, 1, axis=2), np.delete(X, 1, axis=2))
        for i in range(n):
            # The whole real sub-series of one donor, same positions, in order:
            donors = np.flatnonzero(
                (X[:, real[i], 1] == dst[i, real[i], 1]).all(axis=1)
            )
            assert donors.size >= 1
            assert (lengths[donors] >= lengths[i]).all()
            moved += not np.array_equal(dst[i, :, 1], X[i, :, 1])
    assert moved > 0.8 * 5 * n  # most samples do get another donor's values


def test_donors_are_a_permutation_where_that_is_possible():
    valid = np.ones((50, 4), dtype=bool)
    valid[:10, 3] = False  # ten samples one step shorter
    padding = UnitPadding(valid)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        donor = padding.donors(rng)
        # Every donor is real wherever its recipient is.
        assert (valid[donor] | ~valid).all()
        expected = np.random.default_rng(seed).permutation(50)
        ok = (valid[expected] | ~valid).all(axis=1)
        # Recipients whose permuted donor fits keep it, as in the plain shuffle.
        assert_array_equal(donor[ok], expected[ok])


def test_a_sample_without_other_donors_keeps_its_values():
    valid = np.array([[True, True, True], [True, False, False], [True, True, False]])
    donor = UnitPadding(valid).donors(np.random.default_rng(0))
    assert donor[0] == 0  # the only sample real at all three steps


# ---------------------------------------------------- the padding guard
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("perturbation", PERTURBATIONS)
def test_padding_is_never_perturbed(padding, perturbation):
    mask_value = -9.0  # never a real value, not even after "zero" or "mean"
    X, _ = _variable_length(n=60, padding=padding, mask_value=mask_value)
    guard = PaddingGuard(mask_value).fit(X)
    for axis, window in (("feature", 1), ("timestep", 3), ("both", 2)):
        _spi(
            guard, mask_value=mask_value, perturbation=perturbation, axis=axis,
            window=window, effect="rms", scale=0.5,
        ).fit(X)


def test_padding_is_restored_after_a_callable():
    X, _ = _variable_length(n=40, mask_value=-9.0)
    guard = PaddingGuard(-9.0).fit(X)

    def overwrite(values, rng):
        values[...] = 7.0
        return values

    imp = _spi(guard, mask_value=-9.0, perturbation=overwrite, effect="rms").fit(X)
    assert (imp.feature_importances_ > 0).all()


def test_without_mask_value_padding_is_moved_into_real_steps():
    # The failure the option prevents: a plain shuffle copies padding.
    X, _ = _variable_length(n=60, mask_value=-9.0)
    guard = PaddingGuard(-9.0).fit(X)
    with pytest.raises(AssertionError, match="padded|padding"):
        _spi(guard, axis="timestep", effect="rms").fit(X)


# ----------------------------------------------------- equal-length data
@pytest.mark.parametrize("perturbation", PERTURBATIONS)
@pytest.mark.parametrize(
    "axis, effect", [("feature", "score"), ("timestep", "rms"), ("both", "mae")]
)
def test_equal_length_data_gives_todays_numbers(perturbation, axis, effect):
    if perturbation == "time_shuffle" and axis != "feature":
        pytest.skip("time_shuffle needs units of several timesteps")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 5, 3))
    y = X[:, -1, 0] - X[:, 2, 1] + 0.1 * rng.normal(size=80)
    model = LinearRegression().fit(X.reshape(80, -1), y)

    class Flat(RegressorMixin, Stateless):
        def predict(self, X):
            return model.predict(check_sequences(X).reshape(len(X), -1))

    params = dict(perturbation=perturbation, axis=axis, effect=effect, scale=0.3)
    plain = _spi(Flat(), **params).fit(X, y)
    masked = _spi(Flat(), mask_value=0.0, **params).fit(X, y)
    assert_array_equal(masked.importances_, plain.importances_)
    assert_array_equal(masked.unit_support_, np.full(len(plain.units_), 80))


# ------------------------------------------------------ position oracles
def test_last_real_step_model_pre_padding():
    X, lengths = _variable_length(n=120, T=6, padding="pre")
    imp = _spi(LastRealStep(), mask_value=0.0, axis="timestep", effect="rms").fit(X)
    # Pre-padding: every sample ends at the last position.
    assert imp.feature_importances_[-1] > 0.5
    assert_array_equal(imp.feature_importances_[:-1], 0.0)
    assert_array_equal(imp.unit_support_, [(lengths >= 6 - t).sum() for t in range(6)])
    per_feature = _spi(LastRealStep(), mask_value=0.0, effect="rms").fit(X)
    assert per_feature.feature_importances_[0] > 0.5
    assert_array_equal(per_feature.feature_importances_[1:], 0.0)


def test_last_real_step_model_post_padding():
    X, lengths = _variable_length(n=200, T=6, padding="post", min_len=3)
    imp = _spi(LastRealStep(), mask_value=0.0, axis="timestep", effect="rms").fit(X)
    # Post-padding: samples end at different positions, never before t2 here.
    ends = np.isin(np.arange(6), lengths - 1)
    assert_array_equal(ends, [False, False, True, True, True, True])
    assert (imp.feature_importances_[ends] > 0.5).all()
    assert_array_equal(imp.feature_importances_[~ends], 0.0)


def test_a_position_averages_over_the_samples_real_there():
    X, _ = _variable_length(n=100, T=5, padding="post")
    real = _real(X, 0.0)
    imp = _spi(
        RealSum(), mask_value=0.0, axis="timestep", perturbation="zero", effect="mae"
    ).fit(X)
    expected = [np.abs(X[real[:, t], t, 0]).mean() for t in range(5)]
    assert_allclose(imp.feature_importances_, expected, rtol=1e-12)
    assert_array_equal(imp.unit_support_, real.sum(axis=0))


def test_mean_and_relative_scale_use_real_steps_only():
    X, _ = _variable_length(n=100, T=6, mask_value=0.0)
    X[_real(X, 0.0)] += 10.0  # real values far from the padding value
    mask = PaddingMask.from_data(X, 0.0)
    real_steps = X[mask.valid]
    mean = Perturbation("mean", X, padding=mask)
    assert_allclose(mean.feature_means_, real_steps.mean(axis=0))
    noise = Perturbation("gaussian", X, scale=0.1, relative_scale=True, padding=mask)
    assert_allclose(noise.feature_scales_, 0.1 * real_steps.std(axis=0))


# ------------------------------------------------ per-timestep outputs
def test_per_timestep_effects_compare_real_steps_only():
    X, _ = _variable_length(n=120, T=6)
    masked = _spi(PerStep(), mask_value=0.0, effect="rms").fit(X)
    assert masked.feature_importances_[0] > 0.5
    assert_array_equal(masked.feature_importances_[1:], 0.0)
    unmasked = _spi(PerStep(), effect="rms").fit(X)
    assert unmasked.feature_importances_[1] > 0.5


def test_per_timestep_scores_compare_real_steps_only():
    X, _ = _variable_length(n=120, T=6)
    real = _real(X, 0.0)
    rng = np.random.default_rng(1)
    y = np.where(real, X[:, :, 0] + 0.1 * rng.normal(size=real.shape), 99.0)
    imp = _spi(PerStep(), mask_value=0.0, scoring="r2").fit(X, y)
    assert_allclose(imp.scores_[0], r2_score(y[real], X[:, :, 0][real]))
    assert imp.feature_importances_[0] > 0.5
    assert_array_equal(imp.feature_importances_[1:], 0.0)
    # scoring=None: the regressor's own r2, over the real steps.
    own = _spi(PerStep(), mask_value=0.0).fit(X, y)
    assert_allclose(own.importances_, imp.importances_)


def test_per_timestep_classifier_is_scored_on_real_steps():
    X, _ = _variable_length(n=150, T=6)
    real = _real(X, 0.0)
    y = np.where(real, X[:, :, 0] > 0, 1).astype(int)
    clf = PerStepClassifier().fit(X, y)
    imp = _spi(clf, mask_value=0.0, scoring="roc_auc").fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(imp.scores_[0], roc_auc_score(y[real], proba[real]))
    assert imp.feature_importances_[0] > 0.2
    assert_array_equal(imp.feature_importances_[1:], 0.0)
    accuracy = _spi(clf, mask_value=0.0).fit(X, y)  # ClassifierMixin.score
    assert_allclose(accuracy.scores_[0], 1.0)
    rms = _spi(clf, mask_value=0.0, effect="rms").fit(X)
    assert_array_equal(rms.feature_importances_[1:], 0.0)


def test_classes_are_not_mistaken_for_timesteps():
    # predict_proba with n_timesteps columns that are classes, not steps.
    X, _ = _variable_length(n=90, T=3)

    class ThreeClasses(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.arange(3)
            return self

        def predict_proba(self, X):
            X = check_sequences(X)
            logits = X.sum(axis=1)
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def predict(self, X):
            return self.predict_proba(X).argmax(axis=1)

    clf = ThreeClasses().fit(X, np.arange(90) % 3)
    imp = _spi(clf, mask_value=0.0, effect="rms").fit(X)
    plain = _spi(clf, effect="rms", perturbation="gaussian").fit(X)
    masked = _spi(clf, effect="rms", perturbation="gaussian", mask_value=0.0).fit(X)
    assert (imp.feature_importances_ > 0).all()
    # Same outputs compared; only padded inputs are spared the noise.
    assert (masked.feature_importances_ < plain.feature_importances_).all()


# ------------------------------------------- support, names, reproducibility
def test_units_real_in_few_samples_warn():
    X, _ = _variable_length(n=100, T=6, padding="pre", min_len=1)
    X[:, 0] = 0.0  # position 0 is padding everywhere...
    X[:3, 0] = 1.0  # ...except in three samples
    with pytest.warns(UserWarning, match=r"fewer than 10 samples.*t0 \(3\)"):
        imp = _spi(LastRealStep(), mask_value=0.0, axis="timestep", effect="rms").fit(
            X
        )
    assert imp.unit_support_[0] == 3
    assert "mask_value=0.0" in imp.caveats_


def test_a_unit_real_in_no_sample_has_zero_importance():
    X, _ = _variable_length(n=60, T=6, padding="post", min_len=1)
    X[:, 5] = 0.0  # nobody reaches the last position
    with pytest.warns(UserWarning, match=r"t5 \(0\)"):
        imp = _spi(RealSum(), mask_value=0.0, axis="timestep", effect="mae").fit(X)
    assert imp.feature_importances_[5] == 0.0
    scored = _spi(RealSum(), mask_value=0.0, axis="timestep", scoring="r2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored.fit(X, RealSum().predict(X))
    assert scored.feature_importances_[5] == 0.0


def test_chunks_and_jobs_do_not_change_masked_numbers():
    X, _ = _variable_length(n=80, T=6)
    y = LastRealStep().predict(X)
    params = dict(mask_value=0.0, axis="both", scoring="r2", n_iter=2)
    whole = _spi(LastRealStep(), **params).fit(X, y)
    for extra in ({"max_batch_bytes": 1}, {"n_jobs": 2, "max_batch_bytes": X.nbytes}):
        assert_array_equal(
            _spi(LastRealStep(), **params, **extra).fit(X, y).importances_,
            whole.importances_,
        )


def test_cross_validation_with_padding():
    X, _ = _variable_length(n=90, T=5)
    real = _real(X, 0.0)
    y = np.where(real, X[:, :, 0], 0.0).sum(axis=1)

    class FlatLinear(RegressorMixin, BaseEstimator):
        def fit(self, X, y):
            X = check_sequences(X)
            self.model_ = LinearRegression().fit(X.reshape(len(X), -1), y)
            return self

        def predict(self, X):
            X = check_sequences(X)
            return self.model_.predict(X.reshape(len(X), -1))

    imp = _spi(FlatLinear(), mask_value=0.0, cv=3, scoring="r2").fit(X, y)
    assert imp.importances_.shape == (3, 9)
    assert np.argmax(imp.feature_importances_) == 0


def test_time_shuffle_keeps_each_samples_real_values():
    X, _ = _variable_length(n=50, T=7)
    real = _real(X, 0.0)
    out = time_shuffle(X, np.random.default_rng(0), real)
    assert_array_equal(out[~real], X[~real])
    for i in range(50):
        # The same rows (timestep vectors), in another order.
        assert_array_equal(
            np.sort(out[i, real[i]], axis=0), np.sort(X[i, real[i]], axis=0)
        )
        rows = {tuple(r) for r in X[i, real[i]]}
        assert all(tuple(r) in rows for r in out[i, real[i]])
    assert not np.array_equal(out, X)
