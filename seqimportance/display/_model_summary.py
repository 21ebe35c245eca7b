"""What model was explained: a summary read by duck typing, without Keras.

A Keras model is recognised by what it has (``layers``, ``count_params``,
``inputs``), not by its class, so this module imports no Keras.
"""

__all__ = ["summarize_model"]


def _keras_model_of(estimator):
    """The Keras model behind ``estimator`` (a wrapper, a Pipeline), or None."""
    seen = 0
    while estimator is not None and seen < 5:
        seen += 1
        if _looks_like_keras_model(estimator):
            return estimator
        model = getattr(estimator, "model_", None)
        if _looks_like_keras_model(model):
            return model
        steps = getattr(estimator, "steps", None)
        estimator = steps[-1][1] if steps else None
    return None


def _looks_like_keras_model(obj):
    return (
        obj is not None
        and hasattr(obj, "layers")
        and hasattr(obj, "count_params")
        and hasattr(obj, "inputs")
    )


def _shape(tensor_or_list):
    try:
        if isinstance(tensor_or_list, (list, tuple)):
            if len(tensor_or_list) != 1:
                return ", ".join(_shape(t) for t in tensor_or_list)
            tensor_or_list = tensor_or_list[0]
        return str(tuple(tensor_or_list.shape))
    except Exception:  # an unbuilt layer, a symbolic shape we cannot read
        return "?"


def _count(obj, attr):
    try:
        return int(sum(int(_size(w)) for w in getattr(obj, attr)))
    except Exception:
        return None


def _size(weight):
    size = 1
    for d in tuple(weight.shape):
        size *= int(d)
    return size


def summarize_model(estimator):
    """A summary of the model behind a fitted estimator, for a report.

    Parameters
    ----------
    estimator : object
        The fitted estimator (``estimator_`` of the meta-estimator): one of
        the package's Keras wrappers, a scikeras wrapper, a Pipeline ending in
        one, a ``keras.Model``, or any scikit-learn estimator.

    Returns
    -------
    summary : dict
        ``kind`` (``"keras"`` or ``"estimator"``), ``name`` and
        ``description``; for a Keras model also ``input_shape``,
        ``output_shape``, ``layers`` (list of ``(name, type, output shape,
        parameters)``), ``total_params`` and ``trainable_params``.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqimportance.display._model_summary import summarize_model
    >>> summary = summarize_model(Ridge(alpha=2.0))
    >>> summary["kind"], summary["name"], summary["description"]
    ('estimator', 'Ridge', 'Ridge(alpha=2.0)')
    """
    model = _keras_model_of(estimator)
    if model is None:
        text = " ".join(repr(estimator).split())
        if len(text) > 300:
            text = text[:297] + "..."
        summary = {"kind": "estimator", "name": type(estimator).__name__,
                   "description": text}
        n_features = getattr(estimator, "n_features_in_", None)
        if n_features is not None:
            summary["n_features_in"] = int(n_features)
        return summary
    layers = []
    for layer in getattr(model, "layers", []):
        try:
            params = int(layer.count_params())
        except Exception:  # an unbuilt layer
            params = None
        layers.append((
            str(getattr(layer, "name", "")),
            type(layer).__name__,
            _shape(getattr(layer, "output", None)) if hasattr(layer, "output") else "?",
            params,
        ))
    try:
        total = int(model.count_params())
    except Exception:
        total = None
    wrapper = "" if model is estimator else f" in {type(estimator).__name__}"
    return {
        "kind": "keras",
        "name": str(getattr(model, "name", type(model).__name__)),
        "description": f"{type(model).__name__} {getattr(model, 'name', '')!r}"
        f"{wrapper}",
        "input_shape": _shape(getattr(model, "inputs", None)),
        "output_shape": _shape(getattr(model, "outputs", None)),
        "layers": layers,
        "total_params": total,
        "trainable_params": _count(model, "trainable_weights"),
    }
