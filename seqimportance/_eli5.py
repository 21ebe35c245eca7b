"""Placeholder: eli5 registration lands here."""
