"""Units and perturbations: the pure-numpy core."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from seqimportance.core._perturbation import (
    Perturbation,
    first_perturbed_steps,
    check_groups,
    make_units,
    perturb_unit,
    unit_index,
)

N, T, F = 400, 6, 4


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    # Distinct per-feature means and scales, so statistics are identifiable.
    return rng.normal(
        loc=[0.0, 5.0, -2.0, 1.0], scale=[1.0, 2.0, 0.5, 3.0], size=(N, T, F)
    )


def _perturbed(X, unit, kind, seed=0, **kwargs):
    dst = X.copy()
    perturbation = Perturbation(kind, X, **kwargs)
    perturb_unit(
        dst, unit_index(unit, T, F), unit[1], perturbation, np.random.default_rng(seed)
    )
    return dst


def _outside(X, unit):
    """Boolean mask of the entries of X outside the unit."""
    mask = np.ones(X.shape, dtype=bool)
    mask[unit_index(unit, T, F)] = False
    return mask


# ------------------------------------------------------------------ units
def test_feature_units():
    names, units = make_units(T, F, axis="feature")
    assert names.tolist() == ["x0", "x1", "x2", "x3"]
    for f, (ts, fs) in enumerate(units):
        assert_array_equal(ts, np.arange(T))
        assert_array_equal(fs, [f])


def test_feature_units_take_given_names():
    names, _ = make_units(1, 3, feature_names=["a", "b", "c"])
    assert names.tolist() == ["a", "b", "c"]


def test_timestep_units():
    names, units = make_units(T, F, axis="timestep")
    assert names.tolist() == [f"t{t}" for t in range(T)]
    for t, (ts, fs) in enumerate(units):
        assert_array_equal(ts, [t])
        assert_array_equal(fs, np.arange(F))


def test_both_units_are_cells_in_timestep_major_order():
    names, units = make_units(T, F, axis="both")
    assert len(units) == T * F
    for t in range(T):
        for f in range(F):
            ts, fs = units[t * F + f]
            assert (ts.tolist(), fs.tolist()) == ([t], [f])
            assert names[t * F + f] == f"x{f}@t{t}"


def test_group_units_follow_dict_order():
    names, units = make_units(T, F, groups={"b": [3, 1], "a": [0]})
    assert names.tolist() == ["b", "a"]
    assert_array_equal(units[0][1], [1, 3])
    assert_array_equal(units[0][0], np.arange(T))
    assert_array_equal(units[1][1], [0])


@pytest.mark.parametrize(
    "groups, match",
    [
        ({"g": [0, 4]}, r"groups\['g'\] has feature indices out of range: \[4\]"),
        ({"g": [-1]}, r"out of range: \[-1\]"),
        ({"g": []}, "non-empty list"),
        ({"g": [0.5]}, "integer feature indices"),
        ({}, "non-empty dict"),
    ],
)
def test_bad_groups(groups, match):
    with pytest.raises(ValueError, match=match):
        check_groups(groups, F)


def test_groups_need_axis_feature():
    with pytest.raises(
        ValueError, match="groups .* need axis='feature'; got axis='timestep'"
    ):
        make_units(T, F, axis="timestep", groups={"g": [0]})


def test_unknown_axis():
    with pytest.raises(ValueError, match="axis must be one of"):
        make_units(T, F, axis="sample")


def test_unit_index_selects_the_unit(X):
    for unit in [(np.arange(T), np.array([2])), (np.array([3]), np.arange(F))]:
        assert_array_equal(X[unit_index(unit, T, F)], X[:, unit[0]][:, :, unit[1]])
    # Non-contiguous indices on both axes broadcast to a 3-D block.
    unit = (np.array([0, 2, 5]), np.array([1, 3]))
    block = X[unit_index(unit, T, F)]
    assert block.shape == (N, 3, 2)
    assert_array_equal(block, X[:, [0, 2, 5]][:, :, [1, 3]])


# ---------------------------------------------------------- perturbations
def test_shuffle_moves_whole_subseries_across_samples(X):
    unit = (np.arange(T), np.array([1]))
    out = _perturbed(X, unit, "shuffle")
    # Everything outside the unit is untouched.
    assert_array_equal(out[_outside(X, unit)], X[_outside(X, unit)])
    # Each perturbed row is some original row's whole sub-series, in time order.
    original = {tuple(row) for row in X[:, :, 1]}
    assert all(tuple(row) in original for row in out[:, :, 1])
    # A permutation: same multiset of rows, and rows did move.
    assert_array_equal(np.sort(out[:, 0, 1]), np.sort(X[:, 0, 1]))
    assert (out[:, :, 1] != X[:, :, 1]).any(axis=1).mean() > 0.9


def test_shuffle_of_a_timestep_keeps_features_of_a_sample_together(X):
    unit = (np.array([2]), np.arange(F))
    out = _perturbed(X, unit, "shuffle")
    rows = {tuple(row) for row in X[:, 2, :]}
    assert all(tuple(row) in rows for row in out[:, 2, :])
    assert_array_equal(out[_outside(X, unit)], X[_outside(X, unit)])


def test_gaussian_adds_noise_of_the_given_scale(X):
    unit = (np.arange(T), np.array([0, 3]))
    noise = _perturbed(X, unit, "gaussian", scale=0.5) - X
    assert_array_equal(noise[_outside(X, unit)], 0)
    assert_allclose(noise[:, :, [0, 3]].std(axis=(0, 1)), 0.5, rtol=0.05)
    assert_allclose(noise[:, :, [0, 3]].mean(), 0, atol=0.03)


def test_relative_scale_is_a_fraction_of_each_feature_std(X):
    unit = (np.arange(T), np.array([1, 3]))
    noise = _perturbed(X, unit, "gaussian", scale=0.1, relative_scale=True) - X
    expected = 0.1 * X[:, :, [1, 3]].std(axis=(0, 1))  # about 0.2 and 0.3
    assert_allclose(noise[:, :, [1, 3]].std(axis=(0, 1)), expected, rtol=0.05)


def test_uniform_noise_lies_in_plus_minus_scale(X):
    unit = (np.arange(T), np.array([2]))
    noise = (_perturbed(X, unit, "uniform", scale=0.3) - X)[:, :, 2]
    assert noise.min() >= -0.3 and noise.max() <= 0.3
    assert noise.min() < -0.29 and noise.max() > 0.29
    assert_allclose(noise.std(), 0.3 / np.sqrt(3), rtol=0.05)


def test_zero_and_mean_ablation(X):
    unit = (np.array([1, 4]), np.array([1, 2]))
    zero = _perturbed(X, unit, "zero")
    assert_array_equal(zero[unit_index(unit, T, F)], 0)
    assert_array_equal(zero[_outside(X, unit)], X[_outside(X, unit)])
    mean = _perturbed(X, unit, "mean")
    # The mean of each feature over all samples and timesteps of X.
    expected = np.broadcast_to(X.mean(axis=(0, 1))[[1, 2]], (N, 2, 2))
    assert_allclose(mean[unit_index(unit, T, F)], expected)
    assert_array_equal(mean[_outside(X, unit)], X[_outside(X, unit)])
    assert (
        Perturbation("zero", X).deterministic and Perturbation("mean", X).deterministic
    )
    assert not Perturbation("shuffle", X).deterministic


def test_callable_gets_the_unit_values_and_a_generator(X):
    seen = {}

    def flip(values, rng):
        seen["shape"], seen["rng"] = values.shape, rng
        values *= -1  # in place is allowed: it is a copy
        return values

    unit = (np.arange(T), np.array([3]))
    out = _perturbed(X, unit, flip)
    assert seen["shape"] == (N, T, 1)
    assert isinstance(seen["rng"], np.random.Generator)
    assert_array_equal(out[:, :, 3], -X[:, :, 3])
    assert_array_equal(out[_outside(X, unit)], X[_outside(X, unit)])


def test_callable_must_keep_the_shape(X):
    with pytest.raises(
        ValueError, match=r"shape it received.*\(400, 6, 1\).*\(400, 6\)"
    ):
        _perturbed(X, (np.arange(T), np.array([0])), lambda v, rng: v[:, :, 0])


def test_unknown_perturbation(X):
    with pytest.raises(ValueError, match="perturbation must be one of"):
        Perturbation("swap", X)


def test_same_generator_seed_same_values(X):
    unit = (np.arange(T), np.array([0]))
    for kind in ("shuffle", "gaussian", "uniform"):
        assert_array_equal(
            _perturbed(X, unit, kind, seed=3), _perturbed(X, unit, kind, seed=3)
        )
        assert not np.array_equal(
            _perturbed(X, unit, kind, seed=3), _perturbed(X, unit, kind, seed=4)
        )


def test_float32_stays_float32(X):
    X32 = X.astype(np.float32)
    dst = X32.copy()
    perturbation = Perturbation("gaussian", X32, scale=0.2)
    unit = (np.arange(T), np.array([0]))
    perturb_unit(
        dst, unit_index(unit, T, F), unit[1], perturbation, np.random.default_rng(0)
    )
    assert dst.dtype == np.float32
    assert_allclose((dst - X32)[:, :, 0].std(), 0.2, rtol=0.1)


def test_first_perturbed_steps():
    units = [(np.array([2]), np.arange(3)), (np.array([4, 5]), np.array([1])),
             (np.arange(6), np.array([0]))]
    assert first_perturbed_steps(units, 6).tolist() == [2, 4, 0]
