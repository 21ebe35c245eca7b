"""When to compile a Keras model with XLA: by the size of the work.

Tracing a model into a plain TensorFlow graph takes a fraction of a second;
compiling it with XLA takes seconds (about 1.6 s for each batch shape of a
small 3-layer LSTM on a 2-core machine), and XLA runs recurrent networks
1.3-2x faster on CPU. So a one-shot explanation of a small model is fastest
on the plain graph, and XLA pays off only when many rows go through the
model. The compiled predictor therefore (with ``jit_compile="auto"``):

- serves every call at once from the plain graph, traced once per model for
  any number of rows (the batch dimension is left open);
- compiles XLA only for a batch shape whose work is large enough
  (:func:`worth_xla`: rows x timesteps x activations per timestep of at
  least :data:`XLA_MIN_WORK`), where the call overhead no longer hides the
  faster kernels, and only once the shape is called again
  (:data:`XLA_AFTER_CALLS`): the work repeats (more chunks, another fit,
  another model of the architecture). The evaluation set of a small model
  stays on the plain graph, and a one-shot explanation of a small model
  compiles nothing;
- compiles in a background thread of the lowest scheduling priority
  (:func:`start_background`), so that the compile runs on otherwise idle CPU
  time and the plain graph keeps serving meanwhile; calls switch to XLA once
  its outputs have been checked against the model's.

:func:`wait_for_background` waits for the pending compiles (tests, and
benchmarks that time the steady state).
"""

import atexit
import os
import sys
import threading

__all__ = [
    "XLA_AFTER_CALLS",
    "XLA_MIN_WORK",
    "start_background",
    "wait_for_background",
    "worth_xla",
]

# Rows x timesteps x activations per timestep of one call from which a batch
# shape is worth an XLA compile: W1 (3-layer LSTM(32), 10 steps) chunks of
# 3,752 rows are 3.8 million; its evaluation set of 256 rows, 0.26 million.
XLA_MIN_WORK = 2**20

# Calls of a batch shape after which it is compiled (the first is served by
# the plain graph alone: a process that ends after it leaves no compile to
# wait for).
XLA_AFTER_CALLS = 2

# Seconds that the interpreter waits at exit for a compile under way (a
# thread cannot be stopped inside XLA, and leaving it running while the
# interpreter shuts down is unsafe).
_EXIT_WAIT_S = 30.0

_THREADS = []
_THREADS_LOCK = threading.Lock()


def worth_xla(n_rows, row_work):
    """Whether a batch shape is worth compiling with XLA.

    Parameters
    ----------
    n_rows : int
        Rows of the batch shape.
    row_work : int
        Timesteps x activations per timestep of one row (the input features
        plus every layer's output width).

    Returns
    -------
    bool
    """
    return int(n_rows) * int(row_work) >= XLA_MIN_WORK


def lower_thread_priority():
    """Give the calling thread the lowest CPU priority, where that is per thread.

    On Linux a thread has its own nice value; elsewhere ``setpriority`` would
    apply to the whole process (or another one), so nothing is done.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not permitted: a normal-priority thread
        pass


def start_background(target, name="seqimportance-xla"):
    """Run ``target()`` in a daemon thread of the lowest priority.

    Parameters
    ----------
    target : callable
        Takes no argument; its exceptions are its own business (the thread
        ends with them).
    name : str
        Thread name.

    Returns
    -------
    thread : threading.Thread
    """

    def run():
        lower_thread_priority()
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _THREADS_LOCK:
        _THREADS[:] = [t for t in _THREADS if t.is_alive()]
        _THREADS.append(thread)
    thread.start()
    return thread


def wait_for_background(timeout=None):
    """Wait until the background compiles started so far have finished.

    Parameters
    ----------
    timeout : float or None, default=None
        Seconds to wait at most, over all of them; None waits as long as
        they take.

    Returns
    -------
    done : bool
        Whether none is still running.
    """
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    with _THREADS_LOCK:
        threads = list(_THREADS)
    for thread in threads:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        thread.join(left)
    return not any(t.is_alive() for t in threads)


atexit.register(wait_for_background, _EXIT_WAIT_S)
