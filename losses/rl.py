"""Reinforcement-learning losses and return estimators (rlax / stable-baselines3 conventions).

Time-indexed inputs are *time-major*: axis 0 is time, any further axes are batch axes (the
layout of rlax after ``vmap`` and of stable-baselines3 rollout buffers, ``(n_steps, n_envs)``).
Targets, advantages and behaviour log-probabilities are held constant under autodiff with the
``stop_gradient`` primitive (torch ``detach``, ``jax.lax.stop_gradient``).

Dtypes: the value-like array arguments (values, logits, log-probabilities) are floating;
rewards, discounts, returns, advantages and weights may also be integer or bool arrays (or
Python numbers where documented): they are accepted and cast to the floating compute dtype,
the library's policy for integer/bool targets, rewards and weights (as torch promotes them).
Complex arrays anywhere are a ``TypeError`` naming the argument.
"""
from __future__ import annotations

import math
from typing import Literal

from . import _validate as check
from ._common import abs0, cast, class_axis, class_target, device_of, float_args, is_number, numel
from ._reduction import MEAN_OVER, reduce
from ._typing import ArrayT, Reduction
from .backends import namespace
from .regression import _native_or

__all__ = [
    "td_loss",
    "n_step_returns",
    "lambda_returns",
    "policy_gradient_loss",
    "entropy_loss",
    "actor_critic_loss",
    "ppo_clip_loss",
]

#: ``criterion=`` of :func:`td_loss`
TDCriterion = Literal["mse", "huber"]

#: ``mean_over=`` of the weighted losses: what a weighted ``"mean"`` divides by, the weight
#: sum (``"weights"``, the default) or the number of loss elements (``"elements"``: rlax's
#: ``mean(w * l)``)
MeanOver = Literal["weights", "elements"]


# Arguments that are an array or a Python number (as rlax takes a float discount or an array);
# the home of these helpers for the rl and multitask families.
def _number_or_array(value, name):
    """Type check of an argument that is a real number or an array. Runs before the namespace
    is resolved, so a string, a list, a bool or None is refused with the argument's name."""
    if not (is_number(value) or hasattr(value, "dtype")):
        raise TypeError(f"{name} must be a real number or an array, got {type(value).__name__}")


def _floats(xp, first, *others, names):
    """``float_args`` (every argument's dtype checked, ``names`` one per argument) where each
    of ``others`` may also be a Python number, returned as a Python float (not cast):
    ``(compute_dtype, out_dtype, [first, *others])``."""
    arrays = [None if is_number(o) else o for o in others]
    compute, out_dtype, cast_arrays = float_args(xp, first, *arrays, names=names)
    out = [cast_arrays[0]] + [float(o) if is_number(o) else a for o, a in zip(others, cast_arrays[1:])]
    return compute, out_dtype, out


def _shaped_like(xp, value, like):
    """``value`` (array broadcastable to ``like``, or a number) as an array of ``like``'s shape."""
    if is_number(value):
        return xp.full_like(like, value)
    return xp.broadcast_to(value, like.shape)


def _weight_options(weight, shape, shape_name, mean_over, reduction):
    """Checks of ``weight=`` (None, a real Python number or an array that broadcasts to
    ``shape``), ``mean_over=`` and ``reduction=``."""
    check.reduction(reduction)
    check.choice(mean_over, "mean_over", MEAN_OVER)
    if weight is None or is_number(weight):
        return
    if isinstance(weight, (bool, complex)):  # the Python scalars that namespace() lets through
        raise TypeError(f"weight must be an array or a real number, got {type(weight).__name__}")
    check.broadcastable(weight, "weight", shape, shape_name)


def _as_weight(xp, w, like):
    """A Python-number weight as a 0-d array of ``like``'s dtype and device."""
    if w is None or not is_number(w):
        return w
    return xp.asarray(float(w), dtype=like.dtype, device=device_of(like))


def _axis_arg(axis):
    """``axis`` is an int or None (a bool is refused; ranges are checked by ``class_axis``)."""
    if isinstance(axis, bool) or not (axis is None or isinstance(axis, int)):
        raise TypeError(f"axis must be an int or None, got {axis!r}")


# Eager value checks (DESIGN rule 3) are the ``_validate`` ones: inside a public call they
# only record a device flag, read back once when the call returns (none at all with
# ``value_checks(False)``); the messages name the argument.
def _unit_interval(xp, x, name):
    """``x`` (the cast array, or a number or None) holds values in [0, 1] (NaN refused)."""
    if x is not None and not is_number(x):
        check.values_in(xp, xp.stop_gradient(x), name, 0, 1)


def _huber(xp, d, delta):
    a = abs0(xp, d)
    return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


@check.entry
def td_loss(v_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float, v_t: ArrayT | float, *,
            criterion: TDCriterion = "mse", delta: float = 1.0, weight: ArrayT | float | None = None,
            stop_target_gradients: bool = True, mean_over: MeanOver = "weights",
            reduction: Reduction = "mean") -> ArrayT:
    r"""Temporal-difference (TD(0)) value loss with the bootstrap target held constant.

    .. math::
        \delta_t = \operatorname{sg}\!\big(r_t + \gamma_t\, v_t\big) - v_{t-1}, \qquad
        \ell_t = \delta_t^2 \ (\texttt{"mse"}) \quad\text{or}\quad
        \ell_t = \operatorname{huber}_\delta(\delta_t) \ (\texttt{"huber"})

    with ``sg`` the stop-gradient and ``huber_δ(d) = d²/2`` for ``|d| < δ``, ``δ(|d| − δ/2)``
    otherwise (torch's ``huber_loss``). The gradient flows only into ``v_tm1``.

    Args:
        v_tm1: values (or Q-values of the taken actions) at time t-1, any shape, floating.
        r_t: rewards, broadcastable to ``v_tm1``, or a Python number. Integer and bool
            rewards are accepted and cast to the floating dtype (the library's policy).
        discount_t: discounts γ_t in [0, 1] (0 at episode ends), broadcastable to ``v_tm1``,
            or a Python number.
        v_t: bootstrap values at time t (e.g. a target network's max-Q), broadcastable to
            ``v_tm1``, or a Python number.
        criterion: ``"mse"`` (squared TD error, stable-baselines3 A2C/PPO value loss) or
            ``"huber"`` (DQN's clipped error; stable-baselines3 DQN uses ``smooth_l1_loss``,
            which is ``"huber"`` with ``delta=1``).
        delta: Huber threshold δ > 0 (``criterion="huber"`` only).
        weight: optional per-transition weights (e.g. prioritised-replay importance
            weights) broadcastable to ``v_tm1``, or a Python number.
        stop_target_gradients: hold the target constant (default, as rlax's
            ``stop_target_backprop=True``); ``False`` lets gradients reach ``r_t``,
            ``discount_t`` and ``v_t`` (residual-gradient TD).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-transition loss of ``v_tm1``'s shape for ``reduction="none"``,
        in the promoted floating dtype of the inputs.

    Raises:
        ValueError: arguments that do not broadcast to ``v_tm1``, bad ``criterion``,
            ``delta``, ``mean_over`` or ``reduction``; a ``discount_t`` number outside
            [0, 1] and, eagerly, a ``discount_t`` array with values outside [0, 1] or NaN.
        TypeError: non-floating ``v_tm1``, complex arguments, ``r_t``/``discount_t``/``v_t``
            neither a number nor an array, a non-bool ``stop_target_gradients``, mixed array
            frameworks.

    References: Sutton 1988 (TD learning); Mnih et al. 2015 (DQN, Huber/clipped error).

    Peer twins: ``torch.nn.functional.mse_loss(v_tm1, target.detach())`` and
    ``torch.nn.functional.huber_loss(v_tm1, target.detach(), delta=delta)``;
    ``rlax.td_learning`` returns the TD error δ: ``rlax.l2_loss(δ) == 0.5 * td_loss(...,
    criterion="mse", reduction="none")`` and ``rlax.huber_loss(δ, delta) == td_loss(...,
    criterion="huber", delta=delta, reduction="none")``.
    """
    bootstrap = ((r_t, "r_t"), (discount_t, "discount_t"), (v_t, "v_t"))
    for x, name in bootstrap:
        _number_or_array(x, name)
    xp = namespace(v_tm1=v_tm1, r_t=r_t, discount_t=discount_t, v_t=v_t, weight=weight)
    check.choice(criterion, "criterion", ("mse", "huber"))
    check.real_number(delta, "delta", low=0, low_open=True)
    check.flag(stop_target_gradients, "stop_target_gradients")
    check.floating(xp, v_tm1, "v_tm1")
    _weight_options(weight, v_tm1.shape, "v_tm1", mean_over, reduction)
    for x, name in bootstrap:
        if not is_number(x):
            check.broadcastable(x, name, v_tm1.shape, "v_tm1")
    if is_number(discount_t):
        check.real_number(discount_t, "discount_t", low=0, high=1)
    _, out_dtype, (v, r, g, vn, w) = _floats(xp, v_tm1, r_t, discount_t, v_t, weight,
                                              names=("v_tm1", "r_t", "discount_t", "v_t", "weight"))
    _unit_interval(xp, g, "discount_t")
    target = r + g * vn
    if is_number(target):
        target = xp.full_like(v, target)
    if stop_target_gradients:
        target = xp.stop_gradient(target)
    if tuple(target.shape) != tuple(v.shape):
        target = xp.broadcast_to(target, v.shape)

    def body(v, target):
        d = target - v
        return d * d if criterion == "mse" else _huber(xp, d, delta)

    # torch: F.mse_loss / F.huber_loss (the same values and subgradients, kinks included)
    return _native_or(xp, "td_loss", v, target, _as_weight(xp, w, v), reduction, mean_over, out_dtype, body,
                      criterion=criterion, delta=float(delta))


def _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, fname):
    _number_or_array(discount_t, "discount_t")
    _number_or_array(lambda_, "lambda_")
    xp = namespace(r_t=r_t, discount_t=discount_t, v_t=v_t, lambda_=lambda_)
    check.flag(stop_target_gradients, "stop_target_gradients")
    check.floating(xp, v_t, "v_t")
    check.ndim_at_least(r_t, 1, "r_t")
    check.same_shape(r_t, v_t, "r_t", "v_t")
    if r_t.shape[0] == 0:
        raise ValueError(f"{fname}: the time axis (axis 0) of r_t must not be empty, got shape {tuple(r_t.shape)}")
    if not is_number(discount_t):
        check.same_shape(r_t, discount_t, "r_t", "discount_t")
    else:
        check.real_number(discount_t, "discount_t", low=0, high=1)
    if is_number(lambda_):
        check.real_number(lambda_, "lambda_", low=0, high=1)
    else:
        check.broadcastable(lambda_, "lambda_", r_t.shape, "r_t")
    _, out_dtype, (v, r, g, lam) = _floats(xp, v_t, r_t, discount_t, lambda_,
                                           names=("v_t", "r_t", "discount_t", "lambda_"))
    _unit_interval(xp, g, "discount_t")
    _unit_interval(xp, lam, "lambda_")
    return xp, out_dtype, _shaped_like(xp, r, v), _shaped_like(xp, g, v), v, _shaped_like(xp, lam, v)


@check.entry
def n_step_returns(r_t: ArrayT, discount_t: ArrayT | float, v_t: ArrayT, *, n: int,
                   lambda_: ArrayT | float = 1.0, stop_target_gradients: bool = False) -> ArrayT:
    r"""n-step bootstrapped returns along the time axis (axis 0), truncated at the end.

    .. math::
        G_t = \sum_{k=0}^{m-1}\Big(\prod_{j<k}\gamma_{t+j}\Big) r_{t+k}
              + \Big(\prod_{j<m}\gamma_{t+j}\Big) v_{t+m-1}, \qquad m = \min(n, T - t)

    (with ``lambda_ = 1``). ``v_t[t]`` is the value of the state *after* transition t, so
    ``v_t[t + m - 1]`` bootstraps the m-th step; near the end of the sequence the return
    uses the steps that remain and bootstraps from ``v_t[T-1]``. With ``lambda_ < 1`` each
    step mixes in its bootstrap value: ``G = r + γ((1 − λ) v + λ G_next)`` within the window.
    ``n=1`` gives ``r_t + discount_t * v_t``.

    Computed by ``n`` vectorised sweeps over shifted slices (no data-dependent control flow:
    works under ``jax.jit``, ``torch.compile``, ``vmap`` and on Dask).

    Args:
        r_t: rewards, shape ``(T, ...)``; integer and bool rewards are accepted and cast to
            the floating dtype (the library's policy).
        discount_t: discounts in [0, 1], shape ``(T, ...)`` (0 at episode ends), or a
            Python number.
        v_t: bootstrap values, shape ``(T, ...)``, floating.
        n: number of steps, a Python int >= 1.
        lambda_: mixing parameter λ in [0, 1], a number or an array broadcastable to ``r_t``.
        stop_target_gradients: return the returns under stop-gradient (a bool).

    Returns:
        ``G`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, ``n`` < 1, a ``discount_t``/``lambda_``
            number outside [0, 1]; eagerly, ``discount_t``/``lambda_`` arrays with values
            outside [0, 1] or NaN.
        TypeError: non-integer ``n``, non-floating ``v_t``, complex arguments,
            ``discount_t``/``lambda_`` neither a number nor an array (e.g. a string), a
            non-bool ``stop_target_gradients``.

    References: Sutton & Barto 2018, ch. 7.

    Peer twins: ``rlax.n_step_bootstrapped_returns(r_t, discount_t, v_t, n, lambda_t)``
    (same semantics, one trajectory; ``vmap`` over batch axes).
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a Python int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, "n_step_returns")
    T = r.shape[0]
    last = v[T - 1:T, ...]
    pad = n - 1
    if pad:
        zeros, ones = xp.zeros_like(last), xp.ones_like(last)
        v_p = xp.concat([v] + [last] * pad, axis=0)
        r_p = xp.concat([r] + [zeros] * pad, axis=0)
        g_p = xp.concat([g] + [ones] * pad, axis=0)
        l_p = xp.concat([lam] + [ones] * pad, axis=0)
    else:
        v_p, r_p, g_p, l_p = v, r, g, lam
    out = v_p[pad:pad + T, ...]
    for i in range(n - 1, -1, -1):
        window = (slice(i, i + T), ...)
        lam_i = l_p[window]
        out = r_p[window] + g_p[window] * ((1 - lam_i) * v_p[window] + lam_i * out)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


@check.entry
def lambda_returns(r_t: ArrayT, discount_t: ArrayT | float, v_t: ArrayT, *,
                   lambda_: ArrayT | float = 1.0, stop_target_gradients: bool = False) -> ArrayT:
    r"""λ-returns along the time axis (axis 0), by a reverse scan.

    .. math::
        G_t = r_t + \gamma_t\big((1 - \lambda_t)\, v_t + \lambda_t\, G_{t+1}\big), \qquad
        G_T = v_{T-1}

    ``v_t[t]`` is the value of the state after transition t. ``lambda_ = 1`` gives the
    discounted Monte-Carlo return bootstrapped from the last value, ``lambda_ = 0`` the
    one-step target ``r_t + γ_t v_t``. Generalised advantage estimation (GAE, Schulman et al.
    2016) is ``lambda_returns(r, γ·(1 − done), v_next, lambda_=λ) − v``: with
    ``v_t = values[1:]`` (plus the last bootstrap value) this reproduces stable-baselines3's
    ``RolloutBuffer.compute_returns_and_advantage`` (``returns``; ``advantages`` = returns −
    values).

    The recursion uses the ``scan`` primitive (``jax.lax.scan`` on JAX, a loop elsewhere).

    Args:
        r_t: rewards, shape ``(T, ...)``; integer and bool rewards are accepted and cast to
            the floating dtype (the library's policy).
        discount_t: discounts in [0, 1], shape ``(T, ...)``, or a Python number.
        v_t: bootstrap values, shape ``(T, ...)``, floating.
        lambda_: λ in [0, 1], a number or an array broadcastable to ``r_t``.
        stop_target_gradients: return the returns under stop-gradient (a bool).

    Returns:
        ``G`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, a ``discount_t``/``lambda_`` number
            outside [0, 1]; eagerly, ``discount_t``/``lambda_`` arrays with values outside
            [0, 1] or NaN.
        TypeError: non-floating ``v_t``, complex arguments, ``discount_t``/``lambda_``
            neither a number nor an array (e.g. ``lambda_="abc"``), a non-bool
            ``stop_target_gradients``.

    References: Sutton & Barto 2018, ch. 12; Schulman et al. 2016 (GAE).

    Peer twins: ``rlax.lambda_returns(r_t, discount_t, v_t, lambda_)``; stable-baselines3
    GAE as above.
    """
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, "lambda_returns")

    def step(acc, x):
        r_i, g_i, v_i, l_i = x
        acc = r_i + g_i * ((1 - l_i) * v_i + l_i * acc)
        return acc, acc

    _, out = xp.scan(step, v[-1, ...], (r, g, v, lam), reverse=True)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


def _policy_setup(xp, logits, actions, axis, fname):
    """Shape and dtype checks of a categorical policy's logits and integer actions."""
    _axis_arg(axis)
    ax, n_actions, expected = class_target(xp, logits, actions, axis, fname, "logits", "actions", "action")
    return ax, n_actions, expected


def _actions_check(xp, actions, n_actions):
    """The eager value check of the actions (indices in ``[0, n_actions)``)."""
    check.class_indices(xp, actions, n_actions, "actions")


def _log_prob(xp, z, actions, ax):
    return xp.take_class(z, actions, axis=ax) - xp.logsumexp(z, axis=ax)


def _neg_entropy(xp, z, ax):
    """``sum p log p`` along ``ax``; 0·log 0 = 0 with a finite gradient (-inf logits allowed).

    The logits are shifted by their (gradient-free) maximum first: ``z - max`` is exact for
    the large entries, so logits of 1e4 keep full relative precision in the entropy. An empty
    batch is not shifted (a maximum over nothing has no value; Dask refuses it).
    """
    if numel(z):
        m = xp.max(z, axis=ax, keepdims=True)
        z = z - xp.stop_gradient(xp.where(xp.isfinite(m), m, xp.zeros_like(m)))
    logp = xp.log_softmax(z, axis=ax)
    p = xp.exp(logp)
    # 0 log 0 = 0; a NaN probability keeps its NaN (p == 0 is False for NaN)
    safe = xp.where(p == 0, xp.zeros_like(logp), logp)
    return xp.sum(p * safe, axis=ax)


@check.entry
def policy_gradient_loss(logits: ArrayT, actions: ArrayT, advantages: ArrayT, *,
                         weight: ArrayT | float | None = None, axis: int | None = -1,
                         mean_over: MeanOver = "weights", reduction: Reduction = "mean") -> ArrayT:
    r"""REINFORCE / advantage policy-gradient loss of a softmax (categorical) policy.

    .. math:: \ell_t = -\log\pi(a_t \mid s_t)\;\operatorname{sg}(A_t), \qquad
              \log\pi(a\mid s) = z_a - \operatorname{logsumexp}(z)

    The advantages are held constant (stop-gradient), so the gradient is the score-function
    estimator ``-A_t ∇ log π(a_t|s_t)``. The log-probability is a gather from the logits
    minus their logsumexp: finite for logits of any magnitude.

    Args:
        logits: policy logits, shape ``(..., A)`` (action axis ``axis``, default last).
        actions: integer actions taken, ``logits``' shape without the action axis.
        advantages: advantages (or returns), same shape as ``actions``; integer and bool
            arrays are accepted and cast to the floating dtype (the library's policy).
        weight: optional per-step weights (e.g. a mask of valid steps) of ``actions``' shape
            (broadcastable), or a Python number.
        axis: the action axis of ``logits`` (default -1, rlax / stable-baselines3 layout).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step loss of ``actions``' shape for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, bad ``axis``/``mean_over``/``reduction``; eagerly,
            actions outside ``[0, A)``.
        TypeError: non-integer ``actions``, non-floating ``logits``, complex arguments.

    References: Williams 1992 (REINFORCE); Sutton et al. 2000.

    Peer twins: stable-baselines3 A2C ``policy_loss = -(advantages * log_prob).mean()``
    with ``torch.distributions.Categorical(logits=logits).log_prob(actions)``;
    ``rlax.policy_gradient_loss(logits, a, adv, w)`` computes ``mean(w l)``:
    ``mean_over="elements"`` (equal to the default when ``weight`` is None).
    """
    xp = namespace(logits=logits, actions=actions, advantages=advantages, weight=weight)
    ax, n_actions, shape = _policy_setup(xp, logits, actions, axis, "policy_gradient_loss")
    check.same_shape(actions, advantages, "actions", "advantages")
    _weight_options(weight, shape, "actions", mean_over, reduction)
    _, out_dtype, (z, adv, w) = float_args(xp, logits, advantages, weight,
                                           names=("logits", "advantages", "weight"))
    _actions_check(xp, actions, n_actions)
    per = -_log_prob(xp, z, actions, ax) * xp.stop_gradient(adv)
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype)


@check.entry
def entropy_loss(logits: ArrayT, *, weight: ArrayT | float | None = None, axis: int | None = -1,
                 mean_over: MeanOver = "weights", reduction: Reduction = "mean") -> ArrayT:
    r"""Negative entropy of a softmax policy (minimising it encourages exploration).

    .. math:: \ell_t = -H(\pi_t) = \sum_a \pi_t(a)\log\pi_t(a), \qquad \pi_t = \operatorname{softmax}(z_t)

    ``0 log 0 = 0``: logits of ±1e4 and ``-inf`` logits (masked, invalid actions) give a
    finite value and gradient.

    Args:
        logits: shape ``(..., A)`` (action axis ``axis``, default last).
        weight: optional per-step weights of ``logits``' shape without the action axis
            (broadcastable), or a Python number.
        axis: the action axis.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step negative entropy for ``reduction="none"``.

    Raises:
        ValueError: bad ``axis``, a ``weight`` that does not broadcast, bad ``mean_over`` or
            ``reduction``.
        TypeError: non-floating ``logits``, complex ``weight``, a non-int ``axis``.

    References: Williams & Peng 1991; Mnih et al. 2016 (A3C entropy bonus).

    Peer twins: ``-torch.distributions.Categorical(logits=logits).entropy()`` (per step);
    stable-baselines3 ``entropy_loss = -th.mean(entropy)``; ``rlax.entropy_loss(logits, w)``
    (``mean(w l)``: ``mean_over="elements"``, equal to the default for ``weight=None``).
    """
    xp = namespace(logits=logits, weight=weight)
    _axis_arg(axis)
    check.floating(xp, logits, "logits")
    check.ndim_at_least(logits, 1, "logits")
    ax = class_axis(logits, axis, "logits")
    shape = tuple(s for i, s in enumerate(logits.shape) if i != ax)
    _weight_options(weight, shape, "logits without the action axis", mean_over, reduction)
    _, out_dtype, (z, w) = float_args(xp, logits, weight, names=("logits", "weight"))
    return reduce(xp, _neg_entropy(xp, z, ax), reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype)


@check.entry
def actor_critic_loss(logits: ArrayT, actions: ArrayT, values: ArrayT, returns: ArrayT, *,
                      advantages: ArrayT | None = None, value_coef: float = 0.5,
                      entropy_coef: float = 0.01, weight: ArrayT | float | None = None,
                      axis: int | None = -1, mean_over: MeanOver = "weights",
                      reduction: Reduction = "mean") -> ArrayT:
    r"""Advantage actor-critic (A2C/A3C) loss: policy gradient + value regression − entropy bonus.

    .. math::
        \ell_t = -\log\pi(a_t\mid s_t)\,\operatorname{sg}(A_t)
                 + c_v\,\big(\operatorname{sg}(R_t) - V(s_t)\big)^2
                 - c_e\,H(\pi_t),
        \qquad A_t = R_t - V(s_t) \text{ unless given}

    The returns and the advantages are held constant (stop-gradient); the value term is the
    plain squared error (torch ``mse_loss``, no ½).

    Args:
        logits: policy logits ``(..., A)``. actions: integer actions, ``logits``' shape
            without the action axis.
        values: value predictions ``V(s_t)`` (differentiable), shape of ``actions``.
        returns: value targets ``R_t`` (e.g. :func:`lambda_returns` or n-step returns);
            integer and bool arrays are accepted and cast (the library's policy).
        advantages: optional advantages (e.g. GAE); default ``returns - values``.
        value_coef: c_v >= 0, finite. entropy_coef: c_e, finite (usually >= 0; 0 disables
            the bonus).
        weight: optional per-step weights (broadcastable to ``actions``), or a Python number.
        axis: action axis of ``logits``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        The combined loss (scalar, or per step with ``reduction="none"``).

    Raises:
        ValueError: shape mismatches, negative or infinite ``value_coef``, infinite
            ``entropy_coef``, bad ``axis``/``mean_over``/``reduction``; eagerly,
            out-of-range actions.
        TypeError: non-integer actions, non-floating logits/values, complex arguments.

    References: Mnih et al. 2016 (A3C).

    Peer twins: stable-baselines3 A2C ``policy_loss + ent_coef * entropy_loss + vf_coef *
    value_loss`` with ``value_loss = F.mse_loss(returns, values)``: ``value_coef=vf_coef``
    (SB3 default 0.5), ``entropy_coef=ent_coef`` (SB3 default 0.0; 0.01 is the A3C paper's
    and OpenAI baselines' value, our default) and ``advantages=`` the buffer's advantages.
    """
    xp = namespace(logits=logits, actions=actions, values=values, returns=returns,
                   advantages=advantages, weight=weight)
    check.finite_number(value_coef, "value_coef", low=0)
    check.finite_number(entropy_coef, "entropy_coef")
    ax, n_actions, shape = _policy_setup(xp, logits, actions, axis, "actor_critic_loss")
    check.floating(xp, values, "values")
    for x, name in ((values, "values"), (returns, "returns"), (advantages, "advantages")):
        if x is not None and tuple(x.shape) != shape:
            raise ValueError(f"{name} must have the shape {shape} of actions, got {tuple(x.shape)}")
    _weight_options(weight, shape, "actions", mean_over, reduction)
    _, out_dtype, (z, v, ret, adv, w) = float_args(
        xp, logits, values, returns, advantages, weight,
        names=("logits", "values", "returns", "advantages", "weight"))
    _actions_check(xp, actions, n_actions)
    ret = xp.stop_gradient(ret)
    adv = xp.stop_gradient(ret - v if adv is None else adv)
    per = -_log_prob(xp, z, actions, ax) * adv
    diff = ret - v
    per = per + value_coef * (diff * diff)
    if entropy_coef:
        per = per + entropy_coef * _neg_entropy(xp, z, ax)
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype)


def _clipped_ratio_times_advantage(xp, log_ratio, adv, clip_range):
    """``min(ρ A, clip(ρ, 1-ε, 1+ε) A)`` with ``ρ = exp(log_ratio)``, without overflow.

    For ``A >= 0`` it is ``A min(ρ, 1+ε)``: ρ matters only below ``1+ε < e``, so the
    exponent is capped at 1 and nothing overflows (a huge ratio gives ``(1+ε) A`` with a
    zero gradient, ``A = 0`` gives 0). For ``A < 0`` it is ``A max(ρ, 1-ε)``, unbounded in ρ:
    ``ρ A`` is the plain product where ``ρ`` is representable with room to spare and
    ``-exp(log ρ + log|A|)`` above (value and gradient finite wherever the product is). The
    subgradients are torch's (``torch.clamp`` passes the gradient on the closed interval
    ``[1-ε, 1+ε]``, so at ``ρ = 1 ± ε`` the gradient is ``A ρ``); NaN goes through.
    Every branch that is not taken sees harmless arguments (double where).
    """
    lo, hi = 1.0 - clip_range, 1.0 + clip_range
    zeros = xp.zeros_like(log_ratio)
    negative = adv < 0
    # A >= 0 (and a NaN A, which the product keeps NaN): A * min(rho, hi)
    capped = xp.exp(xp.where(log_ratio > 1.0, xp.ones_like(log_ratio), log_ratio))
    upper = adv * xp.where(capped > hi, xp.full_like(capped, hi), capped)
    # A < 0: A * max(rho, lo); rho < lo compares the exact exp as the formula does
    x = xp.where(negative, log_ratio, zeros)
    below = xp.exp(xp.where(x < 0, x, zeros)) < lo
    large = x > math.log(xp.finfo(x.dtype).max) - 2.0
    plain = adv * xp.exp(xp.where(large, zeros, x))
    log_abs = xp.log(xp.where(negative, -adv, xp.ones_like(adv)))
    huge = -xp.exp(xp.where(large, x, zeros) + log_abs)
    lower = xp.where(below, lo * adv, xp.where(large, huge, plain))
    return xp.where(negative, lower, upper)


@check.entry
def ppo_clip_loss(log_prob: ArrayT, advantages: ArrayT, *, old_log_prob: ArrayT | None = None,
                  clip_range: float = 0.2, normalize_advantages: bool = False,
                  weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                  reduction: Reduction = "mean") -> ArrayT:
    r"""PPO clipped surrogate objective (Schulman et al. 2017), as a loss to minimise.

    .. math::
        \rho_t = e^{\log\pi_\theta(a_t|s_t) - \operatorname{sg}(\log\pi_{old}(a_t|s_t))},\qquad
        \ell_t = -\min\big(\rho_t A_t,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\,A_t\big)

    with the advantages held constant. The subgradient is torch's: the clipped branch is
    active on the closed interval ``[1-ε, 1+ε]`` (so at ``ρ = 1 ± ε`` the gradient is
    ``-A ρ``, as ``torch.clamp``), 0 beyond it on the clipped side.

    Computed without overflow: for ``A >= 0`` the loss is ``-A min(ρ, 1+ε)``, which never
    needs ``ρ`` above ``1+ε`` (log-ratios of 1e4 give ``-(1+ε) A`` with a zero gradient, where
    the naive ``exp`` gives a NaN gradient, and ``NaN`` for ``A = 0``); for ``A < 0`` it is
    ``-A max(ρ, 1-ε)``, finite wherever that product is (it is unbounded in ρ: a log-ratio
    of 1e4 with ``A < 0`` is ``+inf``, the formula's value).

    Args:
        log_prob: log-probabilities ``log π_θ(a_t|s_t)`` of the taken actions under the
            current policy, any shape; or, when ``old_log_prob`` is None, the log importance
            ratio ``log π_θ − log π_old`` itself.
        advantages: advantage estimates, same shape (integer/bool arrays are cast).
        old_log_prob: log-probabilities under the behaviour policy, same shape (held
            constant), or None (``log_prob`` is then the log ratio).
        clip_range: ε in [0, 1) (stable-baselines3's name).
        normalize_advantages: standardise the advantages over all elements first,
            ``(A − mean) / (std + 1e-8)`` with the unbiased std (stable-baselines3 PPO's
            ``normalize_advantage=True``, its default). Off by default (the paper).
        weight: optional per-step weights broadcastable to ``log_prob``, or a Python number.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step loss for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, ``clip_range`` outside [0, 1), bad ``mean_over`` or
            ``reduction``, ``normalize_advantages`` with fewer than 2 elements.
        TypeError: non-floating ``log_prob``, complex arguments, a non-bool
            ``normalize_advantages``.

    References: Schulman et al. 2017, "Proximal Policy Optimization Algorithms", eq. 7.

    Peer twins: stable-baselines3 PPO ``policy_loss = -th.min(advantages * ratio, advantages *
    th.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()`` with the same ``clip_range``
    and ``normalize_advantages=True`` (SB3's default); ``rlax.clipped_surrogate_pg_loss(
    prob_ratios_t, adv_t, epsilon)`` with ``log_prob=log(prob_ratios_t)``,
    ``clip_range=epsilon``.
    """
    xp = namespace(log_prob=log_prob, advantages=advantages, old_log_prob=old_log_prob, weight=weight)
    check.real_number(clip_range, "clip_range", low=0, high=1, high_open=True)
    check.flag(normalize_advantages, "normalize_advantages")
    check.floating(xp, log_prob, "log_prob")
    check.same_shape(log_prob, advantages, "log_prob", "advantages")
    check.same_shape(log_prob, old_log_prob, "log_prob", "old_log_prob")
    _weight_options(weight, log_prob.shape, "log_prob", mean_over, reduction)
    if normalize_advantages and numel(advantages) < 2:
        raise ValueError(
            f"normalize_advantages needs at least 2 advantages, got shape {tuple(advantages.shape)}")
    _, out_dtype, (lp, adv, old, w) = float_args(
        xp, log_prob, advantages, old_log_prob, weight,
        names=("log_prob", "advantages", "old_log_prob", "weight"))
    log_ratio = lp if old is None else lp - xp.stop_gradient(old)
    adv = xp.stop_gradient(adv)
    if normalize_advantages:
        adv = (adv - xp.mean(adv)) / (xp.std(adv, correction=1) + 1e-8)
    per = -_clipped_ratio_times_advantage(xp, log_ratio, adv, float(clip_range))
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype)
