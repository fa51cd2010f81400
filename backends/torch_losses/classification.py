"""torch.nn.functional kernels for the classification family."""
from __future__ import annotations

LOSS_PATHS: dict = {}
