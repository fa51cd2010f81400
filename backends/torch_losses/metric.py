"""torch.nn.functional kernels for the metric family.

``pairwise_distance`` is torch's own (the norm of ``x - y + eps`` over the last axis) for the
norm degrees ``1 < p < inf``, where torch's values and gradients are the library's (zero
gradient at a zero difference, NaN rows alike). The other degrees keep the generic body:
``p = 1`` (torch's gradient of a row holding a NaN is 0 elsewhere in the row), ``p < 1`` and
``+-inf`` (torch's ``p = 0`` counts a NaN as non-zero); so do 0-d inputs.
``triplet_margin_loss`` computes its distances with this kernel (losses/metric.py) but keeps
its own hinge: torch's ``clamp_min`` gives a zero gradient to every input of a NaN triplet,
the library's hinge lets the gradient of the finite terms through.
``cosine_similarity`` has no kernel: torch's gradient differs where a norm is below ``eps``
(docs/differences.md), which cannot be known without reading the values.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._shared import cast_to


def _degree_ok(p):
    return 1 < p < math.inf


def _pairwise_distance(ns, a, b, p, eps, keepdim, out_dtype):
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or not _degree_ok(p) \
            or a.ndim == 0 or b.ndim == 0:
        return NotImplemented
    return cast_to(F.pairwise_distance(a, b, p=p, eps=eps, keepdim=keepdim), out_dtype)


LOSS_PATHS: dict = {
    "pairwise_distance": _pairwise_distance,
}
