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

import functools

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.parallel import Parallel, delayed

from ._masked_effects import MaskedEffects
from ._perturbation import perturb_unit, unit_index
from ._prefix import first_perturbed_steps
from ._predictors import PREDICTION_METHODS, flat_predictions, to_estimator_input
from ._tensors import aligned_empty

__all__ = [
    "FoldEvaluator",
    "chunk_bounds",
    "compute_importances",
    "draw_base_seed",
    "job_rng",
    "make_fold_scorer",
    "plan_jobs",
]

EFFECTS = ("score", "rms", "mae")


# ------------------------------------------------------------ seeds and plans
def draw_base_seed(random_state):
    """Draw the one seed from which every job's generator is derived."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def job_rng(base_seed, fold, unit, repeat):
    """Generator of job ``(fold, unit, repeat)``, independent of how work is cut."""
    return np.random.default_rng([base_seed, fold, unit, repeat])


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


# ----------------------------------------------------- cached-prediction proxy
class ChunkPredictions:
    """Predictions of a chunk, computed once per method on first use.

    ``reference`` and ``first_steps`` (the unperturbed data, and the first
    perturbed timestep of each copy) are handed to a predictor whose
    ``uses_first_steps`` is true (see :mod:`seqimportance._prefix`), and
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


class CachedPredictionProxy:
    """Stand-in for a fitted estimator, answering from cached predictions.

    Called with the exact ``X`` object it was made for, a prediction method
    returns the cached predictions of its job; with any other input it calls
    the real estimator. Every other attribute (``classes_``,
    ``__sklearn_tags__``, ...) is the real estimator's, so ``is_classifier``,
    ``pos_label`` handling and ``_get_response_values`` behave as with the
    real estimator. Only the prediction methods of the real estimator exist
    (see :func:`proxy_class`), so scorers pick the same response method.
    """

    def __init__(self, estimator, predictions, job, X):
        self._proxy_estimator = estimator
        self._proxy_predictions = predictions
        self._proxy_job = job
        self._proxy_X = X

    def __getattr__(self, name):
        # Prediction methods exist only on the class (see proxy_class); the
        # _proxy_ guard keeps copy/pickle from recursing before __init__.
        if name.startswith("_proxy_") or name in PREDICTION_METHODS:
            raise AttributeError(name)
        return getattr(self._proxy_estimator, name)

    def __sklearn_is_fitted__(self):
        return True

    def __repr__(self):
        return f"CachedPredictionProxy({self._proxy_estimator!r})"


def _cached_method(name):
    def method(self, X, *args, **kwargs):
        if X is self._proxy_X and not args and not kwargs:
            return self._proxy_predictions.job(name, self._proxy_job)
        return getattr(self._proxy_estimator, name)(X, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"CachedPredictionProxy.{name}"
    return method


@functools.cache
def proxy_class(methods):
    """Subclass of :class:`CachedPredictionProxy` with exactly ``methods``."""
    namespace = {m: _cached_method(m) for m in PREDICTION_METHODS if m in methods}
    return type("CachedPredictionProxy", (CachedPredictionProxy,), namespace)


# -------------------------------------------------------------------- scoring
def _is_predict_based_score(func):
    """Whether ``func(self, X, y)`` only uses ``self.predict(X)`` to score.

    Calling such a function with a proxy as ``self`` scores the cached
    predictions with exactly the estimator's own ``score`` semantics.
    """
    if func is None:
        return False
    if func in (ClassifierMixin.score, RegressorMixin.score):
        return True
    # scikeras's BaseWrapper.score: validates y, then scorer(y, self.predict(X)).
    return (
        getattr(func, "__module__", None) == "scikeras.wrappers"
        and getattr(func, "__qualname__", None) == "BaseWrapper.score"
    )


class EstimatorScore:
    """``scoring=None``: the estimator's own ``score``, batched where safe.

    When the estimator's ``score`` is known to score ``self.predict(X)``
    (sklearn's classifier and regressor mixins, scikeras's wrappers, and a
    Pipeline whose final step has such a ``score``), it is called with the
    proxy as ``self`` so that it scores cached predictions; otherwise
    ``estimator.score(X, y)`` is called on the real estimator for each job.
    """

    def __init__(self, estimator):
        self.func = None
        self.final_step = False
        func = getattr(getattr(estimator, "score", None), "__func__", None)
        if _is_predict_based_score(func):
            self.func = func
        elif (
            getattr(func, "__qualname__", None) == "Pipeline.score"
            and getattr(func, "__module__", None) == "sklearn.pipeline"
        ):
            final = estimator.steps[-1][1]
            final_func = getattr(getattr(final, "score", None), "__func__", None)
            if _is_predict_based_score(final_func):
                # Pipeline.score(X, y) == final.score(transform(X), y), which
                # scores final.predict(transform(X)) == pipeline.predict(X).
                self.func = final_func
                self.final_step = True

    def __call__(self, estimator, X, y):
        if self.func is not None and isinstance(estimator, CachedPredictionProxy):
            if self.final_step:
                estimator = type(estimator)(
                    estimator._proxy_estimator.steps[-1][1],
                    estimator._proxy_predictions,
                    estimator._proxy_job,
                    estimator._proxy_X,
                )
            return self.func(estimator, X, y)
        return estimator.score(X, y)


def make_fold_scorer(estimator, scoring):
    """The scorer for ``effect="score"``: sklearn's for str/callable ``scoring``."""
    from sklearn.metrics import check_scoring

    if scoring is None:
        if not hasattr(estimator, "score"):
            raise TypeError(
                "scoring=None uses the estimator's score method, but "
                f"{type(estimator).__name__} has none; pass scoring (a scorer name "
                "or callable) or choose effect='rms' or effect='mae'."
            )
        return EstimatorScore(estimator)
    return check_scoring(estimator, scoring=scoring)


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
    perturbation : :class:`~seqimportance._perturbation.Perturbation`
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
        (:mod:`seqimportance._masked_effects`).
    seed_keys : list of int or None
        What seeds each unit's generators in place of its position (see
        :func:`~seqimportance._perturbation.group_seed_keys`); None uses the
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
        n_samples = self.X.shape[0]
        if self.effect == "score":
            predictions = self._chunk_predictions(self.X)
            if self._masked is not None:
                self.baseline_score = self._masked.baseline(predictions)
                return self
            X_input = to_estimator_input(self.X, self.input_ndim, self.feature_names)
            proxy = proxy_class(self._proxy_methods())(
                self.estimator, predictions, 0, X_input
            )
            self.baseline_score = float(self.scorer(proxy, X_input, self.y))
        else:
            raw = self._chunk_predictions(self.X).get(self.method)
            self.baseline_predictions = flat_predictions(raw, n_samples)
            if self._masked is not None:
                self._masked.set_outputs(raw)
        return self

    def _proxy_methods(self):
        return frozenset(m for m in PREDICTION_METHODS if hasattr(self.estimator, m))

    def _chunk_predictions(self, batch, jobs=None):
        first_steps = None
        if jobs is not None:
            first_steps = self._first_steps[np.asarray(jobs)[:, 0]]
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

    def build_batch(self, jobs):
        """Perturbed copies of ``X`` for ``jobs``, stacked along axis 0.

        Parameters
        ----------
        jobs : ndarray of shape (n_jobs_in_chunk, 2)
            ``(unit, repeat)`` rows.

        Returns
        -------
        batch : ndarray of shape (n_jobs_in_chunk * n_samples, n_timesteps, n_features)
            Rows ``i * n_samples`` to ``(i + 1) * n_samples`` hold job ``i``.
        """
        X = self.X
        n_samples = X.shape[0]
        batch = aligned_empty((len(jobs) * n_samples,) + X.shape[1:], X.dtype)
        batch.reshape((len(jobs),) + X.shape)[...] = X  # one vectorised copy
        for i, (unit, repeat) in enumerate(jobs.tolist()):
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
        """Effect of each job of a chunk: ndarray of shape (n_jobs_in_chunk,)."""
        n_jobs, n_samples = len(jobs), self.X.shape[0]
        batch = self.build_batch(jobs)
        if self._masked is not None:
            return self._masked.evaluate(jobs, batch)
        if self.effect != "score":
            raw = self._chunk_predictions(batch, jobs).get(self.method)
            predictions = flat_predictions(raw, n_jobs * n_samples)
            diff = (
                predictions.reshape(n_jobs, n_samples, -1) - self.baseline_predictions
            )
            if self.effect == "rms":
                return np.sqrt(np.mean(np.square(diff), axis=(1, 2)))
            return np.mean(np.abs(diff), axis=(1, 2))
        predictions = self._chunk_predictions(batch, jobs)
        proxy_cls = proxy_class(self._proxy_methods())
        scores = np.empty(n_jobs)
        for i in range(n_jobs):
            X_i = to_estimator_input(
                batch[i * n_samples : (i + 1) * n_samples],
                self.input_ndim,
                self.feature_names,
            )
            scores[i] = self.scorer(
                proxy_cls(self.estimator, predictions, i, X_i), X_i, self.y
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
        With its baseline computed.
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
