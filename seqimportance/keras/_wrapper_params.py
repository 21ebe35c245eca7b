"""Parameters of the Keras wrappers: their constraints and their documentation."""

import numbers

import keras
from sklearn.utils._param_validation import Interval, Options, StrOptions

__all__ = ["ATTRS_DOC", "CLASSIFIER_CONSTRAINTS", "COMMON_CONSTRAINTS", "PARAMS_DOC"]

COMMON_CONSTRAINTS = {
    "model": [None, callable, keras.Model],
    "build_fn": [None, callable, keras.Model],
    "warm_start": ["boolean"],
    "random_state": ["random_state"],
    "optimizer": [str, keras.optimizers.Optimizer, type],
    "loss": [None, str, keras.losses.Loss, type, callable, list, dict],
    "metrics": [None, list, dict, str, keras.metrics.Metric, type, callable],
    "batch_size": [None, Interval(numbers.Integral, 1, None, closed="left"),
                   Options(numbers.Integral, {-1})],
    "validation_batch_size": [None, Interval(numbers.Integral, 1, None, closed="left"),
                              Options(numbers.Integral, {-1})],
    "verbose": ["verbose"],
    "callbacks": [None, list, dict, keras.callbacks.Callback, type],
    "validation_split": [Interval(numbers.Real, 0, 1, closed="left")],
    "shuffle": ["boolean"],
    "run_eagerly": ["boolean"],
    "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
}

CLASSIFIER_CONSTRAINTS = {
    **COMMON_CONSTRAINTS,
    "class_weight": [None, dict, StrOptions({"balanced"})],
}

PARAMS_DOC = """
    model : None, callable or keras.Model, default=None
        How to build the Keras model. ``None`` uses
        :func:`~seqimportance.build_recurrent_model`, whose options are given
        with the ``model__`` prefix (``model__units=[16, 8]``,
        ``model__cell="gru"``, ``model__per_timestep=True``). A function
        receives its ``model__`` arguments and, if it asks for them, ``meta``
        (fitted metadata such as ``n_features_in_``, ``n_timesteps_in_``,
        ``n_classes_``) and ``compile_kwargs``; it returns a (compiled)
        ``keras.Model``, as in scikeras.
    build_fn : None, callable or keras.Model, default=None
        Deprecated scikeras alias of ``model``.
    warm_start : bool, default=False
        If True, ``fit`` keeps training the existing model instead of
        building a new one.
    random_state : int, RandomState instance or None, default=None
        Seeds Python, NumPy, TensorFlow and Keras while the model is built
        and trained, and turns on TensorFlow's deterministic ops, so that the
        same data and parameters give the same model on CPU. A RandomState
        is read without being advanced.
    optimizer : str, keras.optimizers.Optimizer or class, default="adam"
        Optimizer; its arguments can be routed with ``optimizer__``
        (``optimizer__learning_rate=0.01``).
    loss : str, keras.losses.Loss, class, callable or None, default=None
        Loss; None lets the build function choose (the built-in one picks it
        from the target).
    metrics : list or None, default=None
        Keras metrics to track during training.
    batch_size : int or None, default=None
        Samples per gradient step and per prediction batch (Keras default 32
        when None, all samples when -1). Use ``fit__batch_size`` /
        ``predict__batch_size`` to set them separately.
    validation_batch_size : int or None, default=None
        Batch size for validation data.
    verbose : int, default=0
        Keras verbosity during fit and predict.
    callbacks : list or None, default=None
        Keras callbacks.
    validation_split : float, default=0.0
        Fraction of the training data held out for validation by Keras.
    shuffle : bool, default=True
        Shuffle the training data before each epoch.
    run_eagerly : bool, default=False
        Run the Keras model eagerly (for debugging).
    epochs : int, default=1
        Number of training epochs."""

ATTRS_DOC = """
    model_ : keras.Model
        The trained Keras model.
    n_features_in_ : int
        Number of features (last axis of ``X``) seen in fit.
    n_timesteps_in_ : int
        Number of timesteps seen in fit (1 for 2-D input).
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame (2-D input).
    history_ : dict
        Training history, ``{metric_name: [value per epoch]}``.
    target_type_ : str
        Type of the target as given by ``sklearn.utils.multiclass.type_of_target``.
    target_encoder_, feature_encoder_ : transformer
        scikeras's encoders of ``y`` and ``X``.
    X_shape_ : tuple
        Shape of the validated 3-D training input.
    n_outputs_expected_ : int
        Number of outputs the Keras model has."""
