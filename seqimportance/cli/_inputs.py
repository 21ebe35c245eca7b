"""What ``seqimportance explain`` reads: the model, the data, the options.

Every problem a user can fix (a missing file, a file that is not a model, a
missing array, data whose shape does not fit the model, a malformed option)
is raised as :class:`UsageError` with a one-line message; the command prints
it and exits with status 2, without a traceback.
"""

import contextlib
import os
import re
import sys
import tempfile
import warnings

import numpy as np

__all__ = [
    "UsageError",
    "as_model_input",
    "check_fits_model",
    "load_data",
    "load_model",
    "parse_groups",
    "parse_max_samples",
]

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
FRAME_SUFFIXES = (".csv", ".parquet", ".pq")


class UsageError(Exception):
    """A mistake in the command line or its files, told in one line."""

    def __init__(self, message):
        super().__init__(one_line(message))


def one_line(text, limit=600):
    """``text`` on one line (whitespace collapsed), cut at ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _existing_file(path, what):
    if not os.path.exists(path):
        raise UsageError(f"{what} {path!r}: no such file.")
    if not os.path.isfile(path):
        raise UsageError(f"{what} {path!r} is not a file.")


# --- the model ----------------------------------------------------------------

@contextlib.contextmanager
def native_stderr_silenced():
    """Discard what native code writes to file descriptor 2 meanwhile.

    TensorFlow's C++ runtime logs its start-up (CPU features, CUDA drivers)
    straight to descriptor 2, whatever ``TF_CPP_MIN_LOG_LEVEL`` says; the
    command hides those lines so that its own messages stay readable. Python
    exceptions are not affected: they are raised, not printed.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no descriptor 2 to redirect
        yield
        return
    try:
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def load_model(path):
    """The model of ``path``: a trained ``keras.Model``, or a fitted estimator.

    Parameters
    ----------
    path : str
        A ``.keras`` file (also ``.h5``), or a scikit-learn estimator saved
        with :func:`joblib.dump` or :mod:`pickle` (``.joblib``, ``.pkl``,
        ``.pickle``).

    Returns
    -------
    model : keras.Model or estimator

    Raises
    ------
    UsageError
        If the file is missing, has another suffix, or does not hold a
        model.
    """
    _existing_file(path, "MODEL")
    suffix = os.path.splitext(path)[1].lower()
    if suffix in KERAS_SUFFIXES:
        try:
            with native_stderr_silenced():
                from ..keras._models import load_keras_model

                return load_keras_model(path, param_name="MODEL")
        except (TypeError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
    if suffix in PICKLE_SUFFIXES:
        import joblib

        try:
            model = joblib.load(path)
        except Exception as exc:  # pickle raises many kinds of errors
            raise UsageError(
                f"MODEL {path!r} could not be unpickled ({type(exc).__name__}: "
                f"{exc})."
            ) from exc
        if not hasattr(model, "predict"):
            raise UsageError(
                f"MODEL {path!r} holds a {type(model).__name__}, not a fitted "
                "estimator with predict."
            )
        return model
    raise UsageError(
        f"MODEL {path!r} must be a Keras model file ({', '.join(KERAS_SUFFIXES)}) "
        f"or a pickled scikit-learn estimator ({', '.join(PICKLE_SUFFIXES)}); "
        f"got the suffix {suffix or '(none)'!r}."
    )


def check_fits_model(model, X, data_format="channels_last"):
    """Raise :class:`UsageError` if ``X`` cannot be the input of ``model``.

    A Keras model's input shape is compared with ``X.shape`` (the model
    receives ``X`` in the layout given, whatever ``data_format``); a
    scikit-learn estimator's ``n_features_in_`` with the features of 2-D
    ``X``.
    """
    inputs = getattr(model, "inputs", None)
    if inputs and hasattr(model, "layers"):
        expected = tuple(None if d is None else int(d) for d in inputs[0].shape[1:])
        given = tuple(X.shape[1:])
        fits = _same_shape(expected, given) or (
            # 2-D X is one timestep: (n, F) and (n, 1, F) are the same data
            (len(given) == 1 and _same_shape(expected, (1,) + given))
            or (len(expected) == 1 and len(given) == 2 and given[0] == 1
                and _same_shape(expected, given[1:]))
        )
        if not fits:
            raise UsageError(
                f"X has shape {tuple(X.shape)} but the model expects input of "
                f"shape {(None,) + expected} (n_samples first); check --x, "
                "--data-format and the model."
            )
        return
    n_features = getattr(model, "n_features_in_", None)
    if n_features is not None and X.ndim == 2 and X.shape[1] != n_features:
        raise UsageError(
            f"X has shape {tuple(X.shape)} but the estimator was fitted on "
            f"{n_features} features, i.e. shape (n_samples, {n_features})."
        )
    if n_features is not None and X.ndim == 3 and X.shape[1:] != (1, n_features):
        raise UsageError(
            f"X has shape {tuple(X.shape)} but the estimator was fitted on 2-D "
            f"data of {n_features} features; give it (n_samples, {n_features}) "
            f"or (n_samples, 1, {n_features})."
        )


def as_model_input(model, X):
    """``X`` as ``model`` reads it: ``(n, 1, F)`` as ``(n, F)`` for a 2-D estimator.

    A long table always gives 3-D ``X``; a scikit-learn estimator fitted on
    2-D data reads one timestep as ``(n_samples, n_features)``.
    """
    is_keras = bool(getattr(model, "inputs", None)) and hasattr(model, "layers")
    if (not is_keras and getattr(model, "n_features_in_", None) is not None
            and X.ndim == 3 and X.shape[1] == 1):
        return X[:, 0, :]
    return X


def _same_shape(expected, given):
    return len(expected) == len(given) and all(
        e is None or e == g for e, g in zip(expected, given)
    )


# --- the data -------------------------------------------------------------------

def load_data(args):
    """``(X, y, feature_names, mask_value, description)`` from the options.

    ``DATA`` is a ``.npz`` file (arrays ``--x`` and ``--y``, and
    ``feature_names`` if present) or a long table (``.csv``, ``.parquet``)
    read with :func:`~seqimportance.from_long_frame` (``--id``, ``--time``,
    ``--features``, and ``--y`` as a column).
    """
    path = args.data
    _existing_file(path, "DATA")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".npz":
        return _load_npz(args)
    if suffix in FRAME_SUFFIXES:
        return _load_long_frame(args, suffix)
    raise UsageError(
        f"DATA {path!r} must be a .npz file or a long table (.csv, .parquet); "
        f"got the suffix {suffix or '(none)'!r}."
    )


def _load_npz(args):
    try:
        archive = np.load(args.data, allow_pickle=False)
        keys = list(archive.files)
    except Exception as exc:  # a corrupt or foreign file
        raise UsageError(
            f"DATA {args.data!r} is not a readable .npz file ({type(exc).__name__}: "
            f"{exc})."
        ) from exc
    x_key = args.x or "X"
    y_key = args.y or "y"

    def get(key):
        try:
            return archive[key]
        except ValueError as exc:  # an object array: it needs pickle
            raise UsageError(
                f"array {key!r} of {args.data!r} holds Python objects; save "
                "numeric arrays (and feature names as a str array)."
            ) from exc

    if x_key not in keys:
        raise UsageError(
            f"DATA {args.data!r} has no array {x_key!r} (--x); it has "
            f"{', '.join(keys) or 'no arrays'}."
        )
    X = get(x_key)
    if args.y is not None and y_key not in keys:
        raise UsageError(
            f"DATA {args.data!r} has no array {y_key!r} (--y); it has "
            f"{', '.join(keys)}."
        )
    y = get(y_key) if y_key in keys else None
    names = _split(args.feature_names)
    if names is None and "feature_names" in keys:
        names = [str(n) for n in get("feature_names").ravel()]
    if X.ndim not in (2, 3):
        raise UsageError(
            f"array {x_key!r} has shape {X.shape}; expected (n_samples, "
            "n_timesteps, n_features) or (n_samples, n_features)."
        )
    description = f"{os.path.basename(args.data)}, array {x_key!r}" + (
        f", target {y_key!r}" if y is not None else ", no target")
    return X, y, names, args.mask_value, description


def _load_long_frame(args, suffix):
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UsageError("reading a .csv or .parquet table needs pandas.") from exc
    from ..preprocessing._long_frame import from_long_frame

    if not args.id or not args.time:
        raise UsageError(
            f"DATA {args.data!r} is a long table: name its id and time columns "
            "with --id and --time."
        )
    try:
        frame = pd.read_csv(args.data) if suffix == ".csv" else pd.read_parquet(
            args.data)
    except Exception as exc:  # a parser error, no parquet engine, ...
        raise UsageError(
            f"DATA {args.data!r} could not be read ({type(exc).__name__}: {exc})."
        ) from exc
    features = _split(args.features)
    if features is None:
        features = [c for c in frame.columns if c not in (args.id, args.time, args.y)]
    pad = 0.0 if args.mask_value is None else args.mask_value
    try:
        seqs = from_long_frame(frame, id=args.id, time=args.time,
                               features=features, mask_value=pad)
        y = None
        if args.y is not None:
            with warnings.catch_warnings():  # a target of 0 is no padding
                warnings.filterwarnings("ignore", ".*have every feature equal",
                                        UserWarning)
                target = from_long_frame(frame, id=args.id, time=args.time,
                                         features=[args.y], mask_value=pad)
            y = _target(target)
    except (KeyError, ValueError) as exc:
        raise UsageError(f"DATA {args.data!r}: {exc}") from exc
    lengths = np.asarray(seqs.lengths)
    padded = lengths.size and lengths.min() != lengths.max()
    mask_value = args.mask_value if args.mask_value is not None else (
        pad if padded else None)
    names = _split(args.feature_names) or [str(n) for n in seqs.feature_names]
    description = (f"{os.path.basename(args.data)}, {len(lengths)} ids "
                   f"({args.id!r}), time {args.time!r}")
    return seqs.X, y, names, mask_value, description


def _target(target):
    """One target per id if it is constant in time, else one per timestep."""
    values = target.X[:, :, 0]
    per_id = values[:, 0]
    real = np.arange(values.shape[1])[np.newaxis, :] < target.lengths[:, np.newaxis]
    if np.all((values == per_id[:, np.newaxis]) | ~real):
        return per_id
    return values


# --- options --------------------------------------------------------------------

def _split(text):
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise UsageError(f"empty name in the list {text!r}.")
    return items


def parse_groups(text, feature_names=None):
    """``"acc=0,1,2;gyro=3,4"`` (indices or feature names) as a dict.

    Examples
    --------
    >>> from seqimportance.cli._inputs import parse_groups
    >>> parse_groups("acc=0,1;gyro=b", feature_names=["a", "b"])
    {'acc': [0, 1], 'gyro': [1]}
    """
    if text is None:
        return None
    groups = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, members = part.partition("=")
        if not sep or not name.strip() or not members.strip():
            raise UsageError(
                f"--groups {text!r}: expected NAME=F1,F2;NAME=F3,... with feature "
                "indices or names."
            )
        indices = []
        for member in (m.strip() for m in members.split(",")):
            if re.fullmatch(r"\d+", member):
                indices.append(int(member))
            elif feature_names is not None and member in feature_names:
                indices.append(list(feature_names).index(member))
            else:
                known = "" if feature_names is None else (
                    f" (features: {', '.join(feature_names)})")
                raise UsageError(
                    f"--groups: {member!r} is neither a feature index nor a "
                    f"feature name{known}."
                )
        groups[name.strip()] = indices
    return groups


def parse_max_samples(text):
    """An int (a number of samples) or a float in (0, 1] (a fraction)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            value = None
    if value is None or not (isinstance(value, int) and value >= 1
                             or isinstance(value, float) and 0 < value <= 1):
        raise argparse.ArgumentTypeError(
            f"must be a number of samples (an int >= 1) or a fraction in (0, 1]; "
            f"got {text!r}"
        )
    return value
