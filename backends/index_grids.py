"""Index grids on an array's device (used by the metric-learning losses).

``arange`` and the identity mask of size ``n`` created on the device of a given array, with
only array-API calls. The device is the standard's ``x.device`` attribute, read with
``getattr`` so that arrays without one (Dask) and JAX tracers inside ``jax.jit`` (which raise
``AttributeError``) give ``None``: the framework's default device, where traced arrays live.
(``array_api_compat.device`` is avoided here: its cached type checks make ``torch.compile``
warn on every trace.)
"""
from __future__ import annotations


def _device(x):
    try:
        return getattr(x, "device", None)
    except Exception:  # noqa: BLE001 - some tracers raise other errors for .device
        return None


def arange_like(ns, x, n):
    """``arange(n)`` (default integer dtype) on the device of ``x``."""
    return ns.arange(n, device=_device(x))


def eye_mask(ns, x, n):
    """The ``(n, n)`` boolean identity matrix on the device of ``x``."""
    i = arange_like(ns, x, n)
    return ns.expand_dims(i, axis=1) == ns.expand_dims(i, axis=0)
