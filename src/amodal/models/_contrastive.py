"""Contrastive decoders from betas into an aligned image–text space: BrainCLIP (linear and VAE; Liu et al. 2023)
and the Mind Reader mapper (Lin et al. 2022). See ``shared/notes/other-seeds.md`` §1–§2 for every size and value.

One training loop serves every decoder (:func:`train`): AdamW on shuffled mini-batches from a seeded generator,
validation loss after each epoch, early stopping, and a checkpoint after each epoch that a killed job resumes
from. :class:`ContrastiveDecoder` chooses hyper-parameters (temperature, loss weights, learning rate; epochs by early
stopping) on a validation split cut from the train split by stimulus, never on test *(BrainCLIP chose them on its
test set)*.
"""

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
import torch.nn.functional as F
from torch import nn

from .. import metrics
from ..seeding import rng, torch_seed

DECODERS = ("brainclip_linear", "brainclip_vae", "mindreader")
BRAINCLIP_CONDITIONS = {"V": (1.0, 0.0), "T": (0.0, 1.0), "VT": None}  # (image weight, text weight); VT: chosen


def info_nce(a: torch.Tensor, b: torch.Tensor, tau: float, row_weight: float = 0.5, ids=None) -> torch.Tensor:
    """InfoNCE between paired rows of ``a`` and ``b`` on cosine similarity / ``tau`` (BrainCLIP Eq. 5).

    ``row_weight`` λ mixes the two directions as Mind Reader's code does: −mean[λ·log softmax over each row's
    candidates (a→b) + (1 − λ)·log softmax over each column's (b→a)]. λ = 1 is BrainCLIP's one-directional
    form, λ = 0.5 the symmetric loss. Computed from log-sum-exp directly, not through ``F.cross_entropy``, so
    that the test against ``F.cross_entropy`` is a check.

    Parameters
    ----------
    a, b : tensor of shape (n, d)
    tau : float
    row_weight : float
    ids : array of shape (n,), optional
        Stimulus of each row. Another row of the same stimulus (a repeat, or the image and caption trials of
        one stimulus) is not a negative: it is left out of the softmax.

    Returns
    -------
    scalar tensor
    """
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / tau
    if ids is not None:
        ids = torch.as_tensor(np.unique(np.asarray(ids), return_inverse=True)[1], device=a.device)
        same = (ids[:, None] == ids[None, :]) & ~torch.eye(len(ids), dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(same, float("-inf"))
    diag = logits.diagonal()
    rows = diag - torch.logsumexp(logits, dim=1)
    cols = diag - torch.logsumexp(logits, dim=0)
    return -(row_weight * rows + (1.0 - row_weight) * cols).mean()


def clamp_normalize(y: torch.Tensor, threshold: float | None = 1.5) -> torch.Tensor:
    """Mind Reader's targets: values clipped to ±``threshold`` (outliers sit at fixed dimensions), then unit L2
    norm (MR §2.2; code ``threshold=1.5``). ``threshold=None`` only normalises."""
    if threshold is not None:
        y = y.clamp(-threshold, threshold)
    return F.normalize(y, dim=-1)


def mse_cos(pred: torch.Tensor, target: torch.Tensor, cos_weight: float = 0.6) -> torch.Tensor:
    """(1 − w)·MSE + w·(1 − cosine), Mind Reader's base loss (code ``cos_weight = 0.6``).

    Parameters
    ----------
    pred, target : tensor of shape (n, d)
    cos_weight : float
        w.

    Returns
    -------
    scalar tensor
    """
    return (1 - cos_weight) * F.mse_loss(pred, target) + cos_weight * (
        1 - F.cosine_similarity(pred, target, dim=1)).mean()


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


# ---------------------------------------------------------------------------------------------------------------
# networks


class LinearMap(nn.Module):
    """BrainCLIP-Linear: one fully connected layer from betas to the embedding (BC §3.2)."""

    def __init__(self, n_in: int, dim: int):
        super().__init__()
        self.fc = nn.Linear(n_in, dim)

    def forward(self, x):
        return self.fc(x)


class VAEDecoder(nn.Module):
    """The frozen generator of BrainCLIP-VAE: latent → hidden → embedding (BC App. A.1; widths are ours, the
    paper's are lost)."""

    def __init__(self, latent: int, hidden: int, dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, z):
        return self.net(z)


class GaussianEncoder(nn.Module):
    """A map to the mean and log-variance of a Gaussian latent (the fMRI encoder, and in pre-training the
    embedding encoder)."""

    def __init__(self, n_in: int, latent: int, hidden: int | None = None):
        super().__init__()
        self.net = nn.Linear(n_in, 2 * latent) if hidden is None else nn.Sequential(
            nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))

    def forward(self, x):
        mu, logvar = self.net(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-10, 10)


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) ‖ N(0, I)), summed over latent dimensions, mean over rows."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1).mean()


class BrainCLIPVAE(nn.Module):
    """BrainCLIP-VAE: a Gaussian fMRI encoder into the latent of a pre-trained, frozen decoder (BC §3.2). In
    training the latent is sampled (reparameterisation, from the module's generator); in eval its mean is used."""

    def __init__(self, n_in: int, decoder: VAEDecoder, latent: int):
        super().__init__()
        self.encoder = GaussianEncoder(n_in, latent)
        self.decoder = decoder
        for prm in self.decoder.parameters():
            prm.requires_grad_(False)
        self.generator: torch.Generator | None = None
        self.last_kl = torch.zeros(())

    def forward(self, x):
        mu, logvar = self.encoder(x)
        if self.training:
            eps = torch.randn(mu.shape, generator=self.generator, device=mu.device, dtype=mu.dtype)
            z = mu + (0.5 * logvar).exp() * eps
            self.last_kl = kl_normal(mu, logvar)
        else:
            z = mu
        return self.decoder(z)


def pretrain_vae_decoder(embeddings: torch.Tensor, latent: int, hidden: int, kl_weight: float, epochs: int,
                         seed: int, batch_size: int = 128, lr: float = 1e-3, log=None) -> VAEDecoder:
    """Pre-train BrainCLIP-VAE's decoder with an embedding encoder on unpaired target embeddings: cosine
    reconstruction + ``kl_weight``·KL to N(0, I) (BC App. A.1). The caller passes embeddings of stimuli that are
    never test or imagery stimuli.

    Parameters
    ----------
    embeddings : tensor of shape (n, dim)
    latent, hidden : int
        Latent size and hidden width of the decoder (and of the embedding encoder).
    kl_weight : float
    epochs : int
    seed : int
    batch_size : int
    lr : float
    log : callable, optional

    Returns
    -------
    VAEDecoder
        Trained, in eval mode; the fMRI encoder is trained against it frozen.
    """
    torch.manual_seed(seed)
    dim = embeddings.shape[1]
    enc, dec = GaussianEncoder(dim, latent, hidden), VAEDecoder(latent, hidden, dim)
    gen = torch.Generator(device=embeddings.device).manual_seed(seed)
    enc.to(embeddings.device), dec.to(embeddings.device)
    optim = torch.optim.AdamW([*enc.parameters(), *dec.parameters()], lr=lr)
    n = embeddings.shape[0]
    for epoch in range(epochs):
        order = torch.randperm(n, generator=gen, device=embeddings.device)
        for k in range(0, n, batch_size):
            y = embeddings[order[k: k + batch_size]]
            mu, logvar = enc(y)
            z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=gen, device=mu.device)
            loss = (1 - F.cosine_similarity(dec(z), y, dim=1)).mean() + kl_weight * kl_normal(mu, logvar)
            optim.zero_grad()
            loss.backward()
            optim.step()
        if log is not None and (epoch + 1) % max(epochs // 4, 1) == 0:
            log(f"VAE decoder pre-training epoch {epoch + 1}/{epochs}: loss {float(loss.detach()):.4f}")
    return dec.eval()


def pretrain_for(embeddings, architecture: dict, seed: int, keys, device="cpu", log=None) -> VAEDecoder:
    """BrainCLIP-VAE's decoder, pre-trained by :func:`pretrain_vae_decoder` with the sizes of ``architecture``.

    Parameters
    ----------
    embeddings : array of shape (n, dim)
        Unpaired target embeddings (never test or imagery stimuli).
    architecture : dict
        ``latent`` (32), ``hidden`` (256), ``kl_weight`` (1e-3), ``pretrain_epochs`` (30).
    seed : int
        The master seed.
    keys : tuple
        Names of the random stream (subject, decoder, mode).
    device : str or torch.device
    log : callable, optional

    Returns
    -------
    VAEDecoder
    """
    a = architecture
    emb = torch.as_tensor(embeddings, dtype=torch.float32, device=device)
    return pretrain_vae_decoder(emb, int(a.get("latent", 32)), int(a.get("hidden", 256)),
                                float(a.get("kl_weight", 1e-3)), int(a.get("pretrain_epochs", 30)),
                                torch_seed(seed, *keys, "vae-pretrain"), log=log)


class ResBlock1d(nn.Module):
    """Mind Reader's residual block without batch norm: conv3-ReLU-conv3-ReLU-conv1, plus identity, ReLU."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(ch, ch, 3, padding=1), nn.ReLU(), nn.Conv1d(ch, ch, 3, padding=1),
                                  nn.ReLU(), nn.Conv1d(ch, ch, 1))

    def forward(self, x):
        return F.relu(x + self.body(x))


class MindReaderMapper(nn.Module):
    """The Mind Reader fMRI→CLIP mapper (``fmri_clip_res``): Conv1d(1→hidden, kernel, stride) + ReLU, residual
    blocks, a per-position map hidden→dim, then two linear maps across positions (positions→fc→1) with ReLUs.

    The paper's sizes are ``hidden=64, n_blocks=4, fc_hidden=128`` with a stem of kernel 4, stride 2 (MR §2.2):
    its activations are (batch, dim, n_in / 2), a GPU job (``contrastive.mindreader.size: paper``). amodal's CPU
    default keeps the layers and shrinks the sizes: a stem that cuts the vertex vector into non-overlapping
    patches (kernel = stride = ``stem_stride``) and narrow layers (config ``contrastive.mindreader``).

    The stem and the kernel-1 convolutions are written as matrix products (on unfolded windows for the stem): the
    same maps as the ``Conv1d`` layers, which oneDNN runs several times slower on CPU for these shapes.
    """

    def __init__(self, n_in: int, dim: int, hidden: int = 64, n_blocks: int = 4, fc_hidden: int = 128,
                 stem_kernel: int = 4, stem_stride: int = 2):
        super().__init__()
        self.pad = 1 if stem_kernel == 4 and stem_stride == 2 else 0  # the paper's stem pads by 1
        self.kernel, self.stride = stem_kernel, stem_stride
        n_pos = (n_in + 2 * self.pad - stem_kernel) // stem_stride + 1
        self.stem = nn.Linear(stem_kernel, hidden)  # Conv1d(1→hidden, kernel, stride) on unfolded windows
        self.blocks = nn.Sequential(*[ResBlock1d(hidden) for _ in range(n_blocks)])
        self.to_dim = nn.Linear(hidden, dim)          # Conv1d(hidden→dim, k1)
        self.across1 = nn.Linear(n_pos, fc_hidden)    # Conv1d(n_pos→fc_hidden, k1) over (B, n_pos, dim)
        self.across2 = nn.Linear(fc_hidden, 1)        # Conv1d(fc_hidden→1, k1)

    def forward(self, x):
        windows = F.pad(x, (self.pad, self.pad)).unfold(1, self.kernel, self.stride)  # (B, n_pos, kernel)
        h = self.blocks(F.relu(self.stem(windows)).transpose(1, 2))  # (B, hidden, n_pos)
        h = F.relu(self.to_dim(h.transpose(1, 2)))           # (B, n_pos, dim)
        h = F.relu(self.across1(h.transpose(1, 2)))          # (B, dim, fc_hidden)
        return self.across2(h)[..., 0]                       # (B, dim)


# ---------------------------------------------------------------------------------------------------------------
# training


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


def mean_recall(pred: torch.Tensor, cand: torch.Tensor, target, ks=(1, 5, 10)) -> float:
    """Mean over k of recall@k of ``cand[target[i]]`` for query ``pred[i]`` by cosine (BrainCLIP's mean recall),
    with the ranks of :func:`amodal.metrics.retrieval_ranks` (ties count against the prediction).

    Parameters
    ----------
    pred : tensor of shape (n, d)
    cand : tensor of shape (m, d)
    target : int array of shape (n,)
    ks : sequence of int

    Returns
    -------
    float
    """
    return metrics.mean_recall(metrics.retrieval_ranks(pred, cand, False, np.asarray(target)), ks)


def grid(base: TrainSettings, **axes) -> list[TrainSettings]:
    """Every combination of the values in ``axes`` (settings field → list of values), on top of ``base``."""
    names = list(axes)
    out = []
    for values in itertools.product(*(axes[k] for k in names)):
        kw = {**base.__dict__, **dict(zip(names, values))}
        out.append(TrainSettings(**kw))
    return out


# ---------------------------------------------------------------------------------------------------------------
# the decoder: build, select on validation, fit


class ContrastiveDecoder:
    """A contrastive decoder from betas into an aligned image–text space, with hyper-parameters chosen on a
    validation split cut from its train rows by stimulus (follows :class:`amodal.models.Decoder`).

    Parameters
    ----------
    kind : {"brainclip_linear", "brainclip_vae", "mindreader"}
    target : {"V", "T", "VT"} for BrainCLIP (image term, text term, both); {"V", "T"} for Mind Reader (its image
        mapper f_img or its caption mapper f_cap).
    settings : list of TrainSettings
        The grid; the point with the best validation mean recall wins (for ``VT``, the mean of fMRI→image and
        fMRI→text), epochs by early stopping on validation loss.
    val_fraction : float
        Fraction of the train stimuli held out for validation.
    seed : int
        The master seed.
    keys : tuple
        Names of this fit's random streams (subject, decoder, mode, target).
    split_keys : tuple, optional
        Names of the validation split's stream (default ``keys``); the variants of one job share one split.
    architecture : dict
        ``mindreader``: ``hidden``, ``n_blocks``, ``fc_hidden``; ``brainclip_vae``: ``latent``, ``hidden``,
        ``pretrain_epochs``, ``kl_weight``.
    pretrain_embeddings : array of shape (n, dim), optional
        BrainCLIP-VAE: the unpaired target embeddings its decoder is pre-trained on (never test stimuli).
    vae_decoder : VAEDecoder, optional
        BrainCLIP-VAE: a decoder already pre-trained (:func:`pretrain_vae_decoder`), used frozen instead of
        pre-training one from ``pretrain_embeddings``; the V, T and VT decoders of one job share it.
    device : str or torch.device
    checkpoint_dir : path, optional
        One checkpoint per grid point, written every epoch; a rerun resumes from them.
    log : callable, optional

    Attributes
    ----------
    model_ : torch.nn.Module
        The selected fit.
    settings_ : TrainSettings
    selection_ : list of dict
        Per grid point: its settings, validation mean recall and training summary.
    """

    def __init__(self, kind, target, settings, val_fraction=0.15, seed=0, keys=(), architecture=None,
                 pretrain_embeddings=None, device="cpu", checkpoint_dir=None, log=None, split_keys=None,
                 vae_decoder=None):
        if kind not in DECODERS:
            raise ValueError(f"unknown contrastive decoder {kind!r}; known: {DECODERS}")
        if target not in (("V", "T", "VT") if kind != "mindreader" else ("V", "T")):
            raise ValueError(f"{kind}: unknown target {target!r}")
        if kind == "brainclip_vae" and pretrain_embeddings is None and vae_decoder is None:
            raise ValueError("brainclip_vae needs pretrain_embeddings (unpaired target embeddings, never test) or "
                             "a pre-trained vae_decoder")
        self.kind, self.target, self.settings = kind, target, list(settings)
        self.val_fraction, self.seed, self.keys = val_fraction, seed, tuple(keys)
        self.split_keys = self.keys if split_keys is None else tuple(split_keys)
        self.architecture = dict(architecture or {})
        self.pretrain_embeddings = pretrain_embeddings
        self.vae_decoder = vae_decoder
        self.device = torch.device(device)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.log = log

    def _targets(self, y, y_text):
        if self.kind == "mindreader":  # clamp outliers then unit norm (MR §2.2); one mapper per target
            thr = self.architecture.get("clamp", 1.5)
            return [clamp_normalize(y if self.target == "V" else y_text, thr)]
        return [y, y_text]

    def _build(self, n_in, dim, decoder):
        a = self.architecture
        if self.kind == "brainclip_linear":
            return LinearMap(n_in, dim)
        if self.kind == "brainclip_vae":
            return BrainCLIPVAE(n_in, decoder, int(a.get("latent", 32)))
        return MindReaderMapper(n_in, dim, int(a.get("hidden", 64)), int(a.get("n_blocks", 4)),
                                int(a.get("fc_hidden", 128)), int(a.get("stem_kernel", 4)),
                                int(a.get("stem_stride", 2)))

    def _weights(self, s: TrainSettings) -> TrainSettings:
        kw = dict(s.__dict__)
        if self.kind == "mindreader":
            kw.update(loss="mindreader")
        elif self.target == "V":
            kw.update(image_weight=1.0, text_weight=0.0)
        elif self.target == "T":
            kw.update(image_weight=0.0, text_weight=1.0)
        if self.kind == "brainclip_vae":
            kw.update(kl_weight=float(self.architecture.get("kl_weight", 1e-3)))
        return TrainSettings(**kw)

    def fit(self, x, y, y_text=None, ids=None) -> ContrastiveDecoder:
        """Fit on betas ``x`` (n, n_in), image targets ``y`` (n, dim) and text targets ``y_text``; ``ids`` are
        the rows' stimuli (validation split by stimulus; repeats are not negatives). On CPU on one thread
        (:func:`thread_invariant`)."""
        with thread_invariant(self.device):
            return self._fit(x, y, y_text, ids)

    def _fit(self, x, y, y_text, ids):
        dev = self.device
        x = torch.as_tensor(x, dtype=torch.float32, device=dev)
        y = torch.as_tensor(y, dtype=torch.float32, device=dev)
        y_text = y if y_text is None else torch.as_tensor(y_text, dtype=torch.float32, device=dev)
        ids = np.asarray(ids if ids is not None else np.arange(x.shape[0])).astype(str)
        val = validation_split(ids, self.val_fraction, self.seed, *self.split_keys)
        tr, va = np.flatnonzero(~val), np.flatnonzero(val)
        self.val_stimuli_ = np.unique(ids[va])
        targets = self._targets(y, y_text)
        decoder = self.vae_decoder
        if self.kind == "brainclip_vae" and decoder is None:
            decoder = pretrain_for(self.pretrain_embeddings, self.architecture, self.seed, self.keys, dev, self.log)

        cand_rows, cand_of = metrics.unique_candidates(np.arange(va.size), ids[va])
        # validation recall against each modality's candidates (Mind Reader: its own target only)
        cands = ([targets[0]] if self.kind == "mindreader" else
                 {"V": [y], "T": [y_text], "VT": [y, y_text]}[self.target])
        self.selection_, best = [], None
        for s in self.settings:
            s = self._weights(s)
            torch.manual_seed(torch_seed(self.seed, *self.keys, s.key(), "init"))
            model = self._build(x.shape[1], y.shape[1], decoder).to(dev)
            ckpt = None
            if self.checkpoint_dir is not None:
                self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                ckpt = self.checkpoint_dir / f"{self.target}_{s.key()}.pt"
            summary = train(model, x[tr], [t[tr] for t in targets], ids[tr], x[va], [t[va] for t in targets],
                            ids[va], s, torch_seed(self.seed, *self.keys, s.key(), "train"), ckpt, self.log)
            with torch.no_grad():
                pv = model(x[va])
                score = float(np.mean([mean_recall(pv, c[va][cand_rows], cand_of) for c in cands]))
            self.selection_.append({"settings": s.key(), "val_mean_recall": round(score, 6), **{
                k: summary[k] for k in ("best_epoch", "epochs_run", "best_val_loss", "seconds",
                                        "trials_per_second")}})
            if self.log is not None:
                self.log(f"{self.kind}/{self.target} {s.key()}: validation mean recall {score:.4f} "
                         f"(best epoch {summary['best_epoch']} of {summary['epochs_run']})")
            if best is None or score > best[0]:
                best = (score, model, s, summary)
        _, self.model_, self.settings_, self.summary_ = best
        return self

    def predict(self, x) -> torch.Tensor:
        """Embeddings of shape (n, dim) for betas ``x`` (n, n_in)."""
        with torch.no_grad(), thread_invariant(self.device):
            return self.model_(torch.as_tensor(x, dtype=torch.float32, device=self.device))
