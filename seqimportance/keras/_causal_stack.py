"""Which Keras models prefix-state reuse serves: chains of causal recurrent layers.

Prefix-state reuse (:mod:`seqimportance.keras._prefix` on TensorFlow,
:mod:`seqimportance.keras._jax_prefix` on JAX) runs a perturbed copy only
from its first perturbed timestep, from the states of the unperturbed data.
That is exact for models that are a chain

    Input -> LSTM / GRU / SimpleRNN (unidirectional, stacked) -> head

where every recurrent layer but the last returns sequences and the head is
made of ``Dense``, ``Dropout``, ``Activation``, ``Reshape``, ``Flatten`` and
the package's ``SqueezeSteps`` layers; :func:`recurrent_stack` recognises
them for both. It also holds what both predictors share about the input
the model gets (:func:`default_wrapper_input`, :func:`trusted_cast`,
:func:`batch_preprocess`). The module imports nothing of the package, so
that the predictors' imports stay shallow, and Keras only inside
:func:`trusted_cast` (for its float type).
"""

__all__ = [
    "HEAD_LAYERS",
    "STATES_PER_LAYER",
    "batch_preprocess",
    "default_wrapper_input",
    "prefix_row_width",
    "recurrent_stack",
    "trusted_cast",
]

STATES_PER_LAYER = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}
HEAD_LAYERS = frozenset(
    {"Dense", "Dropout", "Activation", "Reshape", "Flatten", "SqueezeSteps"}
)
_OWN_MODULES = ("keras.", "seqimportance.keras._layers")


def _is_builtin(layer):
    return (type(layer).__module__ or "").startswith(_OWN_MODULES)


def _chain(model):
    """The model's layers if they form a chain from its one 3-D input, or None."""
    try:
        layers = [x for x in model.layers if type(x).__name__ != "InputLayer"]
        if not layers or len(model.inputs) != 1 or len(model.outputs) != 1:
            return None
        if len(model.inputs[0].shape) != 3:
            return None
        previous = model.inputs[0]
        for layer in layers:  # each layer reads the previous one only
            if len(layer._inbound_nodes) != 1 or layer.input is not previous:
                return None
            previous = layer.output
        if previous is not model.outputs[0]:
            return None
    except (AttributeError, ValueError):
        return None
    return layers


def recurrent_stack(model):
    """``(recurrent_layers, head_layers)`` of a supported model, or None.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    stack : tuple of two lists of layers, or None
        None for anything else: bidirectional or backward layers, stateful
        layers, masking, attention, convolutions, unknown layers.
    """
    layers = _chain(model)
    if layers is None:
        return None
    n_recurrent = 0
    while n_recurrent < len(layers) and (
        type(layers[n_recurrent]).__name__ in STATES_PER_LAYER
    ):
        n_recurrent += 1
    recurrent, head = layers[:n_recurrent], layers[n_recurrent:]
    if not recurrent or not all(_is_builtin(x) for x in layers):
        return None
    for i, layer in enumerate(recurrent):
        if (
            getattr(layer, "go_backwards", True)
            or getattr(layer, "stateful", True)
            or getattr(layer, "return_state", True)
            or (i < len(recurrent) - 1 and not layer.return_sequences)
        ):
            return None
    if not all(type(x).__name__ in HEAD_LAYERS for x in head):
        return None
    return recurrent, head


def prefix_row_width(model):
    """Floats that one row keeps on the prefix path, or None if not served.

    A row holds its input (``T x F``), every layer's states and, with a
    per-timestep head, the last layer's output at every step: the step loop
    keeps no other activation, so its sub-batches can be larger than those
    of a full forward pass.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    width : int or None
    """
    stack = recurrent_stack(model)
    if stack is None:
        return None
    recurrent, _ = stack
    n_timesteps, n_features = (int(d) for d in model.inputs[0].shape[1:])
    width = n_timesteps * n_features
    width += sum(int(x.units) * STATES_PER_LAYER[type(x).__name__] for x in recurrent)
    if recurrent[-1].return_sequences:
        width += n_timesteps * int(recurrent[-1].units)
    return width


def default_wrapper_input(inference):
    """Whether the model gets the input as the package's wrappers make it.

    By default they only validate and cast a 3-D batch, each timestep to
    itself (their feature encoder is the identity), so a copy equal to the
    data before a timestep reaches the model equal to it before that step.

    Parameters
    ----------
    inference : seqimportance.keras._inference.Inference or subclass

    Returns
    -------
    bool
    """
    encoder = getattr(inference.estimator, "feature_encoder_", None)
    return bool(
        type(inference).__name__ == "Inference"
        and inference.input_ndim == 3
        and type(encoder).__name__ == "FunctionTransformer"
        and getattr(encoder, "func", None) is None
    )


def trusted_cast(inference):
    """The cheap pre-processing of trusted batches for the model, or None.

    A trusted batch (built by the importance code from validated data, with a
    built-in perturbation) is finite and of the fitted shape, so the
    package's wrappers with their default encoder (see
    :func:`default_wrapper_input`) only need the cast to Keras's float type:
    the finiteness check over every value is skipped.

    Parameters
    ----------
    inference : seqimportance.keras._inference.Inference or subclass

    Returns
    -------
    cast : callable ``X_batch_3d -> ndarray`` or None
        None when the estimator's own pre-processing must run.
    """
    estimator = inference.estimator
    if not default_wrapper_input(inference) or not hasattr(estimator, "n_timesteps_in_"):
        return None
    import keras
    import numpy as np

    dtype = np.dtype(keras.backend.floatx())
    shape = (estimator.n_timesteps_in_, estimator.n_features_in_)

    def cast(X):
        if X.ndim != 3 or X.shape[1:] != shape:
            return inference.preprocess(X)  # its error message
        return np.asarray(X, dtype=dtype)

    return cast


def batch_preprocess(predictor, trusted):
    """The pre-processing of a batch for ``predictor``.

    Parameters
    ----------
    predictor : object
        With ``inference`` and a ``_cast`` attribute (None until looked up),
        where the :func:`trusted_cast` of its inference is kept.
    trusted : bool
        Whether the batch is the package's own (see :func:`trusted_cast`).

    Returns
    -------
    preprocess : callable ``X_batch_3d -> model input``
    """
    if trusted:
        if predictor._cast is None:
            predictor._cast = trusted_cast(predictor.inference) or False
        if predictor._cast:
            return predictor._cast
    return predictor.inference.preprocess
