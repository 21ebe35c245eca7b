"""Batches of perturbed copies handed to TensorFlow without a copy.

Calling a ``tf.function`` with a numpy array copies the array into a new
tensor: for the importance loop, every perturbed copy is written once by the
evaluator and then once more by TensorFlow (W2's 80 copies: 1 GB, 0.2-0.3 s of
a 5 s fit on 2 cores). TensorFlow can take the array's memory as it is
through DLPack, but only where the memory is aligned to
:data:`ALIGNMENT` bytes (the alignment of its own buffers; a misaligned
buffer aborts the process). So the evaluator allocates its batches aligned
(:func:`aligned_empty`), and :func:`as_tensor` shares the memory of arrays
that are aligned, C-contiguous and large enough to matter, and copies the
others as before.

Only the package's own scratch arrays go through :func:`as_tensor` (see
:class:`~seqimportance._keras_predictor.KerasPredictor`): a caller's data is
never shared with TensorFlow. :func:`rows_within` sizes the batches of one
compiled call by a memory budget.
"""

import numpy as np

__all__ = ["ALIGNMENT", "aligned_empty", "as_tensor", "rows_within"]

# Bytes: TensorFlow's EIGEN_MAX_ALIGN_BYTES on AVX-512 builds (larger than on
# others, so enough for all).
ALIGNMENT = 64

# Below this size, copying costs less than the DLPack round trip.
_MIN_SHARED_BYTES = 2**20

_SHARED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def aligned_empty(shape, dtype):
    """An uninitialised array whose data starts on an :data:`ALIGNMENT` boundary.

    Parameters
    ----------
    shape : tuple of int
    dtype : dtype

    Returns
    -------
    array : ndarray
        C-contiguous; a view of a slightly larger byte buffer.

    Examples
    --------
    >>> from seqimportance._tensors import ALIGNMENT, aligned_empty
    >>> a = aligned_empty((1000, 7, 3), "float32")
    >>> a.shape, a.ctypes.data % ALIGNMENT, a.flags.c_contiguous
    ((1000, 7, 3), 0, True)
    """
    dtype = np.dtype(dtype)
    n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(n_bytes + ALIGNMENT, dtype=np.uint8)
    offset = (-buffer.ctypes.data) % ALIGNMENT
    return buffer[offset : offset + n_bytes].view(dtype).reshape(shape)


def shareable(x):
    """Whether :func:`as_tensor` would hand ``x``'s memory over without a copy."""
    return bool(
        isinstance(x, np.ndarray)
        and x.dtype in _SHARED_DTYPES
        and x.nbytes >= _MIN_SHARED_BYTES
        and x.flags.c_contiguous
        and x.flags.writeable
        and x.ctypes.data % ALIGNMENT == 0
    )


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
        Shares ``x``'s memory when :func:`shareable`, else a copy.
    """
    import tensorflow as tf

    if shareable(x):
        try:
            return tf.experimental.dlpack.from_dlpack(x.__dlpack__())
        except Exception:  # an older TensorFlow or numpy: copy instead
            pass
    return tf.convert_to_tensor(x)


# Rows of one compiled call: at least enough to hide the call overhead, at
# most where larger batches stop paying off on CPU.
MIN_ROWS, MAX_ROWS = 64, 8192


def rows_within(budget_bytes, row_bytes):
    """Rows per call whose activations fit ``budget_bytes``: a power of two.

    Parameters
    ----------
    budget_bytes : int
    row_bytes : int
        Estimated activation bytes of one row.

    Returns
    -------
    rows : int
        The largest power of two of rows within the budget, between
        :data:`MIN_ROWS` and :data:`MAX_ROWS`.

    Examples
    --------
    >>> from seqimportance._tensors import rows_within
    >>> rows_within(32 * 2**20, 16200), rows_within(2**20, 10**9)
    (2048, 64)
    """
    rows = int(budget_bytes) // max(1, int(row_bytes))
    rows = min(MAX_ROWS, max(MIN_ROWS, rows))
    return 1 << (rows.bit_length() - 1)
