r"""Ordinal-regression losses: CORAL, CORN and the cumulative-link (ordinal logistic) model.

A target is one of K ordered levels ``0 < 1 < ... < K−1``. CORAL and CORN predict K−1
binary events "level > k" (``k = 0, ..., K−2``) with one logit each: CORAL's events are
unconditional, CORN's conditional on "level > k − 1". The cumulative-link model predicts
one score η per sample and places K−1 ordered cut-points on its scale.

The ordinal task axis (the K−1 logits of CORAL and CORN) is axis 1, or 0 for a 1-D input,
as torch's class axis (``axis=`` chooses another).

With ``group=`` (docs/distributed.md) the samples (axis 0) are split over the members and
``"mean"`` divides by the global normaliser: the number of samples (CORAL), of the
(sample, task) pairs that enter (CORN), or the weight sum (cumulative link).
"""
from __future__ import annotations

import math
from numbers import Integral
from typing import Any

from . import _validate as check
from ._common import arange_like, cast, class_axis, class_target, float_args, numel
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .classification import _axis_arg
from .helpers import _dtype_arg, _float_dtype
from .margin import MeanOver, _weighted_options

__all__ = ["ordinal_targets", "coral_loss", "corn_loss", "cumulative_link_loss"]


def _levels_grid(xp, like, n_tasks, ax, ndim):
    """``0, 1, ..., n_tasks − 1`` shaped to broadcast along axis ``ax`` of an ``ndim`` array."""
    shape = tuple(n_tasks if i == ax else 1 for i in range(ndim))
    return xp.reshape(arange_like(xp, like, n_tasks), shape)


def _exceeds(xp, levels, n_tasks, ax):
    """The boolean ``levels > k`` for ``k = 0..n_tasks−1``, the task axis inserted at ``ax``."""
    lv = xp.expand_dims(levels, axis=ax)
    return lv > cast(xp, _levels_grid(xp, levels, n_tasks, ax, lv.ndim), levels.dtype)


def _num_classes_arg(num_classes):
    if isinstance(num_classes, bool) or not isinstance(num_classes, Integral):
        raise TypeError(f"num_classes must be an int, got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes!r}")


@check.entry
def ordinal_targets(levels: ArrayT, num_classes: int, *, dtype: Any = None) -> ArrayT:
    r"""Ordinal levels as cumulative binary targets (CORAL's "extended binary" labels).

    .. math:: T_{i,k} = [\,\text{level}_i > k\,], \qquad k = 0, \dots, K - 2

    so level 0 is all zeros and level K−1 all ones: the ``target`` of :func:`coral_loss`.

    Args:
        levels: integer levels in ``[0, num_classes)``, any shape ``S`` (any integer dtype).
        num_classes: K, the number of levels, an int >= 1.
        dtype: result dtype, a real floating dtype of ``levels``' framework (default: the
            framework's default floating dtype).

    Returns:
        An array of shape ``S + (K − 1,)`` holding 0 and 1.

    Raises:
        ValueError: ``num_classes < 1``; eagerly, levels outside ``[0, num_classes)``.
        TypeError: non-integer ``levels``, non-int ``num_classes``, ``dtype`` not a real
            floating dtype.

    References: Cao, Mirjalili & Raschka 2020, "Rank consistent ordinal regression for
    neural networks with application to age estimation".

    Peer twins: ``coral_pytorch.dataset.levels_from_labelbatch(levels, num_classes)`` (1-D
    ``levels``, float32 there).

    Example:
        >>> import numpy as np, losses
        >>> losses.ordinal_targets(np.array([2, 1, 4]), 5)
        array([[1., 1., 0., 0.],
               [1., 0., 0., 0.],
               [1., 1., 1., 1.]])
    """
    xp = namespace(levels=levels)
    _num_classes_arg(num_classes)
    _dtype_arg(xp, dtype)
    check.integer(xp, levels, "levels")
    check.class_indices(xp, levels, num_classes, "levels")
    return xp.astype(_exceeds(xp, levels, num_classes - 1, levels.ndim), _float_dtype(xp, None, dtype))


def _binary_terms(xp, z, y):
    """Binary cross-entropy on logits, ``softplus(z) − y z`` (the sum CORAL writes as
    ``−[y log σ(z) + (1 − y)(log σ(z) − z)]``). A boolean ``y`` selects ``z`` rather than
    multiplying it: a label 0 at ``z = ±∞`` gives the limit (``+∞`` / 0), not ``0·∞ = NaN``,
    the same eagerly and in a compiled program (which rewrites a 0/1 product into a select)."""
    return xp.softplus(z) - (xp.where(y, z, xp.zeros_like(z)) if y.dtype == xp.bool else y * z)


@check.entry
@group_doc
def coral_loss(input: ArrayT, target: ArrayT, *, task_weights: ArrayT | None = None,
               reduction: Reduction = "mean", axis: int | None = None, group: Group = None) -> ArrayT:
    r"""CORAL loss: K−1 binary cross-entropies on "level > k", summed per sample.

    .. math:: \ell_i = \sum_{k=0}^{K-2} \lambda_k\,\big[\operatorname{softplus}(z_{ik})
              - T_{ik}\, z_{ik}\big]

    with ``T`` the cumulative targets of :func:`ordinal_targets` and λ the task weights.
    CORAL's network shares one weight vector across the K−1 logits (only the biases
    differ), which makes its predictions rank-consistent; the loss itself is this sum.

    Args:
        input: logits, shape ``(N, K−1)`` (or ``(N, K−1, d1, ...)``, ``(K−1,)``).
        target: cumulative binary targets in [0, 1] of ``input``'s shape
            (:func:`ordinal_targets`).
        task_weights: optional weights λ of the K−1 binary tasks (CORAL's
            ``importance_weights``), broadcastable to ``input``; applied inside the
            per-sample sum, so ``"mean"`` stays the mean over samples.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the per-sample sums.
        axis: the task axis (default 1, or 0 for a 1-D input).
    {group}

    Returns:
        A scalar, or the per-sample loss (``input``'s shape without ``axis``) for
        ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``task_weights`` that do not broadcast, bad
            ``reduction``/``axis``; eagerly, target values outside [0, 1] (NaN included).
        TypeError: non-floating ``input``, complex ``target``/``task_weights``.

    References: Cao, Mirjalili & Raschka 2020, "Rank consistent ordinal regression for
    neural networks with application to age estimation".

    Peer twins: ``coral_pytorch.losses.coral_loss(input, target, importance_weights,
    reduction)`` (its ``reduction=None`` is our ``"none"``).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[2.1, 1.8, -2.1, -1.8], [1.9, -1.0, -1.5, -1.3], [1.9, 1.8, 1.7, 1.6]])
        >>> print(round(float(losses.coral_loss(z, losses.ordinal_targets(np.array([2, 1, 4]), 5))), 4))
        0.692
    """
    xp = namespace(input=input, target=target, task_weights=task_weights)
    check.reduction(reduction)
    group = xp.check_group(group)
    _axis_arg(axis)
    _, out_dtype, (z, t, lam) = float_args(xp, input, target, task_weights,
                                           names=("input", "target", "task_weights"))
    check.same_shape(z, t, "input", "target")
    check.ndim_at_least(z, 1, "input")
    check.broadcastable(lam, "task_weights", z.shape, "input")
    ax = class_axis(z, axis)
    check.values_in(xp, xp.stop_gradient(t), "target", 0, 1)
    terms = _binary_terms(xp, z, t)
    if lam is not None:
        terms = terms * lam
    return reduce(xp, xp.sum(terms, axis=ax), reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def corn_loss(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
              axis: int | None = None, group: Group = None) -> ArrayT:
    r"""CORN loss: conditional binary cross-entropies, task k trained on the samples above k−1.

    .. math::
        \ell = \frac{\sum_i \sum_{k=0}^{K-2} [y_i \ge k]\,
        \big(\operatorname{softplus}(z_{ik}) - [y_i > k]\, z_{ik}\big)}
        {\sum_i \sum_{k=0}^{K-2} [y_i \ge k]}

    Logit ``k`` models ``P(y > k | y > k − 1)``, so only samples with ``y ≥ k`` enter task
    k; ``"mean"`` divides by the number of (sample, task) pairs that enter (CORN's rule),
    NaN when there is none. K is ``input.shape[axis] + 1``.

    Args:
        input: logits, shape ``(N, K−1)`` (or ``(N, K−1, d1, ...)``, ``(K−1,)``).
        target: integer levels in ``[0, K)`` (any integer dtype), ``input``'s shape without
            the task axis.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` (the element-wise terms, ``input``'s
            shape, 0 for the pairs that do not enter).
        axis: the task axis (default 1, or 0 for a 1-D input).
    {group}

    Returns:
        A scalar, or the element-wise terms for ``reduction="none"``.

    Raises:
        ValueError: wrong target shape, bad ``reduction``/``axis``; eagerly, levels outside
            ``[0, K)``.
        TypeError: non-floating ``input``, non-integer ``target``.

    References: Shi, Cao & Raschka 2023, "Deep neural networks for rank-consistent ordinal
    regression based on conditional probabilities".

    Peer twins: ``coral_pytorch.losses.corn_loss(input, target, num_classes=K)`` = the
    defaults (``axis=1``).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[1.0, -1.0], [2.0, 0.5]])
        >>> print(round(float(losses.corn_loss(z, np.array([0, 2]))), 4))
        0.6381
    """
    xp = namespace(input=input, target=target)
    check.reduction(reduction)
    group = xp.check_group(group)
    _axis_arg(axis)
    if not hasattr(target, "dtype") or not hasattr(target, "shape"):
        raise TypeError(f"target must be an array of integer levels, got {type(target).__name__}")
    _, out_dtype, (z,) = float_args(xp, input, names=("input",))
    ax, n_tasks, _ = class_target(xp, z, target, axis, "corn_loss", class_name="task")
    check.class_indices(xp, target, n_tasks + 1, "target")
    above = _exceeds(xp, target, n_tasks, ax)  # [y > k]
    enters = cast(xp, _exceeds(xp, target + 1, n_tasks, ax), z.dtype)  # [y >= k]
    return reduce(xp, _binary_terms(xp, z, above), reduction, weight=enters, out_dtype=out_dtype, group=group)


def _log1mexp(xp, d):
    """``log(1 − exp(−d))`` for ``d >= 0`` (Mächler 2012): ``log(−expm1(−d))`` below log 2,
    ``log1p(−exp(−d))`` above, each branch fed only its own range (double where)."""
    small = d < math.log(2)
    a = xp.log(-xp.expm1(-xp.where(small, d, 1.0)))
    b = xp.log1p(-xp.exp(-xp.where(small, 1.0, d)))
    return xp.where(small, a, b)


@check.entry
@group_doc
def cumulative_link_loss(input: ArrayT, target: ArrayT, cutpoints: ArrayT, *,
                         weight: ArrayT | None = None, mean_over: MeanOver = "weights",
                         reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Negative log-likelihood of the cumulative-link (proportional-odds, ordinal logistic) model.

    .. math::
        P(y \le k \mid \eta) = \sigma(\theta_k - \eta), \qquad
        \ell = -\log\big(\sigma(\theta_{y} - \eta) - \sigma(\theta_{y-1} - \eta)\big)

    with ``η = input`` the sample's latent score, ``θ_0 ≤ ... ≤ θ_{K−2}`` the cut-points and
    ``θ_{−1} = −∞``, ``θ_{K−1} = +∞``: the parameterisation of McCullagh (1980) and of
    ``statsmodels.miscmodels.ordinal_model.OrderedModel(distr="logit")``'s likelihood (which
    fits the cut-points through increments ``exp(·)``; here they are given as they are, so
    a model that learns them keeps them ordered, e.g. as a cumulative sum of positive
    steps). Computed in log space, ``log σ(b) + log σ(−a) + log(1 − e^{−(b − a)})`` for
    ``a = θ_{y−1} − η``, ``b = θ_y − η``: finite for scores far outside the cut-points.

    Args:
        input: latent scores η, any shape, real floating dtype.
        target: integer levels in ``[0, K)`` of ``input``'s shape (any integer dtype).
        cutpoints: the K−1 cut-points θ, shape ``(K−1,)``, non-decreasing; K is
            ``cutpoints.shape[0] + 1``.
        weight: optional per-sample weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default) or
            ``"elements"``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-sample loss (``input``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``cutpoints`` not 1-D, bad ``reduction``/``mean_over``;
            eagerly, levels outside ``[0, K)`` and decreasing cut-points.
        TypeError: non-floating ``input``/``cutpoints``, non-integer ``target``, complex
            ``weight``.

    References: McCullagh 1980, "Regression models for ordinal data"; Agresti 2010,
    "Analysis of ordinal categorical data", ch. 3.

    Peer twins: the log-likelihood of ``statsmodels``' ``OrderedModel(distr="logit")``
    term by term (its ``x β`` is ``input``); ``spacecutter``'s
    ``CumulativeLinkLoss()(LogisticCumulativeLink(K)(input), target)`` up to its clamp of
    the likelihood at 1e-15.

    Example:
        >>> import numpy as np, losses
        >>> print(round(float(losses.cumulative_link_loss(np.array([0.0]), np.array([1]), np.array([-1.0, 1.0]))), 4))
        0.7719
    """
    xp = namespace(input=input, target=target, cutpoints=cutpoints, weight=weight)
    _weighted_options(mean_over, reduction)
    group = xp.check_group(group)
    if not hasattr(target, "dtype") or not hasattr(target, "shape"):
        raise TypeError(f"target must be an array of integer levels, got {type(target).__name__}")
    _, out_dtype, (eta, theta, w) = float_args(xp, input, cutpoints, weight,
                                               names=("input", "cutpoints", "weight"))
    check.floating(xp, cutpoints, "cutpoints")
    check.integer(xp, target, "target")
    check.same_shape(eta, target, "input", "target")
    if theta.ndim != 1:
        raise ValueError(f"cutpoints must be 1-D, shape (K-1,), got {tuple(theta.shape)}")
    check.broadcastable(w, "weight", eta.shape, "input")
    n_levels = theta.shape[0] + 1
    check.class_indices(xp, target, n_levels, "target")
    if theta.shape[0] > 1 and check.enabled() and check.checkable(cutpoints):
        steps = xp.stop_gradient(theta[1:] - theta[:-1])
        low = xp.min(steps)
        check.record(xp, lambda: low < 0, lambda: f"cutpoints must be non-decreasing, got a step of {float(low)}",
                     host=((low,), lambda v: v < 0))
    inf = xp.full_like(theta[:1], math.inf)
    padded = xp.concat([-inf, theta, inf])  # theta_{-1} = -inf, theta_{K-1} = +inf
    lo_k, hi_k = padded[:-1], padded[1:]  # the bounds of level k, k = 0..K-1
    # log(1 - e^{-(b - a)}) depends on the level only: computed once per level (K values)
    gap_k = _log1mexp(xp, hi_k - lo_k)
    t = xp.reshape(target, (numel(target),))
    t = t if t.dtype in (xp.int32, xp.int64) else xp.astype(t, xp.int64)
    # the three per-level values gathered by one take of valid levels (one backward scatter)
    # into contiguous rows
    hi, lo, gap = (xp.reshape(r, eta.shape)
                   for r in xp.unstack(xp.take_index(xp.stack([hi_k, lo_k, gap_k]), t, axis=1), axis=0))
    # -log p = softplus(eta - b) + softplus(a - eta) - log(1 - e^{-(b - a)}), i.e. minus
    # log_sigmoid(b - eta) + log_sigmoid(eta - a) + the gap term, without the negations
    nll = xp.softplus(eta - hi) + xp.softplus(lo - eta) - gap
    return reduce(xp, nll, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)
