"""torch.nn.functional kernels for the margin family.

Registered where torch's kernel computes the generic body's values and subgradients:

* ``multilabel_soft_margin_loss``: any ``weight`` with ``mean_over="elements"`` (torch's rule).
* ``multilabel_margin_loss``: torch's kernel skips a pair whose margin is NaN (``if (z > 0)``);
  a correction term built from per-row counts of NaN/infinite scores (``O(N C)``) adds those
  pairs back, so the value is NaN and the gradient is the generic body's. When the value
  checks run, whether every score is finite is read with them (the call's one host read) and
  a finite batch skips the correction.

``soft_margin_loss`` (torch overflows to inf for ``|x| >~ 710``), ``hinge_embedding_loss``
(``clamp_min`` passes no gradient to a NaN input, the generic body's ``relu1`` does),
``cosine_embedding_loss`` (other rounding of the ~1e6 gradients at a zero vector, and 0
instead of NaN for other labels), ``margin_ranking_loss`` (no faster than the generic body)
keep their generic bodies.

* ``multi_margin_loss``: torch's kernel skips a term whose margin is NaN (a NaN score, or
  ``inf - inf``); restoring those costs as much as the generic body. So the kernel runs when
  every score is finite, read with the value checks (the call's one host read, as
  ``multilabel_margin_loss``); with a ``weight``, only for torch's rule
  (``mean_over="elements"``, or reductions that do not divide) and when no gradient is asked
  of the weights (torch's kernel has none).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._shared import cast_to


def _tensors(*arrays):
    return all(isinstance(a, torch.Tensor) for a in arrays)


def _multilabel_soft_margin(ns, x, y, w, reduction, out_dtype, *, mean_over):
    if not _tensors(x, y) or (w is not None and (mean_over != "elements" or not _tensors(w))):
        return NotImplemented
    if x.ndim < 1 or x.shape[-1] == 0:
        return NotImplemented
    return cast_to(F.multilabel_soft_margin_loss(x, y, weight=w, reduction=reduction), out_dtype)


def _multilabel_margin(ns, x, target, reduction, out_dtype, *, all_finite):
    """``F.multilabel_margin_loss`` plus the pairs whose margin ``1 - x_j + x_i`` is NaN.

    Such a pair has a NaN score or two equal infinite scores. Per row, with ``m_c`` the number
    of times class ``c`` is listed, ``P_c`` the number of non-targets forming such a pair with
    target ``c`` and ``Q_c`` the number of listed targets forming one with non-target ``c``,
    the missing terms sum to ``(sum_c m_c P_c + sum_c g_c x_c) / C`` with ``g_c = Q_c`` for a
    non-target and ``-m_c P_c`` for a target: NaN (a NaN score, or ``inf - inf``) and exactly
    the missing gradients ``g_c / C``. Every count is 0 in a row of finite scores.
    """
    if not _tensors(x, target) or x.numel() == 0 or torch.compiler.is_compiling():
        return NotImplemented  # compiled: inductor's float32 lowering of the kernel differs
    c = x.shape[-1]
    lead = tuple(x.shape[:-1])
    x2 = x.reshape(-1, c)
    t2 = target.reshape(-1, c).to(torch.int64)
    if all_finite() is True:  # read with the value checks: torch's kernel is exact here
        return cast_to(F.multilabel_margin_loss(x2, t2, reduction=reduction).reshape(
            lead if reduction == "none" else ()), out_dtype)
    out = F.multilabel_margin_loss(x2, t2, reduction="none")
    with torch.no_grad():
        xd = x2.detach()
        valid = torch.cumprod((t2 >= 0).to(xd.dtype), dim=-1)  # before the first -1
        m = torch.zeros_like(xd).scatter_add_(-1, torch.where(t2 >= 0, t2, 0), valid)
        nt = m == 0
        inf = float("inf")
        kinds = torch.stack([torch.isnan(xd), xd == inf, xd == -inf], dim=-1).to(xd.dtype)  # (B, C, 3)
        per = torch.stack([nt.to(xd.dtype), m], dim=-1)  # (B, C, 2)
        n = torch.einsum("bck,bcw->bkw", kinds, per)  # [kind, (non-targets, listed targets)]
        tot = torch.sum(per, dim=-2)  # (B, 2): non-targets, listed targets
        isn, isp, ism = kinds.unbind(-1)

        def pairs(w):  # partners of each class among the non-targets (w=0) / listed targets (w=1)
            return torch.where(isn > 0, tot[:, w:w + 1],
                               n[:, 0, w:w + 1] + isp * n[:, 1, w:w + 1] + ism * n[:, 2, w:w + 1])

        mp = m * pairs(0)
        g = torch.where(nt, pairs(1), -mp)
        const = torch.sum(mp, dim=-1)
        hit = g != 0
    zero = torch.zeros_like(x2)
    corr = const + torch.sum(torch.where(hit, g * torch.where(hit, x2, zero), zero), dim=-1)
    loss = (out + corr / c).reshape(lead)
    if reduction == "sum":
        loss = torch.sum(loss)
    elif reduction == "mean":
        loss = torch.mean(loss)
    return cast_to(loss, out_dtype)


def _multi_margin(ns, x, target, p, margin, weight, reduction, mean_over, out_dtype, *, all_finite):
    if not _tensors(x, target) or x.ndim != 2 or x.numel() == 0 or torch.compiler.is_compiling():
        return NotImplemented
    if weight is not None and (not _tensors(weight) or weight.requires_grad
                               or (reduction == "mean" and mean_over != "elements")):
        return NotImplemented
    if all_finite() is not True:  # read with the value checks; NaN/inf scores: the generic body
        return NotImplemented
    return cast_to(F.multi_margin_loss(x, target.to(torch.int64), p=p, margin=margin, weight=weight,
                                       reduction=reduction), out_dtype)


LOSS_PATHS = {
    "multi_margin_loss": _multi_margin,
    "multilabel_soft_margin_loss": _multilabel_soft_margin,
    "multilabel_margin_loss": _multilabel_margin,
}
