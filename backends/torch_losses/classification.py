"""torch.nn.functional kernels for the classification family.

Weighted calls stay on the generic bodies. Class weights of the integer-target losses: torch
multiplies a non-finite loss by a zero class weight (NaN) where the library's rule silences
it. Element weights of the binary losses: under an infinite weight torch's fused gradients
give ±inf where the library's body gives NaN (inf - inf).

Class indices: torch's CPU kernels check the range themselves (``IndexError``, no host read),
so on the CPU the library's value check is skipped and a refused call falls back to the
generic body, whose check explains the bad index; elsewhere (CUDA raises a device-side
assert) the library's check (``check``) runs first.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._shared import cast_to


def _class_first(x, axis):
    """torch's layout: classes on axis 1 (axis 0 of a 1-D input)."""
    return x if x.ndim < 2 or axis == 1 else torch.movedim(x, axis, 1)


def _mean_over_elements(per_sum, n):
    """``sum / n`` over every position, NaN for none (the library's empty mean)."""
    return per_sum / n if n else per_sum * float("nan")


def _bce(ns, p, y, weight, reduction, out_dtype, interior=False):
    # torch's gradient is (p - y) / max(p (1 - p), 1e-12), the library's that of the clamped
    # logs: they agree where every p (1 - p) > 1e-12 (``interior``, read by the caller with
    # its value checks); otherwise the kernel serves calls that need no gradient
    if weight is not None or not isinstance(p, torch.Tensor) or y.requires_grad or (
            p.requires_grad and not interior):
        return NotImplemented
    return cast_to(F.binary_cross_entropy(p, y, reduction=reduction), out_dtype)


def _bce_logits(ns, z, y, weight, pos_weight, reduction, out_dtype):
    # torch has no gradient for pos_weight
    if weight is not None or not isinstance(z, torch.Tensor) or (
            pos_weight is not None and pos_weight.requires_grad):
        return NotImplemented
    return cast_to(F.binary_cross_entropy_with_logits(z, y, pos_weight=pos_weight, reduction=reduction),
                 out_dtype)


def _index(t):
    return t if t.dtype == torch.int64 else t.to(torch.int64)


def _checked_by_torch(ns, run, x, check):
    """``run()`` with the class indices range-checked once: by torch's own kernel where it
    refuses a bad index itself, eagerly (``ns.gathers_checked``: the CPU; ``NotImplemented``
    when it refuses them: the generic body reports the bad index), or by the library's
    ``check`` first on other devices and under tracing or ``torch.func`` transforms."""
    if not ns.gathers_checked(x):
        check()
        return run()
    try:
        return run()
    except (IndexError, RuntimeError):
        return NotImplemented


def _nll(ns, x, target, weight, ignore_index, reduction, mean_over, axis, out_dtype, check):
    if weight is not None or not isinstance(x, torch.Tensor):
        return NotImplemented
    x, t = _class_first(x, axis), _index(target)

    def run():
        if reduction == "mean" and mean_over == "elements":
            return _mean_over_elements(F.nll_loss(x, t, ignore_index=ignore_index, reduction="sum"),
                                       target.numel())
        return F.nll_loss(x, t, ignore_index=ignore_index, reduction=reduction)

    out = _checked_by_torch(ns, run, x, check)
    return out if out is NotImplemented else cast_to(out, out_dtype)


def _cross_entropy(ns, z, target, weight, ignore_index, reduction, mean_over, label_smoothing,
                   axis, out_dtype, check):
    # integer targets; an ignored row holding a NaN logit gets NaN gradients from torch's
    # log-softmax backward (0 * NaN), as from the generic body's per-position kernel
    if weight is not None or not isinstance(z, torch.Tensor):
        return NotImplemented
    z, t = _class_first(z, axis), _index(target)
    kw = {"ignore_index": ignore_index, "label_smoothing": label_smoothing}

    def run():
        if reduction == "mean" and mean_over == "elements":
            return _mean_over_elements(F.cross_entropy(z, t, reduction="sum", **kw), target.numel())
        return F.cross_entropy(z, t, reduction=reduction, **kw)

    out = _checked_by_torch(ns, run, z, check)
    return out if out is NotImplemented else cast_to(out, out_dtype)


def _linear_cross_entropy(ns, x, lw, lb, target, ignore_index, reduction, mean_over, label_smoothing,
                          out_dtype, *, all_finite):
    """``F.linear`` then ``F.cross_entropy``, for calls whose logits fit in one chunk (the
    caller's condition), where chunking would materialise all of them anyway. Only with a
    finite head (``all_finite``: read with the call's value checks, in its one host read):
    an infinite head weight makes BLAS's input gradient infinite where the generic body's
    is NaN."""
    if not isinstance(x, torch.Tensor) or x.ndim == 0 or all_finite() is not True:
        return NotImplemented
    shape = x.shape[:-1]
    z = F.linear(x.reshape(-1, x.shape[-1]), lw, lb)
    t = _index(target.reshape(-1))
    kw = {"ignore_index": ignore_index, "label_smoothing": label_smoothing}
    if reduction == "mean" and mean_over == "elements":
        out = _mean_over_elements(F.cross_entropy(z, t, reduction="sum", **kw), t.numel())
    else:
        out = F.cross_entropy(z, t, reduction=reduction, **kw)
    return cast_to(out.reshape(shape) if reduction == "none" else out, out_dtype)


def _kl(ns, x, y, reduction, log_target, out_dtype):
    # torch's target gradient of y log y is NaN at y = 0 (the library's is finite): only for
    # a target that needs no gradient, or in log space
    if not isinstance(x, torch.Tensor) or (not log_target and y.requires_grad):
        return NotImplemented
    if reduction == "batchmean" and x.ndim and x.shape[0] == 0:
        return NotImplemented  # the library's empty batch
    if reduction == "batchmean" and not x.ndim:
        reduction = "sum"
    if reduction == "mean":  # torch warns on its "mean"; the same sum / numel, silently
        return cast_to(_mean_over_elements(F.kl_div(x, y, reduction="sum", log_target=log_target),
                                         x.numel()), out_dtype)
    return cast_to(F.kl_div(x, y, reduction=reduction, log_target=log_target), out_dtype)


def _safe_softmax_ce(ns, z, t, reduction, axis, out_dtype, *, rows_finite):
    """torch's probability-target cross-entropy per row, kept only when every row is finite
    (``rows_finite(rows)``: read with the call's value checks). A finite row holds no
    ``0 * log 0`` (NaN in torch, 0 in the library), so there the two are the same products
    and sums; a non-finite row, a masked class among them, runs the generic body."""
    if not isinstance(z, torch.Tensor) or z.numel() == 0:
        return NotImplemented
    rows = F.cross_entropy(_class_first(z, axis), _class_first(t, axis), reduction="none")
    if rows_finite(rows) is not True:
        return NotImplemented
    out = rows if reduction == "none" else rows.sum() if reduction == "sum" else rows.mean()
    return cast_to(out, out_dtype)


LOSS_PATHS = {
    "safe_softmax_cross_entropy": _safe_softmax_ce,
    "binary_cross_entropy": _bce,
    "binary_cross_entropy_with_logits": _bce_logits,
    "nll_loss": _nll,
    "cross_entropy": _cross_entropy,
    "kl_div": _kl,
    "linear_cross_entropy": _linear_cross_entropy,
}
