"""Batched evaluation: plans, seeds, chunks, effects and cached-prediction scoring.

The oracle throughout is the unbatched computation: copy X, perturb one unit
with the job's generator, call the scorer (or predict) on the real estimator.
"""

import itertools
import os

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    is_classifier,
    is_regressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    get_scorer,
    make_scorer,
    mean_absolute_error,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC
from sklearn.utils._tags import get_tags
from sklearn.utils.metaestimators import available_if

from seqimportance.core._perturbation import (
    Perturbation,
    make_units,
    perturb_unit,
    unit_index,
)
from seqimportance.core._seeding import job_rng
from seqimportance.core._validation import as_input_ndim
from seqimportance.inspection._cached_scoring import (
    CachedPredictionProxy,
    EstimatorScore,
    flat_predictions,
    make_fold_scorer,
    proxy_class,
)
from seqimportance.inspection._evaluation import (
    ChunkPredictions,
    FoldEvaluator,
    chunk_bounds,
    compute_importances,
    plan_jobs,
)
from seqimportance.inspection._predictors import GenericPredictor, make_predictor

N, T, F = 120, 4, 3


# ---------------------------------------------------------------- helpers
def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


def _has(method):
    return lambda self: hasattr(self.estimator, method)


class Recording(BaseEstimator):
    """Delegates to ``estimator`` and records every prediction call (method, rows)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator.fit(X, y)
        self.calls = []
        return self

    def _call(self, method, X):
        self.calls.append((method, len(X)))
        return getattr(self.estimator, method)(X)

    @available_if(_has("predict"))
    def predict(self, X):
        return self._call("predict", X)

    @available_if(_has("predict_proba"))
    def predict_proba(self, X):
        return self._call("predict_proba", X)

    @available_if(_has("decision_function"))
    def decision_function(self, X):
        return self._call("decision_function", X)

    @available_if(_has("predict_log_proba"))
    def predict_log_proba(self, X):
        return self._call("predict_log_proba", X)

    @property
    def classes_(self):
        return self.estimator.classes_

    def __sklearn_tags__(self):
        return get_tags(self.estimator)


class RecordingClassifier(ClassifierMixin, Recording):
    """Recording with sklearn's ``score`` (accuracy of ``self.predict``)."""


class RecordingRegressor(RegressorMixin, Recording):
    """Recording with sklearn's ``score`` (r2 of ``self.predict``)."""


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, T, F))
    signal = X[:, -1, 0] - X[:, 1, 1] + 0.5 * rng.normal(size=N)
    return X, signal


def _classifier(data, labels=(0, 1)):
    X, signal = data
    y = np.where(signal > 0, labels[1], labels[0])
    model = make_pipeline(FunctionTransformer(_flatten), LogisticRegression())
    return RecordingClassifier(model).fit(X, y), X, y


def _regressor(data):
    X, signal = data
    model = make_pipeline(FunctionTransformer(_flatten), Ridge(alpha=1.0))
    return RecordingRegressor(model).fit(X, signal), X, signal


def _evaluator(
    est, X, y, kind="shuffle", effect="score", scoring=None, method=None, fold=0, **kw
):
    _, units = make_units(T, F, axis=kw.pop("axis", "feature"))
    baseline = kw.pop("baseline", True)
    evaluator = FoldEvaluator(
        GenericPredictor(est, 3),
        est,
        X,
        y,
        units,
        Perturbation(kind, X, scale=0.5),
        effect=effect,
        scorer=make_fold_scorer(est, scoring) if effect == "score" else None,
        method=method,
        base_seed=1234,
        fold=fold,
        input_ndim=3,
        **kw,
    )
    return evaluator.compute_baseline() if baseline else evaluator


def _unbatched_scores(est, X, y, scorer, kind="shuffle", n_repeats=3, fold=0):
    """The oracle: one copy, one perturbation and one scorer call per job."""
    _, units = make_units(T, F)
    perturbation = Perturbation(kind, X, scale=0.5)
    baseline = scorer(est, X, y)
    out = np.empty((len(units), n_repeats))
    for u, unit in enumerate(units):
        for r in range(n_repeats):
            Xp = X.copy()
            perturb_unit(
                Xp,
                unit_index(unit, T, F),
                unit[1],
                perturbation,
                job_rng(1234, fold, u, r),
            )
            out[u, r] = baseline - scorer(est, Xp, y)
    return out


def _custom_classifier_scorer(estimator, X, y):
    proba = estimator.predict_proba(X)[:, 1]
    return -np.mean((proba - y) ** 2) + 0.1 * np.mean(estimator.predict(X) == y)


def _custom_regressor_scorer(estimator, X, y):
    return -mean_absolute_error(y, estimator.predict(X))


# ------------------------------------------------------- plans and chunks
def test_plan_jobs_is_unit_major():
    jobs = plan_jobs(3, 2)
    assert jobs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]


@pytest.mark.parametrize(
    "n, per_chunk, min_chunks",
    [(15, 4, 1), (15, 15, 1), (15, 100, 2), (7, 1, 1), (3, 10, 8)],
)
def test_chunk_bounds_cover_all_jobs_in_balanced_chunks(n, per_chunk, min_chunks):
    bounds = chunk_bounds(n, per_chunk, min_chunks)
    sizes = [b - a for a, b in bounds]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(b == a2 for (_, b), (a2, _) in itertools.pairwise(bounds))
    assert max(sizes) <= per_chunk and max(sizes) - min(sizes) <= 1
    assert len(bounds) >= min(min_chunks, n)


def test_job_rng_depends_only_on_the_job():
    a = job_rng(7, 1, 2, 3).random(5)
    job_rng(7, 0, 0, 0).random(100)  # other jobs in between change nothing
    assert_array_equal(a, job_rng(7, 1, 2, 3).random(5))
    for other in [(8, 1, 2, 3), (7, 0, 2, 3), (7, 1, 3, 3), (7, 1, 2, 4)]:
        assert not np.array_equal(a, job_rng(*other).random(5))


def test_batch_holds_each_job_perturbed_copy_and_leaves_X_alone(data):
    est, X, y = _classifier(data)
    X_before = X.copy()
    evaluator = _evaluator(est, X, y, kind="gaussian")
    jobs = np.array([[2, 1], [0, 0], [1, 4]])
    batch = evaluator.build_batch(jobs)
    assert batch.shape == (3 * N, T, F)
    for i, (u, r) in enumerate(jobs):
        expected = X.copy()
        unit = evaluator.units[u]
        perturb_unit(
            expected,
            unit_index(unit, T, F),
            unit[1],
            evaluator.perturbation,
            job_rng(1234, 0, u, r),
        )
        assert_array_equal(batch[i * N : (i + 1) * N], expected)
    assert_array_equal(X, X_before)


# ------------------------------------------- batched == unbatched, to float equality
CLASSIFIER_SCORINGS = [
    "roc_auc",
    "accuracy",
    "neg_log_loss",
    _custom_classifier_scorer,
    None,
]
REGRESSOR_SCORINGS = ["neg_mean_squared_error", "r2", _custom_regressor_scorer, None]


def _sklearn_scorer(scoring):
    if scoring is None:
        return lambda est, X, y: est.score(X, y)
    return get_scorer(scoring) if isinstance(scoring, str) else scoring


@pytest.mark.parametrize("scoring", CLASSIFIER_SCORINGS)
@pytest.mark.parametrize("kind", ["shuffle", "gaussian"])
def test_batched_scores_equal_unbatched_classifier(data, scoring, kind):
    est, X, y = _classifier(data)
    expected = _unbatched_scores(est, X, y, _sklearn_scorer(scoring), kind=kind)
    evaluator = _evaluator(est, X, y, kind=kind, scoring=scoring)
    est.calls = []
    got = compute_importances(evaluator, 3, max_batch_bytes=4 * X.nbytes)  # 3 chunks
    assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    # One call per chunk and response method, never one per job.
    assert est.calls and all(rows in (3 * N, 4 * N) for _, rows in est.calls)
    assert len(est.calls) <= 3 * 2  # at most predict and predict_proba per chunk


@pytest.mark.parametrize("scoring", REGRESSOR_SCORINGS)
def test_batched_scores_equal_unbatched_regressor(data, scoring):
    est, X, y = _regressor(data)
    expected = _unbatched_scores(est, X, y, _sklearn_scorer(scoring))
    evaluator = _evaluator(est, X, y, scoring=scoring)
    est.calls = []
    got = compute_importances(evaluator, 3, max_batch_bytes=5 * X.nbytes)
    assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert est.calls == [("predict", 5 * N), ("predict", 4 * N)]


def test_pos_label_and_string_classes_are_handled_as_sklearn(data):
    est, X, y = _classifier(data, labels=("no", "yes"))
    ap_no = make_scorer(
        average_precision_score, response_method="predict_proba", pos_label="no"
    )
    for scoring in ["roc_auc", make_scorer(f1_score, pos_label="no"), ap_no]:
        scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
        expected = _unbatched_scores(est, X, y, scorer)
        got = compute_importances(_evaluator(est, X, y, scoring=scoring), 3)
        assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_decision_function_scorers_use_the_cached_decision_function(data):
    X, signal = data
    y = (signal > 0).astype(int)
    est = RecordingClassifier(make_pipeline(FunctionTransformer(_flatten), SVC())).fit(
        X, y
    )
    expected = _unbatched_scores(est, X, y, get_scorer("roc_auc"))
    evaluator = _evaluator(est, X, y, scoring="roc_auc")
    est.calls = []
    assert_allclose(compute_importances(evaluator, 3), expected, rtol=1e-12, atol=1e-14)
    assert est.calls == [("decision_function", 9 * N)]


def test_deterministic_perturbations_are_evaluated_once(data):
    est, X, y = _regressor(data)
    evaluator = _evaluator(est, X, y, kind="zero", effect="rms", method="predict")
    est.calls = []
    importances = compute_importances(evaluator, 4)
    assert est.calls == [("predict", F * N)]
    assert importances.shape == (F, 4)
    assert_array_equal(importances, importances[:, :1].repeat(4, axis=1))


@pytest.mark.parametrize("effect", ["rms", "mae"])
def test_prediction_effects_equal_numpy_oracle(data, effect):
    est, X, y = _classifier(data)
    evaluator = _evaluator(
        est, X, y, kind="gaussian", effect=effect, method="predict_proba"
    )
    got = compute_importances(evaluator, 3, max_batch_bytes=2 * X.nbytes)
    base = est.predict_proba(X)
    _, units = make_units(T, F)
    for u, unit in enumerate(units):
        for r in range(3):
            Xp = X.copy()
            perturb_unit(
                Xp,
                unit_index(unit, T, F),
                unit[1],
                evaluator.perturbation,
                job_rng(1234, 0, u, r),
            )
            diff = est.predict_proba(Xp) - base
            expected = (
                np.sqrt(np.mean(diff**2)) if effect == "rms" else np.mean(np.abs(diff))
            )
            assert_allclose(got[u, r], expected, rtol=1e-12)


def test_chunking_and_fold_seeding(data):
    est, X, y = _regressor(data)
    whole = compute_importances(_evaluator(est, X, y), 5)
    for max_bytes in (1, 2 * X.nbytes, 7 * X.nbytes):
        assert_array_equal(
            compute_importances(_evaluator(est, X, y), 5, max_batch_bytes=max_bytes),
            whole,
        )
    # Another fold index draws other perturbations.
    assert not np.array_equal(
        compute_importances(_evaluator(est, X, y, fold=1), 5), whole
    )


def test_memory_per_chunk_is_bounded(data, monkeypatch):
    est, X, y = _regressor(data)
    evaluator = _evaluator(est, X, y, effect="rms", method="predict")
    sizes = []
    build = evaluator.build_batch
    monkeypatch.setattr(
        evaluator,
        "build_batch",
        lambda jobs, **kw: sizes.append(build(jobs, **kw).nbytes) or build(jobs, **kw),
    )
    compute_importances(evaluator, 10, max_batch_bytes=4 * X.nbytes + 10)
    assert len(sizes) == 8 and max(sizes) <= 4 * X.nbytes


@pytest.mark.parametrize(
    "make, effect, scoring",
    [
        (_regressor, "score", None),
        (_regressor, "rms", None),
        (_classifier, "score", "roc_auc"),
        (_classifier, "mae", None),
    ],
)
def test_baseline_goes_in_the_call_of_the_only_chunk(data, make, effect, scoring):
    est, X, y = make(data)
    method = None if effect == "score" else est.predict.__name__
    kw = dict(kind="gaussian", effect=effect, scoring=scoring, method=method)
    expected = compute_importances(_evaluator(est, X, y, **kw), 3)
    separate = _evaluator(est, X, y, **kw)
    pending = _evaluator(est, X, y, baseline=False, **kw)
    assert pending.baseline_pending
    est.calls = []
    got = compute_importances(pending, 3)
    # One call of every method needed, the unperturbed copy first.
    assert est.calls and all(rows == (3 * F + 1) * N for _, rows in est.calls)
    assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert pending.baseline_score == separate.baseline_score
    if effect != "score":
        assert_allclose(pending.baseline_predictions, separate.baseline_predictions)
    else:  # the scorer on the unperturbed data, as sklearn computes it
        scorer = _sklearn_scorer(scoring) or (lambda e, X_, y_: e.score(X_, y_))
        assert pending.baseline_score == pytest.approx(scorer(est, X, y), rel=1e-12)


def test_baseline_has_its_own_call_when_jobs_span_chunks(data):
    est, X, y = _regressor(data)
    pending = _evaluator(est, X, y, effect="rms", method="predict", baseline=False)
    est.calls = []
    compute_importances(pending, 3, max_batch_bytes=3 * F * X.nbytes)  # jobs fill it
    assert est.calls == [("predict", N), ("predict", 3 * F * N)]
    pending = _evaluator(est, X, y, baseline=False)
    est.calls = []
    with parallel_config(backend="threading"):  # chunks may run at once
        compute_importances(pending, 3, n_jobs=2)
    assert est.calls[0] == ("predict", N) and len(est.calls) == 3


def test_progress_callbacks(data):
    est, X, y = _regressor(data)
    planned, done = [], []
    compute_importances(
        _evaluator(est, X, y),
        2,
        max_batch_bytes=X.nbytes,
        on_plan=planned.append,
        on_chunk_done=lambda: done.append(1),
    )
    assert planned == [F * 2] and len(done) == F * 2


# ------------------------------------------------------------------ proxy
def test_proxy_exposes_exactly_the_estimator_methods(data):
    X, signal = data
    y = (signal > 0).astype(int)
    svc = make_pipeline(FunctionTransformer(_flatten), SVC()).fit(X, y)
    methods = GenericPredictor(svc, 3).methods
    assert methods == {"predict", "decision_function"}
    proxy = proxy_class(methods)(svc, None, 0, X)
    assert hasattr(proxy, "decision_function") and not hasattr(proxy, "predict_proba")
    assert proxy.predict.__name__ == "predict"
    assert is_classifier(proxy) and not is_regressor(proxy)
    assert_array_equal(proxy.classes_, svc.classes_)
    assert get_tags(proxy) == get_tags(svc)


def test_proxy_answers_from_cache_for_its_X_only(data):
    est, X, _y = _regressor(data)
    batch = np.concatenate([X, X[::-1]])
    cache = ChunkPredictions(GenericPredictor(est, 3), est, batch, N, 3, None)
    X1 = batch[N:]
    proxy = proxy_class(frozenset({"predict"}))(est, cache, 1, X1)
    est.calls = []
    whole = est.estimator.predict(batch)
    assert_array_equal(proxy.predict(X1), whole[N:])
    assert est.calls == [("predict", 2 * N)]
    assert_array_equal(proxy.predict(X1), whole[N:])
    assert est.calls == [("predict", 2 * N)]  # cached
    other = X1.copy()  # equal values, other object: the real estimator answers
    proxy.predict(other)
    assert est.calls[-1] == ("predict", N)
    assert isinstance(proxy, CachedPredictionProxy)


def test_estimator_score_is_batched_for_mixins_and_pipelines(data):
    X, signal = data
    flat = _flatten(X)
    # sklearn's RegressorMixin.score, directly and as a Pipeline's final step.
    for est in [
        LinearRegression().fit(flat, signal),
        make_pipeline(StandardScaler(), LinearRegression()).fit(flat, signal),
    ]:
        scorer = EstimatorScore(est)
        assert scorer.func is not None
        predictor = GenericPredictor(est, 2)
        X_3d = flat[:, np.newaxis, :]  # 2-D data is one timestep
        cache = ChunkPredictions(predictor, est, X_3d, N, 2, None)
        X_in = as_input_ndim(X_3d, 2)
        proxy = proxy_class(predictor.methods)(est, cache, 0, X_in)
        assert scorer(proxy, X_in, signal) == est.score(X_in, signal)


def test_estimator_score_falls_back_for_unknown_score():
    class OwnScore(LinearRegression):
        def score(self, X, y):
            return 42.0

    est = OwnScore().fit(np.eye(3), [0, 1, 2])
    assert EstimatorScore(est).func is None
    assert EstimatorScore(est)(est, np.eye(3), [0, 1, 2]) == 42.0


def test_flat_predictions_stacks_outputs_and_rejects_labels():
    assert flat_predictions([np.ones((4, 2)), np.zeros((4, 2))], 4).shape == (4, 4)
    assert flat_predictions(np.ones((4, 3, 2)), 4).shape == (4, 6)
    with pytest.raises(TypeError, match="predictions have dtype <U1"):
        flat_predictions(np.array(["a", "b"]), 2)


def test_make_predictor_is_generic_for_sklearn_estimators(data):
    est, X, _y = _regressor(data)
    predictor = make_predictor(est, 3)
    assert isinstance(predictor, GenericPredictor)
    assert_array_equal(predictor(X, "predict"), est.predict(X))
    with pytest.raises(AttributeError, match="has no method 'predict_proba'"):
        predictor(X, "predict_proba")


def test_make_predictor_falls_back_when_the_keras_predictor_declines(monkeypatch):
    import seqimportance.keras._predictor as keras_predictor

    class Hooked(LinearRegression):
        def _sequence_input(self, X):
            return X

        def _postprocess_predictions(self, y_raw, method):
            return y_raw

    # The Keras predictor is asked only once Keras is loaded (without it no
    # Keras model can exist); a stand-in module keeps TensorFlow out of here.
    import sys
    import types

    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))
    decline = lambda est, **kwargs: None
    monkeypatch.setattr(keras_predictor, "make_keras_predictor", decline)
    est = Hooked().fit(np.eye(3), [0, 1, 2])
    assert isinstance(make_predictor(est, 2), GenericPredictor)
    sentinel = object()
    accept = lambda est, **kwargs: sentinel
    monkeypatch.setattr(keras_predictor, "make_keras_predictor", accept)
    assert make_predictor(est, 2) is sentinel
    monkeypatch.delitem(sys.modules, "keras")
    assert isinstance(make_predictor(est, 2), GenericPredictor)


def test_predictor_thread_hint_keeps_parallel_chunks_in_this_process(data):
    # A predictor that asks for threads (the compiled Keras one does) is run
    # by joblib in threads of this process, with the same numbers as n_jobs=1.
    est, X, y = _regressor(data)
    evaluator = _evaluator(est, X, y, effect="rms", method="predict")
    pids = []

    class ThreadPredictor(GenericPredictor):
        parallel_prefer = "threads"

        def __call__(self, X_batch_3d, method):
            pids.append(os.getpid())
            return super().__call__(X_batch_3d, method)

    evaluator.predictor = ThreadPredictor(est, 3)
    serial = compute_importances(evaluator, 4, max_batch_bytes=2 * X.nbytes)
    pids.clear()
    parallel = compute_importances(evaluator, 4, n_jobs=2, max_batch_bytes=2 * X.nbytes)
    assert len(pids) > 1 and set(pids) == {os.getpid()}
    assert_array_equal(parallel, serial)
