"""Model adapters: from what the user has to a fitted estimator and its fast path.

Two questions are answered here, and nowhere else:

- *What is this model?* A trained ``keras.Model``, or the path of a saved
  ``.keras`` file, becomes a fitted :class:`~seqimportance.SequenceModelRegressor`
  or :class:`~seqimportance.SequenceModelClassifier` without training
  (:func:`fitted_from_model`, behind the wrappers' ``from_model``), and the
  importance meta-estimator receives such a wrapper for a bare Keras model
  (:func:`as_estimator`).
- *Can its predictions be computed by a compiled Keras call?*
  :func:`keras_inference` recognises the estimators whose predictions are a
  Keras model's outputs between a known pre-processing of the input and a
  known post-processing of the outputs: the package's wrappers, scikeras's own
  ``KerasClassifier`` / ``KerasRegressor`` (with any ``model=`` function), and
  a :class:`~sklearn.pipeline.Pipeline` of transformers ending in either. It
  returns an :class:`Inference` for :mod:`seqimportance._keras_predictor`, or
  None, and the caller then uses the public methods.

Nothing here imports Keras unless the object at hand can be a Keras model
(Keras is then already imported).
"""

import os
import sys

import numpy as np

from ._validation import as_input_ndim

__all__ = [
    "Inference",
    "as_estimator",
    "fitted_from_model",
    "is_keras_model",
    "is_trained_model",
    "keras_inference",
    "load_keras_model",
]

_SUPPORTED_METHODS = ("predict", "predict_proba")
_OTHER_METHODS = ("decision_function", "predict_log_proba")


# ------------------------------------------------------------ Keras models
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


def as_estimator(estimator, cv):
    """The estimator to explain: a bare Keras model becomes a fitted regressor.

    Parameters
    ----------
    estimator : estimator, keras.Model or path of a .keras file
    cv : the meta-estimator's ``cv``

    Returns
    -------
    estimator : estimator
        ``estimator`` itself, or ``SequenceModelRegressor.from_model`` of the
        Keras model (effects and scores then speak of the raw outputs).
    """
    if not is_trained_model(estimator):
        return estimator
    if cv != "prefit":
        raise ValueError(
            f"A trained Keras model can only be explained with cv='prefit' (got "
            f"cv={cv!r}): it cannot be refitted on cross-validation folds. Use "
            "cv='prefit' with held-out data, or pass an estimator that can be "
            "refitted, e.g. SequenceModelRegressor(model=build_function) or "
            "SequenceModelClassifier(model=build_function)."
        )
    from ._wrappers import SequenceModelRegressor

    return SequenceModelRegressor.from_model(estimator)


# ------------------------------------------------------------- fast path
class Inference:
    """How to run an estimator's predictions through its Keras model.

    ``getattr(estimator, method)(X) == postprocess(model(preprocess(X)),
    method)`` for every method in ``methods``.

    Parameters
    ----------
    estimator : estimator
        The fitted estimator (kept for pickling and error messages).
    model : keras.Model
        The model whose forward pass gives the raw outputs.
    methods : frozenset of str
        Prediction methods this describes.
    input_ndim : {2, 3}
        Layout in which the estimator takes its input: the importance code
        hands over 3-D batches, ``(n, 1, F)`` for 2-D callers.
    """

    def __init__(self, estimator, model, methods, input_ndim=3):
        self.estimator = estimator
        self.model = model
        self.methods = frozenset(methods)
        self.input_ndim = input_ndim

    def preprocess(self, X_batch_3d):
        """The model input for a 3-D batch, as the estimator would make it."""
        return self._preprocess(as_input_ndim(X_batch_3d, self.input_ndim))

    def _preprocess(self, X):
        return self.estimator._sequence_input(X)

    def postprocess(self, raw, method):
        """What ``getattr(estimator, method)`` returns for raw outputs."""
        return self.estimator._postprocess_predictions(raw, method)


class _ScikerasInference(Inference):
    """A plain scikeras ``KerasClassifier`` / ``KerasRegressor``.

    scikeras's ``predict`` is ``target_encoder_.inverse_transform`` of
    ``model_.predict(feature_encoder_.transform(_validate_data(X)))``, and
    ``predict_proba`` the same with ``return_proba=True``.
    """

    def _preprocess(self, X):
        X, _ = self.estimator._validate_data(X=X, y=None)
        return self.estimator.feature_encoder_.transform(X)

    def postprocess(self, raw, method):
        encoder = self.estimator.target_encoder_
        if method == "predict_proba":
            return encoder.inverse_transform(raw, return_proba=True)
        return encoder.inverse_transform(raw)


class _PipelineInference(Inference):
    """A Pipeline of transformers whose final step has an :class:`Inference`."""

    def __init__(self, pipeline, final, input_ndim=3):
        super().__init__(pipeline, final.model, final.methods, input_ndim)
        self.final = final

    def _preprocess(self, X):
        if len(self.estimator.steps) > 1:
            X = self.estimator[:-1].transform(X)
        return self.final._preprocess(X)

    def postprocess(self, raw, method):
        return self.final.postprocess(raw, method)


def _own_methods(cls, names, module_prefix):
    return all(
        (getattr(getattr(cls, name, None), "__module__", "") or "").startswith(
            module_prefix
        )
        for name in names
    )


def _usable_model(model):
    """``model`` if a compiled call can replace its ``predict``, else None."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return None
    if not isinstance(model, keras.Model) or not model.built:
        return None
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):  # subclassed model without a graph
        return None
    if not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        return None
    if len(inputs[0].shape) not in (2, 3):
        return None
    return model


def _served_methods(estimator):
    if any(hasattr(estimator, m) for m in _OTHER_METHODS):
        return None
    methods = [m for m in _SUPPORTED_METHODS if hasattr(estimator, m)]
    return methods if "predict" in methods else None


def _estimator_inference(estimator, input_ndim):
    """Inference of a fitted Keras wrapper (ours or scikeras's), or None."""
    if not getattr(estimator, "initialized_", False):
        return None
    # Fitted on a DataFrame (2-D input with column names): the public methods
    # take care of the names.
    if hasattr(estimator, "feature_names_in_"):
        return None
    methods = _served_methods(estimator)
    if methods is None:
        return None
    model = _usable_model(getattr(estimator, "model_", None))
    if model is None:
        return None
    cls = type(estimator)
    hooks = ["_sequence_input", "_postprocess_predictions"]
    if all(hasattr(estimator, h) for h in hooks):
        # A subclass that overrides predict may return something else than
        # the post-processed model outputs: it gets the public methods.
        if _own_methods(cls, methods + hooks, "seqimportance."):
            return Inference(estimator, model, methods, input_ndim)
        return None
    names = methods + ["_predict_raw", "_validate_data"]
    if _own_methods(cls, names, "scikeras.") and hasattr(estimator, "target_encoder_"):
        return _ScikerasInference(estimator, model, methods, input_ndim)
    return None


def keras_inference(estimator, input_ndim=3):
    """An :class:`Inference` for ``estimator``, or None if none applies.

    Parameters
    ----------
    estimator : fitted estimator
    input_ndim : {2, 3}, default=3
        Layout in which the estimator takes its input.

    Returns
    -------
    inference : Inference or None
    """
    if "keras" not in sys.modules:  # then no Keras model can be inside
        return None
    from sklearn.pipeline import Pipeline

    if type(estimator) is Pipeline:
        final = estimator.steps[-1][1]
        transformers = [step for _, step in estimator.steps[:-1]]
        if not all(
            step in (None, "passthrough") or hasattr(step, "transform")
            for step in transformers
        ):
            return None
        inner = _estimator_inference(final, input_ndim=3)
        if inner is None or set(inner.methods) != set(_served_methods(estimator) or ()):
            return None
        return _PipelineInference(estimator, inner, input_ndim)
    return _estimator_inference(estimator, input_ndim)
