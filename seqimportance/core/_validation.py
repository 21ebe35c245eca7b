"""Validation of sequence input shared by every layer of the package.

One convention holds everywhere: a 3-D array is ``(n_samples, n_timesteps,
n_features)``; a 2-D array ``(n_samples, n_features)`` is read as one timestep
per sample, ``(n_samples, 1, n_features)``.
"""

import numpy as np
from sklearn.utils.validation import check_array

__all__ = [
    "to_estimator_input","check_sequences", "check_sequence_shape", "as_input_ndim"]

def check_sequences(
    X,
    *,
    input_name="X",
    dtype=(np.float64, np.float32),
    ensure_all_finite=True,
    copy=False,
    estimator=None,
):
    """Validate sequence input and return it as a 3-D float array.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
            (n_samples, n_features)
        Sequences. A 2-D array is read as one timestep per sample.
    input_name : str, default="X"
        Name used in error messages.
    dtype : dtype, tuple of dtypes or None, default=(np.float64, np.float32)
        Accepted dtypes; input of another dtype is converted to the first.
    ensure_all_finite : bool, default=True
        Whether to raise on NaN or infinite values.
    copy : bool, default=False
        Whether to force a copy. Without a copy the result may share memory
        with ``X``; callers that write into it must ask for one.
    estimator : estimator instance or str, default=None
        Used in error messages.

    Returns
    -------
    X_3d : ndarray of shape (n_samples, n_timesteps, n_features)
        The validated sequences.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or 3-D, is empty, or holds NaN or inf.
    TypeError
        If ``X`` is a sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._validation import check_sequences
    >>> check_sequences(np.zeros((4, 3))).shape
    (4, 1, 3)
    >>> check_sequences(np.zeros((4, 5, 3))).shape
    (4, 5, 3)
    """
    if hasattr(X, "ndim") and not hasattr(X, "toarray") and X.ndim not in (2, 3):
        raise ValueError(_ndim_message(input_name, X.shape))
    X = check_array(
        X,
        accept_sparse=False,
        dtype=dtype,
        ensure_all_finite=ensure_all_finite,
        ensure_2d=False,
        allow_nd=True,
        ensure_min_samples=1,
        copy=copy,
        input_name=input_name,
        estimator=estimator,
    )
    if X.ndim not in (2, 3):
        raise ValueError(_ndim_message(input_name, X.shape))
    if X.ndim == 2:
        X = X[:, np.newaxis, :]
    if X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(
            f"{input_name} has shape {X.shape}: expected at least one timestep "
            "and one feature, (n_samples, n_timesteps >= 1, n_features >= 1)."
        )
    return X


def _ndim_message(input_name, shape):
    message = (
        f"{input_name} must be a 3-D array (n_samples, n_timesteps, n_features) "
        "or a 2-D array (n_samples, n_features), read as one timestep per "
        f"sample; got an array of shape {tuple(shape)} ({len(shape)}-D)."
    )
    if len(shape) == 1:
        message += (
            " Reshape your data with .reshape(-1, 1) if it holds a single "
            "feature or .reshape(1, -1) if it holds a single sample."
        )
    return message


def check_sequence_shape(X_3d, n_timesteps, n_features, *, input_name="X", fitted_on=""):
    """Check that ``X_3d`` has the timesteps and features seen in fit.

    Parameters
    ----------
    X_3d : ndarray of shape (n_samples, n_timesteps, n_features)
        Sequences, as returned by :func:`check_sequences`.
    n_timesteps : int or None
        Expected number of timesteps; None accepts any length.
    n_features : int
        Expected number of features.
    input_name : str, default="X"
        Name used in error messages.
    fitted_on : str, default=""
        Name of the estimator, used in error messages.

    Raises
    ------
    ValueError
        If the shapes differ, naming both.
    """
    _, t, f = X_3d.shape
    who = f"{fitted_on} " if fitted_on else ""
    if f != n_features:
        raise ValueError(
            f"{input_name} has {f} features, but {who}is expecting {n_features} "
            f"features as input (got shape {X_3d.shape}, expected "
            f"(n_samples, {n_timesteps if n_timesteps is not None else 'n_timesteps'}, "
            f"{n_features}))."
        )
    if n_timesteps is not None and t != n_timesteps:
        raise ValueError(
            f"{input_name} has {t} timesteps, but {who}was fitted on sequences of "
            f"{n_timesteps} timesteps (got shape {X_3d.shape}, expected "
            f"(n_samples, {n_timesteps}, {n_features}))."
        )


def as_input_ndim(X_3d, ndim):
    """Return ``X_3d`` in the layout the caller gave: 3-D, or 2-D when ``ndim == 2``.

    A 2-D caller array was read as ``(n, 1, F)``; this undoes that reshape so
    a plain tabular estimator receives ``(n, F)`` again.
    """
    if ndim == 2:
        return X_3d.reshape(X_3d.shape[0], X_3d.shape[2])
    return X_3d


def to_estimator_input(X_3d, input_ndim, feature_names=None):
    """Give sequences back in the caller's layout.

    A 2-D caller gets ``(n, F)`` again, as a DataFrame with its columns when it
    fitted on a DataFrame (``feature_names``), so that the estimator sees the
    same kind of input as in fit.
    """
    X = as_input_ndim(X_3d, input_ndim)
    if feature_names is not None and input_ndim == 2:
        import pandas as pd

        X = pd.DataFrame(X, columns=feature_names, copy=False)
    return X
