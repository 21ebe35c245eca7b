"""The importances of a fitted meta-estimator as a table (needs pandas)."""

__all__ = ["importance_frame"]


def importance_frame(estimator, level=0.95):
    """The importances as a pandas DataFrame, one row per unit.

    Parameters
    ----------
    estimator : SequencePermutationImportance
        The fitted meta-estimator.
    level : float, default=0.95
        Confidence level of the interval columns.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``unit``, ``mean``, ``std``, ``ci_lower``, ``ci_upper`` and
        ``pvalue``, rows in unit order.
    """
    import pandas as pd

    intervals = estimator.confidence_intervals(level)
    return pd.DataFrame(
        {
            "unit": estimator.unit_names_,
            "mean": estimator.feature_importances_,
            "std": estimator.feature_importances_std_,
            "ci_lower": intervals[:, 0],
            "ci_upper": intervals[:, 1],
            "pvalue": estimator.pvalues_,
        }
    )
