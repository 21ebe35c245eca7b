"""Compiled inference on the JAX backend: ``jax.jit`` of ``stateless_call``.

With ``KERAS_BACKEND=jax`` the model's forward pass is jitted,
``model.stateless_call(trainable, non_trainable, x, training=False)`` with
the weights as arguments (so weights updated in place are seen), and every
batch of perturbed copies is cut into sub-batches of one fixed number of
rows (the last one padded), so it is traced once. The outputs go through the
same post-processing as the estimator's ``predict`` / ``predict_proba``
(:class:`~seqimportance.keras._inference.Inference`).

The jitted functions are kept with the model (keyed weakly on it, one per
sub-batch size), so that the predictors of later fits of the same model, each
importance fit making its own, compile nothing again.

Models that are a chain of stacked unidirectional LSTM / GRU / SimpleRNN
layers and a simple head run their full passes through the step loop of
:mod:`seqimportance.keras._jax_prefix` instead, from step 0: the same outputs,
1.1-1.35x as fast on CPU as Keras's own recurrent layers under ``jax.jit``.
Their timestep units, behind
the package's wrappers with their default pre-processing (as on TensorFlow,
see :attr:`JaxPredictor.uses_first_steps`), run each perturbed copy from its
first perturbed step, from the cached states of the unperturbed data
(:mod:`seqimportance.keras._jax_prefix`). The background XLA policy is
TensorFlow's (see :mod:`seqimportance.keras._predictor`); on JAX every call
is compiled.
"""

import threading
import weakref

import numpy as np

from ..core._buffers import rows_within
from ._causal_stack import batch_preprocess, default_wrapper_input, recurrent_stack
from ._jax_prefix import JaxPrefixRunner, jax_prefix_batch_size

__all__ = ["JaxPredictor"]

_BUDGET_BYTES = 128 * 2**20  # activations of one jitted call

# Jitted functions and prefix runners of each model, by what they serve. They
# hold the model weakly, so the entry goes with the model.
_SHARED = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _shared(model, key, make):
    """``make()`` once per model and key, kept while the model lives."""
    with _SHARED_LOCK:
        entry = _SHARED.setdefault(model, {})
        if key not in entry:
            entry[key] = make()
        return entry[key]


def _new_forward(model):
    """``jax.jit`` of the model's forward pass, weights as arguments."""
    import jax

    model_ref = weakref.ref(model)

    def infer(trainable, non_trainable, x):
        outputs, _ = model_ref().stateless_call(
            trainable, non_trainable, x, training=False
        )
        return outputs

    return jax.jit(infer)


class JaxPredictor:
    """Predictions of a Keras-backed estimator through a jitted forward pass.

    Parameters
    ----------
    inference : seqimportance.keras._inference.Inference
        How the estimator's predictions come from its model.
    batch_size : int or None, default=None
        Rows per jitted call; None sizes it from the model's width (and the
        prefix path's from what its loop keeps, see
        :func:`~seqimportance.keras._jax_prefix.jax_prefix_batch_size`).

    Attributes
    ----------
    prefix_batch_size : int or None
        Rows per jitted call of the prefix path (None: its default).
    loop_full_passes : bool
        True (the default): full forward passes of a model that
        :func:`~seqimportance.keras._causal_stack.recurrent_stack` recognises
        run through the prefix path's step loop from step 0
        (:meth:`~seqimportance.keras._jax_prefix.JaxPrefixRunner.full_outputs`),
        1.1-1.35x as fast on CPU as the jitted ``stateless_call``; False
        jits ``stateless_call`` for every model.
    accepts_trusted : bool
        True: calls take ``trusted=True`` for batches of the package's own,
        which skip the finiteness check where the estimator's pre-processing
        only casts (:func:`~seqimportance.keras._causal_stack.trusted_cast`).
    """

    accepts_trusted = True
    loop_full_passes = True

    def __init__(self, inference, batch_size=None):
        self.inference = inference
        self.estimator = inference.estimator
        self.methods = inference.methods
        self.batch_size = batch_size
        self.prefix_batch_size = batch_size
        self._lock = threading.Lock()
        self._function = None
        self._runner = None
        self._prefix_ok = None
        self._stack_ok = None
        self._last = None  # (id of the batch, its raw outputs)
        self._cast = None  # trusted_cast, once looked up (False: none)

    def _rows(self):
        if self.batch_size is None:
            model = self.inference.model
            width = sum(int(np.prod(v.shape)) for v in model.weights) ** 0.5
            shape = tuple(model.inputs[0].shape)
            steps = 1 if len(shape) == 2 else int(shape[1])
            self.batch_size = rows_within(_BUDGET_BYTES, 4 * steps * (width + 1))
        return self.batch_size

    def _jitted(self):
        with self._lock:
            if self._function is None:
                model = self.inference.model
                self._function = _shared(
                    model, ("forward", self._rows()), lambda: _new_forward(model)
                )
            return self._function

    def prefix_runner(self):
        """The model's :class:`~seqimportance.keras._jax_prefix.JaxPrefixRunner`.

        Shared by the predictors of the model with the same sub-batch size.
        Only for models that :attr:`uses_first_steps` serves.
        """
        with self._lock:
            if self._runner is None:
                model = self.inference.model
                rows = self.prefix_batch_size or jax_prefix_batch_size(model)
                self._runner = _shared(
                    model, ("prefix", rows), lambda: JaxPrefixRunner(model, rows)
                )
            return self._runner

    @property
    def _supported(self):
        """Whether the model is a chain the runner's step loop computes."""
        if self._stack_ok is None:
            self._stack_ok = recurrent_stack(self.inference.model) is not None
        return self._stack_ok

    @property
    def uses_first_steps(self):
        """Whether calls can use the first perturbed step of each copy.

        As on TensorFlow: True for models whose recurrent part is causal (see
        :mod:`seqimportance.keras._causal_stack`) behind the package's
        wrappers with their default pre-processing, which keeps each timestep
        to itself.
        """
        if self._prefix_ok is None:
            self._prefix_ok = bool(self._default_wrapper_input and self._supported)
        return self._prefix_ok

    @property
    def _default_wrapper_input(self):
        """See :func:`~seqimportance.keras._causal_stack.default_wrapper_input`."""
        return default_wrapper_input(self.inference)

    def _preprocess(self, trusted):
        """See :func:`~seqimportance.keras._causal_stack.batch_preprocess`."""
        return batch_preprocess(self, trusted)

    def raw_outputs(self, X_batch_3d, trusted=False):
        """The model's outputs for every row of ``X_batch_3d``."""
        model = self.inference.model
        x = np.asarray(self._preprocess(trusted)(X_batch_3d),
                       dtype=model.inputs[0].dtype)
        if self.loop_full_passes and self._supported:
            return self.prefix_runner().full_outputs(x)
        function = self._jitted()
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]
        rows, n = self._rows(), len(x)
        out = None
        for start in range(0, n, rows):
            part = x[start : start + rows]
            m = len(part)
            if m < rows and n > rows:  # the shape every other call has
                part = np.concatenate([part, np.zeros((rows - m,) + part.shape[1:],
                                                      dtype=part.dtype)])
            y = np.asarray(function(trainable, non_trainable, part))[:m]
            if out is None:
                out = np.empty((n,) + y.shape[1:], dtype=y.dtype)
            out[start : start + m] = y
        return out

    def __call__(self, X_batch_3d, method, *, reference=None, first_steps=None,
                 trusted=False):
        """``getattr(estimator, method)`` of every row, from one pass per batch.

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
            ``X_batch_3d`` is the package's own, built from validated data
            by a built-in perturbation: finite and of the fitted shape.
        """
        last = self._last
        if last is not None and last[0] is X_batch_3d:
            raw = last[1]
        else:
            if (
                reference is not None
                and first_steps is not None
                and np.any(np.asarray(first_steps) > 0)
                and self.uses_first_steps
            ):
                raw = self.prefix_runner().raw_outputs(
                    X_batch_3d, reference, first_steps, self._preprocess(trusted)
                )
            else:
                raw = self.raw_outputs(X_batch_3d, trusted)
            self._last = (X_batch_3d, raw)
        return self.inference.postprocess(raw, method)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.update(_lock=None, _function=None, _runner=None, _last=None, _cast=None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"JaxPredictor({type(self.estimator).__name__})"
