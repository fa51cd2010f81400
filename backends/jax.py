"""JAX runtime adapter and native fast paths (the harness side: ``harness/jax.py``).

Float64 needs ``jax_enable_x64``; this module never turns it on (that would change the
user's default dtypes) — the conformance suite does, for its own process.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ._adapter import BaseAdapter
from ._generic import check_index_like
from .collectives import jax_collectives


def _logsumexp(ns, x, axis=-1, keepdims=False):
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


def _log_softmax(ns, x, axis=-1):
    return jax.nn.log_softmax(x, axis=axis)


def _softmax(ns, x, axis=-1):
    return jax.nn.softmax(x, axis=axis)


def _sigmoid(ns, x):
    return jax.nn.sigmoid(x)


def _take_along_last(ns, x, index):
    check_index_like(x, index)
    return jnp.take_along_axis(x, index, axis=-1)


def _stop_gradient(ns, x):
    return jax.lax.stop_gradient(x)


def _scan(ns, f, init, xs=None, *, length=None, reverse=False):
    return jax.lax.scan(f, init, xs, length=length, reverse=reverse)


class Adapter(BaseAdapter):
    name = "jax"

    def xp(self):
        return jnp

    def primitives(self):
        return {
            "logsumexp": _logsumexp,
            "log_softmax": _log_softmax,
            "softmax": _softmax,
            "sigmoid": _sigmoid,
            "stop_gradient": _stop_gradient,
            "take_along_last": _take_along_last,
            "scan": _scan,
        }

    def collectives(self):
        return jax_collectives()

    def is_lazy(self, x):
        return isinstance(x, jax.core.Tracer)
