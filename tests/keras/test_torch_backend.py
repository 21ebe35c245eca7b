"""The PyTorch backend: the public path, with the same numbers as TensorFlow.

On ``KERAS_BACKEND=torch`` the compiled predictor is not used (it is
TensorFlow's and JAX's); the estimators' public methods serve every batch of
perturbed copies. These tests run the same ``.keras`` file and seed under
both backends, each in its own process, and need torch installed.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

keras = pytest.importorskip("keras")

N, T, F = 120, 5, 3
_SCRIPT = """
import json, sys
import numpy as np
import keras
from seqimportance import SequenceModelRegressor, SequencePermutationImportance
from seqimportance.inspection._predictors import make_predictor
data = np.load(sys.argv[2])
X, y = data["X"], data["y"]
rms = SequencePermutationImportance(
    sys.argv[1], perturbation="gaussian", effect="rms", n_iter=3, random_state=0
).fit(X)
score = SequencePermutationImportance(
    sys.argv[1], axis="timestep", scoring="r2", n_iter=2, random_state=0
).fit(X, y)
wrapped = SequenceModelRegressor.from_model(keras.saving.load_model(sys.argv[1]))
from_model = SequencePermutationImportance(
    wrapped, perturbation="gaussian", effect="rms", n_iter=3, random_state=0
).fit(X)
print(json.dumps({
    "backend": keras.backend.backend(),
    "predictor": type(make_predictor(rms.estimator_, 3)).__name__,
    "rms": rms.importances_.tolist(),
    "score": score.importances_.tolist(),
    "from_model": from_model.importances_.tolist(),
}))
"""


def _saved_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((T, F)), keras.layers.Masking(0.0),
                              keras.layers.GRU(4), keras.layers.Dense(1)])
    path = tmp_path / "model.keras"
    model.save(path)
    X = np.random.default_rng(0).normal(size=(N, T, F)).astype("float32")
    X[: N // 4, :2] = 0.0  # padded (masked) first steps
    y = (2.0 * X[:, -1, 0] - X[:, -2, 1]).astype("float32")
    np.savez(tmp_path / "data.npz", X=X, y=y)
    return path, tmp_path / "data.npz"


def _run_under(backend, model_path, data_path):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(model_path), str(data_path)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_same_keras_file_and_seed_give_the_same_importances_on_torch(tmp_path):
    pytest.importorskip("torch")
    model_path, data_path = _saved_model(tmp_path)
    on_torch = _run_under("torch", model_path, data_path)
    on_tf = _run_under("tensorflow", model_path, data_path)
    assert on_torch["backend"] == "torch"
    assert on_torch["predictor"] == "GenericPredictor"  # the public methods
    assert on_tf["predictor"] == "KerasPredictor"
    for key, shape in (("rms", (F, 3)), ("score", (T, 2)), ("from_model", (F, 3))):
        got, expected = np.array(on_torch[key]), np.array(on_tf[key])
        assert got.shape == shape
        assert np.ptp(expected) > 0  # the units differ: the test can tell them apart
        assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=key)
    # from_model of the loaded file is the file itself, on either backend
    assert_allclose(on_torch["from_model"], on_torch["rms"], rtol=1e-6)
