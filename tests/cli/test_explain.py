"""The explain command: its numbers are the meta-estimator's, its errors one line."""

import csv
import json
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from seqimportance import SequencePermutationImportance
from seqimportance.__main__ import build_parser, main

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny trained LSTM saved as .keras, and its data as .npz."""
    keras = pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("explain")
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(48, 4, 3)).astype("float32")
    y = (2 * X[:, :, 0].sum(axis=1) + X[:, -1, 1]).astype("float32")
    model = keras.Sequential(
        [keras.Input((4, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, y, epochs=2, verbose=0)
    model_path = folder / "model.keras"
    model.save(model_path)
    data_path = folder / "data.npz"
    np.savez(data_path, X=X, y=y, feature_names=np.array(FEATURES))
    np.savez(folder / "no_target.npz", inputs=X)
    np.savez(folder / "wide.npz", X=rng.normal(size=(8, 4, 5)))
    return {"folder": folder, "model": str(model_path), "data": str(data_path),
            "X": X, "y": y}


def _explain(capsys, *argv):
    status = main(["explain", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _same(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


def test_json_and_csv_equal_the_python_results(files, capsys, tmp_path):
    out_json, out_csv = tmp_path / "imp.json", tmp_path / "imp.csv"
    status, out, err = _explain(
        capsys, files["model"], files["data"], "--random-state", "3",
        "--n-repeats", "3", "--perturbation", "gaussian", "--scale", "0.5",
        "--json", out_json, "--csv", out_csv, "--quiet",
    )
    assert status == 0, err
    perm = SequencePermutationImportance(
        files["model"], n_iter=3, random_state=3, perturbation="gaussian",
        scale=0.5, feature_names=FEATURES,
    ).fit(files["X"], files["y"])
    frame = perm.to_frame()
    document = json.loads(out_json.read_text())
    records = document["importances"]
    assert [r["unit"] for r in records] == FEATURES
    for record, (_, row) in zip(records, frame.iterrows()):
        for column in ("mean", "std", "ci_lower", "ci_upper", "pvalue"):
            assert _same(record[column], float(row[column])), column
    assert [r["repeats"] for r in records] == perm.importances_.tolist()
    assert document["options"]["perturbation"] == "gaussian"
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["unit"] for r in rows] == FEATURES
    for row, (_, expected) in zip(rows, frame.iterrows()):
        for column in ("mean", "std", "ci_lower", "ci_upper", "pvalue"):
            assert _same(float(row[column]), float(expected[column])), column
    # the printed table is ranked, eli5 style, with p-values
    lines = out.strip().splitlines()
    assert lines[0].split() == ["Weight", "±", "2·std", "p-value", "Feature"]
    ranked = list(frame.sort_values("mean", ascending=False, kind="stable")["unit"])
    assert [line.split()[-1] for line in lines[1:]] == ranked
    assert "SequencePermutationImportance" not in err  # --quiet: no progress bar


def test_prints_the_description_and_a_progress_bar(files, capsys):
    status, out, err = _explain(capsys, files["model"], files["data"],
                                "--random-state", "0", "--n-repeats", "2")
    assert status == 0
    assert "Importances of the inputs of a sequence model" in out
    assert "SequencePermutationImportance" in err  # tqdm, on stderr


def test_effect_without_a_target_and_axis_timestep(files, capsys, tmp_path):
    out_json = tmp_path / "t.json"
    status, out, err = _explain(
        capsys, files["model"], files["folder"] / "no_target.npz", "--x", "inputs",
        "--effect", "rms", "--axis", "timestep", "--window", "2",
        "--random-state", "1", "--n-repeats", "2", "--json", out_json, "--quiet",
    )
    assert status == 0, err
    units = [r["unit"] for r in json.loads(out_json.read_text())["importances"]]
    assert units == ["t0-t1", "t2-t3"]


def test_groups_by_name(files, capsys, tmp_path):
    out_json = tmp_path / "g.json"
    status, _, err = _explain(
        capsys, files["model"], files["data"], "--groups", "first=a,b;last=2",
        "--random-state", "0", "--n-repeats", "2", "--json", out_json, "--quiet",
    )
    assert status == 0, err
    document = json.loads(out_json.read_text())
    assert document["options"]["groups"] == {"first": [0, 1], "last": [2]}


def test_html_report_is_written(files, capsys, tmp_path):
    out_html = tmp_path / "report.html"
    status, _, err = _explain(
        capsys, files["model"], files["data"], "--axis", "both",
        "--random-state", "0", "--n-repeats", "2", "--html", out_html, "--quiet",
    )
    assert status == 0, err
    text = out_html.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") == 3  # bars, time, heat map
    assert "a@t0" in text and "LSTM" in text and "data.npz" in text


def test_pickled_scikit_learn_estimator(capsys, tmp_path):
    import joblib
    from sklearn.linear_model import LinearRegression

    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = 3 * X[:, 0] + X[:, 2]
    joblib.dump(LinearRegression().fit(X, y), tmp_path / "lr.joblib")
    np.savez(tmp_path / "flat.npz", X=X, y=y)
    out_json = tmp_path / "lr.json"
    status, out, err = _explain(
        capsys, tmp_path / "lr.joblib", tmp_path / "flat.npz",
        "--feature-names", "p,q,r", "--scoring", "r2", "--random-state", "2",
        "--n-repeats", "4", "--json", out_json, "--quiet",
    )
    assert status == 0, err
    perm = SequencePermutationImportance(
        joblib.load(tmp_path / "lr.joblib"), scoring="r2", n_iter=4,
        random_state=2, feature_names=["p", "q", "r"],
    ).fit(X, y)
    means = [r["mean"] for r in json.loads(out_json.read_text())["importances"]]
    assert means == perm.feature_importances_.tolist()
    assert out.splitlines()[1].split()[-1] == "p"


def test_long_table(capsys, tmp_path):
    pd = pytest.importorskip("pandas")
    import joblib
    from sklearn.linear_model import LinearRegression

    rng = np.random.RandomState(1)
    # one row per id: one timestep, as the 2-D estimator reads it
    frame = pd.DataFrame({"id": np.arange(30), "t": 0,
                          "u": rng.normal(size=30), "v": rng.normal(size=30)})
    frame["target"] = 2 * frame["u"]
    frame.loc[:4, "target"] = 0.0  # a target of 0 is not padding: no warning
    frame.to_csv(tmp_path / "long.csv", index=False)
    model = LinearRegression().fit(frame[["u", "v"]].to_numpy(), frame["target"])
    joblib.dump(model, tmp_path / "lr.pkl")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        status, out, err = _explain(
            capsys, tmp_path / "lr.pkl", tmp_path / "long.csv", "--id", "id",
            "--time", "t", "--y", "target", "--random-state", "0", "--quiet",
        )
    assert status == 0, err
    assert [line.split()[-1] for line in out.splitlines()[1:]] == ["u", "v"]


def _one_line_error(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("seqimportance explain: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{folder}/missing.keras", "{data}"], "no such file"),
        (["{data}", "{data}"], "must be a Keras model file"),
        (["{folder}/fake.keras", "{data}"], "is not a Keras model"),
        (["{model}", "{folder}/missing.npz"], "DATA"),
        (["{model}", "{data}", "--x", "Z"], "has no array 'Z' (--x); it has X, y"),
        (["{model}", "{data}", "--y", "target"], "has no array 'target' (--y)"),
        (["{model}", "{folder}/wide.npz"],
         "X has shape (8, 4, 5) but the model expects input of shape (None, 4, 3)"),
        (["{model}", "{folder}/no_target.npz", "--x", "inputs"], "y"),
        (["{model}", "{data}", "--groups", "g=zz"], "'zz' is neither"),
        (["{model}", "{data}", "--perturbation", "time_shuffle", "--axis",
          "timestep"], "time_shuffle"),
        (["{model}", "{data}", "--json", "{folder}/nowhere/x.json"], "does not exist"),
    ],
)
def test_user_errors_are_one_line_with_status_2(files, capsys, argv, message):
    (files["folder"] / "fake.keras").write_text("not a model")
    argv = [a.format(**files) for a in argv]
    status, out, err = _explain(capsys, *argv, "--quiet")
    assert status == 2
    assert message in _one_line_error(err)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--perturbation", "blur"], "choose from"),
        (["--effect", "auc"], "'mae', 'rms', 'score'"),
        (["--scoring", "accuracyy"], "unknown scorer 'accuracyy' (choose from"),
        (["--n-repeats", "0"], "must be a positive integer"),
        (["--max-samples", "1.5"], "fraction in (0, 1]"),
    ],
)
def test_bad_option_values_list_the_allowed_ones(capsys, argv, message):
    with pytest.raises(SystemExit) as excinfo:
        main(["explain", "m.keras", "d.npz", *argv])
    assert excinfo.value.code == 2
    assert message in _one_line_error(capsys.readouterr().err)


def test_help_describes_every_option():
    explain = build_parser()._subparsers._group_actions[0].choices["explain"]
    help_text = explain.format_help()
    for action in explain._actions:
        assert action.help, f"{action.option_strings} has no help"
    for option in ("--perturbation", "--scale", "--effect", "--scoring", "--axis",
                   "--window", "--groups", "--n-repeats", "--max-samples",
                   "--data-format", "--mask-value", "--random-state", "--n-jobs",
                   "--feature-names", "--quiet", "--json", "--csv", "--html",
                   "--x", "--y", "--id", "--time", "--features"):
        assert option in help_text


def test_python_m_seqimportance_explain(files, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "seqimportance", "explain", files["model"]]
    result = subprocess.run(command + [str(files["folder"] / "wide.npz")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2
    assert "(None, 4, 3)" in _one_line_error(result.stderr)
    out_json = tmp_path / "sub.json"
    result = subprocess.run(
        command + [files["data"], "--random-state", "0", "--n-repeats", "2",
                   "--quiet", "--json", str(out_json)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("Weight ± 2·std")
    assert len(json.loads(out_json.read_text())["importances"]) == 3
