"""Time importance on the same Keras model reached through different estimators.

Workload W2: 4,000 sequences x 50 timesteps x 16 features, LSTM(64) ->
Dense(1), ``SequencePermutationImportance(n_iter=5, perturbation="gaussian",
scale=0.2, effect="rms")``. The same (untrained) network is explained as

- ``wrapper``: the package's ``SequenceModelRegressor``;
- ``from_model``: ``SequenceModelRegressor.from_model(keras_model)``;
- ``bare``: the bare ``keras.Model`` itself;
- ``pipeline``: ``make_pipeline(SequenceScaler(), SequenceModelRegressor)``;
- ``scikeras``: a user's scikeras ``KerasRegressor`` with its own build
  function;
- ``keras_flat``: Keras 3's own ``keras.wrappers.SKLearnRegressor`` on
  flattened windows ``(n, T * F)``, its model the same layers behind a
  ``Reshape((T, F))``, explained with ``data_format="flattened"``.

All run in one process, one run of each in turn (so that a change of load
hits all alike), after one cold run each. The table gives the best and the
median of the warm runs and the ratio of the best to the wrapper's best.
Usage: ``python benchmarks/bench_adapters.py [--runs N] [--samples N]``.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build(n_timesteps, n_features):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((n_timesteps, n_features)),
            keras.layers.LSTM(64),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def flat_build(n_timesteps, n_features):
    import keras

    def build_flat(X, y):
        inner = build(n_timesteps, n_features)
        model = keras.Sequential(
            [
                keras.Input((n_timesteps * n_features,)),
                keras.layers.Reshape((n_timesteps, n_features)),
            ]
            + inner.layers
        )
        model.compile(optimizer="adam", loss="mse")
        return model

    return build_flat


def scikeras_build(meta, compile_kwargs):
    _, n_timesteps, n_features = meta["X_shape_"]
    return build(n_timesteps, n_features)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="warm runs per method")
    parser.add_argument("--samples", type=int, default=4000)
    args = parser.parse_args()

    import keras
    import numpy as np
    from scikeras.wrappers import KerasRegressor
    from sklearn.pipeline import make_pipeline

    from seqimportance import (
        SequenceModelRegressor,
        SequencePermutationImportance,
        SequenceScaler,
    )

    n, T, F = args.samples, 50, 16
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, T, F)).astype("float32")
    y = rng.normal(size=n).astype("float32")

    model = build(T, F)
    wrapper = SequenceModelRegressor(model=lambda: build(T, F)).initialize(X, y)
    wrapper.model_.set_weights(model.get_weights())
    pipe = make_pipeline(
        SequenceScaler(), SequenceModelRegressor(model=lambda: build(T, F))
    )
    pipe.steps[0][1].fit(X)
    pipe.steps[1][1].initialize(X, y)
    pipe.steps[1][1].model_.set_weights(model.get_weights())
    user = KerasRegressor(model=scikeras_build, verbose=0).initialize(X, y)
    user.model_.set_weights(model.get_weights())
    flat = keras.wrappers.SKLearnRegressor(
        model=flat_build(T, F), fit_kwargs={"epochs": 1, "verbose": 0}
    ).fit(X[:64].reshape(64, T * F), y[:64])
    flat.model_.set_weights(model.get_weights())  # Reshape has no weights
    estimators = {
        "wrapper": wrapper,
        "from_model": SequenceModelRegressor.from_model(model),
        "bare": model,
        "pipeline": pipe,
        "scikeras": user,
        "keras_flat": flat,
    }
    data_formats = {"keras_flat": "flattened"}

    def run(name):
        start = time.perf_counter()
        SequencePermutationImportance(
            estimators[name], n_iter=5, perturbation="gaussian", scale=0.2,
            effect="rms", random_state=0,
            data_format=data_formats.get(name, "channels_last"),
        ).fit(X, y)
        return time.perf_counter() - start

    first = {name: run(name) for name in estimators}
    warm = {name: [] for name in estimators}
    for _ in range(args.runs):
        for name in estimators:
            warm[name].append(run(name))
    base = min(warm["wrapper"])
    print(
        f"W2: {n} x {T} x {F}, LSTM(64) -> Dense(1), gaussian 0.2, rms, 5 repeats; "
        f"{args.runs} warm runs each, in turn, one process"
    )
    print(f"{'estimator':<12}{'first s':>10}{'best s':>10}{'median s':>10}"
          f"{'x wrapper':>11}{'x from_model':>14}")
    for name in estimators:
        best = min(warm[name])
        print(
            f"{name:<12}{first[name]:>10.2f}{best:>10.2f}"
            f"{statistics.median(warm[name]):>10.2f}{best / base:>11.2f}"
            f"{best / min(warm['from_model']):>14.2f}"
        )


if __name__ == "__main__":
    main()
