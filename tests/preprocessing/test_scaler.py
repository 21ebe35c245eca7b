"""SequenceScaler against StandardScaler and closed forms."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from seqimportance import SequenceScaler


@pytest.fixture
def X():
    rng = np.random.RandomState(0)
    # Features on very different scales and offsets.
    return rng.normal(size=(30, 7, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -3.0]


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
def test_equals_standard_scaler_on_the_flattened_timesteps(X, with_mean, with_std):
    params = dict(with_mean=with_mean, with_std=with_std)
    flat = X.reshape(-1, 3)
    reference = StandardScaler(**params).fit(flat)
    scaler = SequenceScaler(**params).fit(X)
    Xt = scaler.transform(X)
    assert Xt.shape == X.shape
    np.testing.assert_allclose(Xt.reshape(-1, 3), reference.transform(flat))
    if with_mean or with_std:
        np.testing.assert_allclose(scaler.mean_, reference.mean_)
    if with_std:
        np.testing.assert_allclose(scaler.var_, reference.var_)
        np.testing.assert_allclose(scaler.scale_, reference.scale_)
    else:
        assert scaler.var_ is None and scaler.scale_ is None
    assert scaler.n_samples_seen_ == 30 * 7


def test_closed_form_statistics(X):
    Xt = SequenceScaler().fit_transform(X)
    np.testing.assert_allclose(Xt.mean(axis=(0, 1)), 0.0, atol=1e-12)
    np.testing.assert_allclose(Xt.std(axis=(0, 1)), 1.0)
    # Per-feature statistics over samples and timesteps, not per timestep.
    assert not np.allclose(Xt.mean(axis=0), 0.0)


def test_two_d_input_is_one_timestep_and_returned_two_d(X):
    X2 = X[:, 0, :]
    scaler = SequenceScaler().fit(X2)
    Xt = scaler.transform(X2)
    assert Xt.ndim == 2
    np.testing.assert_allclose(Xt, StandardScaler().fit_transform(X2))
    # A scaler fitted on 2-D data transforms sequences of any length.
    assert scaler.transform(X).shape == X.shape


def test_inverse_transform_round_trip(X):
    scaler = SequenceScaler().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.transform(X[:, 2, :])), X[:, 2, :]
    )


def test_other_sequence_lengths_are_transformed_with_the_same_statistics(X):
    scaler = SequenceScaler().fit(X)
    short = scaler.transform(X[:, :2, :])
    np.testing.assert_allclose(short, scaler.transform(X)[:, :2, :])


def test_partial_fit_equals_fit(X):
    scaler = SequenceScaler()
    for batch in (X[:10], X[10:25, :3], X[25:]):  # batches of different lengths
        scaler.partial_fit(batch)
    flat = np.concatenate(
        [X[:10].reshape(-1, 3), X[10:25, :3].reshape(-1, 3), X[25:].reshape(-1, 3)]
    )
    np.testing.assert_allclose(scaler.mean_, flat.mean(axis=0))
    np.testing.assert_allclose(scaler.var_, flat.var(axis=0))
    assert scaler.n_samples_seen_ == len(flat)


def test_constant_feature_is_centred_not_divided(X):
    X = X.copy()
    X[:, :, 1] = 4.0
    scaler = SequenceScaler().fit(X)
    assert scaler.scale_[1] == 1.0
    np.testing.assert_array_equal(scaler.transform(X)[:, :, 1], 0.0)


def test_float32_is_preserved_and_input_not_modified(X):
    X32 = X.astype(np.float32)
    before = X32.copy()
    Xt = SequenceScaler().fit(X32).transform(X32)
    assert Xt.dtype == np.float32
    np.testing.assert_array_equal(X32, before)


def test_copy_false_transforms_in_place(X):
    X = X.copy()
    Xt = SequenceScaler(copy=False).fit(X).transform(X)
    assert np.shares_memory(Xt, X)


def test_feature_names_out(X):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X[:, 0, :], columns=["a", "b", "c"])
    scaler = SequenceScaler().fit(df)
    np.testing.assert_array_equal(scaler.get_feature_names_out(), ["a", "b", "c"])
    np.testing.assert_array_equal(
        SequenceScaler().fit(X).get_feature_names_out(), ["x0", "x1", "x2"]
    )


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((4, 5, 2)), ValueError,
         r"X has 2 features, but SequenceScaler is expecting 3 features"),
        (np.zeros((4, 5, 3, 1)), ValueError, r"got an array of shape \(4, 5, 3, 1\)"),
    ],
)
def test_transform_errors(X, bad, error, match):
    scaler = SequenceScaler().fit(X)
    with pytest.raises(error, match=match):
        scaler.transform(bad)
    with pytest.raises(error, match=match):
        scaler.inverse_transform(bad)


def test_parameter_validation(X):
    with pytest.raises(ValueError, match="The 'with_mean' parameter of SequenceScaler"):
        SequenceScaler(with_mean="yes").fit(X)


def test_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from seqimportance import SequenceScaler\n"
        "SequenceScaler().fit_transform(np.ones((3, 2, 2)))\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
