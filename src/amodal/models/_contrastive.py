"""Contrastive decoders from betas into an aligned image–text space: BrainCLIP (linear and VAE; Liu et al. 2023)
and the Mind Reader mapper (Lin et al. 2022). See ``shared/notes/other-seeds.md`` §1–§2 for every size and value.

One training loop serves every decoder (:func:`train`): AdamW on shuffled mini-batches from a seeded generator,
validation loss after each epoch, early stopping, and a checkpoint after each epoch that a killed job resumes
from. :class:`ContrastiveDecoder` chooses hyper-parameters (temperature, loss weights, learning rate; epochs by early
stopping) on a validation split cut from the train split by stimulus, never on test *(BrainCLIP chose them on its
test set)*.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .. import metrics
from ..seeding import torch_seed

from ._families import CONTRASTIVE_FAMILIES
from ._networks import pretrain_for
from ._training import TrainSettings, thread_invariant, train, validation_split


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
        if kind not in CONTRASTIVE_FAMILIES:
            raise ValueError(f"unknown contrastive decoder {kind!r}; known: {tuple(CONTRASTIVE_FAMILIES)}")
        self.family = CONTRASTIVE_FAMILIES[kind]
        if target not in self.family.targets:
            raise ValueError(f"{kind}: unknown target {target!r}")
        if self.family.kl and pretrain_embeddings is None and vae_decoder is None:
            raise ValueError(f"{kind} needs pretrain_embeddings (unpaired target embeddings, never test) or "
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

    def _weights(self, s: TrainSettings) -> TrainSettings:
        return TrainSettings(**{**s.__dict__, **self.family.settings(self.target, self.architecture)})

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
        targets = self.family.prepare_targets(y, y_text, self.target, self.architecture)
        decoder = self.vae_decoder
        if self.family.kl and decoder is None:
            decoder = pretrain_for(self.pretrain_embeddings, self.architecture, self.seed, self.keys, dev, self.log)

        cand_rows, cand_of = metrics.unique_candidates(np.arange(va.size), ids[va])
        # validation recall against each modality's candidates (Mind Reader: its own target only)
        cands = self.family.candidates(targets, y, y_text, self.target)
        self.selection_, best = [], None
        for s in self.settings:
            s = self._weights(s)
            torch.manual_seed(torch_seed(self.seed, *self.keys, s.key(), "init"))
            model = self.family.build(x.shape[1], y.shape[1], decoder, self.architecture).to(dev)
            ckpt = None
            if self.checkpoint_dir is not None:
                self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
                ckpt = self.checkpoint_dir / f"{self.target}_{s.key()}.pt"
            summary = train(model, x[tr], [t[tr] for t in targets], ids[tr], x[va], [t[va] for t in targets],
                            ids[va], s, torch_seed(self.seed, *self.keys, s.key(), "train"), ckpt, self.log)
            with torch.no_grad():
                pv = model(x[va])
                ranks = [metrics.retrieval_ranks(pv, c[va][cand_rows], False, cand_of) for c in cands]
                score = float(np.mean([metrics.mean_recall(r) for r in ranks]))
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
