"""The example notebook runs as a user runs it, and shows what its data imply.

``docs/example_notebook.ipynb`` is executed from the top in a fresh Jupyter
kernel (a copy of it, in a temporary folder: the stored notebook is never
rewritten). Every cell must run without an error, and the eli5 display must
show the table of weights with x1 and x2, the two features that decide the
planted target ``x1 * x2 < 0.25``, far above the noise feature x3.
"""

import copy
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("eli5")

from nbclient.exceptions import CellExecutionError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "example_notebook.ipynb"
FEATURES = ["x1", "x2", "x3"]
CELL_TIMEOUT = 300  # seconds per cell; the whole notebook takes about 15 s

pytestmark = pytest.mark.slow


def _kernel_env():
    """The environment of the kernel: this one, with the backend fixed and
    this source tree first on the path (the kernel runs in another folder)."""
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    return env


def execute(notebook, folder):
    """Run every cell of ``notebook`` (in place) in a new ``python3`` kernel
    working in ``folder``; a cell that raises fails the calling test."""
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
        startup_timeout=120, allow_errors=False,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute(env=_kernel_env())
    except CellExecutionError as error:
        pytest.fail(f"a cell of {NOTEBOOK.name} raised an error:\n{error}")
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return execute(copy.deepcopy(notebook), folder)


def _code_cell(notebook, text):
    cells = [c for c in notebook.cells
             if c.cell_type == "code" and text in c.source]
    assert len(cells) == 1, f"expected one code cell with {text!r}"
    return cells[0]


def _output(cell, mime):
    for output in cell.outputs:
        data = output.get("data", {})
        if mime in data:
            return data[mime]
    pytest.fail(f"the cell {cell.source!r} showed no {mime} output")


class _Rows(HTMLParser):
    """Text of the cells of each body row of an HTML table."""

    def __init__(self):
        super().__init__()  # converts &plusmn; and other references
        self.rows, self._row, self._cell, self._in_body = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _eli5_table(html):
    """(feature, weight, 2·std) of each row of eli5's weights table, in order."""
    parser = _Rows()
    parser.feed(html)
    table = []
    for weight_text, feature in parser.rows:
        match = re.fullmatch(r"(-?\d+\.\d+)(?: ± (\d+\.\d+))?", weight_text)
        assert match, f"not a weight: {weight_text!r}"
        table.append((feature, float(match[1]), float(match[2] or 0)))
    return table


def test_every_cell_runs_and_shows_its_result(executed):
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert not [o for o in cell.outputs if o.output_type == "error"]
        # each code cell of the example ends with an expression to show
        assert any(o.output_type == "execute_result" for o in cell.outputs), (
            f"the cell {cell.source!r} showed nothing"
        )
    shape = _output(_code_cell(executed, "make_seed_sequences("), "text/plain")
    assert shape == "(400, 5, 3)"


def test_eli5_display_shows_the_weights_table(executed):
    html = _output(_code_cell(executed, "eli5.show_weights(perm)"), "text/html")
    assert "<table" in html and "eli5-weights" in html
    assert "Weight" in html and "Feature" in html
    table = _eli5_table(html)
    assert sorted(feature for feature, _, _ in table) == FEATURES
    for feature, weight, spread in table:
        assert f"{weight:.4f}" in html and feature in html
        assert spread > 0  # weight ± 2·std over the repeats
    # the weights are the fitted importances the notebook printed before
    printed = _output(_code_cell(executed, "feature_importances_"), "text/plain")
    values = [float(v) for v in re.findall(r"-?\d+\.\d+", printed)]
    assert len(values) == len(FEATURES)
    by_name = {feature: weight for feature, weight, _ in table}
    for name, value in zip(FEATURES, values):
        assert by_name[name] == pytest.approx(value, abs=6e-4)


def test_ranking_is_what_the_planted_data_imply(executed):
    table = _eli5_table(
        _output(_code_cell(executed, "eli5.show_weights(perm)"), "text/html")
    )
    weights = [weight for _, weight, _ in table]
    assert weights == sorted(weights, reverse=True)  # eli5 sorts by weight
    names = [feature for feature, _, _ in table]
    # x1 and x2 decide the target, x3 is noise: x3 comes last, far below
    assert set(names[:2]) == {"x1", "x2"} and names[2] == "x3"
    by_name = {feature: (weight, spread) for feature, weight, spread in table}
    noise, noise_spread = by_name["x3"]
    assert noise >= 0
    for name in ("x1", "x2"):
        weight, spread = by_name[name]
        assert weight > 5 * noise
        assert weight - spread > noise + noise_spread  # the intervals are apart
    # the table of the next cell ranks the units the same way
    frame = _output(_code_cell(executed, "perm.to_frame()"), "text/plain")
    means = {line.split()[1]: float(line.split()[2])
             for line in frame.splitlines()[1:]}
    assert sorted(means, key=means.get, reverse=True)[2] == "x3"
    for name, (weight, _) in by_name.items():
        assert means[name] == pytest.approx(weight, abs=1e-4)

