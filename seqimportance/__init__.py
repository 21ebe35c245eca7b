"""seqimportance: which inputs matter to a sequence (RNN/LSTM) model?

Permutation and perturbation importance for models on 3-D input
``(n_samples, n_timesteps, n_features)``, scikit-learn estimators around Keras
recurrent networks, and an eli5 display.

The Keras wrappers are imported on first use, so ``import seqimportance``
does not start TensorFlow.
"""

import importlib

from . import datasets
from ._importance import SequencePermutationImportance
from ._long_frame import from_long_frame
from ._padding import pad_sequences
from ._pimp import permutation_test_importance
from ._scaler import SequenceScaler
from ._search import make_importance_scorer
from ._selection import SequenceSelectFromModel
from ._version import __version__

_LAZY = {
    "SequenceModelRegressor": "._wrappers",
    "SequenceModelClassifier": "._wrappers",
    "build_recurrent_model": "._builder",
}

__all__ = [
    "SequenceModelClassifier",
    "SequenceModelRegressor",
    "SequencePermutationImportance",
    "SequenceScaler",
    "SequenceSelectFromModel",
    "build_recurrent_model",
    "datasets",
    "from_long_frame",
    "make_importance_scorer",
    "pad_sequences",
    "permutation_test_importance",
    "__version__",
]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


# Register the eli5 display (explain_weights) for SequencePermutationImportance.
from . import _eli5  # noqa: E402,F401
