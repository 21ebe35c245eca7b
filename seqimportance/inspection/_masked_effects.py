"""Effects of perturbations on padded data: real samples and real timesteps.

When the evaluated data has padding (``mask_value``), two things change in
how :class:`~seqimportance.inspection._evaluation.FoldEvaluator` turns predictions into
effects, both read from the fold's
:class:`~seqimportance.core._masking.PaddingMask`:

- a unit's effect is measured on the samples that are real at one or more of
  its timesteps (``UnitPadding.rows``); the others were not perturbed. A
  position's importance is then an average over the samples real there, and
  a unit real in no sample has importance 0;
- outputs aligned with the timesteps (a per-timestep model) are compared at
  real timesteps only, since a masked model's outputs at padded steps mean
  nothing. ``effect="rms"`` / ``"mae"`` average over real steps; scores
  treat each real ``(sample, timestep)`` as one observation (a binary
  per-timestep classifier is scored as a binary classifier of the steps).

Outputs are taken as per-timestep when the scored target has shape
``(n_samples, n_timesteps, ...)`` (``effect="score"``), or when the
predictions do (``effect="rms"`` / ``"mae"``; for a classifier, its
``predict``).
"""

import functools

import numpy as np
from sklearn.base import is_classifier

from ..core._validation import to_estimator_input
from ._cached_scoring import EstimatorScore, flat_predictions, proxy_class

__all__ = ["MaskedEffects", "output_mask"]


def output_mask(raw, valid):
    """Which flattened outputs belong to real timesteps, or None if not per-step.

    Parameters
    ----------
    raw : ndarray or list of ndarray
        Predictions of the ``n_samples`` rows of ``valid``.
    valid : ndarray of bool of shape (n_samples, n_timesteps)

    Returns
    -------
    mask : ndarray of bool of shape (n_samples, n_outputs) or None
        In the layout of :func:`~seqimportance.inspection._cached_scoring.flat_predictions`.
    """
    n, n_timesteps = valid.shape
    if isinstance(raw, list):
        if len(raw) != n_timesteps:
            return None
        parts = [
            _broadcast_steps(valid[:, [t]], np.shape(p)) for t, p in enumerate(raw)
        ]
        return np.concatenate(parts, axis=1)
    shape = np.shape(raw)
    if len(shape) < 2 or shape[1] != n_timesteps:
        return None
    return _broadcast_steps(valid, shape)


def _broadcast_steps(valid, shape):
    n = valid.shape[0]
    extra = (1,) * (len(shape) - valid.ndim)
    return np.broadcast_to(valid.reshape(valid.shape + extra), shape).reshape(n, -1)


class _Selection:
    """Rows (samples) and real steps of one unit's effect."""

    def __init__(self, rows, steps):
        self.rows = rows  # int indices of the samples, or None for all
        self.steps = steps  # bool (n_rows, n_timesteps) real steps, or None

    def take(self, values):
        if self.rows is not None:
            values = [v[self.rows] for v in values] if isinstance(
                values, list
            ) else values[self.rows]
        if self.steps is not None:
            if isinstance(values, list):  # one (n, n_classes) array per step
                values = np.stack(
                    [v[:, -1] if np.ndim(v) == 2 else v for v in values], axis=1
                )
            values = np.asarray(values)[self.steps]
        return values


class _SelectedPredictions:
    """Cached predictions of a chunk, restricted to a selection."""

    def __init__(self, chunk, selection, binary_steps):
        self.chunk = chunk
        self.selection = selection
        self.binary_steps = binary_steps

    def job(self, method, i):
        values = self.selection.take(self.chunk.job(method, i))
        if self.binary_steps and method == "predict_proba":
            values = np.column_stack([1.0 - values, values])
        elif self.binary_steps and method == "predict_log_proba":
            values = np.column_stack([np.log1p(-np.exp(values)), values])
        return values


@functools.cache
def _binary_step_class(base):
    """The proxy of a per-timestep binary classifier: a binary classifier of steps."""
    return type(base.__name__, (base,), {"classes_": np.array([0, 1])})


class MaskedEffects:
    """Effects of the jobs of a fold whose data has padding.

    Parameters
    ----------
    evaluator : FoldEvaluator
        With ``padding`` set; its predictor, scorer and prediction caches are
        used.
    """

    def __init__(self, evaluator):
        self.ev = evaluator
        self.valid = evaluator.padding.valid
        self._selections = {}
        self._baselines = {}
        self.per_step = False
        self.outputs = None
        self.scorer = evaluator.scorer

    # ----------------------------------------------------------- selection
    def _unit_rows(self, unit):
        padding = self.ev._unit_padding[unit]
        return None if padding is None else padding.rows

    def _selection(self, unit):
        """``(key, selection)`` of a unit; units of the same timesteps share them."""
        rows = self._unit_rows(unit)
        # The UnitPadding objects live as long as the evaluator: stable keys.
        key = None if rows is None else id(self.ev._unit_padding[unit])
        if key not in self._selections:
            steps = None
            if self.per_step:
                steps = self.valid if rows is None else self.valid[rows]
            self._selections[key] = _Selection(rows, steps)
        return key, self._selections[key]

    # -------------------------------------------------------------- scores
    def baseline(self, predictions):
        """Set up scoring from the baseline predictions; the all-sample score."""
        ev = self.ev
        n, n_timesteps = self.valid.shape
        y_shape = np.shape(ev.y) if ev.y is not None else ()
        self.per_step = len(y_shape) >= 2 and y_shape[:2] == (n, n_timesteps)
        self.binary_steps = self.per_step and is_classifier(ev.estimator)
        if self.per_step:
            self.scorer = _step_scorer(ev.scorer, ev.estimator)
        self.y = None if ev.y is None else np.asarray(ev.y)
        self.base_predictions = predictions
        key, selection = self._selection_of_all()
        self._baselines[key] = self._score(predictions, 0, ev.X, selection)
        return self._baselines[key]

    def _selection_of_all(self):
        if None not in self._selections:
            steps = self.valid if self.per_step else None
            self._selections[None] = _Selection(None, steps)
        return None, self._selections[None]

    def _score(self, predictions, i, X, selection):
        ev = self.ev
        if selection.rows is not None:
            X = X[selection.rows]
        X_input = to_estimator_input(X, ev.input_ndim, ev.feature_names)
        cls = proxy_class(ev._proxy_methods())
        if self.binary_steps:
            cls = _binary_step_class(cls)
        if selection.rows is None and selection.steps is None:
            chunk = predictions
        else:
            chunk = _SelectedPredictions(predictions, selection, self.binary_steps)
        y = None if self.y is None else selection.take(self.y)
        return float(self.scorer(cls(ev.estimator, chunk, i, X_input), X_input, y))

    def _unit_baseline(self, key, selection):
        if key not in self._baselines:
            self._baselines[key] = self._score(
                self.base_predictions, 0, self.ev.X, selection
            )
        return self._baselines[key]

    # ------------------------------------------------- prediction changes
    def set_outputs(self, raw):
        """Find which outputs are per-timestep, from the baseline predictions."""
        ev = self.ev
        mask = output_mask(raw, self.valid)
        if (
            mask is not None
            and is_classifier(ev.estimator)
            and ev.method != "predict"
            and hasattr(ev.estimator, "predict")
        ):
            # Class scores with n_timesteps columns may be n_timesteps classes:
            # per-timestep only if the labels are.
            labels = ev._chunk_predictions(ev.X[:1]).get("predict")
            if output_mask(labels, self.valid[:1]) is None:
                mask = None
        self.outputs = mask

    def _weights(self, unit):
        rows = self._unit_rows(unit)
        if rows is None:
            return self.outputs
        weights = np.zeros(self.valid.shape[:1] + (1,), dtype=bool)
        weights[rows] = True
        if self.outputs is not None:
            weights = weights & self.outputs
        return weights

    # ----------------------------------------------------------- evaluate
    def evaluate(self, jobs, batch):
        """Effect of each job of a chunk, on real samples and real steps."""
        ev = self.ev
        n_jobs, n = len(jobs), self.valid.shape[0]
        units = jobs[:, 0].tolist()
        effects = np.empty(n_jobs)
        if ev.effect != "score":
            raw = ev._chunk_predictions(batch).get(ev.method)
            predictions = flat_predictions(raw, n_jobs * n).reshape(n_jobs, n, -1)
            diff = predictions - ev.baseline_predictions
            for i, unit in enumerate(units):
                weights = self._weights(unit)
                d = diff[i] if weights is None else diff[i][
                    np.broadcast_to(weights, diff[i].shape)
                ]
                if d.size == 0:  # real in no sample: nothing was perturbed
                    effects[i] = 0.0
                elif ev.effect == "rms":
                    effects[i] = np.sqrt(np.mean(np.square(d)))
                else:
                    effects[i] = np.mean(np.abs(d))
            return effects
        chunk = ev._chunk_predictions(batch)
        for i, unit in enumerate(units):
            key, selection = self._selection(unit)
            if selection.rows is not None and selection.rows.size == 0:
                effects[i] = 0.0
                continue
            X_i = batch[i * n : (i + 1) * n]
            base = self._unit_baseline(key, selection)
            effects[i] = base - self._score(chunk, i, X_i, selection)
        return effects


def _step_scorer(scorer, estimator):
    """The scorer of per-timestep targets flattened to their real steps.

    The estimator's own ``score`` (``scoring=None``) is rewritten as its
    metric on the real steps: a scikit-learn mixin's ``score`` already scores
    ``self.predict(X)``; scikeras's validates the shape of ``y`` first, so its
    ``scorer`` metric is applied to the cached predictions instead.
    """
    if not isinstance(scorer, EstimatorScore):
        return scorer
    if scorer.func is None:
        raise ValueError(
            "With padding (mask_value) and per-timestep targets the score is "
            "computed over the real timesteps only, but the score method of "
            f"{type(estimator).__name__} cannot be applied to them; pass scoring "
            "(a scorer name such as 'r2' or 'accuracy', or a callable)."
        )
    if getattr(scorer.func, "__module__", None) == "scikeras.wrappers":
        final = estimator.steps[-1][1] if scorer.final_step else estimator

        def score(proxy, X, y):
            return final.scorer(y, proxy.predict(X))

        return score
    return scorer
