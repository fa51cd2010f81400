"""Argument checks shared by every loss.

Shape, dtype and argument checks use only static information and always run. Checks on
array *values* (class index in range, probabilities in [0, 1], non-negative variances) run
only when the arrays are concrete (``backends.is_lazy`` is false): under ``jax.jit``,
``torch.compile``, ``vmap`` or on Dask they are skipped, never forced. Every failure raises a
``ValueError``/``TypeError`` that names the argument, what was expected and what was received.
"""
from __future__ import annotations

import math
from numbers import Real

from .backends import is_lazy

REDUCTIONS = ("mean", "sum", "none")


def reduction(value, allowed=REDUCTIONS):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {value!r}")


def choice(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")


def shape_of(x):
    return tuple(x.shape)


def same_shape(a, b, name_a, name_b):
    if a is None or b is None:
        return
    if shape_of(a) != shape_of(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a} {shape_of(a)} "
            f"and {name_b} {shape_of(b)}"
        )


def broadcastable(x, name, shape, shape_name):
    """``x`` must broadcast to ``shape`` (the shape of ``shape_name``) without changing it."""
    if x is None:
        return
    xs = shape_of(x)
    ok = len(xs) <= len(shape) and all(
        a == b or a == 1 for a, b in zip(reversed(xs), reversed(shape))
    )
    if not ok:
        raise ValueError(
            f"{name} of shape {xs} does not broadcast to the shape {tuple(shape)} of {shape_name}"
        )


def ndim_at_least(x, n, name):
    if x.ndim < n:
        raise ValueError(f"{name} must have at least {n} dimension(s), got shape {shape_of(x)}")


def is_floating(xp, x) -> bool:
    return xp.isdtype(x.dtype, "real floating")


def is_integer(xp, x) -> bool:
    return xp.isdtype(x.dtype, "integral")


def floating(xp, x, name):
    if x is None:
        return
    if not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array with a real floating dtype, got {type(x).__name__}")
    if not is_floating(xp, x):
        raise TypeError(f"{name} must have a real floating dtype, got {x.dtype}")


def real_array(xp, x, name):
    """An array of a real dtype (floating, integer or bool); complex and non-arrays are a
    ``TypeError`` naming the argument."""
    if isinstance(x, bool) or not hasattr(x, "dtype") or not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array or a Python number, got {type(x).__name__}")
    if not (is_floating(xp, x) or is_integer(xp, x) or xp.isdtype(x.dtype, "bool")):
        raise TypeError(f"{name} must have a real dtype (floating, integer or bool), got {x.dtype}")


def flag(value, name):
    """A Python bool hyper-parameter."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {value!r}")


def integer(xp, x, name):
    if not is_integer(xp, x):
        raise TypeError(
            f"{name} must hold integer class indices (any integer dtype), got dtype {x.dtype}"
        )


def real_number(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """A Python (or 0-d NumPy) real number hyper-parameter within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, Real) or value != value:
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value!r}")


def _concrete(*arrays):
    return all(a is not None and not is_lazy(a) for a in arrays)


def _known(flag) -> bool:
    """A computed flag can be read now: a concrete array closed over by ``jax.jit`` still
    yields tracers, so the *result* of the check's reduction decides, not just its inputs."""
    return not is_lazy(flag)


def values_in(xp, x, name, low, high, *, what=None):
    """Eager-only: every value of ``x`` lies in [low, high]."""
    if x is None or not _concrete(x) or math.prod(x.shape) == 0 or xp.isdtype(x.dtype, "bool"):
        return
    lo, hi = xp.min(x), xp.max(x)
    if not _known(lo):
        return
    bad_nan = bool(xp.any(xp.isnan(x))) if is_floating(xp, x) else False
    if bad_nan or bool(lo < low) or bool(hi > high):
        got = "a NaN" if bad_nan else f"values in [{float(lo)}, {float(hi)}]"
        raise ValueError(f"{name} must hold {what or 'values'} in [{low}, {high}], got {got}")


def nonnegative(xp, x, name):
    """Eager-only: every value of ``x`` is >= 0."""
    if x is None or not _concrete(x) or math.prod(x.shape) == 0:
        return
    lo = xp.min(x)
    if _known(lo) and bool(lo < 0):
        raise ValueError(f"{name} must be non-negative, got a minimum of {float(lo)}")


def class_indices(xp, target, num_classes, name="target", ignore_index=None, safe=None):
    """Eager-only: integer targets lie in [0, num_classes) except positions == ignore_index.

    ``safe`` (optional): ``target`` with the ignored positions already replaced by a valid
    class; then the check costs one min and one max.
    """
    if not _concrete(target) or math.prod(target.shape) == 0:
        return
    if safe is None:
        safe = target if ignore_index is None else xp.where(target != ignore_index, target, xp.zeros_like(target))
    lo, hi = xp.min(safe), xp.max(safe)
    if not _known(lo) or (int(lo) >= 0 and int(hi) < num_classes):
        return
    bad = xp.logical_or(target < 0, target >= num_classes)
    if ignore_index is not None:
        bad = xp.logical_and(bad, target != ignore_index)
    lo = int(xp.min(xp.where(bad, target, xp.full_like(target, num_classes))))
    hi = int(xp.max(xp.where(bad, target, xp.full_like(target, -1))))
    extra = f" (or ignore_index={ignore_index})" if ignore_index is not None else ""
    raise ValueError(
        f"{name} must hold class indices in [0, {num_classes - 1}]{extra}, "
        f"got out-of-range values between {min(lo, hi)} and {max(lo, hi)}"
    )


def values_among(xp, x, name, allowed):
    """Eager-only: every value of ``x`` is one of the numbers in ``allowed`` (e.g. (-1, 1))."""
    if x is None or not _concrete(x) or math.prod(x.shape) == 0:
        return
    ok = None
    for a in allowed:
        hit = x == a
        ok = hit if ok is None else xp.logical_or(ok, hit)
    bad = xp.logical_not(ok)
    any_bad = xp.any(bad)
    if not _known(any_bad):  # a concrete array closed over by jax.jit still yields tracers
        return
    if bool(any_bad):
        first = xp.reshape(x, (-1,))[xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8))]
        raise ValueError(
            f"{name} must hold only the values {tuple(allowed)}, got {float(first)!r} "
            f"(and {int(xp.sum(xp.astype(bad, xp.int64)))} bad value(s) in total)"
        )


def greater_than(xp, x, name, low):
    """Eager-only: every value of ``x`` is > ``low``."""
    if x is None or not _concrete(x) or math.prod(x.shape) == 0:
        return
    lo = xp.min(x)
    if _known(lo) and bool(lo <= low):
        raise ValueError(f"{name} must be > {low}, got a minimum of {float(lo)}")


def finite_number(value, name, *, low=None, low_open=False, high=None, high_open=False):
    """A finite Python real-number hyper-parameter (``inf`` is refused too)."""
    real_number(value, name, low=low, high=high, low_open=low_open, high_open=high_open)
    if value in (math.inf, -math.inf):  # (math.isinf breaks torch.compile(dynamic=True) traces)
        raise ValueError(f"{name} must be finite, got {value!r}")
