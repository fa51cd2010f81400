"""torch.nn.functional kernels for the margin family."""
from __future__ import annotations

LOSS_PATHS: dict = {}
