"""torch.nn.functional kernels for the sequence family."""
from __future__ import annotations

LOSS_PATHS: dict = {}
