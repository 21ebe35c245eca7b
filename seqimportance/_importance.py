"""Placeholder: SequencePermutationImportance lands here."""
class SequencePermutationImportance:  # pragma: no cover - replaced
    pass
