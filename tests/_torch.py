"""Torch helpers of the tests that compare with torch-based peers (skipped without torch)."""
from __future__ import annotations

import numpy as np
import pytest


def torch_or_skip():
    return pytest.importorskip("torch")


def tensor(a, grad=False):
    """A float64 (floating input) or int64 (integer input) torch tensor of ``a``."""
    torch = torch_or_skip()
    a = np.asarray(a)
    t = torch.tensor(a, dtype=torch.float64 if a.dtype.kind == "f" else torch.int64)
    return t.requires_grad_(grad) if grad else t
