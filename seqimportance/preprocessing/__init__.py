"""Getting sequence data ready: :class:`~seqimportance.SequenceScaler` and
:func:`~seqimportance.from_long_frame` (on top of the core only)."""
