"""Draw docs/_static/time_structure.png: windows of timesteps and time_shuffle.

Run from the repository root: ``python docs/figures/time_structure.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402

from seqimportance import SequencePermutationImportance  # noqa: E402
from seqimportance.plotting import plot_timestep_importances  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "_static" / "time_structure.png"


class Flat(RegressorMixin, BaseEstimator):
    """A ridge regression on the flattened sequences."""

    def fit(self, X, y):
        self.model_ = Ridge(alpha=1.0).fit(X.reshape(len(X), -1), y)
        return self

    def predict(self, X):
        return self.model_.predict(np.asarray(X).reshape(len(X), -1))


class Summary(RegressorMixin, BaseEstimator):
    """Predicts one summary of feature 0: its mean or its last value."""

    def __init__(self, summary="mean"):
        self.summary = summary

    def fit(self, X, y=None):
        return self

    def __sklearn_is_fitted__(self):
        return True

    def predict(self, X):
        x0 = np.asarray(X)[:, :, 0]
        return x0.mean(axis=1) if self.summary == "mean" else x0[:, -1]


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 30, 2))
    # The target reads the period t10-t14 of x0 (and a little of x1 at t25).
    y = X[:, 10:15, 0].sum(axis=1) + 0.5 * X[:, 25, 1] + 0.3 * rng.normal(size=600)
    train, test = slice(0, 400), slice(400, 600)
    model = Flat().fit(X[train], y[train])

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for window, color in ((1, "0.6"), (5, "C0")):
        imp = SequencePermutationImportance(
            model, scoring="r2", axis="timestep", window=window, n_iter=10,
            random_state=0,
        ).fit(X[test], y[test])
        plot_timestep_importances(
            imp, ax=left, kind="bar" if window == 5 else "line",
            color=color, label=f"window={window}",
            **({"width": 4.2, "align": "edge", "alpha": 0.5} if window == 5 else {}),
        )
    left.set_title("Periods: axis='timestep', window=5")
    left.set_xlabel("Timestep")
    left.legend()

    labels, values = [], {"shuffle": [], "time_shuffle": []}
    for summary in ("mean", "last"):
        labels.append(f"model of the {summary}\nof x0")
        for perturbation in values:
            imp = SequencePermutationImportance(
                Summary(summary), perturbation=perturbation, effect="rms",
                n_iter=10, random_state=0,
            ).fit(X[test])
            values[perturbation].append(imp.feature_importances_[0])
    pos = np.arange(len(labels))
    right.bar(pos - 0.2, values["shuffle"], 0.4, label="shuffle (across samples)")
    right.bar(pos + 0.2, values["time_shuffle"], 0.4,
              label="time_shuffle (order within a sample)")
    right.set_xticks(pos, labels=labels)
    right.set_ylabel("Importance of x0 (RMS change)")
    right.set_title("Does the order matter?")
    right.set_ylim(0, 1.3 * max(values["shuffle"] + values["time_shuffle"]))
    right.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")
    for name, vals in values.items():
        print(name, np.round(vals, 3))


if __name__ == "__main__":
    main()
