"""Decoding figures in the style of the reference paper (Figs 4–7, Appendix 6).

Colour code as in the paper: decoders trained on images are orange, on captions purple, modality-agnostic
decoders green. Error bars are bootstrap 95% CIs; the dashed line is chance (0.5).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image

from .. import metrics
from ._surface import save

MODE_COLOURS = {"images": "#f28e2b", "captions": "#9467bd", "agnostic": "#59a14f"}
MODE_LABELS = {"images": "modality-specific (trained on images)", "captions": "modality-specific (trained on "
               "captions)", "agnostic": "modality-agnostic"}


def _model_label(model: str, feature_set: str) -> str:
    return f"{model}\n({feature_set})"


def _bars(ax, table: pd.DataFrame, modes, models, value="mean", with_ci=True, width=0.26):
    x = np.arange(len(models))
    for j, mode in enumerate(modes):
        sub = table[table.training_mode == mode].set_index("label").reindex(models)
        err = None
        if with_ci:
            err = np.vstack([sub[value] - sub["ci_low"], sub["ci_high"] - sub[value]])
        ax.bar(x + (j - (len(modes) - 1) / 2) * width, sub[value], width, yerr=err, capsize=2,
               color=MODE_COLOURS[mode], label=MODE_LABELS[mode], edgecolor="white", linewidth=0.5)
    ax.axhline(0.5, color="k", ls="--", lw=0.8)
    ax.set_xticks(x, models, fontsize=8)
    ax.set_ylim(0.4, 1.0)
    ax.spines[["top", "right"]].set_visible(False)


def _main_rows(summary: pd.DataFrame, metric="pairwise_acc") -> pd.DataFrame:
    s = summary[summary.metric == metric].copy()
    s["label"] = [_model_label(m, f) for m, f in zip(s.model, s.feature_set)]
    return s


def fig4_decoder_types(summary: pd.DataFrame, out, dpi=120):
    """Fig. 4: mean pairwise accuracy over image and caption test trials, per model and decoder type, with
    bootstrap CIs, from the summary table; written to ``out``.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`amodal.evaluation.summary`.
    out : str or Path
    dpi : int
    """
    s = _main_rows(summary)
    s = s[s.eval_modality == "image+caption"]
    models = list(dict.fromkeys(s.label))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(models) + 2), 4))
    _bars(ax, s, ["images", "captions", "agnostic"], models)
    ax.set_ylabel("pairwise accuracy")
    ax.set_title("Average decoding scores: modality-agnostic vs modality-specific decoders")
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    save(fig, out, dpi)


def fig5_within_cross(summary: pd.DataFrame, out, dpi=120):
    """Fig. 5: decoding images (top) and captions (bottom) with within-, cross-modality and agnostic decoders.

    Parameters
    ----------
    summary : pandas.DataFrame
    out : str or Path
    dpi : int
    """
    s = _main_rows(summary)
    models = list(dict.fromkeys(s.label))
    fig, axes = plt.subplots(2, 1, figsize=(max(5, 1.6 * len(models) + 2), 7), sharex=True)
    for ax, modality, title in ((axes[0], "image", "Decoding images"), (axes[1], "caption", "Decoding captions")):
        sub = s[s.eval_modality == modality]
        _bars(ax, sub, ["images", "captions", "agnostic"], models)
        ax.set_ylabel("pairwise accuracy")
        within = "images" if modality == "image" else "captions"
        ax.set_title(f"{title} (within-modality: {within}-trained; cross-modality: the other)", fontsize=10)
    axes[0].legend(fontsize=8, loc="upper left", frameon=False)
    save(fig, out, dpi)


def app6_per_subject(scores: pd.DataFrame, out, dpi=120):
    """Appendix 6: per-subject pairwise accuracy of each decoder type per model (image and caption trials).

    Parameters
    ----------
    scores : pandas.DataFrame
        :func:`amodal.evaluation.subject_scores`.
    out : str or Path
    dpi : int
    """
    s = scores[(scores.metric == "pairwise_acc") & scores.eval_modality.isin(["image", "caption"])]
    s = s.assign(label=[_model_label(m, f) for m, f in zip(s.model, s.feature_set)])
    models = list(dict.fromkeys(s.label))
    subjects = sorted(s.subject.unique())
    fig, axes = plt.subplots(2, len(subjects), figsize=(2.2 * len(subjects) + 1, 6), sharey=True, squeeze=False)
    for i, modality in enumerate(("image", "caption")):
        for j, subject in enumerate(subjects):
            ax = axes[i, j]
            sub = s[(s.subject == subject) & (s.eval_modality == modality)].rename(columns={"value": "mean"})
            _bars(ax, sub, ["images", "captions", "agnostic"], models, with_ci=False)
            ax.tick_params(axis="x", labelsize=6)
            if i == 0:
                ax.set_title(subject, fontsize=9)
            if j == 0:
                ax.set_ylabel(f"pairwise accuracy\n({modality} trials)")
    axes[0, -1].legend(fontsize=6, loc="lower right", frameon=False)
    fig.suptitle("Per-subject decoding scores")
    save(fig, out, dpi)


def _wrap(text, width=24):
    return "\n".join(textwrap.wrap(text, width))


def retrieval_grid(preds, stimuli: pd.DataFrame, stimuli_dir, modality: str, feature_set: str, out, n_examples=3,
                   k=5, dpi=120, title="", standardize=True):
    """Figs 6–7: for example test trials, the stimulus seen and the top-k candidates (image and caption).

    Candidates are the test stimuli; the decoder's predictions are standardised (unless ``standardize`` is
    False, as for the contrastive decoders) and ranked by cosine distance to each candidate's features
    (METHOD §4). The correct candidate is framed in green.

    Parameters
    ----------
    preds : xarray.Dataset
        A predictions store (``pred_<set>``, ``target_<set>`` per test trial).
    stimuli : pandas.DataFrame
    stimuli_dir : str or Path
    modality : {"image", "caption"}
        Which test trials to show.
    feature_set : str
    out : str or Path
    n_examples, k, dpi : int
    title : str
    standardize : bool
    """
    ds = preds
    rows = np.flatnonzero((ds["split"].values == "test") & (ds["modality"].values == modality))
    sid = ds["stimulus_id"].values.astype(str)[rows]
    pred = torch.as_tensor(ds[f"pred_{feature_set}"].values[rows], dtype=torch.float64)
    cand = torch.as_tensor(ds[f"target_{feature_set}"].values[rows], dtype=torch.float64)
    top = metrics.top_k(pred, cand, k=k, standardize=standardize).numpy()
    ranks = metrics.retrieval_ranks(pred, cand, standardize).numpy()
    # examples: the best, a median and a poor trial by rank, so the figure shows the range honestly
    order = np.argsort(ranks, kind="stable")
    picks = order[np.linspace(0, len(order) - 1, n_examples).round().astype(int)]
    info = stimuli.set_index("id")
    # 3.1 inches a row: the image and up to 8 lines of 6-point caption under each candidate
    fig, axes = plt.subplots(n_examples, k + 1, figsize=(2.0 * (k + 1), 3.1 * n_examples), squeeze=False)
    for r, i in enumerate(picks):
        seen = sid[i]
        ax = axes[r, 0]
        if modality == "image":
            ax.imshow(Image.open(Path(stimuli_dir) / info.loc[seen, "image_file"]))
        else:
            ax.text(0.5, 0.5, _wrap(info.loc[seen, "caption"], 22), ha="center", va="center", fontsize=7,
                    wrap=True)
        ax.set_title(f"stimulus (rank {ranks[i]})", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        for c in range(k):
            cid = sid[top[i, c]]
            ax = axes[r, c + 1]
            ax.imshow(Image.open(Path(stimuli_dir) / info.loc[cid, "image_file"]))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(_wrap(info.loc[cid, "caption"], 28), fontsize=6)
            if cid == seen:
                for spine in ax.spines.values():
                    spine.set_edgecolor("#2ca02c")
                    spine.set_linewidth(3)
            if r == 0:
                ax.set_title(f"top-{c + 1}", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, out, dpi)


def decoding_figures(summary: pd.DataFrame, scores: pd.DataFrame, predictions, stimuli: pd.DataFrame, stimuli_dir,
                     feature_set: str, paths: dict, *, example_subject: str, example_model: str, n_examples: int = 3,
                     dpi: int = 120) -> None:
    """Every decoding figure of the report: Figs 4 and 5, Appendix 6, and the retrieval grids of Figs 6–7.

    Parameters
    ----------
    summary : pandas.DataFrame
        The across-subject summary (:func:`amodal.evaluation.summary`).
    scores : pandas.DataFrame
        The per-subject scores (:func:`amodal.evaluation.subject_scores`).
    predictions : xarray.Dataset
        The example agnostic decoder's predictions store.
    stimuli : pandas.DataFrame
        The stimuli table; ``stimuli_dir`` is the folder its ``image_file`` paths are relative to.
    feature_set : str
        The feature set of the example predictions.
    paths : dict
        Output path per figure name (``fig4_decoder_types``, ``fig5_within_cross``, ``app6_per_subject``,
        ``fig6_retrieval_images``, ``fig7_retrieval_captions``).
    example_subject, example_model : str
        Named in the retrieval figures' titles.
    n_examples, dpi : int
    """
    fig4_decoder_types(summary, paths["fig4_decoder_types"], dpi)
    fig5_within_cross(summary, paths["fig5_within_cross"], dpi)
    app6_per_subject(scores, paths["app6_per_subject"], dpi)
    for modality, name in (("image", "fig6_retrieval_images"), ("caption", "fig7_retrieval_captions")):
        retrieval_grid(predictions, stimuli, stimuli_dir, modality, feature_set, paths[name], n_examples=n_examples,
                       dpi=dpi, title=f"{example_subject}: modality-agnostic decoder ({example_model}, "
                       f"{feature_set}), decoding {modality}s: top-5 test candidates")
