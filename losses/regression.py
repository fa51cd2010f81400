"""Regression losses: MSE, L1, Huber, smooth L1, log-cosh, quantile (pinball), asymmetric MSE,
mean squared log error, mean absolute percentage error."""
from __future__ import annotations

import math

from . import _validate as check
from ._common import abs0, fill_doc, float_args, relu0
from ._reduction import reduce
from ._typing import ArrayT, Reduction
from .backends import namespace

__all__ = [
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "log_cosh_loss",
    "quantile_loss",
    "asymmetric_mse_loss",
    "mean_squared_log_error",
    "mean_absolute_percentage_error",
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


def _checked(input, target, weight, reduction):
    """The namespace, after the checks every regression loss makes."""
    xp = namespace(input, target, weight)
    check.reduction(reduction)
    check.same_shape(input, target, "input", "target")
    check.broadcastable(weight, "weight", input.shape, "input")
    return xp


def _prepare(input, target, weight, reduction):
    xp = _checked(input, target, weight, reduction)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight, names=("input",))
    return xp, x - y, w, out_dtype


_doc = fill_doc("{common}", _COMMON_ARGS)


@_doc
def mse_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
             reduction: Reduction = "mean") -> ArrayT:
    r"""Mean squared error.

    .. math:: \ell_i = (x_i - y_i)^2

    {common}
    Peer twins: ``torch.nn.functional.mse_loss``, ``optax.squared_error`` (element-wise,
    without the mean), ``keras.losses.mean_squared_error`` (mean over the last axis).
    """
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    return reduce(xp, d * d, reduction, weight=w, out_dtype=out_dtype)


@_doc
def l1_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
            reduction: Reduction = "mean") -> ArrayT:
    r"""Mean absolute error.

    .. math:: \ell_i = |x_i - y_i|

    The subgradient at ``x == y`` is 0 on every backend (as ``torch.nn.functional.l1_loss``).
    {common}
    Peer twins: ``torch.nn.functional.l1_loss``, ``keras.losses.mean_absolute_error``.
    """
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    return reduce(xp, abs0(xp, d), reduction, weight=w, out_dtype=out_dtype)


@_doc
def huber_loss(input: ArrayT, target: ArrayT, *, delta: float = 1.0, weight: ArrayT | None = None,
               reduction: Reduction = "mean") -> ArrayT:
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
def smooth_l1_loss(input: ArrayT, target: ArrayT, *, beta: float = 1.0, weight: ArrayT | None = None,
                   reduction: Reduction = "mean") -> ArrayT:
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
def log_cosh_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | None = None,
                  reduction: Reduction = "mean") -> ArrayT:
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
def quantile_loss(input: ArrayT, target: ArrayT, *, q: float = 0.5, weight: ArrayT | None = None,
                  reduction: Reduction = "mean") -> ArrayT:
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


def asymmetric_mse_loss(input: ArrayT, target: ArrayT, *, over_penalty: float = 2.0,
                        weight: ArrayT | None = None, reduction: Reduction = "mean") -> ArrayT:
    r"""Squared error that weighs over-prediction by ``over_penalty``.

    .. math:: \ell_i = \begin{cases} \kappa\,(x_i - y_i)^2 & x_i > y_i \\ (x_i - y_i)^2 & \text{otherwise}\end{cases}

    ``κ = over_penalty`` > 1 penalises over-estimates more (e.g. demand or latency
    forecasting where over-provisioning costs more), κ < 1 under-estimates more; ``κ = 1``
    is :func:`~losses.mse_loss`. Continuous and differentiable (gradient 0 at ``x == y``).

    Args:
        input: predictions, any shape. target: same shape.
        over_penalty: κ >= 0 (default 2).
        weight: optional element weights broadcastable to ``input``; ``"mean"`` is
            ``sum(w*l)/sum(w)``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``over_penalty`` < 0, bad ``reduction``.
        TypeError: non-floating ``input``.

    Reference: asymmetric quadratic loss; see Varian 1975 (LINEX) and Christoffersen &
    Diebold 1997, "Optimal prediction under asymmetric loss" (Econometric Theory).

    Peer twins: none in torch/optax/Keras; ``over_penalty=1`` equals
    ``torch.nn.functional.mse_loss``.
    """
    check.real_number(over_penalty, "over_penalty", low=0)
    xp, d, w, out_dtype = _prepare(input, target, weight, reduction)
    sq = d * d
    loss = xp.where(d > 0, over_penalty * sq, sq)
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)


def mean_squared_log_error(input: ArrayT, target: ArrayT, *, clip_min: float | None = None,
                           weight: ArrayT | None = None, reduction: Reduction = "mean") -> ArrayT:
    r"""Mean squared logarithmic error.

    .. math:: \ell_i = \big(\log(1 + \tilde x_i) - \log(1 + \tilde y_i)\big)^2,\qquad
              \tilde v = v \ \text{or}\ \max(v, \texttt{clip\_min})

    computed with ``log1p``. ``clip_min=None`` (default, scikit-learn's behaviour up to the
    error type): values must be > -1 (checked eagerly). ``clip_min=1e-7`` reproduces Keras,
    which clips both arguments at its epsilon; the clip's subgradient is 0.

    Args:
        input: predictions, any shape. target: same shape.
        clip_min: optional floor applied to both before ``log1p`` (> -1).
        weight: optional element weights broadcastable to ``input``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``clip_min`` <= -1, bad ``reduction``; eagerly (without
            ``clip_min``), values <= -1.
        TypeError: non-floating ``input``.

    Peer twins: ``keras.losses.mean_squared_logarithmic_error(target, input)`` =
    ``clip_min=1e-7`` (mean over the last axis, i.e. ``reduction="none"`` then ``.mean(-1)``);
    ``sklearn.metrics.mean_squared_log_error`` = default (non-negative data).
    """
    xp = _checked(input, target, weight, reduction)
    if clip_min is not None:
        check.finite_number(clip_min, "clip_min", low=-1, low_open=True)
    else:
        check.greater_than(xp, input, "input", -1)
        check.greater_than(xp, target, "target", -1)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight)
    if clip_min is not None:
        x = xp.where(x > clip_min, x, xp.full_like(x, clip_min))
        y = xp.where(y > clip_min, y, xp.full_like(y, clip_min))
    d = xp.log1p(x) - xp.log1p(y)
    return reduce(xp, d * d, reduction, weight=w, out_dtype=out_dtype)


def mean_absolute_percentage_error(input: ArrayT, target: ArrayT, *, eps: float = 1e-7,
                                   percent: bool = True, weight: ArrayT | None = None,
                                   reduction: Reduction = "mean") -> ArrayT:
    r"""Mean absolute percentage error.

    .. math:: \ell_i = c\,\frac{|x_i - y_i|}{\max(|y_i|, \varepsilon)},\qquad c = 100 \text{ if percent else } 1

    The subgradients of ``|x - y|`` at ``x == y`` and of ``|y|`` at 0 are 0, and the floor's
    too (no torch twin).

    Args:
        input: predictions, any shape. target: same shape.
        eps: floor ε > 0 of ``|y|`` (default 1e-7, Keras's epsilon).
        percent: multiply by 100 (Keras) or not (scikit-learn).
        weight: optional element weights broadcastable to ``input``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, ``eps`` <= 0, bad ``reduction``.
        TypeError: non-floating ``input``.

    Peer twins: ``keras.losses.mean_absolute_percentage_error(target, input)`` = defaults
    (mean over the last axis); ``sklearn.metrics.mean_absolute_percentage_error`` =
    ``eps=numpy.finfo(numpy.float64).eps, percent=False``.
    """
    xp = _checked(input, target, weight, reduction)
    check.real_number(eps, "eps", low=0, low_open=True)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight)
    ay = abs0(xp, y)
    den = xp.where(ay > eps, ay, xp.full_like(ay, eps))
    loss = abs0(xp, x - y) / den
    if percent:
        loss = 100.0 * loss
    return reduce(xp, loss, reduction, weight=w, out_dtype=out_dtype)
