"""Padding a list of variable-length sequences into one 3-D array (numpy)."""

import numbers

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(
    sequences,
    *,
    maxlen=None,
    padding="post",
    truncating="pre",
    mask_value=0.0,
    dtype="float64",
):
    """Pad sequences of different lengths into one array of equal-length ones.

    The arguments of :func:`keras.utils.pad_sequences`, for sequences of
    feature vectors, without importing Keras: sequence ``i`` of shape
    ``(n_timesteps_i, n_features)`` fills ``n_timesteps_i`` rows of the
    result and the other rows are ``mask_value``, so that Keras's
    ``Masking(mask_value)`` layer and the ``mask_value`` of
    :class:`~seqimportance.SequencePermutationImportance` skip them.

    Parameters
    ----------
    sequences : list of array-like of shape (n_timesteps_i, n_features)
        The sequences; a 1-D sequence is one feature, ``(n_timesteps_i, 1)``.
        Each needs at least one timestep.
    maxlen : int or None, default=None
        Length of the result; None uses the longest sequence.
    padding : {"post", "pre"}, default="post"
        Pad after each sequence (``"post"``, so the real steps start at
        timestep 0) or before it (``"pre"``, so they end at the last
        timestep). Keras's default is ``"pre"``; ``"post"`` is the layout
        that Keras's cuDNN recurrent kernels accept with a mask.
    truncating : {"pre", "post"}, default="pre"
        Which end of a sequence longer than ``maxlen`` to drop: the start
        (``"pre"``, keeps the most recent steps) or the end.
    mask_value : float, default=0.0
        Value of every feature at a padded timestep. It should not be a
        value a real timestep takes at all its features: such a step would
        be read as padding.
    dtype : str or dtype, default="float64"
        Dtype of the result.

    Returns
    -------
    X : ndarray of shape (n_sequences, maxlen, n_features)
        The padded sequences.

    Raises
    ------
    ValueError
        If the sequences are empty, have different numbers of features, a
        sequence has no timestep, or an option is not one of the above.

    See Also
    --------
    from_long_frame : Sequences from a long table, padded with this function.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance import pad_sequences
    >>> X = pad_sequences([np.ones((2, 2)), 2 * np.ones((3, 2))], mask_value=-1.0)
    >>> X.shape
    (2, 3, 2)
    >>> X[0]
    array([[ 1.,  1.],
           [ 1.,  1.],
           [-1., -1.]])
    >>> pad_sequences([[1.0, 2.0], [3.0]], padding="pre")[:, :, 0]
    array([[1., 2.],
           [0., 3.]])
    """
    for name, value in (("padding", padding), ("truncating", truncating)):
        if value not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post'; got {value!r}.")
    if maxlen is not None and (
        isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral)
        or maxlen < 1
    ):
        raise ValueError(f"maxlen must be None or an int >= 1; got {maxlen!r}.")
    if isinstance(sequences, np.ndarray) and sequences.dtype != object:
        sequences = list(sequences)
    if not isinstance(sequences, (list, tuple)) or len(sequences) == 0:
        raise ValueError(
            "sequences must be a non-empty list of arrays of shape "
            f"(n_timesteps_i, n_features); got {type(sequences).__name__}."
        )
    arrays = []
    for i, seq in enumerate(sequences):
        seq = np.asarray(seq, dtype=dtype)
        if seq.ndim == 1:
            seq = seq[:, np.newaxis]
        if seq.ndim != 2 or seq.shape[0] == 0:
            raise ValueError(
                f"sequences[{i}] has shape {seq.shape}; each sequence must have "
                "shape (n_timesteps_i >= 1, n_features)."
            )
        arrays.append(seq)
    n_features = {a.shape[1] for a in arrays}
    if len(n_features) > 1:
        raise ValueError(
            "All sequences must have the same number of features; got "
            f"{sorted(n_features)}."
        )
    length = max(a.shape[0] for a in arrays) if maxlen is None else int(maxlen)
    X = np.full((len(arrays), length, n_features.pop()), mask_value, dtype=dtype)
    for i, seq in enumerate(arrays):
        seq = seq[-length:] if truncating == "pre" else seq[:length]
        if padding == "post":
            X[i, : len(seq)] = seq
        else:
            X[i, length - len(seq) :] = seq
    return X
