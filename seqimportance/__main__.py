"""Command line: ``python -m seqimportance demo|explain`` (or ``seqimportance ...``)."""

import argparse
import os
import sys

from ._version import __version__


def build_parser():
    """The command-line parser: the subcommands ``demo`` and ``explain``."""
    parser = argparse.ArgumentParser(
        prog="seqimportance",
        description="Permutation and perturbation importance for sequence "
        "(RNN/LSTM) models.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from .cli import _demo

    demo = commands.add_parser(
        "demo",
        help="train an LSTM on make_seed_sequences and show which inputs matter",
        description="Generate make_seed_sequences data (target x1 * x2 < 0.25, x3 "
        "is noise), train a stacked LSTM with one output per timestep through "
        "SequenceModelClassifier, and compute importances on held-out data "
        "twice: Gaussian noise 0.2 with the RMS change of the predictions, and "
        "shuffling with the drop in accuracy. Prints both eli5 tables. Takes "
        "about a minute on 2 CPU cores with the defaults.",
    )
    _demo.add_arguments(demo)
    from .cli import _explain

    explain = commands.add_parser(
        "explain",
        help="importances of a saved model (.keras, or a pickled scikit-learn "
        "estimator) on data from a .npz file or a long table",
        description=_explain.DESCRIPTION,
    )
    _explain.add_arguments(explain)
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 2 for a mistake in the command line or its files
        (told in one line on stderr).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep the demo readable
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "explain":
        from .cli._explain import run_explain
        from .cli._inputs import UsageError

        try:
            run_explain(args)
        except UsageError as exc:
            print(f"seqimportance explain: error: {exc}", file=sys.stderr)
            return 2
        return 0
    from .cli._demo import run_demo

    run_demo(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
