"""The built-in Keras model: stacked recurrent layers and a task-specific head.

:class:`~seqimportance.SequenceModelClassifier` and
:class:`~seqimportance.SequenceModelRegressor` call
:func:`build_recurrent_model` when ``model=None``. Its keyword arguments are
routed from the estimator with the ``model__`` prefix
(``model__units=[16, 8]``, ``model__cell="gru"``), so ``GridSearchCV`` can
search them like any other hyperparameter.
"""

import numbers

import keras
import numpy as np

from ..core._masking import check_mask_value
from ._layers import SqueezeSteps, per_step_loss

__all__ = ["build_recurrent_model"]

_CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}


def build_recurrent_model(
    meta,
    compile_kwargs,
    *,
    cell="lstm",
    units=(32,),
    dropout=0.0,
    recurrent_dropout=0.0,
    per_timestep="auto",
    dtype=None,
    mask_value=None,
):
    """Build and compile a stacked recurrent network for the fitted task.

    The network reads sequences of shape ``(n_timesteps, n_features)`` taken
    from ``meta`` and stacks one recurrent layer per entry of ``units``. The
    output layer and the default loss follow the target seen in fit, as in
    scikeras:

    ========================================  ==================  ======================
    target                                    output              default loss
    ========================================  ==================  ======================
    binary (classifier)                       1 sigmoid           binary_crossentropy
    multiclass (classifier)                   n_classes softmax   sparse_categorical\\_...
    multilabel / per-timestep binary          1 sigmoid each      binary_crossentropy
    continuous, 1-D y (regressor)             1 linear            mean_squared_error
    multi-output / per-timestep (regressor)   1 linear each       mean_squared_error
    ========================================  ==================  ======================

    A loss given to the estimator (``loss=...``) replaces the default.

    Parameters
    ----------
    meta : dict
        Metadata gathered by the estimator during fit: ``n_features_in_``,
        ``n_timesteps_in_``, ``target_type_``, ``n_outputs_``, and for a
        classifier ``classes_`` and ``n_classes_``.
    compile_kwargs : dict
        Arguments for ``keras.Model.compile`` (``optimizer``, ``loss``,
        ``metrics``, ...) as routed by the estimator.
    cell : {"lstm", "gru", "simple_rnn"}, default="lstm"
        Recurrent layer type: ``keras.layers.LSTM``, ``GRU`` or ``SimpleRNN``.
    units : int or sequence of int, default=(32,)
        Size of each recurrent layer, first to last; ``[16, 8]`` stacks two.
    dropout : float in [0, 1), default=0.0
        Dropout on the inputs of every recurrent layer.
    recurrent_dropout : float in [0, 1), default=0.0
        Dropout on the recurrent state of every recurrent layer.
    per_timestep : "auto" or bool, default="auto"
        Predict one output per timestep: the last recurrent layer returns its
        whole sequence and a shared dense layer maps each step to one output,
        so the target must have shape ``(n_samples, n_timesteps)`` and output
        ``t`` depends on inputs ``0..t`` only. With ``False`` the head reads
        the final state and predicts all outputs at once. ``"auto"`` turns it
        on when the target is 2-D with exactly ``n_timesteps`` (> 1) columns,
        the layout of :func:`~seqimportance.datasets.make_seed_sequences`;
        pass ``False`` when such a target is not aligned with the input steps
        (a forecast of the next ``n_timesteps`` values, say).
    dtype : str or None, default=None
        Dtype of the layers' weights and computations (Keras's ``dtype``
        argument), e.g. ``"float64"`` for outputs that do not depend on the
        rounding of float32 kernels; None uses Keras's default
        (``keras.config.floatx()``, normally float32).
    mask_value : float or None, default=None
        Padding of variable-length sequences: a ``keras.layers.Masking``
        layer first, so that the recurrent layers skip every timestep whose
        features all equal ``mask_value`` (see :func:`pad_sequences`). With a
        per-timestep head the mask reaches the output and the default loss
        is computed per timestep, so padded timesteps do not count in
        training (a loss given to the estimator must then also return one
        value per timestep). None: no masking.

    Returns
    -------
    model : keras.Model
        The compiled model.

    Raises
    ------
    ValueError
        If a parameter is out of range, if ``per_timestep=True`` does not fit
        the target's shape, or if the target type is not supported
        (multiclass-multioutput).

    See Also
    --------
    SequenceModelClassifier : Uses this builder when ``model=None``.
    SequenceModelRegressor : Uses this builder when ``model=None``.

    Examples
    --------
    >>> from seqimportance import build_recurrent_model
    >>> meta = {"n_features_in_": 3, "n_timesteps_in_": 10, "n_outputs_": 10,
    ...         "target_type_": "continuous-multioutput", "y_ndim_": 2}
    >>> model = build_recurrent_model(
    ...     meta, {"optimizer": "adam", "loss": None}, cell="gru", units=[8, 4]
    ... )
    >>> model.output_shape
    (None, 10)
    """
    if cell not in _CELLS:
        raise ValueError(
            f"The 'cell' parameter of build_recurrent_model must be one of "
            f"{sorted(_CELLS)}. Got {cell!r} instead."
        )
    units = _check_units(units)
    for name, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
        if not isinstance(value, numbers.Real) or not 0.0 <= value < 1.0:
            raise ValueError(
                f"The {name!r} parameter of build_recurrent_model must be a float "
                f"in the range [0, 1). Got {value!r} instead."
            )
    if not (per_timestep == "auto" or isinstance(per_timestep, (bool, np.bool_))):
        raise ValueError(
            "The 'per_timestep' parameter of build_recurrent_model must be 'auto', "
            f"True or False. Got {per_timestep!r} instead."
        )

    mask_value = check_mask_value(mask_value)
    n_timesteps, n_features = _input_shape(meta)
    n_out, activation, default_loss = _head(meta)
    per_timestep = _resolve_per_timestep(per_timestep, meta, n_out, n_timesteps)

    inputs = keras.Input(
        shape=(n_timesteps, n_features), name="sequences", dtype=dtype
    )
    hidden = inputs
    if mask_value is not None:
        hidden = keras.layers.Masking(
            float(mask_value), name="masking", dtype=dtype
        )(hidden)
    layer_cls = _CELLS[cell]
    for i, n_units in enumerate(units):
        last = i == len(units) - 1
        hidden = layer_cls(
            n_units,
            dropout=float(dropout),
            recurrent_dropout=float(recurrent_dropout),
            return_sequences=per_timestep or not last,
            name=f"{cell}_{i}",
            dtype=dtype,
        )(hidden)
    if per_timestep:
        # One shared unit per timestep, (n, T, 1) -> (n, T): the target layout.
        step = keras.layers.Dense(
            1, activation=activation, name="output_step", dtype=dtype
        )
        hidden = step(hidden)
        if mask_value is not None:  # keeps the mask, which Reshape drops
            reshape = SqueezeSteps(name="output", dtype=dtype)
            default_loss = per_step_loss(default_loss)
        else:
            reshape = keras.layers.Reshape((n_timesteps,), name="output", dtype=dtype)
        outputs = reshape(hidden)
    else:
        head = keras.layers.Dense(
            n_out, activation=activation, name="output", dtype=dtype
        )
        outputs = head(hidden)
    model = keras.Model(inputs, outputs, name=f"recurrent_{cell}")

    compile_kwargs = dict(compile_kwargs)
    if compile_kwargs.get("loss") is None:
        compile_kwargs["loss"] = default_loss
    compile_kwargs.setdefault("optimizer", "adam")
    model.compile(**compile_kwargs)
    return model


def _check_units(units):
    if isinstance(units, numbers.Integral) and not isinstance(units, bool):
        units = (units,)
    try:
        units = tuple(units)
    except TypeError:
        units = None
    if (
        not units
        or not all(
            isinstance(u, numbers.Integral) and not isinstance(u, bool) and u >= 1
            for u in units
        )
    ):
        raise ValueError(
            "The 'units' parameter of build_recurrent_model must be a positive int "
            "or a non-empty sequence of positive ints, one per recurrent layer. "
            f"Got {units!r} instead."
        )
    return tuple(int(u) for u in units)


def _input_shape(meta):
    """(n_timesteps, n_features) from our wrappers' or plain scikeras's metadata."""
    if "n_timesteps_in_" in meta:
        return int(meta["n_timesteps_in_"]), int(meta["n_features_in_"])
    # A plain scikeras wrapper counts X.shape[1] as n_features_in_.
    shape = tuple(meta.get("X_shape_", ()))
    if len(shape) == 3:
        return int(shape[1]), int(shape[2])
    return 1, int(meta["n_features_in_"])


def _is_classifier(meta):
    if "estimator_type" in meta:
        return meta["estimator_type"] == "classifier"
    return "classes_" in meta


def _head(meta):
    """Return (n_outputs, activation, default_loss) for the target in meta."""
    target_type = meta.get("target_type_")
    if _is_classifier(meta):
        if target_type == "binary":
            return 1, "sigmoid", "binary_crossentropy"
        if target_type == "multiclass":
            return int(meta["n_classes_"]), "softmax", "sparse_categorical_crossentropy"
        if target_type == "multilabel-indicator":
            return int(meta["n_classes_"]), "sigmoid", "binary_crossentropy"
        raise ValueError(
            f"build_recurrent_model does not support {target_type!r} targets; "
            "supported classification targets are 'binary', 'multiclass' and "
            "'multilabel-indicator' (including per-timestep binary targets of "
            "shape (n_samples, n_timesteps)). Pass your own build function as "
            "`model=` for other targets."
        )
    return int(meta.get("n_outputs_", 1)), None, "mean_squared_error"


def _resolve_per_timestep(per_timestep, meta, n_out, n_timesteps):
    if _is_classifier(meta):
        target_2d = meta.get("target_type_") == "multilabel-indicator"
    else:
        target_2d = meta.get("y_ndim_", 1) == 2
    matches = target_2d and n_out == n_timesteps
    if per_timestep == "auto":
        return bool(matches and n_timesteps > 1)
    if per_timestep and not matches:
        raise ValueError(
            "per_timestep=True needs a 2-D target with one column per timestep, "
            f"shape (n_samples, {n_timesteps}); the target seen in fit has "
            f"{n_out} output(s) (target type {meta.get('target_type_')!r})."
        )
    return bool(per_timestep)
