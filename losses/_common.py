"""Small helpers shared by the losses: dtype handling, kink-defined math, class axes."""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable, TypeVar

from . import _validate as check


def cast(xp, x, dtype):
    return x if dtype is None or x.dtype == dtype else xp.astype(x, dtype)


def float_args(xp, first, *others, names=("input",)):
    """Check the dtypes of a call's floating arguments and cast them to one compute dtype.

    ``first`` must be real floating (``TypeError`` naming it otherwise). Each of ``others``
    may be None, a Python number (made a 0-d array of the compute dtype on ``first``'s
    device, as torch accepts a number where it accepts a tensor) or an array of a real dtype:
    floating ones take part in dtype promotion, integer and bool ones are cast to the compute
    dtype (the library's policy for integer/bool targets, rewards and weights). Complex
    arrays, Python bools and anything else are a ``TypeError`` naming the argument.
    float16/bfloat16 are computed in float32 (DESIGN rule 7).

    ``names``: the argument names for the messages, one per argument (or only the first's).

    Returns ``(compute_dtype, out_dtype, [first, *others] cast to compute_dtype)``.
    """
    dtype = getattr(first, "dtype", None)
    if (dtype == xp.float32 or dtype == xp.float64) and hasattr(first, "shape") and not is_number(first) and all(
            o is None or (type(o) is type(first) and o.dtype == dtype) for o in others):
        # the common call: arrays of one type (of the namespace's framework, as namespace()
        # checked; NumPy scalars are numbers) share first's float32/float64 dtype, which the
        # general path below returns as it is
        return dtype, dtype, [first, *others]
    labels = tuple(names) if len(names) == 1 + len(others) else (
        names[0], *(f"argument {i + 2}" for i in range(len(others))))
    check.floating(xp, first, labels[0])
    float_dtypes = [first.dtype]
    for o, label in zip(others, labels[1:]):
        if o is None or is_number(o):
            continue
        check.real_array(xp, o, label)
        if check.is_floating(xp, o):
            float_dtypes.append(o.dtype)
    out_dtype = _promote_floats(xp, float_dtypes)
    compute = xp.float32 if xp.finfo(out_dtype).bits < 32 else out_dtype
    arrays = [None if a is None
              else xp.asarray(float(a), dtype=compute, device=device_of(first)) if is_number(a)
              else cast(xp, a, compute) for a in (first, *others)]
    return compute, out_dtype, arrays


def _promote_floats(xp, dtypes):
    """Promotion among real floating dtypes: the widest; float16 with bfloat16 gives float32.

    Decided from the static dtypes alone (the namespaces' ``result_type`` falls back to a
    framework call for dtypes outside the standard, which ``torch.compile`` cannot trace).
    """
    unique = list(dict.fromkeys(dtypes))
    if len(unique) == 1:
        return unique[0]
    bits = [xp.finfo(d).bits for d in unique]
    widest = max(bits)
    if widest == 16:
        return xp.float32
    return unique[bits.index(widest)]


# ------------------------------------------------------------------ kinks (DESIGN rule 5) ----
# Each helper fixes its subgradient at the kink in code (frameworks disagree there) and lets
# NaN through: a comparison with NaN is False, so the branch taken when it is False is the
# input's own value, never a constant.
def relu0(xp, x):
    """``max(x, 0)`` with gradient 0 at ``x == 0`` (the namespace's primitive)."""
    return xp.relu0(x)


def relu1(xp, x):
    """``max(x, 0)`` with gradient 1 at ``x == 0`` (torch's ``clamp_min(x, 0)``; the
    namespace's primitive)."""
    return xp.relu1(x)


def clamp_min1(xp, x, floor):
    """``max(x, floor)`` for a Python number ``floor``, gradient 1 at ``x == floor`` (torch's
    ``clamp_min``)."""
    return xp.where(x < floor, float(floor), x)


def abs0(xp, x):
    """``|x|`` with gradient 0 at ``x == 0`` (``jnp.abs`` and ``torch.abs`` differ there; the
    namespace's primitive)."""
    return xp.abs0(x)


def min_split(xp, a, b):
    """Element-wise ``minimum``; at a tie the gradient is split 1/2 - 1/2 (torch's rule)."""
    return xp.where(a < b, a, xp.where(a > b, b, 0.5 * (a + b)))


def max_split(xp, a, b):
    """Element-wise ``maximum``; at a tie the gradient is split 1/2 - 1/2 (torch's rule)."""
    return xp.where(a > b, a, xp.where(a < b, b, 0.5 * (a + b)))


# -------------------------------------------------------------- safe math (double where) ----
def sqrt0(xp, s):
    """``sqrt(s)`` for ``s >= 0``: value 0 and gradient 0 at ``s == 0`` (double where)."""
    zero = s <= 0
    return xp.where(zero, 0.0, xp.sqrt(xp.where(zero, 1.0, s)))


def pow0(xp, a, e):
    """``a ** e`` for ``a >= 0`` and a Python number ``e > 0``: value 0 and gradient 0 at
    ``a == 0`` for every ``e`` (double where)."""
    zero = a <= 0
    return xp.where(zero, 0.0, xp.where(zero, 1.0, a) ** e)


def safe_divide(xp, num, den, fill=float("nan")):
    """``num / den`` where ``den != 0``, ``fill`` where ``den == 0``; finite gradient in both
    cases. A NaN ``den`` gives NaN."""
    ok = den != 0
    out = num / xp.where(ok, den, 1)
    return xp.where(ok, out, float(fill))


def l2_norm0(xp, x, axis=-1, keepdims=False):
    """``||x||_2`` along ``axis``: value 0 and gradient 0 at the zero vector."""
    return sqrt0(xp, xp.sum(x * x, axis=axis, keepdims=keepdims))


def p_norm0(xp, v, p, axis=-1, keepdims=False):
    """``||v||_p`` along ``axis`` (``p > 0``): value 0 and gradient 0 at the zero vector."""
    if p == 2:
        return l2_norm0(xp, v, axis, keepdims)
    a = abs0(xp, v)
    if p == 1:
        return xp.sum(a, axis=axis, keepdims=keepdims)
    return pow0(xp, xp.sum(pow0(xp, a, float(p)), axis=axis, keepdims=keepdims), 1.0 / p)


#: norm floor of the L2 normalisation inside the losses (``torch.nn.functional.normalize``)
NORMALIZE_EPS = 1e-12


def l2_normalize(xp, x, eps=NORMALIZE_EPS, axis=-1):
    """``x / max(||x||_2, eps)`` (``torch.nn.functional.normalize``): a zero vector stays 0,
    gradient through the norm where ``||x|| >= eps`` (torch's ``clamp_min``)."""
    return x / normalize_norm(xp, x, eps, axis)


def normalize_norm(xp, x, eps=NORMALIZE_EPS, axis=-1):
    """:func:`l2_normalize`'s divisor ``max(||x||_2, eps)`` along ``axis`` (kept)."""
    s = xp.sum(x * x, axis=axis, keepdims=True)
    zero = s <= 0
    n = xp.sqrt(xp.where(zero, 1.0, s))  # 1 at a zero vector: a finite gradient
    # clamp_min1(sqrt0(s), eps), with one select fewer: a zero vector takes the floor too
    return xp.where(zero | (n < eps), float(eps), n)


def norm_floor(xp, x, axis, eps):
    """``max(||x||_2, eps)`` along ``axis`` (kept), with no gradient through the floor:
    the gradient at and below ``||x|| = eps`` is 0, finite at ``x = 0``."""
    s = xp.sum(x * x, axis=axis, keepdims=True)
    small = s <= eps * eps
    return xp.where(small, float(eps), xp.sqrt(xp.where(small, 1.0, s)))


# ------------------------------------------------------------------------ index grids ----
def device_of(x):
    """The standard's ``x.device``, or None (Dask arrays have none; JAX tracers inside
    ``jax.jit`` raise). None means the framework's default device, where traced arrays live.
    (``array_api_compat.device`` is avoided: its cached type checks make ``torch.compile``
    warn on every trace.)"""
    try:
        return getattr(x, "device", None)
    except Exception:  # noqa: BLE001 - some tracers raise other errors for .device
        return None


def arange_like(xp, x, n):
    """``arange(n)`` (default integer dtype) on the device of ``x``."""
    return xp.arange(n, device=device_of(x))


def eye_mask(xp, x, n):
    """The ``(n, n)`` boolean identity matrix on the device of ``x``."""
    i = arange_like(xp, x, n)
    return xp.expand_dims(i, axis=1) == xp.expand_dims(i, axis=0)


def numel(x):
    """The number of elements of ``x`` (0 for an empty array)."""
    return math.prod(x.shape)


def is_number(x):
    """A real Python/NumPy number that is not a bool."""
    return isinstance(x, Real) and not isinstance(x, bool)


def class_axis(x, axis, name="input"):
    """The class axis: torch's rule (1, or 0 for a 1-D input) when ``axis`` is None."""
    if axis is None:
        return 1 if x.ndim >= 2 else 0
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis must be an int in [{-x.ndim}, {x.ndim - 1}] for {name} of shape {tuple(x.shape)}, got {axis!r}")
    return axis % x.ndim


def log_clamped(xp, p, floor=-100.0):
    """``max(log(p), floor)`` (torch's BCE clamp) with a finite gradient at p == 0; NaN stays
    NaN."""
    bad = p <= 0
    log_p = xp.log(xp.where(bad, 1.0, p))
    return xp.where(bad | (log_p < floor), float(floor), log_p)


def class_target(xp, input, target, axis, what, input_name="input", target_name="target",
                 class_name="class"):
    """Checks of an integer class target against logits: floating ``input`` with a class axis,
    ``target`` of ``input``'s shape without that axis and an integer dtype.

    Returns ``(axis, n_classes, target_shape)``. Value checks of the indices are separate
    (``_validate.class_indices``, eager only).
    """
    check.floating(xp, input, input_name)
    check.ndim_at_least(input, 1, input_name)
    ax = class_axis(input, axis, input_name)
    expected = tuple(s for i, s in enumerate(input.shape) if i != ax)
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{what}: {target_name} must have shape {expected} ({input_name} "
            f"{tuple(input.shape)} without the {class_name} axis {ax}), got {tuple(target.shape)}"
        )
    check.integer(xp, target, target_name)
    return ax, input.shape[ax], expected


_F = TypeVar("_F", bound=Callable[..., Any])


def fill_doc(placeholder: str, text: str) -> Callable[[_F], _F]:
    """A decorator that replaces the line ``    {placeholder}`` of a docstring with ``text``
    (shared Args/Returns sections). Typed, so type checkers keep seeing the signature; a
    docstring stripped by ``python -OO`` is left alone."""
    line = f"    {placeholder}\n"

    def decorate(f: _F) -> _F:
        if f.__doc__:
            f.__doc__ = f.__doc__.replace(line, text)
        return f

    return decorate
