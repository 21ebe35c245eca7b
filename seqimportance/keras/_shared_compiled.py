"""Compiled inference shared by Keras models of the same architecture.

Cross-validation and searches fit a new model per fold or candidate, and
tracing a model into a graph (and compiling it with XLA) costs more than
explaining a small model. Models of one architecture compute the same
function of their weights, so their compiled inference is shared: the
functions call ``model.stateless_call(trainable, non_trainable, x)`` with the
weights of the model at hand as arguments, and are kept per architecture
(:func:`architecture_key`), not per model. A second model of a known
architecture traces nothing, and runs XLA at once where the first one had it
compiled.

The architecture is the model's configuration (``model.to_json()`` without
the compile configuration) with its layer names replaced by their positions
(a build function called twice names its layers ``lstm`` and ``lstm_1``),
plus the shapes and dtypes of its input and of its weights. Only models made
of Keras's own layers (and the package's
:class:`~seqimportance.keras._layers.SqueezeSteps`), in a plain
``keras.Model`` or ``keras.Sequential``, are shared: the configuration of a
custom layer or model need not describe all it computes. Other models get
functions of their own that call the model directly.
"""

import collections
import json
import threading
import weakref

from ._compile_policy import ShapeCompiles
from ._quiet import package_function

__all__ = ["FunctionSet", "architecture_key", "flat_caller", "function_set"]

_SHARED = collections.OrderedDict()  # architecture key -> FunctionSet
_SHARED_SIZE = 16
_SHARED_LOCK = threading.Lock()
_OWN_MODULES = ("keras.", "seqimportance.keras._layers")


def _is_builtin(obj):
    return (type(obj).__module__ or "").startswith(_OWN_MODULES)


def _canonical_names(config):
    """``config`` with layer names replaced by their positions (in place)."""
    inner = config.get("config", {})
    layers = inner.get("layers", [])
    names = {}
    for i, layer in enumerate(layers):
        name = layer.get("config", {}).get("name", layer.get("name"))
        names.setdefault(name, f"#{i}")

    def rename(value):
        return names.get(value, value) if isinstance(value, str) else value

    def walk_history(node):
        if isinstance(node, dict):
            history = node.get("keras_history")
            if isinstance(history, list) and history:
                history[0] = rename(history[0])
            for value in node.values():
                walk_history(value)
        elif isinstance(node, list):
            for value in node:
                walk_history(value)

    for layer in layers:
        if "name" in layer:
            layer["name"] = rename(layer["name"])
        if "name" in layer.get("config", {}):
            layer["config"]["name"] = rename(layer["config"]["name"])
        walk_history(layer.get("inbound_nodes", []))
    for field in ("input_layers", "output_layers"):
        refs = inner.get(field)
        if isinstance(refs, list) and refs and isinstance(refs[0], str):
            refs[0] = rename(refs[0])  # a single [name, node, tensor] triple
        elif isinstance(refs, list):
            for ref in refs:
                if isinstance(ref, list) and ref:
                    ref[0] = rename(ref[0])
    inner.pop("name", None)
    config.pop("name", None)
    config.pop("compile_config", None)  # optimizer and loss: not inference
    return config


def architecture_key(model):
    """A hashable description of what ``model`` computes, or None.

    None when the model is not made of Keras's own layers only, or its
    configuration cannot be serialised.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    key : str or None
    """
    if not _is_builtin(model) or not all(_is_builtin(x) for x in model.layers):
        return None
    try:
        config = json.loads(model.to_json())
    except Exception:  # not serialisable: not shared
        return None
    config = _canonical_names(config)
    inputs = [(tuple(t.shape), str(t.dtype)) for t in model.inputs]

    def specs(variables):
        return [(tuple(v.shape), str(v.dtype)) for v in variables]

    return json.dumps(
        [
            config,
            inputs,
            specs(model.trainable_variables),
            specs(model.non_trainable_variables),
        ],
        sort_keys=True,
        default=str,
    )


class FunctionSet:
    """Compiled inference functions of one architecture (or one model).

    Parameters
    ----------
    stateless : bool
        True: functions take the weights as arguments (shared by every model
        of the architecture); False: they call one model directly.

    Attributes
    ----------
    functions : dict
        ``(shape, dtype, xla) -> tf.function``; ``shape`` is None for the
        plain graph, which serves any number of rows.
    xla_ok : bool or None
        Whether XLA compiles the architecture and agrees with the model's
        eager outputs; None until tried.
    xla_error : Exception or None
    """

    def __init__(self, stateless):
        self.stateless = stateless
        self.functions = {}
        self.lock = threading.Lock()
        self.compiles = ShapeCompiles(self.lock)  # plain calls -> XLA compiles
        self.xla_ok = None
        self.xla_error = None
        self._local = threading.local()  # the model being served, for tracing
        self._flat = weakref.WeakKeyDictionary()  # function -> flat call or None

    def new_function(self, model, x, jit):
        """A ``tf.function`` for batches like ``x`` (any number of rows unless XLA)."""
        import tensorflow as tf

        shape = x.shape if jit else (None,) + tuple(x.shape[1:])
        x_spec = tf.TensorSpec(shape, tf.as_dtype(x.dtype))
        if not self.stateless:
            model_ref = weakref.ref(model)  # no strong reference to the model

            def infer(x):
                return model_ref()(x, training=False)

            signature = [x_spec]
        else:
            local = self._local

            def infer(weights, x):
                # Traced with whichever model of the architecture is served.
                outputs, _ = local.model.stateless_call(
                    weights[0], weights[1], x, training=False
                )
                return outputs

            weight_specs = tuple(
                [tf.TensorSpec(v.shape, tf.as_dtype(v.dtype)) for v in variables]
                for variables in (
                    model.trainable_variables,
                    model.non_trainable_variables,
                )
            )
            signature = [weight_specs, x_spec]
        infer = package_function(infer, "inference")
        return tf.function(infer, input_signature=signature, jit_compile=jit)

    def trace(self, function, model):
        """Trace ``function`` (from :meth:`new_function`) for ``model`` without a call."""
        self._local.model = model
        try:
            function.get_concrete_function()
        finally:
            self._local.model = None

    def xla_of(self, plain, x):
        """An XLA ``tf.function`` for ``x``'s shape around ``plain``'s graph, or None.

        The plain graph, traced once for any number of rows, is called as
        it is inside the new function, so the model is not traced again:
        of the 0.4-0.5 s that a first XLA call of a small 3-layer LSTM takes,
        that saves the quarter that tracing takes.

        Parameters
        ----------
        plain : tf.function
            The plain graph of this set, called once already.
        x : ndarray
            A batch of the shape to compile.

        Returns
        -------
        function : tf.function or None
            Takes the arguments ``plain`` takes; None when ``plain`` offers
            no traced function to call.
        """
        import tensorflow as tf

        try:
            concrete = plain.get_concrete_function()
            args = concrete.structured_input_signature[0]
        except Exception:  # another TensorFlow: trace the model anew
            return None
        x_spec = tf.TensorSpec(x.shape, tf.as_dtype(x.dtype))
        if self.stateless:

            def infer(weights, x):
                return concrete(weights, x)

            signature = [args[0], x_spec]
        else:

            def infer(x):
                return concrete(x)

            signature = [x_spec]
        infer = package_function(infer, "inference")
        return tf.function(infer, input_signature=signature, jit_compile=True)

    def run(self, function, model, x):
        """``function``'s outputs for ``model`` on ``x``, as a numpy array."""
        if not self.stateless:
            return function(x).numpy()
        weights = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
        )
        self._local.model = model
        try:
            call = self._flat.get(function)
            if call is not None:
                try:
                    return call(weights, x)
                except TypeError:  # not the flat inputs it takes: never again
                    self._flat[function] = None
            out = function(weights, x).numpy()
            if function not in self._flat:  # traced now
                self._flat[function] = flat_caller(function)
            return out
        finally:
            self._local.model = None


def flat_caller(function):
    """A faster call of a traced ``tf.function(weights, x)``, or None.

    ``tf.function`` binds its arguments to its signature anew on every call,
    one by one (1-2 ms for the 14 weights of a 3-layer LSTM, up to a tenth
    of a small model's forward pass); the traced concrete function takes the
    flat list of tensors as it is. None when the function offers no such
    call.

    Parameters
    ----------
    function : tf.function
        With an ``input_signature`` ``[(trainable, non_trainable), x]``,
        called once already.

    Returns
    -------
    call : callable ``(weights, x) -> ndarray`` or None
    """
    import tensorflow as tf

    try:
        concrete = function.get_concrete_function()
        call_flat = concrete._call_flat
    except Exception:  # another TensorFlow: the tf.function's own call
        return None

    def call(weights, x):
        flat = [tf.convert_to_tensor(w) for part in weights for w in part]
        flat.append(tf.convert_to_tensor(x))
        return call_flat(flat, concrete.captured_inputs).numpy()

    return call


def function_set(model):
    """The :class:`FunctionSet` serving ``model``: its architecture's, or its own.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    functions : FunctionSet
    """
    key = architecture_key(model)
    if key is None:
        return FunctionSet(stateless=False)
    with _SHARED_LOCK:
        functions = _SHARED.get(key)
        if functions is None:
            functions = _SHARED[key] = FunctionSet(stateless=True)
            while len(_SHARED) > _SHARED_SIZE:
                _SHARED.popitem(last=False)
        else:
            _SHARED.move_to_end(key)
        return functions
