"""The inspection layer: the importance meta-estimator and what stands on it.

:class:`~seqimportance.SequencePermutationImportance`, its folds, the batched
evaluation of ``(unit, repeat)`` jobs and their effects, the PIMP null
(:func:`~seqimportance.permutation_test_importance`), feature selection
(:class:`~seqimportance.SequenceSelectFromModel`) and search scorers
(:func:`~seqimportance.make_importance_scorer`).
"""
