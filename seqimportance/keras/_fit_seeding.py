"""Seeding of the Keras wrappers: a real seed from ``random_state``, and a
context that seeds Python, NumPy and TensorFlow and puts them back."""

import contextlib
import random

import numpy as np

__all__ = ["seed_from", "seeded"]


def seed_from(random_state):
    """An int seed (or None) for TensorFlow/Keras from ``random_state``.

    A ``RandomState`` instance is read through a copy, so the caller's
    generator is not advanced and refitting with it gives the same model.
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        copy = np.random.RandomState()
        copy.set_state(random_state.get_state())
        return int(copy.randint(np.iinfo(np.int32).max))
    return int(random_state)


@contextlib.contextmanager
def seeded(seed):
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic.

    Everything is put back on exit. This replaces scikeras's
    ``tensorflow_random_state``, which sets the ``TF_DETERMINISTIC_OPS``
    environment variable before asking TensorFlow whether determinism was on:
    in a fresh process TensorFlow then answers "yes", determinism is never
    switched off again, and every later unseeded fit with a random op (data
    shuffling, dropout) fails with "Random ops require a seed".
    """
    if seed is None:
        yield
        return
    import tensorflow as tf
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config

    # Asked before anything is changed; the environment is left alone.
    was_deterministic = tf_config.is_op_determinism_enabled()
    py_state, np_state = random.getstate(), np.random.get_state()
    tf_seed = context.global_seed()
    try:
        random.seed(seed)
        np.random.seed(seed)
        tf.random.set_seed(seed)
        tf_config.enable_op_determinism()
        yield
    finally:
        if not was_deterministic:
            tf_config.disable_op_determinism()
        tf.random.set_seed(tf_seed)
        np.random.set_state(np_state)
        random.setstate(py_state)
