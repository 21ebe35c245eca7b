"""``caveats_``: how importances were computed and what they do not show."""

from ..core._perturbation import NOISE_PERTURBATIONS

__all__ = ["describe_importances"]


def describe_importances(p):
    """One paragraph on the method, the effect, the data and its caveats.

    Parameters
    ----------
    p : dict
        ``SequencePermutationImportance.get_params()``.

    Returns
    -------
    str
    """
    axis = p["axis"]
    cv = p["cv"]
    effect = p["effect"]
    groups = p["groups"]
    mask_value = p["mask_value"]
    n_iter = p["n_iter"]
    perturbation = p["perturbation"]
    relative_scale = p["relative_scale"]
    scale = p["scale"]
    scoring = p["scoring"]
    window = p["window"]
    if callable(perturbation):
        name = getattr(perturbation, "__name__", "")
        how = f"perturbed with the callable {name!r}"
    elif perturbation == "shuffle":
        how = "shuffled across samples (each sub-series keeps its time order)"
    elif perturbation == "time_shuffle":
        how = "permuted in time within each sample (values kept, order lost)"
    elif perturbation == "conditional":
        model = p.get("conditional_model")
        model = (
            "a linear (Gaussian) model"
            if model is None
            else type(model).__name__
        )
        how = (
            "replaced by a draw from its conditional distribution given the "
            f"other inputs ({model} on the other features at the same and "
            "adjacent timesteps, residuals resampled across samples)"
        )
    elif perturbation in NOISE_PERTURBATIONS:
        rel = (
            " times each feature's standard deviation"
            if relative_scale
            else ""
        )
        how = f"perturbed with {perturbation} noise of scale {scale}{rel}"
    else:
        value = "0" if perturbation == "zero" else "the feature mean"
        how = f"replaced by {value}"
    unit = {
        "feature": "feature",
        "timestep": "timestep",
        "both": "(timestep, feature) cell",
    }
    unit = "group of features" if groups is not None else unit[axis]
    if effect == "score":
        if scoring is None:
            scoring = "estimator.score"
        elif not isinstance(scoring, str):
            scoring = getattr(scoring, "__name__", "a callable scorer")
        what = f"the importance is the drop of the score ({scoring})"
    else:
        change = "root mean square" if effect == "rms" else "mean absolute"
        what = (
            f"the importance is the {change} change of the predictions, which "
            "says how much the model reacts, not whether it gets better or worse"
        )
    if cv == "prefit":
        data = (
            "They are computed on the data passed to fit: if that is the "
            "training data, they do not reflect importance for generalisation; "
            "use held-out data for that."
        )
    elif cv is None:
        data = (
            "They are computed on the data the estimator was trained on, so "
            "they do not reflect importance for generalisation."
        )
    else:
        data = (
            "They are computed for estimators trained and evaluated on "
            "train/test splits, not for the final estimator: they tell about "
            "importance for generalisation, not about one particular trained "
            "model."
        )
    if window > 1:
        unit = unit.replace("timestep", f"window of {window} timesteps")
    padding = ""
    if mask_value is not None:
        padding = (
            f" Timesteps whose features all equal mask_value={mask_value} "
            "are padding: they were never perturbed, and each unit's effect "
            "was measured on the samples real at its timesteps (unit_support_)."
        )
    shared = (
        "Conditional draws keep the correlation with the other inputs: the "
        "importance is what the input adds beyond them, and an input that "
        "others predict well gets little of it."
        if perturbation == "conditional"
        else "Correlated inputs share importance: perturbing one of them leaves "
        "its information in the others."
    )
    return (
        f"Each {unit} was {how}, {n_iter} times; {what}. {data} "
        f"{shared}{padding}"
    )
