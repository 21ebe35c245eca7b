"""Synthetic sequence data sets with known relevant inputs.

Each generator plants the answer that an importance method must find, so they
serve as oracles in tests, examples and benchmarks.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_seed_sequences", "make_lagged_regression"]


@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_timesteps": [Interval(numbers.Integral, 1, None, closed="left")],
        "threshold": [Interval(numbers.Real, None, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_seed_sequences(n_samples=1000, n_timesteps=10, *, threshold=0.25, random_state=None):
    """Classic benchmark for variable importance in recurrent networks.

    Three features are drawn uniformly from ``[0, 1)`` at every timestep, and
    the target of each timestep is ``1 if x1_t * x2_t < threshold else 0``.
    The first two features (``x1``, ``x2``; columns 0 and 1) decide the
    target and the third (``x3``; column 2) is pure noise, so any importance
    method must rank columns 0 and 1 far above column 2. This is the
    experiment of the widely read question on variable importance for RNNs
    and LSTMs, where Gaussian input perturbation of scale 0.2 gave 0.116,
    0.119 and 0.008 for x1, x2 and x3.

    With ``threshold=0.25`` about 60% of the targets are 1
    (``P = 1/4 + ln(4)/4``).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_timesteps : int, default=10
        Length of each sequence.
    threshold : float, default=0.25
        Threshold on the product ``x1 * x2``.
    random_state : int, RandomState instance or None, default=None
        Seed for the draw; pass an int for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, 3)
        Input sequences, float64.
    y : ndarray of shape (n_samples, n_timesteps)
        Per-timestep binary targets, int64.

    See Also
    --------
    make_lagged_regression : Regression target with relevant features at
        known lags.

    Examples
    --------
    >>> from seqimportance.datasets import make_seed_sequences
    >>> X, y = make_seed_sequences(200, n_timesteps=10, random_state=0)
    >>> X.shape, y.shape
    ((200, 10, 3), (200, 10))
    >>> bool(((X[:, :, 0] * X[:, :, 1] < 0.25) == y).all())
    True
    """
    rng = check_random_state(random_state)
    X = rng.uniform(0.0, 1.0, size=(n_samples, n_timesteps, 3))
    y = (X[:, :, 0] * X[:, :, 1] < threshold).astype(np.int64)
    return X, y


@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_timesteps": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_features": [Interval(numbers.Integral, 1, None, closed="left")],
        "lags": ["array-like"],
        "coef": ["array-like", None],
        "noise": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_coef": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_lagged_regression(
    n_samples=500,
    n_timesteps=10,
    n_features=4,
    *,
    lags=(0, 3),
    coef=None,
    noise=0.1,
    random_state=None,
    return_coef=False,
):
    """Regression on sequences whose target depends on known features at known lags.

    Inputs are independent standard normal draws. Feature ``j`` for
    ``j < len(lags)`` enters the target at lag ``lags[j]``, i.e. through the
    value at timestep ``n_timesteps - 1 - lags[j]``; all other features and
    timesteps are irrelevant::

        y = sum_j coef[j] * X[:, n_timesteps - 1 - lags[j], j] + noise * N(0, 1)

    Because the inputs are independent with unit variance, a model that
    learns the target exactly has permutation importance (mean squared error
    increase) ``2 * coef[j] ** 2`` for feature ``j`` and 0 for the rest.

    Parameters
    ----------
    n_samples : int, default=500
        Number of sequences.
    n_timesteps : int, default=10
        Length of each sequence.
    n_features : int, default=4
        Number of features; must be at least ``len(lags)``.
    lags : array-like of int, default=(0, 3)
        Lag of each relevant feature, ``0 <= lag < n_timesteps``; feature
        ``j`` is relevant at lag ``lags[j]``.
    coef : array-like of float or None, default=None
        Weight of each relevant feature; None means ``1, -1, 1, ...``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the target.
    random_state : int, RandomState instance or None, default=None
        Seed for the draw.
    return_coef : bool, default=False
        Whether to also return ``coef`` and the relevant timesteps.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Input sequences, float64.
    y : ndarray of shape (n_samples,)
        Target.
    coef : ndarray of shape (len(lags),)
        Only if ``return_coef``: the weights.
    timesteps : ndarray of shape (len(lags),)
        Only if ``return_coef``: the relevant timestep of each relevant
        feature, ``n_timesteps - 1 - lags``.

    See Also
    --------
    make_seed_sequences : The classic binary benchmark.

    Examples
    --------
    >>> from seqimportance.datasets import make_lagged_regression
    >>> X, y, coef, steps = make_lagged_regression(
    ...     100, n_timesteps=6, n_features=3, lags=(0, 2), random_state=0,
    ...     return_coef=True)
    >>> X.shape, y.shape, coef.tolist(), steps.tolist()
    ((100, 6, 3), (100,), [1.0, -1.0], [5, 3])
    """
    lags = np.asarray(lags, dtype=np.int64).ravel()
    if lags.size > n_features:
        raise ValueError(
            f"lags has {lags.size} entries but n_features={n_features}: each "
            "relevant feature needs its own column, so expected "
            f"len(lags) <= n_features."
        )
    if lags.size and (lags.min() < 0 or lags.max() >= n_timesteps):
        raise ValueError(
            f"lags must lie in [0, n_timesteps - 1] = [0, {n_timesteps - 1}]; "
            f"got {lags.tolist()}."
        )
    if coef is None:
        coef = np.where(np.arange(lags.size) % 2 == 0, 1.0, -1.0)
    else:
        coef = np.asarray(coef, dtype=np.float64).ravel()
        if coef.shape != lags.shape:
            raise ValueError(
                f"coef must have one weight per lag: expected shape {lags.shape}, "
                f"got {coef.shape}."
            )
    rng = check_random_state(random_state)
    X = rng.standard_normal(size=(n_samples, n_timesteps, n_features))
    timesteps = n_timesteps - 1 - lags
    y = X[:, timesteps, np.arange(lags.size)] @ coef
    y = y + noise * rng.standard_normal(n_samples)
    if return_coef:
        return X, y, coef, timesteps
    return X, y
