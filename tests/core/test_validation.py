import numpy as np
import pytest
import scipy.sparse as sp

from seqimportance.core._validation import (
    as_input_ndim,
    check_sequence_shape,
    check_sequences,
)


def test_2d_is_one_timestep_per_sample():
    X = np.arange(12.0).reshape(4, 3)
    X3 = check_sequences(X)
    assert X3.shape == (4, 1, 3)
    np.testing.assert_array_equal(X3[:, 0, :], X)
    np.testing.assert_array_equal(as_input_ndim(X3, 2), X)


def test_3d_passes_through_without_copy():
    X = np.random.RandomState(0).rand(5, 4, 2)
    X3 = check_sequences(X)
    assert X3.shape == (5, 4, 2)
    assert np.shares_memory(X3, X)
    assert not np.shares_memory(check_sequences(X, copy=True), X)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4, 5)])
def test_wrong_ndim_names_shapes(shape):
    with pytest.raises(ValueError, match=r"X must be a 3-D array .*got an array of shape"):
        check_sequences(np.zeros(shape))


def test_wrong_ndim_from_list():
    with pytest.raises(ValueError, match=r"shape \(3,\) \(1-D\)"):
        check_sequences([1.0, 2.0, 3.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rejected(bad):
    X = np.zeros((3, 2, 2))
    X[1, 1, 1] = bad
    with pytest.raises(ValueError, match="X contains"):
        check_sequences(X)


def test_empty_and_sparse_rejected():
    with pytest.raises(ValueError, match="0 sample"):
        check_sequences(np.zeros((0, 2, 3)))
    with pytest.raises(ValueError, match="at least one timestep"):
        check_sequences(np.zeros((3, 0, 2)))
    with pytest.raises(TypeError, match="dense data is required"):
        check_sequences(sp.csr_matrix(np.eye(3)))


def test_shape_check_names_expected_shape():
    X3 = np.zeros((2, 5, 3))
    check_sequence_shape(X3, 5, 3)
    with pytest.raises(ValueError, match=r"4 features.*expected \(n_samples, 5, 4\)"):
        check_sequence_shape(X3, 5, 4)
    with pytest.raises(ValueError, match=r"5 timesteps.*expected \(n_samples, 6, 3\)"):
        check_sequence_shape(X3, 6, 3)
    check_sequence_shape(X3, None, 3)
