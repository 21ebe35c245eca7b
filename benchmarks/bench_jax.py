"""Time seqimportance on the JAX backend against its forward-pass limit and TensorFlow.

For each workload (W1, W2 and W2T of ``bench_importance.py``, with its
models, data and settings: ``n_iter=5``, Gaussian noise of scale 0.2, RMS
change of the predictions, untrained models), two fresh Python processes:

- ``KERAS_BACKEND=jax``: the limit, ``jax.jit`` of ``model.stateless_call``
  (weights as arguments) over all perturbed copies, prebuilt, in one call
  when they are at most 8192 rows, else in batches of 2048 and of 8192 rows
  (the fastest is the limit; W2T's copies would take 3.2 GB, so its batches
  cycle through 81,920 prebuilt rows, as in ``bench_importance.py``); and
  ``SequencePermutationImportance(est, n_iter=5, perturbation="gaussian",
  scale=0.2, effect="rms").fit(X, y)``, which on JAX runs through the jitted
  predictor (:mod:`seqimportance.keras._jax_predictor`) and, for W2T's
  timestep units, runs each copy from its first perturbed step
  (:mod:`seqimportance.keras._jax_prefix`);
- ``KERAS_BACKEND=tensorflow``: the limit of ``bench_importance.py`` with
  XLA (a ``tf.function`` with ``jit_compile=True``, same batches) and the
  same ``fit``.

In each process every variant runs once cold (tracing, compiling: the
``first s`` column), once more as a warm-up (then TensorFlow's background XLA
compiles are waited for), then ``--runs`` rounds run every variant once in
turn, so that a change of load hits all alike. The table gives the median and
the best of the warm runs and the ratio to the backend's own limit; the
target line gives seqimportance on JAX against the JAX limit (medians, and
the median of the run-by-run ratios), then JAX against TensorFlow.

Usage, from the repository root (do not run it beside other heavy work)::

    python benchmarks/bench_jax.py                 # W1, W2, W2T
    python benchmarks/bench_jax.py --quick         # W2, W2T on 400 sequences, 2 runs
    python benchmarks/bench_jax.py --workloads W1 --runs 5
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_importance as bi  # noqa: E402

WORKLOADS = ("W1", "W2", "W2T")
BACKENDS = ("jax", "tensorflow")
# seqimportance on JAX against the JAX limit; W2T runs each copy from its first
# perturbed step, about half the steps of the limit's full passes.
TARGETS = {"W1": 1.2, "W2": 1.2, "W2T": 0.6}
DEFAULT_RUNS = {"W1": 5, "W2": 3, "W2T": 2}
MARKER = "BENCH-JAX-RESULT "


# ------------------------------------------------------------ worker process
def _prebuilt_copies(X, spec):
    """All perturbed copies stacked, as ``bench_importance._limit`` builds them.

    Returns ``(copies, n_rows, batch_sizes)``: copies of more than 1 GB in all
    are not all built, the batches then cycle through the first 81,920 rows.
    """
    import numpy as np

    n, T, F = X.shape
    n_copies = bi._n_units(spec) * bi.N_ITER
    n_rows = n_copies * n
    built = n_copies if n_copies * X.nbytes <= 2**30 else -(-81920 // n)
    rng = np.random.default_rng(0)
    copies = np.repeat(X[np.newaxis], built, axis=0)
    copies[..., 0] += rng.normal(0.0, bi.SCALE, size=copies.shape[:3]).astype(
        np.float32
    )
    copies = copies.reshape(-1, T, F)
    if built < n_copies:
        copies = copies[:81920]
    batch_sizes = [n_rows] if n_rows <= 8192 else [2048, 8192]
    return copies, n_rows, batch_sizes


def _jax_limit(X, est, spec):
    """``jax.jit`` of ``stateless_call`` over the prebuilt copies, per batch size."""
    import jax
    import numpy as np

    copies, n_rows, batch_sizes = _prebuilt_copies(X, spec)
    n_built = len(copies)
    model = est.model_

    def infer(trainable, non_trainable, x):
        return model.stateless_call(trainable, non_trainable, x, training=False)[0]

    function = jax.jit(infer)
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    runs = {}
    for batch in batch_sizes:

        def run(batch=batch):
            # The last batch may be shorter: a second compile, in the cold run.
            out = []
            for i in range(0, n_rows, batch):
                rows = min(batch, n_rows - i)
                start = i % n_built if n_built % batch == 0 else i
                x = copies[start : start + rows]
                out.append(np.asarray(function(trainable, non_trainable, x)))
            return out

        runs[f"limit, jit, batch {batch}"] = run
    runs.update(_jax_loop_limit(copies, n_rows, batch_sizes, model))
    return runs


def _jax_loop_limit(copies, n_rows, batch_sizes, model):
    """The faster jitted forward pass: the recurrent step loop from step 0.

    The jitted suffix function of the prefix path
    (``seqimportance.keras._jax_prefix``) with start 0 and zero states is the
    model's forward pass; it runs without the wrappers, the chunking and the
    perturbations, over the same prebuilt copies.
    """
    import numpy as np

    from seqimportance.keras._causal_stack import recurrent_stack
    from seqimportance.keras._jax_prefix import JaxPrefixRunner

    if recurrent_stack(model) is None:
        return {}
    n_built, T = len(copies), copies.shape[1]
    runs = {}
    for batch in batch_sizes:
        runner = JaxPrefixRunner(model, batch)
        _, suffix = runner._functions()
        values = runner._values()
        sizes = runner._sizes
        base_width = sizes[-1] if runner.per_step else 0

        def run(batch=batch, suffix=suffix, values=values, sizes=sizes,
                base_width=base_width):
            out = []
            for i in range(0, n_rows, batch):
                rows = min(batch, n_rows - i)
                start = i % n_built if n_built % batch == 0 else i
                x = copies[start : start + rows]
                init = [np.zeros((rows, size), x.dtype) for size in sizes]
                base = np.zeros((rows, T, base_width), x.dtype)
                out.append(np.asarray(suffix(values, x, np.int32(0), init, base)))
            return out

        runs[f"limit, step loop, batch {batch}"] = run
    return runs


def _tf_limit(X, est, spec):
    """``bench_importance``'s limit, its XLA variants only."""
    runs = bi._limit(X, est, spec)
    return {f"limit, {name}": run for name, run in runs.items()
            if name.startswith("XLA")}


def _prefix_steps(est):
    """Share of the full passes' steps the JAX prefix path ran, or None."""
    try:
        from seqimportance.keras._predictor import make_keras_predictor

        predictor = make_keras_predictor(est)
        if not getattr(predictor, "uses_first_steps", False):
            return None
        runner = predictor.prefix_runner()
    except (AttributeError, ImportError):
        return None
    if not runner.steps_full:
        return None
    return runner.steps_run / runner.steps_full


def worker(args):
    """Time the limit and seqimportance of one workload on this process's backend."""
    import keras

    backend = keras.backend.backend()
    spec = bi.WORKLOADS[args.workload]
    X, y, est = bi._setup(args.workload, args.samples)
    runs = _jax_limit(X, est, spec) if backend == "jax" else _tf_limit(X, est, spec)
    runs["seqimportance"] = bi._seqimportance(X, y, est, None, spec["axis"])[""]
    timings = {}
    for label, run in runs.items():
        t0 = time.perf_counter()
        run()
        timings[label] = {"cold": time.perf_counter() - t0, "times": []}
    for run in runs.values():  # warm-up
        run()
    bi._wait_for_background_compiles()
    for _ in range(args.runs):
        for label, run in runs.items():
            t0 = time.perf_counter()
            run()
            timings[label]["times"].append(time.perf_counter() - t0)
    result = {"backend": backend, "variants": timings,
              "peak_mb": bi._peak_rss_mb(), "steps": _prefix_steps(est)}
    print(MARKER + json.dumps(result), flush=True)


# ------------------------------------------------------------ parent process
def _run_worker(backend, workload, samples, runs):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="")
    if backend == "jax":
        env.setdefault("JAX_PLATFORMS", "cpu")
    cmd = [sys.executable, os.path.abspath(__file__), "--worker",
           "--workload", workload, "--samples", str(samples), "--runs", str(runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    lines = (proc.stderr or proc.stdout or "no output").strip().splitlines()
    return {"error": f"exit code {proc.returncode}: {lines[-1]}"}


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("jax", "jaxlib", "keras", "tensorflow", "numpy", "seqimportance"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} -")
    return ", ".join(out)


def _limit_of(result):
    """``(median, per-run times)`` of the fastest limit variant of one process."""
    limits = {k: v["times"] for k, v in result["variants"].items()
              if k.startswith("limit")}
    best = min(limits.values(), key=statistics.median)
    per_run = [min(times[r] for times in limits.values()) for r in range(len(best))]
    return statistics.median(best), per_run


def _report(workload, samples, runs, results):
    """Print one workload's table and its target lines."""
    spec = bi.WORKLOADS[workload]
    T, F = spec["n_timesteps"], spec["n_features"]
    n_units = bi._n_units(spec)
    n_copies = n_units * bi.N_ITER
    layers = " -> ".join(f"LSTM({u})" for u in spec["units"])
    head = "Dense(1) per timestep" if spec["kind"] == "classifier" else "Dense(1)"
    what = {"feature": "features", "timestep": "timesteps", "both": "cells"}
    print(f"\n{workload}: {samples} x {T} x {F}, {layers} -> {head}; {n_units} "
          f"{what[spec['axis']]} x {bi.N_ITER} repeats = {n_copies} copies "
          f"({n_copies * samples:,} rows); median of {runs} warm runs")
    rows, medians = [], {}
    for backend, res in results.items():
        if "error" in res:
            print(f"{backend}: FAILED ({res['error']})")
            continue
        limit, _ = _limit_of(res)
        for label, v in res["variants"].items():
            med = statistics.median(v["times"])
            medians[backend, label] = med
            rows.append((backend, label, med, min(v["times"]), v["cold"],
                         med / limit, res["peak_mb"]))
    if not rows:
        return
    width = max(len(r[1]) for r in rows)
    print(f"{'backend':<10}  {'method':<{width}}  {'median s':>9}  {'min s':>8}  "
          f"{'first s':>8}  {'x limit':>8}  {'peak MB':>8}")
    for backend, label, med, best, cold, ratio, peak in rows:
        print(f"{backend:<10}  {label:<{width}}  {med:9.4f}  {best:8.4f}  "
              f"{cold:8.3f}  {ratio:8.2f}  {peak:8.0f}")
    jax_res = results.get("jax", {})
    if jax_res.get("steps") is not None:
        print(f"(JAX: the copies ran from their first perturbed step, "
              f"{jax_res['steps']:.0%} of the steps of full passes)")
    if "error" not in jax_res and jax_res:
        limit, per_run = _limit_of(jax_res)
        ours = jax_res["variants"]["seqimportance"]["times"]
        by_run = statistics.median(a / b for a, b in zip(ours, per_run))
        ratio = statistics.median(ours) / limit
        target = TARGETS[workload]
        met = "met" if by_run <= target else "MISSED"
        print(f"target: JAX seqimportance within {target}x of the JAX limit: "
              f"{ratio:.2f}x (medians); {by_run:.2f}x (run by run) -> {met}")
    tf_res = results.get("tensorflow", {})
    if jax_res and tf_res and "error" not in jax_res and "error" not in tf_res:
        si = (medians["jax", "seqimportance"]
              / medians["tensorflow", "seqimportance"])
        lim = _limit_of(jax_res)[0] / _limit_of(tf_res)[0]
        print(f"JAX / TensorFlow: seqimportance {si:.2f}x; best limit {lim:.2f}x "
              "(medians, each in its own process)")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark seqimportance on the JAX backend against its "
        "forward-pass limit and against TensorFlow; one fresh process per "
        "workload and backend.",
    )
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS,
                        default=list(WORKLOADS), help="workloads (default: all)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS,
                        default=list(BACKENDS), help="backends (default: both)")
    parser.add_argument("--runs", type=int, default=None,
                        help="warm runs of each variant, in turn (default: 5 for "
                        "W1, 3 for W2, 2 for W2T; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: W2 and W2T on 400 sequences, 2 runs")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=WORKLOADS, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    print(f"python {platform.python_version()}, {_versions()}; "
          f"{os.cpu_count()} CPU cores, {platform.machine()}")
    for workload in args.workloads:
        full = bi.WORKLOADS[workload]["n_samples"]
        samples = bi.QUICK_SAMPLES[workload] if args.quick else full
        runs = args.runs or (2 if args.quick else DEFAULT_RUNS[workload])
        results = {}
        for backend in args.backends:
            print(f"  running {workload} on {backend} ...", file=sys.stderr,
                  flush=True)
            results[backend] = _run_worker(backend, workload, samples, runs)
        _report(workload, samples, runs, results)


if __name__ == "__main__":
    sys.exit(main())
