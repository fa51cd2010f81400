"""Multi-task loss weighting and curriculum / self-paced sample weighting.

Task axis: the last axis of ``losses`` / ``log_vars`` / ``grad_norms`` holds the tasks.
Weights that the methods treat as constants (dynamic weight average, curriculum and
self-paced weights, GradNorm's target, SuperLoss's confidence) are returned or used under the
``stop_gradient`` primitive.

The first array argument of each function is floating; the others (``loss_ratios``,
thresholds, ``progress``, ``tau`` arrays) may also be integer or bool arrays, accepted and
cast to the floating compute dtype (the library's policy). Complex arrays anywhere are a
``TypeError`` naming the argument. A NaN in any element a function reads makes the elements
of the result that depend on it NaN (DESIGN rule 5).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from . import _validate as check
from ._common import abs0, cast, clamp_min1, device_of, float_args, is_number, numel, safe_divide, sqrt0
from ._reduction import group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .rl import _floats, _number_or_array

__all__ = [
    "uncertainty_weighted_loss",
    "dynamic_weight_average",
    "gradnorm_loss",
    "renormalize_task_weights",
    "curriculum_weights",
    "self_paced_weights",
    "super_loss",
]


def _task_scale(xp, value, like, name):
    """A Python number, or a sequence of one number per task, as something to multiply ``like``."""
    if is_number(value):
        check.finite_number(value, name, low=0)
        return float(value)
    if isinstance(value, (tuple, list)):
        n_tasks = like.shape[-1]
        if len(value) != n_tasks:
            raise ValueError(f"{name} must have one value per task ({n_tasks}), got {len(value)}")
        for k, v in enumerate(value):
            check.finite_number(v, f"{name}[{k}]", low=0)
        return xp.asarray([float(v) for v in value], dtype=like.dtype, device=device_of(like))
    raise TypeError(f"{name} must be a non-negative number or a sequence of them, got {type(value).__name__}")


@check.entry
def uncertainty_weighted_loss(losses: ArrayT, log_vars: ArrayT, *,
                              precision_scale: float | Sequence[float] = 0.5,
                              log_var_scale: float = 0.5, reduction: Reduction = "sum") -> ArrayT:
    r"""Homoscedastic-uncertainty task weighting (Kendall, Gal & Cipolla 2018).

    .. math:: \ell_k = a_k\, e^{-s_k}\, L_k + b\, s_k, \qquad s_k = \log\sigma_k^2

    ``log_vars`` are the caller's trainable parameters ``s_k`` (one per task, usually
    initialised to 0). The paper's Gaussian (regression) likelihood gives ``a = ½`` and
    ``b = ½`` (``1/(2σ²) L + log σ``, the defaults); its softmax/Boltzmann (classification)
    likelihood gives ``a = 1, b = ½`` (pass ``precision_scale=1.0``, or one value per task
    such as ``(0.5, 1.0)`` for a regression and a classification task). The widely copied
    form ``exp(-s) L + s`` is ``precision_scale=1, log_var_scale=1`` (twice the paper's
    regression objective: same optimum ``s* = log L``, gradients twice as large).

    Args:
        losses: per-task losses, shape ``(..., K)`` (usually ``(K,)``), floating.
        log_vars: ``s``, broadcastable to ``losses`` (usually ``(K,)``), floating.
        precision_scale: ``a`` >= 0 (finite), a number or a sequence of K numbers.
        log_var_scale: ``b`` >= 0 (finite).
        reduction: ``"sum"`` (default: the paper's total objective) | ``"mean"`` | ``"none"``.

    Returns:
        The weighted total (or per-task terms with ``reduction="none"``).

    Raises:
        ValueError: shapes that do not broadcast, negative or infinite scales, wrong number
            of scales.
        TypeError: non-floating inputs, scales that are not real numbers (NaN, bools).

    References: Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh
    Losses for Scene Geometry and Semantics", CVPR 2018 (eqs. 7 and 10).

    Peer twins: none in torch/optax; the common PyTorch snippet
    ``sum(exp(-s) * L + s)`` is ``precision_scale=1.0, log_var_scale=1.0``.

    Example:
        >>> import numpy as np, losses
        >>> task_losses = np.array([2.0, 0.5])
        >>> float(losses.uncertainty_weighted_loss(task_losses, np.zeros(2)))   # s = 0: (2 + 0.5) / 2
        1.25
        >>> losses.uncertainty_weighted_loss(task_losses, np.zeros(2), precision_scale=(0.5, 1.0),
        ...                                  reduction="none")
        array([1. , 0.5])
    """
    xp = namespace(losses=losses, log_vars=log_vars)
    check.reduction(reduction)
    check.floating(xp, losses, "losses")
    check.floating(xp, log_vars, "log_vars")
    check.ndim_at_least(losses, 1, "losses")
    check.broadcastable(log_vars, "log_vars", losses.shape, "losses")
    check.finite_number(log_var_scale, "log_var_scale", low=0)
    _, out_dtype, (L, s) = float_args(xp, losses, log_vars, names=("losses", "log_vars"))
    a = _task_scale(xp, precision_scale, L, "precision_scale")
    # exp(-s) at log_vars' own shape (usually (K,)); s broadcasts to losses' shape (checked)
    per = a * xp.exp(-s) * L + log_var_scale * s
    return reduce(xp, per, reduction, out_dtype=out_dtype)


@check.entry
def dynamic_weight_average(loss_history: ArrayT, *, temperature: float = 2.0) -> ArrayT:
    r"""Dynamic Weight Average task weights (Liu, Johns & Davison 2019, MTAN).

    .. math::
        r_k = \frac{L_k(t-1)}{L_k(t-2)}, \qquad
        w_k = \frac{K\, \exp(r_k / T)}{\sum_j \exp(r_j / T)}

    computed from the last two rows of ``loss_history`` (one row per epoch, the paper
    averages each task's loss over the epoch). With fewer than two rows every weight is 1
    (the paper's initialisation). A task whose previous loss is 0 gets ``r_k = 1``. The
    weights sum to K and are returned under stop-gradient (the method treats them as
    constants).

    Args:
        loss_history: shape ``(H, ..., K)``: H epochs (axis 0), K tasks (last axis).
        temperature: T > 0 (paper: 2). Large T gives uniform weights.

    Returns:
        Weights of shape ``(..., K)`` (``loss_history`` without its first axis).

    Raises:
        ValueError: fewer than 2 dimensions, no epoch at all, ``temperature`` <= 0.
        TypeError: non-floating ``loss_history``.

    References: Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention",
    CVPR 2019, eq. 7.

    Peer twins: none in torch/optax (the authors' reference code computes the same from
    Python floats).

    Example:
        >>> import numpy as np, losses
        >>> history = np.array([[1.0, 1.0], [0.5, 1.0]])   # task 0 fell by half, task 1 stalled
        >>> np.round(losses.dynamic_weight_average(history), 4)
        array([0.8756, 1.1244])
        >>> losses.dynamic_weight_average(history[:1])     # one epoch: every weight is 1
        array([1., 1.])
    """
    xp = namespace(loss_history=loss_history)
    check.floating(xp, loss_history, "loss_history")
    check.ndim_at_least(loss_history, 2, "loss_history")
    check.real_number(temperature, "temperature", low=0, low_open=True)
    if loss_history.shape[0] == 0:
        raise ValueError(f"loss_history must hold at least one epoch (axis 0), got shape {tuple(loss_history.shape)}")
    _, out_dtype, (h,) = float_args(xp, loss_history, names=("loss_history",))
    h = xp.stop_gradient(h)
    n_tasks = h.shape[-1]
    if h.shape[0] < 2:
        return xp.as_array(cast(xp, xp.ones_like(h[0, ...]), out_dtype))
    prev = h[-2, ...]
    # eagerly, one min/max pass read back (the call's one host read) tells whether any
    # previous loss can be 0; only then are the selects needed (traced, lazy or with value
    # checks off: always). Both ways give the same values. No gradient flows here
    # (stop_gradient above): the scalings act in place on fresh temporaries.
    no_zero = None
    if numel(prev) > 0:
        lo, hi = xp.extrema(prev)
        no_zero = check.read_fact(xp, (lo, hi), lambda lo, hi: lo > 0 or hi < 0)  # NaN: False
    if no_zero:
        ratio = h[-1, ...] / prev
    else:
        zero = prev == 0
        ratio = xp.where(zero, 1.0, h[-1, ...] / xp.where(zero, 1.0, prev))
    ratio /= temperature
    w = xp.softmax(ratio, axis=-1)
    w *= n_tasks
    return xp.as_array(cast(xp, w, out_dtype))


@check.entry
def gradnorm_loss(grad_norms: ArrayT, loss_ratios: ArrayT, *, alpha: float = 1.5,
                  reduction: Reduction = "sum") -> ArrayT:
    r"""GradNorm's gradient-balancing loss (Chen et al. 2018), to train the task weights.

    .. math::
        \bar G = \tfrac1K \sum_k G_k,\quad
        r_k = \frac{\tilde L_k}{\tfrac1K\sum_j \tilde L_j},\quad
        \ell_k = \Big| G_k - \operatorname{sg}\big(\bar G\, r_k^{\alpha}\big) \Big|

    ``G_k = ‖∇_W\, w_k L_k‖₂`` is the norm of the gradient of task k's *weighted* loss with
    respect to the shared layer ``W`` (differentiable in the task weights ``w_k``: compute it
    with ``torch.autograd.grad(..., create_graph=True)`` or a nested ``jax.grad``; see
    docs/multitask.md), ``L̃_k = L_k(t) / L_k(0)`` the loss ratio (inverse training rate).
    The target is held constant (stop-gradient), as in the paper. The gradient of this loss
    with respect to the task weights updates them; afterwards renormalise them with
    :func:`renormalize_task_weights` so they sum to K. The kink at ``G_k`` = target has
    subgradient 0 (``torch.abs``'s).

    Args:
        grad_norms: ``G`` >= 0 (norms), shape ``(..., K)``, floating.
        loss_ratios: ``L̃`` >= 0, same shape (held constant).
        alpha: asymmetry α >= 0, finite (paper: 1.5 for NYUv2; 0 equalises the gradient
            norms).
        reduction: ``"sum"`` (default, the paper's sum over tasks) | ``"mean"`` | ``"none"``.

    Returns:
        The GradNorm loss (per task with ``reduction="none"``).

    Raises:
        ValueError: shapes differ, negative or infinite ``alpha``; eagerly, negative
            gradient norms or loss ratios.
        TypeError: non-floating ``grad_norms``, complex ``loss_ratios``.

    References: Chen, Badrinarayanan, Lee & Rabinovich, "GradNorm: Gradient Normalization
    for Adaptive Loss Balancing in Deep Multitask Networks", ICML 2018, eqs. 1-2.

    Peer twins: none in torch/optax.

    Example:
        >>> import numpy as np, losses
        >>> float(losses.gradnorm_loss(np.array([1.0, 3.0]), np.array([1.0, 1.0])))   # |1 - 2| + |3 - 2|
        2.0
        >>> float(losses.gradnorm_loss(np.array([1.0, 3.0]), np.array([0.5, 1.5]), alpha=1.0))  # on target
        0.0
    """
    xp = namespace(grad_norms=grad_norms, loss_ratios=loss_ratios)
    check.reduction(reduction)
    check.floating(xp, grad_norms, "grad_norms")
    check.ndim_at_least(grad_norms, 1, "grad_norms")
    check.same_shape(grad_norms, loss_ratios, "grad_norms", "loss_ratios")
    check.finite_number(alpha, "alpha", low=0)
    _, out_dtype, (g, lr) = float_args(xp, grad_norms, loss_ratios, names=("grad_norms", "loss_ratios"))
    check.nonnegative(xp, xp.stop_gradient(g), "grad_norms")
    check.nonnegative(xp, xp.stop_gradient(lr), "loss_ratios")
    # the target is a constant (no gradient flows into it), so its safe divide and power
    # need no double where: the per-row mean's zero test and inverse act on (..., 1) arrays
    g_bar = xp.mean(xp.stop_gradient(g), axis=-1, keepdims=True)
    if alpha == 0:
        target = g_bar
    else:
        lr = xp.stop_gradient(lr)
        mean_lr = xp.mean(lr, axis=-1, keepdims=True)
        zero = mean_lr == 0
        inv = xp.where(zero, 0.0, 1.0 / xp.where(zero, 1.0, mean_lr))
        # r = L / mean L, 1 in a row whose mean is 0, and (pow0's rule) 0 for r <= 0: one
        # clip from below by 0 (1 in those rows, where L * 0 = 0); NaN stays NaN
        rel = xp.clip(lr * inv, min=cast(xp, zero, lr.dtype))
        target = xp.stop_gradient(g_bar * _power(xp, rel, float(alpha)))
    per = abs0(xp, g - target)
    return reduce(xp, per, reduction, out_dtype=out_dtype)


def _power(xp, x, alpha):
    """``x ** alpha`` for ``x >= 0`` (or NaN) and a number ``alpha > 0``: the half-integer and
    small integer powers by products and a square root (the paper's α = 1.5 is ``x √x``),
    several times cheaper than a general power on some CPU kernels; the same value up to an
    ulp or two."""
    if alpha == 1:
        return x
    if alpha == 2:
        return x * x
    if alpha == 0.5:
        return xp.sqrt(x)
    if alpha == 1.5:
        return x * xp.sqrt(x)
    return x ** alpha


@check.entry
def renormalize_task_weights(task_weights: ArrayT, *, total: float | None = None) -> ArrayT:
    r"""Rescale task weights so that they sum to ``total`` (default: the number of tasks K).

    .. math:: w_k \leftarrow \text{total}\cdot \frac{w_k}{\sum_j w_j}

    The renormalisation step of GradNorm (after each update of the weights) and a general
    helper for any learnt task weighting. Sums over the last axis; a zero sum gives NaN.

    Args:
        task_weights: shape ``(..., K)``, floating.
        total: the target sum (a positive finite number), default K.

    Returns:
        The rescaled weights, same shape and dtype.

    Raises:
        ValueError: 0-d ``task_weights``, ``total`` <= 0 or infinite.
        TypeError: non-floating ``task_weights``, a ``total`` that is not a real number.

    References: Chen et al. 2018 (GradNorm), Algorithm 1.

    Example:
        >>> import numpy as np, losses
        >>> losses.renormalize_task_weights(np.array([0.5, 1.0, 2.5]))   # sums to K = 3
        array([0.375, 0.75 , 1.875])
        >>> losses.renormalize_task_weights(np.array([0.5, 1.0, 2.5]), total=1.0)
        array([0.125, 0.25 , 0.625])
    """
    xp = namespace(task_weights=task_weights)
    check.floating(xp, task_weights, "task_weights")
    check.ndim_at_least(task_weights, 1, "task_weights")
    if total is None:
        total = task_weights.shape[-1]
    check.finite_number(total, "total", low=0, low_open=True)
    _, out_dtype, (w,) = float_args(xp, task_weights, names=("task_weights",))
    # one scale per row, total / sum (double where on the (..., 1) sums): a zero sum scales
    # by 0 (gradient 0) and adds its NaN through a constant, so the full-size work is one
    # product and one sum, as in total * w / sum(w)
    den = xp.sum(w, axis=-1, keepdims=True)
    ok = den != 0
    scale = xp.where(ok, float(total) / xp.where(ok, den, 1.0), 0.0)
    out = w * scale + xp.where(ok, xp.zeros_like(den), math.nan)
    return xp.as_array(cast(xp, out, out_dtype))


def _threshold(xp, value, name, like, like_name, *, positive=False, finite=False):
    """Checks of a threshold (type-checked by ``_number_or_array`` first): a real number
    (``> 0`` when ``positive``, not ±inf when ``finite``), or an array that broadcasts to
    ``like`` (its dtype is checked by ``float_args``: real, complex refused)."""
    if is_number(value):
        number = check.finite_number if finite else check.real_number
        number(value, name, low=0 if positive else None, low_open=positive)
    else:
        check.broadcastable(value, name, like.shape, like_name)


@check.entry
def curriculum_weights(difficulty: ArrayT, progress: ArrayT | float, *,
                       rescale: bool = True) -> ArrayT:
    r"""Threshold curriculum: samples no harder than ``progress`` are in, renormalised.

    .. math::
        m_i = [\,d_i \le p\,], \qquad
        w_i = \frac{N\, m_i}{\sum_j m_j}\ \ (\texttt{rescale=True}), \qquad w_i = m_i \text{ otherwise}

    With ``rescale=True`` the weights average to 1, so ``mean(w * loss)`` is the mean loss
    of the admitted samples (the loss scale does not change as the curriculum grows). When no
    sample is admitted every weight is 0 (not NaN). The weights are step functions of the
    difficulty: no gradient flows through them.

    Args:
        difficulty: per-sample difficulty scores, any shape (N = number of elements),
            floating.
        progress: the curriculum's current threshold ``p`` (a number, or a 0-d/broadcastable
            array so a compiled step does not recompile as it grows).
        rescale: rescale the admitted samples' weights to mean 1 over all N (a bool).

    Returns:
        Weights of ``difficulty``'s shape and dtype. A NaN difficulty (or progress) gives a
        NaN weight, and with ``rescale=True`` NaN weights everywhere (the count reads it).

    Raises:
        TypeError: non-floating ``difficulty``, complex ``progress``, a ``progress`` that is
            neither a number nor an array (or NaN), a non-bool ``rescale``.
        ValueError: ``progress`` array that does not broadcast.

    References: Bengio, Louradour, Collobert & Weston, "Curriculum Learning", ICML 2009;
    the "baby steps" threshold schedule (Spitkovsky et al. 2010).

    Example:
        >>> import numpy as np, losses
        >>> d = np.array([0.1, 0.5, 0.9, 0.3])
        >>> losses.curriculum_weights(d, 0.5, rescale=False)
        array([1., 1., 0., 1.])
        >>> np.round(losses.curriculum_weights(d, 0.5), 4)   # the admitted samples' weights average 1 over all N
        array([1.3333, 1.3333, 0.    , 1.3333])
    """
    _number_or_array(progress, "progress")
    xp = namespace(difficulty=difficulty, progress=progress)
    check.flag(rescale, "rescale")
    check.floating(xp, difficulty, "difficulty")
    _threshold(xp, progress, "progress", difficulty, "difficulty")
    _, out_dtype, (d, p) = _floats(xp, difficulty, progress, names=("difficulty", "progress"))
    d = xp.stop_gradient(d)
    # a NaN d or p gives a NaN weight instead of a silent 0 (with rescale=True the count makes
    # every weight NaN)
    if is_number(p) and p not in (math.inf, -math.inf):
        m = 1.0 - _step(xp, d - float(p))  # [d <= p] = 1 - [d - p > 0]
    else:
        m = _indicator(xp, d <= p, d, p)
    if rescale:
        # no admitted sample: the count is 0 and every weight is 0 (not NaN)
        m = m * safe_divide(xp, float(numel(d)), xp.sum(m), fill=0.0)
    return xp.as_array(cast(xp, m, out_dtype))


@check.entry
def self_paced_weights(losses: ArrayT, threshold: ArrayT | float, *,
                       regime: Literal["hard", "linear"] = "hard") -> ArrayT:
    r"""Self-paced learning sample weights (the closed-form weight step of SPL).

    .. math::
        v_i = [\,\ell_i < \lambda\,] \ (\texttt{"hard"}), \qquad
        v_i = \max(0,\ 1 - \ell_i / \lambda) \ (\texttt{"linear"})

    Samples whose loss is below the threshold λ are "easy" and are trained on; λ grows over
    training so harder samples join. The weights are held constant (stop-gradient): use them
    as ``sum(v * losses)`` in the model step.

    Args:
        losses: per-sample losses, any shape, floating.
        threshold: λ (``"hard"``: any number; ``"linear"``: > 0), a number or a
            broadcastable array.
        regime: ``"hard"`` (Kumar et al. 2010, binary, strict ``<``) or ``"linear"`` (Jiang et
            al. 2014, soft weights).

    Returns:
        Weights of ``losses``' shape and dtype (NaN where the loss or the threshold is NaN).

    Raises:
        ValueError: bad ``regime``, non-positive ``threshold`` for ``"linear"`` (a number,
            or eagerly an array), shapes.
        TypeError: non-floating ``losses``, complex ``threshold``, a NaN ``threshold``
            number.

    References: Kumar, Packer & Koller, "Self-Paced Learning for Latent Variable Models",
    NeurIPS 2010; Jiang, Meng, Yu, Lan, Shan & Hauptmann, "Self-Paced Learning with
    Diversity", NeurIPS 2014.

    Example:
        >>> import numpy as np, losses
        >>> per_sample = np.array([0.2, 1.5, 0.8])
        >>> losses.self_paced_weights(per_sample, 1.0)
        array([1., 0., 1.])
        >>> losses.self_paced_weights(per_sample, 1.0, regime="linear")
        array([0.8, 0. , 0.2])
    """
    _number_or_array(threshold, "threshold")
    xp = namespace(losses=losses, threshold=threshold)
    check.choice(regime, "regime", ("hard", "linear"))
    check.floating(xp, losses, "losses")
    linear = regime == "linear"
    _threshold(xp, threshold, "threshold", losses, "losses", positive=linear)
    _, out_dtype, (l, lam) = _floats(xp, losses, threshold, names=("losses", "threshold"))
    if linear and not is_number(lam):
        check.greater_than(xp, xp.stop_gradient(lam), "threshold", 0)
    lam = lam if is_number(lam) else xp.stop_gradient(lam)
    l = xp.stop_gradient(l)
    # NaN goes through: a NaN l or lam gives a NaN weight
    if not linear and is_number(lam) and lam not in (math.inf, -math.inf):
        v = _step(xp, (float(lam) + 0.0) - l)  # [l < lam]; + 0.0: lam = -0 gives no -0 weight
    elif not linear:
        v = _indicator(xp, l < lam, l, lam)
    elif is_number(lam) or (check.enabled() and check.checkable(lam)):
        # lam > 0: 1 - l / lam <= 0 exactly when l >= lam (and NaN stays NaN). An array lam is
        # > 0 here or the call raises (its value check above runs), so the guards below are
        # needed only where that check does not run
        v = xp.clip(1 - l / lam, min=0.0)
    else:
        # lam <= 0 (refused eagerly; reachable under jit or on Dask) gives weight 0
        nonpos = lam <= 0
        v = xp.where(nonpos, xp.zeros_like(l), 1 - l / xp.where(nonpos, xp.ones_like(lam), lam))
        v = xp.where(l >= lam, 0.0, v)
    return xp.as_array(cast(xp, v, out_dtype))


def _step(xp, diff):
    """The 0/1 weights ``[diff > 0]`` in ``diff``'s dtype, NaN where ``diff`` is NaN:
    ``ceil(clip(diff, 0, 1))``, two vectorised element-wise passes and no boolean temporary
    (the clip sends every ``diff <= 0`` to 0 and every positive one into (0, 1], which ceil
    makes 1). For ``diff = b − x`` of a finite number ``b`` it is ``[x < b]`` exactly: with
    gradual underflow the difference of distinct floats is not 0 and has their order's sign
    (±inf ``x`` gives ∓inf), and a framework that flushes subnormals flushes them in its
    comparisons too. A ``diff`` of -0 gives -0."""
    return xp.ceil(xp.clip(diff, min=0.0, max=1.0))


def _indicator(xp, admitted, x, other):
    """The 0/1 weights of the boolean ``admitted`` (a comparison of ``x`` with ``other``, a
    number or an array) in ``x``'s dtype, NaN where ``x`` or ``other`` is NaN: the maximum
    with ``min(x, 0)`` (and ``min(other, 0)``), which is at most 0 and NaN only for a NaN.
    Branch-free element-wise ops, where a chain of selects costs a mispredicted branch per
    element on some CPU kernels."""
    carrier = xp.clip(x, max=0.0)
    if not is_number(other):
        carrier = carrier + xp.clip(other, max=0.0)
    return xp.maximum(cast(xp, admitted, x.dtype), carrier)


_INV_E = math.exp(-1.0)


def _lambertw0(xp, y, iterations=5):
    """Principal branch W0(y), y >= -1/e, by a fixed number of Halley steps (no data-dependent loop).

    Start: the branch-point series near -1/e, Winitzki's approximation elsewhere. Each Halley
    step is written with ``y e^{-w}`` so no ``e^w`` overflows for large y. Values below -1/e
    are read as -1/e.
    """
    y = clamp_min1(xp, y, -_INV_E)
    is_far = y > -0.3
    q = 2.0 * (math.e * xp.where(is_far, xp.full_like(y, -0.3), y) + 1.0)
    p = sqrt0(xp, q)
    near = -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0)))
    lg = xp.log1p(xp.where(is_far, y, xp.zeros_like(y)))
    far = lg * (1.0 - xp.log1p(lg) / (2.0 + lg))
    w = xp.where(is_far, far, near)
    for _ in range(iterations):
        f = w - y * xp.exp(-w)
        wp1 = w + 1.0
        # a step whose Halley denominator vanishes (w = -1, the branch point) leaves w as is
        den = wp1 - safe_divide(xp, (w + 2.0) * f, 2.0 * wp1, fill=0.0)
        w = w - safe_divide(xp, f, den, fill=0.0)
    return w


@check.entry
@group_doc
def super_loss(losses: ArrayT, *, tau: ArrayT | float, lambda_: float = 1.0,
               reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""SuperLoss (Castells, Weinzaepfel & Revaud 2020): confidence-aware per-sample loss.

    .. math::
        \beta_i = \frac{\ell_i - \tau}{\lambda},\quad
        \sigma_i^* = \exp\!\Big(-W_0\big(\tfrac12 \max(-\tfrac2e, \beta_i)\big)\Big),\quad
        \mathcal L_i = (\ell_i - \tau)\,\sigma_i^* + \lambda\,(\log\sigma_i^*)^2

    ``σ*`` is the closed-form optimal confidence (``W_0`` the principal Lambert W, computed
    by five Halley iterations from a series/asymptotic start: no data-dependent loop, error
    at the float64 rounding level). It is held constant (stop-gradient), as in the paper's
    implementation; by the envelope theorem this is also the exact derivative,
    ``dL/dℓ = σ*``, and it stays finite at the branch point ``β ≤ -2/e`` (there σ* = e).
    Easy samples (ℓ < τ) are up-weighted, hard ones down-weighted.

    Args:
        losses: per-sample task losses ℓ (e.g. ``cross_entropy(..., reduction="none")``),
            any shape, floating.
        tau: threshold τ: ``log(C)`` for C-class classification, or a running (exponential
            moving) average of the loss — a number or a broadcastable array (held constant).
        lambda_: regularisation λ > 0, finite (paper: 1 or 0.25 for noisy labels).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        The SuperLoss (per sample with ``reduction="none"``).

    Raises:
        ValueError: ``lambda_`` <= 0 or infinite, an infinite ``tau`` number, bad
            ``reduction``, ``tau`` that does not broadcast.
        TypeError: non-floating ``losses``, complex ``tau``, a ``tau`` that is neither a
            number nor an array (or NaN).

    References: Castells, Weinzaepfel & Revaud, "SuperLoss: A Generic Loss for Robust
    Curriculum Learning", NeurIPS 2020, eqs. 1-4.

    Peer twins: none in torch/optax; the authors' code computes σ* with
    ``scipy.special.lambertw`` on detached CPU values (same value and gradient).

    Example:
        >>> import numpy as np, losses
        >>> per_sample = np.array([0.5, 2.0, np.log(3.0)])   # easy, hard, at the threshold
        >>> np.round(losses.super_loss(per_sample, tau=np.log(3.0), reduction="none"), 4)
        array([-0.737 ,  0.7569,  0.    ])
    """
    _number_or_array(tau, "tau")
    xp = namespace(losses=losses, tau=tau)
    group = xp.check_group(group)
    check.reduction(reduction)
    check.floating(xp, losses, "losses")
    check.finite_number(lambda_, "lambda_", low=0, low_open=True)
    _threshold(xp, tau, "tau", losses, "losses", finite=True)
    _, out_dtype, (l, t) = _floats(xp, losses, tau, names=("losses", "tau"))
    t = t if is_number(t) else xp.stop_gradient(t)
    centred = l - t
    beta = xp.stop_gradient(centred) / lambda_
    free = beta > -2.0 * _INV_E
    y = 0.5 * clamp_min1(xp, beta, -2.0 * _INV_E)
    # clamped samples sit exactly on the branch point W0(-1/e) = -1 (sigma* = e)
    w = xp.stop_gradient(xp.where(free, _lambertw0(xp, y), xp.full_like(y, -1.0)))
    sigma = xp.exp(-w)
    per = centred * sigma + lambda_ * (w * w)
    return reduce(xp, per, reduction, out_dtype=out_dtype, group=group)
