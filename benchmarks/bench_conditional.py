"""Time perturbation="conditional" against "gaussian" on W1 and W2.

The workloads and models are those of ``bench_importance.py`` (W1: 250 x 10 x
3, LSTM(32) x 3; W2: 4,000 x 50 x 16, LSTM(64); untrained models, ``n_iter=5``,
RMS change of the predictions). For each workload, in one process: a cold
run of each perturbation, a warm-up run of each and the background XLA
compiles, then ``--runs`` runs of each in turn, so that a change of load hits
both alike. Reported: the median of each, the ratio conditional / gaussian
(medians and run by run), and the time to fit the conditional models alone
(once per fit, on the evaluated data).

Usage: ``python benchmarks/bench_conditional.py [--workloads W1 W2] [--runs
N] [--samples N]`` (``--samples`` shrinks W2).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_importance import (  # noqa: E402
    N_ITER,
    SCALE,
    WORKLOADS,
    _setup,
    _versions,
    _wait_for_background_compiles,
)

TARGET = 1.3  # conditional within 1.3x of gaussian on W2


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_workload(name, n_samples, runs):
    import numpy as np

    from seqimportance import SequencePermutationImportance
    from seqimportance.core._conditional import ConditionalDraws
    from seqimportance.core._perturbation import make_units

    X, y, est = _setup(name, n_samples)

    def fit(perturbation):
        params = {"scale": SCALE} if perturbation == "gaussian" else {}
        return lambda: SequencePermutationImportance(
            est, n_iter=N_ITER, perturbation=perturbation, effect="rms",
            random_state=0, **params,
        ).fit(X, y)

    variants = {"gaussian": fit("gaussian"), "conditional": fit("conditional")}
    first = {k: _timed(f) for k, f in variants.items()}
    for f in variants.values():  # warm-up
        f()
    _wait_for_background_compiles()
    times = {k: [] for k in variants}
    for _ in range(runs):
        for k, f in variants.items():
            times[k].append(_timed(f))
    _, units = make_units(X.shape[1], X.shape[2])
    model_fit = min(_timed(lambda: ConditionalDraws(X, units)) for _ in range(3))
    ratios = [c / g for g, c in zip(times["gaussian"], times["conditional"])]
    n, T, F = X.shape
    spec = WORKLOADS[name]
    print(
        f"\n{name}: {n} x {T} x {F}, LSTM({spec['units'][0]}) x "
        f"{len(spec['units'])}; {F} features x {N_ITER} repeats; "
        f"{runs} runs of each in turn, one process"
    )
    print(f"{'perturbation':14s} {'first s':>8s} {'median s':>9s} {'min s':>8s}")
    for k in variants:
        print(
            f"{k:14s} {first[k]:8.3f} {statistics.median(times[k]):9.3f} "
            f"{min(times[k]):8.3f}"
        )
    ratio = statistics.median(times["conditional"]) / statistics.median(
        times["gaussian"]
    )
    print(f"fitting the {F} conditional models alone: {model_fit:.3f} s")
    line = (
        f"conditional / gaussian: {ratio:.2f}x (medians); "
        f"{statistics.median(ratios):.2f}x (run by run)"
    )
    if name == "W2":
        line += f"; target {TARGET}x -> {'met' if ratio <= TARGET else 'MISSED'}"
    print(line)
    return np.asarray(ratios)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", default=["W1", "W2"],
                        choices=["W1", "W2"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None,
                        help="samples of W2 (default 4000)")
    args = parser.parse_args(argv)
    print(_versions())
    for name in args.workloads:
        n = WORKLOADS[name]["n_samples"]
        if name == "W2" and args.samples is not None:
            n = args.samples
        run_workload(name, n, args.runs)


if __name__ == "__main__":
    main()
