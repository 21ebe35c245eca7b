"""perturbation="conditional" and the correlation warning, against closed forms.

For a linear model ``f(X) = sum_t sum_f B[t, f] X[:, t, f]`` on Gaussian
inputs independent over samples and timesteps, a draw of feature ``j`` from
its conditional distribution changes the prediction by ``sum_t B[t, j] (r'_t
- r_t)``, the difference of two independent residuals, so the expected RMS
change is ``sqrt(2 Var(x_j | x_-j) sum_t B[t, j]^2)`` and the expected MSE
increase ``2 Var(x_j | x_-j) sum_t B[t, j]^2``; a marginal shuffle has
``Var(x_j)`` in place of the conditional variance.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression

from seqimportance import SequencePermutationImportance, cluster_features

COV = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
B = np.array([[1.0, 0.5, -1.0], [0.5, 1.0, 0.5], [-0.5, 0.5, 1.0], [1.0, -1.0, 0.5]])


class FixedLinear(RegressorMixin, BaseEstimator):
    """``f(X) = sum B * X``; refuses batches whose padding moved."""

    def __init__(self, coef=None, valid=None):
        self.coef = coef
        self.valid = valid

    def fit(self, X, y=None):
        self.coef_ = np.asarray(self.coef)
        return self

    def predict(self, X):
        X = np.asarray(X)
        if self.valid is not None:
            copies = len(X) // len(self.valid)
            real = np.any(X != 0.0, axis=2)
            assert_array_equal(real, np.tile(self.valid, (copies, 1)))
        return np.einsum("ntf,tf->n", X, self.coef_)


class FlatLinear(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.model_ = LinearRegression().fit(np.reshape(X, (len(X), -1)), y)
        return self

    def predict(self, X):
        return self.model_.predict(np.reshape(X, (len(X), -1)))


def conditional_variance(cov, j):
    others = [f for f in range(len(cov)) if f != j]
    c = cov[others, j]
    return cov[j, j] - c @ np.linalg.solve(cov[np.ix_(others, others)], c)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.multivariate_normal(np.zeros(3), COV, size=(3000, 4))
    y = np.einsum("ntf,tf->n", X, B) + 0.1 * rng.standard_normal(3000)
    return X, y, FixedLinear(B).fit(X)


def _spi(model, **params):
    params.setdefault("random_state", 0)
    params.setdefault("n_iter", 5)
    return SequencePermutationImportance(model, **params)


VC = np.array([conditional_variance(COV, j) for j in range(3)])  # 0.19, 0.19, 1
SUM_B2 = (B**2).sum(axis=0)


# ------------------------------------------------------------ closed forms
def test_rms_change_matches_the_closed_form(data):
    X, _, model = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the correlation warning
        marginal = _spi(model, effect="rms").fit(X).feature_importances_
    conditional = _spi(model, effect="rms", perturbation="conditional").fit(X)
    conditional = conditional.feature_importances_
    assert_allclose(conditional, np.sqrt(2 * VC * SUM_B2), rtol=0.08)
    assert_allclose(marginal, np.sqrt(2 * SUM_B2), rtol=0.08)
    # the independent input: the same importance either way
    assert conditional[2] == pytest.approx(marginal[2], rel=0.03)


def test_mse_increase_matches_the_closed_form(data):
    X, y, model = data
    imp = _spi(
        model, perturbation="conditional", scoring="neg_mean_squared_error"
    ).fit(X, y)
    assert_allclose(imp.feature_importances_, 2 * VC * SUM_B2, rtol=0.1)


def test_a_near_copy_gets_a_small_conditional_importance():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2000, 5, 3))
    X[:, :, 2] = X[:, :, 0] + 0.05 * rng.standard_normal((2000, 5))
    coef = np.zeros((5, 3))
    coef[:, 0] = 1.0
    coef[:, 1] = 1.0
    model = FixedLinear(coef).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        marginal = _spi(model, effect="rms").fit(X).feature_importances_
    conditional = _spi(model, effect="rms", perturbation="conditional").fit(X)
    conditional = conditional.feature_importances_
    # Var(x0 | x2) = 0.05^2 / 1.0025
    assert_allclose(conditional[0], np.sqrt(2 * 0.0025 / 1.0025 * 5), rtol=0.1)
    assert conditional[0] < 0.1 * marginal[0]
    assert conditional[1] == pytest.approx(marginal[1], rel=0.05)


# ----------------------------------------------------- how it is computed
def test_same_numbers_for_any_chunking_n_jobs_and_group_order(data):
    X, y = data[0][:512], data[1][:512]
    model = FixedLinear(B).fit(X)
    params = {"perturbation": "conditional", "n_iter": 3,
              "scoring": "neg_mean_squared_error"}
    reference = _spi(model, **params).fit(X, y).importances_
    for max_batch_bytes in (1, 2 * X.nbytes + 1):
        got = _spi(model, max_batch_bytes=max_batch_bytes, **params).fit(X, y)
        assert_array_equal(got.importances_, reference)
    assert_array_equal(_spi(model, n_jobs=2, **params).fit(X, y).importances_,
                       reference)
    assert not np.array_equal(
        _spi(model, random_state=1, **params).fit(X, y).importances_, reference
    )
    a = _spi(model, groups={"a": [0, 1], "b": [2]}, **params).fit(X, y)
    b = _spi(model, groups={"b": [2], "a": [0, 1]}, **params).fit(X, y)
    assert_array_equal(a.importances_, b.importances_[::-1])


def test_padding_is_respected():
    rng = np.random.default_rng(2)
    X = rng.multivariate_normal(np.zeros(3), COV, size=(400, 4))
    lengths = rng.integers(1, 5, size=400)
    for i, length in enumerate(lengths):
        X[i, length:] = 0.0
    valid = np.any(X != 0.0, axis=2)
    model = FixedLinear(B, valid=valid).fit(X)
    before = X.copy()
    imp = _spi(model, perturbation="conditional", effect="rms", mask_value=0.0,
               axis="both").fit(X)
    assert_array_equal(X, before)
    assert np.all(imp.feature_importances_[:3] > 0)
    assert imp.unit_support_.tolist()[-3:] == [int((lengths == 4).sum())] * 3


def test_cross_validation_max_samples_and_a_custom_regressor(data):
    X, y, _ = data
    imp = _spi(FlatLinear(), perturbation="conditional", cv=3,
               scoring="neg_mean_squared_error").fit(X, y)
    assert imp.importances_.shape == (3, 15)
    assert_allclose(imp.feature_importances_, 2 * VC * SUM_B2, rtol=0.15)
    half = _spi(data[2], perturbation="conditional", effect="rms",
                max_samples=0.5).fit(X)
    assert_allclose(half.feature_importances_, np.sqrt(2 * VC * SUM_B2), rtol=0.1)
    custom = _spi(data[2], perturbation="conditional", effect="rms",
                  conditional_model=LinearRegression()).fit(X[:1000])
    assert_allclose(custom.feature_importances_,
                    np.sqrt(2 * VC * SUM_B2), rtol=0.12)
    assert "LinearRegression" in custom.caveats_
    assert "conditional distribution" in half.caveats_
    assert "adds beyond" in half.caveats_


def test_timestep_units_on_the_compiled_keras_path():
    pytest.importorskip("keras")
    from seqimportance import SequenceModelRegressor

    rng = np.random.default_rng(3)
    X = rng.multivariate_normal(np.zeros(3), COV, size=(64, 5)).astype(np.float32)
    y = X[:, -1, 0]
    reg = SequenceModelRegressor(model__units=4, random_state=0)
    reg.initialize(X, y)
    params = {"perturbation": "conditional", "effect": "rms", "axis": "timestep",
              "n_iter": 2, "random_state": 0}
    compiled = _spi(reg, **params).fit(X)

    class Public(RegressorMixin, BaseEstimator):  # the public predict only
        def fit(self, X, y=None):
            self.fitted_ = True
            return self

        def predict(self, X):
            return reg.predict(np.asarray(X, dtype=np.float32))

    public = _spi(Public().fit(X), **params).fit(X)
    assert_allclose(compiled.importances_, public.importances_, rtol=1e-3,
                    atol=1e-5)


# ------------------------------------------------------------------ errors
def test_errors_name_the_cause(data):
    X, y, model = data
    with pytest.raises(ValueError, match="too few samples.*at least 10 samples"):
        _spi(model, perturbation="conditional", effect="rms").fit(X[:6])
    constant = X[:100].copy()
    constant[:, :, 1] = 2.0
    with pytest.raises(ValueError, match=r"feature\(s\) 1 .*constant"):
        _spi(model, perturbation="conditional", effect="rms").fit(constant)
    with pytest.raises(ValueError, match="'conditional_model' parameter .* 'fit'"):
        _spi(model, perturbation="conditional", conditional_model="ols").fit(X, y)


# ------------------------------------------------------------------ warning
def test_warning_names_correlated_top_features(data):
    X, _, model = data
    with pytest.warns(UserWarning, match=r"x[01] and x[01] \(r = 0\.8\d\).*"
                      r"perturbation='conditional'.*cluster_features"):
        _spi(model, effect="rms").fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _spi(model, effect="rms", perturbation="conditional").fit(X)
        groups = cluster_features(X)
        assert groups == {"x0+x1": [0, 1], "x2": [2]}
        _spi(model, effect="rms", groups=groups).fit(X)
        independent = np.random.default_rng(4).standard_normal(X.shape)
        _spi(model, effect="rms").fit(independent)


def test_the_eli5_display_says_the_draws_were_conditional(data):
    eli5 = pytest.importorskip("eli5")
    X, _, model = data
    imp = _spi(model, effect="rms", perturbation="conditional", n_iter=2).fit(X[:500])
    text = eli5.format_as_text(eli5.explain_weights(imp))
    assert "conditional distribution" in " ".join(text.split())
