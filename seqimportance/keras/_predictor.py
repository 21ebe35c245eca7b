"""Compiled inference for Keras-backed estimators.

Importance needs predictions for many perturbed copies of the evaluation
data. ``keras.Model.predict`` costs tens of milliseconds of fixed overhead per
call, more than the forward pass itself for small models, so the importance
code asks a predictor for a whole chunk of copies at once, and for a
Keras-backed estimator (the package's wrappers, scikeras's own wrappers, a
Pipeline of transformers ending in one, a trained model given to
``from_model``; see :mod:`seqimportance.keras._inference`) that predictor calls a
compiled function of the fitted model:

- a ``tf.function`` of the plain TensorFlow graph, traced once for any
  number of rows, serves from the first call; the ``r`` rows of a call are
  cut into ``k = ceil(r / B)`` equal sub-batches of ``b = ceil(r / k)`` rows
  (rounded up to a multiple of 8), the last one padded with zeros and the
  padding sliced off. The importance code calls with the evaluation set
  (``n`` rows) and with chunks of equally many perturbed copies (multiples
  of ``n``), so a fit needs one to three sub-batch shapes, with next to no
  padding;
- XLA (``jit_compile=True`` in TensorFlow's terms) runs recurrent networks
  1.3-2x faster on CPU but takes seconds to compile each shape, so with
  ``jit_compile="auto"`` it is compiled only for the sub-batch shapes whose
  work is large enough, in a background thread of the lowest priority, and
  calls switch to it once ready (see :mod:`seqimportance.keras._compile_policy`).
  The first XLA outputs of a model are checked against an eager call of the
  model on a few rows; if XLA cannot compile the model or the outputs
  disagree, the plain graph keeps serving;
- shared by the models of one architecture (the weights are arguments; see
  :mod:`seqimportance.keras._shared_compiled`), so that the folds of
  cross-validation and the candidates of a search trace and compile once,
  and found through a cache per fitted model (keyed weakly on ``model_``,
  so that a discarded model is freed);
- ``B`` bounds the memory of one forward pass: a row keeps about
  ``4 * T * (F + sum of the layers' widths)`` bytes of activations (an
  LSTM(64) over 50 steps of 16 features: 16 KB under XLA, about 45 KB on the
  plain graph, whose calls are therefore cut into pieces of a quarter the
  rows). ``B`` is the largest power of two of rows within 128 MiB for XLA
  calls and 32 MiB for plain-graph calls, between 64 and 8192. On CPU, the
  larger the batch, the faster each step of the recurrent loop per row:
  that LSTM(64) under XLA ran 320,000 rows in 6.4 s in batches of 2,048
  rows, 5.9 s of 4,096 and 5.3 s of 8,000 on a 2-core machine (in
  seqimportance; ``benchmarks/README.md``);
- batches of perturbed copies, the package's own arrays built from
  validated data, skip the wrappers' finiteness check and go to TensorFlow
  without a copy (see :mod:`seqimportance.keras._tensors`).

The input goes through the estimator's own pre-processing (validation,
encoders, a Pipeline's transformers) and the raw outputs through its
post-processing, so the predictor returns what ``predict`` /
``predict_proba`` return.
"""

import collections
import threading
import time
import uuid
import weakref

import numpy as np

from ..core._buffers import aligned_empty, rows_within
from ..core._buffers import sub_batch_rows as _sub_batch_rows
from . import _compile_policy as compile_policy
from ._causal_stack import batch_preprocess, default_wrapper_input
from ._compile_policy import worth_xla
from ._prefix import PrefixRunner, prefix_default_batch_size, recurrent_stack
from ._shared_compiled import function_set
from ._tensors import as_tensor

__all__ = ["KerasPredictor", "make_keras_predictor"]

_ACTIVATION_BUDGET_BYTES = 32 * 2**20  # a plain-graph call
_XLA_BUDGET_BYTES = 128 * 2**20  # an XLA call
_CHECK_ROWS = 64  # rows of the cross-check of XLA outputs
# Plain-graph pieces of more estimated activations than this are cut to the
# smaller budget while an XLA compile of their shape runs beside them.
_LARGE_PIECE_BYTES = 16 * 2**20
_COMPILING_BUDGET_BYTES = 8 * 2**20

# Compiled functions of each fitted Keras model. The functions hold the
# model's variables, not the model, so the entry goes with the model.
_COMPILED = weakref.WeakKeyDictionary()
_COMPILED_LOCK = threading.Lock()


def make_keras_predictor(
    estimator, *, batch_size=None, jit_compile="auto", input_ndim=3
):
    """Compiled predictor for a fitted Keras-backed estimator, or None.

    Parameters
    ----------
    estimator : fitted estimator
        One of the package's wrappers, a scikeras ``KerasClassifier`` /
        ``KerasRegressor``, or a :class:`~sklearn.pipeline.Pipeline` of
        transformers ending in one (see
        :func:`seqimportance.keras._inference.keras_inference`).
    batch_size : int or None, default=None
        Rows per compiled call, ``B``. None chooses it from the model's
        estimated activation size (128 MiB per XLA call, 32 MiB per call of
        the plain graph; a power of two between 64 and 8192 rows).
    jit_compile : {"auto", True, False}, default="auto"
        Whether to compile with XLA. "auto" serves from the plain graph at
        once and switches the large sub-batch shapes to XLA once compiled in
        the background, unless XLA fails to compile the model or its outputs
        disagree with the model's; True requires XLA for every shape (compiled
        on first use); False uses the plain TensorFlow graph only.
    input_ndim : {2, 3}, default=3
        Layout in which the estimator takes its input (3-D batches are handed
        over as ``(n, 1, F)`` for 2-D callers).

    Returns
    -------
    predictor : KerasPredictor or None
        None when the estimator's predictions are not known to be its Keras
        model's outputs (an unknown subclass, a model with several inputs or
        outputs, Keras not on TensorFlow, ...): the caller then uses the
        estimator's public methods.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance import SequenceModelRegressor
    >>> from seqimportance.keras._predictor import make_keras_predictor
    >>> X = np.random.default_rng(0).normal(size=(20, 5, 2))
    >>> reg = SequenceModelRegressor(model__units=4, random_state=0)
    >>> reg = reg.initialize(X, X[:, -1, 0])  # untrained is enough here
    >>> predictor = make_keras_predictor(reg, jit_compile=False)
    >>> sorted(predictor.methods)
    ['predict']
    >>> copies = np.concatenate([X, X + 0.1])  # perturbed copies, stacked
    >>> np.allclose(predictor(copies, "predict"), reg.predict(copies), atol=1e-6)
    True
    """
    from ._inference import keras_inference

    inference = keras_inference(estimator, input_ndim=input_ndim)
    if inference is None:
        return None
    if _backend() == "jax":
        from ._jax_predictor import JaxPredictor

        return JaxPredictor(inference, batch_size)
    prefix_batch_size = plain_batch_size = batch_size
    if batch_size is None:
        plain_batch_size = _default_batch_size(inference.model)
        batch_size = plain_batch_size
        if jit_compile is not False:
            batch_size = _default_batch_size(inference.model, _XLA_BUDGET_BYTES)
        prefix_batch_size = prefix_default_batch_size(inference.model)
    predictor = KerasPredictor(inference, int(batch_size), jit_compile)
    predictor.plain_batch_size = int(plain_batch_size)
    if prefix_batch_size is not None:
        predictor.prefix_batch_size = int(prefix_batch_size)
    return predictor


def _backend():
    import keras

    return keras.backend.backend()


def _row_work(model):
    """Timesteps x (input features + every layer's output width) of one row."""
    shape = tuple(model.inputs[0].shape)
    n_timesteps, n_features = (1, shape[1]) if len(shape) == 2 else shape[1:]
    n_timesteps = n_timesteps or 1
    width = n_features or 1
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":  # its output is the input
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) >= 2 and shape[-1]:
            width += int(shape[-1])
    return int(n_timesteps) * int(width)


def _default_batch_size(model, budget_bytes=None):
    """Rows per call whose estimated activations fit the memory budget.

    A row's activations are estimated as ``4 * T * (F + every layer's output
    width)`` bytes (:func:`_row_work`): the forward pass keeps about that
    much per row, layers that return only their last step included (an
    LSTM(64) over 50 steps of 16 features measured 16 KB a row under XLA).
    """
    if budget_bytes is None:
        budget_bytes = _ACTIVATION_BUDGET_BYTES
    return rows_within(budget_bytes, 4 * _row_work(model))


class _CompiledModel:
    """The compiled inference functions serving one Keras model.

    One plain-graph function serves any number of rows; XLA functions have
    one fixed batch shape each (see :mod:`seqimportance.keras._compile_policy`).
    Models of one architecture share their functions, which take the weights
    as arguments (see :mod:`seqimportance.keras._shared_compiled`).
    """

    def __init__(self, model):
        self._model_ref = weakref.ref(model)
        self._set = function_set(model)
        self._used = {}  # the functions this model called, for tracing_count
        self.row_work = _row_work(model)
        self._prefix = {}  # (batch_size, jit_compile) -> PrefixRunner or None

    def prefix_runner(self, batch_size, jit_compile):
        """The model's :class:`~seqimportance.keras._prefix.PrefixRunner`, or None."""
        key = (batch_size, jit_compile)
        with self._lock:
            if key not in self._prefix:
                model = self._model_ref()
                runner = None
                if model is not None and recurrent_stack(model) is not None:
                    runner = PrefixRunner(model, batch_size, jit_compile)
                    runner.row_work = self.row_work
                self._prefix[key] = runner
            return self._prefix[key]

    @property
    def _functions(self):
        return self._set.functions

    @property
    def _lock(self):
        return self._set.lock

    @property
    def xla_ok(self):
        """Whether XLA runs this architecture (None until tried)."""
        return self._set.xla_ok

    @property
    def xla_error(self):
        """Why XLA does not run this architecture, or None."""
        return self._set.xla_error

    @property
    def shared(self):
        """Whether the functions are shared with models of the same architecture."""
        return self._set.stateless

    def _new_function(self, x, jit):
        if jit:  # around the plain graph when traced: no second trace
            plain = self._functions.get((None, x.dtype.str, False))
            function = None if plain is None else self._set.xla_of(plain, x)
            if function is not None:
                return function
        return self._set.new_function(self._model_ref(), x, jit)

    def _run(self, key, function, x, share=False):
        self._used[key] = function
        x = as_tensor(x) if share else x
        return self._set.run(function, self._model_ref(), x)

    def padded_rows(self, rows, x_tail):
        """Rows to pad a sub-batch of ``rows`` to: an XLA shape's, or ``rows``.

        A shape that XLA serves, or will (its compile is under way or
        waiting), with at most twice the rows, serves this sub-batch too: the
        padding costs less than a second executable (its compile, and the
        memory it keeps). The evaluation set of a fit is then run by the
        executable of its chunks.
        """
        best = rows
        for key in list(self._functions) + list(self._set.compiles.pending):
            shape, _, xla = key
            if (
                xla
                and tuple(shape[1:]) == tuple(x_tail)
                and rows < shape[0] <= 2 * rows
                and (best == rows or shape[0] < best)
            ):
                best = shape[0]
        return best

    @property
    def alive(self):
        """Whether the model is still there."""
        return self._model_ref() is not None

    @property
    def tracing_count(self):
        """Traces of the functions this model called (one per shape)."""
        functions = list(self._used.values())  # other threads may add some
        return sum(f.experimental_get_tracing_count() for f in functions)

    def __call__(self, x, jit_compile, share=False, plain_rows=None):
        """Outputs of the model for ``x``, a batch of one of the padded shapes.

        ``share``: ``x`` is the package's own scratch array, whose memory may
        go to TensorFlow without a copy (see :mod:`seqimportance.keras._tensors`).
        ``plain_rows``: rows per call of the plain graph, which keeps more
        per row than XLA; ``x`` is cut into pieces of at most that many.
        """
        xla_key = (x.shape, x.dtype.str, True)
        if jit_compile is True:
            return self._call(xla_key, x, jit_compile, share)
        if jit_compile == "auto":
            function = self._functions.get(xla_key)
            if function is not None:
                return self._run(xla_key, function, x, share)
        started = time.perf_counter()
        plain_key = (None, x.dtype.str, False)
        n_rows = x.shape[0]
        step = n_rows if not plain_rows else min(n_rows, int(plain_rows))
        reference = None
        if jit_compile == "auto":
            reference = self._compile_at_first_call(x, plain_key)
        if jit_compile == "auto" and xla_key in self._set.compiles.pending:
            step = self._while_compiling(step)
        out = None
        try:
            pieces = [
                self._call(plain_key, x[i : i + step], jit_compile, share)
                for i in range(0, n_rows, step)
            ]
            out = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        finally:  # the compile beside this call checks against its outputs
            if reference is not None:
                reference.give(None if out is None else np.array(out[:_CHECK_ROWS]))
        if jit_compile == "auto":
            self._maybe_compile_xla(x, out, time.perf_counter() - started)
        return out

    def _compile_at_first_call(self, x, plain_key):
        """Start the XLA compile of ``x``'s shape beside its first call, if due.

        See :func:`~seqimportance.keras._compile_policy.at_first_call`. The
        plain graph is traced first (the compile calls its traced graph) and
        then runs beside the compile.

        Returns
        -------
        reference : Reference or None
            Where the caller hands over its outputs for the compile's check;
            None when no compile started.
        """
        key = (x.shape, x.dtype.str, True)
        compiles = self._set.compiles
        if (
            not compile_policy.at_first_call(x.shape[0], self.row_work)
            or self.xla_ok is False
            or key in self._functions
            or compiles.calls[key]
        ):
            return None
        with self._lock:
            if plain_key not in self._functions:
                function = self._new_function(x, False)
                self._set.trace(function, self._model_ref())
                self._functions[plain_key] = function
        reference = compile_policy.Reference()
        if not compiles.first_call(
            key, lambda: self._compile_for(x, reference), "seqimportance-xla"
        ):
            return None
        return reference

    def _while_compiling(self, step):
        """Rows per plain-graph call while XLA compiles the shape beside it.

        The compiler's memory comes on top of the plain graph's activations,
        so pieces estimated above :data:`_LARGE_PIECE_BYTES` are cut to
        :data:`_COMPILING_BUDGET_BYTES` until XLA serves the shape.
        """
        row_bytes = 4 * self.row_work
        if step * row_bytes <= _LARGE_PIECE_BYTES:
            return step
        return min(step, rows_within(_COMPILING_BUDGET_BYTES, row_bytes))

    def _call(self, key, x, jit_compile, share=False):
        function = self._functions.get(key)
        if function is None:
            with self._lock:  # first call of a shape: one trace, one compile
                function, out = self._first_call(key, x, jit_compile)
            if out is not None:
                return out
        return self._run(key, function, x, share)

    def _first_call(self, key, x, jit_compile):
        function = self._functions.get(key)
        if function is not None:  # compiled by another thread meanwhile
            return function, None
        if key[2]:  # XLA on request: compile now, fail loudly
            function, out, ok = self._try_xla(key, x)
            if not ok:
                if self.xla_error is not None:
                    raise self.xla_error
                raise RuntimeError(
                    "The XLA-compiled outputs of the Keras model differ from "
                    "its eager outputs; use jit_compile='auto' or False."
                )
            self._functions[key] = function
            return function, out
        function = self._new_function(x, False)
        out = self._run(key, function, x)
        self._functions[key] = function
        return function, out

    def _try_xla(self, key, x, expected=None):
        """``(function, outputs, ok)`` of a new XLA function on ``x``.

        ``expected``: the plain graph's outputs for the first rows of ``x``
        (an array, or a :class:`Reference` that will hold them), if known;
        else the check calls the model eagerly.
        """
        function = self._new_function(x, True)
        try:
            out = self._run(key, function, x)
        except Exception as exc:  # XLA cannot compile this model
            self._set.xla_ok, self._set.xla_error = False, exc
            return function, None, False
        if self._set.xla_ok is None:  # checked once per architecture
            if isinstance(expected, compile_policy.Reference):
                expected = expected.get()
            self._set.xla_ok = self._agrees(x, out, expected)
        return function, out, self._set.xla_ok

    def _maybe_compile_xla(self, x, out, seconds):
        """Compile XLA for ``x``'s shape in the background, if worth it.

        ``out``: the plain graph's outputs for ``x`` (the reference of the
        check of XLA's); ``seconds``: how long the plain graph took on ``x``.
        """
        key = (x.shape, x.dtype.str, True)
        if self.xla_ok is False or not worth_xla(x.shape[0], self.row_work):
            return

        self._set.compiles.plain_call(
            key, seconds, self._functions.__contains__,
            lambda: self._compile_for(x, np.array(out[:_CHECK_ROWS])),
            "seqimportance-xla",
        )

    def _compile_for(self, x, expected):
        """The compile of ``x``'s shape, checked against ``expected`` (see _try_xla)."""
        key = (x.shape, x.dtype.str, True)
        sample = np.array(x)  # the caller may reuse its buffer

        def compile_xla():
            model = self._model_ref()  # alive until the compile is done
            try:
                if model is not None:
                    function, _, ok = self._try_xla(key, sample, expected)
                    if ok:
                        self._functions[key] = function
            except Exception as exc:  # the plain graph keeps serving
                self._set.xla_ok, self._set.xla_error = False, exc

        return compile_xla

    def _agrees(self, x, out, expected=None):
        """Whether XLA outputs match the model's on a few rows.

        ``expected``: the plain graph's outputs for those rows; None calls
        the model eagerly (about 0.1 s for a small 3-layer LSTM).
        """
        rows = min(_CHECK_ROWS, x.shape[0])
        if expected is None:
            model = self._model_ref()
            if model is None:
                return False
            expected = model(x[:rows], training=False)
        return compile_policy.outputs_agree(out[:rows], expected[:rows])


def _compiled_for(model):
    with _COMPILED_LOCK:
        compiled = _COMPILED.get(model)
        if compiled is None:
            compiled = _COMPILED[model] = _CompiledModel(model)
        return compiled


# Pickled copies of a predictor (joblib and dask workers receive one per task)
# find the compiled functions through the predictor's token: in the process
# that made it, those of the original model (same weights, nothing to trace);
# elsewhere, those compiled for the first copy received, kept alive for the
# next tasks by a small strong cache.
_BY_TOKEN = weakref.WeakValueDictionary()
_RECEIVED = collections.OrderedDict()
_RECEIVED_SIZE = 4


def _compiled_for_token(token, model, received):
    with _COMPILED_LOCK:
        compiled = _BY_TOKEN.get(token)
    if compiled is not None and compiled.alive:
        return compiled
    compiled = _compiled_for(model)
    with _COMPILED_LOCK:
        _BY_TOKEN[token] = compiled
        if received:
            _RECEIVED[token] = (model, compiled)
            while len(_RECEIVED) > _RECEIVED_SIZE:
                _RECEIVED.popitem(last=False)
    return compiled


class KerasPredictor:
    """Predictions of a Keras-backed estimator for a batch, by compiled inference.

    Built by :func:`make_keras_predictor`. Calling it with a 3-D batch and a
    method name returns the same as ``getattr(estimator, method)(X_batch)``,
    up to float32 rounding of the forward pass.

    Parameters
    ----------
    inference : seqimportance.keras._inference.Inference
        The estimator, its Keras model, the methods served ("predict", and
        "predict_proba" for a classifier) and its pre- and post-processing.
    batch_size : int
        Rows per compiled call.
    jit_compile : {"auto", True, False}
        Whether to compile with XLA (see :func:`make_keras_predictor`).

    Attributes
    ----------
    estimator : estimator
        The fitted estimator.
    methods : frozenset of str
    parallel_prefer : str
        "threads": TensorFlow runs outside the GIL, and a worker process would
        have to trace and compile again, so parallel chunks should run in
        threads of this process (a hint for ``joblib.Parallel(prefer=...)``;
        an explicit backend such as dask's still applies).
    accepts_trusted : bool
        True: calls take ``trusted=True`` for batches of the package's own
        making (see :meth:`__call__`).
    """

    parallel_prefer = "threads"
    accepts_trusted = True

    def __init__(self, inference, batch_size, jit_compile="auto"):
        if jit_compile not in ("auto", True, False):
            raise ValueError(
                "jit_compile must be 'auto', True or False; got "
                f"{jit_compile!r}."
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
        self.inference = inference
        self.estimator = inference.estimator
        self.methods = inference.methods
        self.batch_size = batch_size
        self.jit_compile = jit_compile
        self._token = uuid.uuid4().hex
        self._received = False
        self._compiled = None
        self._prefix_ok = None
        self._cast = None
        # Rows per call of the prefix path (None: batch_size); its activations
        # per row are smaller (see prefix_default_batch_size).
        self.prefix_batch_size = None
        # Rows per call of the plain graph (None: batch_size), which keeps
        # more per row than XLA.
        self.plain_batch_size = None

    # Compiled functions cannot be pickled: a copy finds them by token (see
    # _compiled_for_token), so a worker compiles at most once per model.
    def __getstate__(self):
        self.compiled  # register the token before a copy leaves
        state = self.__dict__.copy()
        state["_compiled"] = None
        state["_cast"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._received = True

    @property
    def compiled(self):
        """The model's compiled functions (shared by predictors of that model)."""
        if self._compiled is None:
            self._compiled = _compiled_for_token(
                self._token, self.inference.model, self._received
            )
        return self._compiled

    @property
    def uses_xla(self):
        """Whether XLA runs the model's large batches: True, False, or None.

        None while undecided: before the first call, and with
        ``jit_compile="auto"`` until a background compile finished (or when
        no batch was large enough to compile).
        """
        if self.jit_compile is False:
            return False
        return self.compiled.xla_ok

    @property
    def tracing_count(self):
        """How many times the model's inference functions were traced."""
        return self.compiled.tracing_count

    def raw_outputs(self, X_batch_3d, trusted=False):
        """Raw model outputs for every row of ``X_batch_3d``, float32.

        ``trusted``: see :meth:`__call__`.
        """
        n_rows = X_batch_3d.shape[0]
        rows = _sub_batch_rows(n_rows, self.batch_size)
        compiled = self.compiled
        if self.jit_compile is not False:
            rows = compiled.padded_rows(rows, X_batch_3d.shape[1:])
        preprocess = self._preprocess(trusted)
        out = None
        for start in range(0, n_rows, rows):
            x = preprocess(X_batch_3d[start : start + rows])
            n = x.shape[0]
            if n < rows:
                x_full = aligned_empty((rows,) + x.shape[1:], x.dtype)
                x_full[:n] = x
                x_full[n:] = 0
                x = x_full
            y = compiled(
                np.ascontiguousarray(x),
                self.jit_compile,
                share=trusted,
                plain_rows=self.plain_batch_size,
            )
            if out is None:
                out = np.empty((n_rows,) + y.shape[1:], dtype=y.dtype)
            out[start : start + n] = y[:n]
        return out

    def _preprocess(self, trusted):
        """See :func:`~seqimportance.keras._causal_stack.batch_preprocess`."""
        return batch_preprocess(self, trusted)

    def _prefix_runner(self):
        rows = self.prefix_batch_size or self.batch_size
        return self.compiled.prefix_runner(rows, self.jit_compile)

    @property
    def uses_first_steps(self):
        """Whether calls can use the first perturbed step of each copy.

        True for models whose recurrent part is causal (see
        :mod:`seqimportance.keras._prefix`) behind the package's wrappers with their
        default pre-processing, which keeps each timestep to itself.
        """
        if self._prefix_ok is None:
            self._prefix_ok = bool(
                self._default_wrapper_input and self._prefix_runner() is not None
            )
        return self._prefix_ok

    @property
    def _default_wrapper_input(self):
        """See :func:`~seqimportance.keras._causal_stack.default_wrapper_input`."""
        return default_wrapper_input(self.inference)

    def __call__(
        self, X_batch_3d, method, *, reference=None, first_steps=None, trusted=False
    ):
        """Predictions of ``method`` for every row of ``X_batch_3d``.

        Parameters
        ----------
        X_batch_3d : ndarray of shape (n_rows, n_timesteps, n_features)
        method : str
        reference : ndarray of shape (n, n_timesteps, n_features) or None
            With ``first_steps``: ``X_batch_3d`` stacks copies of
            ``reference``, copy ``j`` equal to it before timestep
            ``first_steps[j]``. A model that can (see
            :attr:`uses_first_steps`) then runs each copy from that step on;
            the hint is ignored otherwise.
        first_steps : array-like of int or None
        trusted : bool, default=False
            True when ``X_batch_3d`` is the importance code's own scratch
            array, built from validated data by a built-in perturbation: it
            is finite and of the fitted shape (so the package's wrappers skip
            the finiteness check), and nobody reads it after this call (so
            its memory may go to TensorFlow without a copy, see
            :mod:`seqimportance.keras._tensors`).
        """
        if method not in self.methods:
            raise AttributeError(
                f"{type(self.estimator).__name__} has no method {method!r}; it has "
                f"{sorted(self.methods)}."
            )
        with compile_policy.serving():  # not idle: compiles wait
            if (
                reference is not None
                and first_steps is not None
                and np.any(np.asarray(first_steps) > 0)
                and self.uses_first_steps
            ):
                runner = self._prefix_runner()
                raw = runner.raw_outputs(
                    X_batch_3d,
                    reference,
                    first_steps,
                    self._preprocess(trusted),
                    lambda n_rows: _sub_batch_rows(n_rows, runner.batch_size),
                    share=trusted,
                )
            else:
                raw = self.raw_outputs(X_batch_3d, trusted)
        return self.inference.postprocess(raw, method)

    def __repr__(self):
        return (
            f"KerasPredictor({type(self.estimator).__name__}, "
            f"batch_size={self.batch_size}, jit_compile={self.jit_compile!r})"
        )
