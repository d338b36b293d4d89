"""The protocol every decoder and encoder of amodal follows: fit on train rows, predict rows."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Decoder(Protocol):
    """A map from one row space to another, fitted on train rows.

    Decoders map betas (n_rows, n_vertices) to feature targets (n_rows, n_dims); encoders map features to betas.
    Fitted attributes end in ``_`` (scikit-learn's convention). Implementations: :class:`RidgeDecoder`.
    """

    def fit(self, x: Any, y: Any) -> Decoder:
        """Fit on ``x`` of shape (n_rows, n_inputs) and ``y`` of shape (n_rows, n_outputs); return self."""
        ...

    def predict(self, x: Any) -> Any:
        """Predictions of shape (n_rows, n_outputs) for ``x`` of shape (n_rows, n_inputs)."""
        ...
