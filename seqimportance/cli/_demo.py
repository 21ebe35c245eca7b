"""The classic experiment of variable importance for recurrent networks.

Three features are drawn uniformly at every timestep and the target of each
timestep is ``x1 * x2 < 0.25``: x1 and x2 decide it and x3 is noise
(:func:`~seqimportance.datasets.make_seed_sequences`). A 3-layer LSTM with
one output per timestep learns it; two importance methods must then rank x1
and x2 far above x3:

* Gaussian noise of scale 0.2 on one feature at a time, effect measured as the
  root mean square change of the predicted probabilities (the method of the
  well-known question, which reported 0.116, 0.119 and 0.008);
* shuffling one feature's whole series across samples, effect measured as the
  drop in per-timestep accuracy.

Both run on held-out data. ``python -m seqimportance demo --help`` lists the
options.
"""

import argparse
import sys
import time

import numpy as np

FEATURE_NAMES = ["x1", "x2", "x3"]

DEFAULTS = {
    "samples": 1000,
    "timesteps": 10,
    "epochs": 25,
    "units": 16,
    "layers": 3,
    "batch_size": 32,
    "learning_rate": 0.01,
    "test_size": 0.3,
    "n_iter": 5,
    "seed": 0,
}


def add_arguments(parser):
    """Add the demo's options to an ``argparse`` parser."""
    d = DEFAULTS
    parser.add_argument("--samples", type=_positive_int, default=d["samples"],
                        metavar="N",
                        help="number of sequences to generate (default: %(default)s)")
    parser.add_argument("--timesteps", type=_positive_int, default=d["timesteps"],
                        metavar="T", help="length of each sequence (default: %(default)s)")
    parser.add_argument("--epochs", type=_positive_int, default=d["epochs"], metavar="E",
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--units", type=_positive_int, default=d["units"], metavar="U",
                        help="units of each LSTM layer (default: %(default)s)")
    parser.add_argument("--layers", type=_positive_int, default=d["layers"], metavar="L",
                        help="number of stacked LSTM layers (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                        metavar="B", help="training batch size (default: %(default)s)")
    parser.add_argument("--learning-rate", type=_positive_float,
                        default=d["learning_rate"], metavar="LR",
                        help="Adam learning rate (default: %(default)s)")
    parser.add_argument("--test-size", type=_fraction, default=d["test_size"],
                        metavar="F",
                        help="fraction of sequences held out for the importances "
                             "(default: %(default)s)")
    parser.add_argument("--n-iter", type=_positive_int, default=d["n_iter"], metavar="K",
                        help="repeats of each perturbation (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=d["seed"], metavar="S",
                        help="random seed for data, training and perturbations "
                             "(default: %(default)s)")
    parser.add_argument("--plot", metavar="FILE.png", default=None,
                        help="save a bar chart of both importances to this file "
                             "(needs matplotlib)")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the tables and the summary, no progress")
    return parser


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def timestep_accuracy(y_true, y_pred):
    """Fraction of (sample, timestep) targets predicted right."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _make_progress_callback(log, epochs):
    import keras

    every = max(1, epochs // 5)

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                logs = logs or {}
                loss = logs.get("loss", float("nan"))
                log(f"      epoch {epoch + 1:3d}/{epochs}  loss {loss:.4f}")

    return EpochLog()


def importance_ratio(importances):
    """How many times x1 and x2 exceed x3: ``min(x1, x2) / max(x3, tiny)``."""
    x1, x2, x3 = (float(v) for v in importances[:3])
    return min(x1, x2) / max(x3, 1e-12 * max(abs(x1), abs(x2), 1e-300))


def _ratio_line(name, importances):
    x1, x2, x3 = (float(v) for v in importances[:3])
    if min(x1, x2) <= 0 or min(x1, x2) <= 3 * max(x3, 0.0):
        return (f"{name}: x1 = {x1:.4f}, x2 = {x2:.4f}, x3 = {x3:.4f}: x1 and x2 "
                "are not clearly above x3; the model has not learned the task "
                "(try more --epochs or --samples)")
    if x3 <= 0:
        return (f"{name}: x1 = {x1:.4f}, x2 = {x2:.4f}, x3 = {x3:.4f} "
                "(x3 has no effect)")
    return f"{name}: x1 / x3 = {x1 / x3:.1f}, x2 / x3 = {x2 / x3:.1f}"


def run_demo(args, out=None):
    """Run the experiment with parsed ``args``; return the two importances."""
    out = sys.stdout if out is None else out

    def say(text=""):
        print(text, file=out, flush=True)

    def log(text):
        if not args.quiet:
            say(text)

    import eli5
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import train_test_split

    from ..datasets import make_seed_sequences
    from ..inspection._importance import SequencePermutationImportance
    from ..keras._wrappers import SequenceModelClassifier

    start = time.perf_counter()
    log(f"[1/4] Generating make_seed_sequences: {args.samples} sequences of "
        f"{args.timesteps} timesteps, features x1, x2, x3; target x1 * x2 < 0.25")
    X, y = make_seed_sequences(args.samples, args.timesteps, random_state=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, random_state=args.seed
    )
    log(f"      {len(X_train)} sequences for training, {len(X_test)} held out")

    log(f"[2/4] Training a {args.layers}-layer LSTM ({args.units} units each, "
        f"one output per timestep) for {args.epochs} epochs")
    clf = SequenceModelClassifier(
        model__cell="lstm",
        model__units=[args.units] * args.layers,
        optimizer="adam",
        optimizer__learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        verbose=0,
        callbacks=None if args.quiet else [_make_progress_callback(log, args.epochs)],
    )
    t0 = time.perf_counter()
    clf.fit(X_train, y_train)
    accuracy = timestep_accuracy(y_test, clf.predict(X_test))
    log(f"      trained in {time.perf_counter() - t0:.1f} s; held-out accuracy "
        f"per timestep {accuracy:.3f} (always predicting the majority class: "
        f"{max(y_test.mean(), 1 - y_test.mean()):.3f})")

    log("[3/4] Gaussian noise of scale 0.2, effect = RMS change of the "
        f"predicted probabilities ({args.n_iter} repeats, held-out data)")
    noise = SequencePermutationImportance(
        clf, perturbation="gaussian", scale=0.2, effect="rms",
        n_iter=args.n_iter, random_state=args.seed,
    ).fit(X_test, y_test)

    log("[4/4] Shuffling each feature's series across samples, effect = drop "
        f"in per-timestep accuracy ({args.n_iter} repeats, held-out data)")
    shuffle = SequencePermutationImportance(
        clf, scoring=make_scorer(timestep_accuracy), perturbation="shuffle",
        effect="score", n_iter=args.n_iter, random_state=args.seed,
    ).fit(X_test, y_test)

    for title, perm in (
        ("Gaussian noise 0.2, effect='rms'", noise),
        ("Shuffle, effect='score' (drop in per-timestep accuracy)", shuffle),
    ):
        say("")
        say(title)
        say("-" * len(title))
        text = eli5.format_as_text(
            eli5.explain_weights(perm, feature_names=FEATURE_NAMES),
            show=["feature_importances"],
        )
        say(text.rstrip())
    say("")
    say(f"Held-out accuracy per timestep: {accuracy:.3f}. "
        "x1 and x2 decide the target, x3 is noise:")
    say("  " + _ratio_line("noise  ", noise.feature_importances_))
    say("  " + _ratio_line("shuffle", shuffle.feature_importances_))
    if args.plot:
        save_plot(args.plot, noise, shuffle)
        log(f"Saved the plot to {args.plot}")
    log(f"Done in {time.perf_counter() - start:.1f} s.")
    return noise, shuffle


def save_plot(path, noise, shuffle):
    """Save bar charts of both importances side by side."""
    from matplotlib.figure import Figure

    from ..display._plots import plot_importances

    fig = Figure(figsize=(9, 3), layout="constrained")
    ax_noise, ax_shuffle = fig.subplots(1, 2)
    plot_importances(noise, ax=ax_noise, feature_names=FEATURE_NAMES)
    ax_noise.set_title("Gaussian noise 0.2, RMS change")
    plot_importances(shuffle, ax=ax_shuffle, feature_names=FEATURE_NAMES, color="C1")
    ax_shuffle.set_title("Shuffle, drop in accuracy")
    fig.suptitle("make_seed_sequences: target = x1 * x2 < 0.25 (error bars: 1 std)")
    fig.savefig(path, dpi=100)
