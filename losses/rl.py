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
from ._common import abs0, cast, class_axis, class_target, device_of, fill_doc, float_args, is_number, numel
from ._reduction import MEAN_OVER, global_count, global_sum, group_doc, reduce
from ._typing import ArrayT, Group, Reduction
from .backends import namespace
from .regression import _native_or

__all__ = [
    "td_loss",
    "q_learning_loss",
    "double_q_learning_loss",
    "sarsa_loss",
    "expected_sarsa_loss",
    "td_lambda_loss",
    "n_step_returns",
    "lambda_returns",
    "vtrace_returns",
    "general_off_policy_returns",
    "general_off_policy_returns_from_action_values",
    "policy_gradient_loss",
    "vtrace_policy_gradient_loss",
    "entropy_loss",
    "actor_critic_loss",
    "ppo_clip_loss",
    "sac_critic_loss",
    "sac_actor_loss",
    "sac_temperature_loss",
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
    is resolved, so a string, a list, a bool or None is refused with the argument's name.
    Returns whether ``value`` is a number (callers that branch on it ask once)."""
    number = is_number(value)
    if not (number or hasattr(value, "dtype")):
        raise TypeError(f"{name} must be a real number or an array, got {type(value).__name__}")
    return number


def _floats(xp, first, *others, names):
    """``float_args`` (every argument's dtype checked, ``names`` one per argument) where each
    of ``others`` may also be a Python number, returned as a Python float (not cast):
    ``(compute_dtype, out_dtype, [first, *others])``."""
    return _floats_known(xp, first, others, [is_number(o) for o in others], names)


def _floats_known(xp, first, others, numbers, names):
    """``_floats`` with ``numbers[i]`` (``is_number(others[i])``) already known."""
    dtype = getattr(first, "dtype", None)
    if dtype == xp.float32 or dtype == xp.float64:
        # the common call: every array has first's float32/float64 dtype, which float_args
        # accepts and returns as it is (the arrays are the namespace's, checked by namespace())
        out = [first]
        for o, n in zip(others, numbers):
            if n:
                out.append(float(o))
            elif o is None or o.dtype == dtype:
                out.append(o)
            else:
                break
        else:
            return dtype, dtype, out
    arrays = [None if n else o for o, n in zip(others, numbers)]
    compute, out_dtype, cast_arrays = float_args(xp, first, *arrays, names=names)
    out = [cast_arrays[0]] + [float(o) if n else a for o, n, a in zip(others, numbers, cast_arrays[1:])]
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
@group_doc
def td_loss(v_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float, v_t: ArrayT | float, *,
            criterion: TDCriterion = "mse", delta: float = 1.0, weight: ArrayT | float | None = None,
            stop_target_gradients: bool = True, mean_over: MeanOver = "weights",
            reduction: Reduction = "mean", group: Group = None) -> ArrayT:
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
    {group}

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

    Example:
        >>> import numpy as np, losses
        >>> v_t = np.array([2.0, 2.0])
        >>> float(losses.td_loss(np.array([2.0, 2.0]), 1.0, 0.5, v_t))  # v_tm1 = r + γ v_t: no error
        0.0
        >>> float(losses.td_loss(np.array([1.0, 2.0]), 1.0, 0.5, v_t))  # δ = (1, 0)
        0.5
        >>> float(losses.td_loss(np.array([0.0, 2.0]), 1.0, 0.5, v_t, criterion="huber", reduction="sum"))
        1.5
    """
    bootstrap = ((r_t, "r_t"), (discount_t, "discount_t"), (v_t, "v_t"))
    numbers = [_number_or_array(x, name) for x, name in bootstrap]
    xp = namespace(v_tm1=v_tm1, r_t=r_t, discount_t=discount_t, v_t=v_t, weight=weight)
    group = xp.check_group(group)
    check.choice(criterion, "criterion", ("mse", "huber"))
    check.real_number(delta, "delta", low=0, low_open=True)
    check.flag(stop_target_gradients, "stop_target_gradients")
    check.floating(xp, v_tm1, "v_tm1")
    _weight_options(weight, v_tm1.shape, "v_tm1", mean_over, reduction)
    for (x, name), number in zip(bootstrap, numbers):
        if not number and x.shape != v_tm1.shape:
            check.broadcastable(x, name, v_tm1.shape, "v_tm1")
    if numbers[1]:
        check.real_number(discount_t, "discount_t", low=0, high=1)
    _, out_dtype, (v, r, g, vn, w) = _floats_known(xp, v_tm1, (r_t, discount_t, v_t, weight),
                                                    (*numbers, weight is not None and is_number(weight)),
                                                    ("v_tm1", "r_t", "discount_t", "v_t", "weight"))
    if not numbers[1]:
        check.values_in(xp, xp.stop_gradient(g), "discount_t", 0, 1)
    target = r + g * vn
    if all(numbers):
        target = xp.full_like(v, target)
    return _td_criterion(xp, v, target, w, stop_target_gradients, criterion, delta, reduction, mean_over,
                         out_dtype, group)


def _td_criterion(xp, v, target, w, stop_target_gradients, criterion, delta, reduction, mean_over, out_dtype,
                  group):
    """The squared or Huber error of ``v`` against ``target`` (held constant unless
    ``stop_target_gradients`` is False), reduced by the library's rule: the one body of every
    TD-style loss of the family (td_loss, the Q-learning family, td_lambda_loss)."""
    if stop_target_gradients:
        target = xp.stop_gradient(target)
    if target.shape != v.shape:
        target = xp.broadcast_to(target, v.shape)
    if w is None and group is None:  # the whole loss in the framework's kernel, where it has one
        out = xp.fast("td_loss", v, target, None, reduction, out_dtype, criterion=criterion, delta=float(delta))
        if out is not NotImplemented:
            return out

    def body(v, target):
        d = target - v
        return d * d if criterion == "mse" else _huber(xp, d, delta)

    # torch: F.mse_loss / F.huber_loss (the same values and subgradients, kinks included)
    return _native_or(xp, "td_loss", v, target, _as_weight(xp, w, v), reduction, mean_over, out_dtype, body,
                      group=group, criterion=criterion, delta=float(delta))


def _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, fname, number_lambda=False):
    xp, out_dtype, (r, g, v, lam), _, _ = _sequence_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients,
                                                          fname, number_lambda=number_lambda)
    return xp, out_dtype, r, g, v, lam


def _sequence_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, fname, extra=(), weight=None,
                    options=None, number_lambda=False):
    """The checks of a time-major sequence (time axis 0) of rewards, discounts, values and
    λ, plus ``extra`` floating arrays ``((array, name), ...)`` of ``r_t``'s shape and an
    optional ``weight`` (checked with ``options = (shape, shape_name, mean_over, reduction)``
    when given), every dtype before any value check.

    Returns ``(xp, out_dtype, (r, g, v, lam), extras, w)``: ``r, g, v, lam`` arrays of
    ``v_t``'s shape in the compute dtype (``lam`` a Python float when it is a number and
    ``number_lambda`` is set), the cast extras and ``w`` (None, a Python float or the cast
    array)."""
    _number_or_array(discount_t, "discount_t")
    _number_or_array(lambda_, "lambda_")
    xp = namespace(r_t=r_t, discount_t=discount_t, v_t=v_t, lambda_=lambda_, weight=weight,
                   **{name: x for x, name in extra})
    check.flag(stop_target_gradients, "stop_target_gradients")
    check.floating(xp, v_t, "v_t")
    for x, name in extra:
        check.floating(xp, x, name)
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
    for x, name in extra:
        check.same_shape(r_t, x, "r_t", name)
    if options is not None:
        _weight_options(weight, *options)
    names = ("v_t", "r_t", "discount_t", "lambda_", *(name for _, name in extra), "weight")
    _, out_dtype, (v, r, g, lam, *extras, w) = _floats(xp, v_t, r_t, discount_t, lambda_, *(x for x, _ in extra),
                                                       weight, names=names)
    _unit_interval(xp, g, "discount_t")
    _unit_interval(xp, lam, "lambda_")
    if not (number_lambda and is_number(lam)):
        lam = _shaped_like(xp, lam, v)
    return xp, out_dtype, (_shaped_like(xp, r, v), _shaped_like(xp, g, v), v, lam), extras, w


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

    Example:
        >>> import numpy as np, losses
        >>> r, v = np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 4.0])
        >>> losses.n_step_returns(r, 0.5, v, n=1)  # r_t + γ v_t
        array([1., 1., 3.])
        >>> losses.n_step_returns(r, 0.5, v, n=2)  # 1 + 0.5 + 0.25 v[t+1]; the last step truncated
        array([1.5, 2.5, 3. ])
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be a Python int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients,
                                                 "n_step_returns", number_lambda=True)
    T = r.shape[0]
    last = v[T - 1:T, ...]
    pad = n - 1
    if pad:
        zeros, ones = xp.zeros_like(last), xp.ones_like(last)
        v_p = xp.concat([v] + [last] * pad, axis=0)
        r_p = xp.concat([r] + [zeros] * pad, axis=0)
        g_p = xp.concat([g] + [ones] * pad, axis=0)
    else:
        v_p, r_p, g_p = v, r, g
    out = v_p[pad:pad + T, ...]
    if is_number(lam) and lam == 1:
        # λ = 1 (the default): each step's (1 - λ) v is 0 * v, which adds nothing to a return
        # or its gradient but makes it NaN where a value in its window is not finite. The
        # recursion runs without it and that NaN is added once, from the windows' finiteness.
        for i in range(n - 1, -1, -1):
            out = r_p[i:i + T, ...] + g_p[i:i + T, ...] * out
        finite = xp.isfinite(v_p)
        ok = finite[0:T, ...]
        for i in range(1, n):
            ok = ok & finite[i:i + T, ...]
        nan = xp.asarray(math.nan, dtype=out.dtype, device=device_of(out))
        out = out + xp.where(ok, 0.0, nan)
    else:
        if is_number(lam):
            lam = xp.full_like(v, lam)
        l_p = xp.concat([lam] + [ones] * pad, axis=0) if pad else lam
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

    Example:
        >>> import numpy as np, losses
        >>> r, v = np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 4.0])
        >>> losses.lambda_returns(r, 0.5, v)  # Monte-Carlo: 1 + 0.5 (1 + 0.5 (1 + 0.5 * 4))
        array([2.25, 2.5 , 3.  ])
        >>> losses.lambda_returns(r, 0.5, v, lambda_=0.0)  # one-step targets r_t + γ v_t
        array([1., 1., 3.])
    """
    xp, out_dtype, r, g, v, lam = _returns_setup(r_t, discount_t, v_t, lambda_, stop_target_gradients, "lambda_returns")
    out = _lambda_scan(xp, r, g, v, lam)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


def _lambda_scan(xp, r, g, v, lam):
    """The λ-return recursion (time axis 0, arrays of one shape), by a reverse ``scan``."""

    def step(acc, x):
        r_i, g_i, v_i, l_i = x
        acc = r_i + g_i * ((1 - l_i) * v_i + l_i * acc)
        return acc, acc

    _, out = xp.scan(step, v[-1, ...], (r, g, v, lam), reverse=True)
    return out


def _policy_setup(xp, logits, actions, axis, fname):
    """Shape and dtype checks of a categorical policy's logits and integer actions."""
    _axis_arg(axis)
    ax, n_actions, expected = class_target(xp, logits, actions, axis, fname, "logits", "actions", "action")
    return ax, n_actions, expected


def _actions_check(xp, actions, n_actions):
    """The eager value check of the actions (indices in ``[0, n_actions)``)."""
    check.class_indices(xp, actions, n_actions, "actions")


def _neg_log_prob(xp, z, actions, ax):
    """``-log π(a) = logsumexp(z) - z_a`` along ``ax``: the ``nll_logits`` primitive (torch's
    fused cross-entropy kernel, one saved log-softmax), no log-softmax or one-hot held. A row
    holding +inf or only -inf is NaN (as the log-softmax of torch and JAX)."""
    batch = tuple(z.shape[:-1])
    n = math.prod(batch)
    if z.ndim > 2 and ax == z.ndim - 1 and n:
        # (T, B, A) time-major logits as rows of actions (a reshape of the batch axes, a view
        # of a contiguous array): torch's kernel moves any action axis but 1 to axis 1, a
        # strided layout that costs it more than the rows. (Not for an empty batch: Dask
        # refuses to reshape one.)
        out = xp.nll_logits(xp.reshape(z, (n, z.shape[-1])), xp.reshape(actions, (n,)), axis=-1)
        return xp.reshape(out, batch)
    return xp.nll_logits(z, actions, axis=ax)


def _neg_entropy(xp, z, ax):
    """``sum p log p`` along ``ax``; 0·log 0 = 0 with a finite gradient (-inf logits allowed).

    The log-softmax is ``(z - max) - log(sum(exp(z - max)))`` with the (gradient-free)
    maximum subtracted first, on every backend (the generic primitive, torch's kernels and
    ``jax.nn.log_softmax`` keep that order): ``z - max`` is exact for the large entries, so
    logits of 1e4 keep full relative precision in the entropy.

    The gradient is written out (the ``custom_vjp`` primitive: ``torch.autograd.Function``,
    ``jax.custom_vjp``; the generic namespaces differentiate the forward body):
    ``d/dz_j sum_i p_i log p_i = p_j (log p_j - h)`` with ``h`` the negative entropy, from the
    probabilities and the masked log-probabilities the forward pass keeps (no autodiff graph
    of the log-softmax, the exponential, the select and the product).
    """
    return xp.custom_vjp(_neg_entropy_fwd, _neg_entropy_bwd, (ax,), z)


def _neg_entropy_terms(xp, z, ax):
    """``(p, s)``: the softmax and the log-softmax with 0 where ``p`` is 0 (0 log 0 = 0; a
    NaN probability keeps its NaN, as ``p == 0`` is False for NaN)."""
    logp = xp.log_softmax(z, axis=ax)
    p = xp.exp(logp)
    return p, xp.where(p == 0, 0.0, logp)


def _neg_entropy_fwd(xp, static, needs, z):
    """``custom_vjp`` forward of :func:`_neg_entropy`: ``h = sum p s`` and, when the gradient
    is wanted, the residuals ``(p, s, h)`` (``h`` with the action axis kept)."""
    (ax,) = static
    p, s = _neg_entropy_terms(xp, z, ax)
    h = xp.sum(p * s, axis=ax)
    # h kept with the action axis, as the backward pass broadcasts it (a residual distinct
    # from the output: torch marks the residuals non-differentiable)
    return h, (None if needs is None else (p, s, xp.expand_dims(h, axis=ax)))


def _neg_entropy_bwd(xp, static, needs, res, g):
    """``custom_vjp`` backward of :func:`_neg_entropy`: ``p (s - h) g``, scaled in place in
    the fresh ``s - h``: the residuals stay intact (a second backward through one call,
    ``retain_graph=True``, is allowed)."""
    if res is None or res[0] is None:
        return (None,)
    (ax,) = static
    p, s, h = res
    d = xp.scale_consumed(s - h, p)
    return (xp.scale_consumed(d, xp.expand_dims(g, axis=ax)),)


_neg_entropy_bwd.consumes_residuals = False


@check.entry
@group_doc
def policy_gradient_loss(logits: ArrayT, actions: ArrayT, advantages: ArrayT, *,
                         weight: ArrayT | float | None = None, axis: int | None = -1,
                         mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                         group: Group = None) -> ArrayT:
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
    {group}

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

    Example:
        >>> import numpy as np, losses
        >>> logits = np.zeros((2, 2))  # uniform policy: log π(a) = -log 2
        >>> out = losses.policy_gradient_loss(logits, np.array([0, 1]), np.array([1.0, 2.0]))
        >>> round(float(out), 4), round(float(1.5 * np.log(2)), 4)  # mean(A) log 2
        (1.0397, 1.0397)
    """
    xp = namespace(logits=logits, actions=actions, advantages=advantages, weight=weight)
    group = xp.check_group(group)
    ax, n_actions, shape = _policy_setup(xp, logits, actions, axis, "policy_gradient_loss")
    check.same_shape(actions, advantages, "actions", "advantages")
    _weight_options(weight, shape, "actions", mean_over, reduction)
    _, out_dtype, (z, adv, w) = float_args(xp, logits, advantages, weight,
                                           names=("logits", "advantages", "weight"))
    _actions_check(xp, actions, n_actions)
    per = _neg_log_prob(xp, z, actions, ax) * xp.stop_gradient(adv)
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def entropy_loss(logits: ArrayT, *, weight: ArrayT | float | None = None, axis: int | None = -1,
                 mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                 group: Group = None) -> ArrayT:
    r"""Negative entropy of a softmax policy (minimising it encourages exploration).

    .. math:: \ell_t = -H(\pi_t) = \sum_a \pi_t(a)\log\pi_t(a), \qquad \pi_t = \operatorname{softmax}(z_t)

    ``0 log 0 = 0``: logits of ±1e4 and ``-inf`` logits (masked, invalid actions) give a
    finite value and gradient. The gradient ``π (log π − Σ π log π)`` is written out (a
    ``torch.autograd.Function`` / ``jax.custom_vjp``): there is no double backward
    (``create_graph=True``, e.g. a gradient penalty) through it on torch.

    Args:
        logits: shape ``(..., A)`` (action axis ``axis``, default last).
        weight: optional per-step weights of ``logits``' shape without the action axis
            (broadcastable), or a Python number.
        axis: the action axis.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

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

    Example:
        >>> import numpy as np, losses
        >>> round(float(losses.entropy_loss(np.zeros((1, 4)))), 4), round(-float(np.log(4)), 4)  # uniform
        (-1.3863, -1.3863)
        >>> round(abs(float(losses.entropy_loss(np.array([[20.0, 0.0, 0.0, 0.0]])))), 4)  # near-deterministic
        0.0
    """
    xp = namespace(logits=logits, weight=weight)
    group = xp.check_group(group)
    _axis_arg(axis)
    check.floating(xp, logits, "logits")
    check.ndim_at_least(logits, 1, "logits")
    ax = class_axis(logits, axis, "logits")
    shape = tuple(s for i, s in enumerate(logits.shape) if i != ax)
    _weight_options(weight, shape, "logits without the action axis", mean_over, reduction)
    _, out_dtype, (z, w) = float_args(xp, logits, weight, names=("logits", "weight"))
    return reduce(xp, _neg_entropy(xp, z, ax), reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


@check.entry
@group_doc
def actor_critic_loss(logits: ArrayT, actions: ArrayT, values: ArrayT, returns: ArrayT, *,
                      advantages: ArrayT | None = None, value_coef: float = 0.5,
                      entropy_coef: float = 0.01, weight: ArrayT | float | None = None,
                      axis: int | None = -1, mean_over: MeanOver = "weights",
                      reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Advantage actor-critic (A2C/A3C) loss: policy gradient + value regression − entropy bonus.

    .. math::
        \ell_t = -\log\pi(a_t\mid s_t)\,\operatorname{sg}(A_t)
                 + c_v\,\big(\operatorname{sg}(R_t) - V(s_t)\big)^2
                 - c_e\,H(\pi_t),
        \qquad A_t = R_t - V(s_t) \text{ unless given}

    The returns and the advantages are held constant (stop-gradient); the value term is the
    plain squared error (torch ``mse_loss``, no ½). With ``entropy_coef != 0`` the entropy
    term's gradient is :func:`entropy_loss`'s written-out one (on torch: no double backward).

    Args:
        logits: policy logits ``(..., A)``.
        actions: integer actions, ``logits``' shape without the action axis.
        values: value predictions ``V(s_t)`` (differentiable), shape of ``actions``.
        returns: value targets ``R_t`` (e.g. :func:`lambda_returns` or n-step returns);
            integer and bool arrays are accepted and cast (the library's policy).
        advantages: optional advantages (e.g. GAE); default ``returns - values``.
        value_coef: c_v >= 0, finite.
        entropy_coef: c_e, finite (usually >= 0; 0 disables the bonus).
        weight: optional per-step weights (broadcastable to ``actions``), or a Python number.
        axis: action axis of ``logits``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

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

    Example:
        >>> import numpy as np, losses
        >>> logits, actions = np.zeros((2, 2)), np.array([0, 1])  # uniform policy
        >>> values, returns = np.array([0.5, 1.0]), np.array([1.0, 1.0])  # A = R - V = (0.5, 0)
        >>> out = losses.actor_critic_loss(logits, actions, values, returns, entropy_coef=0.0,
        ...                                reduction="none")
        >>> np.round(out, 4)  # 0.5 log 2 + 0.5 * 0.5², then 0
        array([0.4716, 0.    ])
        >>> round(float(losses.actor_critic_loss(logits, actions, values, returns)), 4)  # - 0.01 log 2
        0.2289
    """
    xp = namespace(logits=logits, actions=actions, values=values, returns=returns,
                   advantages=advantages, weight=weight)
    group = xp.check_group(group)
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
    diff = ret - v
    adv = xp.stop_gradient(diff if adv is None else adv)
    per = _neg_log_prob(xp, z, actions, ax) * adv + value_coef * (diff * diff)
    if entropy_coef:
        per = per + entropy_coef * _neg_entropy(xp, z, ax)
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


def _clipped_surrogate_loss(xp, log_ratio, adv, clip_range):
    """``-min(ρ A, clip(ρ, 1-ε, 1+ε) A)`` with ``ρ = exp(log_ratio)``, without overflow.

    For ``A >= 0`` it is ``-A min(ρ, 1+ε)``: ρ matters only up to ``1+ε``, so the exponent is
    capped (at the largest one whose exponential has room to spare): nothing overflows, a huge
    ratio gives ``-(1+ε) A`` with a zero gradient, ``A = 0`` gives 0. For ``A < 0`` it is
    ``-A max(ρ, 1-ε)``, unbounded in ρ: ``-A ρ`` is the plain product below the cap and
    ``exp(log ρ + log|A|)`` above it (value and gradient finite wherever the product is). The
    subgradients are torch's (``torch.clamp`` passes the gradient on the closed interval
    ``[1-ε, 1+ε]``, so at ``ρ = 1 ± ε`` the gradient is ``-A ρ``); NaN goes through.
    One exponential serves every branch, and every branch that is not taken sees harmless
    arguments (double where): its gradient is an exact 0.
    """
    lo, hi = 1.0 - clip_range, 1.0 + clip_range
    cap = math.log(xp.finfo(log_ratio.dtype).max) - 2.0
    negative = adv < 0
    large = log_ratio > cap
    huge = large & negative  # the product -A ρ goes through logarithms
    neg_adv = -adv
    log_abs = xp.log(xp.where(huge, neg_adv, 1.0))
    e = xp.exp(xp.where(huge, log_ratio + log_abs, xp.where(large, cap, log_ratio)))
    # A < 0: max(ρ, 1-ε) (ρ < 1-ε compares the exact exp as the formula does); A >= 0:
    # min(ρ, 1+ε), where a capped exponent is above 1+ε as the ratio is. The selects test
    # the sparse clipped elements, not the sign of A (torch's select is fastest on masks
    # that are mostly one value)
    clipped = xp.where(negative & (e < lo), lo, xp.where((e > hi) & ~negative, hi, e))
    return xp.where(huge, e, neg_adv * clipped)


def _normalized(xp, adv, group):
    """``(A - mean) / (std + 1e-8)`` with the unbiased std, over the global batch of ``group``
    (the local array for ``group=None``)."""
    if group is None:
        return (adv - xp.mean(adv)) / (xp.std(adv, correction=1) + 1e-8)
    n = global_count(xp, adv, numel(adv), group)
    mean = global_sum(xp, adv, group) / n
    centred = adv - mean
    var = global_sum(xp, centred * centred, group) / (n - 1)
    return centred / (xp.sqrt(var) + 1e-8)


@check.entry
@group_doc
def ppo_clip_loss(log_prob: ArrayT, advantages: ArrayT, *, old_log_prob: ArrayT | None = None,
                  clip_range: float = 0.2, normalize_advantages: bool = False,
                  weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                  reduction: Reduction = "mean", group: Group = None) -> ArrayT:
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
        normalize_advantages: standardise the advantages over all elements first (of the
            global batch with ``group``), ``(A − mean) / (std + 1e-8)`` with the unbiased std (stable-baselines3 PPO's
            ``normalize_advantage=True``, its default). Off by default (the paper).
        weight: optional per-step weights broadcastable to ``log_prob``, or a Python number.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

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

    Example:
        >>> import numpy as np, losses
        >>> log_ratio = np.log(np.array([1.5, 0.5]))
        >>> losses.ppo_clip_loss(log_ratio, np.array([1.0, -1.0]), reduction="none")  # clipped at 1.2, 0.8
        array([-1.2,  0.8])
        >>> lp = np.array([-0.3, -1.2])  # on-policy (ratio 1): -mean(A)
        >>> float(losses.ppo_clip_loss(lp, np.array([1.0, 3.0]), old_log_prob=lp))
        -2.0
    """
    xp = namespace(log_prob=log_prob, advantages=advantages, old_log_prob=old_log_prob, weight=weight)
    group = xp.check_group(group)
    check.real_number(clip_range, "clip_range", low=0, high=1, high_open=True)
    check.flag(normalize_advantages, "normalize_advantages")
    check.floating(xp, log_prob, "log_prob")
    check.same_shape(log_prob, advantages, "log_prob", "advantages")
    check.same_shape(log_prob, old_log_prob, "log_prob", "old_log_prob")
    _weight_options(weight, log_prob.shape, "log_prob", mean_over, reduction)
    least = 2 if group is None else 1  # with a group: 2 in the global batch is not checkable here
    if normalize_advantages and numel(advantages) < least:
        raise ValueError(f"normalize_advantages needs at least {least} advantage{'s' if least > 1 else ''}"
                         f"{'' if group is None else ' per group member'}, got shape {tuple(advantages.shape)}")
    _, out_dtype, (lp, adv, old, w) = float_args(
        xp, log_prob, advantages, old_log_prob, weight,
        names=("log_prob", "advantages", "old_log_prob", "weight"))
    log_ratio = lp if old is None else lp - xp.stop_gradient(old)
    adv = xp.stop_gradient(adv)
    if normalize_advantages:
        adv = _normalized(xp, adv, group)
    per = _clipped_surrogate_loss(xp, log_ratio, adv, float(clip_range))
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


# --------------------------------------------------------------------- Q-learning family ----
_Q_RETURNS = """
    Returns:
        A scalar, or the per-transition loss of ``a_tm1``'s shape for ``reduction="none"``,
        in the promoted floating dtype of the inputs.
"""

_Q_RAISES = """
    Raises:
        ValueError: shape mismatches (Q-value arrays of ``q_tm1``'s shape, actions of its
            shape without the action axis, ``r_t``/``discount_t``/``weight`` broadcastable to
            the actions), an empty action axis, bad ``axis``/``criterion``/``delta``/
            ``mean_over``/``reduction``, a ``discount_t`` number outside [0, 1]; eagerly,
            actions outside ``[0, A)`` and ``discount_t`` arrays outside [0, 1] or NaN.
        TypeError: non-integer actions, non-floating Q-values, complex arguments,
            ``r_t``/``discount_t`` neither a number nor an array, a non-bool
            ``stop_target_gradients``, mixed array frameworks.

"""

_Q_ARGS = """\
        r_t: rewards, broadcastable to ``a_tm1``, or a Python number (integer and bool
            rewards are cast to the floating dtype, the library's policy).
        discount_t: discounts γ_t in [0, 1] (0 at episode ends), broadcastable to ``a_tm1``,
            or a Python number.
"""

_Q_COMMON = """\
        axis: the action axis of the Q-value arrays (default -1, rlax's layout).
        criterion: ``"mse"`` (``δ²``, as :func:`td_loss`: torch ``mse_loss``, twice rlax's
            ``l2_loss``) or ``"huber"`` (``rlax.huber_loss(δ, delta)``; SB3 DQN's
            ``smooth_l1_loss`` for ``delta=1``).
        delta: Huber threshold δ > 0 (``criterion="huber"`` only).
        weight: optional per-transition weights (prioritised-replay importance weights)
            broadcastable to ``a_tm1``, or a Python number.
        stop_target_gradients: hold the target constant (default, rlax's default);
            ``False`` lets gradients reach the bootstrap Q-values.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
"""


def _q_doc(f):
    f.__doc__ = (f.__doc__.replace("    {q_args}\n", _Q_ARGS).replace("    {q_common}\n", _Q_COMMON)
                 .replace("    {q_returns}\n", _Q_RETURNS).replace("    {q_raises}\n", _Q_RAISES)) \
        if f.__doc__ else f.__doc__
    return f


def _q_setup(fname, q_tm1, a_tm1, r_t, discount_t, q_arrays, a_arrays, *, axis, criterion, delta, weight,
             stop_target_gradients, mean_over, reduction, group):
    """Checks and casts of a one-step Q-learning-style loss: ``q_tm1`` ``(..., A)`` with its
    actions ``a_tm1`` ``(...)``, bootstrap Q-value arrays ``q_arrays`` ``((array, name), ...)``
    of ``q_tm1``'s shape and further integer actions ``a_arrays`` of ``a_tm1``'s shape.

    Returns ``(xp, group, ax, out_dtype, q_taken, r, g, qs, w)``: ``q_taken`` the Q-values of
    ``q_tm1`` at ``a_tm1``. The actions' range is checked by the gathers that read them
    (``take_classes``), ``a_arrays`` by the caller's."""
    numbers = (_number_or_array(r_t, "r_t"), _number_or_array(discount_t, "discount_t"))
    xp = namespace(q_tm1=q_tm1, a_tm1=a_tm1, r_t=r_t, discount_t=discount_t, weight=weight,
                   **{name: x for x, name in (*q_arrays, *a_arrays)})
    group = xp.check_group(group)
    check.choice(criterion, "criterion", ("mse", "huber"))
    check.real_number(delta, "delta", low=0, low_open=True)
    check.flag(stop_target_gradients, "stop_target_gradients")
    _axis_arg(axis)
    ax, n_actions, shape = class_target(xp, q_tm1, a_tm1, axis, fname, "q_tm1", "a_tm1", "action")
    if n_actions == 0:
        raise ValueError(f"{fname}: the action axis {ax} of q_tm1 must not be empty, got shape {tuple(q_tm1.shape)}")
    for x, name in q_arrays:
        check.floating(xp, x, name)
        check.same_shape(q_tm1, x, "q_tm1", name)
    for x, name in a_arrays:
        check.integer(xp, x, name)
        check.same_shape(a_tm1, x, "a_tm1", name)
    _weight_options(weight, shape, "a_tm1", mean_over, reduction)
    for x, name, number in ((r_t, "r_t", numbers[0]), (discount_t, "discount_t", numbers[1])):
        if not number and x.shape != shape:
            check.broadcastable(x, name, shape, "a_tm1")
    if numbers[1]:
        check.real_number(discount_t, "discount_t", low=0, high=1)
    names = ("q_tm1", "r_t", "discount_t", "weight", *(name for _, name in q_arrays))
    _, out_dtype, (q, r, g, w, *qs) = _floats_known(
        xp, q_tm1, (r_t, discount_t, weight, *(x for x, _ in q_arrays)),
        (*numbers, weight is not None and is_number(weight), *(False for _ in q_arrays)), names)
    if not numbers[1]:
        check.values_in(xp, xp.stop_gradient(g), "discount_t", 0, 1)
    q_taken = check.take_classes(xp, q, a_tm1, ax, "a_tm1")
    return xp, group, ax, out_dtype, q_taken, r, g, qs, w


def _greedy(xp, value, selector, ax):
    """``value`` at the first maximiser of ``selector`` along ``ax`` (NaN if the selector
    holds a NaN). A gather, so a gradient reaching ``value`` goes to that one action: ties
    are broken towards the first maximiser on every backend."""
    index = xp.argmax(selector, axis=ax)
    out = xp.take_class(value, index, axis=ax)
    # argmax takes NaN for the maximum (the first NaN of a row, on NumPy, torch, JAX, CuPy and
    # Dask alike): the selector at the maximiser is NaN exactly where its row holds one. A
    # gather and a test per row, where a maximum over the action axis reads the selector
    # again (torch's reductions over a short inner axis cost several times a gather)
    top = xp.take_class(selector, index, axis=ax)
    return xp.where(xp.isnan(top), top, out)


def _q_loss(xp, q_taken, r, g, bootstrap, w, stop_target_gradients, criterion, delta, reduction,
            mean_over, out_dtype, group):
    return _td_criterion(xp, q_taken, r + g * bootstrap, w, stop_target_gradients, criterion, delta, reduction,
                         mean_over, out_dtype, group)


@check.entry
@group_doc
@_q_doc
def q_learning_loss(q_tm1: ArrayT, a_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float, q_t: ArrayT, *,
                    axis: int | None = -1, criterion: TDCriterion = "mse", delta: float = 1.0,
                    weight: ArrayT | float | None = None, stop_target_gradients: bool = True,
                    mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Q-learning (DQN) loss: the TD error of the taken action against the greedy bootstrap.

    .. math::
        \delta = \operatorname{sg}\!\big(r_t + \gamma_t \max_a q_t(a)\big) - q_{t-1}(a_{t-1}),
        \qquad \ell = \delta^2 \ (\texttt{"mse"}) \ \text{or}\ \operatorname{huber}_\delta(\delta)

    Batched: ``q_tm1`` and ``q_t`` are ``(..., A)`` (any leading batch axes), ``a_tm1`` is
    ``(...)``. The maximum is a gather at the first maximiser (with
    ``stop_target_gradients=False`` its gradient goes to that one action; ``jnp.max`` splits
    it between ties).

    Args:
        q_tm1: Q-values at time t-1, ``(..., A)``, floating (differentiable).
        a_tm1: integer actions taken at time t-1, ``q_tm1``'s shape without the action axis.
    {q_args}
        q_t: Q-values at time t (a target network's), ``q_tm1``'s shape.
    {q_common}
    {group}
    {q_returns}
    {q_raises}
    References: Watkins & Dayan 1992; Mnih et al. 2015 (DQN).

    Peer twins: ``jax.vmap(rlax.q_learning)(q_tm1, a_tm1, r_t, discount_t, q_t)`` is the TD
    error δ: ``rlax.l2_loss(δ) == 0.5 * q_learning_loss(..., reduction="none")``,
    ``rlax.huber_loss(δ, delta) == q_learning_loss(..., criterion="huber", delta=delta,
    reduction="none")``; stable-baselines3 DQN ``F.smooth_l1_loss(current_q_values,
    target_q_values)``: ``criterion="huber", delta=1.0`` with ``discount_t = gamma * (1 - dones)``.

    Example:
        >>> import numpy as np, losses
        >>> q_tm1 = np.array([[1.0, 2.0], [0.5, 0.0]])
        >>> q_t = np.array([[3.0, 4.0], [1.0, -1.0]])
        >>> float(losses.q_learning_loss(q_tm1, np.array([1, 0]), 1.0, 0.5, q_t, reduction="sum"))
        2.0
    """
    xp, group, ax, out_dtype, q_taken, r, g, (qn,), w = _q_setup(
        "q_learning_loss", q_tm1, a_tm1, r_t, discount_t, ((q_t, "q_t"),), (), axis=axis, criterion=criterion,
        delta=delta, weight=weight, stop_target_gradients=stop_target_gradients, mean_over=mean_over,
        reduction=reduction, group=group)
    if stop_target_gradients and numel(qn):
        # the target is held constant: its maximum is all that is needed (the value at the
        # first maximiser, NaN where a row holds one), without an argmax and a gather (an
        # empty batch takes the gather: Dask refuses a maximum over nothing)
        bootstrap = xp.max(xp.stop_gradient(qn), axis=ax)
    else:
        bootstrap = _greedy(xp, qn, xp.stop_gradient(qn), ax)
    return _q_loss(xp, q_taken, r, g, bootstrap, w, stop_target_gradients, criterion, delta, reduction,
                   mean_over, out_dtype, group)


@check.entry
@group_doc
@_q_doc
def double_q_learning_loss(q_tm1: ArrayT, a_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float,
                           q_t_value: ArrayT, q_t_selector: ArrayT, *, axis: int | None = -1,
                           criterion: TDCriterion = "mse", delta: float = 1.0, weight: ArrayT | float | None = None,
                           stop_target_gradients: bool = True, mean_over: MeanOver = "weights",
                           reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Double Q-learning loss: the bootstrap action is chosen by one network, valued by another.

    .. math::
        \delta = \operatorname{sg}\!\big(r_t + \gamma_t\, q^{value}_t(a^*)\big) - q_{t-1}(a_{t-1}),
        \qquad a^* = \operatorname{argmax}_a q^{selector}_t(a)

    (first maximiser on ties), ``ℓ = δ²`` or ``huber_δ(δ)``. Double DQN (van Hasselt et al.
    2016): ``q_t_value`` from the target network, ``q_t_selector`` from the online network.
    The selector never receives a gradient (an argmax); a NaN in it makes the target NaN.

    Args:
        q_tm1: Q-values at time t-1, ``(..., A)``, floating (differentiable).
        a_tm1: integer actions taken at time t-1, ``q_tm1``'s shape without the action axis.
    {q_args}
        q_t_value: Q-values at time t that value the bootstrap action, ``q_tm1``'s shape.
        q_t_selector: Q-values at time t that select it (argmax), ``q_tm1``'s shape.
    {q_common}
    {group}
    {q_returns}
    {q_raises}
    References: van Hasselt 2010; van Hasselt, Guez & Silver 2016 (Double DQN).

    Peer twins: ``jax.vmap(rlax.double_q_learning)(q_tm1, a_tm1, r_t, discount_t, q_t_value,
    q_t_selector)`` is δ (``rlax.l2_loss(δ) == 0.5 * double_q_learning_loss(...,
    reduction="none")``).

    Example:
        >>> import numpy as np, losses
        >>> q_tm1 = np.array([[1.0, 2.0]])
        >>> value, selector = np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]])  # selects action 0
        >>> float(losses.double_q_learning_loss(q_tm1, np.array([1]), 1.0, 0.5, value, selector))
        0.25
    """
    xp, group, ax, out_dtype, q_taken, r, g, (qv, qs), w = _q_setup(
        "double_q_learning_loss", q_tm1, a_tm1, r_t, discount_t, ((q_t_value, "q_t_value"),
                                                                  (q_t_selector, "q_t_selector")), (),
        axis=axis, criterion=criterion, delta=delta, weight=weight, stop_target_gradients=stop_target_gradients,
        mean_over=mean_over, reduction=reduction, group=group)
    return _q_loss(xp, q_taken, r, g, _greedy(xp, qv, xp.stop_gradient(qs), ax), w, stop_target_gradients,
                   criterion, delta, reduction, mean_over, out_dtype, group)


@check.entry
@group_doc
@_q_doc
def sarsa_loss(q_tm1: ArrayT, a_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float, q_t: ArrayT,
               a_t: ArrayT, *, axis: int | None = -1, criterion: TDCriterion = "mse", delta: float = 1.0,
               weight: ArrayT | float | None = None, stop_target_gradients: bool = True,
               mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""SARSA loss: the TD error against the Q-value of the next action actually taken.

    .. math::
        \delta = \operatorname{sg}\!\big(r_t + \gamma_t\, q_t(a_t)\big) - q_{t-1}(a_{t-1}),
        \qquad \ell = \delta^2 \ \text{or}\ \operatorname{huber}_\delta(\delta)

    Args:
        q_tm1: Q-values at time t-1, ``(..., A)``, floating (differentiable).
        a_tm1: integer actions taken at time t-1, ``q_tm1``'s shape without the action axis.
    {q_args}
        q_t: Q-values at time t, ``q_tm1``'s shape.
        a_t: integer actions taken at time t, ``a_tm1``'s shape.
    {q_common}
    {group}
    {q_returns}
    {q_raises}
    References: Rummery & Niranjan 1994; Sutton & Barto 2018, sec. 6.4.

    Peer twins: ``jax.vmap(rlax.sarsa)(q_tm1, a_tm1, r_t, discount_t, q_t, a_t)`` is δ
    (``rlax.l2_loss(δ) == 0.5 * sarsa_loss(..., reduction="none")``).

    Example:
        >>> import numpy as np, losses
        >>> q_tm1, q_t = np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]])
        >>> float(losses.sarsa_loss(q_tm1, np.array([0]), 0.0, 0.5, q_t, np.array([0])))
        0.25
    """
    xp, group, ax, out_dtype, q_taken, r, g, (qn,), w = _q_setup(
        "sarsa_loss", q_tm1, a_tm1, r_t, discount_t, ((q_t, "q_t"),), ((a_t, "a_t"),), axis=axis,
        criterion=criterion, delta=delta, weight=weight, stop_target_gradients=stop_target_gradients,
        mean_over=mean_over, reduction=reduction, group=group)
    return _q_loss(xp, q_taken, r, g, check.take_classes(xp, qn, a_t, ax, "a_t"), w, stop_target_gradients,
                   criterion, delta, reduction, mean_over, out_dtype, group)


@check.entry
@group_doc
@_q_doc
def expected_sarsa_loss(q_tm1: ArrayT, a_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float,
                        q_t: ArrayT, probs_a_t: ArrayT, *, axis: int | None = -1, criterion: TDCriterion = "mse",
                        delta: float = 1.0, weight: ArrayT | float | None = None,
                        stop_target_gradients: bool = True, mean_over: MeanOver = "weights",
                        reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Expected SARSA loss: the TD error against the policy's expected next Q-value.

    .. math::
        \delta = \operatorname{sg}\!\Big(r_t + \gamma_t \sum_a \pi_t(a)\, q_t(a)\Big) - q_{t-1}(a_{t-1}),
        \qquad \ell = \delta^2 \ \text{or}\ \operatorname{huber}_\delta(\delta)

    Args:
        q_tm1: Q-values at time t-1, ``(..., A)``, floating (differentiable).
        a_tm1: integer actions taken at time t-1, ``q_tm1``'s shape without the action axis.
    {q_args}
        q_t: Q-values at time t, ``q_tm1``'s shape.
        probs_a_t: the policy's action probabilities π_t at time t, ``q_tm1``'s shape, values
            in [0, 1] (checked eagerly; with ``stop_target_gradients=False`` they receive a
            gradient too).
    {q_common}
    {group}
    {q_returns}
    {q_raises}
    References: van Seijen, van Hasselt, Whiteson & Wiering 2009.

    Peer twins: ``jax.vmap(rlax.expected_sarsa)(q_tm1, a_tm1, r_t, discount_t, q_t,
    probs_a_t)`` is δ (``rlax.l2_loss(δ) == 0.5 * expected_sarsa_loss(..., reduction="none")``).

    Example:
        >>> import numpy as np, losses
        >>> q_tm1, q_t = np.array([[1.0, 2.0]]), np.array([[3.0, 5.0]])
        >>> probs = np.array([[0.5, 0.5]])
        >>> float(losses.expected_sarsa_loss(q_tm1, np.array([0]), 0.0, 0.5, q_t, probs))
        1.0
    """
    xp, group, ax, out_dtype, q_taken, r, g, (qn, p), w = _q_setup(
        "expected_sarsa_loss", q_tm1, a_tm1, r_t, discount_t, ((q_t, "q_t"), (probs_a_t, "probs_a_t")), (),
        axis=axis, criterion=criterion, delta=delta, weight=weight, stop_target_gradients=stop_target_gradients,
        mean_over=mean_over, reduction=reduction, group=group)
    _unit_interval(xp, p, "probs_a_t")
    return _q_loss(xp, q_taken, r, g, xp.sum(qn * p, axis=ax), w, stop_target_gradients, criterion, delta,
                   reduction, mean_over, out_dtype, group)


@check.entry
@group_doc
def td_lambda_loss(v_tm1: ArrayT, r_t: ArrayT, discount_t: ArrayT | float, v_t: ArrayT, *,
                   lambda_: ArrayT | float = 1.0, criterion: TDCriterion = "mse", delta: float = 1.0,
                   weight: ArrayT | float | None = None, stop_target_gradients: bool = True,
                   mean_over: MeanOver = "weights", reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""TD(λ) value loss: the error of ``v_tm1`` against the λ-returns (time-major, axis 0).

    .. math::
        \delta_t = \operatorname{sg}(G^\lambda_t) - v_{t-1}, \qquad
        G^\lambda_t = r_t + \gamma_t\big((1 - \lambda_t)\, v_t + \lambda_t\, G^\lambda_{t+1}\big),
        \quad G^\lambda_T = v_{T-1}

    ``G^λ`` is :func:`lambda_returns` (one implementation, a reverse ``scan``);
    ``ℓ_t = δ_t²`` (``"mse"``) or ``huber_δ(δ_t)``, reduced over every step and batch element.

    Args:
        v_tm1: values of the states at time t-1, shape ``(T, ...)``, floating (differentiable).
        r_t: rewards, ``(T, ...)``; integer and bool rewards are cast (the library's policy).
        discount_t: discounts in [0, 1], ``(T, ...)`` (0 at episode ends), or a Python number.
        v_t: values of the states at time t, ``(T, ...)``, floating.
        lambda_: λ in [0, 1], a number or a per-step array broadcastable to ``r_t``.
        criterion: ``"mse"`` (``δ²``, as :func:`td_loss`; twice rlax's ``l2_loss``) or
            ``"huber"``.
        delta: Huber threshold δ > 0 (``criterion="huber"`` only).
        weight: optional per-step weights (e.g. a mask of valid steps) broadcastable to
            ``r_t``, or a Python number.
        stop_target_gradients: hold the λ-returns constant (default, rlax's default).
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default) or
            ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-step loss ``(T, ...)`` for ``reduction="none"``.

    Raises:
        ValueError: shapes differ, empty time axis, bad ``criterion``/``delta``/
            ``mean_over``/``reduction``, ``discount_t``/``lambda_`` numbers outside [0, 1];
            eagerly, ``discount_t``/``lambda_`` arrays outside [0, 1] or NaN.
        TypeError: non-floating ``v_tm1``/``v_t``, complex arguments, a non-bool
            ``stop_target_gradients``.

    References: Sutton 1988; Sutton & Barto 2018, ch. 12.

    Peer twins: ``jax.vmap(rlax.td_lambda, in_axes=(1, 1, 1, 1, None or 1), out_axes=1)(v_tm1,
    r_t, discount_t, v_t, lambda_)`` is δ (``rlax.l2_loss(δ) == 0.5 * td_lambda_loss(...,
    reduction="none")``).

    Example:
        >>> import numpy as np, losses
        >>> v_tm1, v_t = np.array([0.0, 0.0]), np.array([1.0, 2.0])
        >>> float(losses.td_lambda_loss(v_tm1, np.ones(2), 1.0, v_t, lambda_=0.0, reduction="sum"))
        13.0
    """
    for x, name in ((v_tm1, "v_tm1"), (r_t, "r_t"), (v_t, "v_t")):
        if not hasattr(x, "shape"):
            raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    xp = namespace(v_tm1=v_tm1, r_t=r_t, discount_t=discount_t, v_t=v_t, lambda_=lambda_, weight=weight)
    group = xp.check_group(group)
    check.choice(criterion, "criterion", ("mse", "huber"))
    check.real_number(delta, "delta", low=0, low_open=True)
    xp, out_dtype, (r, g, v, lam), (vp,), w = _sequence_setup(
        r_t, discount_t, v_t, lambda_, stop_target_gradients, "td_lambda_loss", ((v_tm1, "v_tm1"),), weight,
        (tuple(r_t.shape), "r_t", mean_over, reduction))
    return _td_criterion(xp, vp, _lambda_scan(xp, r, g, v, lam), w, stop_target_gradients, criterion, delta,
                         reduction, mean_over, out_dtype, group)


# -------------------------------------------------------------------------------- V-trace ----
def _clip_above(xp, x, c):
    """``min(x, c)`` with torch ``clamp(max=c)``'s subgradient (1 at ``x == c``); NaN stays NaN."""
    return xp.where(x > c, xp.full_like(x, c), x)


def _vtrace_setup(fname, v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_, thresholds, stop_target_gradients,
                  extra_ns=None, weight=None, options=None):
    """The checks of the V-trace functions; ``lam`` is returned as a Python float when
    ``lambda_`` is a number (no full-size array of it)."""
    for value, name in thresholds:
        check.real_number(value, name, low=0, low_open=True)
    xp, out_dtype, (r, g, v, lam), (vp, rho), w = _sequence_setup(
        r_t, discount_t, v_t, lambda_, stop_target_gradients, fname, ((v_tm1, "v_tm1"), (rho_tm1, "rho_tm1")),
        weight, options, number_lambda=True)
    check.nonnegative(xp, xp.stop_gradient(rho), "rho_tm1")
    return xp, out_dtype, r, g, v, lam, vp, rho, w


def _vtrace_targets(xp, v_tm1, v_t, r, g, rho, lam, clip_rho_threshold):
    """``v_s = v_{t-1} + sum_k (prod c) ρ̄ δ``, by a reverse ``scan`` of
    ``acc_t = ρ̄_t δ_t + γ_t c_t acc_{t+1}`` (``acc_T = 0``)."""
    td = _clip_above(xp, rho, clip_rho_threshold) * (r + g * v_t - v_tm1)
    c = _clip_above(xp, rho, 1.0)
    if not (is_number(lam) and lam == 1):  # a Python float or an array; times 1 is exact
        c = c * lam

    def step(acc, x):
        td_i, g_i, c_i = x
        acc = td_i + g_i * c_i * acc
        return acc, acc

    _, errors = xp.scan(step, xp.zeros_like(td[0, ...]), (td, g, c), reverse=True)
    return v_tm1 + errors


@check.entry
def vtrace_returns(v_tm1: ArrayT, v_t: ArrayT, r_t: ArrayT, discount_t: ArrayT | float, rho_tm1: ArrayT, *,
                   lambda_: ArrayT | float = 1.0, clip_rho_threshold: float = 1.0,
                   stop_target_gradients: bool = False) -> ArrayT:
    r"""V-trace targets ``v_s`` (IMPALA) along the time axis (axis 0), by a reverse scan.

    .. math::
        v_s = v_{s-1} + \sum_{t \ge s} \Big(\prod_{i=s}^{t-1} \gamma_i c_i\Big)\,
              \bar\rho_t\,\big(r_t + \gamma_t v_t - v_{t-1}\big), \qquad
        \bar\rho_t = \min(\bar\rho, \rho_t), \quad c_t = \lambda_t \min(1, \rho_t)

    (indices as rlax: ``v_tm1[t]`` is the value of the state before transition t, ``v_t[t]``
    the one after it, ``rho_tm1[t] = π(a|s)/μ(a|s)`` the importance ratio of its action).
    With ``ρ ≡ 1`` (on-policy) and ``lambda_=λ`` these are the λ-returns of
    :func:`lambda_returns`. The clips have torch ``clamp``'s subgradient (1 at the threshold).

    Args:
        v_tm1: values at time t-1, ``(T, ...)``, floating.
        v_t: values at time t, ``(T, ...)``, floating.
        r_t: rewards, ``(T, ...)`` (integer and bool rewards are cast).
        discount_t: discounts in [0, 1], ``(T, ...)``, or a Python number.
        rho_tm1: importance ratios ``ρ >= 0`` (checked eagerly), ``(T, ...)``, floating.
        lambda_: λ in [0, 1], a number or a per-step array broadcastable to ``r_t``.
        clip_rho_threshold: ``ρ̄ > 0`` (IMPALA's default 1.0; ``math.inf`` for no clipping).
        stop_target_gradients: return the targets under stop-gradient (a bool; default False
            as :func:`lambda_returns`; rlax's ``vtrace`` holds them constant by default).

    Returns:
        ``v_s`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, a non-positive threshold, numbers
            outside [0, 1]; eagerly, ``discount_t``/``lambda_`` outside [0, 1] or NaN and
            negative ``rho_tm1``.
        TypeError: non-floating values or ratios, complex arguments, a non-bool
            ``stop_target_gradients``.

    References: Espeholt et al. 2018, "IMPALA", sec. 4.1.

    Peer twins: ``v_tm1 + jax.vmap(rlax.vtrace, in_axes=1, out_axes=1)(v_tm1, v_t, r_t,
    discount_t, rho_tm1, lambda_, clip_rho_threshold)`` (rlax returns the errors
    ``v_s - v_tm1``).

    Example:
        >>> import numpy as np, losses
        >>> v_tm1, v_t = np.array([0.5, 1.0]), np.array([1.0, 2.0])
        >>> r, rho = np.array([1.0, 0.0]), np.array([2.0, 0.5])
        >>> losses.vtrace_returns(v_tm1, v_t, r, 0.9, rho).tolist()
        [2.26, 1.4]
    """
    xp, out_dtype, r, g, v, lam, vp, rho, _ = _vtrace_setup(
        "vtrace_returns", v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_,
        ((clip_rho_threshold, "clip_rho_threshold"),), stop_target_gradients)
    out = _vtrace_targets(xp, vp, v, r, g, rho, lam, float(clip_rho_threshold))
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


def _off_policy_scan(xp, q, v, r, g, c):
    """``G_t = r_t + γ_t (v_t − c_t q_t + c_t G_{t+1})`` by a reverse ``scan`` (time axis 0),
    truncated at the last step: ``G_{T-1} = r_{T-1} + γ_{T-1} v_{T-1}`` (``q_t[T-1]`` and
    ``c_t[T-1]`` are not read: they are replaced by zeros before the scan)."""
    T = v.shape[0]
    zero = xp.zeros_like(v[T - 1:T, ...])
    q = xp.concat([q[:T - 1, ...], zero], axis=0)
    c = xp.concat([c[:T - 1, ...], zero], axis=0)

    def step(acc, x):
        r_i, g_i, c_i, v_i, q_i = x
        acc = r_i + g_i * (v_i - c_i * q_i + c_i * acc)
        return acc, acc

    _, out = xp.scan(step, xp.zeros_like(v[0, ...]), (r, g, c, v, q), reverse=True)
    return out


_OFF_POLICY_TRACES = """    The traces ``c_t`` choose the algorithm (Munos et al. 2016, Table 1): importance
    sampling ``c = π/μ``, Q(λ) (Harutyunyan et al. 2016) ``c = λ``, Tree-backup (Precup et
    al. 2000) ``c = λ π(a|s)``, Retrace ``c = λ min(1, π/μ)``; ``c ≡ 0`` gives the one-step
    target ``r_t + γ_t v_t``, and with ``c ≡ λ`` and ``q_t = v_t`` (on-policy values) the
    λ-returns of :func:`lambda_returns`.

"""


@check.entry
@fill_doc("{traces}", _OFF_POLICY_TRACES)
def general_off_policy_returns(q_t: ArrayT, v_t: ArrayT, r_t: ArrayT, discount_t: ArrayT | float, c_t: ArrayT, *,
                               stop_target_gradients: bool = False) -> ArrayT:
    r"""General off-policy returns (Retrace, Tree-backup, Q(λ), IS) from Q- and state values.

    .. math::
        G_t = r_t + \gamma_t\big(v_t - c_t\, q_t + c_t\, G_{t+1}\big), \qquad
        G_{T-1} = r_{T-1} + \gamma_{T-1}\, v_{T-1}

    Time-major (axis 0), indices as :func:`lambda_returns`: ``v_t[t]`` is the value under the
    target policy π of the state after transition t, ``q_t[t]`` the value under π of the
    action the behaviour policy μ took from that state and ``c_t[t]`` its trace. The last
    step bootstraps from ``v_t[T-1]``: ``q_t[T-1]`` and ``c_t[T-1]`` are not read (pass any
    value; rlax's arrays have length ``T-1`` there).

    {traces}
    The recursion uses the ``scan`` primitive (``jax.lax.scan`` on JAX, a loop elsewhere).

    Args:
        q_t: Q-values under π of the taken actions, ``(T, ...)``, floating.
        v_t: state values under π (e.g. ``E_π q``), ``(T, ...)``, floating.
        r_t: rewards, ``(T, ...)`` (integer and bool rewards are cast).
        discount_t: discounts in [0, 1], ``(T, ...)``, or a Python number.
        c_t: traces ``c >= 0`` (checked eagerly), ``(T, ...)``, floating.
        stop_target_gradients: return the returns under stop-gradient (a bool; default False
            as rlax and :func:`lambda_returns`).

    Returns:
        ``G`` of shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shapes differ, empty time axis, a ``discount_t`` number outside [0, 1];
            eagerly, ``discount_t`` values outside [0, 1] or NaN and negative ``c_t``.
        TypeError: non-floating ``q_t``/``v_t``/``c_t``, complex arguments, ``discount_t``
            neither a number nor an array, a non-bool ``stop_target_gradients``.

    References: Munos, Stepleton, Harutyunyan & Bellemare 2016, "Safe and efficient
    off-policy reinforcement learning", eq. 3-4.

    Peer twins: ``rlax.general_off_policy_returns_from_q_and_v(q_t[:-1], v_t, r_t,
    discount_t, c_t[:-1], stop_target_gradients)`` (one trajectory; ``vmap`` over the batch
    axes).

    Example:
        >>> import numpy as np, losses
        >>> q, v = np.array([1.0, 0.5]), np.array([2.0, 1.0])
        >>> r, c = np.array([1.0, 1.0]), np.array([0.5, 0.5])
        >>> losses.general_off_policy_returns(q, v, r, 0.5, c).tolist()
        [2.125, 1.5]
    """
    xp, out_dtype, (r, g, v, _), (q, c), _ = _sequence_setup(
        r_t, discount_t, v_t, 1.0, stop_target_gradients, "general_off_policy_returns",
        ((q_t, "q_t"), (c_t, "c_t")))
    check.nonnegative(xp, xp.stop_gradient(c), "c_t")
    out = _off_policy_scan(xp, q, v, r, g, c)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


@check.entry
@fill_doc("{traces}", _OFF_POLICY_TRACES)
def general_off_policy_returns_from_action_values(q_t: ArrayT, a_t: ArrayT, r_t: ArrayT,
                                                  discount_t: ArrayT | float, c_t: ArrayT, probs_a_t: ArrayT, *,
                                                  axis: int | None = -1,
                                                  stop_target_gradients: bool = False) -> ArrayT:
    r"""General off-policy returns (Retrace, Tree-backup, Q(λ), IS) from action values.

    .. math::
        G_t = r_t + \gamma_t\Big(\sum_a \pi_t(a)\, q_t(a) - c_t\, q_t(a_t)
              + c_t\, G_{t+1}\Big), \qquad
        G_{T-1} = r_{T-1} + \gamma_{T-1} \sum_a \pi_{T-1}(a)\, q_{T-1}(a)

    :func:`general_off_policy_returns` with ``v_t = Σ_a π_t(a) q_t(a)`` and ``q_t(a_t)``
    gathered (no one-hot). Time-major (axis 0): ``q_t[t]`` are the Q-values of the state
    after transition t, ``a_t[t]`` the behaviour policy's action there, ``probs_a_t[t]`` the
    target policy π there; ``a_t[T-1]`` and ``c_t[T-1]`` do not change the result.

    {traces}
    Args:
        q_t: Q-values ``(T, ..., A)`` (action axis ``axis``, default last), floating.
        a_t: integer actions, ``q_t``'s shape without the action axis (checked eagerly in
            ``[0, A)``).
        r_t: rewards, ``a_t``'s shape (integer and bool rewards are cast).
        discount_t: discounts in [0, 1], ``a_t``'s shape, or a Python number.
        c_t: traces ``c >= 0`` (checked eagerly), ``a_t``'s shape, floating.
        probs_a_t: the target policy's action probabilities π_t, ``q_t``'s shape, values in
            [0, 1] (checked eagerly).
        axis: the action axis of ``q_t`` and ``probs_a_t``.
        stop_target_gradients: return the returns under stop-gradient (a bool; default False
            as rlax).

    Returns:
        ``G`` of ``a_t``'s shape ``(T, ...)`` in the promoted floating dtype.

    Raises:
        ValueError: shape mismatches, empty time or action axis, a bad ``axis``, a
            ``discount_t`` number outside [0, 1]; eagerly, actions outside ``[0, A)``,
            discounts or probabilities outside [0, 1] (or NaN) and negative ``c_t``.
        TypeError: non-integer actions, non-floating ``q_t``/``c_t``/``probs_a_t``, complex
            arguments, a non-bool ``stop_target_gradients``.

    References: Munos, Stepleton, Harutyunyan & Bellemare 2016, "Safe and efficient
    off-policy reinforcement learning", eq. 3-4.

    Peer twins: ``rlax.general_off_policy_returns_from_action_values(q_t, a_t, r_t,
    discount_t, c_t, pi_t=probs_a_t, stop_target_gradients)`` (one trajectory, action axis
    last; ``vmap`` over the batch axes).

    Example:
        >>> import numpy as np, losses
        >>> q = np.array([[1.0, 3.0], [0.0, 2.0]])
        >>> pi = np.array([[0.5, 0.5], [0.5, 0.5]])
        >>> a, r, c = np.array([0, 1]), np.array([1.0, 1.0]), np.array([0.5, 0.5])
        >>> losses.general_off_policy_returns_from_action_values(q, a, r, 0.5, c, pi).tolist()
        [2.125, 1.5]
    """
    fname = "general_off_policy_returns_from_action_values"
    _number_or_array(discount_t, "discount_t")
    xp = namespace(q_t=q_t, a_t=a_t, r_t=r_t, discount_t=discount_t, c_t=c_t, probs_a_t=probs_a_t)
    check.flag(stop_target_gradients, "stop_target_gradients")
    _axis_arg(axis)
    ax, n_actions, shape = class_target(xp, q_t, a_t, axis, fname, "q_t", "a_t", "action")
    check.floating(xp, c_t, "c_t")
    check.floating(xp, probs_a_t, "probs_a_t")
    check.same_shape(q_t, probs_a_t, "q_t", "probs_a_t")
    check.ndim_at_least(a_t, 1, "a_t")
    if n_actions == 0:
        raise ValueError(f"{fname}: the action axis {ax} of q_t must not be empty, got shape {tuple(q_t.shape)}")
    if shape[0] == 0:
        raise ValueError(f"{fname}: the time axis (axis 0) of a_t must not be empty, got shape {shape}")
    check.same_shape(a_t, r_t, "a_t", "r_t")
    check.same_shape(a_t, c_t, "a_t", "c_t")
    if is_number(discount_t):
        check.real_number(discount_t, "discount_t", low=0, high=1)
    else:
        check.same_shape(a_t, discount_t, "a_t", "discount_t")
    _, out_dtype, (q, r, g, c, p) = _floats(xp, q_t, r_t, discount_t, c_t, probs_a_t,
                                            names=("q_t", "r_t", "discount_t", "c_t", "probs_a_t"))
    _unit_interval(xp, g, "discount_t")
    _unit_interval(xp, p, "probs_a_t")
    check.nonnegative(xp, xp.stop_gradient(c), "c_t")
    check.class_indices(xp, a_t, n_actions, "a_t")
    v = xp.sum(p * q, axis=ax)
    q_a = xp.take_class(q, a_t, axis=ax)
    out = _off_policy_scan(xp, q_a, v, _shaped_like(xp, r, v), _shaped_like(xp, g, v), c)
    if stop_target_gradients:
        out = xp.stop_gradient(out)
    return xp.as_array(cast(xp, out, out_dtype))


@check.entry
@group_doc
def vtrace_policy_gradient_loss(logits: ArrayT, actions: ArrayT, v_tm1: ArrayT, v_t: ArrayT, r_t: ArrayT,
                                discount_t: ArrayT | float, rho_tm1: ArrayT, *, lambda_: ArrayT | float = 1.0,
                                clip_rho_threshold: float = 1.0, clip_pg_rho_threshold: float = 1.0,
                                weight: ArrayT | float | None = None, axis: int | None = -1,
                                mean_over: MeanOver = "weights", reduction: Reduction = "mean",
                                group: Group = None) -> ArrayT:
    r"""IMPALA's V-trace policy-gradient loss (time-major, axis 0).

    .. math::
        \ell_t = -\log\pi(a_t\mid s_t)\;\operatorname{sg}(A_t), \qquad
        A_t = \min(\bar\rho_{pg}, \rho_t)\big(r_t + \gamma_t \hat v_{t+1} - v_{t-1}\big), \qquad
        \hat v_{t+1} = \lambda_t v^{s}_{t+1} + (1 - \lambda_t)\, v_{t-1}[t+1]

    with ``v^s`` the V-trace targets (:func:`vtrace_returns`) and ``\hat v_T = v_t[T-1]``.
    The advantages are held constant; the log-probability is a gather minus a logsumexp.

    Args:
        logits: policy logits ``(T, ..., A)`` (action axis ``axis``, default last).
        actions: integer actions ``(T, ...)``, ``logits``' shape without the action axis.
        v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_: as :func:`vtrace_returns`, all
            ``(T, ...)`` (``discount_t``, ``lambda_`` may be numbers).
        clip_rho_threshold: ``ρ̄`` of the V-trace targets (> 0, default 1.0).
        clip_pg_rho_threshold: ``ρ̄_pg`` of the policy-gradient advantage (> 0, default 1.0).
        weight: optional per-step weights broadcastable to ``actions``, or a Python number.
        axis: the action axis of ``logits``.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default) or
            ``"elements"`` (``mean(w l)``, rlax's rule).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
    {group}

    Returns:
        A scalar, or the per-step loss of ``actions``' shape for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, empty time axis, non-positive thresholds, bad
            ``axis``/``mean_over``/``reduction``; eagerly, actions outside ``[0, A)``,
            discounts/λ outside [0, 1], negative ratios.
        TypeError: non-integer actions, non-floating logits/values/ratios, complex arguments.

    References: Espeholt et al. 2018, "IMPALA", sec. 4.2.

    Peer twins: ``rlax.policy_gradient_loss(logits, actions, adv, w)`` (``mean(w l)``:
    ``mean_over="elements"``) with ``adv = rlax.vtrace_td_error_and_advantage(v_tm1, v_t, r_t,
    discount_t, rho_tm1, lambda_, clip_rho_threshold, clip_pg_rho_threshold).pg_advantage``
    (one trajectory; ``vmap`` over the batch axes).

    Example:
        >>> import numpy as np, losses
        >>> logits = np.zeros((2, 2))
        >>> v_tm1, v_t = np.array([0.5, 1.0]), np.array([1.0, 2.0])
        >>> out = losses.vtrace_policy_gradient_loss(logits, np.array([0, 1]), v_tm1, v_t,
        ...                                          np.array([1.0, 0.0]), 0.9, np.array([2.0, 0.5]))
        >>> round(float(out), 6)  # advantages 1.76 and 0.4, log pi = log 1/2
        0.748599
    """
    xp = namespace(logits=logits, actions=actions, v_tm1=v_tm1, v_t=v_t, r_t=r_t, discount_t=discount_t,
                   rho_tm1=rho_tm1, lambda_=lambda_, weight=weight)
    group = xp.check_group(group)
    ax, n_actions, shape = _policy_setup(xp, logits, actions, axis, "vtrace_policy_gradient_loss")
    xp, out_dtype, r, g, v, lam, vp, rho, w = _vtrace_setup(
        "vtrace_policy_gradient_loss", v_tm1, v_t, r_t, discount_t, rho_tm1, lambda_,
        ((clip_rho_threshold, "clip_rho_threshold"), (clip_pg_rho_threshold, "clip_pg_rho_threshold")), False,
        weight=weight, options=(shape, "actions", mean_over, reduction))
    check.same_shape(actions, r_t, "actions", "r_t")
    _, z_dtype, (z,) = float_args(xp, logits, names=("logits",))
    out_dtype = xp.result_type(out_dtype, z_dtype)
    _actions_check(xp, actions, n_actions)
    compute = xp.result_type(z.dtype, r.dtype)
    number_lambda = is_number(lam)
    arrays = (r, g, v, vp, rho) if number_lambda else (r, g, v, vp, rho, lam)
    r, g, v, vp, rho, *lam_array = (xp.stop_gradient(cast(xp, a, compute)) for a in arrays)
    lam = lam if number_lambda else lam_array[0]
    vs = _vtrace_targets(xp, vp, v, r, g, rho, lam, float(clip_rho_threshold))
    T = vp.shape[0]
    if number_lambda and lam == 1:
        # λ v_s + (1 - λ) v_{t-1} is v_s; the 0 · v_{t-1} it drops is NaN only where v_s is
        # too (a non-finite v_{t-1} makes its own V-trace target NaN)
        mixed = vs[1:, ...]
    elif number_lambda:
        mixed = lam * vs[1:, ...] + (1 - lam) * vp[1:, ...]
    else:
        mixed = lam[:T - 1, ...] * vs[1:, ...] + (1 - lam[:T - 1, ...]) * vp[1:, ...]
    nxt = xp.concat([mixed, v[T - 1:, ...]], axis=0)
    adv = _clip_above(xp, rho, float(clip_pg_rho_threshold)) * (r + g * nxt - vp)
    per = _neg_log_prob(xp, cast(xp, z, compute), actions, ax) * xp.stop_gradient(adv)
    return reduce(xp, per, reduction, weight=_as_weight(xp, w, per), mean_over=mean_over, out_dtype=out_dtype, group=group)


# ------------------------------------------------------------------------------------ SAC ----
def _squared_error(xp, x, y):
    """``(x - y)²`` element-wise, ``x`` and ``y`` of one shape: the framework's squared-error
    kernel where it has one (``td_loss``'s, fused forward and backward), else the product."""
    out = xp.fast("td_loss", x, y, None, "none", None, criterion="mse", delta=1.0)
    if out is NotImplemented:
        d = x - y
        out = d * d
    return out


def _min0(xp, a, b):
    """``min(a, b)`` with the gradient on ``a`` at ties (torch ``min(dim)``'s first index) and
    NaN if either is NaN."""
    out = xp.where(b < a, b, a)
    return xp.where(xp.isnan(b), b, out)


def _alpha_arg(alpha):
    """``alpha``: a real number >= 0 or an array (held constant, checked >= 0 eagerly)."""
    if is_number(alpha):
        check.real_number(alpha, "alpha", low=0)


def _sac_arrays(xp, first, first_name, arrays, numbers, weight, mean_over, reduction):
    """``first`` floating; ``arrays`` ``((array, name), ...)`` floating of ``first``'s shape;
    ``numbers`` ``((value, name), ...)`` numbers or arrays broadcastable to it."""
    check.floating(xp, first, first_name)
    for x, name in arrays:
        check.floating(xp, x, name)
        check.same_shape(first, x, first_name, name)
    for x, name in numbers:
        if not is_number(x) and x.shape != first.shape:
            check.broadcastable(x, name, first.shape, first_name)
    _weight_options(weight, first.shape, first_name, mean_over, reduction)
    names = (first_name, *(n for _, n in arrays), "weight", *(n for _, n in numbers))
    return _floats(xp, first, *(x for x, _ in arrays), weight, *(x for x, _ in numbers), names=names)


_SAC_REDUCE_ARGS = """\
        weight: optional per-transition weights broadcastable to {shape}, or a Python number.
        mean_over: what a weighted ``"mean"`` divides by: ``"weights"`` (default,
            ``sum(w l) / sum(w)``) or ``"elements"`` (``mean(w l)``).
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.
"""


@check.entry
@group_doc
def sac_critic_loss(q1_tm1: ArrayT, q2_tm1: ArrayT, r_t: ArrayT | float, discount_t: ArrayT | float,
                    q1_t: ArrayT, q2_t: ArrayT, log_prob_t: ArrayT, *, alpha: ArrayT | float = 0.2,
                    weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                    reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Soft actor-critic critic loss with clipped double-Q targets (stable-baselines3 SAC).

    .. math::
        y = \operatorname{sg}\!\Big(r_t + \gamma_t\big(\min(Q'_1, Q'_2)(s_t, a_t) - \alpha \log\pi(a_t\mid s_t)\big)\Big),
        \qquad \ell = \tfrac12\big((Q_1(s_{t-1}, a_{t-1}) - y)^2 + (Q_2(s_{t-1}, a_{t-1}) - y)^2\big)

    ``a_t ~ π(·|s_t)`` is the next action sampled from the current policy, ``Q'`` the target
    critics. The target is held constant, so the gradient flows into ``q1_tm1`` and
    ``q2_tm1`` only. The mean of ``ℓ`` is SB3's ``0.5 * sum(F.mse_loss(q, y) for q in
    (q1, q2))``.

    Args:
        q1_tm1, q2_tm1: the two critics' Q-values of the replayed transitions, any shape
            (e.g. ``(B,)``), floating.
        r_t: rewards, broadcastable to ``q1_tm1``, or a Python number.
        discount_t: ``γ (1 - done)`` in [0, 1], broadcastable to ``q1_tm1``, or a number.
        q1_t, q2_t: the target critics' Q-values of the next states and next actions,
            ``q1_tm1``'s shape.
        log_prob_t: ``log π(a_t|s_t)`` of the next actions, ``q1_tm1``'s shape.
        alpha: the entropy temperature α >= 0, a number or an array broadcastable to
            ``q1_tm1`` (SB3's ``ent_coef``; held constant). Default 0.2 (SAC's common fixed
            value; SB3 learns it, see :func:`sac_temperature_loss`).
    {sac_reduce}
    {group}

    Returns:
        A scalar, or the per-transition loss of ``q1_tm1``'s shape for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, negative ``alpha``, a ``discount_t`` number outside
            [0, 1], bad ``mean_over``/``reduction``; eagerly, ``discount_t`` arrays outside
            [0, 1] and negative ``alpha`` arrays.
        TypeError: non-floating Q-values or log-probabilities, complex arguments.

    References: Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications" (eq. 5,
    clipped double Q of Fujimoto et al. 2018).

    Peer twins: stable-baselines3 ``SAC.train``'s ``critic_loss`` with ``discount_t = gamma *
    (1 - dones)``, ``alpha = ent_coef``.

    Example:
        >>> import numpy as np, losses
        >>> q1, q2 = np.array([1.0]), np.array([2.0])
        >>> y = 1.0 + 0.5 * (3.0 - 0.2 * -1.0)   # r + gamma (min(3, 4) - alpha log pi)
        >>> out = losses.sac_critic_loss(q1, q2, 1.0, 0.5, np.array([3.0]), np.array([4.0]), np.array([-1.0]))
        >>> bool(np.isclose(out, 0.5 * ((1.0 - y) ** 2 + (2.0 - y) ** 2)))
        True
    """
    for x, name in ((r_t, "r_t"), (discount_t, "discount_t")):
        _number_or_array(x, name)
    _number_or_array(alpha, "alpha")
    xp = namespace(q1_tm1=q1_tm1, q2_tm1=q2_tm1, r_t=r_t, discount_t=discount_t, q1_t=q1_t, q2_t=q2_t,
                   log_prob_t=log_prob_t, alpha=alpha, weight=weight)
    group = xp.check_group(group)
    _alpha_arg(alpha)
    if is_number(discount_t):
        check.real_number(discount_t, "discount_t", low=0, high=1)
    _, out_dtype, (q1, q2, n1, n2, lp, w, r, g, a) = _sac_arrays(
        xp, q1_tm1, "q1_tm1", ((q2_tm1, "q2_tm1"), (q1_t, "q1_t"), (q2_t, "q2_t"),
                                                 (log_prob_t, "log_prob_t")),
        ((r_t, "r_t"), (discount_t, "discount_t"), (alpha, "alpha")), weight, mean_over, reduction)
    _unit_interval(xp, g, "discount_t")
    if not is_number(a):
        check.nonnegative(xp, xp.stop_gradient(a), "alpha")
    # the target is held constant, so its minimum needs no subgradient rule: the standard's
    # minimum (NaN if either critic is NaN) in one pass
    y = xp.stop_gradient(r + g * (xp.minimum(n1, n2) - a * lp))
    both = _squared_error(xp, q1, y) + _squared_error(xp, q2, y)
    if reduction == "none":
        per = 0.5 * both
        return reduce(xp, per, reduction, weight=_as_weight(xp, w, per), mean_over=mean_over, out_dtype=out_dtype,
                      group=group)
    # the sum or mean of 0.5 * both is 0.5 times that of both (scaling by 2**-1 commutes
    # with rounding): the factor goes on the scalar, not on every element and its gradient
    return xp.as_array(0.5 * reduce(xp, both, reduction, weight=_as_weight(xp, w, both), mean_over=mean_over,
                                    out_dtype=out_dtype, group=group))


@check.entry
@group_doc
def sac_actor_loss(log_prob: ArrayT, q1: ArrayT, q2: ArrayT, *, alpha: ArrayT | float = 0.2,
                   weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                   reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Soft actor-critic policy loss (stable-baselines3 SAC).

    .. math:: \ell = \operatorname{sg}(\alpha)\,\log\pi(\tilde a\mid s) - \min\big(Q_1(s, \tilde a), Q_2(s, \tilde a)\big)

    with ``ã ~ π(·|s)`` reparameterised, so the gradient reaches the policy through
    ``log_prob`` and through the Q-values of ``ã``. The minimum's subgradient goes to ``q1``
    at ties (torch ``min(dim)``'s first index); a NaN in either critic gives NaN.

    Args:
        log_prob: ``log π(ã|s)`` of the reparameterised actions, any shape, floating.
        q1, q2: the two critics' Q-values of ``(s, ã)``, ``log_prob``'s shape.
        alpha: the temperature α >= 0, a number or an array broadcastable to ``log_prob``
            (SB3's ``ent_coef``, held constant). Default 0.2.
    {sac_reduce}
    {group}

    Returns:
        A scalar, or the per-sample loss of ``log_prob``'s shape for ``reduction="none"``.

    Raises:
        ValueError: shape mismatches, negative ``alpha``, bad ``mean_over``/``reduction``.
        TypeError: non-floating arguments, complex arguments.

    References: Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications" (eq. 7).

    Peer twins: stable-baselines3 ``SAC.train``'s ``actor_loss = (ent_coef * log_prob -
    min_qf_pi).mean()``.

    Example:
        >>> import numpy as np, losses
        >>> float(losses.sac_actor_loss(np.array([-1.0]), np.array([2.0]), np.array([3.0]), alpha=0.5))
        -2.5
    """
    _number_or_array(alpha, "alpha")
    xp = namespace(log_prob=log_prob, q1=q1, q2=q2, alpha=alpha, weight=weight)
    group = xp.check_group(group)
    _alpha_arg(alpha)
    _, out_dtype, (lp, a1, a2, w, a) = _sac_arrays(
        xp, log_prob, "log_prob", ((q1, "q1"), (q2, "q2")), ((alpha, "alpha"),), weight,
        mean_over, reduction)
    if not is_number(a):
        check.nonnegative(xp, xp.stop_gradient(a), "alpha")
        a = xp.stop_gradient(a)
    per = a * lp - _min0(xp, a1, a2)
    return reduce(xp, per, reduction, weight=_as_weight(xp, w, per), mean_over=mean_over, out_dtype=out_dtype,
                  group=group)


@check.entry
@group_doc
def sac_temperature_loss(log_alpha: ArrayT, log_prob: ArrayT, *, target_entropy: float,
                         weight: ArrayT | float | None = None, mean_over: MeanOver = "weights",
                         reduction: Reduction = "mean", group: Group = None) -> ArrayT:
    r"""Soft actor-critic temperature (entropy-coefficient) loss, in log α (stable-baselines3).

    .. math:: \ell = -\log\alpha \cdot \operatorname{sg}\big(\log\pi(\tilde a\mid s) + \bar{\mathcal H}\big)

    Minimising it raises α when the policy's entropy ``-log π`` is below the target
    ``H̄`` and lowers it above. Only ``log_alpha`` receives a gradient.

    Args:
        log_alpha: log α, an array broadcastable to ``log_prob`` (usually one number, shape
            ``()`` or ``(1,)``: SB3's ``log_ent_coef``), floating (differentiable).
        log_prob: ``log π(ã|s)`` of sampled actions, any shape (held constant).
        target_entropy: the target entropy ``H̄``, a finite real number (SB3's ``"auto"`` is
            ``-dim(action_space)``).
    {sac_reduce}
    {group}

    Returns:
        A scalar, or the per-sample loss of ``log_prob``'s shape for ``reduction="none"``.

    Raises:
        ValueError: ``log_alpha`` that does not broadcast to ``log_prob``, an infinite
            ``target_entropy``, bad ``mean_over``/``reduction``.
        TypeError: non-floating ``log_alpha``/``log_prob``, complex arguments, a
            ``target_entropy`` that is not a real number.

    References: Haarnoja et al. 2018, "Soft Actor-Critic Algorithms and Applications" (eq. 18).

    Peer twins: stable-baselines3 ``SAC.train``'s ``ent_coef_loss = -(log_ent_coef *
    (log_prob + target_entropy).detach()).mean()``.

    Example:
        >>> import numpy as np, losses
        >>> float(losses.sac_temperature_loss(np.array(0.5), np.array([-1.0, -3.0]), target_entropy=-1.0))
        1.5
    """
    xp = namespace(log_alpha=log_alpha, log_prob=log_prob, weight=weight)
    group = xp.check_group(group)
    check.finite_number(target_entropy, "target_entropy")
    check.floating(xp, log_alpha, "log_alpha")
    check.floating(xp, log_prob, "log_prob")
    check.broadcastable(log_alpha, "log_alpha", log_prob.shape, "log_prob")
    _weight_options(weight, log_prob.shape, "log_prob", mean_over, reduction)
    _, out_dtype, (lp, la, w) = float_args(xp, log_prob, log_alpha, weight,
                                           names=("log_prob", "log_alpha", "weight"))
    per = -la * xp.stop_gradient(lp + float(target_entropy))
    if tuple(per.shape) != tuple(lp.shape):
        per = xp.broadcast_to(per, lp.shape)
    return reduce(xp, per, reduction, weight=w, mean_over=mean_over, out_dtype=out_dtype, group=group)


for _f in (sac_critic_loss, sac_actor_loss, sac_temperature_loss):
    _shape = {"sac_critic_loss": "``q1_tm1``"}.get(_f.__name__, "``log_prob``")
    if _f.__doc__:
        _f.__doc__ = _f.__doc__.replace("    {sac_reduce}\n", _SAC_REDUCE_ARGS.replace("{shape}", _shape))
del _f, _shape
