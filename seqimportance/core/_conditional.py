"""Conditional draws: a unit replaced by a draw given the sample's other inputs.

``perturbation="conditional"`` replaces a unit's values by a draw from an
estimate of their conditional distribution given the rest of the sample,
fitted once per fold on the data being explained. A marginal perturbation
(a shuffle, noise) breaks the correlation between the unit and the other
inputs and asks the model about combinations the data never shows; a
conditional draw keeps it, so the importance says what the unit adds beyond
the other inputs.

The model of a unit ``(timesteps, features)``
-----------------------------------------------
Each real ``(sample, timestep)`` of the unit's timesteps is one observation:
its target is the unit's features at that timestep; its covariates are the
values at the same timestep and at the adjacent ones (lags -1, 0 and +1,
clipped at the ends of the sequences) that lie outside the unit: the other
features, and the unit's own features where no lag of them falls inside the
unit (the neighbours of a cell or of a single timestep). Padded steps enter
the covariates at their feature's mean.

- Default, Gaussian/linear: a least-squares regression of the target on the
  covariates (one shared Gram matrix for all units of the same timesteps).
  The draw keeps each sample's prediction and adds the residual sub-series
  of another sample (a permutation of the samples, as ``"shuffle"`` draws,
  with donors real at the sample's real positions under padding), scaled by
  ``sqrt(n / (n - p - 1))`` so that its variance estimates the conditional
  variance without the bias of fitted residuals.
- ``model=``: any scikit-learn regressor, cloned and fitted per unit on the
  covariates (multi-output for a unit of several features); its residuals
  are out-of-fold (5 folds over the samples), so a flexible model that fits
  its training data closely does not shrink them. They are resampled the
  same way, unscaled.

Units are matched by their timesteps and features, and the draws use only
the job's generator, so results do not depend on the order of the units,
chunking or ``n_jobs``.
"""

import numpy as np
from sklearn.base import clone

__all__ = ["LAGS", "MIN_SAMPLES", "ConditionalDraws", "check_conditional_model"]

LAGS = (-1, 0, 1)
#: Fewest samples real at a unit for its residuals to be resampled.
MIN_SAMPLES = 10
_N_FOLDS = 5


def check_conditional_model(model):
    """Raise unless ``model`` is None or has ``fit`` and ``predict``."""
    if model is None:
        return
    if not (callable(getattr(model, "fit", None)) and callable(
        getattr(model, "predict", None)
    )):
        raise TypeError(
            "conditional_model must be a scikit-learn regressor (an object with "
            "fit and predict) or None for the linear model; got "
            f"{type(model).__name__} {model!r}."
        )


def _unit_label(timesteps, features, n_timesteps):
    steps = np.asarray(timesteps)
    if steps.size == n_timesteps:
        where = "all timesteps"
    elif steps.size == 1:
        where = f"timestep {int(steps[0])}"
    else:
        where = f"timesteps {int(steps[0])}-{int(steps[-1])}"
    which = ", ".join(str(int(f)) for f in features)
    return f"the unit of feature(s) {which} at {where}"


def _key(timesteps, features):
    return (
        tuple(int(t) for t in np.asarray(timesteps).ravel()),
        tuple(int(f) for f in np.asarray(features).ravel()),
    )


def _allowed_columns(steps, features, lags, n_timesteps, n_features):
    """Columns ``lag_index * n_features + f`` of the covariates outside the unit."""
    own = {int(f) for f in features}
    inside_steps = set(steps.tolist())
    columns = []
    for li, lag in enumerate(lags):
        shifted = np.clip(steps + lag, 0, n_timesteps - 1).tolist()
        lands_inside = bool(inside_steps.intersection(shifted))
        columns.extend(
            li * n_features + f
            for f in range(n_features)
            if not (f in own and lands_inside)
        )
    return np.asarray(columns, dtype=np.int64)


class ConditionalDraws:
    """Residuals of each unit's conditional model, and their resampling.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        The evaluated data, never modified.
    units : list of (timesteps, features) pairs
        The units to draw.
    padding : PaddingMask or None, default=None
        Real timesteps of ``X``; observations are its real steps.
    model : regressor or None, default=None
        None: the linear model; else a scikit-learn regressor.

    Raises
    ------
    ValueError
        If a unit's feature is constant, or the data has too few samples
        for a unit's model.
    TypeError
        If ``model`` has no ``fit`` or ``predict``.
    """

    def __init__(self, X, units, *, padding=None, model=None):
        check_conditional_model(model)
        n, n_timesteps, n_features = X.shape
        valid = None if padding is None else padding.valid
        lags = LAGS if n_timesteps > 1 else (0,)
        self.lags = lags
        values = X.astype(np.float64)  # a copy: X itself is never written
        real = values.reshape(-1, n_features) if valid is None else values[valid]
        _check_not_constant(real, units, n)
        if valid is not None:
            values[~valid] = real.mean(axis=0)
        self._residuals = {}
        by_steps = {}
        for timesteps, features in units:
            by_steps.setdefault(tuple(np.asarray(timesteps).tolist()), []).append(
                np.asarray(features)
            )
        for steps, members in by_steps.items():
            steps = np.asarray(steps, dtype=np.int64)
            shifted = [np.clip(steps + lag, 0, n_timesteps - 1) for lag in lags]
            design = np.concatenate(
                [values[:, at, :] for at in shifted], axis=2
            ).reshape(n * steps.size, len(lags) * n_features)
            rows = None if valid is None else valid[:, steps].reshape(-1)
            fit = _LinearFit(design, rows) if model is None else None
            target0 = lags.index(0) * n_features
            for features in members:
                allowed = _allowed_columns(
                    steps, features, lags, n_timesteps, n_features
                )
                targets = target0 + features.astype(np.int64)
                _check_enough(n, steps, features, allowed.size, rows, n_timesteps)
                if model is None:
                    residuals, factor = fit.residuals(allowed, targets)
                else:
                    residuals = _model_residuals(
                        model, design, rows, allowed, targets, n, steps.size
                    )
                    factor = 1.0
                residuals = residuals.reshape(n, steps.size, features.size)
                self._residuals[_key(steps, features)] = (
                    residuals.astype(X.dtype),
                    factor,
                )

    def take(self, rows):
        """The draws of a subset of the samples (same models, its residuals)."""
        part = object.__new__(type(self))
        part.lags = self.lags
        part._residuals = {
            key: (residuals[rows], factor)
            for key, (residuals, factor) in self._residuals.items()
        }
        return part

    def draw(self, values, rng, timesteps, features, padding=None):
        """Replace ``values`` (the unit's, of every sample) by a conditional draw.

        ``values`` has shape ``(n_samples, n_unit_timesteps,
        n_unit_features)`` and is modified in place; ``padding`` is the
        unit's :class:`~seqimportance.core._masking.UnitPadding`.
        """
        residuals, factor = self._residuals[_key(timesteps, features)]
        if padding is not None:
            donor = padding.donors(rng)
        else:
            donor = rng.permutation(values.shape[0])
        drawn = residuals[donor]
        if factor != 1.0:
            drawn *= values.dtype.type(factor)
        values -= residuals
        values += drawn
        return values


class _LinearFit:
    """Least squares of some columns of a design on others, one Gram for all."""

    def __init__(self, design, rows):
        real = design if rows is None else design[rows]
        self.n_obs = real.shape[0]
        mean = real.mean(axis=0)
        design -= mean  # the caller's own array, centred in place
        self.design = design
        real = design if rows is None else design[rows]
        gram = real.T @ real
        scale = np.sqrt(np.diag(gram))
        scale[scale == 0] = 1.0
        self.scale = scale
        self.gram = gram / np.outer(scale, scale)

    def residuals(self, allowed, targets):
        """Fitted residuals of ``targets`` on ``allowed``, and their variance factor."""
        weights = np.zeros((self.design.shape[1], targets.size))
        weights[targets, np.arange(targets.size)] = 1.0
        if allowed.size:
            coef = np.linalg.lstsq(
                self.gram[np.ix_(allowed, allowed)],
                self.gram[np.ix_(allowed, targets)],
                rcond=None,
            )[0]
            weights[allowed] -= (
                coef * self.scale[targets][np.newaxis, :]
                / self.scale[allowed][:, np.newaxis]
            )
        dof = max(1, self.n_obs - allowed.size - 1)
        return self.design @ weights, float(np.sqrt(self.n_obs / dof))


def _model_residuals(model, design, rows, allowed, targets, n, n_steps):
    """Out-of-fold residuals of a regressor, folds over the samples."""
    covariates = design[:, allowed] if allowed.size else np.zeros((len(design), 1))
    target = design[:, targets]
    fold = np.repeat(np.arange(n) % min(_N_FOLDS, n), n_steps)
    real = np.ones(len(design), dtype=bool) if rows is None else rows
    predicted = np.empty_like(target)
    for k in np.unique(fold):
        train = real & (fold != k)
        y = target[train]
        fitted = clone(model).fit(covariates[train], y[:, 0] if y.shape[1] == 1 else y)
        out = np.asarray(fitted.predict(covariates[fold == k]), dtype=np.float64)
        predicted[fold == k] = out.reshape(-1, targets.size)
    return target - predicted


def _check_not_constant(real, units, n_samples):
    drawn = sorted({int(f) for _, features in units for f in features})
    spread = np.ptp(real[:, drawn], axis=0) if drawn else np.array([])
    constant = [f for f, s in zip(drawn, spread) if s == 0]
    if constant:
        shown = ", ".join(str(f) for f in constant)
        raise ValueError(
            f"perturbation='conditional' cannot draw feature(s) {shown} (index on "
            f"the last axis of X): constant over the {n_samples} samples "
            "evaluated, so they have no conditional distribution to draw from, and "
            "neither a conditional draw nor a shuffle can change them. Drop the "
            "constant features, or use another perturbation."
        )


def _check_enough(n, steps, features, n_covariates, rows, n_timesteps):
    n_steps = steps.size
    if rows is None:
        n_obs, n_real = n * n_steps, n
    else:
        per_sample = rows.reshape(n, n_steps)
        n_obs, n_real = int(per_sample.sum()), int(per_sample.any(axis=1).sum())
    needed = 2 * (n_covariates + 1)
    if n_obs >= needed and n_real >= MIN_SAMPLES:
        return
    need_samples = max(MIN_SAMPLES, -(-needed // n_steps))
    raise ValueError(
        "perturbation='conditional' has too few samples for the conditional "
        f"model of {_unit_label(steps, features, n_timesteps)}: it regresses the "
        f"unit on {n_covariates} covariates (the other inputs at the same and "
        f"adjacent timesteps), which needs at least {needed} observations "
        f"((sample, timestep) pairs) and {MIN_SAMPLES} samples, so at least "
        f"{need_samples} samples of {n_steps} real timestep(s) here; the "
        f"evaluated data has {n_real} sample(s) real there ({n_obs} "
        "observations). Evaluate on more samples (with cv, on larger test "
        "folds), or use a marginal perturbation."
    )
