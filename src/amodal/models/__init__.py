"""Models: decoders (betas to features) and encoders (features to betas) that fit on train rows and predict rows.

Every model follows :class:`Decoder` (``fit(x, y)``, ``predict(x)``). :class:`RidgeDecoder` is ridge without
intercept with alpha chosen by cross-validation (METHOD §3); :func:`ridge_cv` and :func:`ridge_fit` are its
functional core, :func:`kfold` its folds.
:class:`ContrastiveDecoder` decodes into an aligned image–text space with contrastive losses (BrainCLIP-Linear,
BrainCLIP-VAE, the Mind Reader mapper), trained by :func:`train` with early stopping and checkpoints.
"""

from ._base import Decoder
from ._contrastive import (BRAINCLIP_CONDITIONS, DECODERS, BrainCLIPVAE, ContrastiveDecoder, LinearMap,
                           MindReaderMapper, TrainSettings, clamp_normalize, grid, info_nce, kl_normal, mean_recall,
                           mse_cos, pretrain_for, pretrain_vae_decoder, thread_invariant, train,
                           validation_split)
from ._ridge import RidgeCVResult, RidgeDecoder, kfold, ridge_cv, ridge_fit, score_predictions

__all__ = ["BRAINCLIP_CONDITIONS", "DECODERS", "BrainCLIPVAE", "ContrastiveDecoder", "LinearMap", "MindReaderMapper",
           "TrainSettings", "clamp_normalize", "grid", "info_nce", "kl_normal", "mean_recall", "mse_cos",
           "pretrain_for", "pretrain_vae_decoder", "thread_invariant", "train", "validation_split", "Decoder", "RidgeCVResult", "RidgeDecoder", "kfold", "ridge_cv", "ridge_fit", "score_predictions"]
