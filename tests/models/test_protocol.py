"""Every model follows the Decoder protocol; RidgeDecoder is ridge_cv behind it."""
import numpy as np
import torch

from amodal.models import Decoder, RidgeDecoder, kfold, ridge_cv


def test_ridge_decoder_is_a_decoder_and_equals_ridge_cv():
    gen = np.random.default_rng(0)
    x, y = gen.standard_normal((60, 15)), gen.standard_normal((60, 4))
    folds = kfold(60, 5, 1)
    dec = RidgeDecoder([0.1, 10.0, 1000.0], folds, scorer="r2")
    assert isinstance(dec, Decoder)
    assert dec.fit(x, y) is dec
    ref = ridge_cv(x, y, [0.1, 10.0, 1000.0], folds, scorer="r2")
    assert dec.alpha_ == ref.alpha
    np.testing.assert_array_equal(dec.cv_scores_, ref.cv_scores)
    xt = torch.as_tensor(gen.standard_normal((5, 15)))
    torch.testing.assert_close(dec.predict(xt), ref.predict(xt), rtol=0, atol=0)
