"""torch.nn.functional kernels for the metric family."""
from __future__ import annotations

LOSS_PATHS: dict = {}
