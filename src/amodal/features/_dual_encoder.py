"""An aligned image–text space that works offline *(ours)*: a small dual encoder trained with symmetric InfoNCE on
scenes that the scene grammar draws afresh.

BrainCLIP and Mind Reader decode fMRI into CLIP space. On users' machines that is CLIP by model id (the
``hf_clip`` and ``open_clip`` backends). No CLIP weights exist offline, so the embedded default trains its own
CLIP-like pair of towers on the synthetic world: an image tower (a small convolutional network on the pixels) and a
text tower (a bag of words and word bigrams followed by a small MLP), trained CLIP-style (learned temperature,
symmetric InfoNCE) on scenes drawn from :mod:`amodal.data.synthetic` with their own random stream. A drawn scene
whose caption is one of the experiment's stimuli is dropped, so the towers never see a stimulus. Its image↔text
retrieval on held-out drawn scenes is measured and stored with the features.

Like CLIP's ``get_image_features``, the stored embeddings are the towers' raw (unnormalised) outputs.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from ..seeding import rng, torch_seed
from ._util import backend_doc

WORD = re.compile(r"[a-z]+")
PROMPT_TEMPLATES = ("a {}.", "a photo of a {}.", "a picture of a {}.", "there is a {}.", "this scene shows a {}.",
                    "we see a {}.", "a small {}.", "a large {}.", "a {} in the middle.", "a {} on the left.",
                    "a {} on the right.", "a {} at the top.", "a {} at the bottom.")
"""Zero-shot prompts (after BrainCLIP App. A.3, in the words of the synthetic captions): a class's embedding is the
normalised mean of the text embeddings of every template filled with the class name."""

DEFAULTS = {"dim": 64, "image_px": 32, "n_scenes": 4000, "n_heldout": 500, "epochs": 10, "batch_size": 256,
            "lr": 2e-3, "weight_decay": 1e-4}


def tokens(text: str) -> list[str]:
    """Lower-case words and word bigrams of ``text`` (the text tower's input)."""
    words = WORD.findall(text.lower())
    return words + [a + "_" + b for a, b in zip(words[:-1], words[1:])]


class Vocabulary:
    """Token → index, built from training captions; tokens never seen in training are dropped at encoding."""

    def __init__(self, texts):
        self.index = {t: i for i, t in enumerate(sorted({t for s in texts for t in tokens(s)}))}

    def __len__(self):
        return len(self.index)

    def encode(self, texts) -> tuple[torch.Tensor, torch.Tensor]:
        """Flat token indices and per-text offsets for :class:`torch.nn.EmbeddingBag`."""
        flat, offsets = [], []
        for s in texts:
            offsets.append(len(flat))
            flat += [self.index[t] for t in tokens(s) if t in self.index]
        return torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)


class DualEncoder(nn.Module):
    """Image tower (3 conv layers, the first strided, on ``image_px`` pixels, then 2 linear layers) and text
    tower (mean of token embeddings, then 2 linear layers), both into ``dim`` dimensions, with CLIP's learned
    logit scale."""

    def __init__(self, n_vocab: int, dim: int = 64, image_px: int = 32):
        super().__init__()
        side = image_px // 8
        self.image = nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * side * side, 256), nn.ReLU(), nn.Linear(256, dim))
        self.bag = nn.EmbeddingBag(max(n_vocab, 1), 128, mode="mean")
        self.text = nn.Sequential(nn.ReLU(), nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Embeddings of shape (n, dim) for ``pixels`` of shape (n, 3, px, px) in [0, 1]."""
        return self.image(pixels)

    def encode_text(self, flat: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        """Embeddings of shape (n, dim) for texts encoded by :meth:`Vocabulary.encode`."""
        return self.text(self.bag(flat, offsets))


def pixels(images, px: int) -> torch.Tensor:
    """PIL images as a float tensor (n, 3, px, px) in [0, 1], box-downsampled."""
    arr = np.stack([np.asarray(im.convert("RGB").resize((px, px), Image.Resampling.BOX)) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div_(255.0)


def _draw_scenes(seed: int, n: int, exclude: set[str], image_size: int):
    from ..data.synthetic import caption, render, sample_scene

    gen = rng(seed, "dual-encoder", "scenes")
    caps, imgs = [], []
    while len(caps) < n:
        scene = sample_scene(gen)
        cap = caption(scene)
        if cap in exclude:  # never train on (or hold out) an experiment's stimulus
            continue
        caps.append(cap)
        imgs.append(render(scene, image_size))
    return caps, imgs


def retrieval(a: torch.Tensor, b: torch.Tensor, ks=(1, 5, 10)) -> dict[str, float]:
    """Recall@k of row i of ``b`` among all rows of ``b`` for query row i of ``a`` (cosine), in both directions.

    Returns
    -------
    dict
        ``a2b_r@k`` and ``b2a_r@k`` for every k, and the chance level ``chance_r@1``.
    """
    sim = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    out = {}
    for name, s in (("a2b", sim), ("b2a", sim.T)):
        rank = (s >= s.diag()[:, None]).sum(1)
        for k in ks:
            out[f"{name}_r@{k}"] = float((rank <= k).double().mean())
    out["chance_r@1"] = 1.0 / a.shape[0]
    return out


def train_dual_encoder(seed: int, exclude_captions=(), image_size: int = 128, log=print, **options):
    """Train the dual encoder on freshly drawn scenes and measure its retrieval on held-out drawn scenes.

    Parameters
    ----------
    seed : int
        The master seed (stream ``("dual-encoder", ...)``).
    exclude_captions : iterable of str
        Captions of the experiment's stimuli; scenes with these captions are never drawn.
    image_size : int
        Pixels of the rendered scenes before downsampling (as the stimuli are rendered).
    log : callable
    **options
        Overrides of :data:`DEFAULTS` (``dim``, ``image_px``, ``n_scenes``, ``n_heldout``, ``epochs``,
        ``batch_size``, ``lr``, ``weight_decay``).

    Returns
    -------
    model : DualEncoder
        In eval mode, on CPU.
    vocab : Vocabulary
    report : dict
        The options and the held-out retrieval (image→text ``i2t_r@k``, text→image ``t2i_r@k``).
    """
    opt = {**DEFAULTS, **{k: v for k, v in options.items() if k in DEFAULTS}}
    n_total = int(opt["n_scenes"]) + int(opt["n_heldout"])
    caps, imgs = _draw_scenes(seed, n_total, set(exclude_captions), image_size)
    n_tr = int(opt["n_scenes"])
    vocab = Vocabulary(caps[:n_tr])
    torch.manual_seed(torch_seed(seed, "dual-encoder", "init"))
    model = DualEncoder(len(vocab), int(opt["dim"]), int(opt["image_px"]))
    x_img = pixels(imgs, int(opt["image_px"]))
    optim = torch.optim.AdamW(model.parameters(), lr=float(opt["lr"]), weight_decay=float(opt["weight_decay"]))
    gen = torch.Generator().manual_seed(torch_seed(seed, "dual-encoder", "batches"))
    bs = int(opt["batch_size"])
    labels = torch.arange(bs)
    for epoch in range(int(opt["epochs"])):
        model.train()
        order = torch.randperm(n_tr, generator=gen)
        total, n_batches = 0.0, 0
        for k in range(0, n_tr - bs + 1, bs):  # full batches only: InfoNCE depends on the batch size
            idx = order[k: k + bs]
            flat, offsets = vocab.encode([caps[i] for i in idx.tolist()])
            zi = F.normalize(model.encode_image(x_img[idx]), dim=1)
            zt = F.normalize(model.encode_text(flat, offsets), dim=1)
            logits = model.logit_scale.exp() * zi @ zt.T
            loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
            optim.zero_grad()
            loss.backward()
            optim.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))  # as CLIP
            total += float(loss.detach())
            n_batches += 1
        log(f"dual encoder epoch {epoch + 1}/{opt['epochs']}: InfoNCE {total / max(n_batches, 1):.3f} "
            f"(log batch = {math.log(bs):.3f} at chance)")
    model.eval()
    with torch.no_grad():
        flat, offsets = vocab.encode(caps[n_tr:])
        held = retrieval(model.encode_image(x_img[n_tr:]), model.encode_text(flat, offsets))
    report = {**opt, "n_vocab": len(vocab), "n_excluded_captions": len(set(exclude_captions)),
              "heldout": {k.replace("a2b", "i2t").replace("b2a", "t2i"): round(v, 4) for k, v in held.items()}}
    log(f"dual encoder held-out retrieval over {opt['n_heldout']} drawn scenes: {report['heldout']}")
    return model, vocab, report


def class_embeddings(model: DualEncoder, vocab: Vocabulary, classes, templates=PROMPT_TEMPLATES) -> np.ndarray:
    """Zero-shot class weights: per class, the normalised mean of the normalised text embeddings of every
    template filled with the class name (BrainCLIP §4.2).

    Parameters
    ----------
    model : DualEncoder
    vocab : Vocabulary
    classes : sequence of str
    templates : sequence of str
        Each with one ``{}`` for the class name.

    Returns
    -------
    float32 array of shape (n_classes, dim)
    """
    out = []
    with torch.no_grad():
        for c in classes:
            flat, offsets = vocab.encode([t.format(c) for t in templates])
            z = F.normalize(model.encode_text(flat, offsets), dim=1).mean(0)
            out.append(F.normalize(z, dim=0))
    return torch.stack(out).numpy().astype(np.float32)


@backend_doc(
    spec="The model definition: ``seed`` (set by :func:`amodal.features.extract`) and any of :data:`DEFAULTS`.",
    sets="``vision`` and ``lang`` arrays of shape (n_stimuli, dim).",
    attrs="The training report, and ``_extra_vars`` holding the zero-shot class embeddings.",
    device="Unused: the towers are small and train on CPU, so the space is the same on every machine.")
def extract_dual_encoder(spec, captions, image_paths, device, batch_size, log):
    """The ``dual_encoder`` backend: train the offline dual encoder (:func:`train_dual_encoder`), then embed every
    stimulus's image (``vision``) and caption (``lang``), and the zero-shot classes of the synthetic world."""
    from ..data.synthetic import CATEGORIES

    images = [Image.open(p).convert("RGB") for p in image_paths]
    size = images[0].size[0] if images else 128
    model, vocab, report = train_dual_encoder(int(spec["seed"]), exclude_captions=captions, image_size=size,
                                              log=log, **{k: v for k, v in spec.items() if k in DEFAULTS})
    with torch.no_grad():
        px = int(report["image_px"])
        vision = torch.cat([model.encode_image(pixels(images[k: k + 256], px))
                            for k in range(0, len(images), 256)]).numpy()
        flat, offsets = vocab.encode(list(captions))
        lang = model.encode_text(flat, offsets).numpy()
    classes = list(CATEGORIES)
    attrs = {"training": str(report), "heldout_retrieval": str(report["heldout"]),
             "_extra_vars": {"class_embeddings": (("class", "dim_lang"), class_embeddings(model, vocab, classes),
                                                  {"class": np.asarray(classes)})}}
    return {"vision": vision, "lang": lang}, attrs
