"""Units and perturbations of sequence input (pure numpy).

A *unit* is what one importance value is about: a set of timesteps and a set
of features of ``X[:, timesteps, features]``, perturbed together. One feature
at all timesteps, one timestep (or a window of consecutive timesteps) at all
features, one ``(timestep, feature)`` cell (or window), or a named group of
features.

A *perturbation* takes the unit's values for a batch of samples, shaped
``(n_samples, n_unit_timesteps, n_unit_features)``, and a
:class:`numpy.random.Generator`, and returns new values of the same shape.
Nothing here knows about estimators, scorers or Keras. Padding
(``mask_value``) arrives as data, a
:class:`~seqimportance.core._masking.UnitPadding` per unit, see
:mod:`seqimportance.core._masking`.
"""

import numbers
import zlib

import numpy as np

from ._conditional import ConditionalDraws
from ._masking import real_step_values, time_shuffle

__all__ = [
    "first_perturbed_steps",
    "DETERMINISTIC_PERTURBATIONS",
    "NOISE_PERTURBATIONS",
    "PERTURBATIONS",
    "Perturbation",
    "check_perturbation_units",
    "group_seed_keys",
    "make_units",
    "perturb_unit",
    "timestep_label",
    "unit_index",
]

PERTURBATIONS = (
    "shuffle", "time_shuffle", "gaussian", "uniform", "zero", "mean", "conditional"
)
NOISE_PERTURBATIONS = ("gaussian", "uniform")
DETERMINISTIC_PERTURBATIONS = ("zero", "mean")
AXES = ("feature", "timestep", "both")


# --------------------------------------------------------------------- units
def make_units(
    n_timesteps,
    n_features,
    *,
    axis="feature",
    groups=None,
    feature_names=None,
    window=1,
):
    """Return the names and index sets of the units to perturb.

    Parameters
    ----------
    n_timesteps, n_features : int
        Shape of one sequence.
    axis : {"feature", "timestep", "both"}, default="feature"
        ``"feature"``: one unit per feature, all its timesteps together.
        ``"timestep"``: one unit per timestep, all features together.
        ``"both"``: one unit per ``(timestep, feature)`` cell, unit index
        ``t * n_features + f``.
        With ``window=k`` a timestep is a block of ``k`` consecutive
        timesteps instead (``t`` then counts blocks).
    groups : dict or None, default=None
        Name -> feature indices perturbed together at all timesteps; the
        units are the groups, in dict order. Only with ``axis="feature"``.
    feature_names : array-like of str or None, default=None
        Names of the features; ``"x0", "x1", ...`` when None.
    window : int, default=1
        Timesteps per block for ``axis="timestep"`` and ``axis="both"``:
        blocks ``[0, k)``, ``[k, 2k)``, ..., the last one possibly shorter,
        named ``"t0-t4"``, ``"t5-t9"``, ... (``"t3"`` for one timestep).

    Returns
    -------
    names : ndarray of str of shape (n_units,)
    units : list of (timesteps, features) ndarray pairs
        Sorted, unique int64 indices of each unit.
    """
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}; got {axis!r}.")
    blocks = _time_blocks(n_timesteps, window, axis)
    if feature_names is None:
        feature_names = [f"x{f}" for f in range(n_features)]
    feature_names = [str(name) for name in np.asarray(feature_names).ravel()]
    if len(feature_names) != n_features:
        raise ValueError(
            f"feature_names has {len(feature_names)} names; X has {n_features} "
            "features (last axis), and each needs one name."
        )
    all_t = np.arange(n_timesteps)
    all_f = np.arange(n_features)
    if groups is not None:
        if axis != "feature":
            raise ValueError(
                "groups perturb features at all timesteps together, so they need "
                f"axis='feature'; got axis={axis!r} with groups."
            )
        names, units = [], []
        for name, features in check_groups(groups, n_features).items():
            names.append(str(name))
            units.append((all_t, features))
    elif axis == "feature":
        names = feature_names
        units = [(all_t, np.array([f])) for f in range(n_features)]
    elif axis == "timestep":
        names = [timestep_label(block) for block in blocks]
        units = [(block, all_f) for block in blocks]
    else:
        names = [
            f"{feature_names[f]}@{timestep_label(block)}"
            for block in blocks
            for f in range(n_features)
        ]
        units = [(block, np.array([f])) for block in blocks for f in range(n_features)]
    return np.asarray(names, dtype=str), units


def _time_blocks(n_timesteps, window, axis):
    """Timestep indices of each block of ``window`` consecutive timesteps."""
    if (
        isinstance(window, bool)
        or not isinstance(window, numbers.Integral)
        or window < 1
    ):
        raise ValueError(
            f"window must be an int >= 1 (timesteps per unit); got {window!r}."
        )
    if window > 1 and axis == "feature":
        raise ValueError(
            "window groups consecutive timesteps into one unit, so it needs "
            f"axis='timestep' or axis='both'; got axis='feature' with window={window}."
        )
    if window > n_timesteps:
        raise ValueError(
            f"window={window} is longer than the sequences, which have "
            f"{n_timesteps} timesteps; choose a window in [1, {n_timesteps}]."
        )
    return [
        np.arange(start, min(start + window, n_timesteps))
        for start in range(0, n_timesteps, window)
    ]


def timestep_label(timesteps):
    """``"t3"`` for one timestep, ``"t10-t14"`` for a block of them."""
    timesteps = np.asarray(timesteps).ravel()
    first, last = int(timesteps[0]), int(timesteps[-1])
    return f"t{first}" if first == last else f"t{first}-t{last}"


def check_perturbation_units(kind, units):
    """Reject ``"time_shuffle"`` when no unit has two timesteps to reorder."""
    if kind == "time_shuffle" and all(len(timesteps) < 2 for timesteps, _ in units):
        raise ValueError(
            "perturbation='time_shuffle' permutes a unit's values along time, but "
            "every unit here spans a single timestep (axis='timestep' or 'both' "
            "with window=1, or sequences of one timestep), so it would change "
            "nothing. Use axis='feature' or groups (the order of a variable), or "
            "window > 1 (the order within a period)."
        )


def group_seed_keys(units):
    """Seed keys of group units from their features, not their position.

    A group is then perturbed with the same random numbers whatever the order
    of the ``groups`` dict. Keys start at ``2**32``, above any unit position.
    """
    return [
        (1 << 32) + zlib.crc32(np.asarray(features, dtype=np.int64).tobytes())
        for _, features in units
    ]


def check_groups(groups, n_features):
    """Validate ``groups`` (name -> feature indices) against ``n_features``.

    Returns a dict name -> sorted unique int64 ndarray, in the given order.
    """
    if not isinstance(groups, dict) or not groups:
        raise ValueError(
            "groups must be a non-empty dict mapping a group name to a list of "
            f"feature indices; got {groups!r}."
        )
    checked = {}
    for name, features in groups.items():
        values = np.atleast_1d(np.asarray(features))
        if values.size == 0 or values.ndim != 1:
            raise ValueError(
                f"groups[{name!r}] must be a non-empty list of feature indices; "
                f"got {features!r}."
            )
        if not all(isinstance(v, numbers.Integral) for v in values.tolist()):
            raise ValueError(
                f"groups[{name!r}] must hold integer feature indices; got {features!r}."
            )
        values = values.astype(np.int64)
        bad = values[(values < 0) | (values >= n_features)]
        if bad.size:
            raise ValueError(
                f"groups[{name!r}] has feature indices out of range: {bad.tolist()}; "
                f"X has {n_features} features, so indices must lie in "
                f"[0, {n_features - 1}]."
            )
        checked[name] = np.unique(values)
    return checked


def _as_index(indices, size):
    """A slice when ``indices`` is a contiguous range (views, fast), else the array."""
    if indices.size == size:
        return slice(None)
    start = int(indices[0])
    if indices.size == 1 or np.array_equal(
        indices, np.arange(start, start + indices.size)
    ):
        return slice(start, start + indices.size)
    return indices


def first_perturbed_steps(units, n_timesteps):
    """First timestep of each unit: the copies are unperturbed before it.

    Parameters
    ----------
    units : list of (timesteps, features) pairs
    n_timesteps : int

    Returns
    -------
    steps : ndarray of int, shape (n_units,)
    """
    steps = np.arange(n_timesteps)
    return np.array(
        [int(np.min(steps[np.asarray(t)], initial=n_timesteps)) for t, _ in units]
    )


def unit_index(unit, n_timesteps, n_features):
    """Index of ``X[:, timesteps, features]`` for a unit ``(timesteps, features)``.

    The result keeps three axes, ``(n_samples, n_unit_timesteps,
    n_unit_features)``, and uses slices (views) where the indices are
    contiguous.
    """
    timesteps, features = unit
    t = _as_index(np.asarray(timesteps), n_timesteps)
    f = _as_index(np.asarray(features), n_features)
    if isinstance(t, np.ndarray) and isinstance(f, np.ndarray):
        # Two index arrays broadcast to (n_unit_timesteps, n_unit_features).
        return (slice(None), t[:, np.newaxis], f[np.newaxis, :])
    return (slice(None), t, f)


# --------------------------------------------------------------- perturbations
class Perturbation:
    """A perturbation, with the per-feature statistics of the data it perturbs.

    Parameters
    ----------
    kind : {"shuffle", "time_shuffle", "gaussian", "uniform", "zero", \
            "mean", "conditional"} or callable
        - ``"shuffle"``: permute the unit's values across samples; each
          sample's sub-series moves as a whole, keeping its time order.
        - ``"time_shuffle"``: permute the unit's timesteps within each
          sample (one permutation for all the unit's features), so the
          values stay and their order goes.
        - ``"gaussian"``: add ``N(0, scale)`` noise.
        - ``"uniform"``: add ``U(-scale, scale)`` noise.
        - ``"zero"``: replace the values by 0.
        - ``"mean"``: replace each feature by its mean over the samples and
          timesteps of ``X`` (not only the unit's timesteps).
        - ``"conditional"``: replace the unit's values by a draw from a
          model of their distribution given the sample's other inputs,
          fitted on ``X`` (:mod:`seqimportance.core._conditional`).
        - callable ``(values, rng) -> values``: anything else; it receives a
          copy that it may modify and must return an array of the same shape.
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        The data to be perturbed, for ``"mean"``, ``"conditional"`` and
        ``relative_scale``.
    scale : float, default=0.2
        Noise scale of ``"gaussian"`` and ``"uniform"``.
    relative_scale : bool, default=False
        Whether the noise scale of feature ``f`` is ``scale * std_f``, with
        ``std_f`` the standard deviation of feature ``f`` over the samples and
        timesteps of ``X``.
    padding : PaddingMask or None, default=None
        The real timesteps of ``X``; ``"mean"`` and ``relative_scale`` then
        use the real steps only.
    units : list of (timesteps, features) pairs or None, default=None
        The units to be perturbed; ``"conditional"`` fits a model per unit.
    conditional_model : regressor or None, default=None
        The model of ``"conditional"``: None for the linear model, else a
        scikit-learn regressor.
    """

    def __init__(
        self,
        kind,
        X,
        *,
        scale=0.2,
        relative_scale=False,
        padding=None,
        units=None,
        conditional_model=None,
    ):
        if not (callable(kind) or kind in PERTURBATIONS):
            raise ValueError(
                f"perturbation must be one of {PERTURBATIONS} or a callable "
                f"(values, rng) -> values; got {kind!r}."
            )
        self.kind = kind
        self.scale = scale
        self.relative_scale = relative_scale
        n_features = X.shape[2]
        if kind == "conditional":
            if units is None:
                raise ValueError("perturbation='conditional' needs the units.")
            self.conditional_ = ConditionalDraws(
                X, units, padding=padding, model=conditional_model
            )
        if padding is not None:  # statistics of the real steps only
            X = real_step_values(X, padding.valid)[np.newaxis]
        if kind == "mean":
            self.feature_means_ = X.mean(axis=(0, 1))
        if kind in NOISE_PERTURBATIONS:
            if relative_scale:
                self.feature_scales_ = scale * X.std(axis=(0, 1))
            else:
                self.feature_scales_ = np.full(n_features, float(scale))

    @property
    def deterministic(self):
        """Whether every repeat gives the same values (``"zero"``, ``"mean"``)."""
        return isinstance(self.kind, str) and self.kind in DETERMINISTIC_PERTURBATIONS

    def take(self, rows):
        """The perturbation of a subset of the samples of ``X``."""
        if not hasattr(self, "conditional_"):
            return self
        part = object.__new__(type(self))
        part.__dict__.update(self.__dict__)
        part.conditional_ = self.conditional_.take(rows)
        return part

    def __call__(self, values, rng, features, padding=None, timesteps=None):
        """Return the perturbed ``values``, of the same shape.

        ``values`` has shape ``(n_samples, n_unit_timesteps,
        n_unit_features)`` and may be modified in place; ``features`` are the
        feature indices of its last axis, ``timesteps`` those of its second
        (needed by ``"conditional"`` only); ``padding`` is the unit's
        :class:`~seqimportance.core._masking.UnitPadding` (None without padding).
        Padded positions may come back changed: :func:`perturb_unit` puts
        them back.
        """
        kind = self.kind
        if kind == "shuffle":
            if padding is not None:
                return values[padding.donors(rng)]
            return values[rng.permutation(values.shape[0])]
        if kind == "time_shuffle":
            return time_shuffle(values, rng, None if padding is None else padding.valid)
        if kind == "gaussian":
            noise = rng.standard_normal(values.shape, dtype=_noise_dtype(values))
            noise *= self.feature_scales_[features].astype(noise.dtype, copy=False)
            values += noise
            return values
        if kind == "uniform":
            noise = rng.random(values.shape, dtype=_noise_dtype(values))
            scales = self.feature_scales_[features].astype(noise.dtype, copy=False)
            noise *= 2 * scales
            noise -= scales
            values += noise
            return values
        if kind == "zero":
            values[...] = 0
            return values
        if kind == "mean":
            values[...] = self.feature_means_[features]
            return values
        if kind == "conditional":
            return self.conditional_.draw(values, rng, timesteps, features, padding)
        result = np.asarray(kind(values, rng))
        if result.shape != values.shape:
            raise ValueError(
                "The perturbation callable must return an array of the shape it "
                f"received, (n_samples, n_unit_timesteps, n_unit_features) = "
                f"{values.shape}; got shape {result.shape}."
            )
        return result


def _noise_dtype(values):
    return np.float32 if values.dtype == np.float32 else np.float64


def perturb_unit(dst, index, features, perturbation, rng, padding=None):
    """Perturb one unit of ``dst`` in place.

    Parameters
    ----------
    dst : ndarray of shape (n_samples, n_timesteps, n_features)
        A writable copy of the data; only the unit's values change.
    index : tuple
        ``unit_index(unit, ...)`` of the unit.
    features : ndarray of int
        The unit's feature indices.
    perturbation : Perturbation
    rng : numpy.random.Generator
    padding : UnitPadding or None, default=None
        The unit's real positions. Its padded positions are left exactly as
        they are, whatever the perturbation (built-in or callable) returns.
    """
    if perturbation.kind == "conditional":  # draws per unit: it needs the steps
        steps = np.arange(dst.shape[1])[index[1]].ravel()
        values = dst[index]
        if padding is None and all(isinstance(i, slice) for i in index):
            perturbation(values, rng, features, None, steps)  # a view: in place
            return
        perturbed = perturbation(values.copy(), rng, features, padding, steps)
        if padding is not None:
            padded = ~padding.valid
            perturbed[padded] = values[padded]
        dst[index] = perturbed
        return
    if padding is not None:
        values = dst[index]
        perturbed = perturbation(values.copy(), rng, features, padding)
        if not perturbed.flags.writeable:
            perturbed = perturbed.copy()
        padded = ~padding.valid
        perturbed[padded] = values[padded]
        dst[index] = perturbed
        return
    # Slices give a view of dst: the built-in perturbations then work in place.
    # Index arrays give a copy, written back afterwards. A user callable always
    # receives an array of its own.
    values = dst[index]
    is_view = all(isinstance(i, slice) for i in index)
    builtin = isinstance(perturbation.kind, str)
    if is_view and builtin and perturbation.kind not in ("shuffle", "time_shuffle"):
        perturbation(values, rng, features)
        return
    if is_view and not builtin:
        values = values.copy()
    dst[index] = perturbation(values, rng, features)
