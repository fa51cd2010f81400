"""The one reduction rule of the library (DESIGN rule 10).

* ``"none"``: the element-wise loss (times its weight when weights are given);
* ``"sum"``: ``sum(w * l)``;
* ``"mean"``: ``sum(w * l) / sum(w)`` (``mean_over="weights"``) or ``sum(w * l) / numel``
  (``mean_over="elements"``: torch's rule for BCE, BCE-with-logits and Huber), the plain mean
  without weights; the mean of nothing is NaN, as in torch, with a finite (zero) gradient;
* ``"batchmean"`` (``kl_div`` only): ``sum(l) / input.shape[0]``.

Elements with weight 0 (ignored targets, masked positions) contribute exactly 0 even when
their loss is not finite.
"""
from __future__ import annotations

import math

from . import _validate as check
from ._common import cast, safe_divide

MEAN_OVER = ("weights", "elements")


def reduce(xp, loss, reduction, *, weight=None, norm=None, out_dtype=None, batch_size=None,
           mean_over="weights"):
    """Reduce the element-wise ``loss`` with optional broadcastable ``weight``.

    ``mean_over``: what a weighted ``"mean"`` divides by, the weight sum (``"weights"``) or
    the number of elements (``"elements"``).

    ``norm``: the loss is already weighted and ``norm`` (same shape) holds the weights the
    ``"mean"`` divides by (cross-entropy with class weights and label smoothing needs this).
    ``out_dtype`` casts the result (float16/bfloat16 results are computed in float32);
    ``batch_size`` is the divisor of ``"batchmean"``.
    """
    w = None
    if weight is not None:
        w = cast(xp, weight, loss.dtype)
        if tuple(w.shape) != tuple(loss.shape):
            w = xp.broadcast_to(w, loss.shape)
        # a zero weight silences a non-finite loss (ignored targets), and d/dw stays the loss
        usable = xp.isfinite(loss) | (w != 0)
        loss = w * xp.where(usable, loss, xp.zeros_like(loss))
    elif norm is not None:
        w = norm
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = xp.sum(loss)
    elif reduction == "batchmean":
        out = xp.sum(loss) / (batch_size if batch_size else 1)
    elif reduction == "mean":
        if w is not None and mean_over == "weights":
            out = safe_divide(xp, xp.sum(loss), xp.sum(w))
        elif w is not None and math.prod(loss.shape) == 0:
            out = xp.sum(loss) * float("nan")
        elif w is not None:
            out = xp.sum(loss) / math.prod(loss.shape)
        elif math.prod(loss.shape) == 0:
            out = xp.sum(loss) * float("nan")
        else:
            out = xp.mean(loss)
    else:  # pragma: no cover - every public loss validates first
        check.reduction(reduction)
    return xp.as_array(cast(xp, out, out_dtype))

