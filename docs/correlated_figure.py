"""Figure and printed numbers of the "Correlated inputs" page.

Run from the repository root to regenerate ``docs/_static/correlated.png``;
the numbers it prints are those shown on the page::

    python docs/correlated_figure.py
"""

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from seqimportance import SequencePermutationImportance, cluster_features  # noqa: E402
from seqimportance.plotting import plot_feature_correlation  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "correlated.png"
NAMES = ["x0", "x1", "x2", "x3"]


def make_data(n, rng):
    """x3 is a near copy of x0; y depends on x0 and x1 at the last two steps."""
    X = rng.standard_normal((n, 8, 4))
    X[:, :, 3] = X[:, :, 0] + 0.1 * rng.standard_normal((n, 8))
    y = X[:, -1, 0] + X[:, -2, 0] + 0.5 * X[:, -1, 1] + 0.3 * rng.standard_normal(n)
    return X, y


def flatten(X):
    return X.reshape(len(X), -1)


def main():
    rng = np.random.default_rng(0)
    X_train, y_train = make_data(2000, rng)
    X_test, y_test = make_data(1000, rng)
    model = make_pipeline(FunctionTransformer(flatten), RidgeCV()).fit(
        X_train, y_train
    )
    common = {"scoring": "neg_mean_squared_error", "n_iter": 10, "random_state": 0}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        marginal = SequencePermutationImportance(model, **common).fit(X_test, y_test)
    for w in caught:
        print("warning:", str(w.message)[:160], "...")
    conditional = SequencePermutationImportance(
        model, perturbation="conditional", **common
    ).fit(X_test, y_test)
    groups = cluster_features(X_test, threshold=0.8)
    grouped = SequencePermutationImportance(model, groups=groups, **common).fit(
        X_test, y_test
    )
    print("groups:", groups)
    print("unit   marginal  conditional")
    for name, m, c in zip(
        NAMES, marginal.feature_importances_, conditional.feature_importances_
    ):
        print(f"{name:5s} {m:9.3f} {c:12.3f}")
    print("grouped (shuffle):")
    for name, m in zip(grouped.unit_names_, grouped.feature_importances_):
        print(f"  {name:6s} {m:.3f}")

    fig, (ax0, ax1, ax2) = plt.subplots(
        1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [1.4, 1, 1]}
    )
    position = np.arange(len(NAMES))
    ax0.barh(position + 0.2, marginal.feature_importances_, height=0.4,
             xerr=marginal.feature_importances_std_, label="marginal (shuffle)")
    ax0.barh(position - 0.2, conditional.feature_importances_, height=0.4,
             xerr=conditional.feature_importances_std_, label="conditional")
    ax0.set_yticks(position, labels=NAMES)
    ax0.invert_yaxis()
    ax0.set_xlabel("Importance (increase in MSE)")
    ax0.set_title("x3 is a near copy of x0")
    ax0.legend(loc="lower right", fontsize=8)
    names = list(grouped.unit_names_)
    ax1.barh(np.arange(len(names)), grouped.feature_importances_,
             xerr=grouped.feature_importances_std_, color="C2")
    ax1.set_yticks(np.arange(len(names)), labels=names)
    ax1.invert_yaxis()
    ax1.set_xlabel("Importance (increase in MSE)")
    ax1.set_title("groups=cluster_features(X)")
    plot_feature_correlation(X_test, ax=ax2)
    ax2.set_title("Spearman correlation")
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
