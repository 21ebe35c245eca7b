"""Prefix-state reuse: perturbed copies evaluated from their first perturbed step.

In a causal (unidirectional) recurrent network, perturbing timestep ``t``
cannot change the hidden states before ``t``. With ``axis="timestep"`` or
``"both"`` (and timestep windows), a copy perturbed from step ``t`` on only
needs the steps from ``t``: the states of the unperturbed data are computed
once, at every step, and each copy starts from the states of its sample at
step ``t - 1``. On average that is about half the work of full forward passes.

:class:`PrefixRunner` does this for models that are a chain

    Input -> LSTM / GRU / SimpleRNN (unidirectional, stacked) -> head

where every recurrent layer but the last returns sequences and the head is
made of ``Dense``, ``Dropout``, ``Activation``, ``Reshape``, ``Flatten`` and
the package's ``SqueezeSteps`` layers, reading either the last layer's output
at every timestep (outputs before ``t`` are then the baseline's) or its last
step. :func:`recurrent_stack` recognises them; anything else (bidirectional
or backward layers, masking, attention, convolutions, unknown layers) gets
None, and the predictor then runs full forward passes.

The copies of a chunk are sorted by their first perturbed step and cut into
sub-batches of equal shape; a sub-batch runs from the first perturbed step of
its earliest copy (its other copies are unperturbed there, so starting early
changes nothing but a little work). The loop over the remaining steps has a
dynamic start, so one function per sub-batch shape serves every start: with
XLA, one compile per shape, as for full passes.
"""

import threading
import time
import weakref

import numpy as np

from ..core._buffers import prefix_sub_batches, rows_within
from . import _compile_policy as compile_policy
from ._causal_stack import STATES_PER_LAYER, prefix_row_width, recurrent_stack
from ._compile_policy import worth_xla
from ._quiet import package_function
from ._tensors import as_tensor

__all__ = [
    "PrefixRunner",
    "prefix_default_batch_size",
    "recurrent_stack",
]

_RECURRENT = STATES_PER_LAYER  # states per layer


_ACTIVATION_BUDGET_BYTES = 32 * 2**20


def prefix_default_batch_size(model):
    """Rows per call of the prefix path within 32 MiB, or None if not served.

    From the floats a row keeps
    (:func:`~seqimportance.keras._causal_stack.prefix_row_width`): a power
    of two between 64 and 8192 rows.
    """
    width = prefix_row_width(model)
    return None if width is None else rows_within(_ACTIVATION_BUDGET_BYTES, 4 * width)


class PrefixRunner:
    """Raw outputs of perturbed copies, each from its first perturbed step.

    Parameters
    ----------
    model : keras.Model
        A model that :func:`recurrent_stack` recognises.
    batch_size : int
        Rows per compiled call.
    jit_compile : {"auto", True, False}
        As for the predictor: "auto" starts on the plain graph and switches
        the large sub-batch shapes to XLA once compiled in the background.
    """

    def __init__(self, model, batch_size, jit_compile="auto"):
        self._model_ref = weakref.ref(model)
        self.recurrent, self.head = recurrent_stack(model)
        self.per_step = bool(self.recurrent[-1].return_sequences)
        self.batch_size = batch_size
        self.jit_compile = jit_compile
        self.n_timesteps = int(model.inputs[0].shape[1])
        self._functions = {}
        self._lock = threading.Lock()
        self._compiles = compile_policy.ShapeCompiles(self._lock)
        self._baseline = None  # (reference, states, last-layer sequence)
        self.xla_ok = None
        self.row_work = None

    # ------------------------------------------------------ compiled functions
    def _cells(self, h, states):
        """One step of every recurrent layer; returns (output, new states)."""
        new_states, i = [], 0
        for layer in self.recurrent:
            k = _RECURRENT[type(layer).__name__]
            h, layer_states = layer.cell(h, list(states[i : i + k]), training=False)
            if not isinstance(layer_states, (list, tuple)):
                layer_states = [layer_states]
            new_states.extend(layer_states)
            i += k
        return h, new_states

    def _state_sizes(self):
        sizes = []
        for layer in self.recurrent:
            sizes += [int(layer.units)] * _RECURRENT[type(layer).__name__]
        return sizes

    def _new_suffix_function(self, shape, dtype, jit):
        """``f(x, start, states, base_seq) -> outputs`` from step ``start`` on."""
        import tensorflow as tf

        n_timesteps = self.n_timesteps
        units = int(self.recurrent[-1].units)
        sizes = self._state_sizes()
        rows = shape[0] if jit else None
        tf_dtype = tf.as_dtype(dtype)

        def suffix(x, start, states, base_seq):
            xt = tf.transpose(x, [1, 0, 2])  # (T, b, F)
            seq = tf.transpose(base_seq, [1, 0, 2])  # (T, b, U)

            def body(s, states, seq):
                h, states = self._cells(xt[s], states)
                if self.per_step:
                    seq = tf.tensor_scatter_nd_update(seq, [[s]], h[tf.newaxis])
                return s + 1, states, seq

            _, states, seq = tf.while_loop(
                lambda s, states, seq: s < n_timesteps,
                body,
                (start, list(states), seq),
            )
            if self.per_step:
                out = tf.transpose(seq, [1, 0, 2])
            else:  # the last layer's h (LSTM: [h, c], h first)
                out = self._last_output(states)
            for layer in self.head:
                out = layer(out, training=False)
            return out

        signature = [
            tf.TensorSpec((rows,) + tuple(shape[1:]), tf_dtype),
            tf.TensorSpec((), tf.int32),
            [tf.TensorSpec((rows, size), tf_dtype) for size in sizes],
            tf.TensorSpec((rows, n_timesteps, units if self.per_step else 0), tf_dtype),
        ]
        suffix = package_function(suffix, "suffix")
        return tf.function(suffix, input_signature=signature, jit_compile=jit)

    def _last_output(self, states):
        """The last recurrent layer's output (its h) among the flat states."""
        k = _RECURRENT[type(self.recurrent[-1]).__name__]
        return states[len(states) - k]

    def _new_states_function(self, shape, dtype):
        """``g(x) -> [stack of each state at every step, (T, b, size)]``."""
        import tensorflow as tf

        n_timesteps = self.n_timesteps
        sizes = self._state_sizes()
        tf_dtype = tf.as_dtype(dtype)

        def all_states(x):
            xt = tf.transpose(x, [1, 0, 2])
            n = tf.shape(x)[0]
            states = [tf.zeros((n, size), tf_dtype) for size in sizes]
            arrays = [
                tf.TensorArray(tf_dtype, size=n_timesteps) for _ in sizes
            ]

            def body(s, states, arrays):
                _, states = self._cells(xt[s], states)
                arrays = [a.write(s, v) for a, v in zip(arrays, states)]
                return s + 1, states, arrays

            _, _, arrays = tf.while_loop(
                lambda s, states, arrays: s < n_timesteps,
                body,
                (tf.constant(0), states, arrays),
            )
            return [a.stack() for a in arrays]

        signature = [tf.TensorSpec((None,) + tuple(shape[1:]), tf_dtype)]
        all_states = package_function(all_states, "states")
        return tf.function(all_states, input_signature=signature)

    # ---------------------------------------------------------------- states
    def baseline_states(self, x_reference):
        """Every state of every layer at every step: arrays ``(n, T, size)``."""
        key = ("states", x_reference.dtype.str)
        with self._lock:
            function = self._functions.get(key)
            if function is None:
                function = self._functions[key] = self._new_states_function(
                    x_reference.shape, x_reference.dtype
                )
        parts = []
        for start in range(0, len(x_reference), self.batch_size):
            stacks = function(x_reference[start : start + self.batch_size])
            parts.append([np.swapaxes(s.numpy(), 0, 1) for s in stacks])
        return [np.concatenate(p, axis=0) for p in zip(*parts)]

    def _baseline_for(self, reference, preprocess):
        """States of ``reference``, computed once while it lives."""
        with self._lock:
            cached = self._baseline
        if cached is not None and cached[0]() is reference:
            return cached[1], cached[2]
        x_reference = np.ascontiguousarray(preprocess(reference))
        states = self.baseline_states(x_reference)
        last = states[len(states) - _RECURRENT[type(self.recurrent[-1]).__name__]]
        try:  # the states go with the data (they take T times its memory)
            ref = weakref.ref(reference, self._forget)
        except TypeError:  # not weakly referenceable: kept until the next data
            ref = lambda reference=reference: reference  # noqa: E731
        with self._lock:
            self._baseline = (ref, states, last)
        return states, last

    def _forget(self, ref):
        with self._lock:
            if self._baseline is not None and self._baseline[0] is ref:
                self._baseline = None

    # ------------------------------------------------------------------ calls
    def _suffix(self, x, start, states, base_seq, share=False):
        x_in = as_tensor(x) if share else x
        shape_key = (x.shape, x.dtype.str, True)
        function = None
        if self.jit_compile is not False:
            function = self._functions.get(shape_key)
            if function is None and self.jit_compile is True:
                with self._lock:
                    function = self._functions.get(shape_key)
                    if function is None:
                        function = self._new_suffix_function(x.shape, x.dtype, True)
                        self._functions[shape_key] = function
        if function is None:
            key = ("suffix", x.dtype.str, False)
            with self._lock:
                function = self._functions.get(key)
                if function is None:
                    function = self._functions[key] = self._new_suffix_function(
                        x.shape, x.dtype, False
                    )
            started = time.perf_counter()
            out = function(x_in, np.int32(start), states, base_seq).numpy()
            if self.jit_compile == "auto":
                seconds = time.perf_counter() - started
                self._maybe_compile_xla(x, start, states, base_seq, out, seconds)
            return out
        return function(x_in, np.int32(start), states, base_seq).numpy()

    def _maybe_compile_xla(self, x, start, states, base_seq, expected, seconds):
        key = (x.shape, x.dtype.str, True)
        if self.xla_ok is False or not worth_xla(x.shape[0], self.row_work or 0):
            return

        def make_compile():
            args = (np.array(x), np.int32(start), [np.array(s) for s in states],
                    np.array(base_seq))

            def compile_xla():
                try:
                    function = self._new_suffix_function(x.shape, x.dtype, True)
                    out = function(*args).numpy()
                    ok = compile_policy.outputs_agree(out, expected)
                    if self.xla_ok is None or not ok:
                        self.xla_ok = ok
                    if ok:
                        self._functions[key] = function
                except Exception:  # the plain graph keeps serving
                    self.xla_ok = False

            return compile_xla

        self._compiles.plain_call(
            key, seconds, self._functions.__contains__, make_compile,
            "seqimportance-xla-prefix",
        )

    def raw_outputs(
        self, batch, reference, first_steps, preprocess, rows, share=False
    ):
        """Raw model outputs for the copies of ``reference`` stacked in ``batch``.

        Parameters
        ----------
        batch : ndarray of shape (n_copies * n, T, F)
            Copy ``j`` in rows ``j * n`` to ``(j + 1) * n``, equal to
            ``reference`` before timestep ``first_steps[j]``.
        reference : ndarray of shape (n, T, F)
        first_steps : array-like of int, shape (n_copies,)
        preprocess : callable
            The estimator's pre-processing of a 3-D batch.
        rows : callable
            ``rows(n_rows) -> sub-batch rows`` of the predictor.
        share : bool, default=False
            Whether ``batch`` is the package's scratch array, whose memory
            may go to TensorFlow without a copy.

        Returns
        -------
        raw : ndarray of shape (n_copies * n, ...)
        """
        states, last = self._baseline_for(reference, preprocess)
        n_rows = len(batch)
        size = rows(n_rows)
        out = None
        for picked, start, x, init, samples in prefix_sub_batches(
            batch, first_steps, len(reference), size, states
        ):
            x = np.ascontiguousarray(preprocess(x))
            if self.per_step:
                base_seq = np.ascontiguousarray(last[samples])
            else:
                base_seq = np.zeros((size, self.n_timesteps, 0), x.dtype)
            y = self._suffix(x, start, init, base_seq, share)
            if out is None:
                out = np.empty((n_rows,) + y.shape[1:], dtype=y.dtype)
            out[picked] = y[: len(picked)]
        return out
