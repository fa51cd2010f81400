"""torch.nn.functional kernels for the regression family."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _cast(out, out_dtype):
    return out if out_dtype is None or out.dtype == out_dtype else out.to(out_dtype)


def _unweighted(kernel):
    """``kernel(x, y, reduction)`` for unweighted calls; weighted ones keep the generic body
    (torch's ``weight=`` semantics differ per loss)."""
    def fast(ns, x, y, weight, reduction, out_dtype, **params):
        if weight is not None or not isinstance(x, torch.Tensor):
            return NotImplemented
        return _cast(kernel(x, y, reduction, **params), out_dtype)
    return fast


LOSS_PATHS = {
    "mse_loss": _unweighted(lambda x, y, r: F.mse_loss(x, y, reduction=r)),
    "huber_loss": _unweighted(lambda x, y, r, delta: F.huber_loss(x, y, reduction=r, delta=delta)),
}
