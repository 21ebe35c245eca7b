"""The seeding scheme: one base seed, then one generator per job.

``random_state`` gives one base seed (:func:`draw_base_seed`); each job
``(fold, unit, repeat)`` gets its own generator from that seed and its
indices (:func:`job_rng`). Chunk size, ``n_jobs`` and the order of evaluation
therefore cannot change the numbers. Pure numpy.
"""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["draw_base_seed", "job_rng"]


def draw_base_seed(random_state):
    """Draw the one seed from which every job's generator is derived."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def job_rng(base_seed, fold, unit, repeat):
    """Generator of job ``(fold, unit, repeat)``, independent of how work is cut."""
    return np.random.default_rng([base_seed, fold, unit, repeat])
