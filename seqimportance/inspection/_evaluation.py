"""Batched evaluation of perturbation importances.

The work of one fold is a list of ``(unit, repeat)`` jobs. Jobs are cut into
chunks; the perturbed copies of a chunk's jobs are built with vectorised numpy
into one array ``(n_jobs_in_chunk * n_samples, n_timesteps, n_features)`` and
the predictor is called once per chunk (and per prediction method needed).
Effects are then computed per job from slices of these predictions:

- ``"rms"`` / ``"mae"``: root mean square / mean absolute change of the
  predictions against the unperturbed ones, over samples and outputs;
- ``"score"``: baseline score minus perturbed score, with the sklearn scorer
  applied to a proxy estimator that returns the cached predictions (as
  sklearn caches predictions for multi-metric scoring).

Randomness does not depend on how the work is cut: each job draws from its
own generator, seeded by ``(base_seed, fold, unit, repeat)``, so the chunk
size, ``n_jobs`` and the order of evaluation cannot change the numbers.
"""

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from ..core._buffers import aligned_empty
from ..core._perturbation import first_perturbed_steps, perturb_unit, unit_index
from ..core._seeding import job_rng
from ..core._validation import to_estimator_input
from ._cached_scoring import (
    PREDICTION_METHODS,
    flat_predictions,
    make_fold_scorer,
    proxy_class,
)
from ._masked_effects import MaskedEffects

__all__ = [
    "FoldEvaluator",
    "chunk_bounds",
    "compute_importances",
    "make_fold_scorer",
    "plan_jobs",
]

EFFECTS = ("score", "rms", "mae")


# ------------------------------------------------------------ seeds and plans
def plan_jobs(n_units, n_repeats):
    """All ``(unit, repeat)`` jobs, unit-major: row ``u * n_repeats + r``."""
    units, repeats = np.divmod(np.arange(n_units * n_repeats), n_repeats)
    return np.column_stack([units, repeats])


def chunk_bounds(n_jobs_total, max_jobs_per_chunk, min_chunks=1):
    """``(start, stop)`` of balanced chunks of at most ``max_jobs_per_chunk`` jobs.

    At least ``min_chunks`` chunks (when there are that many jobs), so that
    parallel workers all get work; sizes differ by at most one.
    """
    if n_jobs_total == 0:
        return []
    n_chunks = -(-n_jobs_total // max(1, max_jobs_per_chunk))
    n_chunks = max(n_chunks, min(max(1, min_chunks), n_jobs_total))
    size, extra = divmod(n_jobs_total, n_chunks)
    stops = np.cumsum([size + 1] * extra + [size] * (n_chunks - extra))
    starts = np.concatenate([[0], stops[:-1]])
    return [(int(a), int(b)) for a, b in zip(starts, stops)]


# ------------------------------------------------------------ chunk predictions
class ChunkPredictions:
    """Predictions of a chunk, computed once per method on first use.

    ``reference`` and ``first_steps`` (the unperturbed data, and the first
    perturbed timestep of each copy) are handed to a predictor whose
    ``uses_first_steps`` is true (see :mod:`seqimportance.keras._prefix`), and
    ``trusted`` (the batch is the evaluator's own, built from validated data
    by a built-in perturbation) to one whose ``accepts_trusted`` is true.
    """

    def __init__(
        self,
        predictor,
        estimator,
        batch,
        n_samples,
        input_ndim,
        feature_names,
        reference=None,
        first_steps=None,
        trusted=False,
    ):
        self.predictor = predictor
        self.estimator = estimator
        self.batch = batch
        self.n_samples = n_samples
        self.input_ndim = input_ndim
        self.feature_names = feature_names
        self.hint = {}
        if first_steps is not None and getattr(predictor, "uses_first_steps", False):
            self.hint = dict(reference=reference, first_steps=first_steps)
        if trusted and getattr(predictor, "accepts_trusted", False):
            self.hint["trusted"] = True
        self._cache = {}

    def get(self, method):
        predictions = self._cache.get(method)
        if predictions is None:
            if method in self.predictor.methods:
                predictions = self.predictor(self.batch, method, **self.hint)
            else:  # a method the fast predictor lacks: one public call per chunk
                X = to_estimator_input(self.batch, self.input_ndim, self.feature_names)
                predictions = getattr(self.estimator, method)(X)
            self._cache[method] = predictions
        return predictions

    def job(self, method, i):
        predictions = self.get(method)
        rows = slice(i * self.n_samples, (i + 1) * self.n_samples)
        if isinstance(predictions, list):
            return [p[rows] for p in predictions]
        return predictions[rows]


# ----------------------------------------------------------------- evaluation
class FoldEvaluator:
    """Effects of perturbing units of one fold's data, chunk by chunk.

    Parameters
    ----------
    predictor : callable ``(X_batch_3d, method) -> ndarray`` with ``methods``
    estimator : fitted estimator
        The estimator behind ``predictor``, for scoring.
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        Data to perturb; never modified.
    y : array-like or None
        Targets for ``effect="score"``.
    units : list of (timesteps, features) pairs
    perturbation : :class:`~seqimportance.core._perturbation.Perturbation`
    effect : {"score", "rms", "mae"}
    scorer : callable ``(estimator, X, y) -> float`` or None
        Only for ``effect="score"``.
    method : str or None
        Prediction method compared by ``"rms"`` and ``"mae"``.
    base_seed, fold : int
        Seeding of the jobs' generators.
    input_ndim : {2, 3}
        Input layout of the estimator.
    feature_names : ndarray of str or None
        Columns for 2-D DataFrame input.
    padding : PaddingMask or None
        Real timesteps of ``X`` when it has padding: units are perturbed at
        real positions only and effects computed on real samples and steps
        (:mod:`seqimportance.inspection._masked_effects`).
    seed_keys : list of int or None
        What seeds each unit's generators in place of its position (see
        :func:`~seqimportance.core._perturbation.group_seed_keys`); None uses the
        positions.
    """

    def __init__(
        self,
        predictor,
        estimator,
        X,
        y,
        units,
        perturbation,
        *,
        effect,
        scorer=None,
        method=None,
        base_seed=0,
        fold=0,
        input_ndim=3,
        feature_names=None,
        padding=None,
        seed_keys=None,
    ):
        self.predictor = predictor
        self.estimator = estimator
        self.X = X
        self.y = y
        self.units = units
        self.perturbation = perturbation
        self.effect = effect
        self.scorer = scorer
        self.method = method
        self.base_seed = base_seed
        self.fold = fold
        self.input_ndim = input_ndim
        self.feature_names = feature_names
        _, n_timesteps, n_features = X.shape
        self._indices = [unit_index(unit, n_timesteps, n_features) for unit in units]
        self._first_steps = first_perturbed_steps(units, n_timesteps)
        self._seed_keys = list(range(len(units))) if seed_keys is None else seed_keys
        self.padding = padding
        self._unit_padding = [
            None if padding is None else padding.unit(timesteps)
            for timesteps, _ in units
        ]
        self._masked = None if padding is None else MaskedEffects(self)
        # Batches of a built-in perturbation of validated, unpadded data are
        # finite and of X's shape: a predictor may skip checking them.
        self._trusted = padding is None and isinstance(perturbation.kind, str)
        self.baseline_score = None
        self.baseline_predictions = None

    def compute_baseline(self):
        """Score or predictions of the unperturbed data, through the same path."""
        self._set_baseline(self._chunk_predictions(self.X), self.X)
        return self

    @property
    def baseline_pending(self):
        """Whether the baseline is still to be computed."""
        return self.baseline_score is None and self.baseline_predictions is None

    def _shares_call(self):
        """Whether the unperturbed rows can go in one call with the copies.

        Not with padding (its baseline keeps per-step outputs), nor for a
        predictor that runs copies from their first perturbed step.
        """
        return self._masked is None and not (
            getattr(self.predictor, "uses_first_steps", False)
            and self._first_steps.any()
        )

    def _set_baseline(self, predictions, X):
        """The baseline from the first ``n_samples`` rows of ``predictions``."""
        n_samples = self.X.shape[0]
        if self.effect == "score":
            if self._masked is not None:
                self.baseline_score = self._masked.baseline(predictions)
                return
            X_input = to_estimator_input(X, self.input_ndim, self.feature_names)
            proxy = proxy_class(self._proxy_methods())(
                self.estimator, predictions, 0, X_input
            )
            self.baseline_score = float(self.scorer(proxy, X_input, self.y))
            return
        raw = predictions.job(self.method, 0)  # all of it when the batch is X
        self.baseline_predictions = flat_predictions(raw, n_samples)
        if self._masked is not None:
            self._masked.set_outputs(raw)

    def _proxy_methods(self):
        return frozenset(m for m in PREDICTION_METHODS if hasattr(self.estimator, m))

    def _chunk_predictions(self, batch, jobs=None, with_reference=False):
        first_steps = None
        if jobs is not None:
            first_steps = self._first_steps[np.asarray(jobs)[:, 0]]
            if with_reference:
                first_steps = np.concatenate([[0], first_steps])
        return ChunkPredictions(
            self.predictor,
            self.estimator,
            batch,
            self.X.shape[0],
            self.input_ndim,
            self.feature_names,
            reference=self.X,
            first_steps=first_steps,
            trusted=jobs is not None and self._trusted,
        )

    def build_batch(self, jobs, with_reference=False):
        """Perturbed copies of ``X`` for ``jobs``, stacked along axis 0.

        Parameters
        ----------
        jobs : ndarray of shape (n_jobs_in_chunk, 2)
            ``(unit, repeat)`` rows.
        with_reference : bool, default=False
            Whether an unperturbed copy comes first.

        Returns
        -------
        batch : ndarray of shape (n_copies * n_samples, n_timesteps, n_features)
            Rows ``i * n_samples`` to ``(i + 1) * n_samples`` hold job ``i``
            (job ``i - 1`` after the unperturbed copy).
        """
        X = self.X
        n_samples = X.shape[0]
        n_copies = len(jobs) + int(with_reference)
        batch = aligned_empty((n_copies * n_samples,) + X.shape[1:], X.dtype)
        batch.reshape((n_copies,) + X.shape)[...] = X  # one vectorised copy
        for i, (unit, repeat) in enumerate(jobs.tolist(), start=int(with_reference)):
            rng = job_rng(self.base_seed, self.fold, self._seed_keys[unit], repeat)
            dst = batch[i * n_samples : (i + 1) * n_samples]
            perturb_unit(
                dst,
                self._indices[unit],
                self.units[unit][1],
                self.perturbation,
                rng,
                self._unit_padding[unit],
            )
        return batch

    def evaluate(self, jobs):
        """Effect of each job of a chunk: ndarray of shape (n_jobs_in_chunk,).

        With the baseline still pending, the unperturbed rows go first in
        the chunk's call (one call instead of two), when they can.
        """
        n_jobs, n_samples = len(jobs), self.X.shape[0]
        shared = self.baseline_pending and self._shares_call()
        if self.baseline_pending and not shared:
            self.compute_baseline()
        batch = self.build_batch(jobs, with_reference=shared)
        if self._masked is not None:
            return self._masked.evaluate(jobs, batch)
        predictions = self._chunk_predictions(batch, jobs, with_reference=shared)
        if shared:
            self._set_baseline(predictions, batch[:n_samples])
        first = int(shared)  # the first job's copy
        if self.effect != "score":
            raw = predictions.get(self.method)
            n_rows = (n_jobs + first) * n_samples
            predictions = flat_predictions(raw, n_rows)[first * n_samples :]
            diff = (
                predictions.reshape(n_jobs, n_samples, -1) - self.baseline_predictions
            )
            if self.effect == "rms":
                return np.sqrt(np.mean(np.square(diff), axis=(1, 2)))
            return np.mean(np.abs(diff), axis=(1, 2))
        proxy_cls = proxy_class(self._proxy_methods())
        scores = np.empty(n_jobs)
        for i in range(n_jobs):
            copy = i + first
            X_i = to_estimator_input(
                batch[copy * n_samples : (copy + 1) * n_samples],
                self.input_ndim,
                self.feature_names,
            )
            scores[i] = self.scorer(
                proxy_cls(self.estimator, predictions, copy, X_i), X_i, self.y
            )
        return self.baseline_score - scores


def _evaluate_chunk(evaluator, jobs):
    return evaluator.evaluate(jobs)


def compute_importances(
    evaluator,
    n_repeats,
    *,
    max_batch_bytes=32 * 2**20,
    n_jobs=None,
    on_chunk_done=None,
    on_plan=None,
    first_repeat=0,
):
    """Importances of every unit for ``n_repeats`` repeats of one fold.

    Parameters
    ----------
    evaluator : FoldEvaluator
        Its baseline is computed first, or, when all jobs fit in one chunk,
        in the same call as the perturbed copies.
    n_repeats : int
        Repeats per unit. Deterministic perturbations (``"zero"``,
        ``"mean"``) are evaluated once and the result repeated.
    max_batch_bytes : int, default=32 MiB
        Cap on the size of the perturbed copies of one chunk; a chunk holds at
        least one job.
    n_jobs : int or None, default=None
        Parallel workers over chunks (joblib; honours
        :func:`joblib.parallel_config`).
    on_chunk_done : callable or None
        Called once per finished chunk (progress bars).
    on_plan : callable or None
        Called with the number of chunks before evaluation starts.
    first_repeat : int, default=0
        Index of the first repeat, for the jobs' seeds (repeats evaluated one
        at a time, on their own subsets of samples, start further on).

    Returns
    -------
    importances : ndarray of shape (n_units, n_repeats)
    """
    from joblib import effective_n_jobs

    n_units = len(evaluator.units)
    n_eval = 1 if evaluator.perturbation.deterministic else n_repeats
    jobs = plan_jobs(n_units, n_eval)
    jobs[:, 1] += first_repeat
    per_chunk = max(1, int(max_batch_bytes) // max(1, evaluator.X.nbytes))
    bounds = chunk_bounds(len(jobs), per_chunk, min_chunks=effective_n_jobs(n_jobs))
    if evaluator.baseline_pending and (len(bounds) > 1 or len(jobs) >= per_chunk):
        evaluator.compute_baseline()  # before chunks that may run in parallel
    if on_plan is not None:
        on_plan(len(bounds))
    # A compiled Keras predictor runs best in threads of this process (it
    # releases the GIL, and worker processes would each start TensorFlow);
    # an explicit joblib backend (dask, loky) still overrides the hint.
    prefer = getattr(evaluator.predictor, "parallel_prefer", None)
    results = Parallel(n_jobs=n_jobs, prefer=prefer, return_as="generator")(
        delayed(_evaluate_chunk)(evaluator, jobs[a:b]) for a, b in bounds
    )
    effects = np.empty(len(jobs))
    for (a, b), chunk_effects in zip(bounds, results):
        effects[a:b] = chunk_effects
        if on_chunk_done is not None:
            on_chunk_done()
    importances = effects.reshape(n_units, n_eval)
    if n_eval < n_repeats:
        importances = np.repeat(importances, n_repeats, axis=1)
    return importances
