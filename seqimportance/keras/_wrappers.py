"""scikit-learn estimators around Keras sequence models.

:class:`SequenceModelClassifier` and :class:`SequenceModelRegressor` are
scikeras's ``KerasClassifier`` / ``KerasRegressor`` with the repairs that
sequence input and current scikit-learn need. The repairs live in
:class:`_SequenceWrapperMixin` and in the two modules it draws on,
:mod:`~seqimportance.keras._wrapper_tags` (the tags) and
:mod:`~seqimportance.keras._wrapper_io` (input validation and predictions):

- tags through ``__sklearn_tags__`` (scikeras only has the legacy
  ``_more_tags`` and puts the mixin right of ``BaseEstimator``), so
  ``is_classifier`` / ``is_regressor`` hold, cross-validation of a classifier
  is stratified, ``predict_proba`` scorers such as ``roc_auc`` work, and the
  tags declare 3-D input;
- input validation by :func:`~seqimportance.core._validation.check_sequences`: 3-D
  is ``(n_samples, n_timesteps, n_features)``, 2-D ``(n, F)`` is read as
  ``(n, 1, F)``; ``n_features_in_`` is the last axis and ``n_timesteps_in_``
  the sequence length, both checked again at predict time; sparse input, a
  missing ``y`` and other ranks are clear errors;
- float64 predictions, ``predict_proba`` of shape ``(n_samples, n_classes)``
  even for one sample, ``class_weight`` without writing into the caller's
  ``sample_weight``, and ``sample_weight`` rescaled to mean 1 so that integer
  weights are equivalent to repeated samples;
- seeding that puts TensorFlow back as it was (scikeras's leaves op
  determinism on in a fresh process) and draws a real seed from a
  ``RandomState`` (scikeras uses 0 for any);
- the built-in :func:`~seqimportance.build_recurrent_model` when
  ``model=None``;
- the private hook ``_sequence_input`` / ``_postprocess_predictions`` used by
  the fast Keras predictor of the importance code.
"""

import numpy as np
from scikeras.wrappers import BaseWrapper, KerasClassifier, KerasRegressor
from sklearn.base import BaseEstimator
from sklearn.utils.class_weight import compute_sample_weight

from ._builder import build_recurrent_model
from ._fit_seeding import seed_from, seeded
from ._models import fitted_from_model
from ._wrapper_io import SequenceIOMixin
from ._wrapper_params import (
    ATTRS_DOC,
    CLASSIFIER_CONSTRAINTS,
    COMMON_CONSTRAINTS,
    PARAMS_DOC,
)
from ._wrapper_tags import LegacyTagsRoot, sequence_tags

__all__ = ["SequenceModelClassifier", "SequenceModelRegressor"]


class _SequenceWrapperMixin(SequenceIOMixin):
    """Repairs of scikeras's wrappers for sequence input and scikit-learn >= 1.6.

    Put left of ``KerasClassifier`` / ``KerasRegressor``; it reads their
    ``_estimator_type`` to set the tags.
    """

    _parameter_constraints = dict(COMMON_CONSTRAINTS)

    # scikit-learn's repr (changed parameters only) instead of scikeras's
    # listing of every parameter.
    __repr__ = BaseEstimator.__repr__

    # -- tags --------------------------------------------------------------
    def __sklearn_tags__(self):
        return sequence_tags(super().__sklearn_tags__(), self._estimator_type)

    # -- sample weights ------------------------------------------------------
    @staticmethod
    def _validate_sample_weight(X, y, sample_weight):
        # scikeras drops zero-weight samples; Keras then averages the weighted
        # loss over the batch size, so the scale of the weights acts as a
        # learning-rate factor. Rescaling the kept weights to mean 1 makes the
        # loss a weighted mean, so integer weights train exactly as repeated
        # samples do (scikit-learn's meaning of sample_weight). Weighted
        # metrics in ``score`` do not depend on the scale.
        X, y, sample_weight = BaseWrapper._validate_sample_weight(X, y, sample_weight)
        return X, y, sample_weight / np.mean(sample_weight)

    # -- model building and seeding ----------------------------------------
    def _check_model_param(self):
        if self.model is None and self.build_fn is None:
            return build_recurrent_model
        return super()._check_model_param()

    def _get_metadata(self):
        meta = super()._get_metadata()
        meta["estimator_type"] = self._estimator_type
        return meta

    def _build_keras_model(self):
        # scikeras turns a RandomState into seed 0 whatever its state; draw a
        # real seed instead (without advancing the caller's generator). Its
        # own seeding (when _random_state is set) is replaced by seeded().
        self._seed = seed_from(self.random_state)
        self._random_state = None
        with seeded(self._seed):
            return super()._build_keras_model()

    def _fit_keras_model(self, *args, **kwargs):
        self._random_state = None
        with seeded(getattr(self, "_seed", None)):
            return super()._fit_keras_model(*args, **kwargs)

    def initialize(self, X, y):
        """Build the Keras model for ``(X, y)`` without training it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences; a 2-D array is read as one timestep per sample.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : object
            The estimator, with an untrained ``model_``.
        """
        self._validate_params()
        return super().initialize(X, y)


class SequenceModelRegressor(_SequenceWrapperMixin, KerasRegressor, LegacyTagsRoot):
    __doc__ = f"""Regressor wrapping a Keras model of sequences, scikit-learn style.

    scikeras's ``KerasRegressor`` with correct scikit-learn tags, sequence
    input and a built-in recurrent model. ``X`` has shape ``(n_samples,
    n_timesteps, n_features)``; a 2-D ``(n_samples, n_features)`` is read as
    one timestep per sample. ``y`` has shape ``(n_samples,)`` or
    ``(n_samples, n_outputs)``; a ``y`` of shape ``(n_samples, n_timesteps)``
    gets one output per timestep from the built-in model.

    Parameters
    ----------{PARAMS_DOC}
    **kwargs : dict
        Routed parameters: ``model__...``, ``fit__...``, ``predict__...``,
        ``compile__...``, ``optimizer__...``, ``loss__...``.

    Attributes
    ----------{ATTRS_DOC}
    n_outputs_ : int
        Number of target columns seen in fit.

    See Also
    --------
    SequenceModelClassifier : The classifier counterpart.
    build_recurrent_model : The model built when ``model=None``.
    SequenceScaler : Standardise sequences in a pipeline.

    Notes
    -----
    Defaults differ from scikeras's in two places: ``optimizer="adam"`` and
    ``verbose=0``. ``epochs=1`` is scikeras's default; raise it for real use.

    Examples
    --------
    >>> from seqimportance import SequenceModelRegressor
    >>> from seqimportance.datasets import make_lagged_regression
    >>> X, y = make_lagged_regression(100, n_timesteps=5, random_state=0)
    >>> reg = SequenceModelRegressor(model__units=4, epochs=2, random_state=0)
    >>> reg.fit(X, y).predict(X).shape
    (100,)
    >>> reg.n_timesteps_in_, reg.n_features_in_
    (5, 4)
    """

    _parameter_constraints = dict(COMMON_CONSTRAINTS)

    def __init__(
        self,
        model=None,
        *,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=1,
        **kwargs,
    ):
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            **kwargs,
        )

    @classmethod
    def from_model(cls, model, **params):
        """A fitted regressor around a trained Keras model, without training.

        Parameters
        ----------
        model : keras.Model or str or os.PathLike
            A trained model with one input, ``(n_timesteps, n_features)`` or
            ``(n_features,)`` per sample, and one output, ``(n_outputs,)`` or
            ``(n_timesteps, 1)`` per sample; or the path of a model saved with
            ``model.save("name.keras")``.
        **params : dict
            Other parameters of the estimator (``batch_size``, ``verbose``,
            ``predict__...``, and ``optimizer`` / ``loss`` for a later
            ``fit`` of an uncompiled model).

        Returns
        -------
        estimator : SequenceModelRegressor
            Fitted: ``model_`` is ``model`` itself (its weights untouched),
            ``predict`` returns ``model.predict`` as float64 (``(n, T)`` for
            one output per timestep), and ``n_timesteps_in_`` /
            ``n_features_in_`` are read from the model's input shape.

        Raises
        ------
        ValueError
            If the file is not a Keras model, or the model is not built, has
            several inputs or outputs, or an input that is not 2-D or 3-D.

        See Also
        --------
        SequenceModelClassifier.from_model : The classifier counterpart.

        Notes
        -----
        ``clone`` returns an unfitted estimator whose ``model`` is a copy of
        the Keras model, with the same weights; ``fit`` then trains that
        copy further (fine-tuning), as scikeras does with a model instance.
        ``fit`` on the estimator itself trains ``model`` in place. To use
        the trained model as it is where scikit-learn clones and refits
        (cross-validation, a Pipeline in a search), wrap it in
        :class:`sklearn.frozen.FrozenEstimator`.

        Examples
        --------
        >>> import keras, numpy as np
        >>> from seqimportance import SequenceModelRegressor
        >>> model = keras.Sequential(
        ...     [keras.Input((10, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)]
        ... )
        >>> reg = SequenceModelRegressor.from_model(model)  # no training
        >>> reg.n_timesteps_in_, reg.n_features_in_
        (10, 3)
        >>> X = np.random.default_rng(0).normal(size=(5, 10, 3))
        >>> np.allclose(reg.predict(X), model.predict(X, verbose=0)[:, 0], atol=1e-6)
        True
        """
        return fitted_from_model(cls, model, **params)

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new model (unless ``warm_start``) and train it on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences; a 2-D array is read as one timestep per sample.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        **kwargs : dict
            Extra arguments for ``keras.Model.fit`` (prefer ``fit__...`` at
            construction).

        Returns
        -------
        self : SequenceModelRegressor
            The fitted estimator.
        """
        self._validate_params()
        return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the model and its history.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        **kwargs : dict
            Extra arguments for ``keras.Model.fit``.

        Returns
        -------
        self : SequenceModelRegressor
            The updated estimator.
        """
        self._validate_params()
        return super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)


class SequenceModelClassifier(_SequenceWrapperMixin, KerasClassifier, LegacyTagsRoot):
    __doc__ = f"""Classifier wrapping a Keras model of sequences, scikit-learn style.

    scikeras's ``KerasClassifier`` with correct scikit-learn tags (so
    ``is_classifier`` holds, cross-validation is stratified and ``roc_auc``
    works), sequence input and a built-in recurrent model. ``X`` has shape
    ``(n_samples, n_timesteps, n_features)``; a 2-D ``(n_samples,
    n_features)`` is read as one timestep per sample. ``y`` is binary or
    multiclass of shape ``(n_samples,)``, or a binary indicator matrix
    ``(n_samples, n_labels)``; a binary ``y`` of shape ``(n_samples,
    n_timesteps)`` gets one output per timestep from the built-in model.

    Parameters
    ----------{PARAMS_DOC}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, ``{{label: weight}}``, multiplied into the
        sample weights; "balanced" uses ``n_samples / (n_classes *
        np.bincount(y))``.
    **kwargs : dict
        Routed parameters: ``model__...``, ``fit__...``, ``predict__...``,
        ``compile__...``, ``optimizer__...``, ``loss__...``.

    Attributes
    ----------{ATTRS_DOC}
    classes_ : ndarray
        Class labels (for an indicator matrix, the column indices).
    n_classes_ : int
        Number of classes (or labels).

    See Also
    --------
    SequenceModelRegressor : The regressor counterpart.
    build_recurrent_model : The model built when ``model=None``.

    Notes
    -----
    Defaults differ from scikeras's in two places: ``optimizer="adam"`` and
    ``verbose=0``. ``epochs=1`` is scikeras's default; raise it for real use.

    Examples
    --------
    >>> from seqimportance import SequenceModelClassifier
    >>> from seqimportance.datasets import make_seed_sequences
    >>> X, y = make_seed_sequences(100, n_timesteps=10, random_state=0)
    >>> clf = SequenceModelClassifier(model__units=4, epochs=2, random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape  # P(y_t = 1), one column per timestep
    (100, 10)
    >>> clf.predict(X).shape
    (100, 10)
    >>> from sklearn.base import is_classifier
    >>> is_classifier(clf)
    True
    """

    _parameter_constraints = dict(CLASSIFIER_CONSTRAINTS)

    def __init__(
        self,
        model=None,
        *,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose=0,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=1,
        class_weight=None,
        **kwargs,
    ):
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            class_weight=class_weight,
            **kwargs,
        )

    @classmethod
    def from_model(cls, model, classes=None, **params):
        """A fitted classifier around a trained Keras model, without training.

        Parameters
        ----------
        model : keras.Model or str or os.PathLike
            A trained model with one input, ``(n_timesteps, n_features)`` or
            ``(n_features,)`` per sample, and one output of probabilities:
            one sigmoid unit (binary), ``k`` softmax units (``k`` classes),
            ``k`` sigmoid units (``k`` labels) or ``(n_timesteps, 1)``
            sigmoids (one binary label per timestep); or the path of a model
            saved with ``model.save("name.keras")``.
        classes : array-like of shape (n_classes,), default=None
            Labels of the output columns, unique and sorted (the order of
            scikit-learn's ``classes_``). None infers them from the output
            layer: ``[0, 1]`` for one sigmoid unit, ``range(k)`` for ``k``
            units. Labels and per-timestep outputs always have the column
            indices as classes.
        **params : dict
            Other parameters of the estimator (``batch_size``, ``verbose``,
            ``predict__...``, and ``optimizer`` / ``loss`` for a later
            ``fit`` of an uncompiled model).

        Returns
        -------
        estimator : SequenceModelClassifier
            Fitted: ``model_`` is ``model`` itself (its weights untouched),
            ``predict_proba`` returns the model's probabilities as float64
            (two columns for one sigmoid unit), ``predict`` the labels of
            ``classes_``, and ``n_timesteps_in_`` / ``n_features_in_`` are read
            from the model's input shape.

        Raises
        ------
        ValueError
            If the file is not a Keras model; if the model is not built, has
            several inputs or outputs, an input that is not 2-D or 3-D, or a
            linear output layer (logits); or if ``classes`` does not match the
            output layer.

        See Also
        --------
        SequenceModelRegressor.from_model : The regressor counterpart, also
            for the raw outputs of any model.

        Notes
        -----
        ``clone`` returns an unfitted estimator whose ``model`` is a copy of
        the Keras model, with the same weights; ``fit`` then trains that
        copy further (fine-tuning), as scikeras does with a model instance.
        ``fit`` on the estimator itself trains ``model`` in place. To use
        the trained model as it is where scikit-learn clones and refits
        (cross-validation, a Pipeline in a search), wrap it in
        :class:`sklearn.frozen.FrozenEstimator`.

        Examples
        --------
        >>> import keras
        >>> from seqimportance import SequenceModelClassifier
        >>> model = keras.Sequential([
        ...     keras.Input((10, 3)),
        ...     keras.layers.LSTM(4),
        ...     keras.layers.Dense(3, activation="softmax"),
        ... ])
        >>> clf = SequenceModelClassifier.from_model(model, classes=["a", "b", "c"])
        >>> clf.classes_.tolist()
        ['a', 'b', 'c']
        >>> SequenceModelClassifier.from_model(model).classes_.tolist()
        [0, 1, 2]
        """
        return fitted_from_model(cls, model, classes=classes, **params)

    def _weighted(self, y, sample_weight):
        # KerasClassifier multiplies class weights into sample_weight in
        # place, which writes into the caller's array; build a new one.
        if self.class_weight is None:
            return sample_weight
        weights = compute_sample_weight(class_weight=self.class_weight, y=y)
        if sample_weight is None:
            return weights
        return np.asarray(sample_weight, dtype=np.float64) * weights

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new model (unless ``warm_start``) and train it on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences; a 2-D array is read as one timestep per sample.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a binary indicator matrix (one column per label
            or per timestep).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        **kwargs : dict
            Extra arguments for ``keras.Model.fit`` (prefer ``fit__...`` at
            construction).

        Returns
        -------
        self : SequenceModelClassifier
            The fitted estimator.
        """
        self._validate_params()
        self.classes_ = None
        sample_weight = self._weighted(y, sample_weight)
        BaseWrapper.fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one more epoch, keeping the model and its history.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Training sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels or indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            All classes, needed on the first call when ``y`` may miss some.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples.
        **kwargs : dict
            Extra arguments for ``keras.Model.fit``.

        Returns
        -------
        self : SequenceModelClassifier
            The updated estimator.
        """
        self._validate_params()
        if classes is not None:
            self.classes_ = classes
        else:
            self.classes_ = getattr(self, "classes_", None)
        sample_weight = self._weighted(y, sample_weight)
        BaseWrapper.partial_fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def predict_proba(self, X, **kwargs):
        """Class probabilities for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
                (n_samples, n_features)
            Sequences with the timesteps and features seen in fit.
        **kwargs : dict
            Extra arguments for ``keras.Model.predict``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Float64 probabilities; for a binary target the columns are the two
            classes, for an indicator matrix (per-timestep targets included)
            each column is the probability of its label being 1.
        """
        return self._postprocess_predictions(
            self._predict_raw(X, **kwargs), "predict_proba"
        )
