"""Index grids on an array's device (used by the metric-learning losses).

``arange`` and the identity mask of size ``n`` created on the device of a given array, with
only array-API calls. Inside ``jax.jit`` the device is ``None`` (JAX places the constant on
the default device, which is where traced arrays live).
"""
from __future__ import annotations

from array_api_compat import device as _device


def arange_like(ns, x, n):
    """``arange(n)`` (default integer dtype) on the device of ``x``."""
    return ns.arange(n, device=_device(x))


def eye_mask(ns, x, n):
    """The ``(n, n)`` boolean identity matrix on the device of ``x``."""
    i = arange_like(ns, x, n)
    return ns.expand_dims(i, axis=1) == ns.expand_dims(i, axis=0)
