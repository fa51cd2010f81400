"""Argument checks shared by every loss.

Shape, dtype and argument checks use only static information and always run. Checks on
array *values* (class index in range, probabilities in [0, 1], non-negative variances) run
only when the arrays are concrete (``backends.is_lazy`` is false): under ``jax.jit``,
``torch.compile``, ``vmap`` or on Dask they are skipped, never forced. Every failure raises a
``ValueError``/``TypeError`` that names the argument, what was expected and what was received.
"""
from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from numbers import Real
from typing import Any, Callable, TypeVar

from .backends import is_lazy
from .backends._core import whole_call

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


# ---------------------------------------------------------------------------------------------
# Value checks: one host read per call.
#
# Inside a public function (the ``entry`` decorator), each value check below only *records* a
# device flag (``True`` = bad) and how to explain it; nothing is read back. When the call
# returns -- or when its body raises -- the flags of the whole call are reduced on the device and
# read once; only if one of them is set are the details computed (more reads, on the error path
# only) and the first failing check raises its ``ValueError``. Outside a public call (a helper
# used directly) the checks run at once. ``value_checks(False)`` or the environment variable
# ``LOSSES_VALUE_CHECKS=0`` turns value checks off; shape, dtype and argument checks always run.
class _State(threading.local):
    def __init__(self):
        self.enabled = os.environ.get("LOSSES_VALUE_CHECKS", "1").strip().lower() not in (
            "0", "false", "off", "no")
        self.pending = None  # list of (xp, flag, explain, host) while a public call is open
        self.collect = False  # inside a whole-call trace: keep traced flags, read nothing


_STATE = _State()


@contextlib.contextmanager
def value_checks(enabled: bool = True):
    """Turn the eager value checks on or off inside a ``with`` block (this thread only).

    Value checks (class indices in range, probabilities in [0, 1], non-negative variances...)
    cost one device-to-host read per call. ``with losses.value_checks(False):`` skips them in a
    production loop whose inputs are known to be valid; shape, dtype and hyper-parameter checks
    still run. The environment variable ``LOSSES_VALUE_CHECKS=0`` sets the default off. Off,
    nothing is read back from a device; values in host memory (NumPy, torch's CPU tensors) may
    still be read in place for the facts a native kernel needs (``read_fact``).
    """
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, got {enabled!r}")
    before = _STATE.enabled
    _STATE.enabled = enabled
    try:
        yield
    finally:
        _STATE.enabled = before


_F = TypeVar("_F", bound=Callable[..., Any])


def entry(fn: _F) -> _F:
    """Decorate a public function: its value checks are read back once, when it returns."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        state = _STATE
        if state.pending is not None:  # nested public call: its checks join the outer call's
            return fn(*args, **kwargs)
        out = whole_call(fn, _collected if state.enabled else _unchecked, args, kwargs)
        if out is not NotImplemented:
            return out
        state.pending = pending = []
        try:
            out = fn(*args, **kwargs)
        except Exception:
            state.pending = None
            _flush(pending)  # a bad value explains the failure better than its consequence
            raise
        state.pending = None
        if pending:
            _flush(pending)
        return out
    return call  # type: ignore[return-value]


def _collected(fn, args, kwargs):
    """``fn(*args, **kwargs)`` with its value checks kept as device flags: ``(out, bad)``,
    ``bad`` the logical or of every flag (None when nothing was checked). For a framework
    that traces the whole call (``backends.whole_call``), which reads ``bad`` once."""
    state = _STATE
    state.pending = pending = []
    state.collect = True
    try:
        out = fn(*args, **kwargs)
    finally:
        state.pending = None
        state.collect = False
    if not pending:
        return out, None
    xp = pending[0][0]
    flags = [xp.reshape(_flag(e), (1,)) for e in pending]
    return out, xp.any(xp.concat(flags)) if len(flags) > 1 else flags[0][0]


def _unchecked(fn, args, kwargs):
    """``fn(*args, **kwargs)`` with value checks off (they record nothing): ``(out, None)``."""
    state = _STATE
    state.pending = []
    try:
        return fn(*args, **kwargs), None
    finally:
        state.pending = None


def _flag(entry):
    """A pending check's device flag (computed now if it was recorded as a function)."""
    flag = entry[1]
    return flag() if callable(flag) else flag


def _host_bad(xp, host) -> bool:
    """Read a check's device scalars in one host read and apply its Python test."""
    return bool(host[1](*_read(xp, host[0])))


def _scalar(xp, v):
    return bool(v) if xp.isdtype(v.dtype, "bool") else int(v) if xp.isdtype(v.dtype, "integral") else float(v)


def _read(xp, values):
    """The Python numbers of these device scalars (0-d arrays: check values, flags), in one
    host read; None when they cannot share one (mixed dtypes on a device without float64).
    See the namespace primitive ``host_scalars``."""
    if len(values) == 1:
        return [_scalar(xp, xp.stop_gradient(values[0]))]  # a value, not a differentiable tensor
    return xp.host_scalars(values)


def _first_bad(pending, extra=()):
    """Read the pending checks (and the device scalars ``extra``) in one host read: the index
    of the first failing check (None if none fails) and the Python values of ``extra``.

    A check recorded with host values contributes those values and is tested by its Python
    test; any other contributes its device flag."""
    xp = pending[0][0]
    if len(pending) == 1 and not extra and pending[0][3] is not None:
        # the common call: one check recorded with host values, tested on the host
        got = _read(xp, [v if v.ndim == 0 else xp.reshape(v, ()) for v in pending[0][3][0]])
        if got is not None:
            return (0 if pending[0][3][1](*got) else None), []
    parts = [v for e in pending for v in (e[3][0] if e[3] is not None else (_flag(e),))]
    got = _read(xp, [v if v.ndim == 0 else xp.reshape(v, ()) for v in (*parts, *extra)])
    if got is None:  # mixed dtypes without float64: every check as its boolean flag
        got = _read(xp, [xp.reshape(v, ()) for v in (*(_flag(e) for e in pending), *extra)])
        tests = [None] * len(pending)
    else:
        tests = [e[3] and e[3][1] for e in pending]
    i = 0
    for k, test in enumerate(tests):
        n = len(pending[k][3][0]) if test is not None else 1
        if test(*got[i:i + n]) if test is not None else got[i]:
            return k, None
        i += n
    return None, got[i:]


def _flush(pending):
    if not pending:
        return
    bad, _ = _first_bad(pending)
    if bad is not None:
        raise ValueError(pending[bad][2]())


def flush_pending():
    """Read the open call's pending value checks now, in the call's one host read, and raise
    the first failing one's ``ValueError``; for a native kernel that must not see bad values
    (it would read out of bounds). Nothing is read with value checks off, outside a public
    call, with nothing pending or inside a whole-call trace."""
    pending = _STATE.pending
    if not _STATE.enabled or not pending or _STATE.collect:
        return
    try:
        _flush(pending)
    finally:
        pending.clear()  # read once: not again when the call returns


def record(xp, flag, explain, host=None):
    """Record (inside a public call) or evaluate (outside) one value check.

    ``flag`` is the device boolean (True = bad), or a function computing it. ``host``
    (optional) is ``(values, bad)``: the device scalars the flag is computed from and a Python
    test of their values that says the same (True = bad; NaN must fail it). The call reads
    those values with every other check's values or flag in one host read (``_first_bad``)
    and tests them on the host, which spares the small device ops computing the flag; in a
    traced whole call the flags are combined on the device."""
    pending = _STATE.pending
    probe = host[0][0] if host is not None else flag
    if not _known(probe) and not (_STATE.collect and pending is not None):
        return
    if pending is None:
        if _host_bad(xp, host) if host is not None else bool(_flag((xp, flag))):
            raise ValueError(explain())
    else:
        pending.append((xp, flag, explain, host))


def concrete(*arrays):
    """The values of these arrays can be read now (none is traced or lazy)."""
    return all(a is not None and not is_lazy(a) for a in arrays)


def checkable(*arrays):
    """A value check of these arrays runs: they are concrete, or the whole call is being traced
    to run at once (``_collected``), whose flags are read when the program has run."""
    return _STATE.collect or concrete(*arrays)


def _known(flag) -> bool:
    """A computed flag can be read now: a concrete array closed over by ``jax.jit`` still
    yields tracers, so the *result* of the check's reduction decides, not just its inputs."""
    return not is_lazy(flag)


def enabled() -> bool:
    """Whether value checks run in this thread (``value_checks`` / ``LOSSES_VALUE_CHECKS``)."""
    return _STATE.enabled


def read_fact(xp, fact, test=bool):
    """``test`` of the Python value of the device scalar ``fact`` (or of the values of a tuple
    of them): a condition a native kernel needs (``bool`` by default: ``fact`` a device
    boolean; ``math.isfinite`` for a sum whose finiteness is the fact; a test of several
    values decides on the host what device comparisons would).

    With value checks on, ``fact`` is read in the call's one host read, together with its
    pending checks: a failing check raises its ``ValueError`` here, as it would at the end of
    the call, and is not read again. With value checks off, ``fact`` is read only where its
    values lie in host memory (``reads_in_place``: NumPy, torch's CPU tensors), which waits
    for no device; elsewhere nothing is read back and the result is None. None too for a
    traced or lazy ``fact`` and inside a whole-call trace (then nothing is read)."""
    facts = fact if isinstance(fact, tuple) else (fact,)
    if not _known(facts[0]) or _STATE.collect:
        return None
    pending = _STATE.pending
    if not _STATE.enabled or not pending:
        if not _STATE.enabled and not xp.reads_in_place(facts[0]):
            return None
        return test(*_read(xp, list(facts)))
    bad, rest = _first_bad(pending, facts)
    explain = pending[bad][2] if bad is not None else None
    pending.clear()
    if explain is not None:
        raise ValueError(explain())
    return test(*rest)


def unchecked_in_place(xp, x) -> bool:
    """Value checks are off and ``x`` is concrete and in host memory: a fact about it (see
    :func:`read_fact`) is read even though its value checks did not run."""
    return not _STATE.enabled and not _STATE.collect and concrete(x) and xp.reads_in_place(x)


def values_in(xp, x, name, low, high, *, what=None):
    """Eager-only: every value of ``x`` lies in [low, high] (NaN is outside).

    Returns the device scalars ``(min, max)`` it computed (for a caller that decides more
    from them), or None when the check did not run."""
    if x is None or not _STATE.enabled or not checkable(x) or math.prod(x.shape) == 0 \
            or xp.isdtype(x.dtype, "bool"):
        return None
    lo, hi = xp.extrema(x)  # NaN propagates through min/max: one pass, no temporaries

    def explain():
        nan = is_floating(xp, x) and bool(xp.any(xp.isnan(x)))
        got = "a NaN" if nan else f"values in [{float(lo)}, {float(hi)}]"
        return f"{name} must hold {what or 'values'} in [{low}, {high}], got {got}"

    # operators: no namespace wrappers per call; NaN fails both tests
    record(xp, lambda: ~((lo >= low) & (hi <= high)), explain,
           host=((lo, hi), lambda a, b: not (a >= low and b <= high)))
    return lo, hi


def nonnegative(xp, x, name):
    """Eager-only: every value of ``x`` is >= 0."""
    if x is None or not _STATE.enabled or not checkable(x) or math.prod(x.shape) == 0:
        return
    lo = xp.min(x)
    record(xp, lambda: lo < 0, lambda: f"{name} must be non-negative, got a minimum of {float(lo)}",
           host=((lo,), lambda a: a < 0))


def take_classes(xp, x, index, axis, name):
    """``xp.take_class(x, index, axis=axis)`` with ``index`` checked to hold class indices of
    that axis, as :func:`class_indices`. Where the framework's gather refuses an index out of
    range by itself (``gathers_checked``: torch on the CPU), nothing is computed or read for the
    check unless it does, and then the library's check explains the bad index; elsewhere the
    check is recorded first."""
    if not (_STATE.enabled and xp.gathers_checked(x) and xp.gathers_checked(index)):
        class_indices(xp, index, x.shape[axis], name)
        return xp.take_class(x, index, axis=axis)
    try:
        return xp.take_class(x, index, axis=axis)
    except (IndexError, RuntimeError):
        class_indices(xp, index, x.shape[axis], name)
        flush_pending()  # the open call's checks in order: the first failing one explains
        raise


def class_indices(xp, target, num_classes, name="target", ignore_index=None, safe=None):
    """Eager-only: integer targets lie in [0, num_classes) except positions == ignore_index.

    ``safe`` (optional): ``target`` with the ignored positions already replaced by a valid
    class; then the check costs one min and one max.
    """
    if not _STATE.enabled or not checkable(target) or math.prod(target.shape) == 0:
        return
    if safe is None:
        safe = target if ignore_index is None else xp.where(target != ignore_index, target, xp.zeros_like(target))
    lo, hi = xp.extrema(safe)

    def explain():
        bad = xp.logical_or(target < 0, target >= num_classes)
        if ignore_index is not None:
            bad = xp.logical_and(bad, target != ignore_index)
        # the fills lie within the bad values' span: min/max over the bad positions only
        first = int(xp.min(xp.where(bad, target, xp.max(target))))
        last = int(xp.max(xp.where(bad, target, xp.min(target))))
        extra = f" (or ignore_index={ignore_index})" if ignore_index is not None else ""
        return (f"{name} must hold class indices in [0, {num_classes - 1}]{extra}, "
                f"got out-of-range values between {min(first, last)} and {max(first, last)}")

    record(xp, lambda: (lo < 0) | (hi >= num_classes), explain,
           host=((lo, hi), lambda a, b: a < 0 or b >= num_classes))


def values_among(xp, x, name, allowed):
    """Eager-only: every value of ``x`` is one of the numbers in ``allowed`` (e.g. (-1, 1))."""
    if x is None or not _STATE.enabled or not checkable(x) or math.prod(x.shape) == 0:
        return

    def bad_values():
        ok = None
        for a in allowed:
            hit = x == a
            ok = hit if ok is None else xp.logical_or(ok, hit)
        return xp.logical_not(ok)

    def explain():
        bad = bad_values()
        first = xp.reshape(x, (-1,))[xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8))]
        return (f"{name} must hold only the values {tuple(allowed)}, got {float(first)!r} "
                f"(and {int(xp.sum(xp.astype(bad, xp.int64)))} bad value(s) in total)")

    if len(allowed) == 2 and allowed[0] == -allowed[1] != 0 and not xp.isdtype(x.dtype, "bool"):
        # {-a, a}: |x| is exactly a everywhere, i.e. min |x| = max |x| = a (NaN fails): two
        # passes instead of one per allowed value and their combination
        a = abs(allowed[1])
        lo, hi = xp.extrema(xp.abs(x))
        record(xp, lambda: ~((lo == a) & (hi == a)), explain, host=((lo, hi), lambda u, v: not (u == a and v == a)))
        return
    record(xp, xp.any(bad_values()), explain)


def greater_than(xp, x, name, low):
    """Eager-only: every value of ``x`` is > ``low``."""
    if x is None or not _STATE.enabled or not checkable(x) or math.prod(x.shape) == 0:
        return
    lo = xp.min(x)
    record(xp, lambda: lo <= low, lambda: f"{name} must be > {low}, got a minimum of {float(lo)}",
           host=((lo,), lambda a: a <= low))


def finite_number(value, name, *, low=None, low_open=False, high=None, high_open=False):
    """A finite Python real-number hyper-parameter (``inf`` is refused too)."""
    real_number(value, name, low=low, high=high, low_open=low_open, high_open=high_open)
    if value in (math.inf, -math.inf):  # (math.isinf breaks torch.compile(dynamic=True) traces)
        raise ValueError(f"{name} must be finite, got {value!r}")
