"""The demo command: options, output, plot, and the answer it must find."""

import re
import subprocess
import sys

import numpy as np
import pytest

from seqimportance.__main__ import build_parser, main
from seqimportance.cli._demo import importance_ratio, timestep_accuracy

TINY = ["demo", "--samples", "60", "--timesteps", "3", "--epochs", "1",
        "--units", "2", "--layers", "1", "--n-iter", "2", "--seed", "1"]

TABLE_ROW = re.compile(r"^\s*-?\d+(\.\d+)? ± \d+\.\d{4}  (x1|x2|x3)$")


def test_help_describes_every_option():
    demo = build_parser()._subparsers._group_actions[0].choices["demo"]
    help_text = demo.format_help()
    for action in demo._actions:
        for flag in action.option_strings:
            assert flag in help_text
        assert action.help, f"{action.option_strings} has no help"
    for option in ("--samples", "--timesteps", "--epochs", "--seed", "--plot",
                   "--quiet", "--n-iter", "--units", "--layers"):
        assert option in help_text


def test_module_help_runs_without_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c",
         "import sys\n"
         "from seqimportance.__main__ import main\n"
         "try:\n    main(['demo', '--help'])\nexcept SystemExit as e:\n"
         "    print('exit', e.code, 'tensorflow' in sys.modules)"],
        capture_output=True, text=True, timeout=120,
    )
    assert "--samples N" in result.stdout
    assert result.stdout.strip().endswith("exit 0 False")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--samples", "0"], "--samples: must be a positive integer"),
        (["demo", "--test-size", "1.5"], "--test-size: must be between 0 and 1"),
        (["demo", "--learning-rate", "-1"], "--learning-rate: must be a positive"),
    ],
)
def test_bad_options_are_rejected(argv, message, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_tiny_demo_prints_both_tables_and_writes_the_plot(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    assert main(TINY + ["--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for step in ("[1/4]", "[2/4]", "[3/4]", "[4/4]"):
        assert step in out
    assert "Gaussian noise 0.2, effect='rms'" in out
    assert "Shuffle, effect='score'" in out
    rows = [line for line in out.splitlines() if TABLE_ROW.match(line)]
    assert len(rows) == 6  # two tables of three features
    for table in (rows[:3], rows[3:]):
        assert sorted(row.split()[-1] for row in table) == ["x1", "x2", "x3"]
    assert "x1 and x2 decide the target" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_quiet_prints_no_progress(capsys):
    assert main(TINY + ["--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[1/4]" not in out
    assert not re.search(r"^\s+epoch\s+\d", out, flags=re.M)
    assert len([line for line in out.splitlines() if TABLE_ROW.match(line)]) == 6


def test_helpers():
    assert timestep_accuracy(np.array([[1, 0], [1, 1]]), np.array([[1, 1], [1, 1]])) \
        == 0.75
    assert importance_ratio([0.3, 0.2, 0.01]) == pytest.approx(20.0)


@pytest.mark.slow
def test_demo_ranks_x1_and_x2_far_above_x3(capsys):
    """A one-layer LSTM learns x1 * x2 < 0.25 in seconds; both methods see it."""
    from seqimportance.cli._demo import run_demo

    args = build_parser().parse_args(
        ["demo", "--samples", "500", "--epochs", "15", "--layers", "1",
         "--units", "16", "--learning-rate", "0.02", "--seed", "0", "--quiet"]
    )
    noise, shuffle = run_demo(args)
    assert importance_ratio(noise.feature_importances_) > 10
    x1, x2, x3 = shuffle.feature_importances_
    assert min(x1, x2) > 0.15 and x3 < 0.02
    assert list(noise.unit_names_) == ["x0", "x1", "x2"]
    out = capsys.readouterr().out
    assert "x1 / x3" in out
