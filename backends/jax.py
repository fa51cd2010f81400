"""JAX runtime adapter and native fast paths (the harness side: ``harness/jax.py``).

Float64 needs ``jax_enable_x64``; this module never turns it on (that would change the
user's default dtypes) — the conformance suite does, for its own process.
"""
from __future__ import annotations

import inspect
import os

import jax
import jax.numpy as jnp

from ._adapter import BaseAdapter
from ._generic import check_index_like
from .collectives import gather_group


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



def _hand_vjp(ns, fwd, bwd, plain, static, *args):
    return _custom_vjp(ns, fwd, bwd, static, *args)


def _custom_vjp(ns, fwd, bwd, static, *args):
    needs = tuple(a is not None and jnp.issubdtype(jnp.result_type(a), jnp.inexact) for a in args)

    @jax.custom_vjp
    def f(*a):
        return fwd(ns, static, None, *a)[0]

    def f_fwd(*a):
        return fwd(ns, static, needs, *a)

    def f_bwd(res, g):
        return tuple(bwd(ns, static, needs, res, g))

    f.defvjp(f_fwd, f_bwd)
    return f(*args)


# -- collectives (backends/collectives.py): lax collectives over a mapped axis -------------
#: the gathered batch is the same on every member ("invarying", where JAX types it), so a loss
#: computed from it alone is replicated -- shard_map's out_specs=P() accepts it
_INVARIANT = {"to": "invarying"} if "to" in inspect.signature(jax.lax.all_gather).parameters else {}


def _check_group(ns, group):
    if group is None:
        return None
    names = group if isinstance(group, tuple) else (group,)
    if not names or not all(isinstance(n, str) for n in names):
        raise TypeError("group must be None, a mapped axis name (str) or a tuple of axis names "
                        f"(shard_map/pmap), got {group!r}")
    for n in names:
        try:
            jax.lax.axis_size(n)
        except NameError:
            raise ValueError(f"group={group!r}: axis name {n!r} is not bound here; call the loss "
                             "inside shard_map/pmap over that axis") from None
    return group


def _all_gather(ns, x, group):
    group = gather_group(ns, x, group)
    if group is None:
        return x
    return jax.lax.all_gather(x, group, axis=0, tiled=True, **_INVARIANT)


def _all_sum(ns, x, group):
    group = ns.check_group(group)
    return x if group is None else jax.lax.psum(x, group)


def _group_rank(ns, group):
    group = ns.check_group(group)
    return 0 if group is None else jax.lax.axis_index(group)


# -- whole calls: one compiled program per public call ---------------------------------------
# Eager JAX runs and compiles every primitive separately; a loss is a few dozen of them, so its
# first call compiles a few dozen small programs and every call dispatches them one by one. A
# public call whose array arguments are all JAX arrays (concrete or tracers of an enclosing
# transformation) runs instead as one ``jax.jit`` of the whole function, keyed by the call's
# non-array arguments; its value checks come out of the program as one device flag, read once.
# Declined (the op-by-op path runs): a non-array argument that is not a plain Python scalar,
# string or None (callables, NumPy arrays...), more than _WHOLE_LIMIT signatures of one
# function, and a function that cannot be traced with these arguments. The environment
# variable LOSSES_JAX_WHOLE_CALLS=0 turns whole calls off (every eager call op by op).
_STATIC = (bool, int, float, str)
_WHOLE: dict = {}
_WHOLE_LIMIT = 0 if os.environ.get("LOSSES_JAX_WHOLE_CALLS", "1").strip().lower() in ("0", "false", "off", "no") else 64
_TRACE_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerIntegerConversionError,
                 jax.errors.TracerArrayConversionError, jax.errors.UnexpectedTracerError,
                 jax.errors.NonConcreteBooleanIndexError)


def _whole_program(fn, run, treedef, where, static):
    n = len(where) + len(static)

    def body(*arrays):
        leaves = [None] * n
        for i, v in static:
            leaves[i] = v
        for i, a in zip(where, arrays):
            leaves[i] = a
        args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
        return run(fn, args, kwargs)

    body.__name__ = getattr(fn, "__name__", "loss")
    return jax.jit(body)


def _whole_call(fn, run, args, kwargs):
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    where, arrays, static = [], [], []
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, (jax.Array, jax.core.Tracer)):
            where.append(i)
            arrays.append(leaf)
        elif type(leaf) in _STATIC:
            static.append((i, leaf))
        else:
            return NotImplemented
    if not arrays:
        return NotImplemented
    programs = _WHOLE.setdefault((fn, run), {})
    # type in the key: True, 1 and 1.0 hash alike but are different arguments
    key = (treedef, tuple(where), tuple((i, type(v), v) for i, v in static), jax.config.jax_enable_x64)
    program = programs.get(key)
    if program is None:
        if key in programs or len(programs) >= _WHOLE_LIMIT:
            return NotImplemented
        program = programs[key] = _whole_program(fn, run, treedef, where, static)
    try:
        out, bad = program(*arrays)
    except _TRACE_ERRORS:  # not traceable with these arguments: op-by-op from now on
        programs[key] = None
        return NotImplemented
    except Exception:  # noqa: BLE001 - a bad argument: the op-by-op call raises its own error
        return NotImplemented
    if bad is not None and not isinstance(bad, jax.core.Tracer) and bool(bad):
        return NotImplemented  # a value check failed: the op-by-op call explains it
    return out


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
            "custom_vjp": _custom_vjp,
            "hand_vjp": _hand_vjp,
        }

    def collectives(self):
        return {"check_group": _check_group, "all_gather": _all_gather, "all_sum": _all_sum,
                "group_rank": _group_rank}

    def whole_call(self, fn, run, args, kwargs):
        return _whole_call(fn, run, args, kwargs)

    def is_lazy(self, x):
        return isinstance(x, jax.core.Tracer)
