"""The one reduction rule of the library (DESIGN rule 10).

* ``"none"``: the element-wise loss (times its weight when weights are given);
* ``"sum"``: ``sum(w * l)``;
* ``"mean"``: ``sum(w * l) / sum(w)`` (``mean_over="weights"``) or ``sum(w * l) / numel``
  (``mean_over="elements"``: torch's rule for BCE, BCE-with-logits and Huber), the plain mean
  without weights; the mean of nothing is NaN, as in torch, with a finite (zero) gradient;
* ``"batchmean"`` (``kl_div`` only): ``sum(l) / input.shape[0]``.

Elements with weight 0 (ignored targets, masked positions) contribute exactly 0 even when
their loss is not finite.

``group`` (DESIGN rule 12, docs/distributed.md): each member of the group holds a shard of the
batch; ``"sum"``/``"mean"``/``"batchmean"`` are those of the global batch (numerator and
normaliser summed over the group by ``all_sum``), ``"none"`` stays the local elements.
"""
from __future__ import annotations

import math

from . import _validate as check
from ._common import cast, device_of, fill_doc, safe_divide

MEAN_OVER = ("weights", "elements")

#: The ``group`` entry of the Args of every batch-coupled loss (placeholder ``{group}``).
GROUP_ARG = """\
        group: the group whose members each hold one equal-sized shard of the batch (``None``,
            default: this call sees the whole batch; torch: a ``torch.distributed`` process
            group or ``"world"``; JAX: the ``shard_map``/``pmap`` axis name or a tuple of
            names; NumPy, array-api-strict, Dask: only ``None``). The value is the loss of the
            global batch (``"none"``: this shard's elements of it). Gradient rule (torch): each
            member's local inputs receive ``world_size`` times their rows of the
            single-process gradient, which ``DistributedDataParallel``'s averaging turns into
            exactly the single-process gradient; JAX: ``jax.grad`` of the mapped function is
            the unsharded gradient (docs/distributed.md).
"""
group_doc = fill_doc("{group}", GROUP_ARG)


def gathered(xp, x, group):
    """The group members' ``x`` concatenated along axis 0 (``x`` itself for ``group=None``)."""
    return x if group is None else xp.all_gather(x, group)


def global_sum(xp, x, group):
    """``sum(x)`` over the whole batch: the local sum, summed over ``group`` (None: local)."""
    out = xp.sum(x)
    return out if group is None else xp.all_sum(out, group)


def global_count(xp, like, count, group):
    """A Python count of local elements, summed over ``group``: the count itself for
    ``group=None``, else an array of ``like``'s dtype and device."""
    if group is None:
        return count
    return xp.all_sum(xp.asarray(float(count), dtype=like.dtype, device=device_of(like)), group)


def reduce(xp, loss, reduction, *, weight=None, norm=None, out_dtype=None, batch_size=None,
           mean_over="weights", group=None):
    """Reduce the element-wise ``loss`` with optional broadcastable ``weight``.

    ``mean_over``: what a weighted ``"mean"`` divides by, the weight sum (``"weights"``) or
    the number of elements (``"elements"``).

    ``norm``: the loss is already weighted and ``norm`` (same shape) holds the weights the
    ``"mean"`` divides by (cross-entropy with class weights and label smoothing needs this).
    ``out_dtype`` casts the result (float16/bfloat16 results are computed in float32);
    ``batch_size`` is the divisor of ``"batchmean"`` (of the local shard with ``group``).
    """
    w = None
    if weight is not None:
        w = cast(xp, weight, loss.dtype)
        if tuple(w.shape) != tuple(loss.shape):
            w = xp.broadcast_to(w, loss.shape)
        # a zero weight silences a non-finite loss (ignored targets), and d/dw stays the loss
        usable = xp.isfinite(loss) | (w != 0)
        loss = w * xp.where(usable, loss, 0.0)
    elif norm is not None:
        w = norm
    if reduction == "none":
        out = loss
    elif group is not None:
        out = _global_reduce(xp, loss, w, reduction, batch_size, mean_over, group)
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
        else:  # sum / n, not mean: the same value, and the backward needs no full-size divide
            out = xp.sum(loss) / math.prod(loss.shape)
    else:  # pragma: no cover - every public loss validates first
        check.reduction(reduction)
    return xp.as_array(cast(xp, out, out_dtype))


def _global_reduce(xp, loss, w, reduction, batch_size, mean_over, group):
    """``reduce``'s scalar reductions over the batch shards of ``group``."""
    total = global_sum(xp, loss, group)
    if reduction == "sum":
        return total
    if reduction == "batchmean":
        count = global_count(xp, loss, batch_size or 0, group)
        return total / xp.where(count == 0, xp.ones_like(count), count)
    if w is not None and mean_over == "weights":
        den = global_sum(xp, w, group)
    else:
        den = global_count(xp, loss, math.prod(loss.shape), group)
    return safe_divide(xp, total, den)
