"""Can an estimator's predictions be computed by a compiled Keras call?

:func:`keras_inference` recognises the estimators whose predictions are a
Keras model's outputs between a known pre-processing of the input and a known
post-processing of the outputs: the package's wrappers, scikeras's own
``KerasClassifier`` / ``KerasRegressor`` (with any ``model=`` function), Keras
3's own ``keras.wrappers.SKLearnRegressor`` / ``SKLearnClassifier``, a
:class:`~sklearn.pipeline.Pipeline` of transformers ending in one, and any of
these behind a layout wrapper (channels-first or flattened input, see
:mod:`seqimportance.core._layouts`). It
returns an :class:`Inference` for :mod:`seqimportance.keras._predictor`, or
None, and the caller then uses the public methods.

Nothing here imports Keras unless Keras is already imported.
"""

import sys

import numpy as np

from ..core._layouts import LayoutEstimator
from ..core._validation import as_input_ndim

__all__ = ["Inference", "keras_inference"]

_SUPPORTED_METHODS = ("predict", "predict_proba")
_OTHER_METHODS = ("decision_function", "predict_log_proba")


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


class _KerasWrapperInference(Inference):
    """Keras 3's ``keras.wrappers.SKLearnRegressor`` / ``SKLearnClassifier``.

    Their ``predict`` is ``_reverse_process_target(model_.predict(X))`` of
    validated 2-D ``X``, and a classifier's ``decision_function`` the raw
    outputs. The batches come validated from the importance code, so the
    pre-processing is the conversion to an array.
    """

    def _preprocess(self, X):
        return np.asarray(X)

    def postprocess(self, raw, method):
        if method == "decision_function":
            return raw
        return self.estimator._reverse_process_target(raw)


class _LayoutInference(Inference):
    """An estimator behind a layout wrapper: convert, then its own inference."""

    def __init__(self, wrapper, inner):
        super().__init__(wrapper, inner.model, inner.methods, input_ndim=3)
        self.inner = inner

    def preprocess(self, X_batch_3d):
        return self.inner._preprocess(self.estimator.to_estimator(X_batch_3d))

    def postprocess(self, raw, method):
        return self.inner.postprocess(raw, method)


def _keras_wrapper_inference(estimator, input_ndim):
    """Inference of a fitted ``keras.wrappers.SKLearn*`` estimator, or None."""
    wrappers = getattr(sys.modules.get("keras"), "wrappers", None)
    bases = tuple(
        getattr(wrappers, name, None) for name in ("SKLearnRegressor", "SKLearnClassifier")
    )
    bases = tuple(b for b in bases if b is not None)
    if not bases or not isinstance(estimator, bases):
        return None
    model = _usable_model(getattr(estimator, "model_", None))
    if model is None or not hasattr(estimator, "_target_encoder"):
        return None
    methods = ["predict"]
    if hasattr(estimator, "decision_function"):
        methods.append("decision_function")
    if any(hasattr(estimator, m) for m in ("predict_proba", "predict_log_proba")):
        return None
    if not _own_methods(type(estimator), methods + ["_reverse_process_target"], "keras."):
        return None
    return _KerasWrapperInference(estimator, model, methods, input_ndim)


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

    if keras.backend.backend() not in ("tensorflow", "jax"):
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
    """Inference of a fitted Keras wrapper (ours, scikeras's or Keras's), or None."""
    keras_wrapper = _keras_wrapper_inference(estimator, input_ndim)
    if keras_wrapper is not None:
        return keras_wrapper
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

    if isinstance(estimator, LayoutEstimator):
        inner = keras_inference(estimator.estimator, input_ndim=3)
        return None if inner is None else _LayoutInference(estimator, inner)

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
