"""Compiled inference on the JAX backend: ``jax.jit`` of ``stateless_call``.

With ``KERAS_BACKEND=jax`` the model's forward pass is jitted once per batch
shape, ``model.stateless_call(trainable, non_trainable, x, training=False)``
with the weights as arguments (so weights updated in place are seen), and
every batch of perturbed copies is cut into sub-batches of one fixed number
of rows (the last one padded), so it is traced once. The outputs go through
the same post-processing as the estimator's ``predict`` /
``predict_proba`` (:class:`~seqimportance.keras._inference.Inference`).
Prefix-state reuse and the background XLA policy are TensorFlow's (see
:mod:`seqimportance.keras._predictor`); on JAX every call is compiled.
"""

import threading

import numpy as np

from ..core._buffers import rows_within

__all__ = ["JaxPredictor"]

_BUDGET_BYTES = 128 * 2**20  # activations of one jitted call


class JaxPredictor:
    """Predictions of a Keras-backed estimator through a jitted forward pass.

    Parameters
    ----------
    inference : seqimportance.keras._inference.Inference
        How the estimator's predictions come from its model.
    batch_size : int or None, default=None
        Rows per jitted call; None sizes it from the model's width.
    """

    uses_first_steps = False
    accepts_trusted = False

    def __init__(self, inference, batch_size=None):
        self.inference = inference
        self.estimator = inference.estimator
        self.methods = inference.methods
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._function = None
        self._last = None  # (id of the batch, its raw outputs)

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
                import jax

                model = self.inference.model

                def infer(trainable, non_trainable, x):
                    outputs, _ = model.stateless_call(
                        trainable, non_trainable, x, training=False
                    )
                    return outputs

                self._function = jax.jit(infer)
            return self._function

    def raw_outputs(self, X_batch_3d):
        """The model's outputs for every row of ``X_batch_3d``."""
        model, function = self.inference.model, self._jitted()
        x = np.asarray(self.inference.preprocess(X_batch_3d),
                       dtype=model.inputs[0].dtype)
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
        """``getattr(estimator, method)`` of every row, from one pass per batch."""
        last = self._last
        if last is not None and last[0] is X_batch_3d:
            raw = last[1]
        else:
            raw = self.raw_outputs(X_batch_3d)
            self._last = (X_batch_3d, raw)
        return self.inference.postprocess(raw, method)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.update(_lock=None, _function=None, _last=None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self):
        return f"JaxPredictor({type(self.estimator).__name__})"
