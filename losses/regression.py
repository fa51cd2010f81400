"""Regression losses: MSE, L1, Huber, smooth L1, log-cosh, quantile (pinball)."""
from __future__ import annotations

import math

from . import _validate as check
from ._common import abs0, float_args, relu0
from ._reduction import reduce
from .backends import namespace

__all__ = [
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "log_cosh_loss",
    "quantile_loss",
]

_COMMON_ARGS = """
    Args:
        input: predictions, any shape, real floating dtype.
        target: same shape as ``input`` (a different shape raises ``ValueError``; torch
            broadcasts with a warning).
        weight: optional element weights broadcastable to ``input``. ``"mean"`` is
            ``sum(w * l) / sum(w)`` (torch divides by ``numel``; see docs/differences.md).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the element-wise loss of ``input``'s shape for ``reduction="none"``,
        with the promoted floating dtype of the inputs on their device.

    Raises:
        ValueError: shape mismatch, bad ``reduction`` or hyper-parameter.
        TypeError: non-floating ``input`` or mixed array frameworks.
"""


def _prepare(input, target, weight, reduction):
    xp = namespace(input, target, weight)
    check.reduction(reduction)
    check.same_shape(input, target, "input", "target")
    check.broadcastable(weight, "weight", input.shape, "input")
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight, names=("input",))
    return xp, x - y, w, out_dtype


def _doc(f):
    f.__doc__ = f.__doc__.replace("    {common}\n", _COMMON_ARGS)
    return f


@_doc
def mse_loss(input, target, *, weight=None, reduction="mean"):
    r"""Mean squared error.

    .. math:: \ell_i = (x_i - y_i)^2

    {common}
    Peer twins: ``torch.nn.functional.mse_loss``, ``optax.squared_error`` (element-wise,
    without the mean), ``keras.losses.mean_squared_error`` (mean over the last axis).
    """
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    return reduce(xp, d * d, reduction, weight=w, out_dtype=out_dtype)


@_doc
def l1_loss(input, target, *, weight=None, reduction="mean"):
    r"""Mean absolute error.

    .. math:: \ell_i = |x_i - y_i|

    The subgradient at ``x == y`` is 0 on every backend (as ``torch.nn.functional.l1_loss``).
    {common}
    Peer twins: ``torch.nn.functional.l1_loss``, ``keras.losses.mean_absolute_error``.
    """
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    return reduce(xp, abs0(xp, d), reduction, weight=w, out_dtype=out_dtype)


@_doc
def huber_loss(input, target, *, delta=1.0, weight=None, reduction="mean"):
    r"""Huber loss (Huber 1964): quadratic near 0, linear beyond ``delta``.

    .. math::
        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
                 \delta\,(|d_i| - \tfrac12\delta) & \text{otherwise}\end{cases},
        \qquad d_i = x_i - y_i

    ``delta`` must be > 0. ``huber_loss(delta=1) == smooth_l1_loss(beta=1)`` and in general
    ``huber_loss(delta=b) == b * smooth_l1_loss(beta=b)``.
    {common}
    Peer twins: ``torch.nn.functional.huber_loss``, ``optax.huber_loss`` (element-wise),
    ``keras.losses.huber``.
    """
    check.real_number(delta, "delta", low=0, low_open=True)
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    a = abs0(xp, d)
    loss = xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)


@_doc
def smooth_l1_loss(input, target, *, beta=1.0, weight=None, reduction="mean"):
    r"""Smooth L1 loss (Girshick 2015, Fast R-CNN).

    .. math::
        \ell_i = \begin{cases} \tfrac12 d_i^2 / \beta & |d_i| < \beta \\
                 |d_i| - \tfrac12\beta & \text{otherwise}\end{cases}

    ``beta`` must be >= 0; ``beta=0`` is exactly ``l1_loss`` (as torch).
    {common}
    Peer twins: ``torch.nn.functional.smooth_l1_loss`` (no ``weight`` there).
    """
    check.real_number(beta, "beta", low=0)
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    a = abs0(xp, d)
    if beta == 0:
        loss = a
    else:
        loss = xp.where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta)
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)


@_doc
def log_cosh_loss(input, target, *, weight=None, reduction="mean"):
    r"""Log-cosh loss, computed without overflow as ``logaddexp(d, -d) - log 2``.

    .. math:: \ell_i = \log\cosh(x_i - y_i)

    Behaves like ``d**2 / 2`` near 0 and like ``|d| - log 2`` for large ``|d|``; its gradient
    is ``tanh(d)``.
    {common}
    Peer twins: ``optax.log_cosh`` (element-wise), ``keras.losses.log_cosh`` (mean over the
    last axis). PyTorch has none.
    """
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    loss = xp.logaddexp(d, -d) - math.log(2.0)
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)


@_doc
def quantile_loss(input, target, *, q=0.5, weight=None, reduction="mean"):
    r"""Quantile (pinball) loss for the ``q``-quantile (Koenker & Bassett 1978).

    .. math:: \ell_i = \max\big(q\,(y_i - x_i),\ (q - 1)\,(y_i - x_i)\big)

    ``q`` in [0, 1]; ``q=0.5`` is half the L1 loss. Under-prediction costs ``q`` per unit,
    over-prediction ``1 - q``. The subgradient at ``x == y`` is 0.
    {common}
    Peer twins: ``keras.losses.Quantile``/TF-Addons ``pinball_loss`` (mean over the last
    axis). PyTorch and optax have none.
    """
    check.real_number(q, "q", low=0, high=1)
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    loss = q * relu0(xp, -d) + (1.0 - q) * relu0(xp, d)
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)
