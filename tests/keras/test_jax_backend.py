"""The JAX backend: a jitted forward pass, and the same numbers as TensorFlow."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")

from seqimportance import SequencePermutationImportance  # noqa: E402
from seqimportance.inspection._predictors import make_predictor  # noqa: E402

N, T, F = 200, 6, 3
_SCRIPT = """
import json, sys
import numpy as np
from seqimportance import SequencePermutationImportance
data = np.load(sys.argv[2])
perm = SequencePermutationImportance(
    sys.argv[1], perturbation="gaussian", effect="rms", n_iter=3, random_state=0
).fit(data["X"])
print(json.dumps(perm.importances_.tolist()))
"""


def _saved_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.Masking(0.0),
                              keras.layers.LSTM(4), keras.layers.Dense(1)])
    path = tmp_path / "model.keras"
    model.save(path)
    X = np.random.default_rng(0).normal(size=(N, T, F)).astype("float32")
    X[: N // 4, :2] = 0.0  # padded (masked) first steps
    np.savez(tmp_path / "data.npz", X=X)
    return path, tmp_path / "data.npz", X


def _importances_under(backend, model_path, data_path):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(model_path), str(data_path)],
        env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    return np.array(json.loads(out.stdout.strip().splitlines()[-1]))


def test_same_keras_file_and_seed_give_the_same_importances_on_jax(tmp_path):
    pytest.importorskip("jax")
    model_path, data_path, _ = _saved_model(tmp_path)
    on_jax = _importances_under("jax", model_path, data_path)
    on_tf = _importances_under("tensorflow", model_path, data_path)
    assert on_jax.shape == (F, 3)
    assert_allclose(on_jax, on_tf, rtol=1e-4, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="needs KERAS_BACKEND=jax")
def test_jax_predictor_equals_the_model_and_is_traced_once(tmp_path):
    from seqimportance.keras._jax_predictor import JaxPredictor

    model_path, _, X = _saved_model(tmp_path)
    perm = SequencePermutationImportance(str(model_path), effect="rms").fit(X)
    predictor = make_predictor(perm.estimator_, 3)
    assert isinstance(predictor, JaxPredictor)
    predictor.batch_size = 64  # 200 rows: three full calls and a padded one
    assert_allclose(predictor(X, "predict"),
                    perm.estimator_.predict(X), rtol=1e-5, atol=1e-6)
    assert predictor._jitted()._cache_size() == 1


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="needs KERAS_BACKEND=jax")
def test_jax_trusted_batches_skip_only_the_finiteness_check(check_trusted_batches):
    from seqimportance import SequenceModelRegressor
    from seqimportance.keras._jax_predictor import JaxPredictor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, T, F)).astype("float32")
    reg = SequenceModelRegressor(model__units=3, random_state=0)
    reg.initialize(X, X[:, -1, 0])
    predictor = make_predictor(reg, 3)
    assert isinstance(predictor, JaxPredictor)
    check_trusted_batches(predictor, X)
