"""JAX harness: arrays from NumPy and back, jax.grad, jax.jit, jax.vmap.

Float64 needs ``jax_enable_x64``; this module never turns it on (that would change the
user's default dtypes): the conformance suite does, for its own process.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import BaseHarness

_DTYPES = {
    "float64": jnp.float64,
    "float32": jnp.float32,
    "float16": jnp.float16,
    "bfloat16": jnp.bfloat16,
}


class Harness(BaseHarness):
    name = "jax"
    has_autodiff = True

    def devices(self):
        return list(jax.devices())

    def device_name(self, device):
        return f"{device.platform}:{device.id}"

    def float_dtypes(self):
        if jax.config.jax_enable_x64:
            return tuple(_DTYPES)
        return ("float32", "float16", "bfloat16")

    def dtype(self, name):
        return _DTYPES[name]

    def asarray(self, a, dtype=None, device=None):
        a = np.asarray(a)
        out = jnp.asarray(a, dtype=_DTYPES[dtype] if dtype is not None else None)
        return jax.device_put(out, device) if device is not None else out

    def to_numpy(self, x):
        x = np.asarray(x.astype(jnp.float32) if x.dtype == jnp.bfloat16 else x)
        return x.astype(np.float64) if x.dtype == np.float16 else x

    def value_and_grad(self, fn, args, argnums):
        return jax.value_and_grad(fn, argnums=tuple(argnums))(*args)

    def compile(self, fn, *, dynamic=False, backend=None):
        return jax.jit(fn)

    def vmap(self, fn, in_axes):
        return jax.vmap(fn, in_axes=tuple(in_axes))

    def scalarize(self, out, v):
        return jnp.sum(out.astype(jnp.float64) * jnp.asarray(v, dtype=jnp.float64))
