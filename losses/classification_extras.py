"""Classification extras: Poly-1 cross-entropy, knowledge distillation, generalized
cross-entropy, soft F1."""
from __future__ import annotations

from typing import Literal

from . import _validate as check
from ._common import class_axis, class_target, float_args, numel, safe_divide
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .classification import (
    MeanOver,
    _array_arg,
    _axis_arg,
    _class_args,
    _class_setup,
    _class_weight_shape,
    _log_or_neg_inf,
    _target_weights,
    _weight_along,
)

__all__ = [
    "poly1_cross_entropy",
    "distillation_loss",
    "generalized_cross_entropy",
    "soft_f1_loss",
]


# -- shared pieces of the softmax losses (the integer-target helpers are classification's) -------
def _prob_setup(xp, input, target, weight, axis, what):
    """Checks for probability targets (input's shape), dtypes before values.

    Returns ``(axis, C, z, y, w, out_dtype)`` cast to the compute dtype.
    """
    if tuple(target.shape) != tuple(input.shape):
        raise TypeError(
            f"{what}: a floating target is read as class probabilities and must have input's "
            f"shape {tuple(input.shape)}, got {tuple(target.shape)}; class indices need an "
            f"integer dtype, got {target.dtype}"
        )
    check.ndim_at_least(input, 1, "input")
    ax = class_axis(input, axis)
    _, out_dtype, (z, y, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    _class_weight_shape(w, input.shape[ax])
    check.values_in(xp, y, "target", 0, 1, what="class probabilities")
    return ax, input.shape[ax], z, y, w, out_dtype


def _log_pt(xp, z, target, ax, n_classes, ignore_index, w):
    """``log p_t = z_t - logsumexp(z)`` (torch's cross-entropy values on ±inf rows: NaN for
    a row holding +inf or only -inf) and the per-position target weights (class indices
    checked eagerly)."""
    safe_t, w_t = _target_weights(xp, target, n_classes, ignore_index, w, z.dtype)
    return -xp.nll_logits(z, safe_t, axis=ax), w_t


# -- Poly-1 ----------------------------------------------------------------------------------------
@check.entry
@group_doc
def poly1_cross_entropy(input: ArrayT, target: ArrayT, *, epsilon: float = 2.0,
                        weight: ArrayT | None = None, ignore_index: int = -100,
                        mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                        axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Poly-1 cross-entropy (Leng et al. 2022, PolyLoss).

    .. math:: \ell_i = -\log p_{i,t} + \epsilon\,(1 - p_{i,t}), \qquad p = \operatorname{softmax}(z)

    Integer targets: ``log p_t = z_t - logsumexp(z)`` with a gather (no one-hot), ``p_t =
    exp(log p_t)``; class weights multiply the whole term, ignored positions get weight 0 and
    ``"mean"`` divides by the summed target weights (as :func:`~losses.cross_entropy`).
    Probability targets (floating, ``input``'s shape): ``l_i = sum_c y_ic (-log p_ic +
    ε (1 - p_ic))`` (optax's form; class weights scale ``y``), ``"mean"`` over positions.
    ``epsilon=0`` is exactly cross-entropy (±inf logits included: a row holding +inf is NaN,
    as torch's cross-entropy).

    Args:
        input: logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (``input``'s shape without the class axis) or class
            probabilities (``input``'s shape).
        epsilon: the Poly-1 coefficient ε >= -1 (default 2, the paper's ImageNet setting and
            optax's default).
        weight: optional per-class weights, shape ``(C,)``.
        ignore_index: target value that is skipped (integer targets).
        mean_over: what a weighted ``"mean"`` of integer targets divides by: ``"weights"``
            (default, ``sum w_t l / sum w_t``) or ``"elements"`` (``sum w_t l / N``, every
            position counted), as :func:`~losses.cross_entropy`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: class axis (default 1, or 0 for 1-D input, as torch; optax uses -1).
    {group}

    Returns:
        A scalar, or the per-position loss for ``reduction="none"``.

    Raises:
        ValueError: wrong target/weight shape, ``epsilon`` < -1, bad
            ``reduction``/``mean_over``/``axis``; eagerly, class indices outside ``[0, C)``
            or probabilities outside [0, 1].
        TypeError: non-floating ``input``; floating target that is not ``input``'s shape;
            complex ``target``/``weight``; non-int ``ignore_index``.

    References: Leng et al. 2022, "PolyLoss: A Polynomial Expansion Perspective of
    Classification Loss Functions" (ICLR).

    Peer twins: ``optax.losses.poly_loss_cross_entropy(logits, labels, epsilon)`` = probability (or
    one-hot) targets with ``axis=-1, reduction="none"``.

    Example:
        >>> z = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]])
        >>> y = np.array([0, 1])
        >>> bool(np.isclose(losses.poly1_cross_entropy(z, y, epsilon=0.0), losses.cross_entropy(z, y)))
        True
        >>> round(float(losses.poly1_cross_entropy(z, y)), 4)
        1.0347
    """
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    check.finite_number(epsilon, "epsilon", low=-1)
    if check.is_floating(xp, target):
        ax, _, z, y, w, out_dtype = _prob_setup(xp, input, target, weight, axis, "poly1_cross_entropy")
        if w is not None:
            y = y * _weight_along(xp, w, z.ndim, ax)
        log_p = xp.log_softmax(z, axis=ax)
        loss = -xp.sum(y * log_p, axis=ax) + epsilon * xp.sum(y * (1 - xp.exp(log_p)), axis=ax)
        return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
    ax, n_classes, z, w, out_dtype = _class_setup(xp, input, target, weight, axis, "poly1_cross_entropy")
    log_pt, w_t = _log_pt(xp, z, target, ax, n_classes, ignore_index, w)
    loss = -log_pt - epsilon * xp.expm1(log_pt)
    return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


# -- knowledge distillation ------------------------------------------------------------------------
@check.entry
@group_doc
def distillation_loss(student_logits: ArrayT, teacher_logits: ArrayT, *, temperature: float = 1.0,
                      target: ArrayT | None = None, alpha: float | None = None,
                      reduction: Reduction = "mean", axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Knowledge-distillation loss (Hinton et al. 2015).

    .. math::
        \ell_n = \alpha\,T^2\,\mathrm{KL}\big(\operatorname{softmax}(t_n/T)\ \Vert\
                 \operatorname{softmax}(s_n/T)\big) + (1 - \alpha)\,\mathrm{CE}(s_n, y_n)

    The soft term is computed from two ``log_softmax`` (stable for logits of any size); the
    ``T^2`` factor keeps its gradient scale independent of ``T``. The hard term (plain
    cross-entropy at temperature 1) is present only when ``target`` is given. Gradients flow
    into both logits; pass a detached/``stop_gradient`` teacher to freeze it.

    Args:
        student_logits: ``s``, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        teacher_logits: ``t``, same shape.
        temperature: ``T > 0`` (default 1).
        target: optional hard labels (an integer array of class indices, the logits' shape
            without the class axis).
        alpha: weight α in [0, 1] of the soft term. Default: 1 without ``target`` (soft term
            only), 0.5 with it. Without ``target`` only ``alpha=None`` or 1 is accepted.
        reduction: ``"mean"`` (over samples: ``"batchmean"`` KL) | ``"sum"`` | ``"none"``.
        axis: class axis (default 1, or 0 for 1-D input, as torch).
    {group}

    Returns:
        A scalar, or the per-sample loss (shape without the class axis) for ``"none"``.

    Raises:
        ValueError: shapes differ, ``temperature`` <= 0, ``alpha`` outside [0, 1] or given
            without ``target``, bad ``reduction``/``axis``; eagerly, class indices out of range.
        TypeError: non-floating or complex logits; ``target`` that is not an integer array
            (a Python number included).

    References: Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural network".

    Peer twins: ``T**2 * torch.nn.functional.kl_div(log_softmax(s / T, 1), log_softmax(t /
    T, 1), reduction="batchmean", log_target=True)`` for ``(N, C)`` logits without target;
    with target add ``(1 - α) * F.cross_entropy(s, y)`` and scale the first term by α.

    Example:
        >>> s = np.array([[2.0, 0.5, -1.0]])
        >>> float(losses.distillation_loss(s, s, temperature=2.0))  # student equals teacher
        0.0
        >>> round(float(losses.distillation_loss(s, np.array([[0.0, 1.0, 0.0]]), temperature=2.0)), 4)
        0.8381
    """
    xp = namespace(student_logits=student_logits, teacher_logits=teacher_logits, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.finite_number(temperature, "temperature", low=0, low_open=True)
    _axis_arg(axis)
    if alpha is not None:
        check.finite_number(alpha, "alpha", low=0, high=1)
    if target is None:
        if alpha not in (None, 1):
            raise ValueError(f"alpha weighs the soft term against the hard-label term and needs target; got alpha={alpha!r} without target")
        a = 1.0
    else:
        _array_arg(target, "target")
        a = 0.5 if alpha is None else alpha
    _, out_dtype, (s, t) = float_args(xp, student_logits, teacher_logits,
                                      names=("student_logits", "teacher_logits"))
    check.same_shape(s, t, "student_logits", "teacher_logits")
    check.ndim_at_least(s, 1, "student_logits")
    ax = class_axis(s, axis, "student_logits")
    if target is not None:
        _, n_classes, _ = class_target(xp, student_logits, target, ax, "distillation_loss",
                                       input_name="student_logits")
        check.class_indices(xp, target, n_classes, "target")
    inv_t = 1.0 / temperature
    log_ps = xp.log_softmax(s * inv_t, axis=ax)
    log_pt = xp.log_softmax(t * inv_t, axis=ax)
    soft = (temperature * temperature) * xp.sum(xp.exp(log_pt) * (log_pt - log_ps), axis=ax)
    loss = soft if a == 1 else a * soft
    if target is not None and a != 1:
        ce = xp.nll_logits(s, target, axis=ax)
        loss = loss + (1 - a) * ce
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


# -- generalized cross-entropy ---------------------------------------------------------------------
@check.entry
@group_doc
def generalized_cross_entropy(input: ArrayT, target: ArrayT, *, q: float = 0.7,
                              weight: ArrayT | None = None, ignore_index: int = -100,
                              mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                              axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Generalized cross-entropy, the noise-robust ``L_q`` loss (Zhang & Sabuncu 2018).

    .. math:: \ell_i = \frac{1 - p_{i,t}^{\,q}}{q}, \qquad p = \operatorname{softmax}(z)

    computed as ``-expm1(q log p_t) / q`` with ``log p_t = z_t - logsumexp(z)`` (finite
    value and gradient for logits of any size). ``q -> 0`` is cross-entropy (``q=0`` gives it
    exactly, ±inf logits included); ``q = 1`` is the MAE loss ``1 - p_t``. Probability /
    one-hot targets use ``p_t = sum_c y_c p_c`` (computed in log space). Class weights,
    ``ignore_index``, ``mean_over`` and the ``"mean"`` rule (integer targets) as
    :func:`~losses.cross_entropy`; probability targets accept no ``weight``.

    Args:
        input: logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices, or class probabilities of ``input``'s shape.
        q: in [0, 1] (default 0.7, the paper's setting).
        weight: optional per-class weights ``(C,)`` (integer targets).
        ignore_index: skipped target value (integer targets).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default) or
            ``"elements"``, as :func:`~losses.cross_entropy`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: class axis (default 1, or 0 for 1-D input).
    {group}

    Returns:
        A scalar, or the per-position loss for ``reduction="none"``.

    Raises:
        ValueError: wrong shapes, ``q`` outside [0, 1], ``weight`` with probability targets,
            bad ``reduction``/``mean_over``/``axis``; eagerly, class indices out of range or
            probabilities outside [0, 1].
        TypeError: non-floating ``input``, complex ``target``/``weight``, non-int
            ``ignore_index``.

    References: Zhang & Sabuncu 2018, "Generalized cross entropy loss for training deep
    neural networks with noisy labels" (NeurIPS).

    Peer twins: the Keras-style implementations on one-hot labels and probabilities,
    ``(1 - sum(y_true * y_pred, -1) ** q) / q`` with ``y_pred = softmax(input)``: one-hot
    ``target``, ``axis=-1``, ``reduction="none"``. No torch/optax twin.

    Example:
        >>> z = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]])
        >>> y = np.array([0, 1])
        >>> round(float(losses.generalized_cross_entropy(z, y)), 4)  # mean of (1 - p_t ** 0.7) / 0.7
        0.3398
    """
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    check.finite_number(q, "q", low=0, high=1)
    if check.is_floating(xp, target):
        if weight is not None:
            raise ValueError("generalized_cross_entropy: weight is only supported with integer class targets")
        ax, _, z, y, _, out_dtype = _prob_setup(xp, input, target, None, axis, "generalized_cross_entropy")
        log_pt = xp.logsumexp(_log_or_neg_inf(xp, y) + xp.log_softmax(z, axis=ax), axis=ax)
        w_t = None
    else:
        ax, n_classes, z, w, out_dtype = _class_setup(xp, input, target, weight, axis, "generalized_cross_entropy")
        log_pt, w_t = _log_pt(xp, z, target, ax, n_classes, ignore_index, w)
    loss = -log_pt if q == 0 else -xp.expm1(q * log_pt) / q
    return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


# -- soft F1 ---------------------------------------------------------------------------------------
@check.entry
@group_doc
def soft_f1_loss(input: ArrayT, target: ArrayT, *, average: Literal["binary", "macro"] = "binary",
                 from_logits: bool = False, eps: float = 1e-16, axis: int | None = -1,
                 reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Differentiable F1 loss on probabilities: ``1 - soft F1``.

    .. math::
        \mathrm{TP} = \sum p\,y,\quad \mathrm{FP} = \sum p\,(1 - y),\quad \mathrm{FN} = \sum (1-p)\,y,
        \qquad \ell = 1 - \frac{2\,\mathrm{TP}}{2\,\mathrm{TP} + \mathrm{FP} + \mathrm{FN} + \varepsilon}

    ``average="binary"``: the sums run over every element (one F1). ``average="macro"``:
    the sums run over every axis but ``axis`` (the labels), giving one loss per label, then
    ``reduction`` combines them (``"mean"`` = macro soft-F1 loss). With no positive and no
    predicted mass (an empty class) the F1 is 0 and the loss 1, with zero gradient; with
    ``average="macro"`` that is also each label's loss for an empty batch. With
    ``average="binary"`` an input with no elements has no loss, as every loss: ``"mean"``
    is NaN, ``"sum"`` 0 and ``"none"`` empty. A NaN anywhere gives NaN (for ``"macro"``:
    the labels that read it).

    Args:
        input: probabilities in [0, 1] (or logits with ``from_logits=True``), any shape.
        target: labels in [0, 1] (soft labels allowed; integer/bool accepted), same shape.
        average: ``"binary"`` | ``"macro"``.
        from_logits: apply a sigmoid to ``input`` first (a bool).
        eps: ε >= 0 added to the denominator (default 1e-16).
        axis: the label axis for ``average="macro"`` (default -1); checked against
            ``input``'s dimensions for either ``average``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over labels (``"macro"``); the
            ``"binary"`` loss is a scalar for every reduction.
    {group}
            The TP, FP and FN sums run over the whole group's batch (one ``all_sum``): every
            member gets the global loss (``"none"``: the global per-label losses).

    Returns:
        A scalar, or the per-label losses for ``average="macro", reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``average``/``axis``/``eps``/``reduction``; eagerly,
            ``target`` (and ``input`` unless ``from_logits``) outside [0, 1].
        TypeError: non-floating ``input``, complex ``target``, non-bool ``from_logits``.

    References: the "macro soft-F1" loss (Maiza 2019, "The unknown benefits of using a soft-F1
    loss in classification systems"); van Rijsbergen 1979 for F1.

    Peer twins: the TensorFlow ``macro_soft_f1(y, y_hat)`` of that reference =
    ``average="macro", axis=-1, eps=1e-16`` on ``(N, C)`` probabilities. No torch/optax twin.

    Example:
        >>> y = np.array([1.0, 0.0, 1.0, 0.0])
        >>> float(losses.soft_f1_loss(y, y))  # a perfect prediction
        0.0
        >>> round(float(losses.soft_f1_loss(np.array([0.9, 0.2, 0.6, 0.1]), y)), 4)
        0.2105
    """
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.choice(average, "average", ("binary", "macro"))
    check.finite_number(eps, "eps", low=0)
    check.flag(from_logits, "from_logits")
    _axis_arg(axis)
    _, out_dtype, (x, y) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(x, y, "input", "target")
    if average == "macro":
        check.ndim_at_least(x, 1, "input")
    ax = class_axis(x, axis) if x.ndim or average == "macro" else None
    check.values_in(xp, y, "target", 0, 1, what="labels")
    if not from_logits:
        check.values_in(xp, x, "input", 0, 1, what="probabilities (or from_logits=True)")
    p = xp.sigmoid(x) if from_logits else x
    if average == "binary":
        if numel(x) == 0:  # nothing to average: the empty-batch rule of every loss
            empty_axis = tuple(x.shape).index(0)  # a sum over the others: shape (0,), no reshape
            nothing = xp.sum(p * y, axis=tuple(i for i in range(x.ndim) if i != empty_axis))
            return reduce(xp, nothing, reduction, out_dtype=out_dtype)  # every shard is empty
        dims = None
    else:
        dims = tuple(i for i in range(x.ndim) if i != ax)
    tp = xp.sum(p * y, axis=dims)
    fp = xp.sum(p * (1 - y), axis=dims)
    fn = xp.sum((1 - p) * y, axis=dims)
    if group is not None:  # the counts of the whole group's batch: one collective
        tp, fp, fn = xp.unstack(xp.all_sum(xp.stack([tp, fp, fn]), group))
    f1 = safe_divide(xp, 2 * tp, 2 * tp + fp + fn + eps, fill=0.0)
    return reduce(xp, 1 - f1, reduction, out_dtype=out_dtype)  # (per label) already global
