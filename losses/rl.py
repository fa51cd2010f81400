"""Reinforcement-learning losses and return estimators (rlax / stable-baselines3 conventions).

Time-indexed inputs are *time-major*: axis 0 is time, any further axes are batch axes (the
layout of rlax after ``vmap`` and of stable-baselines3 rollout buffers, ``(n_steps, n_envs)``).
Targets, advantages and behaviour log-probabilities are held constant under autodiff with the
``stop_gradient`` primitive (torch ``detach``, ``jax.lax.stop_gradient``).
"""
from __future__ import annotations

from typing import Literal

from . import _validate as check
from ._common import abs0, cast, class_axis, class_target, float_args, is_number, numel
from ._reduction import reduce
from ._typing import ArrayT, Reduction
from .backends import namespace

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


# Arguments that are an array or a Python number (as rlax takes a float discount or an array);
# the home of these helpers for the rl and multitask families.
def _number_or_array(value, name):
    """Type check of an argument that is a real number or an array. Runs before the namespace
    is resolved, so a string, a list, a bool or None is refused with the argument's name."""
    if not (is_number(value) or hasattr(value, "dtype")):
        raise TypeError(f"{name} must be a real number or an array, got {type(value).__name__}")


def _floats(xp, first, *others, names=("input",)):
    """``float_args`` where each of ``others`` may also be a Python number (returned as a
    Python float, not cast): ``(compute_dtype, out_dtype, [first, *others])``."""
    arrays = [None if is_number(o) else o for o in others]
    compute, out_dtype, cast_arrays = float_args(xp, first, *arrays, names=names)
    out = [cast_arrays[0]] + [float(o) if is_number(o) else a for o, a in zip(others, cast_arrays[1:])]
    return compute, out_dtype, out


def _shaped_like(xp, value, like):
    """``value`` (array broadcastable to ``like``, or a number) as an array of ``like``'s shape."""
    if is_number(value):
        return xp.full_like(like, value)
    return xp.broadcast_to(value, like.shape)


def _huber(xp, d, delta):
    a = abs0(xp, d)
    return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def td_loss(v_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float, v_t: ArrayT | float, *,
            criterion: TDCriterion = "mse", delta: float = 1.0, weight: ArrayT | None = None,
            stop_target_gradients: bool = True, reduction: Reduction = "mean") -> ArrayT:
    r"""Temporal-difference (TD(0)) value loss with the bootstrap target held constant.

    .. math::
        \delta_t = \operatorname{sg}\!\big(r_t + \gamma_t\, v_t\big) - v_{t-1}, \qquad
        \ell_t = \delta_t^2 \ (\texttt{"mse"}) \quad\text{or}\quad
        \ell_t = \operatorname{huber}_\delta(\delta_t) \ (\texttt{"huber"})

    with ``sg`` the stop-gradient and ``huber_δ(d) = d²/2`` for ``|d| < δ``, ``δ(|d| − δ/2)``
    otherwise (torch's ``huber_loss``). The gradient flows only into ``v_tm1``.

    Args:
        v_tm1: values (or Q-values of the taken actions) at time t-1, any shape, floating.
        r_t: rewards, broadcastable to ``v_tm1`` (integer rewards are accepted), or a
            Python number.
        discount_t: discounts γ_t (0 at episode ends), broadcastable to ``v_tm1``, or a
            Python number.
        v_t: bootstrap values at time t (e.g. a target network's max-Q), broadcastable to
            ``v_tm1``, or a Python number.
        criterion: ``"mse"`` (squared TD error, stable-baselines3 A2C/PPO value loss) or
            ``"huber"`` (DQN's clipped error; stable-baselines3 DQN uses ``smooth_l1_loss``,
            which is ``"huber"`` with ``delta=1``).
        delta: Huber threshold δ > 0 (``criterion="huber"`` only).
        weight: optional per-transition weights (e.g. prioritised-replay importance
            weights) broadcastable to ``v_tm1``; ``"mean"`` is ``sum(w l) / sum(w)``.
        stop_target_gradients: hold the target constant (default, as rlax's
            ``stop_target_backprop=True``); ``False`` lets gradients reach ``r_t``,
            ``discount_t`` and ``v_t`` (residual-gradient TD).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-transition loss of ``v_tm1``'s shape for ``reduction="none"``,
        in the promoted floating dtype of the inputs.

    Raises:
        ValueError: arguments that do not broadcast to ``v_tm1``, bad ``criterion``,
            ``delta`` or ``reduction``.
        TypeError: non-floating ``v_tm1``, ``r_t``/``discount_t``/``v_t`` neither a number
            nor an array, mixed array frameworks.

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
    xp = namespace(v_tm1, r_t, discount_t, v_t, weight)
    check.reduction(reduction)
    check.choice(criterion, "criterion", ("mse", "huber"))
    check.real_number(delta, "delta", low=0, low_open=True)
    check.floating(xp, v_tm1, "v_tm1")
    for x, name in (*bootstrap, (weight, "weight")):
        if not is_number(x):
            check.broadcastable(x, name, v_tm1.shape, "v_tm1")
    _, out_dtype, (v, r, g, vn, w) = _floats(xp, v_tm1, r_t, discount_t, v_t, weight, names=("v_tm1",))
    target = r + g * vn
    if is_number(target):
        target = xp.full_like(v, target)
    if stop_target_gradients:
        target = xp.stop_gradient(target)
    d = target - v
    per = d * d if criterion == "mse" else _huber(xp, d, delta)
    return reduce(xp, per, reduction, weight=w, out_dtype=out_dtype)


def _returns_setup(r_t, discount_t, v_t, lambda_, fname):
    _number_or_array(discount_t, "discount_t")
    _number_or_array(lambda_, "lambda_")
    xp = namespace(r_t, discount_t, v_t, lambda_)
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
        check.values_in(xp, lambda_, "lambda_", 0, 1)
    _, out_dtype, (v, r, g, lam) = _floats(xp, v_t, r_t, discount_t, lambda_, names=("v_t",))
    return xp, out_dtype, _shaped_like(xp, r, v), _shaped_like(xp, g, v), v, _shaped_like(xp, lam, v)


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
        r_t: rewards, shape ``(T, ...)``.
        discount_t: discounts, shape ``(T, ...)`` (0 at episode ends), or a Python number.
        v_t: bootstrap values, shape ``(T, ...)``, floating.
        n: number of steps, a Python int >= 1.
        lambda_: mixing parameter λ in [0, 1], a number or an array broadcastable to ``r_t``.
        stop_target_gradients: return the returns under stop-gradient.

    Returns:
        ``G`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, ``n`` < 1, eagerly discounts or λ
            outside [0, 1].
        TypeError: non-integer ``n``, non-floating ``v_t``, ``discount_t``/``lambda_``
            neither a number nor an array.

    References: Sutton & Barto 2018, ch. 7.

    Peer twins: ``rlax.n_step_bootstrapped_returns(r_t, discount_t, v_t, n, lambda_t)``
    (same semantics, one trajectory; ``vmap`` over batch axes).
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a Python int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, "n_step_returns")
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
        r_t: rewards, shape ``(T, ...)``.
        discount_t: discounts, shape ``(T, ...)``, or a Python number.
        v_t: bootstrap values, shape ``(T, ...)``, floating.
        lambda_: λ in [0, 1], a number or an array broadcastable to ``r_t``.
        stop_target_gradients: return the returns under stop-gradient.

    Returns:
        ``G`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, eagerly discounts or λ outside [0, 1].
        TypeError: non-floating ``v_t``, ``discount_t``/``lambda_`` neither a number nor an
            array.

    References: Sutton & Barto 2018, ch. 12; Schulman et al. 2016 (GAE).

    Peer twins: ``rlax.lambda_returns(r_t, discount_t, v_t, lambda_)``; stable-baselines3
    GAE as above.
    """
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, "lambda_returns")

    def step(acc, x):
        r_i, g_i, v_i, l_i = x
        acc = r_i + g_i * ((1 - l_i) * v_i + l_i * acc)
        return acc, acc

    _, out = xp.scan(step, v[-1, ...], (r, g, v, lam), reverse=True)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


def _policy_setup(xp, logits, actions, axis, fname):
    ax, n_actions, expected = class_target(xp, logits, actions, axis, fname, "logits", "actions", "action")
    check.class_indices(xp, actions, n_actions, "actions")
    return ax, expected


def _log_prob(xp, z, actions, ax):
    return xp.take_class(z, actions, axis=ax) - xp.logsumexp(z, axis=ax)


def _neg_entropy(xp, z, ax):
    """``sum p log p`` along ``ax``; 0·log 0 = 0 with a finite gradient (-inf logits allowed).

    The logits are shifted by their (gradient-free) maximum first: ``z - max`` is exact for
    the large entries, so logits of 1e4 keep full relative precision in the entropy.
    """
    m = xp.max(z, axis=ax, keepdims=True)
    m = xp.stop_gradient(xp.where(xp.isfinite(m), m, xp.zeros_like(m)))
    logp = xp.log_softmax(z - m, axis=ax)
    p = xp.exp(logp)
    safe = xp.where(p > 0, logp, xp.zeros_like(logp))
    return xp.sum(p * safe, axis=ax)


def policy_gradient_loss(logits: ArrayT, actions: ArrayT, advantages: ArrayT, *,
                         weight: ArrayT | None = None, axis: int | None = -1,
                         reduction: Reduction = "mean") -> ArrayT:
    r"""REINFORCE / advantage policy-gradient loss of a softmax (categorical) policy.

    .. math:: \ell_t = -\log\pi(a_t \mid s_t)\;\operatorname{sg}(A_t), \qquad
              \log\pi(a\mid s) = z_a - \operatorname{logsumexp}(z)

    The advantages are held constant (stop-gradient), so the gradient is the score-function
    estimator ``-A_t ∇ log π(a_t|s_t)``. The log-probability is a gather from the logits
    minus their logsumexp: finite for logits of any magnitude.

    Args:
        logits: policy logits, shape ``(..., A)`` (action axis ``axis``, default last).
        actions: integer actions taken, ``logits``' shape without the action axis.
        advantages: advantages (or returns), same shape as ``actions``.
        weight: optional per-step weights (e.g. a mask of valid steps) of ``actions``' shape
            (broadcastable); ``"mean"`` is ``sum(w l) / sum(w)``.
        axis: the action axis of ``logits`` (default -1, rlax / stable-baselines3 layout).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step loss of ``actions``' shape for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches; eagerly, actions outside ``[0, A)``.
        TypeError: non-integer ``actions``, non-floating ``logits``.

    References: Williams 1992 (REINFORCE); Sutton et al. 2000.

    Peer twins: stable-baselines3 A2C ``policy_loss = -(advantages * log_prob).mean()``
    with ``torch.distributions.Categorical(logits=logits).log_prob(actions)``;
    ``rlax.policy_gradient_loss(logits, a, adv, w)`` computes ``mean(w l)`` (divides by T,
    not by ``sum(w)``): equal to ours with ``reduction="none"`` then ``.mean()``, and to
    ``"mean"`` when ``weight`` is None.
    """
    xp = namespace(logits, actions, advantages, weight)
    check.reduction(reduction)
    ax, shape = _policy_setup(xp, logits, actions, axis, "policy_gradient_loss")
    check.same_shape(actions, advantages, "actions", "advantages")
    check.broadcastable(weight, "weight", shape, "actions")
    _, out_dtype, (z, adv, w) = float_args(xp, logits, advantages, weight, names=("logits",))
    per = -_log_prob(xp, z, actions, ax) * xp.stop_gradient(adv)
    return reduce(xp, per, reduction, weight=w, out_dtype=out_dtype)


def entropy_loss(logits: ArrayT, *, weight: ArrayT | None = None, axis: int | None = -1,
                 reduction: Reduction = "mean") -> ArrayT:
    r"""Negative entropy of a softmax policy (minimising it encourages exploration).

    .. math:: \ell_t = -H(\pi_t) = \sum_a \pi_t(a)\log\pi_t(a), \qquad \pi_t = \operatorname{softmax}(z_t)

    ``0 log 0 = 0``: logits of ±1e4 and ``-inf`` logits (masked, invalid actions) give a
    finite value and gradient.

    Args:
        logits: shape ``(..., A)`` (action axis ``axis``, default last).
        weight: optional per-step weights of ``logits``' shape without the action axis
            (broadcastable); ``"mean"`` is ``sum(w l) / sum(w)``.
        axis: the action axis.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step negative entropy for ``reduction="none"``.

    Raises:
        ValueError: bad ``axis``, a ``weight`` that does not broadcast, bad ``reduction``.
        TypeError: non-floating ``logits``.

    References: Williams & Peng 1991; Mnih et al. 2016 (A3C entropy bonus).

    Peer twins: ``-torch.distributions.Categorical(logits=logits).entropy()`` (per step);
    stable-baselines3 ``entropy_loss = -th.mean(entropy)``; ``rlax.entropy_loss(logits, w)``
    (``mean(w l)``: equal for ``weight=None``).
    """
    xp = namespace(logits, weight)
    check.reduction(reduction)
    check.floating(xp, logits, "logits")
    check.ndim_at_least(logits, 1, "logits")
    ax = class_axis(logits, axis, "logits")
    shape = tuple(s for i, s in enumerate(logits.shape) if i != ax)
    check.broadcastable(weight, "weight", shape, "logits without the action axis")
    _, out_dtype, (z, w) = float_args(xp, logits, weight, names=("logits",))
    return reduce(xp, _neg_entropy(xp, z, ax), reduction, weight=w, out_dtype=out_dtype)


def actor_critic_loss(logits: ArrayT, actions: ArrayT, values: ArrayT, returns: ArrayT, *,
                      advantages: ArrayT | None = None, value_coef: float = 0.5,
                      entropy_coef: float = 0.01, weight: ArrayT | None = None,
                      axis: int | None = -1, reduction: Reduction = "mean") -> ArrayT:
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
        returns: value targets ``R_t`` (e.g. :func:`lambda_returns` or n-step returns).
        advantages: optional advantages (e.g. GAE); default ``returns - values``.
        value_coef: c_v >= 0. entropy_coef: c_e (usually >= 0; 0 disables the bonus).
        weight: optional per-step weights; ``"mean"`` is ``sum(w l) / sum(w)``.
        axis: action axis of ``logits``. reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        The combined loss (scalar, or per step with ``reduction="none"``).

    Raises:
        ValueError: shape mismatches, negative ``value_coef``, bad ``reduction``; eagerly,
            out-of-range actions.
        TypeError: non-integer actions, non-floating logits/values.

    References: Mnih et al. 2016 (A3C).

    Peer twins: stable-baselines3 A2C ``policy_loss + ent_coef * entropy_loss + vf_coef *
    value_loss`` with ``value_loss = F.mse_loss(returns, values)``: ``value_coef=vf_coef``
    (SB3 default 0.5), ``entropy_coef=ent_coef`` (SB3 default 0.0; 0.01 is the A3C paper's
    and OpenAI baselines' value, our default) and ``advantages=`` the buffer's advantages.
    """
    xp = namespace(logits, actions, values, returns, advantages, weight)
    check.reduction(reduction)
    check.real_number(value_coef, "value_coef", low=0)
    check.real_number(entropy_coef, "entropy_coef")
    ax, shape = _policy_setup(xp, logits, actions, axis, "actor_critic_loss")
    check.floating(xp, values, "values")
    for x, name in ((values, "values"), (returns, "returns"), (advantages, "advantages")):
        if x is not None and tuple(x.shape) != shape:
            raise ValueError(f"{name} must have the shape {shape} of actions, got {tuple(x.shape)}")
    check.broadcastable(weight, "weight", shape, "actions")
    _, out_dtype, (z, v, ret, adv, w) = float_args(
        xp, logits, values, returns, advantages, weight, names=("logits",))
    ret = xp.stop_gradient(ret)
    adv = xp.stop_gradient(ret - v if adv is None else adv)
    per = -_log_prob(xp, z, actions, ax) * adv
    diff = ret - v
    per = per + value_coef * (diff * diff)
    if entropy_coef:
        per = per + entropy_coef * _neg_entropy(xp, z, ax)
    return reduce(xp, per, reduction, weight=w, out_dtype=out_dtype)


def ppo_clip_loss(log_prob: ArrayT, advantages: ArrayT, *, old_log_prob: ArrayT | None = None,
                  clip_range: float = 0.2, normalize_advantages: bool = False,
                  weight: ArrayT | None = None, reduction: Reduction = "mean") -> ArrayT:
    r"""PPO clipped surrogate objective (Schulman et al. 2017), as a loss to minimise.

    .. math::
        \rho_t = e^{\log\pi_\theta(a_t|s_t) - \operatorname{sg}(\log\pi_{old}(a_t|s_t))},\qquad
        \ell_t = -\min\big(\rho_t A_t,\ \operatorname{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\,A_t\big)

    with the advantages held constant. The subgradient is torch's: the clipped branch is
    active on the closed interval ``[1-ε, 1+ε]`` (so at ``ρ = 1 ± ε`` the gradient is
    ``-A ρ``, as ``torch.clamp``), 0 beyond it on the clipped side.

    Args:
        log_prob: log-probabilities ``log π_θ(a_t|s_t)`` of the taken actions under the
            current policy, any shape; or, when ``old_log_prob`` is None, the log importance
            ratio ``log π_θ − log π_old`` itself.
        advantages: advantage estimates, same shape.
        old_log_prob: log-probabilities under the behaviour policy, same shape (held
            constant), or None (``log_prob`` is then the log ratio).
        clip_range: ε in [0, 1) (stable-baselines3's name).
        normalize_advantages: standardise the advantages over all elements first,
            ``(A − mean) / (std + 1e-8)`` with the unbiased std (stable-baselines3 PPO's
            ``normalize_advantage=True``, its default). Off by default (the paper).
        weight: optional per-step weights broadcastable to ``log_prob``; ``"mean"`` is
            ``sum(w l) / sum(w)``.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar, or the per-step loss for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, ``clip_range`` outside [0, 1), bad ``reduction``,
            ``normalize_advantages`` with fewer than 2 elements.
        TypeError: non-floating ``log_prob``.

    References: Schulman et al. 2017, "Proximal Policy Optimization Algorithms", eq. 7.

    Peer twins: stable-baselines3 PPO ``policy_loss = -th.min(advantages * ratio, advantages *
    th.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()`` with the same ``clip_range``
    and ``normalize_advantages=True`` (SB3's default); ``rlax.clipped_surrogate_pg_loss(
    prob_ratios_t, adv_t, epsilon)`` with ``log_prob=log(prob_ratios_t)``,
    ``clip_range=epsilon``.
    """
    xp = namespace(log_prob, advantages, old_log_prob, weight)
    check.reduction(reduction)
    check.real_number(clip_range, "clip_range", low=0, high=1, high_open=True)
    check.floating(xp, log_prob, "log_prob")
    check.same_shape(log_prob, advantages, "log_prob", "advantages")
    check.same_shape(log_prob, old_log_prob, "log_prob", "old_log_prob")
    check.broadcastable(weight, "weight", log_prob.shape, "log_prob")
    if normalize_advantages and numel(advantages) < 2:
        raise ValueError(
            f"normalize_advantages needs at least 2 advantages, got shape {tuple(advantages.shape)}")
    _, out_dtype, (lp, adv, old, w) = float_args(
        xp, log_prob, advantages, old_log_prob, weight, names=("log_prob",))
    log_ratio = lp if old is None else lp - xp.stop_gradient(old)
    adv = xp.stop_gradient(adv)
    if normalize_advantages:
        adv = (adv - xp.mean(adv)) / (xp.std(adv, correction=1) + 1e-8)
    ratio = xp.exp(log_ratio)
    lo, hi = 1.0 - clip_range, 1.0 + clip_range
    clipped = xp.where(ratio > hi, xp.full_like(ratio, hi), xp.where(ratio < lo, xp.full_like(ratio, lo), ratio))
    surr1, surr2 = ratio * adv, clipped * adv
    per = -xp.where(surr1 < surr2, surr1, surr2)
    return reduce(xp, per, reduction, weight=w, out_dtype=out_dtype)


