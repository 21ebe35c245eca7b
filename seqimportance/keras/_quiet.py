"""TensorFlow's retracing warning, kept for the user's functions only.

The compiled predictor traces one ``tf.function`` per model and batch shape,
on purpose: each model explained gets its own. TensorFlow counts these
traces together (they share one Python function) and, after a few models in
one process, logs "N out of the last M calls to <function ...> triggered
tf.function retracing" with advice that does not apply. :func:`package_function`
gives the package's functions a name of their own, and a filter on the
``tensorflow`` logger drops that warning for them; the warning about a user's
own functions still reaches the user.
"""

import logging
import threading

__all__ = ["package_function"]

_TAG = "seqimportance_compiled"
_lock = threading.Lock()
_installed = []


class _PackageRetracingFilter(logging.Filter):
    """Drops TensorFlow's retracing warning about the package's own functions."""

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to judge
            return True
        return not (_TAG in message and "triggered tf.function retracing" in message)


def _install_filter():
    with _lock:
        if not _installed:
            import tensorflow as tf

            tf.get_logger().addFilter(_PackageRetracingFilter())
            _installed.append(True)


def package_function(python_function, role):
    """Name ``python_function`` as the package's (before ``tf.function``).

    Parameters
    ----------
    python_function : callable
        The function about to be traced.
    role : str
        What it computes (``"inference"``, ``"suffix"``, ...), part of its name.

    Returns
    -------
    python_function : callable
        The same function, renamed ``seqimportance_compiled_<role>``.
    """
    _install_filter()
    python_function.__name__ = python_function.__qualname__ = f"{_TAG}_{role}"
    return python_function
