"""Models: decoders (betas to features) and encoders (features to betas) that fit on train rows and predict rows.

Every model follows :class:`Decoder` (``fit(x, y)``, ``predict(x)``). :class:`RidgeDecoder` is ridge without
intercept with alpha chosen by cross-validation (METHOD §3); :func:`ridge_cv` and :func:`ridge_fit` are its
functional core, :func:`kfold` its folds.
:class:`ContrastiveDecoder` decodes into an aligned image–text space with contrastive losses (BrainCLIP-Linear,
BrainCLIP-VAE, the Mind Reader mapper), trained by :func:`train` with early stopping and checkpoints.
"""

from ._base import Decoder
from ._contrastive import (DECODERS, BrainCLIPVAE, ContrastiveDecoder, LinearMap, MindReaderMapper, TrainSettings,
                           clamp_normalize, grid, info_nce, mean_recall, pretrain_for, thread_invariant, train,
                           validation_split)
from ._ridge import RidgeDecoder, kfold, ridge_cv, ridge_fit

__all__ = ["DECODERS", "BrainCLIPVAE", "clamp_normalize", "ContrastiveDecoder", "Decoder", "grid", "info_nce", "kfold",
           "LinearMap", "mean_recall", "MindReaderMapper", "pretrain_for", "ridge_cv", "ridge_fit", "RidgeDecoder",
           "thread_invariant", "train", "TrainSettings", "validation_split"]
