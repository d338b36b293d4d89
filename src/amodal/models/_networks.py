"""The contrastive decoders' networks: BrainCLIP's linear map and VAE (with its pre-trained decoder) and the Mind
Reader mapper."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..seeding import torch_seed
from ._losses import kl_normal


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
