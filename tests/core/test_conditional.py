"""Conditional draws against closed forms: Gaussian conditional variances,
AR(1) neighbours, padding, subsets and errors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression

from seqimportance.core._conditional import ConditionalDraws
from seqimportance.core._masking import PaddingMask
from seqimportance.core._perturbation import (
    Perturbation,
    make_units,
    perturb_unit,
    unit_index,
)

COV = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])


def gaussian(n=3000, T=4, cov=COV, seed=0):
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.zeros(len(cov)), cov, size=(n, T))


def conditional_variance(cov, j):
    others = [f for f in range(len(cov)) if f != j]
    s = cov[np.ix_(others, others)]
    c = cov[others, j]
    return cov[j, j] - c @ np.linalg.solve(s, c)


def draw(perturbation, X, unit, seed=0, padding=None):
    dst = X.copy()
    index = unit_index(unit, X.shape[1], X.shape[2])
    unit_padding = None if padding is None else padding.unit(unit[0])
    perturb_unit(dst, index, unit[1], perturbation, np.random.default_rng(seed),
                 unit_padding)
    return dst


def test_draws_have_the_conditional_variance_and_keep_correlations():
    X = gaussian()
    _, units = make_units(4, 3)
    p = Perturbation("conditional", X, units=units)
    for j in range(3):
        out = draw(p, X, units[j])
        change = out[:, :, j] - X[:, :, j]
        # x_new - x = r' - r: variance 2 Var(x_j | x_-j)
        assert_allclose(change.var(), 2 * conditional_variance(COV, j), rtol=0.08)
        others = [f for f in range(3) if f != j]
        assert_array_equal(out[:, :, others], X[:, :, others])
    out = draw(p, X, units[0])
    r_new = np.corrcoef(out[:, :, 0].ravel(), X[:, :, 1].ravel())[0, 1]
    assert r_new == pytest.approx(0.9, abs=0.02)  # a shuffle would give about 0
    shuffled = draw(Perturbation("shuffle", X), X, units[0])
    assert abs(np.corrcoef(shuffled[:, :, 0].ravel(), X[:, :, 1].ravel())[0, 1]) < 0.1


def test_cell_units_condition_on_their_neighbours_in_time():
    # AR(1) with unit variance: Var(x_t | x_{t-1}, x_{t+1}) = (1 - a^2) / (1 + a^2)
    a, n, T = 0.8, 4000, 6
    rng = np.random.default_rng(1)
    X = np.empty((n, T, 1))
    X[:, 0, 0] = rng.standard_normal(n)
    for t in range(1, T):
        X[:, t, 0] = a * X[:, t - 1, 0] + np.sqrt(1 - a * a) * rng.standard_normal(n)
    _, units = make_units(T, 1, axis="both")
    p = Perturbation("conditional", X, units=units)
    change = draw(p, X, units[3])[:, 3, 0] - X[:, 3, 0]
    assert_allclose(change.var() / 2, (1 - a * a) / (1 + a * a), rtol=0.1)
    # the first step has one neighbour: Var(x_0 | x_1) = 1 - a^2
    change = draw(p, X, units[0])[:, 0, 0] - X[:, 0, 0]
    assert_allclose(change.var() / 2, 1 - a * a, rtol=0.1)


def test_a_regressor_gives_the_linear_answer_for_linear_data():
    X = gaussian(n=1000)
    _, units = make_units(4, 3)
    default = Perturbation("conditional", X, units=units)
    custom = Perturbation("conditional", X, units=units,
                          conditional_model=LinearRegression())
    a = draw(default, X, units[0])[:, :, 0] - X[:, :, 0]
    b = draw(custom, X, units[0])[:, :, 0] - X[:, :, 0]
    assert_allclose(b.var(), a.var(), rtol=0.05)


def test_groups_of_features_are_drawn_jointly():
    X = gaussian()
    units = [(np.arange(4), np.array([0, 1])), (np.arange(4), np.array([2]))]
    p = Perturbation("conditional", X, units=units)
    out = draw(p, X, units[0])
    # nothing else predicts x0, x1: their joint draw is a shuffle of both
    assert np.corrcoef(out[:, :, 0].ravel(), out[:, :, 1].ravel())[0, 1] == (
        pytest.approx(0.9, abs=0.02)
    )
    assert_allclose((out[:, :, 0] - X[:, :, 0]).var(), 2.0, rtol=0.08)


def test_same_generator_same_draw_whatever_the_order_of_units():
    X = gaussian(n=200)
    _, units = make_units(4, 3)
    p = Perturbation("conditional", X, units=units)
    q = Perturbation("conditional", X, units=units[::-1])
    assert_array_equal(draw(p, X, units[1], seed=5), draw(q, X, units[1], seed=5))
    assert not np.array_equal(draw(p, X, units[1], seed=5),
                              draw(p, X, units[1], seed=6))


def test_X_is_never_modified_and_float32_stays_float32():
    X = gaussian(n=200).astype(np.float32)
    before = X.copy()
    _, units = make_units(4, 3, axis="timestep", window=2)
    p = Perturbation("conditional", X, units=units)
    out = draw(p, X, units[0])
    assert out.dtype == np.float32
    assert_array_equal(X, before)


def test_padding_is_kept_and_real_positions_get_real_values():
    X = gaussian(n=400, T=5)
    lengths = np.random.default_rng(2).integers(1, 6, size=400)
    for i, length in enumerate(lengths):
        X[i, length:] = 0.0
    padding = PaddingMask.from_data(X, 0.0)
    _, units = make_units(5, 3)
    p = Perturbation("conditional", X, units=units, padding=padding)
    out = draw(p, X, units[0], padding=padding)
    padded = ~padding.valid
    assert_array_equal(out[padded], X[padded])
    real = padding.valid
    assert np.all(out[:, :, 0][real] != 0.0)
    assert not np.array_equal(out[:, :, 0][real], X[:, :, 0][real])


def test_a_subset_resamples_among_its_own_samples():
    X = gaussian(n=300)
    _, units = make_units(4, 3)
    p = Perturbation("conditional", X, units=units)
    rows = np.arange(0, 300, 2)
    part = p.take(rows)
    out = draw(part, X[rows], units[0])
    assert out.shape == X[rows].shape
    assert_array_equal(out[:, :, 1:], X[rows][:, :, 1:])
    assert Perturbation("shuffle", X).take(rows).kind == "shuffle"


def test_too_few_samples_says_how_many_are_needed():
    X = gaussian(n=6)
    _, units = make_units(4, 3)
    with pytest.raises(ValueError, match=r"too few samples .* at least 10 samples"):
        Perturbation("conditional", X, units=units)
    X = gaussian(n=12, T=1, cov=np.eye(12) + 0.1)
    _, units = make_units(1, 12)
    with pytest.raises(ValueError, match=r"11 covariates.* at least 24 observations"):
        Perturbation("conditional", X, units=units)


def test_a_constant_feature_is_an_error():
    X = gaussian(n=100)
    X[:, :, 2] = 3.0
    _, units = make_units(4, 3)
    with pytest.raises(ValueError, match=r"feature\(s\) 2 .*constant"):
        Perturbation("conditional", X, units=units)


def test_a_model_without_fit_and_predict_is_an_error():
    X = gaussian(n=100)
    _, units = make_units(4, 3)
    with pytest.raises(TypeError, match="conditional_model must be .* got str"):
        ConditionalDraws(X, units, model="linear")
