"""p-values and confidence intervals of importances: formulas against scipy,
calibration over many seeds, and the fitted attributes that expose them."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold

from seqimportance import SequencePermutationImportance
from seqimportance.core._statistics import (
    importance_intervals,
    importance_pvalues,
    permutation_pvalues,
    replicates,
)


# ------------------------------------------------------------- the formulas
def test_one_fold_is_scipys_one_sided_t_test_on_the_repeats():
    rng = np.random.default_rng(0)
    importances = rng.normal(loc=[[0.5], [0.0], [-0.3]], size=(3, 7))
    expected = stats.ttest_1samp(importances, 0.0, axis=1, alternative="greater")
    assert_allclose(importance_pvalues(importances), expected.pvalue, rtol=1e-10)
    lower, upper = stats.t.interval(
        0.9,
        df=6,
        loc=importances.mean(axis=1),
        scale=stats.sem(importances, axis=1),
    )
    assert_allclose(
        importance_intervals(importances, level=0.9),
        np.column_stack([lower, upper]),
        rtol=1e-10,
    )


def test_several_folds_use_the_fold_means_and_the_corrected_variance():
    rng = np.random.default_rng(1)
    n_folds, n_iter = 4, 3
    importances = rng.normal(loc=[[0.4], [0.1]], size=(2, n_folds * n_iter))
    sizes = [(300, 100)] * n_folds
    means = importances.reshape(2, n_folds, n_iter).mean(axis=2)
    values, factor = replicates(importances, sizes)
    assert_allclose(values, means)
    assert factor == pytest.approx(1 / 4 + 100 / 300)
    se = means.std(axis=1, ddof=1) * np.sqrt(1 / 4 + 1 / 3)
    t = means.mean(axis=1) / se
    assert_allclose(importance_pvalues(importances, sizes), stats.t.sf(t, 3))
    half = stats.t.ppf(0.975, 3) * se
    center = importances.mean(axis=1)
    assert_allclose(
        importance_intervals(importances, sizes),
        np.column_stack([center - half, center + half]),
    )
    # Treating the 12 columns as one fold would be far more confident.
    assert np.all(importance_pvalues(importances) < importance_pvalues(
        importances, sizes
    ))


def test_constant_replicates_have_an_exact_mean():
    importances = np.array([[0.2] * 4, [0.0] * 4, [-0.1] * 4, [0.0, 0.0, 1e-3, 0]])
    assert_array_equal(importance_pvalues(importances)[:3], [0.0, 1.0, 1.0])
    intervals = importance_intervals(importances)
    assert_array_equal(intervals[:3], [[0.2, 0.2], [0.0, 0.0], [-0.1, -0.1]])
    assert 0 < importance_pvalues(importances)[3] < 1


def test_a_single_replicate_gives_nan():
    assert np.isnan(importance_pvalues(np.ones((2, 1)))).all()
    assert np.isnan(importance_intervals(np.ones((2, 1)))).all()
    assert np.isnan(importance_pvalues(np.array([[np.nan, 1.0, 2.0]]))).all()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\); got level=95"):
        importance_intervals(np.ones((2, 3)), level=95)
    with pytest.raises(ValueError, match="not a multiple of the 2 folds"):
        importance_pvalues(np.ones((2, 3)), [(5, 5), (5, 5)])
    with pytest.raises(ValueError, match=r"2-D array .* got shape \(3,\)"):
        importance_pvalues(np.ones(3))
    with pytest.raises(ValueError, match=r"n_units = 2; got shape \(3, 4\)"):
        permutation_pvalues(np.ones(2), np.ones((3, 4)))


def test_permutation_pvalues_count_ties_against_the_observed_value():
    observed = np.array([1.0, 0.0, 0.5])
    null = np.array([[0.0, 2.0, 1.0, 0.5], [0.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]])
    assert_allclose(permutation_pvalues(observed, null), [3 / 5, 5 / 5, 1 / 5])


# ---------------------------------------------------------- the estimator
@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = 2 * X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=200)
    return X, y, LinearRegression().fit(X, y)


def _mse_drop_closed_form(model, X, y):
    """E over uniform permutations of the MSE increase, feature by feature.

    With r = y - model(X) and w = coef_: shuffling x_j adds w_j (x_j - x_pi),
    so the increase is 2 w_j mean(r (x_j - x_pi)) + w_j**2 mean((x_j - x_pi)**2),
    whose expectation is 2 w_j Cov(r, x_j) + 2 w_j**2 Var(x_j) (1/n moments).
    """
    r = y - model.predict(X)
    xc = X - X.mean(axis=0)
    cov = (r - r.mean()) @ xc / len(y)
    return 2 * model.coef_ * cov + 2 * model.coef_**2 * np.mean(xc**2, axis=0)


def test_pvalues_and_intervals_of_the_fitted_estimator(linear):
    X, y, model = linear
    imp = SequencePermutationImportance(
        model, scoring="neg_mean_squared_error", n_iter=8, random_state=0
    ).fit(X, y)
    assert_allclose(imp.pvalues_, importance_pvalues(imp.importances_))
    assert imp.pvalues_[:2].max() < 1e-4
    intervals = imp.confidence_intervals(0.9)
    assert_allclose(intervals, importance_intervals(imp.importances_, level=0.9))
    assert np.all(intervals[:, 0] <= imp.feature_importances_)
    assert np.all(imp.feature_importances_ <= intervals[:, 1])
    wider = imp.confidence_intervals(0.99)
    assert np.all(wider[:, 0] < intervals[:, 0]) and np.all(
        wider[:, 1] > intervals[:, 1]
    )


def test_cross_validation_pvalues_use_the_split_sizes(linear):
    X, y, _ = linear
    imp = SequencePermutationImportance(
        LinearRegression(), cv=KFold(4), n_iter=3, random_state=0
    ).fit(X, y)
    sizes = [(150, 50)] * 4
    assert_allclose(imp.pvalues_, importance_pvalues(imp.importances_, sizes))
    assert_allclose(
        imp.confidence_intervals(), importance_intervals(imp.importances_, sizes)
    )
    # Refit with another cv: the split sizes of the last fit are used.
    imp.set_params(cv=None).fit(X, y)
    assert_allclose(imp.pvalues_, importance_pvalues(imp.importances_))


def test_to_frame_is_one_row_per_unit(linear):
    pd = pytest.importorskip("pandas")
    X, y, model = linear
    imp = SequencePermutationImportance(model, n_iter=4, random_state=0).fit(X, y)
    frame = imp.to_frame(level=0.8)
    assert isinstance(frame, pd.DataFrame)
    assert frame.columns.tolist() == [
        "unit", "mean", "std", "ci_lower", "ci_upper", "pvalue"
    ]
    assert frame["unit"].tolist() == ["x0", "x1", "x2"]
    assert_allclose(frame["mean"], imp.feature_importances_)
    assert_allclose(frame["std"], imp.feature_importances_std_)
    assert_allclose(frame[["ci_lower", "ci_upper"]], imp.confidence_intervals(0.8))
    assert_allclose(frame["pvalue"], imp.pvalues_)


def test_unfitted_estimator_has_no_intervals(linear):
    _, _, model = linear
    with pytest.raises(NotFittedError):
        SequencePermutationImportance(model).confidence_intervals()
    with pytest.raises(NotFittedError):
        SequencePermutationImportance(model).to_frame()


# -------------------------------------------------------------- calibration
def test_intervals_cover_the_closed_form_at_their_nominal_rate(linear):
    """One fold: the expected importance on this data is known exactly."""
    X, y, model = linear
    truth = _mse_drop_closed_form(model, X, y)
    covered = {0.9: [], 0.5: []}
    for seed in range(200):
        imp = SequencePermutationImportance(
            model, scoring="neg_mean_squared_error", n_iter=10, random_state=seed
        ).fit(X, y)
        for level, hits in covered.items():
            low, high = imp.confidence_intervals(level).T
            hits.append((low <= truth) & (truth <= high))
    coverage = np.mean(covered[0.9], axis=0)
    assert np.all((coverage > 0.83) & (coverage < 0.96)), coverage
    assert np.mean(covered[0.9]) == pytest.approx(0.9, abs=0.03)
    # Not merely wide: half as many hits at the 50% level.
    assert np.mean(covered[0.5]) == pytest.approx(0.5, abs=0.07)


def test_one_fold_pvalues_are_uniform_under_an_exact_null():
    """Gaussian noise on a linear model, scored by the mean prediction: each
    repeat's importance is -w * mean(noise), normal with mean exactly 0."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 2))
    model = LinearRegression().fit(X, X @ [1.0, -2.0])

    def mean_prediction(estimator, X, y):
        return float(np.mean(estimator.predict(X)))

    pvalues = np.array([
        SequencePermutationImportance(
            model,
            scoring=mean_prediction,
            perturbation="gaussian",
            n_iter=5,
            random_state=seed,
        ).fit(X, np.zeros(50)).pvalues_
        for seed in range(200)
    ]).ravel()
    assert stats.kstest(pvalues, "uniform").pvalue > 0.01
    assert np.mean(pvalues < 0.05) < 0.08


def _cv_fold_importances(n_seeds, n=200, n_folds=5, seed=0):
    """Expected held-out MSE importances of OLS, fold by fold, for many data sets.

    x0 is planted (y = 2 x0 + noise), x1 and x2 are noise. Vectorised over
    data sets; each fold's value is the closed form of
    :func:`_mse_drop_closed_form` on the fold's test part.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_seeds, n, 3))
    y = 2 * X[..., 0] + rng.normal(size=(n_seeds, n))
    A = np.concatenate([np.ones((n_seeds, n, 1)), X], axis=2)
    folds = np.array_split(np.arange(n), n_folds)
    out = np.empty((n_seeds, 3, n_folds))
    for f, test in enumerate(folds):
        train = np.setdiff1d(np.arange(n), test)
        At = A[:, train]
        gram = At.transpose(0, 2, 1) @ At
        coef = np.linalg.solve(gram, At.transpose(0, 2, 1) @ y[:, train, None])
        w = coef[:, 1:, 0]
        r = y[:, test] - (A[:, test] @ coef)[..., 0]
        xc = X[:, test] - X[:, test].mean(axis=1, keepdims=True)
        cov = np.einsum("sn,snj->sj", r - r.mean(axis=1, keepdims=True), xc)
        out[:, :, f] = 2 * w * cov / len(test) + 2 * w**2 * np.mean(xc**2, axis=1)
    return out, [(n - len(test), len(test)) for test in folds]


def test_cross_validated_pvalues_of_noise_inputs_do_not_pile_up_near_zero():
    importances, sizes = _cv_fold_importances(2000)
    pvalues = importance_pvalues(importances.reshape(-1, 5), sizes).reshape(2000, 3)
    noise = pvalues[:, 1:]
    for alpha, bound in ((0.01, 0.02), (0.05, 0.07), (0.1, 0.12)):
        assert np.mean(noise < alpha) < bound, (alpha, np.mean(noise < alpha))
    assert np.mean(noise < 0.5) > 0.25  # spread out, not stuck at 1
    assert np.median(pvalues[:, 0]) < 5e-3 and pvalues[:, 0].max() < 0.05
    # Without the correction for overlapping training sets the test is too
    # confident: the correction is what keeps the rate near 0.05.
    means = importances[:, 1:]
    t = means.mean(axis=2) / (means.std(axis=2, ddof=1) / np.sqrt(5))
    assert np.mean(stats.t.sf(t, 4) < 0.05) > 0.08


def test_cross_validated_pvalues_end_to_end():
    pvalues = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(60):
            rng = np.random.default_rng(seed)
            X = rng.normal(size=(100, 3))
            y = 2 * X[:, 0] + rng.normal(size=100)
            pvalues.append(
                SequencePermutationImportance(
                    LinearRegression(),
                    scoring="neg_mean_squared_error",
                    cv=KFold(5, shuffle=True, random_state=seed),
                    n_iter=3,
                    refit=False,
                    random_state=seed,
                ).fit(X, y).pvalues_
            )
    pvalues = np.array(pvalues)
    assert np.mean(pvalues[:, 1:] < 0.05) < 0.1
    assert np.mean(pvalues[:, 0] < 0.05) > 0.95, pvalues[:, 0]


# ------------------------------------------------------------------ display
def _error_segments(ax):
    """(low, high) of each bar's error bar, in bar order."""
    (errorbar,) = [c for c in ax.containers if hasattr(c, "has_xerr")]
    (segments,) = errorbar.lines[2]
    return np.array([[seg[0][0], seg[1][0]] for seg in segments.get_segments()])


def _star(ax, alpha):
    (line,) = [line for line in ax.lines if line.get_label() == f"p < {alpha:g}"]
    return np.asarray(line.get_ydata())


def test_plots_draw_intervals_and_mark_significance(linear):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from seqimportance import permutation_test_importance
    from seqimportance.plotting import plot_importances

    X, y, model = linear
    imp = SequencePermutationImportance(
        model, scoring="neg_mean_squared_error", n_iter=6, random_state=0
    ).fit(X, y)
    order = np.argsort(-imp.feature_importances_, kind="stable")
    ax = plot_importances(imp, ci=0.9, alpha=0.05)
    assert_allclose(_error_segments(ax), imp.confidence_intervals(0.9)[order])
    assert_array_equal(_star(ax, 0.05), np.flatnonzero(imp.pvalues_[order] < 0.05))
    assert ax.get_legend() is not None
    plt.close(ax.figure)
    # Raw repeats: t-intervals and t-test over them.
    ax = plot_importances(imp.importances_, ci=0.5, alpha=1e-3)
    assert_allclose(_error_segments(ax), imp.confidence_intervals(0.5)[order])
    assert_array_equal(_star(ax, 1e-3), np.flatnonzero(imp.pvalues_[order] < 1e-3))
    plt.close(ax.figure)
    # A PIMP Bunch: its permutation p-values decide the stars.
    result = permutation_test_importance(
        LinearRegression(), X, y, n_permutations=9, cv=None, n_iter=2,
        random_state=0,
    )
    ax = plot_importances(result, alpha=0.2)
    order = np.argsort(-result.importances_mean, kind="stable")
    assert_array_equal(_star(ax, 0.2), np.flatnonzero(result.pvalues[order] < 0.2))
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="ci needs the importance of every repeat"):
        plot_importances(np.array([0.3, 0.1]), ci=0.95)
    with pytest.raises(ValueError, match="alpha needs p-values"):
        plot_importances(np.array([0.3, 0.1]), alpha=0.05)
