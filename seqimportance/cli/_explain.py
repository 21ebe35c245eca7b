"""``seqimportance explain MODEL DATA``: importances of a saved model, from the shell.

The command loads the model (a ``.keras`` file, or a pickled scikit-learn
estimator) and the data (a ``.npz`` file, or a long ``.csv``/``.parquet``
table), runs :class:`~seqimportance.SequencePermutationImportance` with the
options given (they mirror its parameters), prints the eli5-style table, and
writes the numbers (``--json``, ``--csv``) and the HTML report (``--html``,
:func:`seqimportance.report`). It computes nothing of its own.
"""

import argparse
import csv
import json
import math
import sys

from ._inputs import (
    UsageError,
    as_model_input,
    check_fits_model,
    load_data,
    load_model,
    one_line,
    parse_groups,
    parse_max_samples,
)

__all__ = ["add_arguments", "run_explain"]

DESCRIPTION = (
    "Compute the permutation (or perturbation) importance of the inputs of a "
    "trained model on the data given, print the ranked table (weight ± 2·std "
    "over the repeats, p-value, unit), and optionally write the numbers as "
    "JSON or CSV and a self-contained HTML report. The options mirror "
    "SequencePermutationImportance's parameters; with the same options and "
    "--random-state the numbers equal those of "
    "SequencePermutationImportance(...).fit(X, y) in Python."
)


def _choices():
    from ..core._layouts import DATA_FORMATS
    from ..core._perturbation import AXES, PERTURBATIONS
    from ..inspection._evaluation import EFFECTS

    return {"perturbation": sorted(PERTURBATIONS), "axis": sorted(AXES),
            "effect": sorted(EFFECTS), "data_format": sorted(DATA_FORMATS)}


def _scorer_name(text):
    from sklearn.metrics import get_scorer_names

    names = sorted(get_scorer_names())
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"unknown scorer {text!r} (choose from {', '.join(names)})")
    return text


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _number(text):
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None


def _integer(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None


def add_arguments(parser):
    """Add the options of ``explain`` to an ``argparse`` parser."""
    choices = _choices()
    _one_line_errors(parser)
    parser.add_argument("model", metavar="MODEL",
                        help="a .keras model file, or a fitted scikit-learn "
                             "estimator saved with joblib or pickle (.joblib, "
                             ".pkl; only load files you trust)")
    parser.add_argument("data", metavar="DATA",
                        help="a .npz file with the arrays --x and --y, or a long "
                             ".csv/.parquet table (one row per id and time)")
    data = parser.add_argument_group("data")
    data.add_argument("--x", default="X", metavar="KEY",
                      help="array of the .npz holding X (default: %(default)s)")
    data.add_argument("--y", default=None, metavar="KEY",
                      help="array of the .npz (or column of the table) holding y "
                           "(default: 'y' if present; not needed by "
                           "--effect rms or mae)")
    data.add_argument("--id", default=None, metavar="COLUMN",
                      help="long table: the column naming each sequence")
    data.add_argument("--time", default=None, metavar="COLUMN",
                      help="long table: the column ordering the rows of a sequence")
    data.add_argument("--features", default=None, metavar="A,B,C",
                      help="long table: the feature columns (default: all others)")
    data.add_argument("--feature-names", default=None, metavar="A,B,C",
                      help="names of the features (default: the npz's "
                           "feature_names array, the table's columns, or x0, x1, ...)")
    data.add_argument("--data-format", default="channels_last",
                      choices=choices["data_format"],
                      help="layout of 3-D X (default: %(default)s)")
    data.add_argument("--mask-value", type=_number, default=None, metavar="V",
                      help="value of padded timesteps (default: no padding; a "
                           "long table of unequal lengths is padded with 0)")
    method = parser.add_argument_group("method")
    method.add_argument("--perturbation", default="shuffle",
                        choices=choices["perturbation"],
                        help="how a unit is perturbed (default: %(default)s)")
    method.add_argument("--scale", type=_number, default=0.2, metavar="S",
                        help="noise scale of gaussian and uniform (default: "
                             "%(default)s)")
    method.add_argument("--effect", default="score", choices=choices["effect"],
                        help="score drop, or RMS or mean absolute change of the "
                             "predictions (default: %(default)s)")
    method.add_argument("--scoring", type=_scorer_name, default=None, metavar="NAME",
                        help="scikit-learn scorer name for --effect score "
                             "(default: the model's score)")
    method.add_argument("--axis", default="feature", choices=choices["axis"],
                        help="what a unit is (default: %(default)s)")
    method.add_argument("--window", type=_positive_int, default=1, metavar="W",
                        help="timesteps per unit with --axis timestep or both "
                             "(default: %(default)s)")
    method.add_argument("--groups", default=None, metavar="NAME=F,..;NAME=F,..",
                        help="groups of features perturbed together, by index or "
                             "name, e.g. 'acc=0,1,2;gyro=3,4,5'")
    method.add_argument("--n-repeats", type=_positive_int, default=5, metavar="K",
                        help="repeats of each perturbation (default: %(default)s)")
    method.add_argument("--max-samples", type=parse_max_samples, default=1.0,
                        metavar="N", help="samples per repeat: a number, or a "
                                          "fraction in (0, 1] (default: %(default)s)")
    method.add_argument("--random-state", type=_integer, default=None, metavar="SEED",
                        help="seed of the perturbations (default: none, results "
                             "vary between runs)")
    method.add_argument("--n-jobs", type=_integer, default=None, metavar="J",
                        help="joblib workers (default: 1); results do not depend "
                             "on it")
    output = parser.add_argument_group("output")
    output.add_argument("--json", default=None, metavar="FILE",
                        help="write the numbers (unit, mean, std, interval, "
                             "p-value, repeats) as JSON")
    output.add_argument("--csv", default=None, metavar="FILE",
                        help="write the numbers as CSV, one row per unit")
    output.add_argument("--html", default=None, metavar="FILE",
                        help="write a self-contained HTML report (needs matplotlib)")
    output.add_argument("--level", type=_number, default=0.95, metavar="L",
                        help="confidence level of the intervals (default: "
                             "%(default)s)")
    output.add_argument("--quiet", action="store_true",
                        help="print only the table: no progress bar, no "
                             "description of the method")
    return parser


def _one_line_errors(parser):
    """argparse errors of this command: one line on stderr, exit status 2."""

    def error(message):
        parser.exit(2, f"{parser.prog}: error: {one_line(message)}\n")

    parser.error = error


def estimator_params(args, feature_names):
    """The parameters of SequencePermutationImportance that the options give."""
    return {
        "scoring": args.scoring,
        "n_iter": args.n_repeats,
        "random_state": args.random_state,
        "perturbation": args.perturbation,
        "scale": args.scale,
        "axis": args.axis,
        "groups": parse_groups(args.groups, feature_names),
        "window": args.window,
        "feature_names": feature_names,
        "effect": args.effect,
        "data_format": args.data_format,
        "max_samples": args.max_samples,
        "n_jobs": args.n_jobs,
        "verbose": 0 if args.quiet else 1,
    }


def run_explain(args, out=None):
    """Run ``explain`` with parsed ``args``; return the fitted meta-estimator.

    Raises
    ------
    UsageError
        For a mistake the user can fix; ``main`` prints it on one line.
    """
    out = sys.stdout if out is None else out
    if not 0 < args.level < 1:
        raise UsageError(f"--level must be in (0, 1); got {args.level}.")
    for option in ("json", "csv", "html"):
        _check_writable(getattr(args, option), option)
    X, y, feature_names, mask_value, data_text = load_data(args)
    params = estimator_params(args, feature_names)
    params["mask_value"] = mask_value
    model = load_model(args.model)
    check_fits_model(model, X, args.data_format)
    X = as_model_input(model, X)

    from ..display._table import (
        describe_method,
        format_importance_table,
        importance_columns,
    )
    from ..inspection._importance import SequencePermutationImportance

    perm = SequencePermutationImportance(model, **params)
    try:
        perm.fit(X, y)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    columns = importance_columns(perm, args.level)
    print(format_importance_table(columns), file=out)
    if not args.quiet:
        print("", file=out)
        print(describe_method(perm), file=out)
    if args.json:
        write_json(args.json, perm, columns, args)
    if args.csv:
        write_csv(args.csv, columns)
    if args.html:
        from ..display._report import report

        report(perm, args.html, X=X, level=args.level, data_description=data_text)
    for option in ("json", "csv", "html"):
        if getattr(args, option) and not args.quiet:
            print(f"wrote {getattr(args, option)}", file=sys.stderr)
    return perm


def _check_writable(path, option):
    import os

    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--{option} {path!r}: the folder {folder!r} does not exist.")


def _finite_or_none(value):
    return None if math.isnan(value) else value


def write_json(path, perm, columns, args):
    """The numbers as JSON: one record per unit, in unit order (NaN as null)."""
    repeats = perm.importances_.tolist()
    units = [
        {**{name: columns[name][i] if name == "unit"
            else _finite_or_none(columns[name][i]) for name in columns},
         "repeats": repeats[i]}
        for i in range(len(columns["unit"]))
    ]
    options = {name: getattr(perm, name) for name in (
        "perturbation", "scale", "effect", "scoring", "axis", "window", "groups",
        "n_iter", "max_samples", "mask_value", "data_format", "random_state")}
    document = {
        "model": args.model,
        "data": args.data,
        "n_timesteps": int(perm.n_timesteps_in_),
        "n_features": int(perm.n_features_in_),
        "level": args.level,
        "options": options,
        "importances": units,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2, allow_nan=False)
        f.write("\n")


def write_csv(path, columns):
    """The numbers as CSV: a header and one row per unit, in unit order."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(columns))
        for i in range(len(columns["unit"])):
            writer.writerow([columns[name][i] if name == "unit"
                             else repr(columns[name][i]) for name in columns])
