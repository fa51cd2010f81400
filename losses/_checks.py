"""Extra eager-only value checks used by the margin, probabilistic, extras and helper families.

Same contract as :mod:`losses._validate`: value checks run only on concrete arrays (never
under ``jit``/``compile``/``vmap`` or on Dask) and raise ``ValueError`` naming the argument,
the expected values and what was received.
"""
from __future__ import annotations

import math

from ._validate import _concrete, _known


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
    from ._validate import real_number

    real_number(value, name, low=low, high=high, low_open=low_open, high_open=high_open)
    if math.isinf(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
