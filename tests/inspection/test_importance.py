"""SequencePermutationImportance against oracles: closed forms, planted inputs,
sklearn and eli5, and the scikit-learn meta-estimator contract."""

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC
from sklearn.utils._tags import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from seqimportance import SequencePermutationImportance
from seqimportance.core._validation import check_sequence_shape, check_sequences
from seqimportance.datasets import make_lagged_regression, make_seed_sequences

EFFECTS = ("score", "rms", "mae")


# --------------------------------------------------- small 3-D estimators
class _Flat(BaseEstimator):
    """Fits a tabular model on flattened sequences; checks shapes like our wrappers."""

    def _flat(self, X, reset=False):
        X3 = check_sequences(X)
        if reset:
            self.n_timesteps_in_, self.n_features_in_ = X3.shape[1:]
        else:
            check_is_fitted(self)
            check_sequence_shape(
                X3,
                self.n_timesteps_in_,
                self.n_features_in_,
                fitted_on=type(self).__name__,
            )
        return X3.reshape(len(X3), -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class FlatLinearRegression(RegressorMixin, _Flat):
    def __init__(self, alpha=0.0):
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None):
        model = LinearRegression() if self.alpha == 0 else Ridge(alpha=self.alpha)
        self.model_ = model.fit(
            self._flat(X, reset=True), y, sample_weight=sample_weight
        )
        return self

    def predict(self, X):
        return self.model_.predict(self._flat(X))

    @property
    def coef_(self):
        return self.model_.coef_.reshape(self.n_timesteps_in_, self.n_features_in_)


class FlatLogisticRegression(ClassifierMixin, _Flat):
    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C).fit(self._flat(X, reset=True), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(self._flat(X))

    def predict_proba(self, X):
        return self.model_.predict_proba(self._flat(X))

    def predict_log_proba(self, X):
        return self.model_.predict_log_proba(self._flat(X))

    def decision_function(self, X):
        return self.model_.decision_function(self._flat(X))


class ScoreOnly(BaseEstimator):
    """Can be fitted and scored, but not asked for predictions."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def score(self, X, y=None):
        return 0.0


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def lagged():
    """Features 0 and 1 matter, at lags 0 and 3; 512 samples (a multiple of 16)."""
    X, y = make_lagged_regression(
        512, n_timesteps=6, n_features=4, lags=(0, 3), random_state=0
    )
    return X, y, FlatLinearRegression().fit(X, y)


@pytest.fixture(scope="module")
def seeds():
    """The classic x1 * x2 < 0.25 target, at the last timestep."""
    X, y = make_seed_sequences(600, n_timesteps=4, random_state=0)
    y = y[:, -1]
    return X, y, FlatLogisticRegression().fit(X, y)


def _spi(estimator, **params):
    params.setdefault("random_state", 0)
    return SequencePermutationImportance(estimator, **params)


# ---------------------------------------------------------- closed forms
def test_closed_form_2d_linear_model():
    """Shuffling x_j under MSE costs 2 * w_j**2 * Var(x_j) for independent features."""
    rng = np.random.RandomState(0)
    X = rng.normal(scale=[1.0, 2.0, 0.5, 1.0], size=(2000, 4))
    w = np.array([1.5, -1.0, 2.0, 0.0])
    y = X @ w + 0.3 * rng.normal(size=2000)
    model = LinearRegression().fit(X, y)
    imp = _spi(model, scoring="neg_mean_squared_error", n_iter=30).fit(X, y)
    expected = 2 * model.coef_**2 * X.var(axis=0)  # (4.5, 8, 2, ~0)
    assert_allclose(imp.feature_importances_[:3], expected[:3], rtol=0.05)
    assert abs(imp.feature_importances_[3]) < 0.01
    # Against the population values as well: 2 * w**2 * sigma**2.
    assert_allclose(
        imp.feature_importances_[:3], 2 * w[:3] ** 2 * [1.0, 4.0, 0.25], rtol=0.1
    )


def test_closed_form_3d_feature_units(lagged):
    """A whole sub-series shuffled: 2 * Var(sum_t w_tj x_tj), = 2 * sum_t w_tj**2 Var(x_tj)."""
    X, y, model = lagged
    imp = _spi(model, scoring="neg_mean_squared_error", n_iter=30).fit(X, y)
    contribution = np.einsum("ntf,tf->nf", X, model.coef_)
    assert_allclose(
        imp.feature_importances_[:2], 2 * contribution.var(axis=0)[:2], rtol=0.05
    )
    # make_lagged_regression's documented value: 2 * coef**2 = 2 for unit-variance inputs.
    assert_allclose(imp.feature_importances_[:2], 2.0, rtol=0.1)
    assert np.all(np.abs(imp.feature_importances_[2:]) < 0.01)


# ------------------------------------------------------- planted relevance
def _noisy_sign_flip(values, rng):
    return -values + 0.1 * rng.standard_normal(values.shape)


PERTURBATIONS = ["shuffle", "gaussian", "uniform", "zero", "mean", _noisy_sign_flip]


@pytest.mark.parametrize("effect", EFFECTS)
@pytest.mark.parametrize("perturbation", PERTURBATIONS)
def test_planted_features_rank_first_regression(lagged, perturbation, effect):
    X, y, model = lagged
    imp = _spi(model, perturbation=perturbation, effect=effect, n_iter=3).fit(X, y)
    relevant, irrelevant = imp.feature_importances_[:2], imp.feature_importances_[2:]
    assert relevant.min() > 5 * np.abs(irrelevant).max()


@pytest.mark.parametrize("effect", EFFECTS)
@pytest.mark.parametrize("perturbation", PERTURBATIONS)
def test_planted_features_rank_first_classification(seeds, perturbation, effect):
    X, y, model = seeds
    imp = _spi(
        model, perturbation=perturbation, effect=effect, scoring="roc_auc", n_iter=3
    )
    imp.fit(X, y)
    relevant, noise = imp.feature_importances_[:2], imp.feature_importances_[2]
    assert relevant.min() > 3 * abs(noise)


def test_timestep_axis_ranks_the_known_lag_first():
    X, y, _, steps = make_lagged_regression(
        500, n_timesteps=8, n_features=3, lags=(2,), random_state=1, return_coef=True
    )
    model = FlatLinearRegression().fit(X, y)
    for effect in EFFECTS:
        imp = _spi(model, axis="timestep", effect=effect, n_iter=3).fit(X, y)
        assert imp.unit_names_.tolist() == [f"t{t}" for t in range(8)]
        assert np.argmax(imp.feature_importances_) == steps[0] == 5
        others = np.delete(imp.feature_importances_, steps[0])
        assert imp.feature_importances_[steps[0]] > 10 * np.abs(others).max()


def test_both_axis_is_a_timestep_by_feature_map(lagged):
    X, y, model = lagged
    imp = _spi(model, axis="both", n_iter=2).fit(X, y)
    assert imp.unit_names_[2 * 4 + 1] == "x1@t2"
    heat = imp.feature_importances_.reshape(6, 4)
    # Feature 0 at lag 0 (t=5), feature 1 at lag 3 (t=2); nothing else.
    top = {tuple(idx) for idx in np.argwhere(heat > 0.5)}
    assert top == {(5, 0), (2, 1)}
    assert_array_equal(imp.units_[5 * 4 + 0][0], [5])
    assert_array_equal(imp.units_[5 * 4 + 0][1], [0])


def test_groups_are_perturbed_together(lagged):
    X, y, model = lagged
    groups = {"noise": [2, 3], "signal": [0, 1], "first": [0]}
    imp = _spi(model, groups=groups, n_iter=5, scoring="neg_mean_squared_error").fit(
        X, y
    )
    assert imp.unit_names_.tolist() == ["noise", "signal", "first"]
    noise, signal, first = imp.feature_importances_
    # Independent contributions add up: shuffling both costs about the sum.
    assert_allclose(signal, 4.0, rtol=0.1)
    assert_allclose(first, 2.0, rtol=0.1)
    assert abs(noise) < 0.01


# ---------------------------------------------- agreement with sklearn / eli5
def _within_standard_errors(mean_a, std_a, mean_b, std_b, n, k=4.0, atol=1e-3):
    se = np.sqrt((std_a**2 + std_b**2) / n)
    return np.all(np.abs(mean_a - mean_b) <= k * se + atol)


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(300, 4))
    y = 1.5 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + 0.5 * rng.normal(size=300)
    return X, y


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_agrees_with_sklearn_permutation_importance(tabular, kind):
    X, y = tabular
    if kind == "classifier":
        y, model, scoring = (y > 0).astype(int), LogisticRegression(), "roc_auc"
    else:
        model, scoring = LinearRegression(), "r2"
    model.fit(X, y)
    n = 100
    ours = _spi(model, scoring=scoring, n_iter=n).fit(X, y)
    ref = permutation_importance(
        model, X, y, scoring=scoring, n_repeats=n, random_state=0
    )
    assert _within_standard_errors(
        ours.feature_importances_,
        ours.feature_importances_std_,
        ref.importances_mean,
        ref.importances_std,
        n,
    )
    # Not trivially equal: the draws differ, the distributions agree.
    assert not np.allclose(ours.feature_importances_, ref.importances_mean, rtol=1e-9)
    assert_allclose(
        ours.feature_importances_std_, ref.importances_std, rtol=0.35, atol=1e-3
    )


def test_agrees_with_eli5_permutation_importance(tabular):
    from eli5.sklearn import PermutationImportance

    X, y = tabular
    model = Ridge().fit(X, y)
    n = 100
    ours = _spi(model, n_iter=n).fit(X, y)
    ref = PermutationImportance(model, n_iter=n, random_state=0).fit(X, y)
    assert _within_standard_errors(
        ours.feature_importances_,
        ours.feature_importances_std_,
        ref.feature_importances_,
        ref.feature_importances_std_,
        n,
    )
    assert len(ours.results_) == len(ref.results_) == n
    assert_allclose(ours.scores_[0], ref.scores_[0])  # same baseline score


# --------------------------------------------------------------- effects
def test_rms_of_a_classifier_compares_probabilities(seeds):
    X, y, model = seeds
    imp = _spi(model, perturbation="zero", effect="rms").fit(X, y)
    base = model.predict_proba(X)
    for f in range(3):
        Xz = X.copy()
        Xz[:, :, f] = 0
        expected = np.sqrt(np.mean((model.predict_proba(Xz) - base) ** 2))
        assert_allclose(imp.importances_[f], expected, rtol=1e-12)
    assert imp.scores_ is None


def test_mae_without_predict_proba_uses_decision_function(seeds):
    X, y, _ = seeds
    model = make_pipeline(
        FunctionTransformer(lambda Z: Z.reshape(len(Z), -1)), SVC()
    ).fit(X, y)
    imp = _spi(model, perturbation="mean", effect="mae").fit(X, y)
    base = model.decision_function(X)
    Xm = X.copy()
    Xm[:, :, 0] = X[:, :, 0].mean()
    assert_allclose(
        imp.feature_importances_[0], np.mean(np.abs(model.decision_function(Xm) - base))
    )


def test_rms_needs_no_target(lagged):
    X, _, model = lagged
    imp = _spi(model, effect="rms", perturbation="gaussian").fit(X)
    assert imp.feature_importances_[:2].min() > 0.1


def test_baseline_scores_and_layouts(lagged):
    X, y, model = lagged
    imp = _spi(model, scoring="r2", n_iter=4, cv=2).fit(X, y)
    assert imp.importances_.shape == (4, 8)
    assert len(imp.results_) == 8 and len(imp.scores_) == 2
    for k, result in enumerate(imp.results_):
        assert_array_equal(result, imp.importances_[:, k])
    assert_allclose(imp.feature_importances_, imp.importances_.mean(axis=1))
    assert_allclose(imp.feature_importances_std_, imp.importances_.std(axis=1))
    prefit = _spi(model, scoring="r2").fit(X, y)
    assert prefit.scores_ == [pytest.approx(get_scorer("r2")(model, X, y))]
    assert prefit.unit_names_.tolist() == ["x0", "x1", "x2", "x3"]
    assert (prefit.n_timesteps_in_, prefit.n_features_in_) == (6, 4)
    assert "shuffled" in prefit.caveats_ and "held-out" in prefit.caveats_


# ------------------------------------------------------------ determinism
def test_same_random_state_same_numbers(lagged):
    X, y, model = lagged
    for perturbation in ["shuffle", "gaussian", "uniform"]:
        a = (
            _spi(model, perturbation=perturbation, random_state=7)
            .fit(X, y)
            .importances_
        )
        b = (
            _spi(model, perturbation=perturbation, random_state=7)
            .fit(X, y)
            .importances_
        )
        c = _spi(
            model, perturbation=perturbation, random_state=np.random.RandomState(7)
        )
        assert_array_equal(a, b)
        assert_array_equal(a, c.fit(X, y).importances_)
        assert not np.array_equal(
            a,
            _spi(model, perturbation=perturbation, random_state=8)
            .fit(X, y)
            .importances_,
        )


def test_chunk_size_and_n_jobs_do_not_change_the_numbers(lagged):
    # 512 samples: each job's rows keep their alignment in every chunking, so
    # even the BLAS arithmetic of the model is the same row by row.
    X, y, model = lagged
    params = {
        "perturbation": "gaussian",
        "n_iter": 3,
        "scoring": "neg_mean_squared_error",
    }
    reference = _spi(model, **params).fit(X, y).importances_
    for max_batch_bytes in (1, 2 * X.nbytes, 5 * X.nbytes + 1):
        got = (
            _spi(model, max_batch_bytes=max_batch_bytes, **params)
            .fit(X, y)
            .importances_
        )
        assert_array_equal(got, reference)
    assert_array_equal(
        _spi(model, n_jobs=2, **params).fit(X, y).importances_, reference
    )
    with parallel_config(backend="threading", n_jobs=2):
        assert_array_equal(_spi(model, **params).fit(X, y).importances_, reference)


def test_runs_on_a_dask_cluster(lagged):
    distributed = pytest.importorskip("distributed")
    X, y, model = lagged
    reference = _spi(model, effect="rms", n_iter=2).fit(X, y).importances_
    with (
        distributed.Client(
            processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
        ),
        parallel_config(backend="dask"),
    ):
        got = _spi(model, effect="rms", n_iter=2, max_batch_bytes=X.nbytes).fit(X, y)
    assert_array_equal(got.importances_, reference)


def test_progress_bar_only_with_verbose(lagged, capsys):
    X, y, model = lagged
    _spi(model, n_iter=2).fit(X, y)
    assert "SequencePermutationImportance" not in capsys.readouterr().err
    _spi(model, n_iter=2, verbose=1, max_batch_bytes=X.nbytes).fit(X, y)
    err = capsys.readouterr().err
    assert "SequencePermutationImportance" in err and "8/8" in err


# ------------------------------------------------------ the caller's data
@pytest.mark.parametrize("perturbation", PERTURBATIONS + [lambda v, rng: v.__imul__(0)])
def test_X_is_never_modified(lagged, perturbation):
    X, y, model = lagged
    for data in (X, X.astype(np.float32)):
        before = data.copy()
        _spi(model, perturbation=perturbation, n_iter=2).fit(data, y)
        assert_array_equal(data, before)


def test_read_only_X(lagged):
    X, y, model = lagged
    X_ro = X.copy()
    X_ro.setflags(write=False)
    assert_array_equal(
        _spi(model).fit(X_ro, y).importances_, _spi(model).fit(X, y).importances_
    )


def test_dataframe_input_keeps_names_and_numbers(tabular):
    pd = pytest.importorskip("pandas")
    X, y = tabular
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model_df = LinearRegression().fit(df, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        imp = _spi(model_df, axis="both").fit(df, y)
    assert imp.unit_names_.tolist() == ["a@t0", "b@t0", "c@t0", "d@t0"]
    assert_array_equal(imp.feature_names_in_, ["a", "b", "c", "d"])
    from_array = _spi(LinearRegression().fit(X, y)).fit(X, y)
    # Same numbers up to float64 rounding: a DataFrame and an array may reach
    # BLAS with another memory layout, and importances near 0 need an atol.
    assert_allclose(imp.importances_, from_array.importances_, rtol=1e-12, atol=1e-12)
    assert _spi(model_df).fit(df, y).unit_names_.tolist() == ["a", "b", "c", "d"]


# ------------------------------------------------------------- bad input
def test_errors_for_bad_data(lagged):
    X, y, model = lagged
    with pytest.raises(
        ValueError,
        match=r"must be a 3-D array .* got an array of shape \(512, 6, 4, 1\) \(4-D\)",
    ):
        _spi(model).fit(X[..., np.newaxis], y)
    with pytest.raises(ValueError, match=r"shape \(512,\) \(1-D\)"):
        _spi(model).fit(X[:, 0, 0], y)
    with pytest.raises(
        ValueError, match=r"inconsistent numbers of samples: \[512, 500\]"
    ):
        _spi(model).fit(X, y[:500])
    with pytest.raises(
        ValueError, match="X has 3 features, but FlatLinearRegression is expecting 4"
    ):
        _spi(model).fit(X[:, :, :3], y)
    with pytest.raises(
        ValueError,
        match="X has 5 timesteps, but FlatLinearRegression was fitted on sequences of 6",
    ):
        _spi(model).fit(X[:, :5], y)
    tabular_model = LinearRegression().fit(X[:, 0, :], y)
    with pytest.raises(
        ValueError, match="X has 3 features, but LinearRegression is expecting 4"
    ):
        _spi(tabular_model).fit(X[:, 0, :3], y)
    X_nan, X_inf = X.copy(), X.copy()
    X_nan[3, 2, 1], X_inf[0, 0, 0] = np.nan, np.inf
    with pytest.raises(ValueError, match="Input X contains NaN"):
        _spi(model).fit(X_nan, y)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        _spi(model).fit(X_inf, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"n_iter": 0},
            r"The 'n_iter' parameter of SequencePermutationImportance must be an int in the range \[1, inf\)\. Got 0 instead",
        ),
        (
            {"perturbation": "swap"},
            r"The 'perturbation' parameter .* must be a str among .*'shuffle'.* or a callable\. Got 'swap' instead",
        ),
        (
            {"effect": "auc"},
            r"The 'effect' parameter .* must be a str among .*'rms'.*\. Got 'auc' instead",
        ),
        (
            {"axis": "sample"},
            r"The 'axis' parameter .* must be a str among .*'timestep'.*\. Got 'sample' instead",
        ),
        ({"scoring": "accuracyy"}, r"The 'scoring' parameter"),
        ({"cv": "auto"}, r"The 'cv' parameter"),
        ({"max_batch_bytes": 0}, r"The 'max_batch_bytes' parameter"),
        (
            {"perturbation": "gaussian", "scale": 0},
            r"scale must be > 0 for perturbation='gaussian': it is the noise scale; got scale=0",
        ),
        (
            {"perturbation": "uniform", "scale": -0.1},
            r"scale must be > 0 for perturbation='uniform'.*got scale=-0.1",
        ),
        (
            {"groups": {"g": [0, 7]}},
            r"groups\['g'\] has feature indices out of range: \[7\]; X has 4 features",
        ),
        ({"groups": {"g": [0]}, "axis": "timestep"}, r"need axis='feature'"),
        (
            {"groups": [[0, 1]]},
            r"The 'groups' parameter .* must be an instance of 'dict' or None",
        ),
    ],
)
def test_errors_for_bad_parameters(lagged, params, match):
    X, y, model = lagged
    imp = _spi(model, **params)
    with pytest.raises(ValueError, match=match):
        imp.fit(X, y)
    with pytest.raises(NotFittedError):  # nothing half-done
        check_is_fitted(imp)


def test_scale_is_ignored_without_noise(lagged):
    X, y, model = lagged
    _spi(model, perturbation="shuffle", scale=0).fit(X, y)


def test_unfitted_estimator_with_prefit(lagged):
    X, y, _ = lagged
    with pytest.raises(
        NotFittedError, match="FlatLinearRegression instance is not fitted yet"
    ):
        _spi(FlatLinearRegression()).fit(X, y)


def test_estimator_that_cannot_predict(lagged):
    X, y, _ = lagged
    for effect in ("rms", "mae"):
        with pytest.raises(
            ValueError,
            match=rf"effect='{effect}' measures the change of the predictions, but ScoreOnly has none of the methods predict, decision_function, predict_proba",
        ):
            _spi(ScoreOnly(), effect=effect, cv=None).fit(X, y)


def test_scoring_none_needs_a_score_method(lagged):
    X, y, _ = lagged

    class NoScore(BaseEstimator):
        def fit(self, X, y):
            self.fitted_ = True
            return self

        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(
        TypeError,
        match="scoring=None uses the estimator's score method, but NoScore has none",
    ):
        _spi(NoScore(), cv=None).fit(X, y)
    _spi(NoScore(), cv=None, scoring="r2").fit(X, y)


# ------------------------------------------------------------------ cv modes
def test_cv_prefit_uses_the_given_estimator(lagged):
    X, y, model = lagged
    imp = _spi(model, n_iter=3).fit(X, y)
    assert imp.estimator_ is model
    assert imp.importances_.shape == (4, 3)


def test_cv_none_fits_a_clone_on_X(lagged):
    X, y, _ = lagged
    unfitted = FlatLinearRegression()
    imp = _spi(unfitted, cv=None, n_iter=3).fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    assert imp.estimator_ is not unfitted
    assert_allclose(imp.estimator_.coef_, FlatLinearRegression().fit(X, y).coef_)
    assert "trained on" in imp.caveats_
    # Same data and seed: same numbers as prefit.
    prefit = _spi(FlatLinearRegression().fit(X, y), n_iter=3).fit(X, y)
    assert_allclose(imp.importances_, prefit.importances_)


def test_cv_splits_fold_by_fold_and_refits(lagged):
    X, y, _ = lagged
    by_int = _spi(FlatLinearRegression(), cv=3, n_iter=2).fit(X, y)
    assert by_int.importances_.shape == (4, 6) and len(by_int.scores_) == 3
    assert by_int.feature_importances_[:2].min() > 0.8  # r2 drop, about 2 / Var(y)
    assert np.abs(by_int.feature_importances_[2:]).max() < 0.01
    assert "train/test splits" in by_int.caveats_
    assert_allclose(by_int.estimator_.coef_, FlatLinearRegression().fit(X, y).coef_)
    by_splitter = _spi(FlatLinearRegression(), cv=KFold(3), n_iter=2).fit(X, y)
    by_list = _spi(FlatLinearRegression(), cv=list(KFold(3).split(X)), n_iter=2).fit(
        X, y
    )
    assert_array_equal(by_splitter.importances_, by_int.importances_)
    assert_array_equal(by_list.importances_, by_int.importances_)
    # Held-out scores: each fold's baseline is the fold model's test score.
    train, test = next(KFold(3).split(X))
    fold_model = FlatLinearRegression().fit(X[train], y[train])
    assert by_int.scores_[0] == pytest.approx(fold_model.score(X[test], y[test]))


def test_cv_for_classifiers_is_stratified(seeds):
    X, y, _ = seeds
    a = _spi(FlatLogisticRegression(), cv=3, n_iter=2).fit(X, y)
    b = _spi(FlatLogisticRegression(), cv=StratifiedKFold(3), n_iter=2).fit(X, y)
    assert_array_equal(a.importances_, b.importances_)


def test_refit_false_leaves_no_final_estimator(lagged):
    X, y, _ = lagged
    imp = _spi(FlatLinearRegression(), cv=2, refit=False, n_iter=2).fit(X, y)
    assert not hasattr(imp, "estimator_")
    assert not hasattr(imp, "predict")
    with pytest.raises(AttributeError, match="has no attribute 'predict'") as info:
        imp.predict(X)
    assert "refit=False no final estimator was fitted" in str(info.value.__cause__)


def test_fit_params_are_passed_and_split_per_fold(lagged):
    X, y, _ = lagged
    weights = np.ones(len(y))
    plain = _spi(FlatLinearRegression(), cv=2, n_iter=2).fit(X, y)
    weighted = _spi(FlatLinearRegression(), cv=2, n_iter=2).fit(
        X, y, sample_weight=weights
    )
    assert_allclose(weighted.importances_, plain.importances_)
    weights[: len(y) // 2] = 0  # the first fold's training part has no weight at all
    skewed = _spi(FlatLinearRegression(), cv=None, n_iter=2).fit(
        X, y, sample_weight=weights
    )
    expected = FlatLinearRegression().fit(X[len(y) // 2 :], y[len(y) // 2 :]).coef_
    assert_allclose(skewed.estimator_.coef_, expected, atol=1e-8)


# ------------------------------------------------ meta-estimator contract
def test_delegation(seeds, lagged):
    X, y, model = seeds
    imp = _spi(model, n_iter=1).fit(X, y)
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        assert_array_equal(getattr(imp, method)(X), getattr(model, method)(X))
    assert imp.score(X, y) == model.score(X, y)
    assert_array_equal(imp.classes_, model.classes_)
    X, y, model = lagged
    regressor = _spi(model, n_iter=1)
    assert hasattr(regressor, "predict") and not hasattr(regressor, "predict_proba")
    assert_array_equal(regressor.fit(X, y).predict(X), model.predict(X))


def test_tags_delegate_with_three_d_input(seeds):
    _X, _y, model = seeds
    clf = _spi(model)
    assert is_classifier(clf) and get_tags(clf).input_tags.three_d_array
    assert is_regressor(_spi(LinearRegression()))
    assert get_tags(_spi(LinearRegression())).input_tags.three_d_array


def test_grid_search_over_the_wrapped_estimator(lagged):
    X, y, _ = lagged
    search = GridSearchCV(
        _spi(FlatLinearRegression(), cv=2, n_iter=2, scoring="neg_mean_squared_error"),
        {"estimator__alpha": [0.1, 1e5]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_ == {"estimator__alpha": 0.1}
    best = search.best_estimator_
    assert np.argsort(best.feature_importances_)[-2:].tolist() in ([0, 1], [1, 0])
    assert_allclose(search.predict(X), best.estimator_.predict(X))
    clf_search = GridSearchCV(
        _spi(FlatLogisticRegression(), cv=2, n_iter=1), {"estimator__C": [1.0]}
    )
    assert is_classifier(clf_search.estimator)


def test_clone_and_get_params(lagged):
    _X, _y, model = lagged
    imp = _spi(model, n_iter=2, groups={"a": [0]})
    params = imp.get_params()
    assert params["n_iter"] == 2 and params["estimator"] is model
    assert "estimator__alpha" in params
    cloned = clone(imp)
    assert cloned.groups == {"a": [0]} and cloned.estimator is not model


def test_pickle_round_trip(lagged):
    X, y, _ = lagged
    imp = _spi(FlatLinearRegression(), cv=2, n_iter=2).fit(X, y)
    restored = pickle.loads(pickle.dumps(imp))
    assert_array_equal(restored.importances_, imp.importances_)
    assert_array_equal(restored.unit_names_, imp.unit_names_)
    assert restored.caveats_ == imp.caveats_
    assert_array_equal(restored.predict(X), imp.predict(X))


def test_importance_on_sklearn_models_imports_no_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from sklearn.linear_model import LinearRegression\n"
        "from seqimportance.inspection._importance import SequencePermutationImportance\n"
        "X = np.random.RandomState(0).rand(30, 4, 2)\n"
        "y = X.sum(axis=(1, 2))\n"
        "model = LinearRegression().fit(X.reshape(30, -1), y)\n"
        "SequencePermutationImportance(model).fit(X.reshape(30, -1), y)\n"
        "loaded = [m for m in ('tensorflow', 'keras', 'eli5') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@parametrize_with_checks(
    [
        SequencePermutationImportance(LinearRegression(), cv=None, n_iter=2),
        SequencePermutationImportance(LogisticRegression(), cv=2, n_iter=2),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
