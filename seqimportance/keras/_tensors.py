"""Batches of perturbed copies handed to TensorFlow without a copy.

Calling a ``tf.function`` with a numpy array copies the array into a new
tensor: for the importance loop, every perturbed copy is written once by the
evaluator and then once more by TensorFlow (W2's 80 copies: 1 GB, 0.2-0.3 s of
a 5 s fit on 2 cores). TensorFlow can take the array's memory as it is
through DLPack, but only where the memory is aligned to
:data:`~seqimportance.core._buffers.ALIGNMENT` bytes (the alignment of its own buffers; a misaligned
buffer aborts the process). So the evaluator allocates its batches aligned
(:func:`~seqimportance.core._buffers.aligned_empty`), and :func:`as_tensor` shares the memory of arrays
that are aligned, C-contiguous and large enough to matter, and copies the
others as before.

Only the package's own scratch arrays go through :func:`as_tensor` (see
:class:`~seqimportance.keras._predictor.KerasPredictor`): a caller's data is
never shared with TensorFlow.
"""

from ..core._buffers import shareable

__all__ = ["as_tensor"]


def as_tensor(x):
    """A TensorFlow tensor of ``x``, sharing its memory where that is safe.

    Parameters
    ----------
    x : ndarray
        An array of the package's own (the tensor may share its memory, so
        it must not be written while the tensor is in use).

    Returns
    -------
    tensor : tf.Tensor
        Shares ``x``'s memory when :func:`~seqimportance.core._buffers.shareable`, else a copy.
    """
    import tensorflow as tf

    if shareable(x):
        try:
            return tf.experimental.dlpack.from_dlpack(x.__dlpack__())
        except Exception:  # an older TensorFlow or numpy: copy instead
            pass
    return tf.convert_to_tensor(x)
