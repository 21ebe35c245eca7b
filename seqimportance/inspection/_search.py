"""make_importance_scorer: importances reported by every search.

The scorer returns a dict, which scikit-learn's searches and
``cross_validate`` treat as several metrics: the baseline score, and the
importance of every unit, each computed by
:class:`~seqimportance.SequencePermutationImportance` with ``cv="prefit"`` on
the held-out split. ``cv_results_`` then holds the mean and standard
deviation over the splits of every unit's importance, for every candidate.
"""

from sklearn.metrics import check_scoring

from ._importance import SequencePermutationImportance

__all__ = ["make_importance_scorer"]

# Set by the scorer itself: the model comes from the search, evaluated on the
# split it is given.
_OWN = ("estimator", "scoring", "cv", "refit")


class _ImportanceScorer:
    """Callable ``(estimator, X, y) -> dict``: baseline score and importances."""

    def __init__(self, scoring, importance_params):
        self.scoring = scoring
        self.importance_params = importance_params

    def __call__(self, estimator, X, y=None):
        imp = SequencePermutationImportance(
            estimator, scoring=self.scoring, cv="prefit", **self.importance_params
        ).fit(X, y)
        if imp.scores_ is not None:
            score = imp.scores_[0]
        else:  # effect="rms"/"mae": the score is still the scorer's
            score = check_scoring(estimator, self.scoring)(estimator, X, y)
        result = {"score": float(score)}
        for name, value in zip(imp.unit_names_, imp.feature_importances_):
            result[f"importance_{name}"] = float(value)
        return result

    def __repr__(self):
        params = {"scoring": self.scoring, **self.importance_params}
        args = ", ".join(f"{key}={value!r}" for key, value in params.items())
        return f"make_importance_scorer({args})"


def make_importance_scorer(scoring=None, **importance_params):
    """Scorer that reports the importance of every unit next to the score.

    Use it as ``scoring=`` of :class:`~sklearn.model_selection.GridSearchCV`,
    :class:`~sklearn.model_selection.RandomizedSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`. On each split it runs
    ``SequencePermutationImportance(estimator, scoring=scoring, cv="prefit",
    **importance_params).fit(X_test, y_test)`` on the model fitted to the
    training part, and returns a dict:

    - ``"score"``: the baseline score of ``scoring`` on the split;
    - ``"importance_<unit>"``: the mean importance of each unit (for
      example ``"importance_x0"``, ``"importance_t3"``,
      ``"importance_x1@t2"``, or a group's name).

    So ``cv_results_`` holds ``mean_test_importance_<unit>`` and
    ``std_test_importance_<unit>`` (across splits) for every candidate.
    Searches need to be told which entry picks the best candidate:
    ``refit="score"``. Pass an int ``random_state`` so that the numbers are
    those of ``SequencePermutationImportance`` on the same split and seed.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        The score, and the scorer of ``effect="score"``: a scorer name, a
        callable ``scorer(estimator, X, y)``, or None for the estimator's
        ``score`` method.
    **importance_params
        Parameters of :class:`SequencePermutationImportance` other than
        ``estimator``, ``scoring``, ``cv`` and ``refit``: ``n_iter``,
        ``random_state``, ``perturbation``, ``axis``, ``groups``,
        ``effect``, ``n_jobs``, ...

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returning the dict described above.

    See Also
    --------
    SequencePermutationImportance : The importances of one model.

    Examples
    --------
    Importances of every candidate of a grid search, side by side:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import GridSearchCV
    >>> from seqimportance import make_importance_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 3))
    >>> y = X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.normal(size=300)
    >>> search = GridSearchCV(
    ...     Ridge(),
    ...     {"alpha": [0.1, 100.0, 1000.0]},
    ...     scoring=make_importance_scorer("r2", n_iter=5, random_state=0),
    ...     refit="score",
    ... ).fit(X, y)
    >>> results = pd.DataFrame(search.cv_results_)
    >>> table = results.filter(like="mean_test_").rename(
    ...     columns=lambda name: name.replace("mean_test_", "")
    ... )
    >>> table.insert(0, "alpha", results["param_alpha"])
    >>> print((table.astype(float).round(2) + 0.0).to_string(index=False))
     alpha  score  importance_x0  importance_x1  importance_x2
       0.1   0.83           1.39           0.35            0.0
     100.0   0.75           0.95           0.22            0.0
    1000.0   0.24           0.25           0.05            0.0
    """
    taken = sorted(set(importance_params) & set(_OWN))
    unknown = sorted(
        set(importance_params) - set(SequencePermutationImportance._get_param_names())
    )
    if taken or unknown:
        raise TypeError(
            f"make_importance_scorer got unexpected keyword arguments "
            f"{taken + unknown}; **importance_params are the parameters of "
            f"SequencePermutationImportance other than {list(_OWN)}."
        )
    return _ImportanceScorer(scoring, importance_params)
