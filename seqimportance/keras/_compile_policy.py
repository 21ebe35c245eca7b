"""When to compile a Keras model with XLA: by the size of the work.

Tracing a model into a plain TensorFlow graph takes a fraction of a second;
compiling it with XLA takes about as long again or more (0.4 s for a batch
shape of a small 3-layer LSTM on a 2-core machine when it calls the plain
graph's trace, 0.6 s beside busy calls), and XLA runs recurrent networks 1.3-2x
faster on CPU. So a one-shot explanation of a small model is fastest on the
plain graph, and XLA pays off only when many rows go through the model. The
compiled predictor therefore (with ``jit_compile="auto"``):

- serves every call at once from the plain graph, traced once per model for
  any number of rows (the batch dimension is left open);
- compiles XLA only for a batch shape whose work is large enough
  (:func:`worth_xla`: rows x timesteps x activations per timestep of at
  least :data:`XLA_MIN_WORK`), where the call overhead no longer hides the
  faster kernels; the evaluation set of a small model stays on the plain
  graph;
- requests that compile once the shape is called again
  (:data:`XLA_AFTER_CALLS`), in a thread of the lowest scheduling priority
  (:func:`request`), started when the process is idle (no compiled call for
  :data:`IDLE_S`) or at once when the plain graph has spent
  :data:`XLA_AFTER_SECONDS` on the shape, as an online rent-or-buy choice;
  a compile (0.4-0.6 s of CPU for W1) that ran beside short calls of many
  models of one architecture (the folds of ``cv``, the candidates of a
  search) slowed every one of them, while the speed-up comes later. The
  compile calls the plain graph's trace, and its outputs are checked against
  the plain graph's of the call that requested it;
- with :data:`XLA_AT_FIRST_CALL` (off by default), the predictor starts the
  compile at the shape's first call instead (:func:`at_first_call`), at
  normal priority, beside the plain graph's run of that call, whose outputs
  are the reference of the check. On W1 (2 cores) that adds about 10% to
  the first call and gets a loop of calls XLA from its third or fourth call
  (five calls back to back: 1.49x the XLA limit instead of 2.3-2.7x), but
  the fits of five new models of one architecture run beside the compile
  (0.86 s in all against 0.66 s);
- calls switch to XLA once its outputs have been checked against the
  model's.

:func:`wait_for_background` starts the compiles that wait for idle time and
waits for them all (tests, and benchmarks that time the steady state).
"""

import atexit
import collections
import contextlib
import os
import sys
import threading
import time

from ..core._buffers import release_free_memory

__all__ = [
    "IDLE_S",
    "Reference",
    "ShapeCompiles",
    "XLA_AFTER_CALLS",
    "XLA_AFTER_SECONDS",
    "XLA_AT_FIRST_CALL",
    "XLA_MIN_WORK",
    "at_first_call",
    "hurry",
    "outputs_agree",
    "request",
    "serving",
    "start_background",
    "wait_for_background",
    "worth_xla",
]

# Rows x timesteps x activations per timestep of one call from which a batch
# shape is worth an XLA compile: W1 (3-layer LSTM(32), 10 steps) chunks of
# 3,752 rows are 3.8 million; its evaluation set of 256 rows, 0.26 million.
XLA_MIN_WORK = 2**20

# Whether the compiled predictor starts a shape's compile at its first call,
# beside it (else from its second call on, as the prefix path does). Off: on
# W1 it brought five back-to-back calls to 1.49x the XLA limit, but five new
# models of one architecture, whose fits ran beside the compile, to 0.86 s
# against a bound of 0.70 s.
XLA_AT_FIRST_CALL = False

# Calls of a batch shape after which it is compiled (the first is served by
# the plain graph alone: a process that ends after it leaves no compile to
# wait for).
XLA_AFTER_CALLS = 2

# Seconds of plain-graph calls of a batch shape after which its compile
# starts even while calls go on.
XLA_AFTER_SECONDS = 0.5

# Seconds without a compiled call after which the process counts as idle.
IDLE_S = 0.1

# Seconds that the interpreter waits at exit for a compile under way (a
# thread cannot be stopped inside XLA, and leaving it running while the
# interpreter shuts down is unsafe).
_EXIT_WAIT_S = 30.0

_THREADS = []
_THREADS_LOCK = threading.Lock()

# Compiles waiting for idle time: key -> (target, name); and the calls in
# flight, with the end of the last one (time.monotonic()).
_WAITING = collections.OrderedDict()
_ACTIVITY = {"active": 0, "last_end": 0.0, "watcher": None}


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


def at_first_call(n_rows, row_work):
    """Whether a batch shape's XLA compile starts at its first call.

    It does for every shape worth XLA (:func:`worth_xla`) while
    :data:`XLA_AT_FIRST_CALL` is True: see the module's docstring for the
    costs that decide it.

    Parameters
    ----------
    n_rows, row_work : int
        As for :func:`worth_xla`.

    Returns
    -------
    bool
    """
    return bool(XLA_AT_FIRST_CALL) and worth_xla(n_rows, row_work)


def outputs_agree(got, expected):
    """Whether compiled outputs match the model's, up to float32 rounding.

    Parameters
    ----------
    got, expected : array-like of the same shape
        Outputs of a new compiled function, and of the model (or of the
        function it replaces) on the same input.

    Returns
    -------
    bool
        ``allclose`` at rtol 1e-4 and atol 1e-5 times the largest output
        magnitude (at least 1).
    """
    import numpy as np

    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(got, expected, rtol=1e-4, atol=1e-5 * scale))


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


def start_background(target, name="seqimportance-xla", low_priority=True):
    """Run ``target()`` in a daemon thread, by default of the lowest priority.

    Parameters
    ----------
    target : callable
        Takes no argument; its exceptions are its own business (the thread
        ends with them).
    name : str
        Thread name.
    low_priority : bool, default=True
        False keeps the caller's priority.

    Returns
    -------
    thread : threading.Thread
    """

    def run():
        if low_priority:
            lower_thread_priority()
        release_free_memory()  # the heap left by earlier calls, before the compiler's
        try:
            target()
        finally:  # what the compiler freed would stay in this thread's heap
            release_free_memory()

    thread = threading.Thread(target=run, name=name, daemon=True)
    with _THREADS_LOCK:
        _THREADS[:] = [t for t in _THREADS if t.is_alive()]
        _THREADS.append(thread)
    thread.start()
    return thread


@contextlib.contextmanager
def serving():
    """Mark a compiled call in flight: the process is not idle meanwhile."""
    with _THREADS_LOCK:
        _ACTIVITY["active"] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _ACTIVITY["active"] -= 1
            _ACTIVITY["last_end"] = time.monotonic()


def request(key, target, spent_s, name="seqimportance-xla"):
    """Compile in the background: now, or once the process is idle.

    Parameters
    ----------
    key : hashable
        Identifies the compile for :func:`hurry`.
    target : callable
        The compile; takes no argument.
    spent_s : float
        Seconds the plain graph has spent on the shape so far. From
        :data:`XLA_AFTER_SECONDS` on, the compile starts at once.
    name : str
        Thread name.
    """
    if spent_s >= XLA_AFTER_SECONDS:
        start_background(target, name)
        return
    with _THREADS_LOCK:
        _WAITING[key] = (target, name)
        if _ACTIVITY["watcher"] is None:
            _ACTIVITY["watcher"] = threading.Thread(
                target=_watch_for_idle, name="seqimportance-idle", daemon=True
            )
            _ACTIVITY["watcher"].start()


def hurry(key, spent_s):
    """Start a waiting compile at once if the plain graph has spent enough on it.

    Parameters
    ----------
    key : hashable
        As given to :func:`request`; a compile no longer waiting is left
        alone.
    spent_s : float
        Seconds the plain graph has spent on the shape so far.
    """
    if spent_s < XLA_AFTER_SECONDS:
        return
    with _THREADS_LOCK:
        entry = _WAITING.pop(key, None)
    if entry is not None:
        start_background(*entry)


class Reference:
    """Outputs that a compile checks its own against, given once they exist.

    A compile started at a shape's first call runs beside the plain graph's
    run of that call, whose outputs are the reference of the check.
    """

    def __init__(self):
        self._given = threading.Event()
        self._value = None

    def give(self, value):
        """Hand over the outputs (None: there are none, the check finds its own)."""
        self._value = value
        self._given.set()

    def get(self, timeout=60.0):
        """The outputs once given (None if not given within ``timeout`` seconds)."""
        self._given.wait(timeout)
        return self._value


class ShapeCompiles:
    """Plain-graph calls of each XLA batch shape, and the compiles they request.

    Parameters
    ----------
    lock : threading.Lock
        The lock of the functions served (held while counting).

    Attributes
    ----------
    calls, spent : collections.Counter
        Plain-graph calls of each XLA key, and their seconds.
    pending : dict
        XLA key -> token of its compile, waiting or running.
    """

    def __init__(self, lock):
        self.lock = lock
        self.calls = collections.Counter()
        self.spent = collections.Counter()
        self.pending = {}

    def _forgetting(self, key, target):
        """``target`` that drops ``key`` from :attr:`pending` when it ends."""

        def compile_then_forget():
            try:
                target()
            finally:
                with self.lock:
                    self.pending.pop(key, None)

        return compile_then_forget

    def first_call(self, key, make_compile, name):
        """Start ``key``'s compile now, at its shape's first call, beside it.

        At the caller's priority: a compile of the lowest priority starves
        beside calls that keep every core busy. See :func:`at_first_call`.

        Parameters
        ----------
        key : hashable
        make_compile : callable
            Returns the compile (a callable without arguments).
        name : str
            Thread name.

        Returns
        -------
        started : bool
            False when the shape's compile was requested already.
        """
        with self.lock:
            if key in self.pending:
                return False
            self.pending[key] = object()
        compile_then_forget = self._forgetting(key, make_compile())
        start_background(compile_then_forget, name, low_priority=False)
        return True

    def plain_call(self, key, seconds, compiled, make_compile, name):
        """Count a plain-graph call of ``key``'s shape; request or hurry its compile.

        Parameters
        ----------
        key : hashable
            The XLA key of the shape.
        seconds : float
            How long the plain graph took.
        compiled : callable
            ``compiled(key) -> bool``: whether XLA serves the shape already.
        make_compile : callable
            Returns the compile (a callable without arguments); called once
            per compile, when it is requested, outside the lock.
        name : str
            Thread name.
        """
        with self.lock:
            self.calls[key] += 1
            self.spent[key] += seconds
            spent = self.spent[key]
            if self.calls[key] < XLA_AFTER_CALLS or compiled(key):
                return
            token = self.pending.get(key)
            new = token is None
            if new:
                token = self.pending[key] = object()
        if not new:  # requested already: maybe it should start now
            hurry(token, spent)
            return
        compile_then_forget = self._forgetting(key, make_compile())
        request(token, compile_then_forget, spent, name)


def _watch_for_idle():
    """Start the waiting compiles, one by one, whenever the process is idle."""
    while True:
        time.sleep(IDLE_S / 4)
        with _THREADS_LOCK:
            if not _WAITING:
                _ACTIVITY["watcher"] = None
                return
            busy = _ACTIVITY["active"] > 0 or any(t.is_alive() for t in _THREADS)
            quiet = time.monotonic() - _ACTIVITY["last_end"]
            if busy or quiet < IDLE_S:
                continue
            _, (target, name) = _WAITING.popitem(last=False)
        start_background(target, name)


def _start_waiting():
    with _THREADS_LOCK:
        waiting = list(_WAITING.values())
        _WAITING.clear()
    for target, name in waiting:
        start_background(target, name)


def wait_for_background(timeout=None):
    """Start the compiles waiting for idle time, and wait until all have finished.

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
    _start_waiting()
    return _join(timeout)


def _join(timeout):
    deadline = None if timeout is None else time.monotonic() + timeout
    with _THREADS_LOCK:
        threads = list(_THREADS)
    for thread in threads:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        thread.join(left)
    return not any(t.is_alive() for t in threads)


def _at_exit():
    """Drop the compiles not yet started; wait for those under way."""
    with _THREADS_LOCK:
        _WAITING.clear()
    _join(_EXIT_WAIT_S)


atexit.register(_at_exit)
