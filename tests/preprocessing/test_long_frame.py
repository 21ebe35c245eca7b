"""Long tables to padded sequences, and the padding helper."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, RegressorMixin

from seqimportance import SequencePermutationImportance, from_long_frame, pad_sequences

pd = pytest.importorskip("pandas")


def _long(seed=0, n_ids=6):
    """Rows of ids of different lengths, shuffled, with float times."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_ids):
        for t in range(k % 4 + 1):
            rows.append({"id": f"s{k}", "t": 0.5 * t, "a": rng.normal() + 5,
                         "b": rng.normal() - 5})
    df = pd.DataFrame(rows)
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


# ---------------------------------------------------------------- padding
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 5])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)) for n in (1, 4, 2, 3)]
    got = pad_sequences(
        seqs, maxlen=maxlen, padding=padding, truncating=truncating, mask_value=-1.0
    )
    expected = keras.utils.pad_sequences(
        seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=-1.0,
        dtype="float64",
    )
    assert_array_equal(got, expected)


def test_pad_sequences_keeps_the_callers_arrays_and_order():
    seqs = [np.arange(6.0).reshape(3, 2), np.array([[9.0, 9.0]])]
    before = [s.copy() for s in seqs]
    X = pad_sequences(seqs, padding="pre", mask_value=0.0)
    assert_array_equal(X[0], seqs[0])
    assert_array_equal(X[1], [[0, 0], [0, 0], [9, 9]])
    for s, b in zip(seqs, before):
        assert_array_equal(s, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sequences": []}, "non-empty list"),
        ({"sequences": [np.ones((2, 2)), np.ones((2, 3))]}, r"same number of features"),
        ({"sequences": [np.ones((0, 2))]}, r"sequences\[0\] has shape \(0, 2\)"),
        ({"sequences": [np.ones((2, 2))], "padding": "both"}, "padding must be"),
        ({"sequences": [np.ones((2, 2))], "truncating": "x"}, "truncating must be"),
        ({"sequences": [np.ones((2, 2))], "maxlen": 0}, "maxlen must be"),
    ],
)
def test_pad_sequences_errors(kwargs, match):
    sequences = kwargs.pop("sequences")
    with pytest.raises(ValueError, match=match):
        pad_sequences(sequences, **kwargs)


# -------------------------------------------------------------- long frames
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_long_frame_is_padded_in_time_order(padding):
    df = _long()
    data = from_long_frame(df, id="id", time="t", padding=padding, mask_value=0.0)
    assert data.ids.tolist() == [f"s{k}" for k in range(6)]
    assert data.feature_names.tolist() == ["a", "b"]
    assert_array_equal(data.lengths, [1, 2, 3, 4, 1, 2])
    assert data.X.shape == (6, 4, 2)
    for i, sid in enumerate(data.ids):
        expected = df[df["id"] == sid].sort_values("t")[["a", "b"]].to_numpy()
        L = len(expected)
        real = data.X[i, :L] if padding == "post" else data.X[i, 4 - L :]
        pad = data.X[i, L:] if padding == "post" else data.X[i, : 4 - L]
        assert_array_equal(real, expected)
        assert_array_equal(pad, 0.0)


def test_long_frame_features_and_datetimes():
    df = pd.DataFrame({
        "user": [2, 1, 1, 2],
        "when": pd.to_datetime(
            ["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01"]
        ),
        "x": [1.0, 2.0, 3.0, 4.0],
        "flag": [True, False, True, True],
        "ignored": ["a", "b", "c", "d"],
    })
    data = from_long_frame(df, id="user", time="when", features=["flag", "x"],
                           mask_value=-1.0)
    assert data.ids.tolist() == [1, 2]
    assert_array_equal(data.X, [[[1, 3], [0, 2]], [[1, 4], [1, 1]]])


def test_long_frame_feeds_the_importance_with_feature_names():
    rng = np.random.default_rng(0)
    rows = []
    for k in range(80):
        for t in range(rng.integers(2, 7)):
            rows.append((k, t, rng.normal(), rng.normal()))
    df = pd.DataFrame(rows, columns=["id", "t", "signal", "noise"])
    data = from_long_frame(df, id="id", time="t", mask_value=0.0)
    y = df.groupby("id")["signal"].sum().loc[data.ids].to_numpy()

    class RealSum(RegressorMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def predict(self, X):
            return np.asarray(X)[:, :, 0].sum(axis=1)

        def __sklearn_is_fitted__(self):
            return True

    imp = SequencePermutationImportance(
        RealSum(), scoring="r2", mask_value=0.0, feature_names=data.feature_names,
        random_state=0,
    ).fit(data.X, y)
    assert imp.unit_names_.tolist() == ["signal", "noise"]
    assert imp.feature_importances_[0] > 1.0
    assert imp.feature_importances_[1] == 0.0


@pytest.mark.parametrize(
    "change, kwargs, match",
    [
        (lambda df: df.drop(columns="t"), {}, r"no column\(s\) \['t'\]"),
        (lambda df: df, {"features": ["a", "zz"]}, r"no column\(s\) \['zz'\]"),
        (lambda df: pd.concat([df, df.iloc[:2]]), {}, r"2 row\(s\) repeat an"),
        (lambda df: df.assign(c=["u"] * len(df)), {}, r"Non-numeric columns: \{'c'"),
        (lambda df: df.assign(a=np.nan), {}, r"Columns with NaN: \['a'\]"),
        (lambda df: df.assign(t=np.nan), {}, "time column 't' has missing values"),
        (lambda df: df, {"features": ["a", "t"]}, "time column 't' cannot also"),
        (lambda df: df[["id", "t"]], {}, "no feature columns"),
        (lambda df: df, {"padding": "middle"}, "padding must be"),
        (lambda df: df, {"mask_value": np.nan}, "finite"),
    ],
)
def test_long_frame_errors(change, kwargs, match):
    with pytest.raises(ValueError, match=match):
        from_long_frame(change(_long()), id="id", time="t", **kwargs)


def test_long_frame_needs_a_dataframe():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        from_long_frame(np.zeros((3, 3)), id=0, time=1)


def test_rows_that_look_like_padding_warn():
    df = _long()
    df.loc[0, ["a", "b"]] = 0.0
    with pytest.warns(UserWarning, match=r"1 row\(s\) have every feature equal"):
        from_long_frame(df, id="id", time="t", mask_value=0.0)
