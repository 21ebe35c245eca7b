import numpy as np
import pytest

from seqimportance.datasets import make_lagged_regression, make_seed_sequences


def test_seed_sequences_target_and_balance():
    X, y = make_seed_sequences(2000, n_timesteps=7, random_state=0)
    assert X.shape == (2000, 7, 3) and y.shape == (2000, 7)
    assert X.min() >= 0 and X.max() < 1
    np.testing.assert_array_equal(y, (X[:, :, 0] * X[:, :, 1] < 0.25).astype(int))
    # P(x1 * x2 < 1/4) = 1/4 + ln(4)/4 for independent uniforms
    assert abs(y.mean() - (0.25 + np.log(4) / 4)) < 0.02


def test_seed_sequences_reproducible():
    a = make_seed_sequences(10, random_state=3)
    b = make_seed_sequences(10, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="n_samples"):
        make_seed_sequences(0)


def test_lagged_regression_closed_form():
    X, y, coef, steps = make_lagged_regression(
        300, n_timesteps=8, n_features=3, lags=(1, 4), coef=(2.0, 0.5), noise=0.0,
        random_state=0, return_coef=True,
    )
    np.testing.assert_array_equal(steps, [6, 3])
    np.testing.assert_allclose(y, 2.0 * X[:, 6, 0] + 0.5 * X[:, 3, 1])


def test_lagged_regression_bad_lags():
    with pytest.raises(ValueError, match=r"lags must lie in \[0, n_timesteps - 1\]"):
        make_lagged_regression(10, n_timesteps=3, lags=(3,))
    with pytest.raises(ValueError, match="len\\(lags\\) <= n_features"):
        make_lagged_regression(10, n_features=1, lags=(0, 1))
    with pytest.raises(ValueError, match="one weight per lag"):
        make_lagged_regression(10, lags=(0, 1), coef=(1.0,))
