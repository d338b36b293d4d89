"""The Universal Brain Encoder (Beliy, Wasserman, Zalcher, Irani 2024, "The Wisdom of a Crowd of Brains").

One image-to-fMRI network shared by every subject; what is specific to a vertex is only its learned embedding
``e_v`` (E numbers). For an image with multi-layer patch tokens (:mod:`amodal.features._patches`), vertex v's
prediction is built as in the paper (§3.2) and its public code (notes §3.2):

1. per layer l: ``x_l = Linear(LayerNorm(tokens_l))`` (C channels per token);
2. spatial attention per layer, one head, softmax over the tokens with **no** 1/√d scaling:
   ``q = Linear_l(e_v)``, ``k = Linear_l(x_l) + pos`` (a learned positional term shared across layers),
   ``a_l = x_l · softmax(k q)`` (C numbers);
3. a per-layer residual MLP: ``a_l + MLP(Dropout(LayerNorm(a_l)))`` (C → 4C → C, GELU);
4. a functional readout whose weights come from the vertex embedding: ``w_v = e_v K`` (K of shape E × L·C) and
   ``ŷ_v = Σ_f a_f w_{v,f}`` (no softmax, no bias).

The network does not depend on how many vertices a subject has: subjects are rows of embedding tables.
Loss: ``MSE − 0.1 · cos`` with the cosine per image across its sampled vertices (:func:`ube_loss`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import metrics
from ..seeding import torch_seed


class UniversalBrainEncoder(nn.Module):
    """The Universal Brain Encoder.

    Parameters
    ----------
    n_layers : int
        L, the layers of the patch features.
    n_tokens : int
        P, tokens per layer (the image-wide token and the patches).
    in_channels : int
        Channels of each token in the patch features.
    n_vertices : dict of str to int
        Vertices of each subject (each gets its own embedding table).
    channels : int
        C (128 in the paper's code).
    embedding : int
        E (256 in the paper).
    dropout : float
        Before each per-layer MLP (0.25 in the code).
    """

    def __init__(self, n_layers: int, n_tokens: int, in_channels: int, n_vertices: dict[str, int],
                 channels: int = 128, embedding: int = 256, dropout: float = 0.25):
        super().__init__()
        self.n_layers, self.channels, self.embedding = n_layers, channels, embedding
        self.project = nn.ModuleList(nn.Sequential(nn.LayerNorm(in_channels), nn.Linear(in_channels, channels))
                                     for _ in range(n_layers))
        self.query = nn.ModuleList(nn.Linear(embedding, embedding) for _ in range(n_layers))
        self.key = nn.ModuleList(nn.Linear(channels, embedding) for _ in range(n_layers))
        self.pos = nn.Parameter(torch.zeros(n_tokens, embedding))
        nn.init.normal_(self.pos, std=0.02)
        self.mlp_norm = nn.ModuleList(nn.LayerNorm(channels) for _ in range(n_layers))
        self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(channels, 4 * channels), nn.GELU(),
                                               nn.Linear(4 * channels, channels)) for _ in range(n_layers))
        self.dropout = nn.Dropout(dropout)
        self.readout = nn.Parameter(torch.empty(embedding, n_layers * channels))
        nn.init.normal_(self.readout, std=1.0 / math.sqrt(embedding))
        self.vertex_embeddings = nn.ParameterDict()
        for subject, n in n_vertices.items():
            self.add_subject(subject, n)

    def add_subject(self, subject: str, n_vertices: int) -> None:
        """A new (or re-initialised) embedding table for ``subject``: N(0, (0.1 / (2√E))²) as the paper's code."""
        sd = 0.1 / (2 * math.sqrt(self.embedding))
        self.vertex_embeddings[subject] = nn.Parameter(
            torch.randn(n_vertices, self.embedding, device=self.readout.device) * sd)

    def attention(self, tokens: torch.Tensor, subject: str,
                  vertices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Spatial attention of the given vertices over each layer's tokens, and the projected tokens.

        Parameters
        ----------
        tokens : tensor of shape (B, L, P, in_channels)
        subject : str
        vertices : long tensor of shape (B, V) or (V,)
            Vertex indices of ``subject`` for each image (or the same for every image).

        Returns
        -------
        attn : tensor of shape (B, V, L, P)
            Softmax over P.
        x : tensor of shape (B, L, P, C)
        """
        attn, x = self._attention(tokens, self._embeddings(tokens, subject, vertices))
        return attn.transpose(1, 2), x

    def _embeddings(self, tokens, subject, vertices):
        if vertices.dim() == 1:
            vertices = vertices.expand(tokens.shape[0], -1)
        return self.vertex_embeddings[subject][vertices]  # (B, V, E)

    def _attention(self, tokens, e):  # -> attention (B, L, V, P), projected tokens (B, L, P, C)
        # Layer before vertex in every (B, L, V, .) tensor: the two attention products are then plain batched
        # matrix products, with no permuted copy of the (B, L, V, P) attention (a CPU step 1.08x as fast as the
        # einsum layout with envs/malloc.env, 1.3x without it: bench/encoding.py).
        x = torch.stack([proj(tokens[:, k]) for k, proj in enumerate(self.project)], 1)  # (B, L, P, C)
        keys = torch.stack([key(x[:, k]) for k, key in enumerate(self.key)], 1) + self.pos  # (B, L, P, E)
        queries = torch.stack([q(e) for q in self.query], 1)  # (B, L, V, E)
        logits = queries @ keys.transpose(-1, -2)  # no 1/sqrt(E) scaling (the paper's code)
        return logits.softmax(-1), x

    def forward(self, tokens: torch.Tensor, subject: str, vertices: torch.Tensor) -> torch.Tensor:
        """Predicted responses of ``vertices`` of ``subject`` to each image.

        Parameters
        ----------
        tokens : tensor of shape (B, L, P, in_channels)
        subject : str
        vertices : long tensor of shape (B, V) or (V,)

        Returns
        -------
        tensor of shape (B, V)
        """
        e = self._embeddings(tokens, subject, vertices)
        attn, x = self._attention(tokens, e)
        pooled = attn @ x  # (B, L, V, C)
        weights = (e @ self.readout).unflatten(-1, (self.n_layers, self.channels))  # (B, V, L, C)
        out = 0.0
        for k in range(self.n_layers):
            a = pooled[:, k] + self.mlp[k](self.dropout(self.mlp_norm[k](pooled[:, k])))  # (B, V, C)
            out = out + (a * weights[:, :, k]).sum(-1)
        return out


def ube_loss(pred: torch.Tensor, target: torch.Tensor, cos_weight: float = 0.1) -> torch.Tensor:
    """``MSE − cos_weight · mean cos``, the cosine per image across its vertices (the paper's code).

    Parameters
    ----------
    pred, target : tensors of shape (B, V)
    cos_weight : float

    Returns
    -------
    scalar tensor
        −cos_weight at a perfect prediction.
    """
    mse = torch.nn.functional.mse_loss(pred, target)
    cos = torch.nn.functional.cosine_similarity(pred, target, dim=1).mean()
    return mse - cos_weight * cos


def _val_r(model, tokens, subject, resp, vertices):
    """Pearson r of the validation vertices (0 where constant: the early-stopping quantile must not see NaN)."""
    pred = predict(model, tokens, subject, resp.shape[1], vertices=vertices)
    return metrics.pearson_r(pred, resp if vertices is None else resp[:, vertices], constant=0.0)


@torch.no_grad()
def predict(model: UniversalBrainEncoder, tokens: torch.Tensor, subject: str, n_vertices: int,
            batch_images: int = 32, batch_vertices: int = 4096, vertices: torch.Tensor | None = None) -> torch.Tensor:
    """Predictions for every vertex of ``subject`` (or only ``vertices``) and every image, in chunks.

    Parameters
    ----------
    model : UniversalBrainEncoder
    tokens : tensor of shape (n_images, L, P, C)
    subject : str
    n_vertices : int
        The subject's vertices.
    batch_images, batch_vertices : int
        Chunk sizes.
    vertices : long tensor of shape (n,), optional
        Only these vertices.

    Returns
    -------
    tensor of shape (n_images, n_vertices or n), on the CPU
    """
    was = model.training
    model.eval()
    dev = model.readout.device
    verts = torch.arange(n_vertices) if vertices is None else vertices
    rows = []
    for i in range(0, tokens.shape[0], batch_images):
        t = tokens[i: i + batch_images].to(dev)
        rows.append(torch.cat([model(t, subject, verts[j: j + batch_vertices].to(dev))
                               for j in range(0, verts.numel(), batch_vertices)], 1).cpu())
    model.train(was)
    return torch.cat(rows)


def train_ube(model: UniversalBrainEncoder, tokens: torch.Tensor, train: dict, val: dict, *, epochs: int = 30,
              batch_images: int = 32, n_sampled: int = 5000, lr: float = 1e-3, cos_weight: float = 0.1,
              patience: int = 4, seed: int = 0, parameters=None, val_vertices: int | None = None, checkpoint=None,
              log=print) -> dict:
    """Train the encoder as the paper's code does, keeping the best checkpoint by validation.

    Each step takes ``batch_images`` (subject, image) pairs, drawn without replacement from all subjects' train
    images within an epoch, and for each image ``n_sampled`` vertices of its subject drawn uniformly **with
    replacement**; Adam (amsgrad) at ``lr``; after each epoch, the 75th percentile over vertices of the validation
    Pearson r (mean over subjects) drives ReduceLROnPlateau (mode max, factor 0.1, ``patience``, absolute threshold
    0.003); training stops when the learning rate falls below 1e-7. The weights with the best validation score are
    loaded back at the end.

    Parameters
    ----------
    model : UniversalBrainEncoder
    tokens : tensor of shape (n_stimuli, L, P, C)
        Patch features of every stimulus (indexed by the image indices below).
    train, val : dict
        ``{subject: (image indices (n,), responses (n, n_vertices))}`` as tensors.
    epochs, batch_images, n_sampled, lr, cos_weight, patience
        As above.
    seed : int
        Seeds the draws of images and vertices (a torch Generator), so a run is reproducible.
    parameters : iterable of Parameter, optional
        What to train (default: everything). Transfer trains only a new subject's embeddings.
    val_vertices : int, optional
        Score validation on this many vertices of each subject, drawn once from ``seed`` (default: all). Fewer
        keep the per-epoch validation cheap on CPU; the 75th percentile of r is estimated from them.
    checkpoint : path, optional
        Written after every epoch (weights, optimiser, scheduler, generator, history); when it exists at the start,
        training resumes from it.
    log : callable
        One line per epoch.

    Returns
    -------
    dict
        ``history`` (per epoch: train loss, validation score, learning rate), ``best_epoch`` and ``best_score``.
    """
    import copy
    from pathlib import Path

    dev = model.readout.device
    params = list(model.parameters()) if parameters is None else list(parameters)
    opt = torch.optim.Adam(params, lr=lr, amsgrad=True)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=patience,
                                                       threshold=0.003, threshold_mode="abs")
    gen = torch.Generator().manual_seed(int(seed))
    pairs = torch.cat([torch.stack([torch.full((len(idx),), k), torch.arange(len(idx))], 1)
                       for k, (idx, _) in enumerate(train.values())])
    subjects = list(train)
    val_sel = {}
    for s, (_, resp) in val.items():
        n = resp.shape[1]
        if val_vertices is None or val_vertices >= n:
            val_sel[s] = None
        else:  # the same vertices every epoch, drawn apart from the training draws
            gen_val = torch.Generator().manual_seed(torch_seed(seed, "ube", "validation vertices", s))
            pick = torch.randperm(n, generator=gen_val)[:val_vertices]
            val_sel[s] = pick.sort().values
    state = {"history": [], "best_epoch": -1, "best_score": -math.inf, "best": None, "epoch": 0}
    if checkpoint is not None and Path(checkpoint).exists():
        saved = torch.load(checkpoint, map_location=dev, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        gen.set_state(saved["generator"])
        state = saved["state"]
        log(f"resumed from {checkpoint} after epoch {state['epoch']}")
    for epoch in range(state["epoch"], epochs):
        model.train()
        order = pairs[torch.randperm(len(pairs), generator=gen)]
        losses = []
        for start in range(0, len(order), batch_images):
            batch = order[start: start + batch_images]
            opt.zero_grad()
            total = 0.0
            for k in batch[:, 0].unique().tolist():
                rows = batch[batch[:, 0] == k, 1]
                idx, resp = train[subjects[k]]
                verts = torch.randint(0, resp.shape[1], (len(rows), n_sampled), generator=gen)
                target = torch.gather(resp[rows], 1, verts).to(dev)
                pred = model(tokens[idx[rows]].to(dev), subjects[k], verts.to(dev))
                loss = ube_loss(pred, target, cos_weight) * len(rows) / len(batch)
                loss.backward()
                total += float(loss.detach())
            opt.step()
            losses.append(total)
        score = sum(float(torch.quantile(_val_r(model, tokens[idx], s, resp, val_sel[s]), 0.75))
                    for s, (idx, resp) in val.items()) / len(val)
        sched.step(score)
        lr_now = opt.param_groups[0]["lr"]
        state["history"].append({"epoch": epoch + 1, "loss": sum(losses) / len(losses), "val_r75": score, "lr": lr_now})
        if score > state["best_score"]:
            state.update(best_score=score, best_epoch=epoch + 1, best=copy.deepcopy(model.state_dict()))
        state["epoch"] = epoch + 1
        log(f"epoch {epoch + 1}/{epochs}: loss {sum(losses) / len(losses):.4f}, validation r75 {score:.4f}, "
            f"lr {lr_now:.1e}")
        if checkpoint is not None:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "generator": gen.get_state(), "state": state}, checkpoint)
        if lr_now < 1e-7:
            break
    if state["best"] is not None:
        model.load_state_dict(state["best"])
    return {k: state[k] for k in ("history", "best_epoch", "best_score")}
