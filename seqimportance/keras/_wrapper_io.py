"""Sequences in, predictions out: input and prediction of the Keras wrappers.

:class:`SequenceIOMixin` validates ``X`` as sequences (``n_features_in_`` is
the last axis, ``n_timesteps_in_`` the sequence length, both checked again at
predict time), calls the Keras model, and turns its outputs into float64
predictions and ``predict_proba`` of shape ``(n_samples, n_classes)``. Its
``_sequence_input`` and ``_postprocess_predictions`` are the hook of the fast
Keras predictor of the importance code.
"""

import keras
import numpy as np
from scikeras._utils import route_params
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_consistent_length
from sklearn.utils.validation import _check_feature_names

from ..core._validation import check_sequence_shape, check_sequences

__all__ = ["SequenceIOMixin"]

_PREDICTION_METHODS = ("predict", "predict_proba")
_KERAS_DEFAULT_BATCH_SIZE = 32  # what keras.Model.predict uses for batch_size=None


class SequenceIOMixin:
    """Input validation and prediction of the wrappers of sequence models.

    Part of :class:`~seqimportance.keras._wrappers._SequenceWrapperMixin`, left of
    scikeras's ``KerasClassifier`` / ``KerasRegressor``, whose
    ``_validate_data``, encoders and ``model_`` it builds on.
    """

    # -- input validation --------------------------------------------------
    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """Validate X as sequences and y as scikeras does; set or check shapes."""
        if reset and X is not None and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if y is not None:
            _, y = super()._validate_data(X=None, y=y, reset=reset, y_numeric=y_numeric)
        if X is not None:
            _check_feature_names(self, X, reset=reset)
            X = check_sequences(
                X, dtype=np.dtype(keras.backend.floatx()), estimator=self
            )
            if reset:
                self.X_shape_ = X.shape
                self.X_dtype_ = X.dtype
                self.n_timesteps_in_ = X.shape[1]
                self.n_features_in_ = X.shape[2]
            else:
                check_sequence_shape(
                    X,
                    self.n_timesteps_in_,
                    self.n_features_in_,
                    fitted_on=type(self).__name__,
                )
            if y is not None:
                check_consistent_length(X, y)
        return X, y

    # -- prediction and the hook of the fast predictor ---------------------
    def _sequence_input(self, X):
        """Return ``X`` exactly as ``predict`` hands it to the Keras model.

        Validates ``X`` (2-D read as ``(n, 1, F)``; timesteps and features
        checked against fit) and applies ``feature_encoder_`` (the identity by
        default, giving a float32 array of shape ``(n, T, F)``).
        """
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call "
                "'fit' with appropriate arguments before using this estimator."
            )
        X, _ = self._validate_data(X=X, y=None)
        return self.feature_encoder_.transform(X)

    def _postprocess_predictions(self, y_raw, method):
        """Turn raw Keras outputs into what ``predict`` / ``predict_proba`` return.

        Parameters
        ----------
        y_raw : ndarray
            Outputs of ``model_`` for ``_sequence_input(X)``.
        method : {"predict", "predict_proba"}
            The estimator method whose output to reproduce.

        Returns
        -------
        ndarray
            Float64 predictions (regressor), labels or float64 probabilities
            of shape ``(n_samples, n_classes)`` (classifier).
        """
        has_proba = hasattr(self, "predict_proba")
        allowed = _PREDICTION_METHODS if has_proba else ("predict",)
        if method not in allowed:
            raise ValueError(
                f"method must be one of {allowed} for {type(self).__name__}; "
                f"got {method!r}."
            )
        # float64 before any arithmetic: 1 - p stays exact and sklearn expects
        # float64 predictions (also for multi-output regression).
        y_raw = np.asarray(y_raw, dtype=np.float64)
        if y_raw.ndim == 3 and y_raw.shape[2] == 1:
            # One output per timestep as (n, T, 1): the layout of y is (n, T).
            y_raw = y_raw[:, :, 0]
        if method == "predict_proba":
            proba = self.target_encoder_.inverse_transform(y_raw, return_proba=True)
            # scikeras squeezes, which drops the sample axis for one sample.
            proba = np.asarray(proba, dtype=np.float64).reshape(y_raw.shape[0], -1)
            single_label = ("binary", "multiclass", "multiclass-onehot")
            if getattr(self, "target_type_", None) in single_label:
                # A float32 softmax sums to 1 only within float32 rounding
                # (0.99999988); rows of scikit-learn probabilities sum to 1
                # in float64.
                proba = proba / proba.sum(axis=1, keepdims=True)
            return proba
        y_pred = self.target_encoder_.inverse_transform(y_raw)
        if self._estimator_type == "regressor":
            y_pred = np.asarray(y_pred, dtype=np.float64)
        return y_pred

    def _predict_raw(self, X, **kwargs):
        X = self._sequence_input(X)
        params = self.get_params()
        pred_args = route_params(
            params, destination="predict", pass_filter=self._predict_kwargs, strict=True
        )
        pred_args = {
            k: v for k, v in pred_args.items() if not k.startswith("callbacks")
        }
        pred_args["callbacks"] = self._predict_callbacks
        pred_args.update(kwargs)
        if pred_args.get("batch_size") == -1:
            pred_args["batch_size"] = X.shape[0]
        batch_size = pred_args.get("batch_size") or _KERAS_DEFAULT_BATCH_SIZE
        single_batch = (
            isinstance(X, np.ndarray)
            and X.shape[0] <= batch_size
            and not pred_args["callbacks"]
            and set(pred_args) <= {"batch_size", "verbose", "callbacks"}
        )
        if single_batch:
            # The same computation as predict() on its one batch, without
            # predict()'s per-call set-up (data adapter, callbacks, progress
            # bar), which costs ~0.1 s: much more than a small batch itself.
            return self.model_.predict_on_batch(X)
        return self.model_.predict(x=X, **pred_args)

    def predict(self, X, **kwargs):
        """Predict for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences with the timesteps and features seen in fit; a 2-D
            array is read as one timestep per sample.
        **kwargs : dict
            Extra arguments for ``keras.Model.predict`` (prefer
            ``predict__batch_size=...`` at construction).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values (regressor, float64) or class labels
            (classifier), in the layout of the ``y`` seen in fit.
        """
        return self._postprocess_predictions(self._predict_raw(X, **kwargs), "predict")

