"""Entry points: the command line (``python -m seqimportance``) and the demo."""
