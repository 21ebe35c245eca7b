"""Time importance methods for recurrent networks against the forward-pass limit.

For each workload, each method runs in a fresh Python process (so that its
peak memory is its own): one cold run (tracing, XLA compilation), then
``--runs`` warm runs whose median is reported, with the ratio to the limit
and the process's peak resident memory (VmHWM). The limit and
seqimportance, whose ratio is the point, are timed once more together in one
process, one run of each in turn, so that a change of load on the machine
hits both alike; their table rows show these timings, and the target line
also the median of the run-by-run ratios. Warm runs follow a warm-up: a
second run of each variant, and the XLA compiles that seqimportance then
runs in the background (the table says how long the warm-up took).

Also timed, for W1 and W2: the first call in a fresh process (tracing, and
for XLA compiling, included) of the limit without and with XLA and of
seqimportance, each in its own process, in turn (``--first-calls K``
rounds); and for W1, ``N_MODELS`` models of the same architecture and
different weights explained in one process, as ``cv=5`` or a search does
(``--same-architecture``).

Workloads (``n_iter=5`` repeats, Gaussian noise of scale 0.2, effect = RMS
change of the predictions):

- W1: 250 sequences x 10 timesteps x 3 features, a 3-layer LSTM(32) with one
  sigmoid output per timestep (``SequenceModelClassifier`` on
  ``make_seed_sequences``), 3 features x 5 repeats = 15 perturbed copies;
- W2: 4,000 x 50 x 16, LSTM(64) -> Dense(1) (``SequenceModelRegressor``),
  16 x 5 = 80 copies of 12.8 MB;
- W2T: W2 with ``axis="timestep"``: 50 timesteps x 5 repeats = 250 copies
  (prefix-state reuse, :mod:`seqimportance.keras._prefix`); W2T3: the same with
  LSTM(32) x 3; W2B: ``axis="both"`` on 250 of W2's sequences (800 cells x 5
  = 4,000 copies, W2T's million rows). These three are timed in one process
  only (limit and seqimportance in turn), the limit without XLA in batches
  of 8192 rows only.

Methods:

- ``limit``: the forward pass over all perturbed copies, prebuilt, through
  the model compiled as a ``tf.function``, with and without XLA: in one call
  when the copies are at most 8192 rows (W1), else in batches of 2048 and of
  8192 rows (all of W2's 320,000 rows at once would need about 16 GB of
  activations); the limit is the fastest variant;
- ``seqimportance``: ``SequencePermutationImportance(...).fit(X, y)`` with
  default settings;
- ``loop``: the hand-written loop (copy X, add noise to one feature,
  ``model.predict``, RMS change), for each feature and repeat;
- ``eli5``: eli5's ``PermutationImportance`` (``cv="prefit"``) on the
  flattened array ``(n, T * F)`` through an estimator that reshapes it back
  and calls ``model.predict``. Each of its ``T * F`` columns costs ``n_iter``
  predictions, so only ``--eli5-columns`` columns are shuffled and the time is
  extrapolated to all columns by the number of ``predict`` calls (printed as
  such). eli5 can only shuffle; the cost of a prediction does not depend on
  the perturbation.

The models are untrained (``initialize``): timings do not depend on the
weights. Usage: ``python benchmarks/bench_importance.py --help``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

WORKLOADS = {
    "W1": dict(n_samples=250, n_timesteps=10, n_features=3, units=(32, 32, 32),
               kind="classifier", axis="feature"),
    "W2": dict(n_samples=4000, n_timesteps=50, n_features=16, units=(64,),
               kind="regressor", axis="feature"),
    # Timestep units (prefix-state reuse): W2's data, 50 x 5 = 250 copies.
    "W2T": dict(n_samples=4000, n_timesteps=50, n_features=16, units=(64,),
                kind="regressor", axis="timestep"),
    "W2T3": dict(n_samples=4000, n_timesteps=50, n_features=16, units=(32, 32, 32),
                 kind="regressor", axis="timestep"),
    # Cells: 50 x 16 x 5 = 4,000 copies, so 250 sequences for W2T's 1M rows.
    "W2B": dict(n_samples=250, n_timesteps=50, n_features=16, units=(64,),
                kind="regressor", axis="both"),
}
QUICK_SAMPLES = {"W1": 250, "W2": 400, "W2T": 400, "W2T3": 400, "W2B": 25}
# Workloads timed in one process only (limit and seqimportance in turn): their
# copies take GBs, and loop and eli5 perturb features only.
INTERLEAVED_ONLY = {"W2T", "W2T3", "W2B"}
TARGETS = {"W1": 2.0, "W2": 1.15, "W2T": 0.6, "W2T3": 0.6, "W2B": 0.6}
METHODS = ("limit", "seqimportance", "loop", "eli5")
N_MODELS = 5  # models of one architecture in the same-architecture case
N_ITER = 5
SCALE = 0.2
MARKER = "BENCH-RESULT "
BACK_TO_BACK_RUNS = 5
BACK_TO_BACK_TARGETS = {"W1": 1.5, "W2": 1.15}


# ------------------------------------------------------------ worker process
def _peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss (KiB on Linux, bytes on macOS)

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 1024)


def _setup(workload, n_samples, seed=0):
    import numpy as np

    from seqimportance import SequenceModelClassifier, SequenceModelRegressor
    from seqimportance.datasets import make_seed_sequences

    spec = WORKLOADS[workload]
    T, F = spec["n_timesteps"], spec["n_features"]
    if spec["kind"] == "classifier":
        X, y = make_seed_sequences(n_samples, n_timesteps=T, random_state=0)
        est = SequenceModelClassifier(model__units=list(spec["units"]),
                                      random_state=seed)
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n_samples, T, F))
        y = X[:, -1, 0] - X[:, -5, 1] + 0.1 * rng.standard_normal(n_samples)
        est = SequenceModelRegressor(model__units=list(spec["units"]),
                                     random_state=seed)
    X = X.astype(np.float32)  # what Keras computes in; halves every copy
    est.initialize(X, y)
    return X, y, est


def _n_units(spec):
    T, F = spec["n_timesteps"], spec["n_features"]
    return {"feature": F, "timestep": T, "both": T * F}[spec["axis"]]


def _limit(X, est, spec):
    """Forward passes over all prebuilt copies, with and without XLA.

    All copies go through one compiled function in one call when they are at
    most 8192 rows; more rows would need several GB of activations at once,
    so they are cut into batches of 2048 or 8192 rows (both timed). Copies of
    more than 1 GB in all (W2T: 3.2 GB) are not all built: the batches cycle
    through the first 81,920 rows (a forward pass costs the same whatever
    the values).
    """
    import numpy as np
    import tensorflow as tf

    n, T, F = X.shape
    n_copies = _n_units(spec) * N_ITER
    n_rows = n_copies * n
    built = n_copies if n_copies * X.nbytes <= 2**30 else -(-81920 // n)
    rng = np.random.default_rng(0)
    copies = np.repeat(X[np.newaxis], built, axis=0)  # (copies, n, T, F)
    # Noise on the first feature (the cost does not depend on the values).
    copies[..., 0] += rng.normal(0.0, SCALE, size=copies.shape[:3]).astype(np.float32)
    copies = copies.reshape(-1, T, F)
    if built < n_copies:
        copies = copies[:81920]
    n_built = len(copies)
    batch_sizes = [n_rows] if n_rows <= 8192 else [2048, 8192]
    model = est.model_
    runs = {}
    for jit in (True, False):
        for batch in batch_sizes:
            if spec["axis"] != "feature" and not jit and batch == 2048:
                continue  # slower than 8192 rows without XLA, and long
            fn = tf.function(lambda x: model(x, training=False), jit_compile=jit)

            def run(fn=fn, batch=batch):
                # The last batch may be shorter: a second trace, in the cold run.
                out = []
                for i in range(0, n_rows, batch):
                    rows = min(batch, n_rows - i)
                    start = i % n_built if n_built % batch == 0 else i
                    out.append(fn(copies[start : start + rows]).numpy())
                return out

            runs[f"{'XLA' if jit else 'no XLA'}, batch {batch}"] = run
    return runs


def _seqimportance(X, y, est, max_batch_bytes, axis="feature"):
    from seqimportance import SequencePermutationImportance

    params = {} if max_batch_bytes is None else {"max_batch_bytes": max_batch_bytes}
    params["axis"] = axis

    def run():
        SequencePermutationImportance(
            est, n_iter=N_ITER, perturbation="gaussian", scale=SCALE, effect="rms",
            random_state=0, **params,
        ).fit(X, y)

    return {"": run}


def _loop(X, est):
    import numpy as np

    model = est.model_

    def run():
        rng = np.random.default_rng(0)
        base = model.predict(X, verbose=0)
        result = np.zeros((X.shape[2], N_ITER))
        for f in range(X.shape[2]):
            for r in range(N_ITER):
                X_p = X.copy()
                X_p[:, :, f] += rng.normal(0.0, SCALE, size=X_p[:, :, f].shape)
                pred = model.predict(X_p, verbose=0)
                result[f, r] = np.sqrt(np.mean((pred - base) ** 2))
        return result

    return {"": run}


def _eli5(X, est, n_columns):
    import numpy as np
    from eli5.permutation_importance import get_score_importances
    from eli5.sklearn import PermutationImportance
    from sklearn.base import BaseEstimator, RegressorMixin

    n, T, F = X.shape
    model = est.model_

    class Unflatten(RegressorMixin, BaseEstimator):
        """(n, T * F) -> (n, T, F) -> model.predict, flattened outputs."""

        def fit(self, X2, y=None):
            return self

        def predict(self, X2):
            X3 = np.asarray(X2, dtype=np.float32).reshape(-1, T, F)
            return model.predict(X3, verbose=0).reshape(len(X3), -1)

        def score(self, X2, y):
            # Minus the mean squared change against the unperturbed outputs:
            # the decrease is the squared RMS change of the other methods.
            return -float(np.mean((self.predict(X2) - y) ** 2))

    class ColumnSubset(PermutationImportance):
        """eli5's PermutationImportance shuffling only the first columns."""

        def _get_score_importances(self, score_func, X2, y):
            return get_score_importances(
                score_func, X2, y, n_iter=self.n_iter, random_state=self.rng_,
                columns_to_shuffle=range(n_columns),
            )

    X2 = X.reshape(n, T * F)
    wrapper = Unflatten()
    y_base = wrapper.predict(X2)

    def run():
        importance = ColumnSubset(wrapper, cv="prefit", n_iter=N_ITER, random_state=0)
        importance.fit(X2, y_base)

    return {"": run}


def _wait_for_background_compiles():
    try:
        from seqimportance.keras._compile_policy import wait_for_background
    except ImportError:  # a version without background compiles
        return
    wait_for_background()


def same_architecture_worker(args):
    """Importances of ``N_MODELS`` models of one architecture in one process.

    The models differ in their weights only, as the folds of ``cv=5`` or the
    candidates of a search with fixed hyperparameters. Each model's first
    ``fit`` is timed in turn; then, after the background compiles, the warm
    time of one model (median of ``args.runs``).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    n_models = 2 * N_MODELS - 1  # N_MODELS, then N_MODELS - 1 more
    models = [_setup(args.workload, args.samples, seed=i) for i in range(n_models)]
    runs = [_seqimportance(X, y, est, args.max_batch_bytes)[""] for X, y, est in models]

    def first_fits(runs):
        times = []
        for run in runs:
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        return times

    firsts = first_fits(runs[:N_MODELS])
    t0 = time.perf_counter()
    _wait_for_background_compiles()
    waited = time.perf_counter() - t0
    # More new models of the architecture, once its background compile is done.
    later = first_fits(runs[N_MODELS:])
    warm = []
    for _ in range(args.runs):
        warm += first_fits(runs[:1])
    print(MARKER + json.dumps({"firsts": firsts, "later": later, "warm": warm,
                               "background_s": waited}), flush=True)


def worker(args):
    """Time the methods named in ``args.worker`` (comma-separated) in this process.

    Each variant runs once cold, then ``args.runs`` rounds run every variant
    once in turn, so that a change of load on the machine hits all of them.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    X, y, est = _setup(args.workload, args.samples)
    setup_mb = _peak_rss_mb()
    runs = {}
    for method in args.worker.split(","):
        spec = WORKLOADS[args.workload]
        if method == "limit":
            variants = _limit(X, est, spec)
        elif method == "seqimportance":
            variants = _seqimportance(X, y, est, args.max_batch_bytes, spec["axis"])
        elif method == "loop":
            variants = _loop(X, est)
        else:
            variants = _eli5(X, est, args.eli5_columns)
        runs.update({(method, name): run for name, run in variants.items()})
    if args.only is not None:  # one variant: its first call in a fresh process
        runs = {key: run for key, run in runs.items() if key[1] == args.only}
    timings = {}
    for key, run in runs.items():
        t0 = time.perf_counter()
        run()
        timings[key] = {"cold": time.perf_counter() - t0, "times": [], "cpu": []}
    # Warm means after warm-up: seqimportance compiles XLA in the background
    # once the work repeats (a second run), and the compile finishes before
    # the warm runs.
    background_s = None
    if args.runs and not args.no_warm_up:
        t0 = time.perf_counter()
        for run in runs.values():
            run()
        _wait_for_background_compiles()
        background_s = time.perf_counter() - t0
    for _ in range(args.runs):
        for key, run in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            timings[key]["times"].append(time.perf_counter() - t0)
            timings[key]["cpu"].append(time.process_time() - c0)
    result = {"setup_mb": setup_mb, "peak_mb": _peak_rss_mb(), "variants": {},
              "background_s": background_s}
    for (method, name), timing in timings.items():
        result["variants"].setdefault(method, {})[name] = timing
    print(MARKER + json.dumps(result), flush=True)


# ------------------------------------------------------------ parent process
def _run_worker(workload, methods, samples, runs, eli5_columns, max_batch_bytes,
                only=None, warm_up=True):
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", ",".join(methods),
        "--workload", workload, "--samples", str(samples), "--runs", str(runs),
        "--eli5-columns", str(eli5_columns),
    ]
    if not warm_up:
        cmd.append("--no-warm-up")
    if only is not None:
        cmd += ["--only", only]
    if max_batch_bytes is not None:
        cmd += ["--max-batch-bytes", str(max_batch_bytes)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    lines = (proc.stderr or proc.stdout or "no output").strip().splitlines()
    return {"error": f"exit code {proc.returncode}: {lines[-1]}"}


def _versions():
    from importlib.metadata import version

    names = ("tensorflow", "keras", "numpy", "eli5", "seqimportance")
    return ", ".join(f"{name} {version(name)}" for name in names)


def _report(workload, samples, results, timed, eli5_columns, runs):
    """Print one workload's table; return the seqimportance / limit ratios.

    ``results`` holds one fresh process per method (peak memory, first run,
    and the timings unless ``timed`` has them); ``timed`` the interleaved
    timings of the limit and seqimportance, or None.
    """
    spec = WORKLOADS[workload]
    T, F = spec["n_timesteps"], spec["n_features"]
    n_units = _n_units(spec)
    n_copies = n_units * N_ITER
    layers = " -> ".join(f"LSTM({u})" for u in spec["units"])
    head = "Dense(1) per timestep" if spec["kind"] == "classifier" else "Dense(1)"
    what = {"feature": "features", "timestep": "timesteps", "both": "cells"}
    print(f"\n{workload}: {samples} x {T} x {F}, {layers} -> {head}; "
          f"{n_units} {what[spec['axis']]} x {N_ITER} repeats = {n_copies} copies "
          f"({n_copies * samples:,} rows); median of {runs} warm runs")
    for method, res in list(results.items()):
        if "error" in res:
            print(f"{method}: FAILED ({res['error']})")
            del results[method]
    if timed is not None and "error" in timed:
        print(f"interleaved timing: FAILED ({timed['error']})")
        timed = None

    def timing(method, name):
        fresh = results[method]["variants"][method][name]
        if timed is not None and method in timed["variants"]:
            return dict(timed["variants"][method][name], cold=fresh["cold"])
        return fresh

    rows = []  # (label, method, timing)
    if "limit" in results:
        for name in results["limit"]["variants"]["limit"]:
            rows.append((f"limit, {name}", "limit", timing("limit", name)))
    for method, label in (("seqimportance", "seqimportance"),
                          ("loop", "per-feature model.predict loop")):
        if method in results:
            rows.append((label, method, timing(method, "")))
    if "eli5" in results:
        n_cols = T * F
        k = min(eli5_columns, n_cols)
        factor = (1 + N_ITER * n_cols) / (1 + N_ITER * k)
        v = timing("eli5", "")
        scaled = {"cold": v["cold"] * factor,
                  "times": [t * factor for t in v["times"]],
                  "cpu": [t * factor for t in v["cpu"]]}
        label = (f"eli5 PermutationImportance, flattened ({n_cols} columns"
                 + (")" if k == n_cols else f"; extrapolated from {k})"))
        rows.append((label, "eli5", scaled))
    if not rows:
        return None

    medians = {label: statistics.median(v["times"]) for label, _, v in rows}
    limit_rows = [v for _, method, v in rows if method == "limit"]
    limit = min((statistics.median(v["times"]) for v in limit_rows), default=None)
    loop_mb = results["loop"]["peak_mb"] if "loop" in results else None
    width = max(len(label) for label, _, _ in rows)
    print(f"{'method':<{width}}  {'median s':>9}  {'min s':>8}  {'first s':>8}  "
          f"{'cpu s':>8}  {'x limit':>8}  {'peak MB':>8}  {'x loop':>6}")
    for label, method, v in rows:
        med = medians[label]
        peak = results[method]["peak_mb"]
        ratio = f"{med / limit:8.2f}" if limit else f"{'-':>8}"
        mem = f"{peak / loop_mb:6.2f}" if loop_mb else f"{'-':>6}"
        cpu = statistics.median(v["cpu"])
        print(f"{label:<{width}}  {med:9.4f}  {min(v['times']):8.4f}  "
              f"{v['cold']:8.3f}  {cpu:8.3f}  {ratio}  {peak:8.0f}  {mem}")
    if "limit" in results:
        print(f"(peak MB of the limit: one process for all its variants, with all "
              f"{n_copies} copies prebuilt; setup alone: "
              f"{results['limit']['setup_mb']:.0f} MB)")
    waited = results.get("seqimportance", {}).get("background_s")
    if waited is not None:
        print(f"(warm-up: a second run of each, then seqimportance's background XLA "
              f"compiles; the warm runs started {waited:.2f} s after the first runs)")
    if timed is not None:
        print("(limit and seqimportance timed in one process, run after run in turn; "
              "first s and peak MB from a fresh process per method)")
    if not limit or "seqimportance" not in medians:
        return None
    ratios = {"medians": medians["seqimportance"] / limit}
    if timed is not None:
        si = timing("seqimportance", "")["times"]
        per_run = [min(v["times"][r] for v in limit_rows) for r in range(len(si))]
        ratios["run by run"] = statistics.median(a / b for a, b in zip(si, per_run))
    return ratios


def _first_calls(workload, samples, reps, max_batch_bytes):
    """First call of each variant in a fresh process, ``reps`` rounds in turn.

    Returns ``{label: [seconds, ...]}``: the limit's forward passes without
    and with XLA (traced, and compiled, on that first call) and
    seqimportance's first ``fit``.
    """
    n_rows = _n_units(WORKLOADS[workload]) * N_ITER * samples
    batch = n_rows if n_rows <= 8192 else 2048
    variants = [
        (f"limit, no XLA, batch {batch}", "limit", f"no XLA, batch {batch}"),
        (f"limit, XLA, batch {batch}", "limit", f"XLA, batch {batch}"),
        ("seqimportance", "seqimportance", ""),
    ]
    times = {label: [] for label, _, _ in variants}
    for _ in range(reps):
        for label, method, only in variants:
            res = _run_worker(workload, [method], samples, 0, 0, max_batch_bytes,
                              only=only)
            if "error" in res:
                print(f"first call of {label}: FAILED ({res['error']})")
                continue
            times[label].append(res["variants"][method][only]["cold"])
    return times


def _report_first(workload, times, target=1.5):
    """Print the first-call rows; return seqimportance / no-XLA limit."""
    print(f"\n{workload}, first call in a fresh process (median of "
          f"{max(len(v) for v in times.values())}; each in its own process, "
          "in turn)")
    labels = [label for label, v in times.items() if v]
    if not labels:
        return None
    width = max(len(label) for label in labels)
    print(f"{'method':<{width}}  {'median s':>9}  {'min s':>8}")
    for label in labels:
        v = times[label]
        print(f"{label:<{width}}  {statistics.median(v):9.3f}  {min(v):8.3f}")
    limit = next((v for label, v in times.items() if "no XLA" in label), [])
    ours = times.get("seqimportance", [])
    if not limit or not ours:
        return None
    ratio = statistics.median(ours) / statistics.median(limit)
    per_run = statistics.median(a / b for a, b in zip(ours, limit))
    met = ratio <= target
    print(f"target: first call within {target}x of the no-XLA limit's: "
          f"{ratio:.2f}x (medians); {per_run:.2f}x (run by run) -> "
          f"{'met' if met else 'MISSED'}")
    return ratio


def _report_back_to_back(workload, res):
    """Warm runs straight after the first ones, as a loop of calls makes them."""
    if "error" in res:
        print(f"{workload}, back to back: FAILED ({res['error']})")
        return
    variants = res["variants"]
    limits = variants["limit"]
    ours = variants["seqimportance"][""]["times"]
    per_run = [min(v["times"][r] for v in limits.values()) for r in range(len(ours))]
    ratios = [a / b for a, b in zip(ours, per_run)]
    print(f"\n{workload}, back to back in a fresh process: the first runs, then "
          f"{len(ours)} rounds of every limit variant and seqimportance in turn, "
          "no warm-up, no wait for background compiles")
    print("  seqimportance s: " + ", ".join(f"{t:.4f}" for t in ours))
    print("  best limit s:    " + ", ".join(f"{t:.4f}" for t in per_run))
    print("  x limit:         " + ", ".join(f"{r:.2f}" for r in ratios))
    by_run = statistics.median(ratios)
    target = BACK_TO_BACK_TARGETS[workload]
    print(f"target: back to back within {target}x of the limit: {by_run:.2f}x "
          f"(median run by run); "
          f"{statistics.median(ours) / statistics.median(per_run):.2f}x (medians) "
          f"-> {'met' if by_run <= target else 'MISSED'}")


def _report_same_architecture(workload, res):
    """Print the first fits of N_MODELS models of one architecture."""
    if "error" in res:
        print(f"{workload}, {N_MODELS} models of one architecture: FAILED "
              f"({res['error']})")
        return
    firsts, warm = res["firsts"], statistics.median(res["warm"])
    total, bound = sum(firsts), firsts[0] + (N_MODELS - 1) * 2 * warm
    print(f"\n{workload}, {N_MODELS} models of one architecture (different "
          "weights) in one fresh process, first fit of each in turn:")
    print("  " + ", ".join(f"{t:.3f}" for t in firsts)
          + f" s; total {total:.3f} s; warm fit {warm:.4f} s")
    if res.get("later"):
        print(f"  background XLA compile done {res['background_s']:.2f} s after "
              f"the fifth; then {len(res['later'])} more new models: "
              + ", ".join(f"{t:.3f}" for t in res["later"]) + " s")
    print(f"target: total within first + {N_MODELS - 1} x 2 x warm = {bound:.3f} s: "
          f"{total:.3f} s -> {'met' if total <= bound else 'MISSED'}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark seqimportance against the per-feature model.predict "
        "loop, eli5 and the forward-pass limit; one fresh process per method.",
    )
    parser.add_argument("--workloads", nargs="+", choices=sorted(WORKLOADS),
                        default=sorted(WORKLOADS),
                        help="workloads to run (default: all)")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="methods to time (default: all)")
    parser.add_argument("--runs", type=int, default=None,
                        help="warm runs per method; the median is reported "
                        "(default: 5 for W1, 3 for W2)")
    parser.add_argument("--eli5-columns", type=int, default=None,
                        help="columns eli5 shuffles before extrapolating "
                        "(default: 6 for W1, 2 for W2)")
    parser.add_argument("--max-batch-bytes", type=int, default=None,
                        help="max_batch_bytes of SequencePermutationImportance "
                        "(default: its own default)")
    parser.add_argument("--first-calls", type=int, default=-1, metavar="K",
                        help="first calls in a fresh process, K rounds of "
                        "limit (no XLA, XLA) and seqimportance in turn; 0 skips "
                        "them (default: 3 for W1, 1 for W2)")
    parser.add_argument("--same-architecture", type=int, default=1, metavar="0|1",
                        help=f"time {N_MODELS} W1 models of one architecture in "
                        "one process (default: 1, yes)")
    parser.add_argument("--save", metavar="FILE.json", default=None,
                        help="also write the raw timings and memory to this file")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: W2 with 400 sequences, 2 warm runs, "
                        "eli5 on 2 columns")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", help=argparse.SUPPRESS)
    parser.add_argument("--no-warm-up", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--back-to-back", type=int, default=BACK_TO_BACK_RUNS,
                        metavar="K",
                        help="W1 and W2 also back to back: in a fresh process, "
                        "the cold runs, then K rounds of the limit and "
                        "seqimportance in turn, with no warm-up and no wait for "
                        f"background compiles; 0 skips it (default: "
                        f"{BACK_TO_BACK_RUNS})")
    args = parser.parse_args(argv)
    if args.worker == "same-architecture":
        return same_architecture_worker(args)
    if args.worker:
        return worker(args)

    print(f"python {platform.python_version()}, {_versions()}; "
          f"{os.cpu_count()} CPU cores, {platform.machine()}")
    targets = TARGETS
    all_results = {}
    pair = [m for m in ("limit", "seqimportance") if m in args.methods]
    interleave = len(pair) == 2
    for workload in args.workloads:
        full = WORKLOADS[workload]["n_samples"]
        samples = QUICK_SAMPLES[workload] if args.quick else full
        eli5_columns = args.eli5_columns or (2 if args.quick or workload == "W2" else 6)
        runs = args.runs or (2 if args.quick else {"W1": 5, "W2": 3}.get(workload, 2))
        results, timed = {}, None

        def save():
            all_results.setdefault(workload, {}).update(
                fresh=results, interleaved=timed)
            if args.save:
                with open(args.save, "w") as f:
                    json.dump(all_results, f, indent=1)

        only_pair = workload in INTERLEAVED_ONLY
        for method in args.methods:
            if only_pair:
                break
            print(f"  running {workload} / {method} ...", file=sys.stderr, flush=True)
            # Timed interleaved below: here only the first run and the memory.
            n_runs = 1 if interleave and method in pair else runs
            results[method] = _run_worker(
                workload, [method], samples, n_runs, eli5_columns, args.max_batch_bytes
            )
            save()
        if interleave:
            print(f"  running {workload} / limit and seqimportance in turn ...",
                  file=sys.stderr, flush=True)
            timed = _run_worker(
                workload, pair, samples, runs, eli5_columns, args.max_batch_bytes
            )
            if only_pair:  # first run and memory from this process too
                results.update({method: timed for method in pair})
            save()
        ratios = _report(workload, samples, results, timed, eli5_columns, runs)
        if ratios:
            target = targets[workload]
            shown = "; ".join(f"{r:.2f}x ({how})" for how, r in ratios.items())
            met = ratios.get("run by run", ratios["medians"]) <= target
            print(f"target: seqimportance within {target}x of the limit: {shown} -> "
                  f"{'met' if met else 'MISSED'}")
        if args.back_to_back and interleave and workload in BACK_TO_BACK_TARGETS:
            print(f"  running {workload} / back to back ...", file=sys.stderr,
                  flush=True)
            res = _run_worker(workload, pair, samples, args.back_to_back,
                              eli5_columns, args.max_batch_bytes, warm_up=False)
            all_results[workload]["back_to_back"] = res
            save()
            _report_back_to_back(workload, res)
        if args.first_calls and pair and not only_pair:
            print(f"  running {workload} / first calls ...", file=sys.stderr,
                  flush=True)
            reps = args.first_calls if args.first_calls > 0 else (
                {"W1": 3, "W2": 1}[workload])
            first = _first_calls(workload, samples, reps, args.max_batch_bytes)
            all_results[workload]["first_calls"] = first
            save()
            _report_first(workload, first)
        if args.same_architecture and workload == "W1" and "seqimportance" in pair:
            print(f"  running {workload} / {N_MODELS} models of one architecture ...",
                  file=sys.stderr, flush=True)
            res = _run_worker(workload, ["same-architecture"], samples, runs, 0,
                              args.max_batch_bytes)
            all_results[workload]["same_architecture"] = res
            save()
            _report_same_architecture(workload, res)
        if workload == "W2" and "seqimportance" in results and "loop" in results:
            mem = results["seqimportance"]["peak_mb"] / results["loop"]["peak_mb"]
            print(f"target: peak memory within 1.2x of the loop: {mem:.3f}x -> "
                  f"{'met' if mem <= 1.2 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
