"""Generic array-API implementations of the library's primitives.

Every function takes the :class:`~backends.Namespace` as its first argument, so a generic
primitive that needs another primitive (``log_softmax`` needs ``logsumexp``) uses that
namespace's version (native fast path when there is one). The conformance suite checks each
native fast path against these.
"""
from __future__ import annotations

import functools
import math

from array_api_compat import device as _device


def device(ns, x):
    """The device of ``x`` (None inside ``jax.jit``: never rely on it for correctness)."""
    return _device(x)


def stop_gradient(ns, x):
    """Identity whose gradient is zero (frameworks without autodiff: identity)."""
    return x


# kinks whose subgradient the library defines (DESIGN rule 5); NaN takes the input's branch
def relu0(ns, x):
    """``max(x, 0)`` with gradient 0 at ``x == 0``; NaN stays NaN."""
    return ns.where(x <= 0, 0.0, x)


def relu1(ns, x):
    """``max(x, 0)`` with gradient 1 at ``x == 0`` (torch's ``clamp_min(x, 0)``); NaN stays NaN."""
    return ns.where(x < 0, 0.0, x)


def abs0(ns, x):
    """``|x|`` with gradient 0 at ``x == 0`` (``jnp.abs`` gives 1 there); NaN stays NaN."""
    return ns.where(x < 0, -x, ns.where(x == 0, 0.0, x))


def as_array(ns, x):
    """``x`` as an array of its framework: NumPy reductions and operations on 0-d arrays give
    NumPy scalars, which this turns back into 0-d arrays (every public function returns an
    array, as the standard does). Identity elsewhere."""
    return x


def logsumexp(ns, x, axis=-1, keepdims=False):
    """``log(sum(exp(x), axis))`` shifted by the (gradient-free) maximum; -inf rows stay -inf,
    an empty axis gives -inf (and an empty array an empty result)."""
    if math.prod(x.shape) == 0:  # a maximum over nothing has no value (NumPy, Dask refuse it)
        out = ns.log(ns.sum(ns.exp(x), axis=axis, keepdims=True))
        return out if keepdims else ns.squeeze(out, axis=axis)
    m = ns.max(x, axis=axis, keepdims=True)
    m = ns.stop_gradient(ns.where(ns.isfinite(m), m, ns.zeros_like(m)))
    out = ns.log(ns.sum(ns.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else ns.squeeze(out, axis=axis)


def _shift(ns, x, axis):
    """``x - max(x)`` along ``axis`` with a gradient-free shift; a row of -inf is shifted by 0
    (it stays -inf), a row holding +inf gets NaN where the maximum is (as torch and JAX)."""
    if math.prod(x.shape) == 0:  # a maximum over nothing has no value (NumPy, Dask refuse it)
        return x
    m = ns.max(x, axis=axis, keepdims=True)
    m = ns.stop_gradient(ns.where(m == -math.inf, ns.zeros_like(m), m))
    return x - m


def log_softmax(ns, x, axis=-1):
    """``x - logsumexp(x)``; rows holding +inf or only -inf are NaN, as torch and JAX give."""
    shifted = _shift(ns, x, axis)
    return shifted - ns.log(ns.sum(ns.exp(shifted), axis=axis, keepdims=True))


def softmax(ns, x, axis=-1):
    """``exp(log_softmax(x))`` by the shifted exponentials; rows holding +inf or only -inf
    are NaN, as torch and JAX give."""
    e = ns.exp(_shift(ns, x, axis))
    return e / ns.sum(e, axis=axis, keepdims=True)


def softplus(ns, x):
    """``log(1 + exp(x))`` as ``logaddexp(x, 0)``: exact, finite value and gradient for any x."""
    return ns.logaddexp(x, ns.zeros_like(x))


def log_sigmoid(ns, x):
    return -ns.softplus(-x)


def sigmoid(ns, x):
    """``exp(log_sigmoid(x))``: no overflow in value or gradient at any logit."""
    return ns.exp(ns.log_sigmoid(x))


def xlogy(ns, x, y):
    """``x * log(y)``, 0 where ``x == 0`` (also when y == 0), with a finite gradient there."""
    zero = x == 0
    safe_y = ns.where(zero, ns.ones_like(y), y)
    return ns.where(zero, ns.zeros_like(x * safe_y), x * ns.log(safe_y))


def _class_grid(ns, x, axis):
    """``arange(C)`` shaped to broadcast against ``x`` along ``axis``."""
    axis = axis % x.ndim
    n = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n
    return ns.reshape(ns.arange(n, device=_device(x)), tuple(shape))


def take_index(ns, x, index, axis=0):
    """``take(x, index, axis)`` for a 1-D ``index`` known to lie in ``[0, x.shape[axis])``
    (validated classes, levels, computed positions): a native version may skip the
    negative-index handling."""
    return ns.take(x, index, axis=axis)


def take_class(ns, x, index, axis=-1):
    """``x[..., index, ...]`` along ``axis``: one element per position, index shape = x without axis.

    Uses ``take_along_axis`` where the namespace has it, otherwise a ``where``-based select.
    ``index`` must hold valid class indices (callers replace ignored positions first).
    """
    axis = axis % x.ndim
    idx = ns.expand_dims(index, axis=axis)
    if hasattr(ns.xp, "take_along_axis"):
        wide = _indexing_dtype(ns)  # e.g. torch's take_along_dim takes int64 indices only
        if idx.dtype != wide:
            idx = ns.astype(idx, wide)
        return ns.squeeze(ns.take_along_axis(x, idx, axis=axis), axis=axis)
    hit = _class_grid(ns, x, axis) == ns.astype(idx, ns.int64)
    return ns.sum(ns.where(hit, x, ns.zeros_like(x)), axis=axis)


@functools.lru_cache(maxsize=None)
def _indexing_dtype(ns):
    """The namespace's default indexing dtype (int64, or int32 on JAX without x64)."""
    info = getattr(ns.xp, "__array_namespace_info__", None)
    return info().default_dtypes()["indexing"] if info is not None else ns.int64


def check_index_like(x, index):
    """``take_along_last``'s contract (shared by the native versions): one index per element."""
    if tuple(index.shape) != tuple(x.shape):
        raise ValueError(f"take_along_last: index must have the shape {tuple(x.shape)} of x, got {tuple(index.shape)}")


def take_along_last(ns, x, index):
    """``take_along_axis(x, index, axis=-1)`` for ``index`` of ``x``'s shape (e.g. a sort
    order), through the standard ``take`` on the flattened array.

    ``take_along_axis`` is missing on Dask; row offsets are derived from ``x`` itself, so they
    live on its device. An empty ``x`` gives an empty result.
    """
    check_index_like(x, index)
    m = x.shape[-1]
    ones = ns.ones_like(ns.reshape(x[..., :1], (-1,)))
    rows = ns.astype(ns.cumulative_sum(ones) - 1, index.dtype)
    base = ns.reshape(rows * m, tuple(x.shape[:-1]) + (1,))
    flat = ns.take(ns.reshape(x, (-1,)), ns.reshape(index + base, (-1,)), axis=0)
    return ns.reshape(flat, tuple(x.shape))


def nll_logits(ns, x, index, axis=-1):
    """``logsumexp(x) - x[index]`` along ``axis``: softmax cross-entropy of integer targets.

    Never materialises a log-softmax or a one-hot. ``index`` must hold valid classes. A row
    holding +inf or only -inf gives NaN, as torch's fused cross-entropy does.
    """
    shifted = _shift(ns, x, axis)
    lse = ns.log(ns.sum(ns.exp(shifted), axis=axis))
    return lse - ns.take_class(shifted, index, axis=axis)


def one_hot(ns, index, num_classes, *, axis=-1, dtype=None):
    """One-hot encoding of integer ``index`` with the class axis inserted at ``axis``."""
    dtype = ns.float64 if dtype is None else dtype
    grid = ns.arange(num_classes, device=_device(index))
    out = ns.astype(ns.expand_dims(index, axis=-1) == ns.astype(grid, index.dtype), dtype)
    if axis not in (-1, out.ndim - 1):
        out = ns.moveaxis(out, -1, axis)
    return out


def _unstack(ns, tree):
    """Split the leading axis once (indexing ``xs[t]`` per step makes torch's backward build a
    full-size zero gradient per step: quadratic in the length)."""
    if isinstance(tree, (tuple, list)):
        parts = [_unstack(ns, v) for v in tree]
        return [type(tree)(p[i] for p in parts) for i in range(len(parts[0]))]
    return list(ns.unstack(tree, axis=0))


def _stack(ns, items):
    first = items[0]
    if first is None:
        return None
    if isinstance(first, (tuple, list)):
        return type(first)(_stack(ns, [it[k] for it in items]) for k in range(len(first)))
    return ns.stack(items, axis=0)


def scan(ns, f, init, xs=None, *, length=None, reverse=False):
    """``jax.lax.scan`` semantics: ``carry, y = f(carry, x_t)`` over the leading axis of xs.

    xs may be an array, a tuple/list of arrays or None (then ``length`` steps). Returns
    ``(final_carry, stacked_ys)``. Generic version: a Python loop (unrolled under tracing).
    """
    if xs is None:
        if length is None:
            raise ValueError("scan: give xs or length")
        items = [None] * length
    else:
        items = _unstack(ns, xs)
    carry, ys = init, []
    for item in (reversed(items) if reverse else items):
        carry, y = f(carry, item)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, (_stack(ns, ys) if ys else None)


def hand_vjp(ns, fwd, bwd, plain, static, *args):
    """A hand-written gradient (``fwd``/``bwd`` as in :func:`custom_vjp`) on the frameworks
    whose custom-gradient mechanism composes with their compilers and transforms (JAX:
    ``jax.custom_vjp``); elsewhere, and in the generic namespaces, ``plain(ns, *args)``: the
    body that autodiff differentiates (``torch.compile`` and the ``torch.func`` transforms
    trace it as it is), the reference the hand-written gradient is checked against."""
    return plain(ns, *args)


def custom_vjp(ns, fwd, bwd, static, *args):
    """``fwd``'s value with the gradient ``bwd`` gives (``jax.custom_vjp`` semantics), for
    losses that must not keep their intermediates for autodiff (chunked
    ``linear_cross_entropy``). Both bodies are written once in the array API:

    - ``fwd(ns, static, needs, *args) -> (out, residuals)``: ``needs`` is None for the value
      alone (residuals are then not used), else one bool per argument, whether its gradient
      is wanted;
    - ``bwd(ns, static, needs, residuals, g) -> grads``: one gradient per argument (None: none).

    ``static`` holds hashable Python values (shapes, options). The backward runs once per
    forward: ``bwd`` may consume the residuals (:func:`scale_consumed`); torch refuses a
    second backward through the same call (``retain_graph=True``), unless ``bwd`` declares
    that it leaves them intact (the function attribute ``consumes_residuals = False``). Generic version: the value
    alone, so frameworks with autodiff differentiate the forward body itself -- the reference
    the native versions (``torch.autograd.Function``, ``jax.custom_vjp``) are checked against.
    """
    return fwd(ns, static, None, *args)[0]


def extrema(ns, x):
    """``(min(x), max(x))`` over every element, NaN propagating (value checks). A framework
    with a one-pass kernel reads ``x`` once."""
    return ns.min(x), ns.max(x)


def addmm(ns, acc, a, b):
    """``acc + a @ b`` (``a @ b`` where ``acc`` is None): a running sum of matrix products
    (chunked gradients). ``acc`` is consumed: a native version may update it in place."""
    prod = ns.matmul(a, b)
    return prod if acc is None else acc + prod


def scale_consumed(ns, x, g):
    """``x * g`` where ``x`` is consumed (a custom gradient's residual, used once): a native
    version may scale it in place."""
    return x * g


def _python_scalar(ns, v):
    return bool(v) if ns.isdtype(v.dtype, "bool") else int(v) if ns.isdtype(v.dtype, "integral") else float(v)


def host_scalars(ns, values):
    """The Python numbers of the device scalars ``values`` (0-d arrays of any real dtypes),
    read in one device-to-host transfer; None when they cannot share one (mixed dtypes on a
    device without float64).

    Mixed dtypes are read as float64: exact for floats and booleans; integers keep their
    order against any bound below 2**53 (rounding to float64 is monotone and exact there),
    which is all a value check compares them with."""
    groups = {}
    for i, v in enumerate(values):
        groups.setdefault(v.dtype, []).append(i)
    if len(groups) == 1:
        return _listed(ns, ns.stack(values))
    # one stack per dtype, each cast to float64, joined, read, and put back in order
    f64 = getattr(ns, "float64", None)
    try:
        parts = [ns.stack([values[i] for i in idx]) for idx in groups.values()]
        parts = [p if p.dtype == f64 else ns.astype(p, f64) for p in parts]
    except (TypeError, RuntimeError):  # no float64 on this device
        return None
    if any(p.dtype != f64 for p in parts):
        return None
    got = _listed(ns, ns.concat(parts))
    out = [None] * len(values)
    for i, g in zip((i for idx in groups.values() for i in idx), got):
        out[i] = g
    return out


def _listed(ns, stacked):
    """``stacked`` (1-d) as a Python list: one host read of the values (not a differentiable
    array)."""
    stacked = ns.stop_gradient(stacked)
    tolist = getattr(stacked, "tolist", None)  # host arrays without one: nothing to wait for
    if tolist is not None:
        return tolist()
    return [_python_scalar(ns, stacked[i]) for i in range(stacked.shape[0])]


def gathers_checked(ns, x):
    """Whether ``take_class`` of ``x`` refuses an index outside the axis (negative ones
    included) by itself, eagerly and without a host read; then a value check of those indices
    can wait for the gather's refusal. A backend's class-index kernels (torch's ``F.nll_loss``
    and ``F.cross_entropy`` fast paths) rely on the same promise. The generic gather makes none
    (torch's ``take_along_dim`` reads past the axis unchecked)."""
    return False


PRIMITIVES = {
    name: globals()[name]
    for name in (
        "device",
        "gathers_checked",
        "as_array",
        "stop_gradient",
        "relu0",
        "relu1",
        "abs0",
        "logsumexp",
        "log_softmax",
        "softmax",
        "softplus",
        "log_sigmoid",
        "sigmoid",
        "xlogy",
        "take_class",
        "take_index",
        "take_along_last",
        "nll_logits",
        "one_hot",
        "scan",
        "custom_vjp",
        "hand_vjp",
        "addmm",
        "scale_consumed",
        "extrema",
        "host_scalars",
    )
}
