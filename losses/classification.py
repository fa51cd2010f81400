"""Classification losses: binary/multi-class cross-entropy, NLL, KL divergence, focal losses."""
from __future__ import annotations

import math
from numbers import Integral
from typing import Literal

from . import _validate as check
from ._common import arange_like, cast, class_axis, class_target, float_args, log_clamped, pow0, safe_divide
from ._reduction import MEAN_OVER, global_count, global_sum, group_doc, reduce
from ._typing import ArrayT, Group, Reduction, ReductionBatchmean
from .backends import namespace

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "linear_cross_entropy",
]

#: ``mean_over=`` of the weighted losses: what a weighted ``"mean"`` divides by, the weight
#: sum (``"weights"``) or the number of loss elements (``"elements"``, torch's rule for
#: ``binary_cross_entropy(_with_logits)(weight=)``)
MeanOver = Literal["weights", "elements"]


# -- argument checks shared by the classification families ----------------------------------
def _options(reduction, mean_over):
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", MEAN_OVER)


def _int_arg(value, name):
    """An int hyper-parameter (``ignore_index``); bools and other types are a ``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")


def _axis_arg(axis):
    """``axis`` is None or an int (the range is checked against the input's shape later)."""
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, Integral)):
        raise TypeError(f"axis must be an int or None, got {axis!r}")


def _array_arg(x, name):
    """``x`` must be an array (class indices have no Python-number form here)."""
    if not (hasattr(x, "dtype") and hasattr(x, "shape")):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")


#: p in [a, 1 - a] with this a: p (1 - p) > 1e-12, where torch's BCE gradient is unclamped
_BCE_INTERIOR = 1.01e-12


def _binary_setup(input, target, weight, reduction, mean_over, pos_weight=None, group=None):
    """Checks of the binary losses, every argument's dtype first; returns ``(xp, out_dtype,
    [x, y, w, pw])`` cast to the compute dtype (Python numbers as 0-d arrays)."""
    xp = namespace(input=input, target=target, weight=weight, pos_weight=pos_weight)
    _options(reduction, mean_over)
    xp.check_group(group)
    _, out_dtype, arrays = float_args(xp, input, target, weight, pos_weight,
                                      names=("input", "target", "weight", "pos_weight"))
    x, y, w, pw = arrays
    check.same_shape(x, y, "input", "target")
    check.broadcastable(w, "weight", x.shape, "input")
    check.broadcastable(pw, "pos_weight", x.shape, "input")
    return xp, out_dtype, arrays


def _smoothed_binary(y, label_smoothing):
    """Keras's binary label smoothing ``y (1 - ε) + ε / 2`` (``y`` itself for ε = 0)."""
    eps = float(label_smoothing)
    return y * (1 - eps) + 0.5 * eps if eps else y


@check.entry
@group_doc
def binary_cross_entropy(input: ArrayT, target: ArrayT, *, weight: ArrayT | float | None = None,
                         mean_over: MeanOver = "elements", reduction: Reduction = "mean",
                         label_smoothing: float = 0.0, group: Group = None) -> ArrayT:
    r"""Binary cross-entropy on probabilities.

    .. math:: \ell_i = -w_i\,\big(y_i \log p_i + (1 - y_i)\log(1 - p_i)\big)

    Each log is clamped at -100 as in torch, so ``p`` exactly 0 or 1 gives a finite value;
    the gradient there is that of the clamped function (0 where the clamp is active; torch
    returns ``(p - y) / 1e-12``). A NaN ``p`` gives NaN (under ``jit``; eagerly it is
    refused). Prefer :func:`binary_cross_entropy_with_logits`.

    Args:
        input: probabilities ``p`` in [0, 1], any shape, floating.
        target: same shape, values in [0, 1] (soft labels allowed; integer/bool accepted).
        weight: optional element weights broadcastable to ``input`` (an array or a number).
        mean_over: what a weighted ``"mean"`` divides by: ``"elements"`` (default,
            ``sum(w*l) / input.size``, torch's rule) or ``"weights"`` (``sum(w*l) / sum(w)``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        label_smoothing: ε in [0, 1]: the target becomes ``y (1 - ε) + ε / 2`` (Keras's
            ``binary_crossentropy(label_smoothing=ε)``; smp's ``smooth_factor=s`` is ``ε = 2 s``).
    {group}

    Returns:
        A scalar, or the element-wise loss (``input``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``/``mean_over``, ``label_smoothing``
            outside [0, 1]; eagerly, ``input`` or ``target`` outside [0, 1] (or NaN).
        TypeError: non-floating ``input``, complex ``target``/``weight``, non-arrays.

    References: the Bernoulli negative log-likelihood, as PyTorch's ``BCELoss``.

    Peer twins: ``torch.nn.functional.binary_cross_entropy`` (identical, ``weight=``
    included), ``keras.losses.binary_crossentropy`` (which clips p to [1e-7, 1 - 1e-7]
    instead).

    Example:
        >>> p, y = np.array([0.9, 0.2]), np.array([1.0, 0.0])
        >>> losses.binary_cross_entropy(p, y, reduction="none")  # -log 0.9, -log 0.8
        array([0.1054, 0.2231])
        >>> float(losses.binary_cross_entropy(np.array([0.0, 1.0]), np.array([0.0, 1.0])))  # exact predictions
        0.0
    """
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1)
    xp, out_dtype, (p, y, w, _) = _binary_setup(input, target, weight, reduction, mean_over, group=group)
    lo_hi = check.values_in(xp, p, "input", 0, 1, what="probabilities")
    check.values_in(xp, y, "target", 0, 1, what="probabilities")
    y = _smoothed_binary(y, label_smoothing)
    interior = None
    if group is None and "binary_cross_entropy" in xp.loss_paths and (
            lo_hi is not None or check.unchecked_in_place(xp, p)):
        # torch's gradient (p - y) / max(p (1 - p), 1e-12) is that of the clamped logs where
        # every p lies in [a, 1 - a] with a (1 - a) > 1e-12: read with the call's checks
        # (on the host: 1 - hi is exact in the array's dtype for hi >= 1/2, and above 1/2 below)
        interior = check.read_fact(xp, lo_hi or xp.extrema(p),
                                   lambda lo, hi: lo >= _BCE_INTERIOR and 1 - hi >= _BCE_INTERIOR)
    if group is None:
        out = xp.fast("binary_cross_entropy", p, y, w, reduction, out_dtype, interior=bool(interior))
        if out is not NotImplemented:
            return out
    loss = -(y * log_clamped(xp, p) + (1 - y) * log_clamped(xp, 1 - p))
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def binary_cross_entropy_with_logits(input: ArrayT, target: ArrayT, *, weight: ArrayT | float | None = None,
                                     pos_weight: ArrayT | float | None = None,
                                     mean_over: MeanOver = "elements",
                                     reduction: Reduction = "mean", label_smoothing: float = 0.0,
                                     group: Group = None) -> ArrayT:
    r"""Binary cross-entropy on logits, numerically stable for any logit.

    .. math:: \ell_i = w_i\,\big[(1 - y_i)\,z_i + (1 + (w_p - 1)\,y_i)\,\operatorname{softplus}(-z_i)\big]

    Args:
        input: logits ``z``, any shape, floating.
        target: same shape, values in [0, 1] (soft labels allowed; integer/bool accepted;
            checked eagerly, torch computes silently outside [0, 1]).
        weight: optional element weights broadcastable to ``input`` (an array or a number).
        pos_weight: optional weight of positive examples, broadcastable to ``input`` (usually
            shape ``(C,)`` for the last axis, or a number), e.g. ``n_neg / n_pos`` per label.
        mean_over: what a weighted ``"mean"`` divides by: ``"elements"`` (default,
            ``sum(w*l) / input.size``, torch's rule) or ``"weights"`` (``sum(w*l) / sum(w)``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        label_smoothing: ε in [0, 1]: the target becomes ``y (1 - ε) + ε / 2`` (Keras's
            ``binary_crossentropy(from_logits=True, label_smoothing=ε)``; smp's
            ``SoftBCEWithLogitsLoss(smooth_factor=s)`` is ``ε = 2 s``).
    {group}

    Returns:
        A scalar, or the element-wise loss (``input``'s shape) for ``reduction="none"``.
        Finite values and gradients for logits of any magnitude (±1e4 included); ±inf
        logits follow IEEE arithmetic as torch's.

    Raises:
        ValueError: shapes differ, bad ``reduction``/``mean_over``, ``label_smoothing``
            outside [0, 1]; eagerly, ``target`` outside [0, 1] (or NaN).
        TypeError: non-floating ``input``, complex ``target``/``weight``/``pos_weight``.

    References: the Bernoulli negative log-likelihood of a logistic model, as PyTorch's
    ``BCEWithLogitsLoss``.

    Peer twins: ``torch.nn.functional.binary_cross_entropy_with_logits`` (identical,
    ``weight=`` included), ``optax.sigmoid_binary_cross_entropy`` (element-wise).

    Example:
        >>> z, y = np.array([2.0, -1.0]), np.array([1.0, 0.0])
        >>> losses.binary_cross_entropy_with_logits(z, y, reduction="none")  # softplus(-2), softplus(-1)
        array([0.1269, 0.3133])
        >>> losses.binary_cross_entropy_with_logits(np.array([1e4, -1e4]), y, reduction="none")  # no overflow
        array([0., 0.])
    """
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1)
    xp, out_dtype, (z, y, w, pw) = _binary_setup(input, target, weight, reduction, mean_over, pos_weight, group)
    check.values_in(xp, y, "target", 0, 1, what="labels")
    y = _smoothed_binary(y, label_smoothing)  # before the fast path: it sees the smoothed target
    if group is None:
        out = xp.fast("binary_cross_entropy_with_logits", z, y, w, pw, reduction, out_dtype)
        if out is not NotImplemented:
            return out
    sp = xp.softplus(-z)
    if pw is None:
        loss = (1 - y) * z + sp
    else:
        loss = (1 - y) * z + (1 + (pw - 1) * y) * sp
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _class_weight_shape(weight, n_classes):
    """``weight`` is None or one weight per class, shape ``(C,)`` (``ValueError`` otherwise)."""
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"weight must be a 1-D array of one weight per class, shape ({n_classes},), "
            f"got {tuple(weight.shape)}"
        )


def _class_args(input, target, weight, reduction, mean_over, ignore_index, axis):
    """The namespace after the argument checks shared by the integer/probability-target
    class losses (before any array is read)."""
    xp = namespace(input=input, target=target, weight=weight)
    _options(reduction, mean_over)
    _int_arg(ignore_index, "ignore_index")
    _axis_arg(axis)
    check.floating(xp, input, "input")
    _array_arg(target, "target")
    return xp


def _class_setup(xp, input, target, weight, axis, what):
    """Shared checks of the integer-target class losses, every dtype before any value check:
    floating ``input``, integer ``target`` of the index shape, real ``(C,)`` ``weight``.

    Returns ``(axis, C, z, w, out_dtype)`` with ``z``/``w`` cast to the compute dtype.
    """
    ax, n_classes, _ = class_target(xp, input, target, axis, what)
    _, out_dtype, (z, w) = float_args(xp, input, weight, names=("input", "weight"))
    _class_weight_shape(w, n_classes)
    return ax, n_classes, z, w, out_dtype


def _target_weights(xp, target, n_classes, ignore_index, weight, dtype):
    """Check the class indices (eagerly) and return ``(safe_target, w_t)``.

    ``safe_target`` has ignored positions replaced by class 0; ``w_t`` is ``weight[t]`` (1
    without class weights) and 0 at ignored positions.
    """
    keep, safe_t = _safe_targets(xp, target, n_classes, ignore_index)
    return safe_t, _weights_at(xp, keep, safe_t, weight, dtype)


def _safe_targets(xp, target, n_classes, ignore_index):
    """``(keep, safe_target)`` after the eager check of the class indices."""
    keep = target != ignore_index
    safe_t = xp.where(keep, target, xp.zeros_like(target))
    check.class_indices(xp, target, n_classes, "target", ignore_index, safe=safe_t)
    return keep, safe_t


def _weights_at(xp, keep, safe_t, weight, dtype):
    """``w_t``: ``weight[t]`` (1 without class weights), 0 at ignored positions."""
    if weight is None:
        w_t = cast(xp, keep, dtype)
    else:
        # torch's index_select takes int32/int64 indices only; JAX without x64 has no int64
        index = safe_t if safe_t.dtype in (xp.int32, xp.int64) else xp.astype(safe_t, xp.int64)
        w_t = xp.reshape(xp.take_index(weight, xp.reshape(index, (-1,)), axis=0), safe_t.shape)
        w_t = xp.where(keep, w_t, xp.zeros_like(w_t))
    return w_t


def _weight_along(xp, weight, ndim, axis):
    """The ``(C,)`` class weights shaped to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = weight.shape[0]
    return xp.reshape(weight, tuple(shape))


def _log_or_neg_inf(xp, p):
    """``log(p)`` where ``p > 0``, ``-inf`` where ``p <= 0``, with a finite gradient at
    ``p == 0`` (double where); a NaN stays NaN (DESIGN rule 5)."""
    zero = p <= 0
    return xp.where(zero, xp.full_like(p, -math.inf), xp.log(xp.where(zero, xp.ones_like(p), p)))


@check.entry
@group_doc
def cross_entropy(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                  ignore_index: int = -100, mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                  label_smoothing: float = 0.0, axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Softmax cross-entropy between logits and class indices or class probabilities.

    Integer targets (any integer dtype):

    .. math:: \ell_i = w_{y_i}\big[(1-\varepsilon)(\operatorname{lse}(z_i) - z_{i,y_i})\big]
              + \tfrac{\varepsilon}{C}\sum_c w_c\,(\operatorname{lse}(z_i) - z_{i,c})

    computed as ``logsumexp(z) - z[target]`` with a gather: no one-hot and no full
    log-softmax is ever materialised. Positions equal to ``ignore_index`` get weight 0;
    ``"mean"`` divides by the summed target weights ``sum_i w_{y_i}`` (torch's rule), and is
    NaN (with a zero gradient) when every position is ignored.

    Probability targets (floating, same shape as ``input``): ``l_i = -sum_c w_c y'_ic
    log_softmax(z)_ic`` with ``y' = (1-ε) y + ε/C``; ``"mean"`` averages over positions
    (torch, whatever ``mean_over``). Targets are not range-checked (torch accepts any real
    values); ±inf targets or weights give torch's ±inf.

    A NaN logit gives NaN for its position; a row holding +inf (or only -inf) gives NaN, as
    torch.

    Args:
        input: logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices of ``input``'s shape without the class axis, or probabilities
            of ``input``'s shape.
        weight: optional per-class weights, shape ``(C,)``.
        ignore_index: target value that is skipped (integer targets only).
        mean_over: what a weighted ``"mean"`` of integer targets divides by: ``"weights"``
            (default, torch's rule: ``sum_i w_{y_i} l_i / sum_i w_{y_i}``) or ``"elements"``
            (``sum_i w_{y_i} l_i / N`` over all ``N`` positions, ignored ones included:
            the rule of Keras's ``sample_weight`` and of kornia's focal loss).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        label_smoothing: ε in [0, 1], torch's ε/C convention.
        axis: the class axis. Default: 1 (0 for a 1-D input), as torch. Use ``axis=-1`` for
            ``(B, L, V)`` sequence logits with ``(B, L)`` targets (no reshape needed).
    {group}
            ``"mean"`` then divides by the non-ignored target weights of the whole batch (the
            data-parallel / gradient-accumulation normalisation), not by each shard's own.

    Returns:
        A scalar, or the per-position loss (``input``'s shape without the class axis) for
        ``reduction="none"``.

    Raises:
        ValueError: wrong target shape, weight shape, ``label_smoothing`` outside [0, 1],
            bad ``reduction``/``mean_over``/``axis``; eagerly, class indices outside
            ``[0, C)`` (other than ``ignore_index``) — torch may silently read out of range
            and JAX returns NaN there.
        TypeError: floating target of the index shape (probability targets need ``input``'s
            shape), non-floating ``input``, complex ``target``/``weight``, a non-array
            ``target``, non-int ``ignore_index``.

    References: PyTorch ``CrossEntropyLoss``; label smoothing: Szegedy et al. 2016,
    "Rethinking the Inception architecture for computer vision" (CVPR).

    Peer twins: ``torch.nn.functional.cross_entropy``,
    ``optax.softmax_cross_entropy_with_integer_labels`` / ``optax.softmax_cross_entropy``.

    Example:
        >>> z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
        >>> y = np.array([0, 1])
        >>> ref = np.log(np.exp(z).sum(1)) - z[[0, 1], y]  # logsumexp(z) - z[target]
        >>> bool(np.allclose(losses.cross_entropy(z, y, reduction="none"), ref))
        True
        >>> round(float(losses.cross_entropy(z, y)), 4)
        0.3185
        >>> round(float(losses.cross_entropy(z, np.eye(3)[y])), 4)  # the same as probabilities
        0.3185
    """
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1)
    if check.is_floating(xp, target):
        return _cross_entropy_probs(xp, input, target, weight, reduction, label_smoothing, axis, group)
    ax, n_classes, z, w, out_dtype = _class_setup(xp, input, target, weight, axis, "cross_entropy")
    if group is None:
        out = xp.fast("cross_entropy", z, target, w, ignore_index, reduction, mean_over, float(label_smoothing),
                      ax, out_dtype, check=lambda: _safe_targets(xp, target, n_classes, ignore_index))
        if out is not NotImplemented:
            return out
    keep, safe_t = _safe_targets(xp, target, n_classes, ignore_index)
    nll = xp.nll_logits(z, safe_t, axis=ax)
    eps = float(label_smoothing)
    if w is None:
        # weights 0/1: the ignored positions become 0 by one where and "mean" divides by the
        # number kept -- the weighted reduction's values and gradients, fewer operations
        if eps:
            nll = (1 - eps) * nll + eps * (xp.logsumexp(z, axis=ax) - xp.mean(z, axis=ax))
        loss = xp.where(keep, nll, 0.0)
        if reduction == "mean" and mean_over == "weights":  # NaN when every position is ignored
            kept = global_sum(xp, cast(xp, keep, z.dtype), group)
            return xp.as_array(cast(xp, safe_divide(xp, global_sum(xp, loss, group), kept), out_dtype))
        norm = cast(xp, keep, z.dtype) if reduction == "mean" else None
        return reduce(xp, loss, reduction, norm=norm, mean_over=mean_over, out_dtype=out_dtype, group=group)
    w_t = _weights_at(xp, keep, safe_t, w, z.dtype)
    if eps == 0:
        return reduce(xp, nll, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)
    lse = xp.logsumexp(z, axis=ax)
    wb = _weight_along(xp, w, z.ndim, ax)
    smooth = (lse * xp.sum(w) - xp.sum(wb * z, axis=ax)) / n_classes
    keep = w_t != 0
    loss = xp.where(keep, (1 - eps) * w_t * nll, 0.0)
    loss = loss + xp.where(target != ignore_index, eps * smooth, 0.0)
    return reduce(xp, loss, reduction, norm=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _cross_entropy_probs(xp, input, target, weight, reduction, eps, axis, group):
    if tuple(target.shape) != tuple(input.shape):
        raise TypeError(
            f"cross_entropy: a floating target is read as class probabilities and must have "
            f"input's shape {tuple(input.shape)}, got {tuple(target.shape)}; class indices must "
            f"have an integer dtype, got {target.dtype}"
        )
    ax = class_axis(input, axis)
    n_classes = input.shape[ax]
    _, out_dtype, (z, y, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    _class_weight_shape(w, n_classes)
    if eps:
        y = (1 - eps) * y + eps / n_classes
    if w is not None:
        y = y * _weight_along(xp, w, z.ndim, ax)
    # torch's form -sum(y log_softmax(z)): ±inf targets/weights give its ±inf, not inf - inf
    loss = -xp.sum(y * xp.log_softmax(z, axis=ax), axis=ax)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def nll_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None, ignore_index: int = -100,
             mean_over: MeanOver = "weights", reduction: Reduction = "mean",
             axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Negative log-likelihood of class indices given log-probabilities.

    .. math:: \ell_i = -w_{y_i}\, x_{i, y_i}

    ``"mean"`` divides by ``sum_i w_{y_i}`` over non-ignored positions (NaN when all are
    ignored), as torch; ``mean_over="elements"`` divides by the number of positions instead.
    Shapes, ``weight``, ``ignore_index``, ``mean_over`` and ``axis`` as
    :func:`cross_entropy` with integer targets.

    Args:
        input: log-probabilities (e.g. ``log_softmax`` output), shape ``(N, C)``,
            ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (any integer dtype), ``input``'s shape without the class axis.
        weight: optional per-class weights, shape ``(C,)``.
        ignore_index: target value that is skipped.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default, torch's
            rule) or ``"elements"`` (the number of positions), as :func:`cross_entropy`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: the class axis. Default: 1 (0 for a 1-D input), as torch.
    {group}
            ``"mean"`` then divides by the non-ignored target weights of the whole batch.

    Returns:
        A scalar, or the per-position loss (``target``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: as :func:`cross_entropy` with integer targets: wrong target or weight
            shape, bad ``reduction``/``mean_over``/``axis``; eagerly, class indices outside
            ``[0, C)`` (other than ``ignore_index``).
        TypeError: non-floating ``input``, a non-integer or non-array ``target``, complex
            ``weight``, non-int ``ignore_index``.

    References: PyTorch ``NLLLoss``.

    Peer twins: ``torch.nn.functional.nll_loss``.

    Example:
        >>> logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]))
        >>> losses.nll_loss(logp, np.array([0, 1]), reduction="none")  # -log 0.7, -log 0.8
        array([0.3567, 0.2231])
        >>> float(losses.nll_loss(logp, np.array([0, -100]))) == float(-logp[0, 0])  # -100 is ignored
        True
    """
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    ax, n_classes, x, w, out_dtype = _class_setup(xp, input, target, weight, axis, "nll_loss")
    if group is None:
        out = xp.fast("nll_loss", x, target, w, ignore_index, reduction, mean_over, ax, out_dtype,
                      check=lambda: _safe_targets(xp, target, n_classes, ignore_index))
        if out is not NotImplemented:
            return out
    keep, safe_t = _safe_targets(xp, target, n_classes, ignore_index)
    w_t = _weights_at(xp, keep, safe_t, w, x.dtype)
    if safe_t.dtype not in (xp.int32, xp.int64):  # take_along_axis wants wide indices
        safe_t = xp.astype(safe_t, xp.int64)
    loss = -xp.take_class(x, safe_t, axis=ax)
    return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def kl_div(input: ArrayT, target: ArrayT, *, reduction: ReductionBatchmean = "mean",
           log_target: bool = False, group: Group = None) -> ArrayT:
    r"""Kullback-Leibler divergence ``KL(target || exp(input))`` with torch's argument order.

    .. math:: \ell_i = y_i\,(\log y_i - x_i)\ \ (\text{0 where } y_i = 0), \qquad
              \ell_i = e^{y_i}(y_i - x_i)\ \text{ if log\_target}

    Args:
        input: log-probabilities ``x`` (e.g. ``log_softmax`` output).
        target: probabilities >= 0 (checked eagerly; torch returns NaN for negative ones), or
            log-probabilities with ``log_target=True``, same shape.
        reduction: ``"mean"`` (mean over *all elements*, as torch — not the true KL),
            ``"batchmean"`` (sum / ``input.shape[0]``, the mathematically correct KL per
            sample), ``"sum"`` or ``"none"``.
        log_target: whether ``target`` is given in log space (a bool).
    {group}
            ``"batchmean"`` then divides by the whole group's batch size.

    Returns:
        A scalar, or the element-wise terms (``input``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``; eagerly, a negative ``target`` without
            ``log_target``.
        TypeError: non-floating ``input``, complex ``target``, non-bool ``log_target``.

    References: Kullback & Leibler 1951, "On information and sufficiency" (Annals of
    Mathematical Statistics); PyTorch ``KLDivLoss``.

    Peer twins: ``torch.nn.functional.kl_div``; ``optax.kl_divergence(log_predictions,
    targets)`` equals ``kl_div(..., reduction="none").sum(-1)``.

    Example:
        >>> p = np.array([[0.5, 0.5]])
        >>> float(losses.kl_div(np.log(p), p, reduction="batchmean"))  # KL(p || p)
        0.0
        >>> q = np.array([[0.25, 0.75]])
        >>> round(float(losses.kl_div(np.log(q), p, reduction="batchmean")), 4)  # KL(p || q)
        0.1438
    """
    xp = namespace(input=input, target=target)
    check.reduction(reduction, ("mean", "batchmean", "sum", "none"))
    group = xp.check_group(group)
    check.flag(log_target, "log_target")
    _, out_dtype, (x, y) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(x, y, "input", "target")
    if not log_target:
        check.nonnegative(xp, y, "target")
    if group is None:
        out = xp.fast("kl_div", x, y, reduction, log_target, out_dtype)
        if out is not NotImplemented:
            return out
    if log_target:
        loss = xp.exp(y) * (y - x)
    else:
        loss = xp.xlogy(y, y) - y * x
    batch = x.shape[0] if x.ndim else 1
    return reduce(xp, loss, reduction, out_dtype=out_dtype, batch_size=batch, group=group)


def _log_prob_pair(xp, z, y, sp):
    """``log(1 - p_t)`` for binary logits and (soft) labels, without overflow.

    ``p_t = y p + (1-y)(1-p)``; a ``logaddexp`` of log-sigmoids so ``(1 - p_t)**gamma`` keeps
    a finite gradient for gamma < 1 and confident logits. ``sp = softplus(-z)``, already
    computed by the caller: ``log_sigmoid(z)`` is exactly ``-sp``.
    """
    ls_pos, ls_neg = -sp, -xp.softplus(z)
    log_1m_pt = xp.logaddexp(_log_or_neg_inf(xp, y) + ls_neg, _log_or_neg_inf(xp, 1 - y) + ls_pos)
    return log_1m_pt


@check.entry
@group_doc
def sigmoid_focal_loss(input: ArrayT, target: ArrayT, *, alpha: float = 0.25, gamma: float = 2.0,
                       weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                       reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Sigmoid focal loss (Lin et al. 2017, RetinaNet), torchvision.ops semantics.

    .. math:: \ell_i = \alpha_t\,(1 - p_t)^{\gamma}\ \mathrm{BCE}(z_i, y_i),\qquad
              p_t = y p + (1-y)(1-p),\ \ \alpha_t = y\alpha + (1-y)(1-\alpha)

    ``alpha < 0`` disables the α weighting (torchvision). ``1 - p_t`` is computed as
    ``y sigmoid(-z) + (1 - y) sigmoid(z)`` (no cancellation); for ``gamma < 1`` the power is
    ``exp(gamma * log(1 - p_t))`` from log-sigmoids, so confident logits give finite gradients
    (torchvision returns NaN there).

    Args:
        input: logits, any shape.
        target: same shape, labels in [0, 1] (checked eagerly).
        alpha: weight of positives in [0, 1], or negative to disable.
        gamma: the focusing parameter >= 0.
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``; torchvision has no ``weight``) or ``"elements"``
            (``sum(w*l)/input.size``).
        reduction: ``"mean"`` (torchvision's default is ``"none"``; docs/differences.md).
    {group}

    Returns:
        A scalar, or the element-wise loss (``input``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``alpha`` > 1, ``gamma`` < 0, bad
            ``reduction``/``mean_over``; eagerly, ``target`` outside [0, 1] (or NaN).
        TypeError: non-floating ``input``, complex ``target``/``weight``.

    References: Lin, Goyal, Girshick, He & Dollár 2017, "Focal loss for dense object
    detection" (ICCV).

    Peer twins:
        ``torchvision.ops.sigmoid_focal_loss``, ``optax.sigmoid_focal_loss``.

        Keras 3 ``keras.losses.binary_focal_crossentropy(y_true, y_pred,
        apply_class_balancing=b, alpha=a, gamma=g, from_logits=fl, label_smoothing=ε)`` (and the
        ``BinaryFocalCrossentropy`` class with its default ``"sum_over_batch_size"``) is
        ``sigmoid_focal_loss(z, y, alpha=a if b else -1, gamma=g)`` with

        * ``y = y_true * (1 - ε) + ε / 2`` (Keras smooths towards ½; soft labels are accepted
          here, and Keras's class balancing uses the smoothed labels too);
        * ``z = y_pred`` for ``fl=True``, and ``z = log(p) - log1p(-p)`` (the logit) for
          probabilities ``p = y_pred`` (``fl=False``);
        * ``reduction="mean"``: Keras averages over the last axis, then over the batch.

        Note Keras's default is ``apply_class_balancing=False`` (``alpha=-1`` here) while ours is
        torchvision's ``alpha=0.25``. The values (and gradients) agree while every probability lies
        in Keras's clip range ``[1e-7, 1 - 1e-7]`` (``|z| < 16.1``): beyond it Keras clips the
        cross-entropy term (constant loss there), ours stays exact.

    Example:
        >>> z, y = np.array([3.0, -0.5]), np.array([1.0, 1.0])
        >>> bce = losses.binary_cross_entropy_with_logits(z, y, reduction="none")
        >>> # the focal factor (1 - p_t)^2: the easy positive (p = 0.95) is down-weighted far
        >>> # more than the hard one (p = 0.38)
        >>> losses.sigmoid_focal_loss(z, y, alpha=-1, reduction="none") / bce
        array([0.0022, 0.3875])
        >>> bool(np.allclose(losses.sigmoid_focal_loss(z, y, alpha=-1, gamma=0.0, reduction="none"), bce))
        True
    """
    check.finite_number(alpha, "alpha", high=1)
    check.finite_number(gamma, "gamma", low=0)
    xp, out_dtype, (z, y, w, _) = _binary_setup(input, target, weight, reduction, mean_over, group=group)
    check.values_in(xp, y, "target", 0, 1, what="labels")
    sp = xp.softplus(-z)
    ny = 1 - y
    ce = ny * z + sp
    if gamma == 0:
        loss = ce
    elif gamma >= 1:
        # 1 - p_t = y sigmoid(-z) + (1 - y) sigmoid(z): non-negative terms, no cancellation;
        # its power has a finite gradient at 0 for gamma >= 1
        loss = ce * (y * xp.sigmoid(-z) + ny * xp.sigmoid(z)) ** gamma
    else:  # 0 < gamma < 1: in log space, finite where 1 - p_t underflows
        loss = ce * xp.exp(gamma * _log_prob_pair(xp, z, y, sp))
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * ny) * loss
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def softmax_focal_loss(input: ArrayT, target: ArrayT, *, alpha: float | None = None, gamma: float = 2.0,
                       weight: ArrayT | None = None, ignore_index: int = -100,
                       mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                       label_smoothing: float = 0.0, axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Multi-class (softmax) focal loss (Lin et al. 2017) on logits and class indices.

    .. math:: \ell_i = -\alpha\, w_{y_i}\,(1 - p_{i,y_i})^{\gamma}\,\log p_{i,y_i}

    ``log p_t = z_t - logsumexp(z)`` (torch's fused cross-entropy per position) and, for
    ``gamma >= 1``, ``1 - p_t = -expm1(log p_t)`` per position (accurate as ``p_t -> 1``); for
    ``0 < gamma < 1``, ``log(1 - p_t) = logsumexp(z_{c \ne t}) - logsumexp(z)``. Confident
    logits keep finite values and gradients for any gamma >= 0.
    With ``gamma=0`` and ``alpha=None`` it equals :func:`cross_entropy` (±inf logits
    included). Shapes, ``weight`` (per class), ``ignore_index``, ``axis``, ``mean_over`` and
    the ``"mean"`` rule (``sum w_t l / sum w_t``) as :func:`cross_entropy`.

    Label smoothing (``label_smoothing=ε > 0``, the ε/C convention of :func:`cross_entropy`
    and Keras) spreads the target over the classes, each class keeping its own focal factor:

    .. math:: \ell_i = (1-\varepsilon)\,\alpha\, w_{y_i} (1-p_{i,y_i})^{\gamma}(-\log p_{i,y_i})
              + \tfrac{\varepsilon}{C}\sum_c \alpha\, w_c\,(1-p_{i,c})^{\gamma}(-\log p_{i,c})

    (ignored positions get 0; ``"mean"`` divides by ``sum w_t``, as :func:`cross_entropy`).
    This is the one path that materialises a full log-softmax (one ``input``-sized
    temporary); the focal factor of each class is ``(-expm1(log p_c))**gamma`` (subgradient 0
    where ``p_c`` rounds to 1 for ``gamma < 1``).

    Args:
        input: logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (any integer dtype), ``input``'s shape without the class axis.
        alpha: optional scalar balance factor α >= 0 (None: 1), the same for every class.
        gamma: focusing parameter >= 0.
        weight: optional per-class weights, shape ``(C,)``.
        ignore_index: target value that is skipped.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum w_t l / sum w_t``) or ``"elements"`` (the number of positions), as
            :func:`cross_entropy`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        label_smoothing: ε in [0, 1] (default 0: no smoothing).
        axis: the class axis. Default: 1 (0 for a 1-D input), as torch.
    {group}

    Returns:
        A scalar, or the per-position loss (``target``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: ``gamma`` < 0, ``alpha`` < 0, ``label_smoothing`` outside [0, 1]; as
            :func:`cross_entropy` with integer targets: wrong target or weight shape, bad
            ``reduction``/``mean_over``/``axis``; eagerly, class indices outside ``[0, C)``
            (other than ``ignore_index``).
        TypeError: non-floating ``input``, a non-integer or non-array ``target``, complex
            ``weight``, non-int ``ignore_index``.

    References: Lin, Goyal, Girshick, He & Dollár 2017, "Focal loss for dense object
    detection" (ICCV), its multi-class form.

    Peer twins:
        none in torch/optax; the paper's multi-class form. ``kornia.losses.focal_loss``
        differs in two ways: its ``alpha`` weighs class 0 by ``1 - α`` and every other class by
        ``α``, and its ``"mean"`` divides by ``N * C * d1 * ...`` (classes times positions, its
        loss being one-hot masked per class). Its value is reproduced by
        ``softmax_focal_loss(z, t, gamma=g, weight=a, reduction="sum") / (C * t.size)`` with
        class weights ``a = [1 - α, α, ..., α]`` (times kornia's ``weight``, if any).

        Keras 3 ``keras.losses.categorical_focal_crossentropy(y_true, y_pred, alpha=a, gamma=g,
        from_logits=fl, label_smoothing=ε)`` (and the ``CategoricalFocalCrossentropy`` class with
        its default ``"sum_over_batch_size"``) on one-hot ``y_true`` with classes last is
        ``softmax_focal_loss(z, argmax(y_true, -1), alpha=a, gamma=g, label_smoothing=ε,
        axis=-1)`` with ``z = y_pred`` for ``fl=True`` and ``z = log(y_pred)`` for probabilities
        (``fl=False``; ``softmax(log p) = p / sum(p)``, Keras's renormalisation). Keras sums over
        the classes and averages over the rest, our ``"mean"``. Note Keras's ``alpha`` default
        0.25 (ours: None). The values (and gradients) agree while every probability lies in
        Keras's clip range ``[1e-7, 1 - 1e-7]``; outside it Keras clips ``p`` (constant loss
        there), ours stays exact. Soft (non one-hot) ``y_true`` other than by label smoothing has
        no equivalent (integer targets only).

    Example:
        >>> z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
        >>> y = np.array([0, 1])
        >>> bool(np.isclose(losses.softmax_focal_loss(z, y, gamma=0.0), losses.cross_entropy(z, y)))
        True
        >>> round(float(losses.softmax_focal_loss(z, y)), 4)
        0.0285
    """
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    check.finite_number(gamma, "gamma", low=0)
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1)
    if alpha is not None:
        check.finite_number(alpha, "alpha", low=0)
    ax, n_classes, z, w, out_dtype = _class_setup(xp, input, target, weight, axis, "softmax_focal_loss")
    safe_t, w_t = _target_weights(xp, target, n_classes, ignore_index, w, z.dtype)
    # torch's cross-entropy values on ±inf rows (NaN for a row holding +inf or only -inf)
    loss = xp.nll_logits(z, safe_t, axis=ax)
    if gamma >= 1:
        # 1 - p_t = -expm1(-nll): per position, accurate as p_t -> 1; its power has a finite
        # gradient at 0 for gamma >= 1
        loss = (0.0 - xp.expm1(-loss)) ** gamma * loss
    elif gamma != 0:  # 0 < gamma < 1: log(1 - p_t) from the other classes' logsumexp
        lse = xp.logsumexp(z, axis=ax)
        grid = xp.reshape(arange_like(xp, z, n_classes),
                          tuple(n_classes if i == ax else 1 for i in range(z.ndim)))
        others = xp.where(xp.expand_dims(safe_t, axis=ax) == cast(xp, grid, safe_t.dtype), xp.full_like(z, -math.inf), z)
        log_1m_pt = xp.logsumexp(others, axis=ax) - lse
        loss = xp.exp(gamma * log_1m_pt) * loss
    if alpha is not None:
        loss = alpha * loss
    eps = float(label_smoothing)
    if eps == 0:
        return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)
    # the smoothed part: every class's focal cross-entropy (one full log-softmax)
    logp = xp.log_softmax(z, axis=ax)
    terms = 0.0 - logp
    if gamma >= 1:
        terms = (0.0 - xp.expm1(logp)) ** gamma * terms
    elif gamma != 0:  # 0 < gamma < 1: a zero 1 - p_c (p_c rounded to 1) has subgradient 0
        terms = pow0(xp, 0.0 - xp.expm1(logp), float(gamma)) * terms
    if w is not None:
        terms = _weight_along(xp, w, z.ndim, ax) * terms
    smooth = xp.sum(terms, axis=ax) / n_classes
    if alpha is not None:
        smooth = alpha * smooth
    keep = w_t != 0
    loss = xp.where(keep, (1 - eps) * w_t * loss, 0.0)
    loss = loss + xp.where(target != ignore_index, eps * smooth, 0.0)
    return reduce(xp, loss, reduction, norm=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)



# -- linear_cross_entropy: cross-entropy of a linear head, chunk by chunk ---------------------
#: ``linear_cross_entropy``'s default chunking: rows of logits held at once, the largest power
#: of two that fits in this many elements (16 MB of float32; a power of two divides the usual
#: batch sizes, so no smaller last chunk needs buffers of its own), at least ``LCE_MIN_ROWS``
#: (fewer chunks: the head's weight is read once per chunk)
LCE_CHUNK_ELEMENTS = 2 ** 22
LCE_MIN_ROWS = 128


def _chunk_arg(chunk_size, n_classes):
    """``(rows, classes)`` per chunk from ``chunk_size`` (None, an int or a pair of ints)."""
    def positive(v, what):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 1:
            raise ValueError(f"chunk_size: {what} must be a positive int, got {v!r}")
        return int(v)

    whole = max(n_classes, 1)
    if chunk_size is None:
        fit = max(LCE_CHUNK_ELEMENTS // whole, 1)
        return max(LCE_MIN_ROWS, 1 << (fit.bit_length() - 1)), whole
    if isinstance(chunk_size, tuple) and len(chunk_size) == 2:
        return positive(chunk_size[0], "rows"), min(positive(chunk_size[1], "classes"), whole)
    if isinstance(chunk_size, (tuple, list)):
        raise ValueError(f"chunk_size must be None, an int or a pair (rows, classes), got {chunk_size!r}")
    return positive(chunk_size, "rows"), whole


def _lce_logits(xp, x, lw, lb, lo, hi):
    """The logits of classes ``lo:hi`` for the rows ``x``: ``x @ W[lo:hi].T (+ b[lo:hi])``."""
    z = xp.matmul(x, xp.matrix_transpose(lw[lo:hi, ...]))
    return z if lb is None else z + lb[lo:hi]


def _lce_lse(xp, x, lw, lb, spans):
    """``logsumexp`` of each row's logits, online over the class chunks ``spans`` (the shift
    gradient-free); returns ``(lse, cache)``, ``cache = (exp(z - m), sum)`` when there is one
    chunk (the gradient reuses them), else None. A row holding +inf, NaN or only -inf gives
    NaN (as torch's cross-entropy); a chunk of only -inf adds nothing."""
    m = s = e = None
    for lo, hi in spans:
        z = _lce_logits(xp, x, lw, lb, lo, hi)
        mk = xp.max(z, axis=-1)
        m_new = xp.stop_gradient(mk if m is None else xp.maximum(m, mk))
        e = xp.exp(z - m_new[:, None])
        z = None
        sk = xp.sum(e, axis=-1)
        if m is not None:
            # exp(m - m_new) rescales the running sum; nothing was added while m is -inf
            sk = sk + xp.where(m == -math.inf, xp.zeros_like(s), s * xp.exp(m - m_new))
        m, s = m_new, sk
    return xp.log(s) + m, ((e, s) if len(spans) == 1 else None)


def _lce_rows(xp, static, needs, acc, x, t, alpha, gamma, cot, lse, lw, lb, w):
    """One chunk of rows: ``(acc, (losses, lse, gx, galpha))``. With the rows' cotangents
    ``cot``, the gradients of ``sum(cot * loss)``: the rows' own returned, the parameters'
    added to the running sums ``acc = (gW, gb, gw)`` (one entry per class chunk each).

    ``loss_i = alpha_i (lse_i - z_{i,t_i}) + gamma_i (S_w lse_i - sum_c w_c z_ic)``, the
    target logit a gathered dot product and ``sum_c w_c z_ic = x_i . (w W) + w . b``.
    Gradients: ``dz = cot (a p - alpha onehot(t) - gamma w)`` with ``a = alpha + gamma S_w``,
    class chunk by class chunk, never more than one chunk of logits at a time.
    """
    _, n_classes, _, cols, smooth = static
    spans = [(lo, min(lo + cols, n_classes)) for lo in range(0, n_classes, cols)]
    cache = None
    if lse is None:
        lse, cache = _lce_lse(xp, x, lw, lb, spans)
    zt = xp.sum(x * xp.take_index(lw, t, axis=0), axis=-1)
    if lb is not None:
        zt = zt + xp.take_index(lb, t, axis=0)
    nll = lse - zt
    live = (alpha != 0) | (gamma != 0)  # ignored rows are silenced (their NaN too)
    loss = alpha * nll
    if smooth:
        s_w = n_classes if w is None else xp.sum(w)
        u = xp.sum(lw, axis=0) if w is None else xp.matmul(w, lw)
        sz = xp.matmul(x, u)
        if lb is not None:
            sz = sz + (xp.sum(lb) if w is None else xp.sum(w * lb))
        loss = loss + gamma * (s_w * lse - sz)
    loss = xp.where(live, loss, 0.0)
    if cot is None:
        return acc, (loss, lse, None, None)
    need_x, need_w, need_b, _, need_alpha, _, need_cw = needs
    ca, cg = cot * alpha, cot * gamma
    a = ca + cg * s_w if smooth else ca
    gws, gbs, gcws = (list(v) for v in acc)
    gx = None
    for k, (lo, hi) in enumerate(spans):
        if cache is not None:  # p = e / s from the log-sum-exp pass
            e, s = cache
            cache = None
            dz = e * (a / s)[:, None]
            e = None
        else:
            dz = a[:, None] * xp.exp(_lce_logits(xp, x, lw, lb, lo, hi) - lse[:, None])
        grid = xp.arange(lo, hi, dtype=t.dtype, device=xp.device(t))
        dz = xp.where(grid[None, :] == t[:, None], dz - ca[:, None], dz)
        if smooth:
            dz = dz - (cg[:, None] if w is None else cg[:, None] * w[None, lo:hi])
            if need_cw and w is not None:
                # sum_i cg_i (lse_i - z_ic), with cg . z = (cg x) W^T + sum(cg) b: no logits
                cz = xp.matmul(xp.matmul(cg, x), xp.matrix_transpose(lw[lo:hi, ...]))
                if lb is not None:
                    cz = cz + xp.sum(cg) * lb[lo:hi]
                gcws[k] = gcws[k] + (xp.sum(cg * lse) - cz)
        if need_x:
            gx = xp.addmm(gx, dz, lw[lo:hi, ...])
        if need_w:
            gws[k] = xp.addmm(gws[k], xp.matrix_transpose(dz), x)
        if need_b and lb is not None:
            gbs[k] = gbs[k] + xp.sum(dz, axis=0)
    return (gws, gbs, gcws), (loss, lse, gx, cot * nll if need_alpha else None)


def _lce_concat(xp, parts):
    return None if not parts or parts[0] is None else parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _lce_blocks(xp, static, needs, x, lw, lb, t, alpha, gamma, w, cot=None, lse=None):
    """:func:`_lce_rows` over the row chunks, a ``scan`` (``jax.lax.scan`` on JAX: one chunk
    live at a time) over the full chunks and one call for the rest: ``(losses, lse,
    gradients or None)``, one gradient per argument of :func:`_lce_fwd`: the rows'
    concatenated, the parameters' accumulated (one running sum each)."""
    _, n_classes, rows, cols, _ = static
    n, d = x.shape
    spans = [(lo, min(lo + cols, n_classes)) for lo in range(0, n_classes, cols)]
    acc = ([], [], [])
    if cot is not None:
        need_x, need_w, need_b, _, need_alpha, _, need_cw = needs
        for lo, hi in spans:
            acc[0].append(xp.zeros((hi - lo, d), dtype=x.dtype, device=xp.device(x)) if need_w else None)
            acc[1].append(xp.zeros_like(lb[lo:hi]) if need_b and lb is not None else None)
            acc[2].append(xp.zeros_like(w[lo:hi]) if need_cw and w is not None else None)
    rowwise = [a for a in (x, t, alpha, gamma, cot, lse) if a is not None]

    def body(carry, chunk):
        it = iter(chunk)
        xc, tc, ac, gc = next(it), next(it), next(it), next(it)
        cc = next(it) if cot is not None else None
        lc = next(it) if lse is not None else None
        return _lce_rows(xp, static, needs, carry, xc, tc, ac, gc, cc, lc, lw, lb, w)

    n_full, outs = n // rows, []
    if n_full:
        m = n_full * rows
        xs = tuple(xp.reshape(a[:m, ...], (n_full, rows) + tuple(a.shape[1:])) for a in rowwise)
        acc, ys = xp.scan(body, acc, xs)
        outs.append([None if y is None else xp.reshape(y, (m,) + tuple(y.shape[2:])) for y in ys])
    if n % rows or n == 0:
        acc, ys = body(acc, tuple(a[n_full * rows:, ...] for a in rowwise))
        outs.append(list(ys))
    loss, lse_all, gx, galpha = (_lce_concat(xp, [o[k] for o in outs]) for k in range(4))
    if cot is None:
        return loss, lse_all, None
    if n == 0:
        gx = xp.zeros_like(x) if need_x else None
        galpha = xp.zeros_like(alpha) if need_alpha else None
    grads = (gx, _lce_concat(xp, acc[0]), _lce_concat(xp, acc[1]), None, galpha, None, _lce_concat(xp, acc[2]))
    return loss, lse_all, grads


def _lce_fwd(xp, static, needs, x, lw, lb, t, alpha, gamma, w):
    """``custom_vjp`` forward of :func:`linear_cross_entropy`: the summed (``static[0]``) or
    per-row losses. For the sum, the gradients of a unit cotangent come from the same pass
    over the chunks (the backward pass scales them); per-row losses keep the rows'
    log-sum-exp, and the backward pass recomputes the logits chunk by chunk."""
    total = static[0]
    if total and needs is not None:
        loss, _, grads = _lce_blocks(xp, static, needs, x, lw, lb, t, alpha, gamma, w, cot=xp.ones_like(alpha))
        return xp.sum(loss), grads
    loss, lse, _ = _lce_blocks(xp, static, needs, x, lw, lb, t, alpha, gamma, w)
    if total:
        return xp.sum(loss), None
    return loss, (None if needs is None else (x, lw, lb, t, alpha, gamma, w, lse))


def _lce_bwd(xp, static, needs, res, g):
    """``custom_vjp`` backward of :func:`linear_cross_entropy`."""
    if static[0]:
        return tuple(None if r is None else xp.scale_consumed(r, g) for r in res)
    x, lw, lb, t, alpha, gamma, w, lse = res
    return _lce_blocks(xp, static, needs, x, lw, lb, t, alpha, gamma, w, cot=g, lse=lse)[2]


@check.entry
@group_doc
def linear_cross_entropy(input: ArrayT, linear_weight: ArrayT, target: ArrayT, *,
                         linear_bias: ArrayT | None = None, weight: ArrayT | None = None,
                         ignore_index: int | None = -100, mean_over: MeanOver = "weights",
                         reduction: Reduction = "mean", label_smoothing: float = 0.0,
                         chunk_size: int | tuple[int, int] | None = None, group: Group = None) -> ArrayT:
    r"""Cross-entropy of a linear head without materialising its ``N x V`` logits (Cut Cross-Entropy).

    ``cross_entropy(input @ W.T + b, target)``, computed chunk by chunk:

    .. math:: z_i = W x_i + b, \qquad
              \ell_i = w_{y_i}(1-\varepsilon)\big(\operatorname{lse}(z_i) - z_{i,y_i}\big)
              + \tfrac{\varepsilon}{V}\sum_c w_c\,\big(\operatorname{lse}(z_i) - z_{ic}\big)

    The value of :func:`cross_entropy` on ``linear(input, W, b)`` with class indices (its
    class weights, ``ignore_index``, label smoothing, ``mean_over`` and ``"mean"`` rule:
    ``sum_i w_{y_i} l_i / sum_i w_{y_i}``, NaN with a zero gradient when every position is
    ignored). The log-sum-exp is computed online over chunks of logits, the target logit as
    the gathered dot product ``x_i . W[y_i] + b[y_i]`` and the smoothing term as
    ``x_i . (w W) + w . b``. The gradient is a custom one (``torch.autograd.Function``,
    ``jax.custom_vjp``): for ``"mean"``/``"sum"`` it is computed in the forward pass, chunk
    by chunk, and scaled by the cotangent (one pass over the logits, no saved logits); for
    ``"none"`` the backward pass recomputes the logits chunk by chunk from the saved
    log-sum-exp. NumPy, Dask and array-api-strict compute the value by the same chunks.

    Chunking: ``chunk_size`` rows (batch chunking) of all ``V`` logits at a time, by default
    the largest power of two of rows whose logits fit in 16 MB of float32, at least 128
    (128 rows for V = 32000 and 64000); a pair ``(rows, classes)`` also
    chunks the vocabulary (online log-sum-exp; the gradient pass then computes each chunk's
    logits twice, once for the log-sum-exp and once for the gradient). At most one chunk of
    logits (and its gradient) is held at once; the gradients of ``input`` and
    ``linear_weight`` are the only full-size buffers. The number of chunks follows the
    (static) shapes: one trace under ``jax.jit``/``torch.compile`` per shape. It runs under
    ``jax.vmap`` and the ``torch.func`` transforms (``vmap``, ``grad``, ``vmap(grad(...))``).

    float16/bfloat16 arguments are computed in float32 (the logits, their log-sum-exp and
    the gradients accumulate in float32) and the result is cast back. A NaN in ``input`` makes
    its row's loss NaN, one in ``linear_weight``/``linear_bias`` every row's; ignored rows
    are silenced. Class weights receive their gradient too.

    Args:
        input: features ``x``, shape ``(..., D)``: ``(D,)``, ``(N, D)`` or ``(B, L, D)``
            (torch's twin takes 1-D and 2-D inputs only).
        linear_weight: the head's weight ``W``, shape ``(V, D)`` (``torch.nn.Linear(D, V)``'s).
        target: class indices, shape ``input.shape[:-1]``, any integer dtype.
        linear_bias: optional bias ``b``, shape ``(V,)``.
        weight: optional per-class weights, shape ``(V,)``.
        ignore_index: target value that is skipped (None: -100, as torch's twin).
        mean_over: as :func:`cross_entropy` (``"weights"``: torch's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (shape ``input.shape[:-1]``).
        label_smoothing: ε in [0, 1], torch's ε/V convention.
        chunk_size: rows per chunk (an int), or ``(rows, classes)``; None: the default above.
    {group}

    Returns:
        The loss: a 0-d array, or ``input.shape[:-1]`` for ``"none"``, of the promoted float
        dtype of ``input``, ``linear_weight``, ``linear_bias`` and ``weight``.

    Raises:
        ValueError: ``linear_weight`` not 2-D or not ``(V, D)`` for ``input``'s ``D``, a
            ``linear_bias``/``weight`` not ``(V,)``, a target not of shape
            ``input.shape[:-1]``, ``label_smoothing`` outside [0, 1], a bad
            ``reduction``/``mean_over``/``chunk_size``; eagerly, class indices outside
            ``[0, V)`` other than ``ignore_index``.
        TypeError: non-floating ``input``/``linear_weight``, a floating ``target``
            (class-probability targets are not supported: use :func:`cross_entropy` on the
            logits), complex arguments, a non-int ``ignore_index``.

    References: Wijmans et al. 2024, "Cut Your Losses in Large-Vocabulary Language Models"
    (Cut Cross-Entropy); Milakov & Gimelshein 2018 (online softmax normaliser).

    Peer twins: ``torch.nn.functional.linear_cross_entropy`` (torch 2.13; reference path
    ``options=None`` and the chunked ``options=torch.nn.LinearCrossEntropyOptions()``, which
    takes no label smoothing), i.e. ``F.cross_entropy(F.linear(input, W, b), target, ...)``
    for 2-D inputs; for ``(B, L, D)`` inputs, the same on ``input.reshape(-1, D)`` and
    ``target.reshape(-1)``.

    Example:
        >>> x = np.array([[1.0, 0.0], [0.0, 2.0]])
        >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        >>> t = np.array([0, 1])
        >>> ref = np.mean(np.log(np.exp(x @ W.T).sum(1)) - (x @ W.T)[[0, 1], t])
        >>> bool(np.isclose(losses.linear_cross_entropy(x, W, t, chunk_size=1), ref))
        True
    """
    xp = namespace(input=input, linear_weight=linear_weight, target=target, linear_bias=linear_bias,
                   weight=weight)
    ignore_index = -100 if ignore_index is None else ignore_index
    _class_args(input, target, weight, reduction, mean_over, ignore_index, None)
    group = xp.check_group(group)
    check.finite_number(label_smoothing, "label_smoothing", low=0, high=1)
    check.floating(xp, linear_weight, "linear_weight")
    if check.is_floating(xp, target):
        raise TypeError(f"linear_cross_entropy: target must hold class indices (an integer dtype), got "
                        f"{target.dtype}; class-probability targets are not supported (use cross_entropy "
                        "on the logits)")
    check.ndim_at_least(input, 1, "input")
    if linear_weight.ndim != 2 or linear_weight.shape[1] != input.shape[-1]:
        raise ValueError(f"linear_weight must have the shape (V, {input.shape[-1]}) (D = input.shape[-1] "
                         f"of input {tuple(input.shape)}), got {tuple(linear_weight.shape)}")
    n_classes = linear_weight.shape[0]
    if linear_bias is not None and tuple(linear_bias.shape) != (n_classes,):
        raise ValueError(f"linear_bias must have the shape ({n_classes},) of one bias per class, "
                         f"got {tuple(linear_bias.shape)}")
    shape = tuple(input.shape[:-1])
    if tuple(target.shape) != shape:
        raise ValueError(f"linear_cross_entropy: target must have shape {shape} (input {tuple(input.shape)} "
                         f"without its feature axis), got {tuple(target.shape)}")
    check.integer(xp, target, "target")
    rows, cols = _chunk_arg(chunk_size, n_classes)
    _, out_dtype, (x, lw, lb, w) = float_args(xp, input, linear_weight, linear_bias, weight,
                                              names=("input", "linear_weight", "linear_bias", "weight"))
    _class_weight_shape(w, n_classes)
    n = math.prod(shape)
    keep, safe_t = _safe_targets(xp, target, n_classes, ignore_index)
    if group is None and chunk_size is None and w is None and n <= rows:  # one chunk holds every logit
        def finite_head():
            head = xp.sum(lw) if lb is None else xp.sum(lw) + xp.sum(lb)
            return check.read_fact(xp, head, test=math.isfinite)

        out = xp.fast("linear_cross_entropy", x, lw, lb, target, ignore_index, reduction, mean_over,
                      float(label_smoothing), out_dtype, all_finite=finite_head)
        if out is not NotImplemented:
            return out
    w_t = _weights_at(xp, keep, safe_t, w, x.dtype)
    if safe_t.dtype not in (xp.int32, xp.int64):  # take and gather want wide indices
        safe_t = xp.astype(safe_t, xp.int64)
    eps = float(label_smoothing)
    w_t = xp.reshape(w_t, (n,))
    alpha = (1 - eps) * w_t if eps else w_t
    gamma = cast(xp, xp.reshape(keep, (n,)), x.dtype) * (eps / max(n_classes, 1))
    static = (reduction != "none", n_classes, rows, cols, eps != 0)
    out = xp.custom_vjp(_lce_fwd, _lce_bwd, static, xp.reshape(x, (n, x.shape[-1])), lw, lb,
                        xp.reshape(safe_t, (n,)), alpha, gamma, w)
    if reduction == "none":
        out = xp.reshape(out, shape)
    elif group is not None:  # the group's sums: the global batch's value
        out = global_sum(xp, out, group)
        if reduction == "mean":
            den = global_sum(xp, w_t, group) if mean_over == "weights" else global_count(xp, out, n, group)
            out = safe_divide(xp, out, den)
    elif reduction == "mean" and mean_over == "weights":
        out = safe_divide(xp, out, xp.sum(w_t))
    elif reduction == "mean":
        out = out / n if n else out * math.nan
    return xp.as_array(cast(xp, out, out_dtype))
