"""Negative log-likelihood losses of parametric distributions (``torch.nn.functional`` semantics).

A Bernoulli NLL is not a separate function: ``-log p(y | p) = -[y log p + (1-y) log(1-p)]``
is exactly :func:`~losses.binary_cross_entropy` (probabilities) and
:func:`~losses.binary_cross_entropy_with_logits` (logits); a categorical NLL is
:func:`~losses.nll_loss` / :func:`~losses.cross_entropy`.
"""
from __future__ import annotations

import math

from . import _validate as check
from ._common import float_args, is_number
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _var_shape(input, var):
    """torch's rules for the shape of ``var`` relative to ``input`` (returns the axis to add)."""
    ishape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape == ishape:
        return None
    if ishape[:-1] == vshape:
        return -1  # homoscedastic over the last axis: var gets a trailing axis of size 1
    if len(vshape) == len(ishape) and sum(v for i, v in zip(ishape, vshape) if i != v) == 1:
        return None  # exactly one mismatched axis, of size 1 in var: broadcasts
    raise ValueError(
        f"var of shape {vshape} does not fit input {ishape}: expected input's shape, input's "
        f"shape without its last axis {ishape[:-1]}, or input's shape with exactly one axis of size 1"
    )


@check.entry
@group_doc
def gaussian_nll_loss(input: ArrayT, target: ArrayT, var: ArrayT | float, *, full: bool = False,
                      eps: float = 1e-6, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Gaussian negative log-likelihood with predicted variance (``torch.nn.functional.gaussian_nll_loss``).

    .. math:: \ell_i = \tfrac12\Big(\log \max(\sigma^2_i, \varepsilon)
              + \frac{(x_i - y_i)^2}{\max(\sigma^2_i, \varepsilon)}\Big)
              \ \big(+\ \tfrac12\log 2\pi \text{ if full}\big)

    The clamp at ``eps`` is torch's: it changes the value but not the gradient path (the
    gradient with respect to ``var`` below ``eps`` is that of the loss at ``eps``, passed
    straight through), so the result and gradient match torch everywhere. A NaN variance
    stays NaN (the clamp does not hide it). float16/bfloat16 inputs are computed in float32:
    values and gradients are float32's rounded to the input dtype (``inf`` only where the
    exact value exceeds its range, e.g. ``d^2 / 2 var^2`` above 65504 in float16).

    Args:
        input: predicted means ``x``, any shape, real floating dtype.
        target: observations ``y``, same shape as ``input`` (integer/bool accepted).
        var: predicted variances σ² >= 0: same shape as ``input`` (heteroscedastic),
            ``input``'s shape without its last axis or with exactly one axis of size 1
            (homoscedastic along that axis), or a non-negative Python float.
        full: add the constant ``0.5 log 2π`` (a bool).
        eps: clamp floor of the variance, > 0 (default 1e-6).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss (``input``'s shape) for ``reduction="none"``.

    Raises:
        ValueError: ``input``/``target`` shapes differ, ``var`` has an incompatible shape,
            ``eps`` <= 0, bad ``reduction``; negative ``var`` (eagerly for arrays, always for
            a Python float), as torch.
        TypeError: non-floating ``input``, complex ``target``/``var``, non-bool ``full``.

    References: Nix & Weigend 1994, "Estimating the mean and variance of the target
    probability distribution"; PyTorch ``GaussianNLLLoss``.

    Peer twins: ``torch.nn.functional.gaussian_nll_loss(input, target, var, full=full,
    eps=eps)`` (identical, values and gradients; torch broadcasts ``input``/``target`` of
    different shapes, we raise).

    Example:
        >>> x, y = np.array([0.0, 1.0]), np.array([0.5, 1.0])
        >>> round(float(losses.gaussian_nll_loss(x, y, np.array([1.0, 1.0]))), 4)  # mean of d^2 / 2
        0.0625
        >>> round(float(losses.gaussian_nll_loss(x, y, 1.0, full=True)), 4)  # + 0.5 log 2 pi
        0.9814
    """
    xp = namespace(input=input, target=target, var=var)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.flag(full, "full")
    check.finite_number(eps, "eps", low=0, low_open=True)
    if is_number(var):
        check.real_number(var, "var", low=0)
    _, out_dtype, (x, y, v) = float_args(xp, input, target, var, names=("input", "target", "var"))
    check.same_shape(x, y, "input", "target")
    if is_number(var):
        v = xp.full_like(x, float(var))
    else:
        add_axis = _var_shape(x, v)
        check.nonnegative(xp, v, "var")
        if add_axis is not None:
            v = xp.expand_dims(v, axis=-1)
    if group is None:
        out = xp.fast("gaussian_nll_loss", x, y, v, full, eps, reduction, out_dtype)
        if out is not NotImplemented:
            return out
    # torch clamps in place under no_grad: value max(var, eps), gradient straight through;
    # NaN is not below eps, so it stays NaN
    v = xp.where(v < eps, (v - xp.stop_gradient(v)) + eps, v)
    d = x - y
    loss = 0.5 * (xp.log(v) + d * d / v)
    if full:
        loss = loss + _HALF_LOG_2PI
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def poisson_nll_loss(input: ArrayT, target: ArrayT, *, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Poisson negative log-likelihood (``torch.nn.functional.poisson_nll_loss``).

    .. math::
        \ell_i = \begin{cases} e^{x_i} - y_i x_i & \text{log\_input (x is } \log\lambda) \\
                 x_i - y_i \log(x_i + \varepsilon) & \text{otherwise (x is } \lambda)\end{cases}
        \ \ +\ \big[y_i \log y_i - y_i + \tfrac12\log(2\pi y_i)\big]_{y_i > 1}\ \text{if full}

    The Stirling term approximates ``log(y!)`` and is added only where ``y > 1`` (as torch);
    it is computed with a double ``where``, so its gradient with respect to ``target`` is
    finite (0) at ``y`` in [0, 1] (torch gives NaN at ``y = 0``). A NaN target gives NaN.

    Args:
        input: ``log λ`` (``log_input=True``, default) or the rate ``λ >= 0``, any shape.
        target: counts ``y >= 0`` (any real value >= 0; integer/bool accepted), same shape
            as ``input``. Negative targets are refused eagerly (torch computes a number for
            them; a Poisson count cannot be negative).
        log_input: whether ``input`` is the log-rate (a bool).
        full: add the Stirling approximation of ``log(y!)`` (a bool).
        eps: added to λ inside the log when ``log_input=False``, >= 0 (default 1e-8).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``eps`` < 0, bad ``reduction``; eagerly, negative
            ``target``, or negative ``input`` when ``log_input=False`` (torch returns NaN).
        TypeError: non-floating ``input``, complex ``target``, non-bool ``log_input``/``full``.

    References: PyTorch ``PoissonNLLLoss``; Stirling's formula for ``log(y!)``.

    Peer twins: ``torch.nn.functional.poisson_nll_loss(input, target, log_input=...,
    full=..., eps=...)`` (identical values and input gradients on non-negative targets).

    Example:
        >>> log_rate, counts = np.array([0.0, np.log(2.0)]), np.array([1.0, 2.0])
        >>> round(float(losses.poisson_nll_loss(log_rate, counts)), 4)  # mean of exp(x) - y x
        0.8069
        >>> round(float(losses.poisson_nll_loss(np.exp(log_rate), counts, log_input=False)), 4)
        0.8069
    """
    xp = namespace(input=input, target=target)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.flag(log_input, "log_input")
    check.flag(full, "full")
    check.finite_number(eps, "eps", low=0)
    _, out_dtype, (x, y) = float_args(xp, input, target, names=("input", "target"))
    check.same_shape(x, y, "input", "target")
    check.nonnegative(xp, y, "target")
    if not log_input:
        check.nonnegative(xp, x, "input (a rate, log_input=False)")
    out = NotImplemented if group is not None else xp.fast(
        "poisson_nll_loss", x, y, log_input, full, eps, reduction, out_dtype)
    if out is not NotImplemented:
        return out
    if log_input:
        loss = xp.exp(x) - y * x
    else:
        loss = x - y * xp.log(x + eps)
    if full:
        small = y <= 1  # NaN: the Stirling branch, which gives NaN
        ys = xp.where(small, 2.0, y)
        stirling = ys * xp.log(ys) - ys + 0.5 * xp.log((2 * math.pi) * ys)
        loss = loss + xp.where(small, 0.0, stirling)
    return reduce(xp, loss, reduction, out_dtype=out_dtype, group=group)
