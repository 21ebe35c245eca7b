"""Figure and printed tables of the "Deciding with importances" page.

Run from the repository root to regenerate ``docs/_static/decisions.png``;
the tables it prints are the outputs shown on the page::

    python docs/decisions_figure.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from seqimportance import (  # noqa: E402
    SequencePermutationImportance,
    SequenceSelectFromModel,
    make_importance_scorer,
    permutation_test_importance,
)
from seqimportance.datasets import make_lagged_regression  # noqa: E402
from seqimportance.plotting import plot_importances  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "decisions.png"


def flatten(X):
    return X.reshape(len(X), -1)


def main():
    pd.set_option("display.width", 100)
    X, y = make_lagged_regression(
        400, n_timesteps=8, n_features=6, lags=(0, 2, 4),
        coef=(1.0, 0.5, 0.2), noise=1.0, random_state=0,
    )
    model = make_pipeline(FunctionTransformer(flatten), Ridge(alpha=1.0))

    perm = SequencePermutationImportance(
        model, scoring="neg_mean_squared_error", cv=5, n_iter=5, random_state=0
    ).fit(X, y)
    print(perm.to_frame().round(4).to_string(index=False))

    pimp = permutation_test_importance(
        model, X, y, scoring="neg_mean_squared_error", cv=5, n_iter=2,
        n_permutations=99, random_state=0,
    )
    print("PIMP p-values:", pimp.pvalues.round(2))

    selector = SequenceSelectFromModel(
        SequencePermutationImportance(
            model, scoring="neg_mean_squared_error", cv=5, random_state=0
        ),
        threshold="significant",
    ).fit(X, y)
    print("selected:", selector.get_feature_names_out())

    search = GridSearchCV(
        model,
        {"ridge__alpha": [1.0, 300.0, 3000.0]},
        scoring=make_importance_scorer(
            "neg_mean_squared_error", n_iter=5, random_state=0
        ),
        refit="score",
        cv=5,
    ).fit(X, y)
    results = pd.DataFrame(search.cv_results_)
    table = results.filter(like="mean_test_").rename(
        columns=lambda name: name.replace("mean_test_importance_", "")
        .replace("mean_test_", "")
    )
    table.insert(0, "alpha", results["param_ridge__alpha"])
    print((table.astype(float).round(3) + 0.0).to_string(index=False))

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    plot_importances(perm, ci=0.95, alpha=0.05, ax=left)
    left.set_title("5-fold importances, 95% intervals, p < 0.05")
    shown = ((1, "C1"), (4, "C2"))
    values = np.concatenate(
        [pimp.null_importances[unit] for unit, _ in shown]
        + [pimp.importances_mean[[unit for unit, _ in shown]]]
    )
    bins = np.histogram_bin_edges(values, bins=40)
    for unit, color in shown:
        right.hist(pimp.null_importances[unit], bins=bins, alpha=0.6, color=color,
                   label=f"null of x{unit}; observed: line, p = "
                   f"{pimp.pvalues[unit]:.2f}")
        right.axvline(pimp.importances_mean[unit], color=color, linewidth=2)
    right.set_xlabel("Importance (decrease in score)")
    right.set_ylabel("Permuted targets")
    right.set_title("PIMP: observed (lines) vs 99 null runs")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT, dpi=90)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
