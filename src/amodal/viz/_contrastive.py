"""Figures of the contrastive decoders: a retrieval comparison of every decoder (ridge included) with chance
marked, in the layout of BrainCLIP Tab. 1, and top-5 retrieval examples (as Figs 6–7)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from ._decoding import MODE_COLOURS, retrieval_grid
from ._surface import save

SPACES = {"vision": "fMRI → image", "lang": "fMRI → text"}
TRIALS = {"image": "image trials", "caption": "caption trials"}


def contrastive_retrieval(summary: pd.DataFrame, out, metric: str = "recall@1", dpi: int = 120):
    """Recall of every decoder variant, per training mode, for fMRI→image and fMRI→text on image and caption test
    trials, with bootstrap CIs; the dashed line is chance (k / number of candidates).

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`amodal.evaluation.contrastive_summary`.
    out : str or Path
    metric : str
        ``recall@k`` or ``mean_recall``.
    dpi : int
    """
    s = summary[summary.metric == metric]
    n_cand = summary[summary.metric == "n_candidates"].set_index(
        ["decoder", "feature_set", "training_mode", "eval_modality"])["mean"]
    decoders = list(dict.fromkeys(s.decoder))
    modes = [m for m in MODE_COLOURS if m in set(s.training_mode)]
    trials = [em for em in TRIALS if em in set(s.eval_modality)]  # no caption trials on NSD
    # about 0.15 inch per bar: 10 decoder variants x 3 training modes in each of 2 panels make a 12-inch figure
    fig, axes = plt.subplots(2, len(trials), figsize=(max(4 * len(trials), 0.15 * len(trials) * len(decoders)
                                                          * len(modes) + 3), 7), sharey=True, squeeze=False)
    width = 0.8 / max(len(modes), 1)
    for i, fs in enumerate(SPACES):
        for j, em in enumerate(trials):
            ax = axes[i, j]
            cell = s[(s.feature_set == fs) & (s.eval_modality == em)]
            for k, mode in enumerate(modes):
                rows = cell[cell.training_mode == mode].set_index("decoder").reindex(decoders)
                xs = np.arange(len(decoders)) + (k - (len(modes) - 1) / 2) * width
                err = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
                ax.bar(xs, rows["mean"], width, yerr=err, color=MODE_COLOURS[mode], label=mode, capsize=2)
            chance = _chance(metric, n_cand, fs, em)
            if chance is not None:
                ax.axhline(chance, ls="--", color="0.3", lw=1, label="chance")
            ax.set_xticks(np.arange(len(decoders)))
            ax.set_xticklabels(decoders, rotation=60, ha="right", fontsize=7)
            ax.set_title(f"{SPACES[fs]}, {TRIALS[em]}", fontsize=9)
            if j == 0:
                ax.set_ylabel(metric)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", fontsize=8, title="trained on")
    fig.suptitle(f"Retrieval over all test candidates ({metric}); mean over subjects, 95% bootstrap CI", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9, 0.96))
    save(fig, out, dpi)


def _chance(metric, n_cand, fs, em):
    vals = n_cand.xs((fs, em), level=("feature_set", "eval_modality")) if len(n_cand) else []
    if len(vals) == 0:
        return None
    n = float(np.median(vals))
    ks = {"mean_recall": (1, 5, 10)}.get(metric, (int(metric.split("@")[1]),) if "@" in metric else ())
    return float(np.mean([min(k, n) / n for k in ks])) if ks else None


def best_variant(summary: pd.DataFrame, mode: str = "agnostic") -> str:
    """The decoder variant with the highest mean recall@1 (fMRI→image, image and caption trials) in ``mode``."""
    s = summary[(summary.metric == "recall@1") & (summary.feature_set == "vision")
                & (summary.training_mode == mode) & summary.eval_modality.isin(list(TRIALS))]
    return str(s.groupby("decoder")["mean"].mean().idxmax())


def contrastive_figures(summary: pd.DataFrame, predictions: list[xr.Dataset], stimuli: pd.DataFrame, stimuli_dir,
                        paths: dict, *, example_subject: str, n_examples: int = 3, dpi: int = 120,
                        mode: str = "agnostic"):
    """Every contrastive figure: ``contrastive_retrieval`` and the top-5 examples on image and on caption trials
    (``contrastive_examples_images``, ``contrastive_examples_captions``, each drawn when ``paths`` names it) of the
    best decoder trained in ``mode``.

    Parameters
    ----------
    summary : pandas.DataFrame
    predictions : list of xarray.Dataset
        The example subject's prediction stores in ``mode`` (one per decoder family).
    stimuli : pandas.DataFrame
    stimuli_dir : str or Path
    paths : dict
        Figure name → output path.
    example_subject : str
    n_examples, dpi : int
    mode : str
        The training mode of the examples (``agnostic``; ``images`` on data without caption trials, such as NSD).
    """
    contrastive_retrieval(summary, paths["contrastive_retrieval"], dpi=dpi)
    variant = best_variant(summary, mode)
    ds = next(p for p in predictions if f"pred_{variant}" in p)
    view = xr.Dataset({"pred_vision": ds[f"pred_{variant}"], "target_vision": ds["target_vision"]})
    trained = {"agnostic": "modality-agnostic", "images": "trained on images", "captions": "trained on captions"}
    for modality, name in (("image", "contrastive_examples_images"), ("caption", "contrastive_examples_captions")):
        if name in paths:
            retrieval_grid(view, stimuli, stimuli_dir, modality, "vision", paths[name], n_examples=n_examples,
                           dpi=dpi, standardize=False, title=f"{example_subject}: {variant}, {trained[mode]}, "
                           f"fMRI → image ({modality} trials)")
