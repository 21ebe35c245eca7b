"""Batches handed to TensorFlow without a copy, only where that is safe."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from seqimportance.core._buffers import ALIGNMENT, aligned_empty, shareable
from seqimportance.keras._tensors import as_tensor

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.tensorflow_backend


@pytest.mark.parametrize("shape", [(1000, 7, 3), (1, 1, 1), (0, 5, 2), (513, 64)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8"])
def test_aligned_empty_is_aligned_contiguous_and_of_its_shape(shape, dtype):
    for _ in range(5):  # several allocations: any offset of the raw buffer
        a = aligned_empty(shape, dtype)
        assert a.shape == shape and a.dtype == np.dtype(dtype)
        assert a.flags.c_contiguous and a.flags.writeable
        assert a.size == 0 or a.ctypes.data % ALIGNMENT == 0


def test_shared_tensor_reads_the_array_memory():
    x = aligned_empty((2048, 32, 8), np.float32)  # 2 MiB
    x[...] = np.arange(x.size, dtype=np.float32).reshape(x.shape)
    assert shareable(x)
    t = as_tensor(x)
    assert_array_equal(t.numpy(), x)
    x[3, 4, 5] = -1.0  # the tensor sees it: no copy was made
    assert float(t[3, 4, 5]) == -1.0


def _misaligned(shape):
    raw = np.empty(int(np.prod(shape)) * 4 + 2 * ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT + 4  # 4 bytes past a boundary
    return raw[offset : offset + int(np.prod(shape)) * 4].view(np.float32).reshape(
        shape
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: _misaligned((2048, 32, 8)), id="misaligned"),
        pytest.param(lambda: aligned_empty((8, 4, 2), np.float32), id="small"),
        pytest.param(
            lambda: aligned_empty((2048, 32, 16), np.float32)[:, :, :8],
            id="not-contiguous",
        ),
        pytest.param(lambda: aligned_empty((2048, 32, 8), np.int32), id="int"),
    ],
)
def test_other_arrays_are_copied(make):
    x = make()
    x[...] = 1
    assert not shareable(x)
    t = as_tensor(x)
    assert_array_equal(t.numpy(), x)
    x[0, 0, 0] = 7
    assert t.numpy()[0, 0, 0] == 1  # a copy


def test_read_only_array_is_copied():
    x = aligned_empty((2048, 32, 8), np.float32)
    x[...] = 2.0
    x.flags.writeable = False
    assert not shareable(x)
    assert_array_equal(as_tensor(x).numpy(), x)
