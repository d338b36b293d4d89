"""Models: decoders (betas to features) and encoders (features to betas) that fit on train rows and predict rows.

Every model follows :class:`Decoder` (``fit(x, y)``, ``predict(x)``). :class:`RidgeDecoder` is ridge without
intercept with alpha chosen by cross-validation (METHOD §3); :func:`ridge_cv` and :func:`ridge_fit` are its
functional core, :func:`kfold` its folds.
:class:`ContrastiveDecoder` decodes into an aligned image–text space with contrastive losses (BrainCLIP-Linear,
BrainCLIP-VAE, the Mind Reader mapper), trained by :func:`train` with early stopping and checkpoints.
"""

from ._base import Decoder
from ._contrastive import ContrastiveDecoder
from ._families import CONTRASTIVE_FAMILIES, ContrastiveFamily
from ._losses import clamp_normalize, info_nce
from ._networks import BrainCLIPVAE, LinearMap, MindReaderMapper, VAEDecoder, pretrain_for
from ._training import TrainSettings, grid, thread_invariant, train, validation_split
from ._ridge import RidgeDecoder, kfold, ridge_cv, ridge_fit

__all__ = ["CONTRASTIVE_FAMILIES", "BrainCLIPVAE", "clamp_normalize", "ContrastiveDecoder", "ContrastiveFamily",
           "Decoder", "grid", "info_nce", "kfold", "LinearMap", "MindReaderMapper", "pretrain_for", "ridge_cv",
           "ridge_fit", "RidgeDecoder", "thread_invariant", "train", "TrainSettings", "VAEDecoder", "validation_split"]
