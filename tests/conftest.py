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
    from seqimportance.keras._predictor import KerasPredictor

    calls = []
    original = KerasPredictor.__call__

    def counting(self, X_batch, method, **hints):
        calls.append(len(X_batch))
        return original(self, X_batch, method, **hints)

    monkeypatch.setattr(KerasPredictor, "__call__", counting)
    return calls
