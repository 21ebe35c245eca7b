"""seqimportance: which inputs matter to a sequence (RNN/LSTM) model?

Permutation and perturbation importance for models on 3-D input
``(n_samples, n_timesteps, n_features)``, scikit-learn estimators around Keras
recurrent networks, and an eli5 display.

The Keras wrappers are imported on first use, so ``import seqimportance``
does not start TensorFlow.
"""

from . import datasets
from ._version import __version__
from .core._clustering import cluster_features
from .core._padding import pad_sequences
from .inspection._importance import SequencePermutationImportance
from .inspection._pimp import permutation_test_importance
from .inspection._search import make_importance_scorer
from .inspection._selection import SequenceSelectFromModel
from .preprocessing._long_frame import from_long_frame
from .preprocessing._scaler import SequenceScaler

__all__ = [
    "SequenceModelClassifier",
    "SequenceModelRegressor",
    "SequencePermutationImportance",
    "SequenceScaler",
    "SequenceSelectFromModel",
    "build_recurrent_model",
    "cluster_features",
    "datasets",
    "from_long_frame",
    "make_importance_scorer",
    "pad_sequences",
    "permutation_test_importance",
    "report",
    "__version__",
]


def __getattr__(name):
    # The Keras layer is imported on first use of one of its names.
    if name in ("SequenceModelRegressor", "SequenceModelClassifier"):
        from .keras import _wrappers as module
    elif name == "build_recurrent_model":
        from .keras import _builder as module
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


# Register the eli5 display (explain_weights) for SequencePermutationImportance:
# at once if eli5 is imported, else right after its import.
from .display._eli5 import install_eli5_display  # noqa: E402

install_eli5_display(SequencePermutationImportance)

# The HTML report: seqimportance.report(perm, path) and perm.to_html(path). The
# method is attached here so that neither layer imports the other.
from .display._report import install_to_html, report  # noqa: E402

install_to_html(SequencePermutationImportance)
