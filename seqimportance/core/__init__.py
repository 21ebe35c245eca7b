"""The pure-numpy core: validation, units and perturbations, masks, layouts, statistics.

Nothing here imports Keras, TensorFlow, scikeras, eli5, matplotlib or IPython
(a test enforces it, see ``docs/architecture.rst``): the core works on
arrays ``(n_samples, n_timesteps, n_features)`` and random generators only.
"""
