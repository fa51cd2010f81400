"""Regression losses: MSE, L1, Huber, smooth L1, log-cosh, quantile (pinball), asymmetric MSE,
mean squared log error, mean absolute percentage error."""
from __future__ import annotations

import math
from typing import Any, Callable, Literal, TypeVar

from . import _validate as check
from ._common import abs0, fill_doc, float_args, relu0
from ._reduction import MEAN_OVER, group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace

#: ``mean_over=`` of the weighted losses: what a weighted ``"mean"`` divides by, the weight
#: sum (``"weights"``) or the number of loss elements (``"elements"``, torch's ``huber_loss``)
MeanOver = Literal["weights", "elements"]

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
            broadcasts with a warning). Integer/bool targets are cast to ``input``'s dtype.
{hyper}        weight: optional element weights broadcastable to ``input`` (an array or a number).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (``sum(w * l) /
            sum(w)``) or ``"elements"`` (``sum(w * l) / input.size``). {mean_over}
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the element-wise loss of ``input``'s shape for ``reduction="none"``,
        with the promoted floating dtype of the inputs on their device. A NaN in ``input``
        or ``target`` gives NaN (where its weight is not 0); an empty batch gives NaN for
        ``"mean"``, 0 for ``"sum"``.

    Raises:
        ValueError: shape mismatch, bad ``reduction``/``mean_over`` or hyper-parameter.
        TypeError: non-floating ``input``, complex ``target``/``weight``, a non-array
            argument or mixed array frameworks.

"""

_MEAN_WEIGHTS = "Default ``\"weights\"``."

_F = TypeVar("_F", bound=Callable[..., Any])


def _doc_for(mean_over_note: str, hyper: str = "") -> Callable[[_F], _F]:
    """The shared Args/Returns/Raises docstring, with the ``mean_over`` default's note and
    the Args entries of the loss's own hyper-parameters (``hyper``, between ``target`` and
    ``weight`` as in the signatures)."""
    return fill_doc("{common}", _COMMON_ARGS.replace("{mean_over}", mean_over_note).replace("{hyper}", hyper))


_doc = _doc_for(_MEAN_WEIGHTS)


def _checked(input, target, weight, reduction, mean_over, group):
    """The checks every regression loss makes, every argument's dtype first.

    Returns ``(xp, x, y, w, out_dtype, group)``, the arrays cast to the compute dtype (a
    Python number becomes a 0-d array) and the resolved ``group``.
    """
    xp = namespace(input=input, target=target, weight=weight)
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", MEAN_OVER)
    group = xp.check_group(group)
    _, out_dtype, (x, y, w) = float_args(xp, input, target, weight, names=("input", "target", "weight"))
    check.same_shape(x, y, "input", "target")
    check.broadcastable(w, "weight", x.shape, "input")
    return xp, x, y, w, out_dtype, group


def _prepare(input, target, weight, reduction, mean_over, group):
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)
    return xp, x - y, w, out_dtype, group


def _abs(xp, d):
    """``|d|`` with gradient ``sign(d)``: 0 at ``d == 0`` (the library's kink rule) and NaN at
    a NaN, as torch's ``l1_loss``. ``d * sign(d)`` is exact."""
    return d * xp.stop_gradient(xp.sign(d))


def _native_or(xp, name, x, y, w, reduction, mean_over, out_dtype, body, group=None, **params):
    """The framework's kernel ``name`` for the whole loss when unweighted and local; weighted
    or with a ``group``, its element-wise loss (``reduction="none"``) under the library's
    reduction (a zero weight silences a non-finite loss, which torch's ``weight=`` does not;
    the group's sums). ``body(x, y)`` computes the element-wise loss where there is no kernel."""
    if w is None and group is None:
        out = xp.fast(name, x, y, None, reduction, out_dtype, **params)
        if out is not NotImplemented:
            return out
        loss = body(x, y)
    else:
        loss = xp.fast(name, x, y, None, "none", None, **params)
        if loss is NotImplemented:
            loss = body(x, y)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_doc
def mse_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | float | None = None,
             mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Mean squared error.

    .. math:: \ell_i = (x_i - y_i)^2

    {common}
    References: least squares (Legendre 1805, Gauss 1809); PyTorch ``MSELoss``.

    Peer twins: ``torch.nn.functional.mse_loss`` (its ``weight=`` divides by the weight sum
    too), ``optax.squared_error`` (element-wise, without the mean),
    ``keras.losses.mean_squared_error`` (mean over the last axis).

    Example:
        >>> x, y = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
        >>> round(float(losses.mse_loss(x, y)), 4)  # (0 + 1 + 4) / 3
        1.6667
        >>> losses.mse_loss(x, y, reduction="none")
        array([0., 1., 4.])
    """
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)

    def body(x, y):
        d = x - y
        return d * d

    return _native_or(xp, "mse_loss", x, y, w, reduction, mean_over, out_dtype, body, group=group)


@check.entry
@group_doc
@_doc
def l1_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | float | None = None,
            mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Mean absolute error.

    .. math:: \ell_i = |x_i - y_i|

    The subgradient at ``x == y`` is 0 on every backend (as ``torch.nn.functional.l1_loss``).
    {common}
    References: least absolute deviations (Boscovich, Laplace); PyTorch ``L1Loss``.

    Peer twins: ``torch.nn.functional.l1_loss`` (its ``weight=`` divides by the weight sum
    too), ``keras.losses.mean_absolute_error``.

    Example:
        >>> x, y = np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0])
        >>> float(losses.l1_loss(x, y))  # (0 + 1 + 2) / 3
        1.0
    """
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)
    return _native_or(xp, "l1_loss", x, y, w, reduction, mean_over, out_dtype,
                      lambda x, y: _abs(xp, x - y), group=group)


@check.entry
@group_doc
@_doc_for("Default ``\"elements\"``,\n            as ``torch.nn.functional.huber_loss(weight=)``.",
          "        delta: the threshold δ > 0 (finite) between the quadratic and the linear part\n"
          "            (default 1).\n")
def huber_loss(input: ArrayT, target: ArrayT, *, delta: float = 1.0, weight: ArrayT | float | None = None,
               mean_over: MeanOver = "elements", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Huber loss (Huber 1964): quadratic near 0, linear beyond ``delta``.

    .. math::
        \ell_i = \begin{cases} \tfrac12 d_i^2 & |d_i| < \delta \\
                 \delta\,(|d_i| - \tfrac12\delta) & \text{otherwise}\end{cases},
        \qquad d_i = x_i - y_i

    ``huber_loss(delta=1) == smooth_l1_loss(beta=1)`` and in general ``huber_loss(delta=b) ==
    b * smooth_l1_loss(beta=b)``.
    {common}
    References: Huber 1964, "Robust estimation of a location parameter" (Annals of
    Mathematical Statistics); PyTorch ``HuberLoss``.

    Peer twins: ``torch.nn.functional.huber_loss`` (identical, ``weight=`` included),
    ``optax.huber_loss`` (element-wise), ``keras.losses.huber``.

    Example:
        >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
        >>> losses.huber_loss(x, y, reduction="none")  # 0.5 * 0.5**2 and 1 * (3 - 0.5)
        array([0.125, 2.5  ])
        >>> float(losses.huber_loss(x, y, delta=2.0)), 2 * float(losses.smooth_l1_loss(x, y, beta=2.0))
        (2.0625, 2.0625)
    """
    check.finite_number(delta, "delta", low=0, low_open=True)
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)

    def body(x, y):
        d = x - y
        a = abs0(xp, d)
        small = a < delta
        ds = xp.where(small, d, 0.0)  # the quadratic branch never sees an inf (grad 0*inf)
        return xp.where(small, 0.5 * ds * ds, delta * (a - 0.5 * delta))

    return _native_or(xp, "huber_loss", x, y, w, reduction, mean_over, out_dtype, body, group=group, delta=delta)


@check.entry
@group_doc
@_doc_for(_MEAN_WEIGHTS, "        beta: the threshold β >= 0 (finite) between the quadratic and the linear part\n"
                         "            (default 1); ``beta=0`` is exactly ``l1_loss`` (as torch).\n")
def smooth_l1_loss(input: ArrayT, target: ArrayT, *, beta: float = 1.0, weight: ArrayT | float | None = None,
                   mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Smooth L1 loss (Girshick 2015, Fast R-CNN).

    .. math::
        \ell_i = \begin{cases} \tfrac12 d_i^2 / \beta & |d_i| < \beta \\
                 |d_i| - \tfrac12\beta & \text{otherwise}\end{cases}

    {common}
    References: Girshick 2015, "Fast R-CNN" (ICCV); PyTorch ``SmoothL1Loss``.

    Peer twins: ``torch.nn.functional.smooth_l1_loss`` (no ``weight`` there).

    Example:
        >>> x, y = np.array([0.5, 3.0]), np.zeros(2)
        >>> losses.smooth_l1_loss(x, y, reduction="none")  # 0.5 * 0.5**2 and 3 - 0.5
        array([0.125, 2.5  ])
        >>> float(losses.smooth_l1_loss(x, y, beta=0.0)) == float(losses.l1_loss(x, y))
        True
    """
    check.finite_number(beta, "beta", low=0)
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)

    def body(x, y):
        d = x - y
        if beta == 0:
            return _abs(xp, d)
        a = abs0(xp, d)
        small = a < beta
        ds = xp.where(small, d, 0.0)  # the quadratic branch never sees an inf (grad 0*inf)
        return xp.where(small, (0.5 / beta) * ds * ds, a - 0.5 * beta)

    return _native_or(xp, "smooth_l1_loss", x, y, w, reduction, mean_over, out_dtype, body, group=group, beta=beta)


@check.entry
@group_doc
@_doc
def log_cosh_loss(input: ArrayT, target: ArrayT, *, weight: ArrayT | float | None = None,
                  mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Log-cosh loss, computed without overflow as ``|d| + softplus(-2|d|) - log 2``.

    .. math:: \ell_i = \log\cosh(x_i - y_i)

    Behaves like ``d**2 / 2`` near 0 and like ``|d| - log 2`` for large ``|d|``; its gradient
    is ``tanh(d)``.
    {common}
    References: the definitions of ``optax.log_cosh`` and ``keras.losses.log_cosh``.

    Peer twins: ``optax.log_cosh`` (element-wise), ``keras.losses.log_cosh`` (mean over the
    last axis). PyTorch has none.

    Example:
        >>> x, y = np.array([0.0, 1.0, 100.0]), np.zeros(3)
        >>> losses.log_cosh_loss(x, y, reduction="none")  # 0, log cosh 1, 100 - log 2 (no overflow)
        array([ 0.    ,  0.4338, 99.3069])
    """
    xp, d, w, out_dtype, group = _prepare(input, target, weight, reduction, mean_over, group)
    # logaddexp(d, -d) - log 2 with one exponential (no branch of a two-sided logaddexp); its
    # gradient is sign(d) tanh(|d|) = tanh(d), 0 at d = 0
    a = abs0(xp, d)
    loss = a + xp.softplus(-2.0 * a) - math.log(2.0)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_doc_for(_MEAN_WEIGHTS, "        q: the quantile level in [0, 1] (default 0.5).\n")
def quantile_loss(input: ArrayT, target: ArrayT, *, q: float = 0.5, weight: ArrayT | float | None = None,
                  mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Quantile (pinball) loss for the ``q``-quantile (Koenker & Bassett 1978).

    .. math:: \ell_i = \max\big(q\,(y_i - x_i),\ (q - 1)\,(y_i - x_i)\big)

    ``q=0.5`` is half the L1 loss. Under-prediction costs ``q`` per unit,
    over-prediction ``1 - q``. The subgradient at ``x == y`` is 0.
    {common}
    References: Koenker & Bassett 1978, "Regression quantiles" (Econometrica).

    Peer twins: ``keras.losses.Quantile``/TF-Addons ``pinball_loss`` (mean over the last
    axis). PyTorch and optax have none.

    Example:
        >>> x, y = np.array([1.0, 3.0]), np.array([2.0, 2.0])  # one under-, one over-prediction
        >>> losses.quantile_loss(x, y, q=0.9, reduction="none")  # 0.9 * 1 and 0.1 * 1
        array([0.9, 0.1])
    """
    check.finite_number(q, "q", low=0, high=1)
    xp, d, w, out_dtype, group = _prepare(input, target, weight, reduction, mean_over, group)
    loss = q * relu0(xp, -d) + (1.0 - q) * relu0(xp, d)
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


_EXTRA_RETURNS = """    Returns:
        A scalar, or the element-wise loss for ``reduction="none"``. A NaN in ``input`` or
        ``target`` gives NaN (where its weight is not 0); an empty batch gives NaN for
        ``"mean"``, 0 for ``"sum"``.

"""
_extra_doc = fill_doc("{returns}", _EXTRA_RETURNS)


@check.entry
@group_doc
@_extra_doc
def asymmetric_mse_loss(input: ArrayT, target: ArrayT, *, over_penalty: float = 2.0,
                        weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                        reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Squared error that weighs over-prediction by ``over_penalty``.

    .. math:: \ell_i = \begin{cases} \kappa\,(x_i - y_i)^2 & x_i > y_i \\ (x_i - y_i)^2 & \text{otherwise}\end{cases}

    ``κ = over_penalty`` > 1 penalises over-estimates more (e.g. demand or latency
    forecasting where over-provisioning costs more), κ < 1 under-estimates more; ``κ = 1``
    is :func:`~losses.mse_loss`. Continuous and differentiable (gradient 0 at ``x == y``).

    Args:
        input: predictions, any shape, real floating dtype.
        target: same shape as ``input`` (integer/bool targets are cast).
        over_penalty: κ >= 0, finite (default 2).
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)/input.size``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    {returns}
    Raises:
        ValueError: shapes differ, ``over_penalty`` < 0, bad ``reduction``/``mean_over``.
        TypeError: non-floating ``input``, complex ``target``/``weight``.

    References: asymmetric quadratic loss; see Varian 1975 (LINEX) and Christoffersen &
    Diebold 1997, "Optimal prediction under asymmetric loss" (Econometric Theory).

    Peer twins: none in torch/optax/Keras; ``over_penalty=1`` equals
    ``torch.nn.functional.mse_loss``.

    Example:
        >>> x, y = np.array([1.0, 3.0]), np.array([2.0, 2.0])  # one under-, one over-prediction
        >>> losses.asymmetric_mse_loss(x, y, over_penalty=3.0, reduction="none")
        array([1., 3.])
    """
    check.finite_number(over_penalty, "over_penalty", low=0)
    xp, d, w, out_dtype, group = _prepare(input, target, weight, reduction, mean_over, group)
    # a factor with no gradient path (NaN: factor 1, loss NaN); gradient 0 at d == 0
    loss = d * d * xp.where(d > 0, float(over_penalty), xp.ones_like(d))
    return reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _clamp_min0(xp, x, floor):
    """``max(x, floor)`` with gradient 0 at ``x == floor``; NaN stays NaN (DESIGN rule 5)."""
    return xp.where(x <= floor, float(floor), x)


@check.entry
@group_doc
@_extra_doc
def mean_squared_log_error(input: ArrayT, target: ArrayT, *, clip_min: float | None = None,
                           weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                           reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Mean squared logarithmic error.

    .. math:: \ell_i = \big(\log(1 + \tilde x_i) - \log(1 + \tilde y_i)\big)^2,\qquad
              \tilde v = v \ \text{or}\ \max(v, \texttt{clip\_min})

    computed with ``log1p``. ``clip_min=None`` (default, scikit-learn's behaviour up to the
    error type): values must be > -1 (checked eagerly). ``clip_min=1e-7`` reproduces Keras,
    which clips both arguments at its epsilon; the clip's subgradient is 0 and a NaN is not
    clipped (it stays NaN).

    Args:
        input: predictions, any shape, real floating dtype.
        target: same shape as ``input`` (integer/bool targets are cast).
        clip_min: optional floor applied to both before ``log1p`` (finite, > -1).
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)/input.size``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    {returns}
    Raises:
        ValueError: shapes differ, ``clip_min`` <= -1, bad ``reduction``/``mean_over``;
            eagerly (without ``clip_min``), values <= -1.
        TypeError: non-floating ``input``, complex ``target``/``weight``.

    References: the definitions of ``keras.losses.mean_squared_logarithmic_error`` and
    ``sklearn.metrics.mean_squared_log_error``.

    Peer twins: ``keras.losses.mean_squared_logarithmic_error(target, input)`` =
    ``clip_min=1e-7`` (mean over the last axis, i.e. ``reduction="none"`` then ``.mean(-1)``);
    ``sklearn.metrics.mean_squared_log_error`` = default (non-negative data).

    Example:
        >>> x, y = np.array([0.0, np.e - 1]), np.array([0.0, 0.0])
        >>> losses.mean_squared_log_error(x, y, reduction="none")  # (log 1 - log 1)^2, (log e - log 1)^2
        array([0., 1.])
    """
    if clip_min is not None:
        check.finite_number(clip_min, "clip_min", low=-1, low_open=True)
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)
    if clip_min is None:
        check.greater_than(xp, x, "input", -1)
        check.greater_than(xp, y, "target", -1)
    else:
        x, y = _clamp_min0(xp, x, clip_min), _clamp_min0(xp, y, clip_min)
    d = xp.log1p(x) - xp.log1p(y)
    return reduce(xp, d * d, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
@_extra_doc
def mean_absolute_percentage_error(input: ArrayT, target: ArrayT, *, eps: float = 1e-7,
                                   percent: bool = True, weight: ArrayT | float | None = None,
                                   mean_over: MeanOver = "weights",
                                   reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Mean absolute percentage error.

    .. math:: \ell_i = c\,\frac{|x_i - y_i|}{\max(|y_i|, \varepsilon)},\qquad c = 100 \text{ if percent else } 1

    The subgradients of ``|x - y|`` at ``x == y`` and of ``|y|`` at 0 are 0, and the floor's
    too (no torch twin). float16/bfloat16 inputs are computed in float32: values and
    gradients are those of float32 rounded to the input dtype (``inf`` only where the exact
    value exceeds its range, e.g. ``100 |x - y| / |y|`` above 65504 in float16).

    Args:
        input: predictions, any shape, real floating dtype.
        target: same shape as ``input`` (integer/bool targets are cast).
        eps: floor ε > 0 of ``|y|`` (default 1e-7, Keras's epsilon).
        percent: multiply by 100 (Keras) or not (scikit-learn).
        weight: optional element weights broadcastable to ``input``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w*l)/sum(w)``) or ``"elements"`` (``sum(w*l)/input.size``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    {returns}
    Raises:
        ValueError: shapes differ, ``eps`` <= 0, bad ``reduction``/``mean_over``.
        TypeError: non-floating ``input``, complex ``target``/``weight``, non-bool ``percent``.

    References: de Myttenaere et al. 2016, "Mean absolute percentage error for regression
    models" (Neurocomputing); the definitions of Keras and scikit-learn (see Peer twins).

    Peer twins: ``keras.losses.mean_absolute_percentage_error(target, input)`` = defaults
    (mean over the last axis); ``sklearn.metrics.mean_absolute_percentage_error`` =
    ``eps=numpy.finfo(numpy.float64).eps, percent=False``.

    Example:
        >>> x, y = np.array([110.0, 45.0]), np.array([100.0, 50.0])
        >>> round(float(losses.mean_absolute_percentage_error(x, y)), 4)  # (10% + 10%) / 2
        10.0
        >>> round(float(losses.mean_absolute_percentage_error(x, y, percent=False)), 4)
        0.1
    """
    check.finite_number(eps, "eps", low=0, low_open=True)
    check.flag(percent, "percent")
    xp, x, y, w, out_dtype, group = _checked(input, target, weight, reduction, mean_over, group)
    ay = abs0(xp, y)
    den = _clamp_min0(xp, ay, eps)
    loss = abs0(xp, x - y) / den
    if percent and reduction == "none":
        loss = 100.0 * loss
    out = reduce(xp, loss, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)
    return xp.as_array(100.0 * out) if percent and reduction != "none" else out  # one scaled scalar
