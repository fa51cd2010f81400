r"""Sparse and Fenchel–Young losses: sparsemax, entmax, perceptron, generalized KL, safe softmax CE.

A Fenchel–Young loss (Blondel, Martins & Niculae 2020) pairs a regulariser Ω on the simplex
with its prediction map :math:`\hat p = \nabla\Omega^*(z)`:

.. math:: L_\Omega(z; y) = \Omega^*(z) + \Omega(e_y) - z_y, \qquad
          \nabla_z L_\Omega = \hat p - e_y .

Ω = the Gini negentropy gives sparsemax, the Tsallis α-negentropy gives α-entmax (α = 1.5 in
closed form, any α > 1 by bisection), the Shannon negentropy gives the softmax cross-entropy.
The prediction maps are computed with the standard's ``sort`` (no data-dependent shapes) or a
fixed number of bisection steps (no data-dependent loops), so every loss traces under
``jax.jit``/``torch.compile`` and runs lazily on Dask.

Gradients: the gradient of a Fenchel–Young loss is ``p̂ − e_y`` by Danskin's theorem, the
closed form the ``entmax`` package's backward returns. The multi-class losses are written so
that autodiff gives exactly that, ties included: ``p̂`` is computed from the input under
``stop_gradient`` and the loss is :math:`\Omega(\hat p) + \langle \hat p, z\rangle - z_y`
with ``p̂`` held constant. Second derivatives are therefore not those of the loss (as with
the ``entmax`` package, whose backward is not differentiable either).
"""
from __future__ import annotations

import math

from . import _validate as check
from ._common import class_axis, float_args, numel, pow0, relu0
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .classification import _axis_arg, _class_args, _class_setup, _safe_targets, _weights_at
from .margin import (
    MeanOver,
    TargetEncoding,
    _binary_doc,
    _binary_margin,
    _crammer_singer,
    _crammer_singer_doc,
    _weighted_options,
)

__all__ = [
    "sparsemax_loss",
    "multiclass_sparsemax_loss",
    "entmax15_loss",
    "entmax_bisect_loss",
    "perceptron_loss",
    "multiclass_perceptron_loss",
    "generalized_kl_divergence",
    "convex_kl_divergence",
    "safe_softmax_cross_entropy",
]


# ------------------------------------------------------------------ prediction maps ----
# Each map takes scores ``x`` (already held constant and shifted so that the row maximum is
# 0) with the classes on the last axis and returns the distribution p̂ of the same shape.
def _ranks(xp, s):
    """1, 2, ..., C along the last axis, in ``s``'s dtype and shape."""
    return xp.cumulative_sum(xp.ones_like(s), axis=-1)


def _sparsemax(xp, x):
    """Euclidean projection onto the simplex (Martins & Astudillo 2016, Alg. 1)."""
    s = xp.sort(x, axis=-1, descending=True)
    support = 1 + _ranks(xp, s) * s > xp.cumulative_sum(s, axis=-1)  # a prefix of the sorted scores
    size = xp.sum(xp.astype(support, s.dtype), axis=-1, keepdims=True)
    total = xp.sum(xp.where(support, s, 0.0), axis=-1, keepdims=True)
    tau = (total - 1) / xp.where(size > 0, size, 1.0)  # size 0 only for a NaN row: stays NaN
    return relu0(xp, x - tau)


def _entmax15(xp, x):
    """1.5-entmax in closed form (Peters, Niculae & Martins 2019, Alg. 2)."""
    x = x / 2
    s = xp.sort(x, axis=-1, descending=True)
    # -inf scores (sorted last) are never in the support; 0 in the running moments keeps the
    # earlier positions exact and no inf - inf is formed (a NaN score still gives NaN)
    masked = s == -float("inf")
    s0 = xp.where(masked, 0.0, s)
    k = _ranks(xp, s)
    mean = xp.cumulative_sum(s0, axis=-1) / k
    mean_sq = xp.cumulative_sum(s0 * s0, axis=-1) / k
    delta = (1 - k * (mean_sq - mean * mean)) / k
    tau = mean - xp.sqrt(xp.where(delta <= 0, 0.0, delta))
    size = xp.sum(xp.astype((tau <= s) & ~masked, s.dtype), axis=-1, keepdims=True)
    tau_star = xp.sum(xp.where(k == size, tau, 0.0), axis=-1, keepdims=True)  # tau[size - 1]
    p = relu0(xp, x - tau_star)
    return p * p


def _entmax_bisect(xp, x, alpha, n_iter):
    """α-entmax by ``n_iter`` bisection steps on the threshold, then normalised (the
    ``entmax`` package's ``entmax_bisect(ensure_sum_one=True)``, step for step)."""
    x = x * (alpha - 1)
    tau_lo = xp.full_like(x[..., :1], -1.0)  # the row maximum is 0: max - 1 ** (alpha - 1)
    dm = 1.0 - (1.0 / x.shape[-1]) ** (alpha - 1)  # tau_hi - tau_lo, the same for every row
    p = x
    for _ in range(n_iter):
        dm /= 2
        tau_m = tau_lo + dm
        p = pow0(xp, relu0(xp, x - tau_m), 1.0 / (alpha - 1))
        f = xp.sum(p, axis=-1, keepdims=True) - 1
        tau_lo = xp.where(f >= 0, tau_m, tau_lo)
    return p / xp.sum(p, axis=-1, keepdims=True)


def _gini(xp, p):
    return (1 - xp.sum(p * p, axis=-1)) / 2


def _tsallis15(xp, p):
    return (1 - xp.sum(p * xp.sqrt(p), axis=-1)) / 0.75


def _tsallis(alpha):
    return lambda xp, p: (1 - xp.sum(pow0(xp, p, float(alpha)), axis=-1)) / (alpha * (alpha - 1))


def _fenchel_young(input, target, weight, ignore_index, mean_over, reduction, axis, what, project, omega,
                   group):
    """The multi-class Fenchel–Young loss ``Ω(p̂) + <p̂, z> − z_y`` with ``p̂ = project(z)``
    held constant (gradient ``p̂ − e_y``), class weights, ignored targets and ``group`` as
    :func:`losses.cross_entropy`."""
    xp = _class_args(input, target, weight, reduction, mean_over, ignore_index, axis)
    group = xp.check_group(group)
    ax, n_classes, z, w, out_dtype = _class_setup(xp, input, target, weight, axis, what)
    if n_classes < 1:
        raise ValueError(f"{what} needs at least 1 class along axis {ax}, got input {tuple(input.shape)}")
    keep, safe_t = _safe_targets(xp, target, n_classes, ignore_index)
    w_t = _weights_at(xp, keep, safe_t, w, z.dtype)
    if ax != z.ndim - 1:
        z = xp.moveaxis(z, ax, -1)
    # shifted by the (constant) row maximum: the loss is invariant, sorting and powers stay finite
    if numel(z):  # (a maximum over nothing has no value)
        z = z - xp.stop_gradient(xp.max(z, axis=-1, keepdims=True))
    p = xp.stop_gradient(project(xp, xp.stop_gradient(z)))
    # p * z with p = 0 counts 0 (also at z = -inf); the gradient wrt z is p
    loss = omega(xp, p) + xp.sum(p * xp.where(p > 0, z, 0.0), axis=-1) - xp.take_class(z, safe_t, axis=-1)
    return reduce(xp, loss, reduction, weight=w_t, mean_over=mean_over, out_dtype=out_dtype, group=group)


_MULTICLASS_ARGS_HEAD = """\
    Args:
        input: scores (logits), shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class indices (any integer dtype), ``input``'s shape without the class axis.
"""
_MULTICLASS_ARGS_TAIL = """\
        weight: optional class weights, shape ``(C,)`` (as :func:`losses.cross_entropy`).
        ignore_index: target value whose positions are skipped (default -100).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default, the sum of
            the kept targets' class weights, the number kept without weights; over the whole
            group with ``group=``) or ``"elements"``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: the class axis (default 1, or 0 for a 1-D input, as torch).
"""
_MULTICLASS_RETURNS_RAISES = """\
    Returns:
        A scalar, or the per-sample loss (``target``'s shape, 0 at ignored positions) for
        ``reduction="none"``, in the promoted floating dtype of the inputs.

    Raises:
        ValueError: wrong ``target`` or ``weight`` shape, no class, bad ``reduction``/
            ``mean_over``/``axis``; eagerly, class indices outside ``[0, C)`` other than
            ``ignore_index``{more_value}.
        TypeError: non-floating ``input``, non-integer ``target``, complex ``weight``,
            non-int ``ignore_index``{more_type}.
"""


def _multiclass_doc(f):
    if f.__doc__:  # (stripped by python -OO)
        f.__doc__ = (f.__doc__.replace("    {args}\n", _MULTICLASS_ARGS_HEAD + _MULTICLASS_ARGS_TAIL)
                     .replace("    {args_head}\n", _MULTICLASS_ARGS_HEAD)
                     .replace("    {args_tail}\n", _MULTICLASS_ARGS_TAIL)
                     .replace("    {returns_raises}\n", _MULTICLASS_RETURNS_RAISES)
                     .replace("    {returns_raises_alpha}\n", _MULTICLASS_RETURNS_RAISES.format(
                         more_value=";\n            ``alpha`` <= 1 or infinite, ``n_iter`` < 1",
                         more_type=",\n            a non-number (or NaN) ``alpha``, a non-int ``n_iter``"))
                     .replace("{more_value}", "").replace("{more_type}", ""))
    return f


@check.entry
@group_doc
@_multiclass_doc
def multiclass_sparsemax_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                              ignore_index: int = -100, mean_over: MeanOver = "weights",
                              reduction: Reduction = "mean", axis: int | None = None,
                              group: Group = None) -> ArrayT:
    r"""Sparsemax loss: the Fenchel–Young loss of the Gini negentropy (sparse cross-entropy).

    .. math::
        \ell = \tfrac12\big(1 - \|p\|^2\big) + \langle p, z\rangle - z_y, \qquad
        p = \operatorname{sparsemax}(z) = \arg\min_{q \in \Delta} \|q - z\|^2,
        \qquad \nabla_z \ell = p - e_y

    ``p`` is computed by sorting (``sort``, ``cumulative_sum``; Martins & Astudillo 2016) and
    is exactly sparse; the loss is 0 when ``p = e_y``, i.e. when ``z_y`` beats every other
    score by at least 1.

    {args}
    {group}

    {returns_raises}

    References: Martins & Astudillo 2016, "From softmax to sparsemax"; Blondel, Martins &
    Niculae 2020, "Learning with Fenchel–Young losses".

    Peer twins: ``optax.losses.multiclass_sparsemax_loss(input, target)`` = ``axis=-1,
    reduction="none"`` (values; its autodiff gradient is ``p − e_y`` too);
    ``entmax.sparsemax_loss(input, target)`` = ``reduction="none"`` and
    ``entmax.SparsemaxLoss()(input, target)`` = the defaults (its ``k`` only trades speed).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[3.0, 1.0, 0.0], [0.5, 0.0, 0.0]])
        >>> losses.multiclass_sparsemax_loss(z, np.array([0, 1]), reduction="none").round(4)
        array([0.    , 0.5833])
    """
    return _fenchel_young(input, target, weight, ignore_index, mean_over, reduction, axis,
                          "multiclass_sparsemax_loss", _sparsemax, _gini, group)


@check.entry
@group_doc
@_multiclass_doc
def entmax15_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                  ignore_index: int = -100, mean_over: MeanOver = "weights",
                  reduction: Reduction = "mean", axis: int | None = None, group: Group = None) -> ArrayT:
    r"""1.5-entmax loss: the Fenchel–Young loss of the Tsallis 1.5-negentropy.

    .. math::
        \ell = \frac{1 - \sum_j p_j^{3/2}}{0.75} + \langle p, z\rangle - z_y, \qquad
        p = \operatorname{entmax}_{1.5}(z), \qquad \nabla_z \ell = p - e_y

    ``p`` is computed exactly by sorting (Peters, Niculae & Martins 2019, Alg. 2): sparse,
    but smoother than sparsemax.

    {args}
    {group}

    {returns_raises}

    References: Peters, Niculae & Martins 2019, "Sparse sequence-to-sequence models".

    Peer twins: ``entmax.entmax15_loss(input, target)`` = ``reduction="none"``;
    ``entmax.Entmax15Loss()(input, target)`` = the defaults (its ``k`` only trades speed);
    :func:`entmax_bisect_loss` with ``alpha=1.5`` gives the same value.

    Example:
        >>> import numpy as np, losses
        >>> print(round(float(losses.entmax15_loss(np.array([0.5, 0.0, 0.0]), np.array(1))), 4))
        0.7801
    """
    return _fenchel_young(input, target, weight, ignore_index, mean_over, reduction, axis,
                          "entmax15_loss", _entmax15, _tsallis15, group)


@check.entry
@group_doc
@_multiclass_doc
def entmax_bisect_loss(input: ArrayT, target: ArrayT, *, alpha: float = 1.5, n_iter: int = 50,
                       weight: ArrayT | None = None, ignore_index: int = -100,
                       mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                       axis: int | None = None, group: Group = None) -> ArrayT:
    r"""α-entmax loss for any α > 1, its prediction map found by bisection.

    .. math::
        \ell = \frac{1 - \sum_j p_j^{\alpha}}{\alpha(\alpha - 1)} + \langle p, z\rangle - z_y,
        \qquad p_j = \big[(\alpha - 1) z_j - \tau\big]_+^{1/(\alpha-1)},
        \qquad \nabla_z \ell = p - e_y

    The threshold τ (``Σ p = 1``) is found by ``n_iter`` bisection steps on an interval that
    always contains it, then ``p`` is normalised to sum to 1 — a fixed number of vectorised
    steps (no data-dependent loop), so it traces under ``jax.jit``/``torch.compile``.
    ``alpha=2`` is sparsemax, ``alpha → 1`` tends to the softmax cross-entropy.

    {args_head}
        alpha: α > 1, a Python number (the ``entmax`` package also takes one α per row).
        n_iter: bisection steps, an int >= 1 (default 50, the peer's; about 24 reach float32
            precision, 50 float64).
    {args_tail}
    {group}

    {returns_raises_alpha}

    References: Peters, Niculae & Martins 2019, "Sparse sequence-to-sequence models";
    Blondel, Martins & Niculae 2020.

    Peer twins: ``entmax.entmax_bisect_loss(input, target, alpha, n_iter)`` =
    ``reduction="none"``; ``entmax.EntmaxBisectLoss(alpha, n_iter)(input, target)`` = the
    defaults. The gradient is ``p − e_y``, the peer's closed form (no gradient wrt α).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[3.0, 1.0, 0.0], [0.5, 0.0, 0.0]])
        >>> losses.entmax_bisect_loss(z, np.array([0, 1]), alpha=2.0, reduction="none").round(4)
        array([0.    , 0.5833])
    """
    check.real_number(alpha, "alpha", low=1, low_open=True)
    check.finite_number(alpha, "alpha", low=1, low_open=True)
    if isinstance(n_iter, bool) or not isinstance(n_iter, int):
        raise TypeError(f"n_iter must be an int, got {n_iter!r}")
    if n_iter < 1:
        raise ValueError(f"n_iter must be >= 1, got {n_iter!r}")
    a = float(alpha)
    return _fenchel_young(input, target, weight, ignore_index, mean_over, reduction, axis, "entmax_bisect_loss",
                          lambda xp, x: _entmax_bisect(xp, x, a, n_iter), _tsallis(a), group)


def _sparse_plus(xp, u):
    """``0`` for ``u <= -1``, ``(u + 1)² / 4`` inside, ``u`` for ``u >= 1`` (``jax.nn.sparse_plus``);
    its derivative ``clip((u + 1) / 2, 0, 1)`` is continuous, and the quadratic branch only
    sees clipped values (finite gradients at ±inf). NaN stays NaN."""
    high = u >= 1
    shifted = xp.where(u <= -1, -1.0, xp.where(high, 1.0, u)) + 1  # clip(u, -1, 1) + 1, formed once
    return xp.where(high, u, 0.25 * shifted * shifted)


@check.entry
@group_doc
def sparsemax_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                   mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                   group: Group = None) -> ArrayT:
    r"""Binary sparsemax loss: the Fenchel–Young loss of the sparse sigmoid.

    .. math::
        \ell = \operatorname{sparseplus}\big((1 - 2y)\,z\big), \qquad
        \operatorname{sparseplus}(u) = \begin{cases} 0 & u \le -1 \\ (u+1)^2/4 & |u| < 1 \\
        u & u \ge 1 \end{cases}, \qquad
        \frac{\partial\ell}{\partial z} = \operatorname{sparsesigmoid}(z) - y

    with ``sparsesigmoid(z) = clip((z + 1)/2, 0, 1)``: zero exactly when the sparse sigmoid
    of the score equals the label. The binary counterpart of
    :func:`multiclass_sparsemax_loss` (which equals it on the scores ``(z/2, −z/2)``).

    Args:
        input: real-valued scores (logits), any shape, real floating dtype.
        target: labels in {0, 1}, ``input``'s shape (floating, integer or bool).
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default) or
            ``"elements"``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``mean_over``/``reduction``; eagerly, target values
            other than 0 and 1 (NaN included).
        TypeError: non-floating ``input``, complex ``target``/``weight``.

    References: Blondel, Martins & Niculae 2020, "Learning with Fenchel–Young losses", §4.4.

    Peer twins: ``optax.losses.sparsemax_loss(input, target)`` = ``reduction="none"``.

    Example:
        >>> import numpy as np, losses
        >>> losses.sparsemax_loss(np.array([2.0, 0.0, -0.5]), np.array([1.0, 1.0, 0.0]),
        ...                       reduction="none")
        array([0.    , 0.25  , 0.0625])
    """
    xp = namespace(input=input, target=target, weight=weight)
    _weighted_options(mean_over, reduction)
    group = xp.check_group(group)
    _, out_dtype, (x, t, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    check.same_shape(x, t, "input", "target")
    check.broadcastable(w, "weight", x.shape, "input")
    check.values_among(xp, t, "target", (0, 1))
    loss = _sparse_plus(xp, (1 - 2 * t) * x)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_binary_doc
def perceptron_loss(input: ArrayT, target: ArrayT, *, target_encoding: TargetEncoding = "pm1",
                    weight: ArrayT | None = None, mean_over: MeanOver = "weights",
                    reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Binary perceptron loss: the hinge loss without a margin.

    .. math:: \ell_i = \max(0,\ -y_i x_i)

    Label conventions (``target`` in {-1, 1} for ``target_encoding="pm1"``, the default and
    optax's, or in {0, 1} for ``"01"``), arguments (``group`` included), returns and errors as
    :func:`losses.hinge_loss`. The subgradient at ``y x = 0`` is 0, as ``hinge_loss`` at its
    kink (optax's ``jnp.maximum`` gives ``−y/2`` there; docs/differences.md).

    {binary_args}
    References: Rosenblatt 1958, "The perceptron".

    Peer twins: ``optax.losses.perceptron_loss(input, target)`` = ``reduction="none"``
    (values everywhere, gradients off the kink).

    Example:
        >>> import numpy as np, losses
        >>> losses.perceptron_loss(np.array([2.0, -0.5]), np.array([1.0, 1.0]), reduction="none")
        array([0. , 0.5])
    """
    xp = namespace(input=input, target=target, weight=weight)
    group = xp.check_group(group)
    loss, w, out_dtype = _binary_margin(xp, input, target, weight, target_encoding, mean_over, reduction,
                                        margin=0.0)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_crammer_singer_doc(margin=False)
def multiclass_perceptron_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                               mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                               axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Multi-class perceptron loss (Collins 2002): best score minus the target's score.

    .. math:: \ell_n = \max_j x_{n,j} - x_{n,y_n} = \max\Big(0,\ \max_{j \ne y_n} x_{n,j} - x_{n,y_n}\Big)

    :func:`losses.multiclass_hinge_loss` with ``margin=0``. The gradient goes to the first
    maximal non-target class; the loss and its gradient are 0 when the target ties the best
    other score, infinite scores included (optax's ``jnp.max`` splits the gradient over tied
    maxima and gives ``inf - inf = NaN`` at infinite ties; docs/differences.md). A NaN score
    gives NaN.

    Arguments (no ``margin``), returns and errors as :func:`losses.multiclass_hinge_loss`.

    {multiclass_args}
    References: Collins 2002, "Discriminative training methods for hidden Markov models".

    Peer twins: ``optax.losses.multiclass_perceptron_loss(input, target)`` = ``axis=-1,
    reduction="none"`` (values everywhere, gradients off ties).

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0]])
        >>> losses.multiclass_perceptron_loss(z, np.array([0, 2]), reduction="none")
        array([0., 2.])
    """
    return _crammer_singer(input, target, weight, 0.0, mean_over, reduction, axis, "multiclass_perceptron_loss",
                           group)


def _distribution_args(input, target, reduction, axis, group):
    """Checks shared by the losses between distributions along a class axis; returns
    ``(xp, class axis, input, target, out_dtype, group)`` in the compute dtype."""
    xp = namespace(input=input, target=target)
    check.reduction(reduction)
    group = xp.check_group(group)
    _axis_arg(axis)
    _, out_dtype, (z, t) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(z, t, "input", "target")
    check.ndim_at_least(z, 1, "input")
    return xp, class_axis(z, axis), z, t, out_dtype, group


@check.entry
@group_doc
def generalized_kl_divergence(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
                              axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Generalized Kullback–Leibler divergence between unnormalised distributions.

    .. math:: D(t \,\|\, e^{z}) = \sum_j t_j \log t_j - t_j z_j + e^{z_j} - t_j

    with ``z = input`` the log-predictions and ``0 log 0 = 0``: the Bregman divergence of
    ``x log x − x``, which is :func:`losses.kl_div`'s sum when both sides are normalised.
    An element with ``t_j = 0`` contributes ``e^{z_j}`` (0 at ``z_j = −inf``).

    Args:
        input: log-predictions, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: non-negative target masses of ``input``'s shape (need not sum to 1).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the per-distribution divergences.
        axis: the axis the divergence sums over (default 1, or 0 for a 1-D input).
    {group}

    Returns:
        A scalar, or the divergence per distribution (``input``'s shape without ``axis``)
        for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``/``axis``; eagerly, a negative target.
        TypeError: non-floating ``input``, complex ``target``.

    References: Bregman 1967; Boyd & Vandenberghe 2004, "Convex optimization", p. 90.

    Peer twins: ``optax.losses.generalized_kl_divergence(input, target)`` = ``axis=-1,
    reduction="none"`` (optax gives NaN where ``t_j = 0`` and ``z_j = −inf``; its ``where=``
    is not provided).

    Example:
        >>> import numpy as np, losses
        >>> z = np.log(np.array([[0.5, 0.5], [1.0, 2.0]]))
        >>> losses.generalized_kl_divergence(z, np.array([[0.5, 0.5], [2.0, 0.0]]),
        ...                                  reduction="none").round(4)
        array([0.    , 2.3863])
    """
    xp, ax, z, t, out_dtype, group = _distribution_args(input, target, reduction, axis, group)
    check.nonnegative(xp, xp.stop_gradient(t), "target")
    # xlogy(t, t) - t z under one outer mask (0 where t = 0, also at z = ±inf; the inner
    # wheres keep the log and the gradient wrt t finite there): the values and gradients of
    # xlogy(t, t) - t * where(t != 0, z, 0), computed in one pass over t and z instead of two
    zero = t == 0
    elem = xp.where(zero, 0.0, t * xp.log(xp.where(zero, 1.0, t)) - t * xp.where(zero, 0.0, z)) + xp.exp(z) - t
    return reduce(xp, xp.sum(elem, axis=ax), reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def convex_kl_divergence(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
                         axis: int | None = None, group: Group = None) -> ArrayT:
    r"""The convex (generalized) Kullback–Leibler divergence, optax's older name of :func:`generalized_kl_divergence`.

    The same arguments and results as :func:`generalized_kl_divergence`.

    .. math:: D(t \,\|\, e^{z}) = \sum_j t_j \log t_j - t_j z_j + e^{z_j} - t_j

    Args:
        input: log-predictions, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: non-negative target masses of ``input``'s shape.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"`` over the per-distribution divergences.
        axis: the axis the divergence sums over (default 1, or 0 for a 1-D input).
    {group}

    Returns:
        As :func:`generalized_kl_divergence`: a scalar, or the divergence per distribution
        (``input``'s shape without ``axis``) for ``reduction="none"``.

    Raises:
        ValueError: as :func:`generalized_kl_divergence`: shapes differ, bad
            ``reduction``/``axis``; eagerly, a negative target.
        TypeError: non-floating ``input``, complex ``target``.

    References: Boyd & Vandenberghe 2004, "Convex optimization", p. 90.

    Peer twins: ``optax.losses.convex_kl_divergence(input, target)`` (deprecated there in
    favour of ``generalized_kl_divergence``) = ``axis=-1, reduction="none"``.

    Example:
        >>> import numpy as np, losses
        >>> losses.convex_kl_divergence(np.zeros((1, 2)), np.array([[1.0, 1.0]]))
        array(0.)
    """
    return generalized_kl_divergence(input, target, reduction=reduction, axis=axis, group=group)


@check.entry
@group_doc
def safe_softmax_cross_entropy(input: ArrayT, target: ArrayT, *, reduction: Reduction = "mean",
                               axis: int | None = None, group: Group = None) -> ArrayT:
    r"""Softmax cross-entropy with probability targets where ``0 · log 0 = 0``.

    .. math:: \ell = -\sum_{j:\ t_j \ne 0} t_j \log\operatorname{softmax}(z)_j

    A class with ``t_j = 0`` contributes nothing, also at ``z_j = −inf`` (masked-out
    classes), where :func:`losses.cross_entropy` (as torch) gives ``0 · (−inf) = NaN``. The
    gradient is ``softmax(z) · Σ_j t_j − t``, finite at ``−inf`` logits (0 there).

    Args:
        input: logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: class probabilities of ``input``'s shape.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
        axis: the class axis (default 1, or 0 for a 1-D input, as torch).
    {group}

    Returns:
        A scalar, or the per-sample loss (``input``'s shape without ``axis``) for
        ``reduction="none"``.

    Raises:
        ValueError: shapes differ, bad ``reduction``/``axis``.
        TypeError: non-floating ``input``, complex ``target``.

    References: Blondel, Martins & Niculae 2020 (the Fenchel–Young loss of the Shannon
    negentropy).

    Peer twins: ``optax.safe_softmax_cross_entropy(input, target)`` = ``axis=-1,
    reduction="none"``; ``torch.nn.functional.cross_entropy(input, target)`` wherever every
    logit is finite.

    Example:
        >>> import numpy as np, losses
        >>> z = np.array([[0.0, 0.0, -np.inf]])
        >>> print(round(float(losses.safe_softmax_cross_entropy(z, np.array([[1.0, 0.0, 0.0]]))), 4))
        0.6931
    """
    xp, ax, z, t, out_dtype, group = _distribution_args(input, target, reduction, axis, group)
    if group is None:
        # torch: F.cross_entropy's rows where all are finite (no masked class met a 0 target)
        out = xp.fast("safe_softmax_cross_entropy", z, t, reduction, ax, out_dtype,
                      rows_finite=lambda rows: check.read_fact(xp, xp.sum(rows), math.isfinite))
        if out is not NotImplemented:
            return out
    log_p = xp.log_softmax(z, axis=ax)
    loss = -xp.sum(t * xp.where(t != 0, log_p, 0.0), axis=ax)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
