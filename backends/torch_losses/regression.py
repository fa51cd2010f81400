"""torch.nn.functional kernels for the regression and probabilistic families (and ``td_loss``,
a squared or Huber error of a value against its bootstrapped target).

Each kernel covers the *unweighted* loss: torch's ``weight=`` multiplies non-finite losses
by zero weights (NaN) where the library's rule silences them, so the loss bodies call the
kernel with ``reduction="none"`` for the element-wise loss and apply the library's weighted
reduction themselves.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._shared import cast_to


def _unweighted(kernel):
    """``kernel(x, y, reduction, **params)`` for unweighted calls."""
    def fast(ns, x, y, weight, reduction, out_dtype, **params):
        if weight is not None or not isinstance(x, torch.Tensor):
            return NotImplemented
        return cast_to(kernel(x, y, reduction, **params), out_dtype)
    return fast


def _smooth_l1(x, y, r, beta):
    return F.l1_loss(x, y, reduction=r) if beta == 0 else F.smooth_l1_loss(x, y, reduction=r, beta=beta)


def _poisson_nll(ns, x, y, log_input, full, eps, reduction, out_dtype):
    # torch's Stirling term has a NaN target gradient at y = 0 (ours is 0): only without it
    # or for a target that needs no gradient
    if not isinstance(x, torch.Tensor) or (full and y.requires_grad):
        return NotImplemented
    return cast_to(F.poisson_nll_loss(x, y, log_input=log_input, full=full, eps=eps, reduction=reduction),
                 out_dtype)


def _gaussian_nll(ns, x, y, v, full, eps, reduction, out_dtype):
    # torch's own formulation (F.gaussian_nll_loss without its checks, which read var back):
    # the variance clamped in place on a copy, outside autograd, so the gradient passes
    # straight through the clamp with no extra element-wise work; NaN stays NaN
    if not isinstance(x, torch.Tensor) or _transformed():
        return NotImplemented
    v = v.clone()
    with torch.no_grad():
        v.clamp_(min=eps)
    d = x - y
    loss = 0.5 * (torch.log(v) + d * d / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    if reduction != "none":
        loss = loss.mean() if reduction == "mean" else loss.sum()
    return cast_to(loss, out_dtype)


def _transformed():
    if torch.compiler.is_compiling():
        return True
    try:
        return bool(torch._C._are_functorch_transforms_active())
    except AttributeError:  # pragma: no cover - older torch
        return False


def _td(x, y, r, criterion, delta):
    # td_loss: the squared or Huber TD error of v_tm1 against its (broadcast) target
    return F.mse_loss(x, y, reduction=r) if criterion == "mse" else F.huber_loss(x, y, reduction=r, delta=delta)


LOSS_PATHS = {
    "mse_loss": _unweighted(lambda x, y, r: F.mse_loss(x, y, reduction=r)),
    "l1_loss": _unweighted(lambda x, y, r: F.l1_loss(x, y, reduction=r)),
    "huber_loss": _unweighted(lambda x, y, r, delta: F.huber_loss(x, y, reduction=r, delta=delta)),
    "smooth_l1_loss": _unweighted(_smooth_l1),
    "poisson_nll_loss": _poisson_nll,
    "gaussian_nll_loss": _gaussian_nll,
    "td_loss": _unweighted(_td),
}
