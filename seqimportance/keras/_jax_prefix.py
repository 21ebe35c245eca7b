"""Prefix-state reuse on the JAX backend: copies run from their first perturbed step.

The JAX counterpart of :mod:`seqimportance.keras._prefix`. In a causal
(unidirectional) recurrent network, perturbing timestep ``t`` cannot change
the hidden states before ``t``; with ``axis="timestep"`` or ``"both"`` (and
timestep windows), a copy perturbed from step ``t`` on starts from the states
of its unperturbed sample at step ``t - 1``. The models served are those
:func:`~seqimportance.keras._causal_stack.recurrent_stack` recognises:
stacked unidirectional LSTM / GRU / SimpleRNN layers under a head of
``Dense``, ``Dropout``, ``Activation``, ``Reshape``, ``Flatten`` and
``SqueezeSteps`` layers, reading the last layer's output at every timestep or
its last step.

Two functions are compiled with ``jax.jit``, both taking the model's weights
as arguments (the layers run inside a ``keras.StatelessScope`` that maps each
variable to its value, as ``stateless_call`` does), so weights updated in
place are seen without a new compile:

- the states of every layer at every step of the unperturbed data, by
  ``jax.lax.scan`` over the timesteps, computed once per reference data and
  weights;
- the suffix from a traced start step, ``jax.lax.fori_loop(start, T, ...)``
  over one step of every layer (``layer.cell(h, states, training=False)``),
  then the head: one compile per sub-batch shape serves every start.

The copies of a chunk are sorted by their first perturbed step and cut into
sub-batches of one shape (the last one padded with real rows); a sub-batch
runs from the first perturbed step of its earliest copy, whose other copies
are unperturbed there.
"""

import threading
import weakref

import numpy as np

from ..core._buffers import prefix_sub_batches, rows_within, sub_batch_rows
from ._causal_stack import STATES_PER_LAYER, prefix_row_width, recurrent_stack

__all__ = ["JaxPrefixRunner", "jax_prefix_batch_size"]

_ACTIVATION_BUDGET_BYTES = 32 * 2**20


def jax_prefix_batch_size(model):
    """Rows per call of the prefix path within 32 MiB, or None if not served.

    As :func:`seqimportance.keras._prefix.prefix_default_batch_size`, from
    the floats a row keeps
    (:func:`~seqimportance.keras._causal_stack.prefix_row_width`).

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    rows : int or None
    """
    width = prefix_row_width(model)
    return None if width is None else rows_within(_ACTIVATION_BUDGET_BYTES, 4 * width)


class JaxPrefixRunner:
    """Raw outputs of perturbed copies, each from its first perturbed step, on JAX.

    Parameters
    ----------
    model : keras.Model
        A model that :func:`~seqimportance.keras._causal_stack.recurrent_stack`
        recognises. Held weakly: the runner may be cached with the model.
    batch_size : int
        Rows per jitted call.

    Attributes
    ----------
    suffix_calls : int
        Calls of the jitted suffix function so far.
    steps_run, steps_full : int
        Row-steps the suffix calls computed, and those full forward passes of
        the same rows would have computed (their ratio is the work done).
    """

    def __init__(self, model, batch_size):
        self._model_ref = weakref.ref(model)
        recurrent, head = recurrent_stack(model)
        self.recurrent, self.head = recurrent, head
        self.per_step = bool(recurrent[-1].return_sequences)
        self.batch_size = int(batch_size)
        self.n_timesteps = int(model.inputs[0].shape[1])
        self._sizes = []
        for layer in recurrent:
            self._sizes += [int(layer.units)] * STATES_PER_LAYER[type(layer).__name__]
        self._n_last = STATES_PER_LAYER[type(recurrent[-1]).__name__]
        self._lock = threading.Lock()
        self._states_fn = self._suffix_fn = None
        self._baseline = None  # (reference ref, weight values, states)
        self._zeros = {}  # (rows, dtype) -> zero states of a full pass
        self.suffix_calls = self.steps_run = self.steps_full = 0

    # ------------------------------------------------------ jitted functions
    def _variables(self):
        model = self._model_ref()
        if model is None:
            raise ReferenceError("the Keras model of this runner is gone")
        return list(model.trainable_variables) + list(model.non_trainable_variables)

    def _scope(self, variables, values):
        import keras

        return keras.StatelessScope(state_mapping=list(zip(variables, values)))

    def _cells(self, h, states, dtype):
        """One step of every recurrent layer; returns (output, new states)."""
        new_states, i = [], 0
        for layer in self.recurrent:
            k = STATES_PER_LAYER[type(layer).__name__]
            h, layer_states = layer.cell(h, list(states[i : i + k]), training=False)
            if not isinstance(layer_states, (list, tuple)):
                layer_states = [layer_states]
            new_states.extend(s.astype(dtype) for s in layer_states)
            i += k
        return h, new_states

    def _functions(self):
        """``(states, suffix)``, the two jitted functions (made on first use)."""
        with self._lock:
            if self._suffix_fn is None:
                self._states_fn, self._suffix_fn = self._new_functions()
            return self._states_fn, self._suffix_fn

    def _new_functions(self):
        import jax
        import jax.numpy as jnp

        variables = self._variables()
        n_timesteps, per_step, sizes = self.n_timesteps, self.per_step, self._sizes
        runner = self

        def all_states(values, x):
            """Every state at every step: arrays ``(b, T, size)``."""
            with runner._scope(variables, values):
                init = [jnp.zeros((x.shape[0], size), x.dtype) for size in sizes]

                def step(states, x_s):
                    _, states = runner._cells(x_s, states, x.dtype)
                    return states, states

                _, stacks = jax.lax.scan(step, init, jnp.swapaxes(x, 0, 1))
                return [jnp.swapaxes(s, 0, 1) for s in stacks]

        def suffix(values, x, start, states, base_seq):
            """The model's outputs from step ``start`` on."""
            with runner._scope(variables, values):
                xt = jnp.swapaxes(x, 0, 1)  # (T, b, F)
                seq = jnp.swapaxes(base_seq, 0, 1) if per_step else None

                def body(s, carry):
                    states, seq = carry
                    h, states = runner._cells(xt[s], states, x.dtype)
                    if per_step:
                        seq = seq.at[s].set(h.astype(seq.dtype))
                    return states, seq

                states, seq = jax.lax.fori_loop(
                    start, n_timesteps, body, (list(states), seq)
                )
                if per_step:
                    out = jnp.swapaxes(seq, 0, 1)
                else:  # the last layer's h (LSTM: [h, c], h first)
                    out = states[len(states) - runner._n_last]
                for layer in runner.head:
                    out = layer(out, training=False)
                return out

        return jax.jit(all_states), jax.jit(suffix)

    def _values(self):
        return [v.value for v in self._variables()]

    # ---------------------------------------------------------------- states
    def baseline_states(self, x_reference, values=None):
        """Every state of every layer at every step: arrays ``(n, T, size)``.

        Parameters
        ----------
        x_reference : ndarray of shape (n, T, F)
            The model input of the unperturbed data.
        values : list of arrays or None, default=None
            The model's weights (None: their current values).

        Returns
        -------
        states : list of ndarray
        """
        states_fn, _ = self._functions()
        values = self._values() if values is None else values
        n, rows = len(x_reference), self.batch_size
        out = [np.empty((n, self.n_timesteps, size), x_reference.dtype)
               for size in self._sizes]
        for start in range(0, n, rows):
            part = x_reference[start : start + rows]
            m = len(part)
            if m < rows and n > rows:  # the shape of the other calls
                part = np.concatenate(
                    [part, np.zeros((rows - m,) + part.shape[1:], part.dtype)]
                )
            for o, s in zip(out, states_fn(values, part)):
                o[start : start + m] = np.asarray(s)[:m]
        return out

    def _baseline_for(self, reference, preprocess, values):
        """States of ``reference`` under ``values``, computed once while both live."""
        with self._lock:
            cached = self._baseline
        if (
            cached is not None
            and cached[0]() is reference
            and len(cached[1]) == len(values)
            and all(a is b for a, b in zip(cached[1], values))
        ):
            return cached[2]
        x_reference = np.ascontiguousarray(preprocess(reference))
        states = self.baseline_states(x_reference, values)
        try:  # the states go with the data (they take T times its memory)
            ref = weakref.ref(reference, self._forget)
        except TypeError:  # not weakly referenceable: kept until the next data
            ref = lambda reference=reference: reference  # noqa: E731
        with self._lock:
            self._baseline = (ref, values, states)
        return states

    def _forget(self, ref):
        with self._lock:
            if self._baseline is not None and self._baseline[0] is ref:
                self._baseline = None

    # ------------------------------------------------------------------ calls
    def full_outputs(self, x):
        """Raw outputs of full forward passes of ``x``, the model's input.

        The suffix loop from step 0 and zero states is the model's forward
        pass; on CPU it runs 1.1-1.35x as fast as the jitted
        ``stateless_call`` of Keras's own recurrent layers (which also keep
        every step's output).

        Parameters
        ----------
        x : ndarray of shape (n_rows, T, F)

        Returns
        -------
        raw : ndarray of shape (n_rows, ...)
        """
        _, suffix_fn = self._functions()
        values = self._values()
        n_rows = len(x)
        size = sub_batch_rows(n_rows, self.batch_size)
        init, base_seq = self._zero_states(size, x.dtype)
        out = None
        for a in range(0, n_rows, size):
            part = x[a : a + size]
            m = len(part)
            if m < size:  # the shape of the other calls
                part = np.concatenate(
                    [part, np.zeros((size - m,) + part.shape[1:], part.dtype)]
                )
            y = _suffix(suffix_fn, values, part, 0, init, base_seq)
            self.suffix_calls += 1
            self.steps_run += size * self.n_timesteps
            self.steps_full += size * self.n_timesteps
            if out is None:
                out = np.empty((n_rows,) + y.shape[1:], dtype=y.dtype)
            out[a : a + m] = y[:m]
        return out

    def _zero_states(self, size, dtype):
        """Zero states and base sequence of a full pass, on the device once per shape.

        Passed as numpy arrays they would be copied to the device on every
        call (5 MB for W1's per-step head, about 1 ms a call).
        """
        import jax

        key = (size, np.dtype(dtype).str)
        zeros = self._zeros.get(key)
        if zeros is None:
            width = self._sizes[-1] if self.per_step else 0
            zeros = self._zeros[key] = jax.device_put((
                [np.zeros((size, s), dtype) for s in self._sizes],
                np.zeros((size, self.n_timesteps, width), dtype),
            ))
        return zeros

    def raw_outputs(self, batch, reference, first_steps, preprocess):
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

        Returns
        -------
        raw : ndarray of shape (n_copies * n, ...)
        """
        _, suffix_fn = self._functions()
        values = self._values()
        states = self._baseline_for(reference, preprocess, values)
        last = states[len(states) - self._n_last]
        n_rows = len(batch)
        size = sub_batch_rows(n_rows, self.batch_size)
        out = None
        for picked, start, x, init, samples in prefix_sub_batches(
            batch, first_steps, len(reference), size, states
        ):
            x = np.ascontiguousarray(preprocess(x))
            if self.per_step:
                base_seq = np.ascontiguousarray(last[samples])
            else:
                base_seq = np.zeros((size, self.n_timesteps, 0), x.dtype)
            y = _suffix(suffix_fn, values, x, start, init, base_seq)
            self.suffix_calls += 1
            self.steps_run += size * (self.n_timesteps - start)
            self.steps_full += size * self.n_timesteps
            if out is None:
                out = np.empty((n_rows,) + y.shape[1:], dtype=y.dtype)
            out[picked] = y[: len(picked)]
        return out


def _suffix(suffix_fn, values, x, start, init, base_seq):
    """Outputs of the suffix function, as numpy, its inputs placed on the device.

    Every call passes device arrays (the cached zero states are), so that
    the full passes and the prefix calls share one compiled function.
    """
    import jax

    x, init, base_seq = jax.device_put((np.ascontiguousarray(x), init, base_seq))
    return np.asarray(suffix_fn(values, x, np.int32(start), init, base_seq))
