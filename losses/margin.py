"""Margin and ranking losses (``torch.nn.functional`` semantics) and SVM hinge losses."""
from __future__ import annotations

import math
from typing import Literal, get_args

from . import _validate as check
from ._common import (
    arange_like,
    cast,
    class_axis,
    class_target,
    fill_doc,
    float_args,
    norm_floor,
    numel,
    relu0,
    relu1,
)
from ._reduction import MEAN_OVER, group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

__all__ = [
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "margin_ranking_loss",
    "cosine_embedding_loss",
    "cosine_similarity_loss",
    "hinge_loss",
    "squared_hinge_loss",
    "multiclass_hinge_loss",
]

#: the constant torch adds to each squared norm in ``cosine_embedding_loss``
_TORCH_COSINE_EPS = 1e-12


#: ``target_encoding=`` of the binary hinge losses: targets in {-1, 1} or in {0, 1}
TargetEncoding = Literal["pm1", "01"]

#: ``mean_over=`` of the weighted losses: what a weighted ``"mean"`` divides by, the weight
#: sum (``"weights"``) or the number of loss elements (``"elements"``, torch's rule where the
#: twin takes ``weight=``)
MeanOver = Literal["weights", "elements"]


def _finite_sum(xp, x):
    """The sum of the detached values of ``x`` (a fact about them, not part of the loss),
    finite only if every value is (a NaN or an infinity makes it NaN or infinite); a sum that
    overflows from finite terms says "not finite", which only costs the caller its fast path.
    One pass, no full-size temporary; read with the call's value checks and tested on the host
    (:func:`_all_finite`)."""
    return xp.sum(xp.stop_gradient(x))


def _all_finite(xp, x):
    """Whether every value of ``x`` is finite (see :func:`_finite_sum`), read in the call's
    one host read: True, False, or None where nothing can be read (traced; value checks off
    on a device, see ``check.read_fact``)."""
    return check.read_fact(xp, _finite_sum(xp, x), test=math.isfinite)


def _zeros_where_not(xp, cond, x):
    return xp.where(cond, x, 0.0)


def _pm1_select(xp, y, pos, neg):
    """``pos`` where ``y == 1``, ``neg`` where ``y == -1`` and NaN for any other label.

    Other labels (NaN included) are refused eagerly; under ``jit``/on Dask, where values
    cannot be checked, they give NaN rather than a silent number (DESIGN rule 5)."""
    return xp.where(y == 1, pos, xp.where(y == -1, neg, xp.full_like(neg, float("nan"))))


def _axis_arg(axis):
    """``axis`` must be an int (a bool is refused) or None."""
    if isinstance(axis, bool):
        raise TypeError(f"axis must be an int, got {axis!r}")


def _weighted_options(mean_over, reduction):
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", MEAN_OVER)


@check.entry
@group_doc
def hinge_embedding_loss(input: ArrayT, target: ArrayT, *, margin: float = 1.0,
                         reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Hinge embedding loss (``torch.nn.functional.hinge_embedding_loss``).

    .. math::
        \ell_i = \begin{cases} x_i & y_i = 1 \\ \max(0,\ \Delta - x_i) & y_i = -1 \end{cases}

    Usually ``x`` is a distance (e.g. L1 distance between two embeddings) and ``y`` says
    whether the pair is similar (1) or dissimilar (-1). The subgradient at ``x == Δ`` is
    torch's (``-1`` for ``y = -1``: ``clamp_min`` lets the gradient through at the kink).

    Args:
        input: ``x``, any shape, real floating dtype.
        target: labels in {-1, 1}, same shape as ``input`` (integer or floating dtype).
        margin: Δ, a finite real number (default 1).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss (``input``'s shape) for ``reduction="none"``,
        with the promoted floating dtype of the inputs.

    Raises:
        ValueError: shapes differ (torch broadcasts), bad ``reduction``/``margin``; eagerly,
            ``target`` values other than -1 and 1, NaN included (torch silently adds both
            branches for other values). Under ``jit``/on Dask such labels give NaN.
        TypeError: non-floating ``input``, complex ``target``, a non-number ``margin``.

    References: PyTorch ``HingeEmbeddingLoss``, a hinge on pair distances as in the
    contrastive loss of Hadsell, Chopra & LeCun 2006 ("Dimensionality reduction by learning
    an invariant mapping").

    Peer twins: ``torch.nn.functional.hinge_embedding_loss(input, target, margin=Δ)``
    (identical for every setting).

    Example:
        >>> d = np.array([0.3, 0.3, 1.5])  # distances of a similar and two dissimilar pairs
        >>> losses.hinge_embedding_loss(d, np.array([1, -1, -1]), reduction="none")  # x, 1 - x, 0
        array([0.3, 0.7, 0. ])
    """
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.finite_number(margin, "margin")
    _, out_dtype, (x, y) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(x, y, "input", "target")
    check.values_among(xp, y, "target", (-1, 1))
    loss = _pm1_select(xp, y, x, relu1(xp, margin - x))
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def soft_margin_loss(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
                     group: Group = None) -> ArrayT:
    r"""Two-class logistic loss on ±1 labels (``torch.nn.functional.soft_margin_loss``).

    .. math:: \ell_i = \log\big(1 + e^{-y_i x_i}\big) = \operatorname{softplus}(-y_i x_i)

    computed with the stable ``softplus`` primitive (finite value and gradient for scores of
    any magnitude, ±1e4 included).

    Args:
        input: scores ``x``, any shape, real floating dtype.
        target: labels ``y`` (normally -1 or 1; any real value is accepted, as torch), same
            shape as ``input``.
        reduction: ``"mean"`` (over all elements) | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``.
        TypeError: non-floating ``input``, complex ``target``.

    References: PyTorch ``SoftMarginLoss``. With ``y = 2t - 1`` it equals
    :func:`~losses.binary_cross_entropy_with_logits` on 0/1 labels ``t``.

    Peer twins: ``torch.nn.functional.soft_margin_loss`` (identical).

    Example:
        >>> x, y = np.array([2.0, -1.0]), np.array([1.0, 1.0])
        >>> losses.soft_margin_loss(x, y, reduction="none")  # log(1 + exp(-y x))
        array([0.1269, 1.3133])
        >>> bool(np.isclose(losses.soft_margin_loss(x, y), losses.binary_cross_entropy_with_logits(x, (y + 1) / 2)))
        True
    """
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    _, out_dtype, (x, y) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(x, y, "input", "target")
    return reduce(xp, xp.softplus(x * -y), reduction, out_dtype=out_dtype, group=group)  # no negation in the backward


@check.entry
@group_doc
def multilabel_soft_margin_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                                mean_over: MeanOver = "elements", reduction: Reduction = "mean",
                                group: Group = None) -> ArrayT:
    r"""Multi-label one-versus-all logistic loss (``torch.nn.functional.multilabel_soft_margin_loss``).

    .. math:: \ell_n = \frac{1}{C}\sum_{c=1}^{C} w_c\big[y_{nc}\,\operatorname{softplus}(-x_{nc})
              + (1 - y_{nc})\,\operatorname{softplus}(x_{nc})\big]

    The classes are the last axis. ``weight`` scales each class term *inside* the per-sample
    mean over classes (torch's rule). A weighted ``"mean"`` then averages the samples
    (``mean_over="elements"``, torch's rule) or divides ``sum_{n,c} w_{nc} l_{nc}`` by the
    weight sum ``sum_{n,c} w_{nc}`` (``mean_over="weights"``). Written as torch writes it
    (two ``softplus`` terms), so ±inf logits give torch's IEEE results.

    Args:
        input: logits, shape ``(..., C)`` (usually ``(N, C)``), real floating dtype.
        target: labels of the same shape, usually multi-hot in [0, 1]; any real value is
            accepted, as torch (the formula is linear in ``target``).
        weight: optional class weights broadcastable to ``input`` (usually ``(C,)``).
        mean_over: what a weighted ``"mean"`` divides by: ``"elements"`` (default, torch:
            the number of samples) or ``"weights"`` (the weight sum over samples and classes,
            divided by ``C``). Without ``weight`` both are the plain mean.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (``"none"`` gives shape ``(...)``).
    {group}

    Returns:
        A scalar, or the per-sample loss (``input.shape[:-1]``) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``weight`` does not broadcast, bad ``reduction``/``mean_over``.
        TypeError: non-floating ``input``, complex ``target``/``weight``.

    References: PyTorch ``MultiLabelSoftMarginLoss``.

    Peer twins: ``torch.nn.functional.multilabel_soft_margin_loss(input, target, weight=w)``
    (identical, ±inf included; ``mean_over="elements"``).

    Example:
        >>> x = np.array([[2.0, -1.0, 0.0]])
        >>> y = np.array([[1.0, 0.0, 1.0]])
        >>> round(float(losses.multilabel_soft_margin_loss(x, y)), 4)  # mean of the 3 logistic terms
        0.3778
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    _weighted_options(mean_over, reduction)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    check.ndim_at_least(x, 1, "input")
    check.same_shape(x, y, "input", "target")
    check.broadcastable(w, "weight", x.shape, "input")
    out = NotImplemented if group is not None else xp.fast(
        "multilabel_soft_margin_loss", x, y, w, reduction, out_dtype, mean_over=mean_over)
    if out is not NotImplemented:
        return out
    loss = y * xp.softplus(-x) + (1 - y) * xp.softplus(x)
    n_classes = x.shape[-1]
    norm = None
    if w is not None:
        loss = loss * w
        if mean_over == "weights" and reduction == "mean":
            norm = xp.sum(xp.broadcast_to(w, x.shape), axis=-1) / n_classes
    loss = xp.sum(loss, axis=-1) / n_classes
    return reduce(xp, loss, reduction, norm=norm, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _margin_target(xp, input, target, what):
    """torch's shape rules of ``multi_margin_loss``: ``input`` 0-d (one class), ``(C,)`` or
    ``(N, C)`` with a target of ``N`` (or 1) class indices of shape ``()`` or ``(N,)``; beyond
    torch, ``(..., C)`` with a target of shape ``input.shape[:-1]``.

    Returns ``(x of shape (..., C), target of shape (...), shape of the per-sample loss)``.
    """
    if not hasattr(target, "dtype") or not hasattr(target, "shape"):
        raise TypeError(f"target must be an array of integer class indices, got {type(target).__name__}")
    check.integer(xp, target, "target")
    x = xp.reshape(input, (1,)) if input.ndim == 0 else input
    lead = tuple(x.shape[:-1])
    shape = tuple(target.shape)
    ok = shape == lead or (input.ndim <= 2 and target.ndim <= 1 and numel(target) == math.prod(lead))
    if not ok:
        if input.ndim > 2 or lead not in ((), (1,)):
            expected = f"{lead}"
        else:
            expected = f"{lead} or ()" if lead else "() or (1,)"
        raise ValueError(
            f"{what}: target must have shape {expected} (one class index per row of input "
            f"{tuple(input.shape)}), got {shape}"
        )
    return x, target if shape == lead else xp.reshape(target, lead), shape


@check.entry
@group_doc
def multi_margin_loss(input: ArrayT, target: ArrayT, *, p: int = 1, margin: float = 1.0,
                      weight: ArrayT | None = None, mean_over: MeanOver = "elements",
                      reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Multi-class hinge loss of Weston & Watkins (``torch.nn.functional.multi_margin_loss``).

    .. math:: \ell_n = \frac{1}{C}\sum_{i \ne y_n} w_{y_n}\,\max(0,\ \Delta - x_{n,y_n} + x_{n,i})^p

    The weight of the target class multiplies each term *after* the power (what torch
    computes; its documentation puts ``w`` inside the max). The subgradient at a kink is 0
    (torch only counts terms with a strictly positive margin violation). A NaN score gives a
    NaN loss (torch's kernel drops it: ``if (z > 0)`` is false for NaN).

    Args:
        input: scores, shape ``(N, C)``, ``(C,)`` or ``()`` (one class), as torch; also
            ``(..., C)``. Real floating dtype.
        target: class indices, any integer dtype: shape ``(N,)`` for ``(N, C)`` scores
            (``()`` too when ``N == 1``), ``()`` or ``(1,)`` for ``(C,)`` or ``()`` scores,
            ``input.shape[:-1]`` otherwise.
        p: 1 or 2.
        margin: Δ, a finite real number (default 1).
        weight: optional class weights, shape ``(C,)``.
        mean_over: what a weighted ``"mean"`` divides by: ``"elements"`` (default, torch:
            the number of samples) or ``"weights"`` (``sum_n w_{y_n}``, the rule of the
            class-weighted cross-entropy). Without ``weight`` both are the plain mean.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-sample loss for ``reduction="none"``, shaped like ``target``
        (torch's rule: ``()`` for a 0-d target, ``(N,)`` otherwise).

    Raises:
        ValueError: wrong target/weight shape, ``p`` not 1 or 2, bad ``reduction``/``margin``/
            ``mean_over``; eagerly, class indices outside ``[0, C)``.
        TypeError: non-integer ``target``, non-floating ``input``, complex ``weight``.

    References: Weston & Watkins 1999, "Support vector machines for multi-class pattern
    recognition"; PyTorch ``MultiMarginLoss``. Crammer–Singer's max-form is
    :func:`multiclass_hinge_loss`.

    Peer twins: ``torch.nn.functional.multi_margin_loss(input, target, p, margin, weight)``
    (identical for finite scores; ``mean_over="elements"``).

    Example:
        >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
        >>> # (1/4) * sum over the other classes of max(0, 1 - x[3] + x[i]) = (0.3 + 0.4 + 0.6) / 4
        >>> round(float(losses.multi_margin_loss(x, np.array([3]))), 4)
        0.325
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    _weighted_options(mean_over, reduction)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    check.finite_number(margin, "margin")
    _, out_dtype, (x, w) = float_args(xp, input, weight, names=("input", "weight"))
    x, t, out_shape = _margin_target(xp, x, target, "multi_margin_loss")
    n_classes = x.shape[-1]
    if w is not None and tuple(w.shape) != (n_classes,):
        raise ValueError(f"weight must have one weight per class, shape ({n_classes},), got {tuple(w.shape)}")
    check.class_indices(xp, t, n_classes, "target")
    if group is None and len(out_shape) == 1:
        out = xp.fast("multi_margin_loss", x, t, int(p), float(margin), w, reduction, mean_over, out_dtype,
                      all_finite=lambda: _all_finite(xp, x))
        if out is not NotImplemented:
            return out
    x_t = xp.take_class(x, t, axis=-1)
    h = relu0(xp, margin - xp.expand_dims(x_t, axis=-1) + x)
    if p == 2:
        h = h * h
    grid = arange_like(xp, x, n_classes)
    others = xp.expand_dims(t, axis=-1) != cast(xp, grid, t.dtype)
    loss = xp.reshape(xp.sum(_zeros_where_not(xp, others, h), axis=-1) / n_classes, out_shape)
    w_t = None
    if w is not None:
        flat = xp.reshape(xp.astype(target, xp.int64), (numel(target),))
        w_t = xp.reshape(xp.take_index(w, flat, axis=0), out_shape)
    return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _multilabel_hinge(xp, x, target, n_classes):
    r"""Per-row ``(1/C) sum_{k valid} sum_{i not in T} relu0(1 - (x[t_k] - x_i))`` in
    ``O(C log C)`` per row (no ``C x C`` grid).

    With ``a_k = x[t_k] - 1`` the inner sum is ``sum_{i not in T, x_i > a_k} (x_i - a_k)``:
    one stable sort of the ``2C`` keys ``(x_i, a_k)`` per row, then suffix counts and suffix
    sums of the non-target scores at each query ``a_k``. ``x_i > a_k`` is exactly
    ``fl(1 - x[t_k]) + x_i > 0`` (``fl(x - 1) = -fl(1 - x)``), so the pairs counted -- and the
    subgradient 0 at a kink -- are those of the pairwise formula. Pairs whose margin is NaN
    (a NaN score, or equal infinite scores) count as violated, as ``relu0`` lets NaN through:
    the sort keys place a NaN target score before and a NaN non-target score after every
    other key, and map ``x_i = -inf`` / ``a_k = +inf`` to the finite extremes so that equal
    infinities sort as a violated pair; the values themselves then give NaN/inf as the pair
    terms would.

    Target membership (``T``: the classes listed before the first -1; a class listed twice
    counts twice as a target, once as excluded) comes from one integer sort of the listed
    classes merged with one marker per class, then its inverse permutation.
    """
    lead = tuple(x.shape[:-1])
    if math.prod(x.shape) == 0:
        return xp.sum(x, axis=-1) / n_classes
    c = n_classes
    t = xp.astype(target, xp.int64)
    valid = xp.cumulative_sum(xp.astype(t < 0, xp.int64), axis=-1) == 0  # before the first -1
    # membership: entries (key 2t; 2C for ignored entries) before their class marker (2c + 1)
    marks = xp.broadcast_to(2 * xp.astype(arange_like(xp, t, c), xp.int64) + 1, t.shape)
    keys = xp.concat([2 * xp.where(valid, t, xp.full_like(t, c)), marks], axis=-1)
    inv = xp.argsort(xp.argsort(keys, axis=-1, stable=True), axis=-1, stable=True)
    pos = inv[..., c:]  # position of marker c in the merged order
    prev = xp.concat([xp.full_like(pos[..., :1], -1), pos[..., :-1]], axis=-1)
    non_target = (pos - prev) == 1  # no entry of class c between markers c-1 and c
    # queries a_k = x[t_k] - 1 of the listed targets, merged with the non-target scores
    a = xp.take_along_last(x, xp.where(valid, t, xp.zeros_like(t))) - 1
    big = xp.finfo(x.dtype).max
    inf = xp.full_like(x, float("inf"))
    b_key = xp.where(xp.isnan(x), inf, xp.where(x == -inf, xp.full_like(x, -big), x))
    a_key = xp.where(xp.isnan(a), -inf, xp.where(a == inf, xp.full_like(a, big), a))
    order = xp.argsort(xp.concat([b_key, a_key], axis=-1), axis=-1, stable=True)
    vals = xp.take_along_last(xp.concat([x, a], axis=-1), order)
    wts = xp.take_along_last(xp.astype(xp.concat([non_target, valid], axis=-1), x.dtype), order)
    is_query = order >= c
    zero = xp.zeros_like(vals)
    b_w = xp.where(is_query, zero, wts)
    rev = lambda v: xp.flip(xp.cumulative_sum(xp.flip(v, axis=-1), axis=-1), axis=-1)  # noqa: E731
    count = rev(b_w)  # non-target scores after each position (all > its key)
    total = rev(xp.where(b_w > 0, vals, zero))
    hit = xp.logical_and(xp.logical_and(is_query, wts > 0), count > 0)
    term = xp.where(hit, total - count * xp.where(hit, vals, zero), zero)
    return xp.reshape(xp.sum(term, axis=-1) / c, lead)


@check.entry
@group_doc
def multilabel_margin_loss(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
                           group: Group = None) -> ArrayT:
    r"""Multi-label hinge loss (``torch.nn.functional.multilabel_margin_loss``).

    .. math:: \ell_n = \frac{1}{C}\sum_{j \in T_n}\ \sum_{i \notin T_n} \max\big(0,\ 1 - (x_{n,j} - x_{n,i})\big)

    ``T_n`` is given torch's way: ``target[n]`` lists class indices and ends at the first
    ``-1`` (the remaining entries are ignored), e.g. ``[3, 0, -1, 1]`` means {3, 0}. A class
    listed twice counts twice (as torch). The subgradient at a kink is 0 (as torch). A NaN
    score gives a NaN loss (torch's kernel drops it: ``if (z > 0)`` is false for NaN).
    Computed by sorting each row (no data-dependent shapes): time ``O(N C log C)``, memory
    ``O(N C)``.

    Args:
        input: scores, shape ``(N, C)``, ``(C,)`` or ``()`` (one class, as torch), or
            ``(..., C)``; real floating dtype.
        target: integer class lists padded with -1, same shape as ``input`` (for ``(C,)``
            and ``()`` scores: ``C`` elements in a 0-d or 1-D array, as torch).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-sample loss (``input.shape[:-1]``; ``()`` for ``(C,)`` and
        ``()`` scores) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``; eagerly, target values outside
            ``[-1, C)``.
        TypeError: non-integer ``target``, non-floating ``input``.

    References: PyTorch ``MultiLabelMarginLoss``; the pairwise ranking hinge of multi-label
    ranking SVMs (Elisseeff & Weston 2001, "A kernel method for multi-labelled classification").

    Peer twins: ``torch.nn.functional.multilabel_margin_loss`` (identical for finite
    scores).

    Example:
        >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
        >>> y = np.array([[3, 0, -1, 1]])  # targets {3, 0}; the -1 ends the list
        >>> # (1/4) * [(1-(0.8-0.2)) + (1-(0.8-0.4)) + (1-(0.1-0.2)) + (1-(0.1-0.4))] = 0.85
        >>> round(float(losses.multilabel_margin_loss(x, y)), 4)
        0.85
    """
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    _, out_dtype, (x,) = float_args(xp, input, names=("input",))
    if not hasattr(target, "dtype") or not hasattr(target, "shape"):
        raise TypeError(f"target must be an array of integer class indices, got {type(target).__name__}")
    check.integer(xp, target, "target")
    if x.ndim <= 1:
        n_classes = x.shape[0] if x.ndim == 1 else 1
        if target.ndim > 1 or numel(target) != n_classes:
            raise ValueError(
                f"multilabel_margin_loss: target must have {n_classes} element(s) for input of shape "
                f"{tuple(x.shape)} (shape ({n_classes},)), got {tuple(target.shape)}"
            )
        x = xp.reshape(x, (n_classes,))
        target = xp.reshape(target, (n_classes,))
    else:
        check.same_shape(x, target, "input", "target")
        n_classes = x.shape[-1]
    check.values_in(xp, target, "target", -1, n_classes - 1, what="class indices (or -1 padding)")
    out = NotImplemented if group is not None else xp.fast(
        "multilabel_margin_loss", x, target, reduction, out_dtype,
        all_finite=lambda: _all_finite(xp, x))
    if out is not NotImplemented:
        return out
    loss = _multilabel_hinge(xp, x, target, n_classes)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def margin_ranking_loss(input1: ArrayT, input2: ArrayT, target: ArrayT, *, margin: float = 0.0,
                        reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Pairwise ranking hinge (``torch.nn.functional.margin_ranking_loss``).

    .. math:: \ell_i = \max\big(0,\ -y_i\,(x^{(1)}_i - x^{(2)}_i) + \Delta\big)

    ``y = 1`` means ``input1`` should rank higher, ``y = -1`` lower. The subgradient at the
    kink is torch's (the linear piece's: ``clamp_min`` passes the gradient at 0).

    Args:
        input1, input2: scores of the same shape, real floating dtype.
        target: labels in {-1, 1}, broadcastable to the inputs' shape.
        margin: Δ, a finite real number (default 0).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss (the inputs' shape) for ``reduction="none"``.

    Raises:
        ValueError: ``input1``/``input2`` shapes differ (torch broadcasts inputs of one
            ndim), ``target`` does not broadcast, bad ``reduction``/``margin``; eagerly,
            ``target`` values other than -1 and 1 (NaN included).
        TypeError: non-floating ``input1``, complex ``input2``/``target``.

    References: PyTorch ``MarginRankingLoss`` (the RankSVM pairwise hinge, Herbrich et al. 2000).

    Peer twins: ``torch.nn.functional.margin_ranking_loss(input1, input2, target, margin=Δ)``
    (identical for every setting).

    Example:
        >>> a, b = np.array([1.0, 0.2]), np.array([0.5, 0.7])
        >>> losses.margin_ranking_loss(a, b, np.array([1.0, 1.0]), margin=0.1, reduction="none")
        array([0. , 0.6])
    """
    xp = namespace(input1=input1, input2=input2, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.finite_number(margin, "margin")
    _, out_dtype, (a, b, y) = float_args(xp, input1, input2, target, names=("input1", "input2", "target"))
    check.same_shape(a, b, "input1", "input2")
    check.broadcastable(y, "target", a.shape, "input1")
    check.values_among(xp, y, "target", (-1, 1))
    loss = relu1(xp, -y * (a - b) + margin)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


def _pair_rows(xp, input1, input2, target, name):
    check.same_shape(input1, input2, "input1", "input2")
    if input1.ndim not in (1, 2):
        raise ValueError(f"{name}: input1 must have shape (N, D) or (D,), got {tuple(input1.shape)}")
    if tuple(target.shape) != tuple(input1.shape[:-1]):
        raise ValueError(
            f"{name}: target must have shape {tuple(input1.shape[:-1])} (one label per row of "
            f"input1 {tuple(input1.shape)}), got {tuple(target.shape)}"
        )


@check.entry
@group_doc
def cosine_embedding_loss(input1: ArrayT, input2: ArrayT, target: ArrayT, *, margin: float = 0.0,
                          reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Cosine embedding loss (``torch.nn.functional.cosine_embedding_loss``).

    .. math::
        \ell_n = \begin{cases} 1 - \cos(a_n, b_n) & y_n = 1 \\
                 \max(0,\ \cos(a_n, b_n) - \Delta) & y_n = -1 \end{cases},\qquad
        \cos(a, b) = \frac{a\cdot b}{\sqrt{(\lVert a\rVert^2 + 10^{-12})(\lVert b\rVert^2 + 10^{-12})}}

    The ``1e-12`` inside the norms is torch's: a zero vector has cosine 0 with everything,
    and both the value and the gradient stay finite there. The subgradient at
    ``cos == Δ`` is torch's (gradient passes, ``clamp_min``).

    Args:
        input1, input2: embeddings of shape ``(N, D)`` or ``(D,)``, real floating dtype.
        target: labels in {-1, 1}, shape ``(N,)`` (or ``()`` for 1-D inputs).
        margin: Δ in [-1, 1] (default 0; 0 to 0.5 is the usual range).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-pair loss ``(N,)`` for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, ``margin`` outside [-1, 1], bad ``reduction``;
            eagerly, ``target`` values other than -1 and 1, NaN included (torch returns 0
            for them). Under ``jit``/on Dask such labels give NaN.
        TypeError: non-floating ``input1``, complex ``input2``/``target``.

    References: PyTorch ``CosineEmbeddingLoss``.

    Peer twins: ``torch.nn.functional.cosine_embedding_loss(input1, input2, target,
    margin=Δ)`` (identical, zero vectors included).

    Example:
        >>> a = np.array([[1.0, 0.0], [1.0, 0.0]])
        >>> b = np.array([[1.0, 1.0], [1.0, 1.0]])  # at 45 degrees: cosine 0.7071
        >>> losses.cosine_embedding_loss(a, b, np.array([1, -1]), margin=0.5, reduction="none")
        array([0.2929, 0.2071])
    """
    xp = namespace(input1=input1, input2=input2, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.real_number(margin, "margin", low=-1, high=1)
    _, out_dtype, (a, b, y) = float_args(xp, input1, input2, target, names=("input1", "input2", "target"))
    _pair_rows(xp, a, b, y, "cosine_embedding_loss")
    check.values_among(xp, y, "target", (-1, 1))
    dot = xp.sum(a * b, axis=-1)
    m1 = xp.sum(a * a, axis=-1) + _TORCH_COSINE_EPS
    m2 = xp.sum(b * b, axis=-1) + _TORCH_COSINE_EPS
    cos = dot / xp.sqrt(m1 * m2)
    loss = _pm1_select(xp, y, 1 - cos, relu1(xp, cos - margin))
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def cosine_similarity_loss(input: ArrayT, target: ArrayT, *, axis: int = -1, eps: float = 1e-8,
                           weight: ArrayT | None = None, mean_over: MeanOver = "weights",
                           reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Cosine distance ``1 - cos(x, y)`` with a floor ``eps`` on each norm.

    .. math:: \ell = 1 - \frac{x\cdot y}{\max(\lVert x\rVert, \varepsilon)\,\max(\lVert y\rVert, \varepsilon)}

    computed along ``axis``. A zero vector has cosine 0 (loss 1) with a finite gradient; optax
    (``epsilon=0`` by default) returns NaN there. The clamp passes no gradient through the
    norm (gradient at ``||x|| == eps`` is that of the constant branch).

    Args:
        input, target: vectors of the same shape, the vector axis being ``axis``.
        axis: the vector axis (default -1, as optax).
        eps: the norm floor ε > 0 (default 1e-8, as ``torch.nn.functional.cosine_similarity``).
        weight: optional per-vector weights broadcastable to the per-vector loss (the shape
            without ``axis``).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)`` over the number of vectors).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-vector loss (the shape without ``axis``) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``eps`` <= 0 or infinite, bad ``axis``/``weight``/
            ``mean_over``/``reduction``.
        TypeError: non-floating ``input``, complex ``target``/``weight``, a bool ``axis``.

    References: the cosine distance of ``optax.losses.cosine_distance``, with the norm floor
    of ``torch.nn.functional.cosine_similarity``.

    Peer twins: ``optax.losses.cosine_distance(input, target, epsilon=eps)`` with
    ``reduction="none"`` (equal whenever both norms exceed ε; optax's default ``epsilon=0``
    agrees on every non-zero vector); ``1 - torch.nn.functional.cosine_similarity(input,
    target, dim=axis, eps=eps)``.

    Example:
        >>> x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
        >>> y = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]])  # parallel, orthogonal, zero vector
        >>> losses.cosine_similarity_loss(x, y, reduction="none")
        array([0., 1., 1.])
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    _weighted_options(mean_over, reduction)
    check.finite_number(eps, "eps", low=0, low_open=True)
    _axis_arg(axis)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    check.same_shape(x, y, "input", "target")
    check.ndim_at_least(x, 1, "input")
    ax = class_axis(x, axis)
    reduced_shape = tuple(s for i, s in enumerate(x.shape) if i != ax)
    check.broadcastable(w, "weight", reduced_shape, "the per-vector loss")
    nx = norm_floor(xp, x, ax, eps)
    ny = norm_floor(xp, y, ax, eps)
    # one division per vector, not one per element of each input
    cos = xp.sum(x * y, axis=ax) / xp.squeeze(nx * ny, axis=ax)
    return reduce(xp, 1 - cos, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _binary_margin(xp, input, target, weight, target_encoding, mean_over, reduction, margin=1.0):
    _weighted_options(mean_over, reduction)
    check.choice(target_encoding, "target_encoding", get_args(TargetEncoding))
    _, out_dtype, (x, t, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    check.same_shape(x, t, "input", "target")
    check.broadcastable(w, "weight", x.shape, "input")
    pm1 = target_encoding == "pm1"
    check.values_among(xp, t, "target", (-1, 1) if pm1 else (0, 1))
    y = t if pm1 else 2 * t - 1
    return relu0(xp, margin - y * x), w, out_dtype


#: Args, Returns and Raises of the two binary hinge losses (placeholder ``{binary_args}``)
_BINARY_ARGS = """\
    Args:
        input: real-valued scores (not probabilities), any shape, real floating dtype.
        target: labels of the same shape: in {-1, 1} for ``target_encoding="pm1"``
            (default), in {0, 1} for ``target_encoding="01"``.
        target_encoding: ``"pm1"`` | ``"01"``, how ``target`` encodes the two classes.
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)/input.size``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``target_encoding``/``mean_over``/``reduction``;
            eagerly, target values outside the chosen label set (NaN included).
        TypeError: non-floating ``input``, complex ``target``/``weight``.

"""
_binary_doc = fill_doc("{binary_args}", _BINARY_ARGS)

#: Args, Returns and Raises of the Crammer-Singer losses (placeholder ``{multiclass_args}``);
#: ``margin=True``: with the ``margin`` keyword (multiclass_hinge_loss)
_MULTICLASS_ARGS = """\
    Args:
        input: scores, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; C >= 2.
        target: class indices (any integer dtype), ``input``'s shape without the class axis.
{margin_arg}        weight: optional per-sample weights broadcastable to the per-sample loss.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)`` over the number of samples).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: the class axis (default 1, or 0 for a 1-D input, as torch).
    {{group}}

    Returns:
        A scalar, or the per-sample loss (shape of ``target``) for ``reduction="none"``.

    Raises:
        ValueError: wrong target shape, fewer than 2 classes, bad ``reduction``/``axis``/
            {margin_err}``mean_over``; eagerly, class indices outside ``[0, C)``.
        TypeError: non-integer ``target``, non-floating ``input``, complex ``weight``.

"""


def _crammer_singer_doc(margin):
    return fill_doc("{multiclass_args}", _MULTICLASS_ARGS.format(
        margin_arg="        margin: Δ, a finite real number (default 1).\n" if margin else "",
        margin_err="``margin``/" if margin else ""))


@check.entry
@group_doc
@_binary_doc
def hinge_loss(input: ArrayT, target: ArrayT, *, target_encoding: TargetEncoding = "pm1",
               weight: ArrayT | None = None, mean_over: MeanOver = "weights",
               reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Binary SVM hinge loss.

    .. math:: \ell_i = \max(0,\ 1 - y_i x_i),\qquad y_i = t_i \ (\texttt{target\_encoding="pm1"})
              \ \text{or}\ y_i = 2t_i - 1\ (\texttt{target\_encoding="01"})

    The label convention is explicit because peers disagree silently: optax assumes ±1
    labels, Keras converts 0/1 labels to ±1 only when *every* label is 0 or 1. The
    subgradient at ``y x == 1`` is 0 (no torch twin; optax's ``jnp.maximum`` gives -y/2).

    {binary_args}
    References: Cortes & Vapnik 1995, "Support-vector networks".

    Peer twins: ``optax.losses.hinge_loss(input, target)`` = ``target_encoding="pm1",
    reduction="none"``; ``keras.losses.hinge(target, input)`` = ``target_encoding="01"`` (0/1
    labels) or ``"pm1"`` (±1 labels), with ``reduction="none"`` then a mean over the last axis.

    Example:
        >>> x = np.array([2.0, 0.5, -0.5])
        >>> losses.hinge_loss(x, np.array([1, 1, 1]), reduction="none")  # max(0, 1 - y x)
        array([0. , 0.5, 1.5])
        >>> losses.hinge_loss(x, np.array([1, 1, 0]), target_encoding="01", reduction="none")
        array([0. , 0.5, 0.5])
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    loss, w, out_dtype = _binary_margin(xp, input, target, weight, target_encoding, mean_over, reduction)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_binary_doc
def squared_hinge_loss(input: ArrayT, target: ArrayT, *, target_encoding: TargetEncoding = "pm1",
                       weight: ArrayT | None = None, mean_over: MeanOver = "weights",
                       reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Squared (L2-SVM) hinge loss: ``max(0, 1 - y x)^2``.

    .. math:: \ell_i = \max(0,\ 1 - y_i x_i)^2

    Label conventions as :func:`hinge_loss`; the loss is differentiable everywhere
    (gradient 0 at the margin).

    {binary_args}
    References: Lee & Mangasarian 2001 (SSVM); Rosasco et al. 2004.

    Peer twins: ``keras.losses.squared_hinge(target, input)`` = ``target_encoding="01"`` (0/1
    labels) or ``"pm1"`` (±1 labels), ``reduction="none"`` then a mean over the last axis;
    ``optax.losses.hinge_loss(input, target) ** 2`` with ``target_encoding="pm1"``.

    Example:
        >>> x = np.array([2.0, 0.5, -0.5])
        >>> losses.squared_hinge_loss(x, np.array([1, 1, 1]), reduction="none")  # max(0, 1 - y x)^2
        array([0.  , 0.25, 2.25])
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    loss, w, out_dtype = _binary_margin(xp, input, target, weight, target_encoding, mean_over, reduction)
    return reduce(xp, loss * loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype,
                  group=group)


@check.entry
@group_doc
@_crammer_singer_doc(margin=True)
def multiclass_hinge_loss(input: ArrayT, target: ArrayT, *, margin: float = 1.0, weight: ArrayT | None = None,
                          mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                          axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Crammer–Singer multi-class hinge loss.

    .. math:: \ell_n = \max\Big(0,\ \Delta + \max_{j \ne y_n} x_{n,j} - x_{n,y_n}\Big)

    The maximum runs over the *non-target* classes only, so the loss is correct when every
    non-target score is negative (``keras.losses.categorical_hinge`` takes the max of
    ``(1 - y) * x``, whose zeros beat negative scores, and returns ``max(0, 1 - x_y)``
    there instead). The gradient of the inner max goes to the first maximal class (as
    ``argmax``), and the hinge's subgradient at 0 is 0.

    {multiclass_args}
    References: Crammer & Singer 2001, "On the algorithmic implementation of multiclass
    kernel-based vector machines". The Weston–Watkins sum-form is :func:`multi_margin_loss`.

    Peer twins: ``optax.losses.multiclass_hinge_loss(input, target)`` = ``margin=1, axis=-1,
    reduction="none"`` (values everywhere; at tied maxima ``jnp.max`` splits the gradient);
    ``keras.losses.categorical_hinge(one_hot(target), input)`` wherever some non-target score
    is >= 0 (see docs/differences.md for the rest).

    Example:
        >>> x = np.array([[0.1, 0.2, 0.4, 0.8], [-2.0, -3.0, 1.0, -1.0]])
        >>> # max(0, 1 + max_{j != y} x_j - x_y): 1 + 0.4 - 0.8 and 1 + (-1) - 1 (all others negative)
        >>> losses.multiclass_hinge_loss(x, np.array([3, 2]), reduction="none")
        array([0.6, 0. ])
    """
    return _crammer_singer(input, target, weight, margin, mean_over, reduction, axis, "multiclass_hinge_loss",
                           group)


def _first_max(xp, v, grid, axis, eager):
    """``argmax(v, axis)``: the first maximal position, or the first NaN when there is one.

    Op by op (``eager``) that is ``argmax``'s one kernel. A compiled program (a trace, a lazy
    graph) gets two plain floating reductions instead, which vectorise where the (value,
    index) reduction of ``argmax`` does not: the maximum (NaN when there is a NaN), then the
    least position holding it (or a NaN), positions counted in ``v``'s dtype (exact up to
    ``2 / eps`` classes; beyond, in integers). Both give the same index. An empty ``v`` takes
    ``argmax`` (Dask's maximum refuses empty blocks)."""
    n = v.shape[axis]
    if eager or numel(v) == 0:
        return xp.argmax(v, axis=axis)
    m = xp.max(v, axis=axis, keepdims=True)
    hit = (v == m) | xp.isnan(v)
    if n > 2 / xp.finfo(v.dtype).eps:
        return xp.min(xp.where(hit, grid, n), axis=axis)
    pos = xp.min(xp.where(hit, cast(xp, grid, v.dtype), float(n)), axis=axis)
    return xp.astype(pos, grid.dtype)


def _crammer_singer(input, target, weight, margin, mean_over, reduction, axis, what, group=None):
    """``max(0, margin + max_{j != y} x_j - x_y)`` per sample, reduced (``what``: the public
    name in messages). The inner max's gradient goes to the first maximal other class, the
    hinge's subgradient at 0 is 0."""
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    _weighted_options(mean_over, reduction)
    check.finite_number(margin, "margin")
    _axis_arg(axis)
    _, out_dtype, (x, w) = float_args(xp, input, weight, names=("input", "weight"))
    if not hasattr(target, "dtype") or not hasattr(target, "shape"):
        raise TypeError(f"target must be an array of integer class indices, got {type(target).__name__}")
    ax, n_classes, expected = class_target(xp, x, target, axis, what)
    if n_classes < 2:
        raise ValueError(f"{what} needs at least 2 classes along axis {ax}, got input {tuple(input.shape)}")
    check.broadcastable(w, "weight", expected, "the per-sample loss")
    check.class_indices(xp, target, n_classes, "target")
    grid = arange_like(xp, x, n_classes)
    if ax != x.ndim - 1:
        grid = xp.reshape(grid, tuple(n_classes if i == ax else 1 for i in range(x.ndim)))
    if margin == 0:
        # max_j x_j - x_y: the first maximal class of all is the first maximal other class
        # whenever it is not the target, and the loss is 0 when it is (the target ties or beats
        # every other score). One search over x, no masked copy of it; a tie (infinite scores
        # included) gives 0 with gradient 0, a NaN read gives NaN (the first NaN is the maximum)
        x_t = xp.take_class(x, target, axis=ax)
        x_best = xp.take_class(x, _first_max(xp, xp.stop_gradient(x), grid, ax, check.concrete(x)), axis=ax)
        loss = xp.where(x_best == x_t, 0.0, x_best - x_t)
        return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)
    is_t = xp.expand_dims(target, axis=ax) == cast(xp, grid, target.dtype)
    # the search for the best other class carries no gradient: the scores it picks are read
    # from x below
    others = xp.where(is_t, -math.inf, xp.stop_gradient(x))
    idx = _first_max(xp, others, grid, ax, check.concrete(others))
    # others[idx], read from x: idx is the target only when every other score is -inf, and
    # then others holds -inf there
    x_best = xp.take_class(x, idx, axis=ax)
    best = xp.where(target == cast(xp, idx, target.dtype), -math.inf, x_best)
    x_t = xp.take_class(x, target, axis=ax)
    loss = relu0(xp, margin + best - x_t)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)
