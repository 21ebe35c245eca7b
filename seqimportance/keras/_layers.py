"""Keras pieces of the built-in model for padded, variable-length sequences.

With ``mask_value`` the built-in model starts with ``keras.layers.Masking``:
recurrent layers skip the padded timesteps. A per-timestep head keeps the
mask up to the output (:class:`SqueezeSteps`, where ``Reshape`` would drop
it), and its default loss returns one value per timestep, so that Keras
weights the loss by the mask: padded timesteps do not count in training,
whatever their targets.
"""

import keras
from keras import ops

__all__ = ["SqueezeSteps", "per_step_loss"]


@keras.saving.register_keras_serializable(package="seqimportance")
class SqueezeSteps(keras.layers.Layer):
    """``(n, n_timesteps, 1) -> (n, n_timesteps)``, keeping the timestep mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.squeeze(inputs, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])


@keras.saving.register_keras_serializable(package="seqimportance")
def per_step_mean_squared_error(y_true, y_pred):
    """Squared error of each timestep, shape ``(n, n_timesteps)``."""
    return ops.square(ops.cast(y_true, y_pred.dtype) - y_pred)


@keras.saving.register_keras_serializable(package="seqimportance")
def per_step_binary_crossentropy(y_true, y_pred):
    """Binary cross-entropy of each timestep, shape ``(n, n_timesteps)``."""
    y_true = ops.cast(y_true, y_pred.dtype)
    return keras.losses.binary_crossentropy(
        ops.expand_dims(y_true, -1), ops.expand_dims(y_pred, -1)
    )


_PER_STEP = {
    "mean_squared_error": per_step_mean_squared_error,
    "binary_crossentropy": per_step_binary_crossentropy,
}


def per_step_loss(default_loss):
    """The per-timestep version of a default loss of the built-in model."""
    return _PER_STEP[default_loss]
