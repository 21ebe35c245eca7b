"""``max_samples``: each repeat evaluates a random subset of the samples.

As in :func:`sklearn.inspection.permutation_importance`, an int is a number
of samples and a float a fraction of them; the subset of repeat ``r`` is the
same for every unit, so units are compared on the same samples. Its rows are
drawn from a generator seeded by ``(base_seed, fold, repeat)`` only, so they
do not depend on chunking, ``n_jobs`` or the units.
"""

import numbers

import numpy as np

__all__ = ["resolve_max_samples", "subsample_rows"]

_SUBSAMPLE_TAG = 0x5EB5  # keeps these seeds apart from the (unit, repeat) ones


def resolve_max_samples(max_samples, n_samples):
    """Number of samples per repeat, or None to use them all.

    Raises
    ------
    ValueError
        If an int ``max_samples`` exceeds ``n_samples``.
    """
    if isinstance(max_samples, numbers.Integral) and not isinstance(max_samples, bool):
        if max_samples > n_samples:
            raise ValueError(
                f"max_samples={max_samples} is larger than the number of samples "
                f"evaluated ({n_samples}); pass an int <= {n_samples} or a float "
                "in (0, 1]."
            )
        count = int(max_samples)
    else:
        count = max(1, int(float(max_samples) * n_samples))
    return None if count >= n_samples else count


def subsample_rows(base_seed, fold, repeat, n_samples, count):
    """Sorted row indices of the subset of ``repeat`` in ``fold``."""
    rng = np.random.default_rng([base_seed, fold, repeat, _SUBSAMPLE_TAG])
    return np.sort(rng.choice(n_samples, size=count, replace=False))
