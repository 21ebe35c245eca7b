"""eli5 reads SequencePermutationImportance as it reads its own PermutationImportance."""

import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from seqimportance import SequencePermutationImportance

eli5 = pytest.importorskip("eli5")
pd = pytest.importorskip("pandas")
from eli5.formatters import fields  # noqa: E402
from eli5.sklearn import PermutationImportance  # noqa: E402

N_ITER = 4


class FlattenRegression(RegressorMixin, BaseEstimator):
    """Linear regression on the flattened sequence: accepts 3-D input."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.n_timesteps_, self.n_features_in_ = X.shape[1], X.shape[2]
        self.model_ = LinearRegression().fit(X.reshape(len(X), -1), y)
        return self

    def predict(self, X):
        X = np.asarray(X)
        return self.model_.predict(X.reshape(len(X), -1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


@pytest.fixture(scope="module")
def data_2d():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = 3 * X[:, 1] + 2 * X[:, 3] + X[:, 0] + 0.1 * rng.normal(size=300)
    return X, y


@pytest.fixture(scope="module")
def ours_and_eli5(data_2d):
    """Ours and eli5's on the same 2-D data, eli5's holding our numbers."""
    X, y = data_2d
    model = LinearRegression().fit(X, y)
    ours = SequencePermutationImportance(model, n_iter=N_ITER, random_state=0).fit(X, y)
    theirs = PermutationImportance(model, n_iter=N_ITER, random_state=0).fit(X, y)
    # eli5's own numbers agree with ours up to the random permutations ...
    assert np.allclose(theirs.feature_importances_, ours.feature_importances_,
                       rtol=0.15, atol=0.01)
    # ... and for an exact comparison of the display it gets ours.
    theirs.feature_importances_ = ours.feature_importances_.copy()
    theirs.feature_importances_std_ = ours.feature_importances_std_.copy()
    theirs.results_ = [r.copy() for r in ours.results_]
    return ours, theirs


DISPLAY_KWARGS = [
    {},
    {"top": 3},
    {"top": None},
    {"feature_names": ["a", "b", "c", "d", "e"]},
    {"feature_names": ["a", "b", "c", "d", "e"], "top": 2},
    {"feature_re": "^x[13]"},
    {"feature_filter": lambda name: name != "x1"},
]


@pytest.mark.parametrize("kwargs", DISPLAY_KWARGS)
def test_text_and_dataframe_match_eli5_permutation_importance(ours_and_eli5, kwargs):
    ours, theirs = ours_and_eli5
    expl_ours = eli5.explain_weights(ours, **kwargs)
    kwargs_theirs = dict(kwargs)
    if "feature_names" not in kwargs:
        # eli5 filters only explicit names (its default x0, x1, ... never
        # match feature_re); ours always has unit_names_.
        kwargs_theirs["feature_names"] = [f"x{i}" for i in range(5)]
    expl_theirs = eli5.explain_weights(theirs, **kwargs_theirs)
    assert expl_ours.error is None
    assert expl_ours.method == expl_theirs.method
    assert expl_ours.is_regression is True
    assert expl_ours.feature_importances.importances  # not an empty table
    show = ("method",) + fields.WEIGHTS  # everything but the description
    assert eli5.format_as_text(expl_ours, show=show) == eli5.format_as_text(
        expl_theirs, show=show
    )
    pd.testing.assert_frame_equal(
        eli5.format_as_dataframe(expl_ours), eli5.format_as_dataframe(expl_theirs)
    )
    # the only difference in the full text is the description
    full_ours = eli5.format_as_text(expl_ours)
    full_theirs = eli5.format_as_text(expl_theirs)
    assert full_ours.replace(expl_ours.description, "") == full_theirs.replace(
        expl_theirs.description, ""
    )


def test_table_is_sorted_with_weight_plus_minus_two_std(ours_and_eli5):
    ours, _ = ours_and_eli5
    order = np.argsort(-ours.feature_importances_)
    text = eli5.format_as_text(eli5.explain_weights(ours), show=fields.WEIGHTS)
    rows = [line.split() for line in text.strip().splitlines()]
    assert [row[-1] for row in rows] == [f"x{i}" for i in order]
    for row, i in zip(rows, order):
        assert float(row[0]) == pytest.approx(ours.feature_importances_[i], abs=1e-4)
        assert row[1] == "±"
        assert float(row[2]) == pytest.approx(
            2 * ours.feature_importances_std_[i], abs=1e-4
        )
    df = eli5.format_as_dataframe(eli5.explain_weights(ours))
    assert list(df.columns) == ["feature", "weight", "std"]
    assert np.allclose(df["std"], ours.feature_importances_std_[order])  # raw std
    assert np.allclose(df["weight"], ours.feature_importances_[order])


def test_html_shows_weight_plus_minus_two_std(ours_and_eli5):
    ours, _ = ours_and_eli5
    top = int(np.argmax(ours.feature_importances_))
    html = eli5.format_as_html(eli5.explain_weights(ours))
    weight = f"{ours.feature_importances_[top]:.4f}"
    two_std = f"{2 * ours.feature_importances_std_[top]:.4f}"
    assert re.search(rf"{weight}\s*&plusmn; {two_std}\s*</td>\s*<td[^>]*>\s*x{top}",
                     html)


def test_show_weights_in_ipython(ours_and_eli5):
    pytest.importorskip("IPython")
    ours, _ = ours_and_eli5
    shown = eli5.show_weights(ours, feature_names=list("abcde"), top=2)
    top2 = np.argsort(-ours.feature_importances_)[:2]
    assert type(shown).__name__ == "HTML"
    for i in top2:
        assert f"&plusmn; {2 * ours.feature_importances_std_[i]:.4f}" in shown.data
        assert "abcde"[i] in shown.data


def test_description_has_the_caveats(data_2d):
    X, y = data_2d
    model = LinearRegression().fit(X, y)
    perm = SequencePermutationImportance(
        model, perturbation="gaussian", scale=0.3, effect="rms", n_iter=2,
        random_state=0,
    ).fit(X, y)
    description = eli5.explain_weights(perm).description
    assert " ".join(perm.caveats_.split()) in " ".join(description.split())
    assert "root mean square change" in description
    assert "gaussian noise of scale 0.3" in " ".join(description.split())
    assert max(len(line) for line in description.splitlines()) <= 72
    text = eli5.format_as_text(eli5.explain_weights(perm))
    assert "Explained as: feature importances" in text


def test_unfitted_raises_not_fitted():
    with pytest.raises(NotFittedError):
        eli5.explain_weights(SequencePermutationImportance(LinearRegression()))


# --- unit names on 3-D data ------------------------------------------------


@pytest.fixture(scope="module")
def data_3d():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 5, 3))
    y = 3 * X[:, 2, 0] + X[:, 4, 1]  # x0 at t2 and x1 at t4 matter, x2 never
    return X, y


def _fit(data, **params):
    X, y = data
    model = FlattenRegression().fit(X, y)
    return SequencePermutationImportance(model, n_iter=2, random_state=0,
                                         **params).fit(X, y)


def _names(expl):
    return [fw.feature for fw in expl.feature_importances.importances]


def test_timestep_units_are_named_t(data_3d):
    perm = _fit(data_3d, axis="timestep")
    assert _names(eli5.explain_weights(perm, top=2)) == ["t2", "t4"]
    lags = [f"t-{4 - t}" for t in range(5)]
    assert _names(eli5.explain_weights(perm, top=2, feature_names=lags)) == [
        "t-2", "t-0",
    ]
    with pytest.raises(ValueError, match="one name per timestep \\(5\\)"):
        eli5.explain_weights(perm, feature_names=["a", "b", "c"])


def test_both_units_map_feature_names_to_cells(data_3d):
    perm = _fit(data_3d, axis="both")
    assert _names(eli5.explain_weights(perm, top=2)) == ["x0@t2", "x1@t4"]
    expl = eli5.explain_weights(perm, top=2, feature_names=["temp", "rain", "wind"])
    assert _names(expl) == ["temp@t2", "rain@t4"]
    expl = eli5.explain_weights(perm, top=None, feature_re="@t4$")
    assert _names(expl)[0] == "x1@t4" and len(_names(expl)) == 3


def test_groups_are_named_by_group(data_3d):
    perm = _fit(data_3d, groups={"first": [0], "rest": [1, 2]})
    assert _names(eli5.explain_weights(perm)) == ["first", "rest"]
    expl = eli5.explain_weights(perm, feature_names=["temp", "rain", "wind"])
    assert _names(expl) == ["first (temp)", "rest (rain, wind)"]
    expl = eli5.explain_weights(perm, feature_names=["G1", "G2"])
    assert _names(expl) == ["G1", "G2"]
    with pytest.raises(ValueError, match="per input feature \\(3\\) or per group"):
        eli5.explain_weights(perm, feature_names=["a"])


def test_feature_units_use_dataframe_columns(data_2d):
    X, y = data_2d
    df = pd.DataFrame(X, columns=list("pqrst"))
    model = LinearRegression().fit(df, y)
    perm = SequencePermutationImportance(model, n_iter=2, random_state=0).fit(df, y)
    assert _names(eli5.explain_weights(perm, top=2)) == ["q", "s"]


# --- registration and imports ----------------------------------------------


def _run(code):
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3",
             "CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_seqimportance_imports_neither_eli5_tensorflow_nor_ipython():
    out = _run("""
        import sys
        import seqimportance
        heavy = [m for m in ("tensorflow", "keras", "IPython", "eli5")
                 if m in sys.modules]
        print(heavy)
    """)
    assert out.strip() == "[]"


@pytest.mark.parametrize("eli5_first", [False, True], ids=["eli5-after", "eli5-first"])
def test_registration_whatever_the_import_order(eli5_first):
    first, second = ("import eli5", "import seqimportance")
    if eli5_first:
        first, second = second, first
    out = _run(f"""
        import sys
        {first}
        {second}
        import numpy as np
        from sklearn.linear_model import LinearRegression
        from seqimportance import SequencePermutationImportance
        X = np.random.RandomState(0).normal(size=(50, 2))
        y = X[:, 1]
        perm = SequencePermutationImportance(
            LinearRegression().fit(X, y), n_iter=2, random_state=0
        ).fit(X, y)
        expl = eli5.explain_weights(perm)
        print(expl.error, [fw.feature for fw in expl.feature_importances.importances])
        print("IPython" in sys.modules)
    """)
    lines = out.strip().splitlines()
    assert lines[0] == "None ['x1', 'x0']"
    ipython_installed = _ipython_installed()
    assert lines[1] == str(ipython_installed)  # only eli5 itself imports it


def _ipython_installed():
    import importlib.util

    return importlib.util.find_spec("IPython") is not None
