"""One training loop for every contrastive decoder (:func:`train`): AdamW on shuffled mini-batches from a seeded
generator, validation loss after each epoch, early stopping, and a checkpoint after each epoch that a killed job
resumes from; the grid of hyper-parameters it is run over (:class:`TrainSettings`, :func:`grid`) and the validation
split by stimulus."""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from torch import nn

from ..seeding import rng
from ._losses import info_nce, mse_cos
from ._networks import BrainCLIPVAE


@contextlib.contextmanager
def thread_invariant(device):
    """On CPU, run the enclosed torch work on one thread, then restore the thread count.

    BLAS splits the long reduction over vertices (betas @ weights) across threads, so float32 results change in
    their last bits with the thread count, and training amplifies that. One thread makes a fit identical whatever
    the job's ``threads``; the workflow parallelises across subjects × decoders × modes instead. On CUDA nothing
    changes.
    """
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class TrainSettings:
    """One point of the hyper-parameter grid, and the loop's settings."""
    loss: str = "infonce"          # infonce (BrainCLIP) or mindreader
    tau: float = 0.1
    image_weight: float = 1.0      # BrainCLIP α (fMRI↔image term)
    text_weight: float = 0.0       # BrainCLIP β (fMRI↔text term)
    kl_weight: float = 0.0         # BrainCLIP-VAE
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 128
    max_epochs: int = 30
    patience: int = 5
    min_delta: float = 0.0           # early stopping: an epoch is better when its validation loss is below the best
                                     # by more than this fraction of the best's magnitude (Keras' min_delta, relative)
    contrastive_weight: float = 0.5  # Mind Reader p
    cos_weight: float = 0.6          # Mind Reader w

    def key(self) -> str:
        """A short name of this grid point (checkpoint file names and logs)."""
        return (f"{self.loss}_tau{self.tau:g}_a{self.image_weight:g}_b{self.text_weight:g}_kl{self.kl_weight:g}"
                f"_lr{self.lr:g}")


def _loss(model, pred, batch_targets, ids, s: TrainSettings):
    if s.loss == "mindreader":
        y = batch_targets[0]
        loss = (1 - s.contrastive_weight) * mse_cos(pred, y, s.cos_weight) + s.contrastive_weight * info_nce(
            pred, y, s.tau, 0.5, ids)
    else:
        loss = pred.new_zeros(())
        if s.image_weight:
            loss = loss + s.image_weight * info_nce(pred, batch_targets[0], s.tau, 0.5, ids)
        if s.text_weight:
            loss = loss + s.text_weight * info_nce(pred, batch_targets[1], s.tau, 0.5, ids)
    if s.kl_weight and isinstance(model, BrainCLIPVAE) and model.training:
        loss = loss + s.kl_weight * model.last_kl
    return loss


def _atomic_save(obj, path: Path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(model: nn.Module, x: torch.Tensor, targets: list[torch.Tensor], ids, x_val: torch.Tensor,
          targets_val: list[torch.Tensor], ids_val, settings: TrainSettings, seed: int,
          checkpoint: str | Path | None = None, log=None, on_epoch=None) -> dict:
    """Train ``model`` with AdamW and early stopping on validation loss; keep the weights of the best epoch.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (n, n_in) to (n, dim).
    x : tensor of shape (n, n_in)
    targets : list of tensor of shape (n, dim)
        ``[image]`` or ``[image, text]`` targets (BrainCLIP), ``[target]`` (Mind Reader).
    ids : array of shape (n,)
        Stimulus of each row (repeats are not negatives of each other).
    x_val, targets_val, ids_val
        The validation rows.
    settings : TrainSettings
    seed : int
        Seed of the batch order and of the VAE's latent samples (the caller seeds the initialisation).
    checkpoint : path, optional
        Written after every epoch (model, optimiser, generator state, best weights, history). When it exists at
        the start and was made with the same settings, seed and data, training resumes from it and gives the same
        result as an uninterrupted run; otherwise training starts afresh.
    log : callable, optional
        One line per epoch.
    on_epoch : callable, optional
        Called with the epoch number after each checkpoint (tests use it to interrupt training).

    Returns
    -------
    dict
        ``best_epoch``, ``best_val_loss``, ``epochs_run``, ``history`` (train and validation loss per epoch),
        ``seconds`` and ``trials_per_second``; the model holds the best epoch's weights, in eval mode.
    """
    dev = x.device
    gen = torch.Generator(device=dev).manual_seed(seed)
    if isinstance(model, BrainCLIPVAE):
        model.generator = gen
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.lr,
                              weight_decay=settings.weight_decay)
    state = {"epoch": 0, "best_epoch": 0, "best_val": math.inf, "best_state": None, "history": [], "seconds": 0.0,
             "bad": 0}
    ckpt = Path(checkpoint) if checkpoint else None
    # what the checkpoint must have been made with: a killed run with other settings or data is not resumed
    fingerprint = repr((settings, seed, tuple(x.shape), tuple(x_val.shape), [tuple(t.shape) for t in targets],
                        float(x.sum(dtype=torch.float64)), float(sum(t.sum(dtype=torch.float64) for t in targets))))
    saved = torch.load(ckpt, map_location=dev, weights_only=False) if ckpt is not None and ckpt.exists() else None
    if saved is not None and saved.get("fingerprint") != fingerprint:
        if log is not None:
            log(f"{ckpt.name} was made with other settings or data: starting afresh")
        saved = None
    if saved is not None:
        model.load_state_dict(saved["model"])
        optim.load_state_dict(saved["optim"])
        gen.set_state(saved["generator"].to("cpu") if dev.type == "cpu" else saved["generator"])
        state = saved["state"]
        if log is not None:
            log(f"resumed {ckpt.name} after epoch {state['epoch']}")
    n, bs = x.shape[0], min(settings.batch_size, x.shape[0])
    ids = np.asarray(ids)
    while state["epoch"] < settings.max_epochs and state["bad"] < settings.patience:
        t0 = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=gen, device=dev)
        total = 0.0
        n_batches = 0
        for k in range(0, n - bs + 1, bs):  # full batches only: InfoNCE depends on the batch size
            idx = order[k: k + bs]
            pred = model(x[idx])
            loss = _loss(model, pred, [t[idx] for t in targets], ids[idx.cpu().numpy()], settings)
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += float(loss.detach())
            n_batches += 1
        model.eval()
        with torch.no_grad():
            val = float(_loss(model, model(x_val), targets_val, np.asarray(ids_val), settings))
        state["epoch"] += 1
        state["seconds"] += time.perf_counter() - t0
        state["history"].append({"epoch": state["epoch"], "train_loss": total / max(n_batches, 1),
                                 "val_loss": val})
        best = state["best_val"]
        if not math.isfinite(best) or val < best - max(settings.min_delta * abs(best), 1e-6):
            state.update(best_val=val, best_epoch=state["epoch"], bad=0,
                         best_state={k: v.detach().clone() for k, v in model.state_dict().items()})
        else:
            state["bad"] += 1
        if log is not None:
            log(f"{settings.key()} epoch {state['epoch']}: train {state['history'][-1]['train_loss']:.4f} "
                f"val {val:.4f}{' *' if state['best_epoch'] == state['epoch'] else ''}")
        if ckpt is not None:
            _atomic_save({"model": model.state_dict(), "optim": optim.state_dict(), "generator": gen.get_state(),
                          "state": state, "fingerprint": fingerprint}, ckpt)
        if on_epoch is not None:
            on_epoch(state["epoch"])
    if state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
    model.eval()
    trials = (n // bs) * bs * state["epoch"]  # full batches only
    return {"best_epoch": state["best_epoch"], "best_val_loss": state["best_val"], "epochs_run": state["epoch"],
            "history": state["history"], "seconds": round(state["seconds"], 3),
            "trials_per_second": round(trials / state["seconds"], 1) if state["seconds"] > 0 else None}


def validation_split(stimulus_ids, fraction: float, seed: int, *keys) -> np.ndarray:
    """Rows held out for validation: every row of a random ``fraction`` of the unique stimuli (a stimulus is
    never on both sides).

    Parameters
    ----------
    stimulus_ids : array of shape (n_rows,)
    fraction : float
    seed : int
    *keys
        Names of the random stream (e.g. subject, decoder, mode).

    Returns
    -------
    bool array of shape (n_rows,)
        True for validation rows.
    """
    sid = np.asarray(stimulus_ids).astype(str)
    uniq = np.unique(sid)
    n_val = max(1, int(round(fraction * uniq.size)))
    val = rng(seed, "validation", *keys).choice(uniq, size=n_val, replace=False)
    return np.isin(sid, val)


def grid(base: TrainSettings, **axes) -> list[TrainSettings]:
    """Every combination of the values in ``axes`` (settings field → list of values), on top of ``base``."""
    names = list(axes)
    out = []
    for values in itertools.product(*(axes[k] for k in names)):
        kw = {**base.__dict__, **dict(zip(names, values))}
        out.append(TrainSettings(**kw))
    return out
