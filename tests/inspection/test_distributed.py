"""Parallel and distributed importance: same numbers as a single worker.

``n_jobs`` parallelises over chunks of perturbed copies with joblib, so any
joblib backend applies, dask's included: inside
``joblib.parallel_config(backend="dask")`` the chunks run on the dask
cluster of the active ``distributed.Client``. A local in-process cluster
(threads) keeps these tests light.
"""

import numpy as np
import pytest
from joblib import parallel_config
from numpy.testing import assert_allclose
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from seqimportance import SequencePermutationImportance
from seqimportance.datasets import make_lagged_regression

distributed = pytest.importorskip("distributed")


def flatten(X):
    """(n, T, F) -> (n, T * F), at module level so that it can be pickled."""
    X = np.asarray(X)
    return X.reshape(len(X), -1)


@pytest.fixture(scope="module")
def client():
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        yield client


@pytest.fixture(scope="module")
def lagged():
    return make_lagged_regression(
        300, n_timesteps=6, n_features=4, lags=(0, 2), noise=0.0,
        random_state=0, return_coef=True,
    )


def _importance(estimator, X, y, n_jobs, **params):
    params = {
        "n_iter": 4,
        "random_state": 0,
        "scoring": "neg_mean_squared_error",
        # Several chunks, so that the workers share the work.
        "max_batch_bytes": 3 * X.nbytes,
        **params,
    }
    return SequencePermutationImportance(estimator, n_jobs=n_jobs, **params).fit(X, y)


def test_dask_backend_same_numbers_as_one_job(client, lagged):
    X, y, coef, _ = lagged
    linear = make_pipeline(FunctionTransformer(flatten), Ridge(alpha=1e-6)).fit(X, y)
    serial = _importance(linear, X, y, n_jobs=1)
    with distributed.get_task_stream(client) as stream:
        with parallel_config(backend="dask"):
            on_dask = _importance(linear, X, y, n_jobs=2)
    assert len(stream.data) > 0  # the chunks ran on the cluster
    assert_allclose(on_dask.importances_, serial.importances_, rtol=1e-12, atol=0)
    assert_allclose(on_dask.feature_importances_std_, serial.feature_importances_std_,
                    rtol=1e-12, atol=1e-15)
    # Oracle: shuffling a relevant input of an exact linear model raises the
    # squared error by 2 * coef**2 (unit-variance inputs), the others by 0.
    expected = np.r_[2 * coef**2, 0.0, 0.0]
    assert_allclose(on_dask.feature_importances_, expected, atol=0.35)
    assert np.all(on_dask.feature_importances_[2:] < 1e-6)


def test_dask_backend_noise_perturbation_and_timesteps(client, lagged):
    X, y, _, steps = lagged
    linear = make_pipeline(FunctionTransformer(flatten), Ridge(alpha=1e-6)).fit(X, y)
    params = dict(perturbation="gaussian", scale=1.0, axis="timestep", effect="rms")
    serial = _importance(linear, X, y, n_jobs=1, **params)
    with parallel_config(backend="dask"):
        on_dask = _importance(linear, X, y, n_jobs=2, **params)
    assert_allclose(on_dask.importances_, serial.importances_, rtol=1e-12, atol=0)
    assert set(np.argsort(on_dask.feature_importances_)[-2:]) == set(steps)


# ------------------------------------------------------------ Keras models
@pytest.fixture(scope="module")
def keras_regressor(lagged):
    pytest.importorskip("keras")
    from seqimportance import SequenceModelRegressor

    X, y, _, _ = lagged
    return SequenceModelRegressor(model__units=3, epochs=1, random_state=0).fit(X, y)


def _keras_importance(estimator, X, y, n_jobs):
    return _importance(
        estimator, X, y, n_jobs, perturbation="gaussian", scale=0.5, effect="rms"
    )


# Chunk shapes differ with the number of workers, and float32 forward passes
# of different batch shapes may differ in the last bits (which kernel runs
# depends on the CPU): a few float32 ulps of predictions of order 1, so an
# absolute tolerance well above 1e-7 and a relative one for the large values.
KERAS_TOL = dict(rtol=1e-4, atol=1e-6)


def test_keras_wrapper_on_dask(client, keras_regressor, lagged):
    X, y, _, _ = lagged
    serial = _keras_importance(keras_regressor, X, y, n_jobs=1)
    with distributed.get_task_stream(client) as stream:
        with parallel_config(backend="dask"):
            on_dask = _keras_importance(keras_regressor, X, y, n_jobs=2)
    assert len(stream.data) > 0
    assert np.all(serial.feature_importances_ > 0)
    assert_allclose(on_dask.importances_, serial.importances_, **KERAS_TOL)


def test_keras_wrapper_in_threads(keras_regressor, lagged):
    X, y, _, _ = lagged
    serial = _keras_importance(keras_regressor, X, y, n_jobs=1)
    with parallel_config(backend="threading"):
        threaded = _keras_importance(keras_regressor, X, y, n_jobs=2)
    assert_allclose(threaded.importances_, serial.importances_, **KERAS_TOL)


@pytest.mark.slow
def test_keras_wrapper_in_worker_processes(keras_regressor, lagged):
    # Each worker process gets pickled copies and compiles the model once.
    X, y, _, _ = lagged
    serial = _keras_importance(keras_regressor, X, y, n_jobs=1)
    with parallel_config(backend="loky"):
        in_processes = _keras_importance(keras_regressor, X, y, n_jobs=2)
    assert_allclose(in_processes.importances_, serial.importances_, **KERAS_TOL)
