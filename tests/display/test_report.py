"""The HTML report: self-contained, complete, and the numbers of the estimator."""

import html.parser
import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import seqimportance
from seqimportance import SequencePermutationImportance, report
from seqimportance.display._model_summary import summarize_model

pytest.importorskip("matplotlib")


def _flatten(X):
    return X.reshape(len(X), -1)


def _fitted(axis="feature", **params):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5, 3))
    y = 2 * X[:, :, 0].sum(axis=1) + X[:, 2, 1]
    model = make_pipeline(FunctionTransformer(_flatten), LinearRegression()).fit(X, y)
    perm = SequencePermutationImportance(
        model, axis=axis, n_iter=4, random_state=0, **params
    ).fit(X, y)
    return perm, X


class _Resources(html.parser.HTMLParser):
    """Every URL-valued attribute and the text of <style> elements."""

    URL_ATTRIBUTES = {"src", "href", "srcset", "data", "poster", "action",
                      "formaction", "background", "xlink:href", "manifest"}

    def __init__(self):
        super().__init__()
        self.urls, self.tags, self.styles, self._in_style = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in self.URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
            if name == "style" and value:
                self.styles.append(value)

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.mark.parametrize("axis", ["feature", "timestep", "both"])
def test_report_has_no_external_resource(axis):
    perm, X = _fitted(axis)
    text = report(perm, X=X)
    parser = _Resources()
    parser.feed(text)
    assert parser.urls, "the figures are embedded as data: URIs"
    for url in parser.urls:
        assert url.startswith("data:") or url.startswith("#"), url
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "iframe" not in parser.tags and "object" not in parser.tags
    for css in parser.styles:
        assert "@import" not in css and "url(" not in css
    without_data = re.sub(r"data:[^\"']*", "data:", text)  # base64 holds "//"
    assert not re.search(r"(https?:|ftp:)?//[a-z0-9]", without_data, flags=re.I)


@pytest.mark.parametrize("axis, n_figures", [("feature", 1), ("timestep", 2),
                                             ("both", 3)])
def test_report_shows_the_plots_the_axis_asks_for(axis, n_figures):
    perm, X = _fitted(axis)
    text = report(perm, X=X)
    assert text.count("<img ") == n_figures
    assert ("Heat map" in text) == (axis == "both")
    assert ("Importance over time" in text) == (axis != "feature")


def test_report_table_holds_the_estimators_numbers(tmp_path):
    perm, X = _fitted(feature_names=["u", "v", "w"])
    path = tmp_path / "r.html"
    text = report(perm, path, X=X, level=0.9, data_description="train.npz")
    assert path.read_text(encoding="utf-8") == text
    rows = re.findall(r"<tr><td>(\d+)</td><td class=\"name\">([^<]+)</td>"
                      r"<td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>"
                      r"<td>([^<]+)</td><td>([^<]+)</td>", text)
    assert [r[1] for r in rows] == ["u", "v", "w"]  # ranked: u, then v
    intervals = perm.confidence_intervals(0.9)
    for rank, name, mean, std, low, high, p in rows:
        i = ["u", "v", "w"].index(name)
        assert mean == f"{perm.feature_importances_[i]:.4f}"
        assert std == f"{perm.feature_importances_std_[i]:.4f}"
        assert low == f"{intervals[i, 0]:.4f}" and high == f"{intervals[i, 1]:.4f}"
    assert "90% CI lower" in text
    assert "120 x 5 x 3" in text and "train.npz" in text
    # the description of the method is the one the eli5 display shows
    assert "Correlated inputs share importance" in text
    assert "Importances of the inputs of a sequence model" in text
    assert "LinearRegression" in text


def test_to_html_is_report(tmp_path):
    perm, X = _fitted()
    path = tmp_path / "a.html"
    assert perm.to_html(path, X=X) == report(perm, X=X)
    assert path.exists()
    assert "to_html" in vars(SequencePermutationImportance)
    assert "report" in seqimportance.__all__


def test_report_needs_a_fitted_estimator():
    with pytest.raises(NotFittedError):
        report(SequencePermutationImportance(LinearRegression()))


class _Layer:
    def __init__(self, name, params, shape):
        self.name, self._params = name, params
        self.output = type("T", (), {"shape": shape})()

    def count_params(self):
        return self._params


class LSTM(_Layer):
    pass


class Dense(_Layer):
    pass


class _FakeKerasModel:
    """What the summary reads of a Keras model, by duck typing."""

    name = "tiny"
    layers = [LSTM("lstm", 128, (None, 4)), Dense("dense", 5, (None, 1))]
    inputs = [type("T", (), {"shape": (None, 10, 3)})()]
    outputs = [type("T", (), {"shape": (None, 1)})()]
    trainable_weights = [np.zeros((3, 16)), np.zeros((4, 16)), np.zeros(16),
                         np.zeros((4, 1)), np.zeros(1)]

    def count_params(self):
        return 133


class _Wrapper:
    model_ = _FakeKerasModel()


def test_model_summary_reads_a_keras_model_by_duck_typing():
    summary = summarize_model(_Wrapper())
    assert summary["kind"] == "keras"
    assert summary["input_shape"] == "(None, 10, 3)"
    assert summary["layers"][0] == ("lstm", "LSTM", "(None, 4)", 128)
    assert summary["total_params"] == summary["trainable_params"] == 133
    perm, _ = _fitted()
    text = report(perm, model_summary=summary)
    assert "(None, 10, 3)" in text and "LSTM" in text and ">133<" in text
