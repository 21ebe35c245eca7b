"""Padding of variable-length sequences (pure numpy).

Sequences of different lengths are padded to one length with a
``mask_value``. As in Keras's ``Masking`` layer, a timestep of a sample is
*padding* when all its features equal ``mask_value``, wherever it lies
(before the sequence, after it, or inside it); every other timestep is
*real*. A :class:`PaddingMask` holds the real timesteps of the evaluated
data, computed once; the perturbations and the effects receive it as data:

- a perturbed copy keeps every padded position bit-identical to the input
  (:func:`~seqimportance.core._perturbation.perturb_unit` puts them back after
  any perturbation);
- ``"shuffle"`` draws each sample's values from a *donor* that is real at
  all of the sample's real positions of the unit (:meth:`UnitPadding.donors`),
  so no padded value ever moves into a real position;
- ``"time_shuffle"`` permutes the real positions only (:func:`time_shuffle`);
- ``"mean"`` and relative noise scales use statistics of real steps only
  (:func:`real_step_values`).
"""

import numbers
import warnings

import numpy as np

__all__ = [
    "MIN_SUPPORT",
    "PaddingMask",
    "UnitPadding",
    "check_mask_value",
    "padding_mask",
    "real_step_values",
    "time_shuffle",
    "unit_support",
    "warn_low_support",
]

# Units real in fewer samples than this get a warning: their importance is an
# average over a handful of samples.
MIN_SUPPORT = 10


def check_mask_value(mask_value):
    """Validate ``mask_value``: None or a finite real number."""
    if mask_value is None:
        return None
    if isinstance(mask_value, bool) or not isinstance(mask_value, numbers.Real):
        raise ValueError(
            "mask_value must be None or a real number (the value of every feature "
            f"at a padded timestep); got {mask_value!r}."
        )
    if not np.isfinite(mask_value):
        raise ValueError(
            f"mask_value must be a finite number; got {mask_value!r}. X may not "
            "hold NaN or infinite values, so pad with a finite value (0.0, or one "
            "outside the range of the data, such as -1.0 for scaled features)."
        )
    return mask_value


def padding_mask(X, mask_value, *, input_name="X"):
    """Real timesteps of ``X``: True where a step is not padding.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Sequences, as returned by
        :func:`~seqimportance.core._validation.check_sequences`.
    mask_value : float or None
        A step whose features all equal ``mask_value`` (in the dtype of
        ``X``, as Keras compares) is padding. None: no padding.
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    valid : ndarray of bool of shape (n_samples, n_timesteps) or None
        None when ``mask_value`` is None.

    Raises
    ------
    ValueError
        If a sample is padding at every timestep.

    Examples
    --------
    >>> import numpy as np
    >>> from seqimportance.core._masking import padding_mask
    >>> X = np.array([[[1.0, 2.0], [0.0, 0.0]], [[0.0, 3.0], [4.0, 0.0]]])
    >>> padding_mask(X, 0.0)
    array([[ True, False],
           [ True,  True]])
    """
    mask_value = check_mask_value(mask_value)
    if mask_value is None:
        return None
    valid = np.any(X != X.dtype.type(mask_value), axis=2)
    empty = np.flatnonzero(~valid.any(axis=1))
    if empty.size:
        shown = ", ".join(str(i) for i in empty[:10]) + (
            ", ..." if empty.size > 10 else ""
        )
        raise ValueError(
            f"{input_name} has {empty.size} sample(s) that are padding at every "
            f"timestep (all features equal mask_value={mask_value!r}): sample "
            f"index {shown}. Remove empty sequences before computing importances."
        )
    return valid


def real_step_values(X, valid):
    """The ``(n_real_steps, n_features)`` values of the real steps of ``X``.

    All steps, ``X.reshape(-1, n_features)``, when ``valid`` is None.
    """
    if valid is None:
        return X.reshape(-1, X.shape[2])
    return X[valid]


def unit_support(valid, units, n_samples):
    """Number of samples real at one or more of each unit's timesteps."""
    if valid is None:
        return np.full(len(units), n_samples, dtype=np.int64)
    return np.array(
        [int(valid[:, timesteps].any(axis=1).sum()) for timesteps, _ in units],
        dtype=np.int64,
    )


def warn_low_support(names, support, n_samples):
    """Warn about units that padding leaves with fewer than MIN_SUPPORT samples."""
    low = np.flatnonzero((support < n_samples) & (support < MIN_SUPPORT))
    if low.size:
        shown = ", ".join(
            f"{names[u]} ({support[u]})" for u in low[:8]
        ) + (", ..." if low.size > 8 else "")
        warnings.warn(
            f"{low.size} unit(s) are real in fewer than {MIN_SUPPORT} samples of "
            f"{n_samples}, so their importance averages over few samples: {shown}. "
            "See unit_support_.",
            UserWarning,
            stacklevel=3,
        )


class PaddingMask:
    """The real timesteps of one fold's data, shared by its units.

    Parameters
    ----------
    valid : ndarray of bool of shape (n_samples, n_timesteps)
        True at real timesteps.
    """

    def __init__(self, valid):
        self.valid = valid
        self._units = {}

    @classmethod
    def from_data(cls, X, mask_value):
        """The mask of ``X``, or None when it has no padding at all.

        Without padded steps every computation is exactly the unmasked one.
        """
        valid = padding_mask(X, mask_value)
        if valid is None or valid.all():
            return None
        return cls(valid)

    def unit(self, timesteps):
        """The :class:`UnitPadding` of a unit's timesteps, or None without padding."""
        key = tuple(np.asarray(timesteps).tolist())
        if key not in self._units:
            valid = self.valid[:, list(key)]
            self._units[key] = None if valid.all() else UnitPadding(valid)
        return self._units[key]

    def take(self, rows):
        """The mask of a subset of the samples (None if it has no padding)."""
        valid = self.valid[rows]
        return None if valid.all() else PaddingMask(valid)


class UnitPadding:
    """Real positions of one unit's timesteps, and the donors of its shuffle.

    Parameters
    ----------
    valid : ndarray of bool of shape (n_samples, n_unit_timesteps)
        True where a sample is real at a timestep of the unit.
    """

    def __init__(self, valid):
        self.valid = valid
        real = valid.any(axis=1)
        #: Samples real at one or more of the unit's timesteps (None: all).
        self.rows = None if real.all() else np.flatnonzero(real)
        self._eligible = None

    def _donor_sets(self):
        # Samples with the same real positions share one set of eligible
        # donors: those real wherever they are (the samples at least as long,
        # for pre- or post-padded data).
        if self._eligible is None:
            patterns, inverse = np.unique(self.valid, axis=0, return_inverse=True)
            eligible = [
                np.flatnonzero(self.valid[:, pattern].all(axis=1))
                for pattern in patterns
            ]
            self._eligible = (inverse.reshape(-1), eligible)
        return self._eligible

    def donors(self, rng):
        """Draw the donor of every sample for one shuffle.

        A random permutation of the samples, as in the unmasked shuffle; a
        sample whose drawn donor is padding at one of its real positions
        instead draws a donor uniformly among the samples real at all of
        them (itself included, so a sample without another such donor keeps
        its values).

        Returns
        -------
        donor : ndarray of int of shape (n_samples,)
        """
        valid = self.valid
        donor = rng.permutation(valid.shape[0])
        covered = (valid[donor] | ~valid).all(axis=1)
        if covered.all():
            return donor
        inverse, eligible = self._donor_sets()
        redraw = np.flatnonzero(~covered)
        groups = inverse[redraw]
        for pattern in np.unique(groups):
            who = redraw[groups == pattern]
            pool = eligible[pattern]
            donor[who] = pool[rng.integers(pool.size, size=who.size)]
        return donor


def time_shuffle(values, rng, valid=None):
    """Permute each sample's values along time, the same way for its features.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_unit_timesteps, n_unit_features)
    rng : numpy.random.Generator
    valid : ndarray of bool of shape (n_samples, n_unit_timesteps) or None
        Real positions: only they are permuted, among themselves; padded
        positions keep their values. None: every position is real.

    Returns
    -------
    ndarray of the shape of ``values``
    """
    n, k = values.shape[:2]
    keys = rng.random((n, k))
    rows = np.arange(n)[:, np.newaxis]
    if valid is None:
        return values[rows, np.argsort(keys, axis=1)]
    # Real positions sort first, in random order; padded ones after, in place
    # order (stable sort of infinite keys). Real targets are the real
    # positions in time order, so each real value lands on a real position.
    keys[~valid] = np.inf
    order = np.argsort(keys, axis=1, kind="stable")
    targets = np.argsort(~valid, axis=1, kind="stable")
    out = np.empty_like(values)
    out[rows, targets] = values[rows, order]
    return out
