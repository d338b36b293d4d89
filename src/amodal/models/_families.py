"""The registry of contrastive decoder families: one entry per family, holding what sets it apart (its network,
its loss, the targets a job fits, how its targets are prepared and validated, its paper-size architecture), so that
:class:`amodal.models.ContrastiveDecoder` and the evaluation dispatch on the entry, never on the family's name.
Adding a family is adding an entry (as himalaya's ``RIDGE_SOLVERS`` or amodal's feature backends)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from ._losses import clamp_normalize
from ._networks import BrainCLIPVAE, LinearMap, MindReaderMapper


@dataclass(frozen=True)
class ContrastiveFamily:
    """One decoder family.

    Attributes
    ----------
    name : str
    targets : tuple of str
        The decoders one job fits: ``V`` (fMRI→image), ``T`` (fMRI→text), ``VT`` (both terms, BrainCLIP).
    build : callable
        ``build(n_in, dim, vae_decoder, architecture) -> nn.Module``.
    loss : str
        The loss of :func:`amodal.models.train`: ``infonce`` (BrainCLIP's α·image + β·text InfoNCE) or
        ``mindreader`` (MSE + cosine + InfoNCE on its own target).
    own_target : bool
        One mapper per target, trained on that target only, clamped and normalised (Mind Reader's f_img, f_cap),
        and validated against it; otherwise every decoder sees both targets and is validated on its terms.
    kl : bool
        The network is variational: its KL term joins the loss (BrainCLIP-VAE), and its decoder is pre-trained.
    paper_architecture : dict
        The paper's architecture, for ``size: paper``.
    """

    name: str
    targets: tuple
    build: Callable[[int, int, object, dict], nn.Module]
    loss: str = "infonce"
    own_target: bool = False
    kl: bool = False
    paper_architecture: dict = field(default_factory=dict)

    def prepare_targets(self, y, y_text, target: str, architecture: dict) -> list:
        """The targets the network trains on: ``[image, text]``, or Mind Reader's one clamped, normalised target."""
        if self.own_target:  # clamp outliers then unit norm (MR §2.2); one mapper per target
            return [clamp_normalize(y if target == "V" else y_text, architecture.get("clamp", 1.5))]
        return [y, y_text]

    def candidates(self, targets: list, y, y_text, target: str) -> list:
        """What validation recall is measured against (the mean over the list wins the grid)."""
        if self.own_target:
            return [targets[0]]
        return {"V": [y], "T": [y_text], "VT": [y, y_text]}[target]

    def settings(self, target: str, architecture: dict) -> dict:
        """The fields of a grid point that this family and target fix."""
        out = {}
        if self.loss == "mindreader":
            out["loss"] = "mindreader"
        elif target == "V":
            out.update(image_weight=1.0, text_weight=0.0)
        elif target == "T":
            out.update(image_weight=0.0, text_weight=1.0)
        if self.kl:
            out["kl_weight"] = float(architecture.get("kl_weight", 1e-3))
        return out


def _mindreader(n_in, dim, decoder, a):
    return MindReaderMapper(n_in, dim, int(a.get("hidden", 64)), int(a.get("n_blocks", 4)),
                            int(a.get("fc_hidden", 128)), int(a.get("stem_kernel", 4)), int(a.get("stem_stride", 2)))


CONTRASTIVE_FAMILIES = {f.name: f for f in (
    ContrastiveFamily("brainclip_linear", ("V", "T", "VT"), lambda n_in, dim, decoder, a: LinearMap(n_in, dim)),
    ContrastiveFamily("brainclip_vae", ("V", "T", "VT"),
                      lambda n_in, dim, decoder, a: BrainCLIPVAE(n_in, decoder, int(a.get("latent", 32))), kl=True),
    ContrastiveFamily("mindreader", ("V", "T"), _mindreader, loss="mindreader", own_target=True,
                      # MR §2.2 / the code's fmri_clip_res defaults: a GPU job
                      paper_architecture={"hidden": 64, "n_blocks": 4, "fc_hidden": 128, "stem_kernel": 4,
                                          "stem_stride": 2}),
)}
"""Every contrastive family by name (ridge into the same space is not one: :func:`amodal.evaluation.fit_family`
fits it with :class:`amodal.models.RidgeDecoder`)."""
