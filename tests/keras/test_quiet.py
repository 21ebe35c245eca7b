"""No TensorFlow retracing warning about the package's functions reaches the user."""

import logging

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.tensorflow_backend
tf = pytest.importorskip("tensorflow")

from seqimportance import SequencePermutationImportance  # noqa: E402


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def tf_log():
    logger, handler = tf.get_logger(), _Records()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _retracing(messages):
    return [m for m in messages if "triggered tf.function retracing" in m]


def test_many_models_in_one_process_log_no_retracing_warning(tf_log):
    X = np.random.default_rng(0).normal(size=(32, 4, 2)).astype("float32")
    y = X[:, -1, 0]
    for units in range(2, 10):  # eight models, one after the other
        model = keras.Sequential(
            [keras.Input((4, 2)), keras.layers.LSTM(units), keras.layers.Dense(1)]
        )
        SequencePermutationImportance(model, cv="prefit", effect="rms",
                                      n_iter=2, axis="timestep").fit(X, y)
    assert _retracing(tf_log) == []


def test_the_users_own_retracing_warning_still_shows(tf_log):
    # What TensorFlow warns about in user code is left alone.
    for n in range(1, 10):
        tf.function(lambda x: x * 2)(tf.ones((n,)))
    assert _retracing(tf_log)
