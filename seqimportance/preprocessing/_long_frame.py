"""Sequences from a long (tidy) table: one row per id and time."""

import warnings

import numpy as np
from sklearn.utils import Bunch

from ..core._masking import check_mask_value
from ..core._padding import pad_sequences

__all__ = ["from_long_frame"]


def from_long_frame(df, *, id, time, features=None, padding="post", mask_value=0.0):
    """Turn a long table into padded sequences, one per id, in time order.

    Each id's rows, sorted by ``time``, become one sequence of shape
    ``(n_rows_of_id, n_features)``; the sequences are padded to the longest
    with ``mask_value`` (:func:`pad_sequences`). The result feeds the
    wrappers and :class:`SequencePermutationImportance` (with
    ``mask_value=...`` and ``feature_names=result.feature_names``).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per (id, time), with the feature columns.
    id : str
        Column naming the sequence a row belongs to. The sequences are in
        the sorted order of the ids (``result.ids``).
    time : str
        Column giving the order of the rows within a sequence: numbers,
        dates or anything pandas can sort. Only the order is used, not the
        spacing of the times.
    features : list of str or None, default=None
        Feature columns, in the order of the last axis of ``X``; None uses
        every column except ``id`` and ``time``, in table order.
    padding : {"post", "pre"}, default="post"
        Pad after the sequences (real steps start at timestep 0) or before
        them (real steps end at the last timestep).
    mask_value : float, default=0.0
        Value of every feature at a padded timestep; give the same value to
        Keras's ``Masking`` layer (``model__mask_value``) and to
        :class:`SequencePermutationImportance`.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With the attributes:

        - ``X``: ndarray of shape (n_ids, max_length, n_features), float64;
        - ``ids``: ndarray of shape (n_ids,), the id of each sequence (align
          your targets with it);
        - ``feature_names``: ndarray of str (object dtype) of shape
          (n_features,);
        - ``lengths``: ndarray of int of shape (n_ids,), real timesteps of
          each sequence.

    Raises
    ------
    ValueError
        If a column is missing, a feature is not numeric, a feature, id or
        time is missing (NaN), or an (id, time) pair occurs twice.

    See Also
    --------
    pad_sequences : Pad a list of arrays.

    Notes
    -----
    A real row whose features all equal ``mask_value`` would be read as
    padding by Keras and by :class:`SequencePermutationImportance`; a
    warning says how many there are. Choose a ``mask_value`` that the data
    never takes at every feature at once.

    Examples
    --------
    >>> import pandas as pd
    >>> from seqimportance import from_long_frame
    >>> df = pd.DataFrame({
    ...     "patient": ["b", "a", "a", "b", "a"],
    ...     "hour": [0, 1, 0, 1, 2],
    ...     "heart_rate": [80.0, 71.0, 70.0, 82.0, 75.0],
    ...     "temp": [37.0, 36.6, 36.5, 37.2, 36.9],
    ... })
    >>> data = from_long_frame(df, id="patient", time="hour", mask_value=-1.0)
    >>> data.ids.tolist(), data.feature_names.tolist(), data.lengths.tolist()
    (['a', 'b'], ['heart_rate', 'temp'], [3, 2])
    >>> data.X[1]
    array([[80. , 37. ],
           [82. , 37.2],
           [-1. , -1. ]])
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            "df must be a pandas DataFrame with one row per (id, time); got "
            f"{type(df).__name__}."
        )
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post'; got {padding!r}.")
    mask_value = check_mask_value(mask_value)
    if mask_value is None:
        raise ValueError("mask_value must be a finite number; got None.")
    if features is None:
        features = [c for c in df.columns if c not in (id, time)]
    elif isinstance(features, str):
        features = [features]
    else:
        features = list(features)
    _check_columns(df, id, time, features)
    _check_numeric(df, features)
    for role, column in (("id", id), ("time", time)):
        if df[column].isna().any():
            raise ValueError(
                f"The {role} column {column!r} has missing values in "
                f"{int(df[column].isna().sum())} row(s); every row needs one."
            )
    missing = df[features].isna().any(axis=0)
    if missing.any():
        raise ValueError(
            "Features may not hold NaN (sequences are padded with mask_value, "
            "not with NaN); impute or drop them first. Columns with NaN: "
            f"{missing[missing].index.tolist()}."
        )
    duplicated = df.duplicated([id, time], keep="first")
    if duplicated.any():
        pairs = list(df.loc[duplicated, [id, time]].itertuples(index=False))[:5]
        shown = ", ".join(f"({a!r}, {b!r})" for a, b in pairs)
        raise ValueError(
            f"{int(duplicated.sum())} row(s) repeat an ({id}, {time}) pair, but "
            f"each sequence needs one row per time: {shown}. Aggregate the "
            "duplicates first (e.g. df.groupby([id, time]).mean())."
        )

    ordered = df.sort_values([id, time], kind="stable")
    id_values = ordered[id].to_numpy()
    starts = np.flatnonzero(
        np.concatenate([[True], id_values[1:] != id_values[:-1]])
    )
    values = ordered[features].to_numpy(dtype=np.float64)
    sequences = np.split(values, starts[1:])
    real_as_padding = int(np.all(values == mask_value, axis=1).sum())
    if real_as_padding:
        warnings.warn(
            f"{real_as_padding} row(s) have every feature equal to mask_value="
            f"{mask_value!r}: Keras's Masking and SequencePermutationImportance "
            "will read them as padding. Choose a mask_value outside the data.",
            UserWarning,
            stacklevel=2,
        )
    return Bunch(
        X=pad_sequences(sequences, padding=padding, mask_value=mask_value),
        ids=id_values[starts],
        feature_names=np.asarray([str(f) for f in features], dtype=object),
        lengths=np.array([len(s) for s in sequences], dtype=np.int64),
    )


def _check_columns(df, id, time, features):
    if not features:
        raise ValueError(
            "There are no feature columns: df has only the id and time columns "
            f"{[id, time]}."
        )
    for role, column in (("id", id), ("time", time)):
        if column in features:
            raise ValueError(
                f"The {role} column {column!r} cannot also be a feature."
            )
    missing = [c for c in [id, time, *features] if c not in df.columns]
    if missing:
        raise ValueError(
            f"df has no column(s) {missing}; its columns are "
            f"{df.columns.tolist()}."
        )


def _check_numeric(df, features):
    import pandas as pd

    bad = {
        c: str(df[c].dtype)
        for c in features
        if not (
            pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
        )
    }
    if bad:
        raise ValueError(
            "Features must be numeric; encode the other columns first (e.g. one "
            f"column per category). Non-numeric columns: {bad}."
        )
