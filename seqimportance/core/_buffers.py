"""Buffers of the importance loop: aligned batches and memory-bounded batch sizes.

The evaluator writes every perturbed copy into a batch allocated by
:func:`aligned_empty`, aligned to :data:`ALIGNMENT` bytes, so that a compiled
predictor can hand the batch to its framework without a copy where
:func:`shareable` says so (see :mod:`seqimportance.keras._tensors`).
:func:`rows_within` sizes the batches of one compiled call by a memory budget,
and :func:`release_free_memory` hands the memory that the C heap keeps after
a burst of allocations (an XLA compile, the plain graph's activations) back to
the system. Pure numpy and the standard library.
"""

import ctypes
import ctypes.util
import sys

import numpy as np

__all__ = [
    "ALIGNMENT",
    "aligned_empty",
    "release_free_memory",
    "rows_within",
    "prefix_sub_batches",
    "shareable",
    "sub_batch_rows",
]

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
    >>> from seqimportance.core._buffers import ALIGNMENT, aligned_empty
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
    >>> from seqimportance.core._buffers import rows_within
    >>> rows_within(32 * 2**20, 16200), rows_within(2**20, 10**9)
    (2048, 64)
    """
    rows = int(budget_bytes) // max(1, int(row_bytes))
    rows = min(MAX_ROWS, max(MIN_ROWS, rows))
    return 1 << (rows.bit_length() - 1)


_LIBC = {}


def release_free_memory():
    """Return the free memory of the C heap to the system, where glibc can.

    The memory that a compile or a forward pass frees stays in glibc's heaps
    (one per thread that allocated it) until ``malloc_trim`` gives it back;
    the next burst of allocations, of other sizes or in another thread, would
    otherwise come on top. Elsewhere than on glibc, nothing is done.

    Returns
    -------
    released : bool
        Whether ``malloc_trim`` ran and released some memory.

    Examples
    --------
    >>> from seqimportance.core._buffers import release_free_memory
    >>> release_free_memory() in (True, False)
    True
    """
    if "trim" not in _LIBC:
        _LIBC["trim"] = None
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                trim = libc.malloc_trim
                trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
                _LIBC["trim"] = trim
            except (OSError, AttributeError):  # not glibc (musl, ...)
                pass
    trim = _LIBC["trim"]
    return bool(trim(0)) if trim is not None else False


def sub_batch_rows(n_rows, batch_size):
    """Rows of each sub-batch when ``n_rows`` are cut into equal ones of <= B rows.

    ``k = ceil(n_rows / B)`` sub-batches of ``ceil(n_rows / k)`` rows,
    rounded up to a multiple of 8 (the last one is padded): the chunks of one
    fit have one or two sizes, so one or two shapes are compiled, with next
    to no padding.

    Parameters
    ----------
    n_rows : int
    batch_size : int

    Returns
    -------
    rows : int

    Examples
    --------
    >>> from seqimportance.core._buffers import sub_batch_rows
    >>> sub_batch_rows(10000, 8192), sub_batch_rows(100, 8192)
    (5000, 104)
    """
    n_batches = -(-n_rows // batch_size)
    rows = -(-n_rows // n_batches)
    return min(batch_size, -(-rows // 8) * 8)


def prefix_sub_batches(batch, first_steps, n, size, states):
    """The sub-batches of the prefix path: copies sorted by first perturbed step.

    Used by both prefix runners (``seqimportance.keras._prefix`` and
    ``_jax_prefix``). The rows of the stacked copies are sorted by the first
    perturbed step of their copy and cut into sub-batches of ``size`` rows;
    a sub-batch runs from the first step of its earliest row (the others are
    unperturbed there), and the last one is padded with its own real rows.

    Parameters
    ----------
    batch : ndarray of shape (n_copies * n, T, F)
        Copy ``j`` in rows ``j * n`` to ``(j + 1) * n``.
    first_steps : array-like of int, shape (n_copies,)
    n : int
        Rows of one copy (samples of the reference).
    size : int
        Rows of every sub-batch.
    states : list of ndarray of shape (n, T, width)
        Every state of the reference at every step.

    Yields
    ------
    picked : ndarray of int
        The rows of ``batch`` that the sub-batch's first ``len(picked)`` rows
        hold.
    start : int
        The step it runs from.
    x : ndarray of shape (size, T, F)
        Its rows: a view of ``batch`` where they are one full block.
    init : list of ndarray of shape (size, width)
        The states before ``start`` (zeros from step 0).
    samples : ndarray of int, shape (size,)
        The reference sample of each row.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._buffers import prefix_sub_batches
    >>> batch = np.zeros((6, 4, 1))  # 3 copies of 2 samples
    >>> states = [np.zeros((2, 4, 3))]
    >>> [(p.tolist(), start) for p, start, *_ in
    ...  prefix_sub_batches(batch, [2, 0, 1], 2, 4, states)]
    [([2, 3, 4, 5], 0), ([0, 1], 2)]
    """
    first_steps = np.asarray(first_steps, dtype=np.int64)
    start_of_row = np.repeat(first_steps, n)
    order = np.argsort(start_of_row, kind="stable")
    for a in range(0, len(order), size):
        picked = order[a : a + size]
        start = int(start_of_row[picked[0]])
        first, m = int(picked[0]), len(picked)
        picked_rows = picked[np.arange(size) % m] if m < size else picked
        in_order = bool(np.all(np.diff(picked) == 1))
        if in_order and m == size:  # no gather, no copy
            x = batch[first : first + m]
        else:
            x = aligned_empty((size,) + batch.shape[1:], batch.dtype)
            if in_order:  # one block copy, then the padding rows
                x[:m] = batch[first : first + m]
                np.take(batch, picked_rows[m:], axis=0, out=x[m:])
            else:
                np.take(batch, picked_rows, axis=0, out=x)
        samples = picked_rows % n
        if start > 0:
            init = [np.ascontiguousarray(s[samples, start - 1]) for s in states]
        else:
            init = [np.zeros((size, s.shape[2]), s.dtype) for s in states]
        yield picked, start, x, init, samples
