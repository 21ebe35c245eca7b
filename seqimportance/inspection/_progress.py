"""A tqdm progress bar over chunks, shown when ``verbose > 0``."""

__all__ = ["Progress"]


class Progress:
    """tqdm bar over chunks, shown when verbose > 0; total grows fold by fold."""

    def __init__(self, verbose):
        self._bar = None
        if verbose and verbose > 0:
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=0, desc="SequencePermutationImportance", unit="chunk"
            )

    def add(self, n_chunks):
        if self._bar is not None:
            self._bar.total += n_chunks
            self._bar.refresh()

    def update(self):
        if self._bar is not None:
            self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()
