"""Models: decoders (betas to features) and encoders (features to betas) that fit on train rows and predict rows.

Every model follows :class:`Decoder` (``fit(x, y)``, ``predict(x)``). :class:`RidgeDecoder` is ridge without
intercept with alpha chosen by cross-validation (METHOD §3); :func:`ridge_cv` and :func:`ridge_fit` are its
functional core, :func:`kfold` its folds.
"""

from ._base import Decoder
from ._ridge import RidgeCVResult, RidgeDecoder, kfold, ridge_cv, ridge_fit, score_predictions

__all__ = ["Decoder", "RidgeCVResult", "RidgeDecoder", "kfold", "ridge_cv", "ridge_fit", "score_predictions"]
