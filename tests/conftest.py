import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


import pytest  # noqa: E402


@pytest.fixture
def compiled_calls(monkeypatch):
    """Rows of every call of the compiled Keras predictor, in call order."""
    from seqimportance.keras._jax_predictor import JaxPredictor
    from seqimportance.keras._predictor import KerasPredictor

    calls = []
    for cls in (KerasPredictor, JaxPredictor):
        def counting(self, X_batch, method, _original=cls.__call__, **hints):
            calls.append(len(X_batch))
            return _original(self, X_batch, method, **hints)

        monkeypatch.setattr(cls, "__call__", counting)
    return calls


@pytest.fixture
def check_trusted_batches():
    """Asserts that a predictor's trusted batches skip only the NaN check."""
    import numpy as np
    from numpy.testing import assert_allclose

    def check(predictor, X):
        assert predictor.accepts_trusted
        expected = predictor(X, "predict")
        assert_allclose(predictor(X.copy(), "predict", trusted=True), expected, rtol=1e-6)
        X_nan = X.copy()
        X_nan[0, 0, 0] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            predictor(X_nan, "predict")
        out = predictor(X_nan, "predict", trusted=True)  # not checked: finite by making
        assert np.isnan(out[0]) and np.isfinite(out[1:]).all()
        with pytest.raises(ValueError, match="timesteps"):  # the shape still is
            predictor(X[:, :4], "predict", trusted=True)

    return check


def pytest_collection_modifyitems(config, items):
    # Tests of TensorFlow's compiled path (the plain graph, XLA, prefix-state
    # reuse, zero-copy tensors) only run on the TensorFlow backend.
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        return
    skip = pytest.mark.skip(reason="tests TensorFlow's compiled predictor")
    for item in items:
        if item.get_closest_marker("tensorflow_backend"):
            item.add_marker(skip)
