"""Properties of SequencePermutationImportance that hold for any data (hypothesis).

- the caller's X is never modified;
- a unit the estimator ignores has importance exactly 0, whatever the
  perturbation and effect;
- a shuffle permutes the unit's whole sub-series across samples and leaves
  everything else in place;
- the numbers do not depend on max_batch_bytes, n_jobs or the order in which
  the work is done, and permuting the groups permutes their importances (a
  group's random numbers are seeded by its features, not its position);
- importances_ and its companions have the documented shapes.
"""

import warnings

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin

from seqimportance import SequencePermutationImportance
from seqimportance.core._validation import check_sequences

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

PERTURBATIONS = ["shuffle", "gaussian", "uniform", "zero", "mean"]
EFFECTS = ["score", "rms", "mae"]
FAST = settings(max_examples=25, deadline=None, database=None)


class WeightedSum(RegressorMixin, BaseEstimator):
    """Predicts sum_{t,f} weights[t, f] * X[:, t, f]; row by row, no BLAS, so a
    row's prediction does not depend on the batch it is predicted in."""

    def __init__(self, weights=None, record=False):
        self.weights = weights
        self.record = record

    def fit(self, X, y=None):
        X3 = check_sequences(X)
        self.weights_ = (
            np.ones(X3.shape[1:]) if self.weights is None else np.asarray(self.weights)
        )
        self.calls_ = []
        return self

    def predict(self, X):
        X3 = check_sequences(X)
        if self.record:
            self.calls_.append(np.array(X3, copy=True))
        return (X3 * self.weights_).reshape(len(X3), -1).sum(axis=1)


@st.composite
def sequences(draw, dtype=np.float64, min_samples=2):
    shape = (
        draw(st.integers(min_samples, 12)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
    )
    elements = st.floats(-100, 100, allow_nan=False, width=32)
    return draw(arrays(dtype, shape, elements=elements))


def _target(X, seed):
    rng = np.random.default_rng(seed)
    return X.reshape(len(X), -1).sum(axis=1) + rng.normal(size=len(X))


def _fit(estimator, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-zero importances on odd data
        return SequencePermutationImportance(estimator, **params).fit(X, y)


@FAST
@given(
    X=st.one_of(sequences(np.float64), sequences(np.float32)),
    perturbation=st.sampled_from(PERTURBATIONS),
    axis=st.sampled_from(["feature", "timestep", "both"]),
    effect=st.sampled_from(EFFECTS),
)
def test_the_callers_X_is_never_modified(X, perturbation, axis, effect):
    before = X.copy()
    model = WeightedSum().fit(X)
    _fit(model, X, _target(X, 0), perturbation=perturbation, axis=axis,
         effect=effect, n_iter=2, random_state=0)
    assert_array_equal(X, before)
    assert X.dtype == before.dtype


@FAST
@given(
    X=sequences(),
    perturbation=st.sampled_from(PERTURBATIONS),
    effect=st.sampled_from(EFFECTS),
    axis=st.sampled_from(["feature", "timestep"]),
    data=st.data(),
)
def test_an_ignored_unit_has_importance_exactly_zero(X, perturbation, effect, axis,
                                                     data):
    _, n_timesteps, n_features = X.shape
    weights = np.ones((n_timesteps, n_features))
    n_units = n_features if axis == "feature" else n_timesteps
    ignored = data.draw(st.integers(0, n_units - 1))
    if axis == "feature":
        weights[:, ignored] = 0.0
    else:
        weights[ignored, :] = 0.0
    model = WeightedSum(weights).fit(X)
    imp = _fit(model, X, _target(X, 1), perturbation=perturbation, effect=effect,
               axis=axis, scoring="neg_mean_squared_error", n_iter=3, random_state=0)
    assert np.all(imp.importances_[ignored] == 0.0)
    assert imp.pvalues_[ignored] == 1.0


@FAST
@given(X=sequences(min_samples=3), axis=st.sampled_from(["feature", "timestep"]),
       seed=st.integers(0, 2**16))
def test_a_shuffle_permutes_whole_sub_series_and_nothing_else(X, axis, seed):
    model = WeightedSum(record=True).fit(X)
    imp = _fit(model, X, None, effect="rms", axis=axis, n_iter=2, random_state=seed,
               max_batch_bytes=1)  # one perturbed copy per call
    copies = model.calls_[1:]  # the first call is the baseline
    assert len(copies) == imp.importances_.size
    for k, copy in enumerate(copies):
        unit = k // 2  # jobs are unit-major: unit u, repeat r is u * n_iter + r
        timesteps, features = imp.units_[unit]
        inside = np.zeros(X.shape[1:], dtype=bool)
        inside[np.ix_(timesteps, features)] = True
        assert_array_equal(copy[:, ~inside], X[:, ~inside])
        moved = copy[:, inside]  # each row: one sample's sub-series of the unit
        original = X[:, inside]
        assert_array_equal(np.unique(moved, axis=0, return_counts=True)[1],
                           np.unique(original, axis=0, return_counts=True)[1])
        assert_array_equal(np.unique(moved, axis=0), np.unique(original, axis=0))


@FAST
@given(
    X=sequences(),
    perturbation=st.sampled_from(PERTURBATIONS),
    effect=st.sampled_from(EFFECTS),
    max_batch_bytes=st.integers(1, 4096),
)
def test_numbers_do_not_depend_on_how_the_work_is_cut(X, perturbation, effect,
                                                      max_batch_bytes):
    model = WeightedSum().fit(X)
    y = _target(X, 2)
    params = dict(perturbation=perturbation, effect=effect, axis="both", n_iter=3,
                  random_state=5, scoring="neg_mean_absolute_error")
    reference = _fit(model, X, y, **params).importances_
    cut = _fit(model, X, y, max_batch_bytes=max_batch_bytes, **params).importances_
    with parallel_config(backend="threading"):
        parallel = _fit(model, X, y, n_jobs=2, max_batch_bytes=max_batch_bytes,
                        **params).importances_
    assert_allclose(cut, reference, rtol=1e-12, atol=1e-12)
    assert_allclose(parallel, reference, rtol=1e-12, atol=1e-12)


@FAST
@given(X=sequences(),
       perturbation=st.sampled_from(["zero", "mean", "shuffle", "gaussian"]),
       effect=st.sampled_from(EFFECTS), data=st.data())
def test_permuting_the_groups_permutes_their_importances(X, perturbation, effect,
                                                         data):
    n_features = X.shape[2]
    groups = {f"g{f}": [f] for f in range(n_features)}
    groups["all"] = list(range(n_features))
    names = list(groups)
    order = data.draw(st.permutations(names))
    model = WeightedSum().fit(X)
    params = dict(perturbation=perturbation, effect=effect, n_iter=2, random_state=0)
    y = _target(X, 3)
    a = _fit(model, X, y, groups=groups, **params)
    b = _fit(model, X, y, groups={name: groups[name] for name in order}, **params)
    by_name = dict(zip(b.unit_names_, b.importances_))
    for name, row in zip(a.unit_names_, a.importances_):
        assert_allclose(by_name[name], row, rtol=1e-12, atol=1e-12)


@FAST
@given(
    X=sequences(min_samples=6),
    axis=st.sampled_from(["feature", "timestep", "both", "groups"]),
    n_iter=st.integers(1, 4),
    cv=st.sampled_from(["prefit", None, 2, 3]),
)
def test_importances_have_the_documented_shape(X, axis, n_iter, cv):
    _, n_timesteps, n_features = X.shape
    groups = None
    if axis == "groups":
        axis, groups = "feature", {"first": [0], "every": list(range(n_features))}
    n_units = {
        "feature": n_features,
        "timestep": n_timesteps,
        "both": n_timesteps * n_features,
    }[axis] if groups is None else 2
    n_folds = cv if isinstance(cv, int) else 1
    model = WeightedSum().fit(X) if cv == "prefit" else WeightedSum()
    imp = _fit(model, X, _target(X, 4), axis=axis, groups=groups, n_iter=n_iter,
               cv=cv, random_state=0, effect="rms")
    assert imp.importances_.shape == (n_units, n_iter * n_folds)
    assert len(imp.results_) == n_iter * n_folds
    for name in ("feature_importances_", "feature_importances_std_", "pvalues_",
                 "unit_names_"):
        assert getattr(imp, name).shape == (n_units,)
    assert imp.confidence_intervals().shape == (n_units, 2)
    assert len(imp.units_) == n_units
