"""What is this model? Trained Keras models and ``.keras`` files as fitted wrappers.

A trained ``keras.Model``, or the path of a saved ``.keras`` file, becomes a
fitted :class:`~seqimportance.SequenceModelRegressor` or
:class:`~seqimportance.SequenceModelClassifier` without training
(:func:`fitted_from_model`, behind the wrappers' ``from_model``).

Nothing here imports Keras unless the object at hand can be a Keras model
(Keras is then already imported).
"""

import os
import sys

import numpy as np

__all__ = [
    "fitted_from_model",
    "has_probability_head",
    "is_keras_model",
    "is_trained_model",
    "load_keras_model",
]


def is_keras_model(obj):
    """Whether ``obj`` is a ``keras.Model``, without importing Keras."""
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def _is_model_path(obj):
    return isinstance(obj, (str, os.PathLike))


def is_trained_model(obj):
    """Whether ``obj`` is a Keras model or a model's path, not an estimator."""
    return is_keras_model(obj) or _is_model_path(obj)


def load_keras_model(model, *, param_name="model"):
    """Return a built, single-input, single-output Keras model.

    Parameters
    ----------
    model : keras.Model or str or os.PathLike
        A trained model, or the path of a model saved with
        ``model.save("name.keras")``.
    param_name : str, default="model"
        Name used in error messages.

    Returns
    -------
    model : keras.Model

    Raises
    ------
    ValueError
        If the file is missing or not a Keras model, or the model is not
        built, has several inputs or outputs, or an input that is neither
        ``(n_timesteps, n_features)`` nor ``(n_features,)`` per sample.
    TypeError
        If ``model`` is neither a Keras model nor a path.
    """
    import keras

    if _is_model_path(model):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise ValueError(f"{param_name}={path!r}: no such file.")
        try:
            model = keras.saving.load_model(path)
        except Exception as exc:  # Keras raises ValueError, OSError, ...
            raise ValueError(
                f"{param_name}={path!r} is not a Keras model that keras.saving."
                f"load_model can read ({type(exc).__name__}: {exc})."
            ) from exc
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{param_name} must be a keras.Model or the path of a saved .keras "
            f"file; got {type(model).__name__}."
        )
    name = f"{param_name} ({type(model).__name__} {model.name!r})"
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not model.built or not inputs or not outputs:
        raise ValueError(
            f"{name} is not built: it has no input shape yet, so it was never "
            "trained or called. Train it first, or give it an input shape "
            "(keras.Input(shape=(n_timesteps, n_features)) as first layer)."
        )
    if len(inputs) != 1:
        raise ValueError(
            f"{name} has {len(inputs)} inputs; seqimportance explains models "
            "with one input of shape (n_samples, n_timesteps, n_features)."
        )
    if len(outputs) != 1:
        raise ValueError(
            f"{name} has {len(outputs)} outputs; seqimportance explains models "
            "with one output. Build a model of the output to explain, e.g. "
            "keras.Model(model.inputs, model.outputs[0])."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) not in (2, 3) or any(d is None for d in shape[1:]):
        raise ValueError(
            f"{name} has an input of shape {shape}; expected (None, n_timesteps, "
            "n_features), or (None, n_features) for one timestep, with known "
            "n_timesteps and n_features."
        )
    return model


def _output_layer_activation(model):
    """Name of the activation that produces the output, or None if unknown."""
    for layer in reversed(model.layers):
        if type(layer).__name__ == "Softmax":
            return "softmax"
        activation = getattr(layer, "activation", None)
        if activation is not None:
            return getattr(activation, "__name__", None)
        if type(layer).__name__ not in ("Reshape", "Flatten", "Dropout"):
            return None
    return None


def has_probability_head(model):
    """Whether the model's output is a softmax or sigmoid: a classifier's."""
    return _output_layer_activation(model) in ("softmax", "sigmoid")


def _output_geometry(model):
    """(n_columns, per_timestep) of the model's single output."""
    shape = tuple(model.outputs[0].shape)
    if len(shape) == 2:
        return int(shape[1]), False
    if len(shape) == 3 and shape[2] == 1:
        return int(shape[1]), True
    raise ValueError(
        f"The model's output has shape {shape}; expected (None, n_outputs), or "
        "(None, n_timesteps, 1) for one output per timestep. Add a Reshape or "
        "Flatten layer for other outputs."
    )


def _classifier_target(model, classes):
    """Synthetic ``y`` whose encoding reproduces the model's output columns."""
    n_columns, per_timestep = _output_geometry(model)
    activation = _output_layer_activation(model)
    if activation == "linear":
        raise ValueError(
            "from_model of a classifier needs probabilities, but the model's "
            "output layer is linear (logits?). Add a sigmoid or softmax "
            "activation, or use SequenceModelRegressor.from_model to explain "
            "the raw outputs."
        )
    if classes is not None:
        classes = np.asarray(classes)
        if classes.ndim != 1 or not np.array_equal(np.unique(classes), classes):
            raise ValueError(
                "classes must be a 1-D array of unique labels in sorted order "
                "(the order of scikit-learn's classes_), one per output column; "
                f"got {classes.tolist()!r}."
            )
    multilabel = per_timestep or (n_columns > 1 and activation == "sigmoid")
    if multilabel:
        if classes is not None and not np.array_equal(classes, np.arange(n_columns)):
            raise ValueError(
                f"The model has {n_columns} sigmoid outputs (one label per "
                f"{'timestep' if per_timestep else 'column'}), whose classes_ are "
                f"the column indices 0..{n_columns - 1}; got classes="
                f"{classes.tolist()!r}. Leave classes=None."
            )
        return np.array([[0] * n_columns, [1] * n_columns])
    n_classes = 2 if n_columns == 1 else n_columns
    if classes is None:
        return np.arange(n_classes)
    if len(classes) != n_classes:
        what = (
            "one sigmoid unit (2 classes)"
            if n_columns == 1
            else f"{n_columns} output units ({n_columns} classes)"
        )
        raise ValueError(
            f"classes has {len(classes)} labels, but the model's output layer has "
            f"{what}."
        )
    return classes


def _regressor_target(model):
    n_columns, per_timestep = _output_geometry(model)
    if n_columns == 1 and not per_timestep:
        return np.zeros(2)
    return np.zeros((2, n_columns))


def _drop_timestep_axis(X):
    """Feature encoder of a model with 2-D input: ``(n, 1, F)`` -> ``(n, F)``."""
    return X.reshape(X.shape[0], X.shape[2])


def fitted_from_model(cls, model, *, classes=None, **params):
    """A fitted ``cls`` around a trained Keras model, without training.

    The body of ``SequenceModelRegressor.from_model`` and
    ``SequenceModelClassifier.from_model``; see their documentation.
    """
    from sklearn.preprocessing import FunctionTransformer

    model = load_keras_model(model)
    if cls._estimator_type == "classifier":
        y = _classifier_target(model, classes)
    else:
        y = _regressor_target(model)
    shape = tuple(model.inputs[0].shape)
    n_timesteps, n_features = (1, shape[1]) if len(shape) == 2 else shape[1:]
    X = np.zeros((len(y), int(n_timesteps), int(n_features)))
    estimator = cls(model=model, **params)
    estimator.initialize(X, y)
    if len(shape) == 2:
        encoder = FunctionTransformer(_drop_timestep_axis)
        estimator.feature_encoder_ = encoder.fit(X)
    estimator.history_ = {}
    return estimator
