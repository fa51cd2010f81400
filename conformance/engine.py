"""The conformance engine: cases x backends x devices x dtypes x transforms -> checks.

Every check compares a backend's result with the NumPy float64 result of the same loss on
the same inputs (rounded to the dtype under test first, so only the computation's error is
measured), with a tolerance scaled to the dtype's epsilon. Gradients are compared with a
float64 autodiff reference (torch, else jax), with central finite differences of the NumPy
float64 loss, and with the peers' twins.

Columns of the matrix:
  value  eager value, result dtype and device, finiteness (Dask: built without computing)
  grad   torch autograd / jax.grad against the references
  jit    jax.jit, torch.compile(fullgraph=True), jax.vmap / torch.func.vmap of per-sample
         losses, and one compile for batch sizes 8..1024 under torch.compile(dynamic=True)
  peer   the same inputs through torch.nn.functional / optax twins (float64)

A result that is not floating (integer/bool arrays, or a tuple of same-shape arrays such as
the miners' index tuples) is compared exactly, with no gradient checks (see ``_host``).
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from .. import backends
from ..backends.harness import harness
from .case import Case

COLUMNS = ("value", "grad", "jit", "peer")
AUTODIFF_BACKENDS = ("torch", "jax")
#: torch.compile backend of the default run: "aot_eager" traces forward and backward with
#: fullgraph=True (graph breaks, data-dependent control flow, recompiles all show) without
#: inductor's code generation; ``--inductor`` / the ``slow`` marker use inductor.
DEFAULT_COMPILE_BACKEND = "aot_eager"
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)


class Skip(Exception):
    """A check that does not apply here (reported as skipped, not failed)."""


_SETUP_DONE = False


def setup() -> None:
    """Process-wide settings of the suite: JAX float64, strict flags against rule 2."""
    global _SETUP_DONE
    if _SETUP_DONE:
        return
    # peers' and tracers' advisory warnings are not findings of the suite
    warnings.filterwarnings("ignore", message=r"Dynamo detected a call to a `functools.lru_cache`")
    warnings.filterwarnings("ignore", message=r"reduction: 'mean' divides the total loss by both")
    if importlib.util.find_spec("jax") is not None:
        import jax

        jax.config.update("jax_enable_x64", True)
    if importlib.util.find_spec("array_api_strict") is not None:
        import array_api_strict

        # boolean-mask indexing and data-dependent shapes are errors (DESIGN rule 2)
        array_api_strict.set_array_api_strict_flags(boolean_indexing=False, data_dependent_shapes=False)
    _SETUP_DONE = True


@dataclass
class Check:
    id: str
    loss: str
    backend: str
    column: str
    fn: Callable[[], None]
    slow: bool = False

    def run(self) -> None:
        self.fn()


# ----------------------------------------------------------------------------- helpers ----
def _seed(case: Case) -> int:
    return zlib.crc32(case.id.encode())


def _inputs(case: Case, n: int = 8) -> dict:
    rng = np.random.default_rng(_seed(case))
    return case.gen(rng, n)


def _is_float(a) -> bool:
    return isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating)


def _eps(dtype: str) -> float:
    return {"float64": 2.220446049250313e-16, "float32": 1.1920929e-07, "float16": 9.765625e-04,
            "bfloat16": 7.8125e-03}[dtype]


def _native_args(ad, arrays: dict, dtype: str, device) -> dict:
    out = {}
    for k, v in arrays.items():
        if isinstance(v, np.ndarray):
            out[k] = ad.asarray(v, dtype if _is_float(v) else None, device)
        elif isinstance(v, tuple) and v and all(isinstance(x, np.ndarray) for x in v):
            # a tuple of arrays is one argument (e.g. indices_tuple=): each converted
            out[k] = tuple(ad.asarray(x, dtype if _is_float(x) else None, device) for x in v)
        else:
            out[k] = v
    return out


@lru_cache(maxsize=None)
def _rounding_adapter(dtype: str) -> str:
    for name in backends.available_backends():
        if dtype in harness(name).float_dtypes():
            return name
    raise Skip(f"no backend has {dtype}")


def _rounded(case: Case, dtype: str, n: int = 8) -> dict:
    """Case inputs with floats rounded to ``dtype`` and widened back to float64 NumPy."""
    arrays = _inputs(case, n)
    if dtype == "float64":
        return arrays
    ad = harness(_rounding_adapter(dtype))
    out = {}
    for k, v in arrays.items():
        out[k] = ad.to_numpy(ad.asarray(v, dtype)).astype(np.float64) if _is_float(v) else v
    return out


def _call(case: Case, arrays: dict):
    return case.loss(**arrays, **case.kwargs)


_REF_CACHE: dict = {}


# Results that are not floating: a function may return integer/bool arrays or a tuple of
# same-shape arrays (the miners' index tuples). Such a result is compared exactly (tolerance
# 0) as one float64 array, the fields stacked along a new first axis; it has no gradient
# checks (its cases have no ``diff``) and the NaN rule does not apply to it (an index or a
# mask cannot be NaN: every backend must select what NumPy selects). ``check()``
# (``_check.py``) compares a user's function with the same helpers, field by field.
def _fields(ad, out) -> tuple:
    """A result's fields on the host as NumPy arrays: a tuple's fields, else ``(out,)``."""
    return tuple(np.asarray(ad.to_numpy(o)) for o in (out if isinstance(out, tuple) else (out,)))


def _kind(a) -> str:
    """The dtype kind of a host array: ``"f"``, ``"i"`` (signed or not) or ``"b"``."""
    return np.asarray(a).dtype.kind.replace("u", "i")


def _host(ad, out) -> np.ndarray:
    """A result on the host: a NumPy array, a tuple's fields stacked as float64."""
    if isinstance(out, tuple):
        return np.stack([f.astype(np.float64) for f in _fields(ad, out)])
    return ad.to_numpy(out)


def _kinds(ad, out) -> tuple:
    """The dtype kind of each field of a result (see :func:`_kind`)."""
    return tuple(_kind(f) for f in _fields(ad, out))


def _exact(case: Case) -> bool:
    """Whether the case's NumPy result has a non-floating field (then compared exactly)."""
    key = ("exact", case.id)
    if key not in _REF_CACHE:
        try:
            kinds = _kinds(harness("numpy"), _call(case, _inputs(case)))
        except Exception:  # noqa: BLE001 - a refused case is a float case (its checks say why)
            kinds = ("f",)
        _REF_CACHE[key] = any(k != "f" for k in kinds)
    return _REF_CACHE[key]


def _tol(case: Case, dtype: str, exact: bool | None = None) -> float:
    """0 for an exact comparison, else the case's tolerance at ``dtype``; ``exact``: whether
    the compared values are not floating (default: the case's result has such a field)."""
    return 0.0 if (_exact(case) if exact is None else exact) else case.tol * _eps(dtype)


def _reference(case: Case, dtype: str):
    key = ("value", case.id, dtype)
    if key not in _REF_CACHE:
        _REF_CACHE[key] = np.asarray(_call(case, _rounded(case, dtype)), dtype=np.float64)
    return _REF_CACHE[key]


def _cotangent(case: Case, shape) -> np.ndarray:
    rng = np.random.default_rng(_seed(case) + 1)
    return rng.uniform(0.5, 1.5, size=shape)


def _numpy_scalar(case: Case, arrays: dict, v) -> float:
    return float(np.sum(np.asarray(_call(case, arrays), dtype=np.float64) * v))


FD_ELEMENTS = 12  # finite differences on at most this many elements per argument


def _fd_grads(case: Case, dtype: str) -> dict:
    """Central differences of the NumPy float64 loss at (up to FD_ELEMENTS) sampled elements.

    Returns ``{name: (flat_indices, gradient_values, round_off_bound)}``.
    """
    key = ("fd", case.id, dtype)
    if key in _REF_CACHE:
        return _REF_CACHE[key]
    arrays = _rounded(case, dtype)
    v = _cotangent(case, _reference(case, dtype).shape)
    out = {}
    # round-off of (f(x+h) - f(x-h)) / 2h: a few ulps of the summed terms' magnitude over h
    magnitude = float(np.sum(np.abs(np.asarray(_call(case, arrays), dtype=np.float64)) * v)) + 1.0
    rng = np.random.default_rng(_seed(case) + 2)
    for name in case.diff:
        x = np.array(arrays[name], dtype=np.float64, order="C")  # keeps 0-d arrays 0-d
        flat = x.reshape(-1)
        idx = np.arange(flat.size)
        if flat.size > FD_ELEMENTS:
            idx = np.sort(rng.choice(flat.size, FD_ELEMENTS, replace=False))
        g = np.zeros(idx.size)
        bound = 0.0
        for j, i in enumerate(idx):
            h = 1e-6 * max(1.0, abs(flat[i]))
            plus, minus = flat.copy(), flat.copy()
            plus[i] += h
            minus[i] -= h
            fp = _numpy_scalar(case, {**arrays, name: plus.reshape(x.shape)}, v)
            fm = _numpy_scalar(case, {**arrays, name: minus.reshape(x.shape)}, v)
            g[j] = (fp - fm) / (2 * h)
            bound = max(bound, 64 * 2.220446049250313e-16 * magnitude / h)
        out[name] = (idx, g, bound)
    _REF_CACHE[key] = out
    return out


def _autodiff(ad, case: Case, dtype: str, device=None, transform=None):
    """Value and gradients of ``sum(loss * v)`` on backend ``ad`` (inputs rounded to dtype)."""
    arrays = _native_args(ad, _inputs(case), dtype, device)
    names = list(arrays)
    argnums = [names.index(k) for k in case.diff]
    v = _cotangent(case, _reference(case, dtype).shape)

    def loss_fn(*args):
        return case.loss(**dict(zip(names, args)), **case.kwargs)

    if transform is not None:
        loss_fn = transform(loss_fn)

    def scalar(*args):
        return ad.scalarize(loss_fn(*args), v)

    _, grads = ad.value_and_grad(scalar, [arrays[k] for k in names], argnums)
    return {k: ad.to_numpy(g).astype(np.float64) for k, g in zip(case.diff, grads)}


def _ref_autodiff_backend(exclude: str | None = None) -> str | None:
    for name in AUTODIFF_BACKENDS:
        if name != exclude and name in backends.available_backends():
            return name
    return None


def _autodiff_reference(case: Case, dtype: str, exclude: str | None = None):
    name = _ref_autodiff_backend(exclude)
    if name is None:
        return None, None
    key = ("ad", case.id, dtype, name)
    if key not in _REF_CACHE:
        _REF_CACHE[key] = _autodiff_rounded(harness(name), case, dtype)
    return name, _REF_CACHE[key]


def _autodiff_rounded(ad, case: Case, dtype: str):
    """float64 autodiff on inputs rounded to ``dtype`` (reference for low-precision grads)."""
    arrays = _native_args(ad, _rounded(case, dtype), "float64", None)
    names = list(arrays)
    argnums = [names.index(k) for k in case.diff]
    v = _cotangent(case, _reference(case, dtype).shape)

    def scalar(*args):
        return ad.scalarize(case.loss(**dict(zip(names, args)), **case.kwargs), v)

    _, grads = ad.value_and_grad(scalar, [arrays[k] for k in names], argnums)
    return {k: ad.to_numpy(g).astype(np.float64) for k, g in zip(case.diff, grads)}


def _close(got, want, tol: float, what: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"{what}: shape {got.shape} != reference {want.shape}")
    both_nan = np.isnan(got) & np.isnan(want)
    same_inf = np.isinf(got) & np.isinf(want) & (np.sign(got) == np.sign(want))
    ok_special = both_nan | same_inf
    finite_want = np.where(np.isfinite(want), want, 0.0)
    scale = max(1.0, float(np.max(np.abs(finite_want))) if finite_want.size else 1.0)
    err = np.where(ok_special, 0.0, np.abs(np.where(np.isfinite(got), got, np.inf) - finite_want))
    err = np.where(np.isfinite(want) | ok_special, err, np.inf)
    bad = err > tol * scale
    if np.any(bad):
        i = int(np.argmax(np.where(bad, err, -1.0)))
        raise AssertionError(
            f"{what}: max error {float(np.max(err)):.3g} > {tol * scale:.3g} "
            f"(at flat index {i}: got {got.reshape(-1)[i]!r}, want {want.reshape(-1)[i]!r})"
        )


def _finite(arr, what: str) -> None:
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{what} is not finite: {arr.reshape(-1)[:8]}")


# ------------------------------------------------------------------------------ checks ----
def _value_check(case: Case, name: str, device, dtype: str):
    def run():
        ad = harness(name)
        arrays = _native_args(ad, _inputs(case), dtype, device)
        with ad.guard():
            out = _call(case, arrays)
        first = out[0] if isinstance(out, tuple) else out
        if backends.framework_of(first) != name:
            raise AssertionError(f"result is a {type(first)}, not a {name} array")
        float_inputs = any(_is_float(v) for v in _inputs(case).values())
        if _exact(case):
            want_kinds = _kinds(harness("numpy"), _call(case, _rounded(case, dtype)))
            if _kinds(ad, out) != want_kinds:
                raise AssertionError(f"result dtype kinds {_kinds(ad, out)} != NumPy's {want_kinds}")
        elif float_inputs and out.dtype != ad.dtype(dtype):
            raise AssertionError(f"result dtype {out.dtype} != input dtype {dtype}")
        if device is not None:
            from array_api_compat import device as device_of

            got = device_of(first)
            if got != device and not (name == "numpy" or name == "dask"):
                raise AssertionError(f"result on device {got}, inputs on {device}")
        got = _host(ad, out)
        want = _reference(case, dtype)
        if case.finite:
            _finite(got, "value")
        _close(got, want, _tol(case, dtype), f"value ({dtype})")

    return run


def _grad_check(case: Case, name: str, device, dtype: str, cross: bool = True):
    """Gradients against the other autodiff backend (``cross``) and central differences."""
    def run():
        ad = harness(name)
        grads = _autodiff(ad, case, dtype, device)
        if case.finite:
            for k, g in grads.items():
                _finite(g, f"gradient wrt {k}")
        # without ``cross``, float64 gradients are checked by finite differences alone
        use_ref = cross or not case.fd or dtype != "float64"
        ref_name, ref = (_autodiff_reference(case, dtype, exclude=name if dtype == "float64" else None)
                         if use_ref else (None, None))
        if ref is not None and not (ref_name == name and dtype == "float64"):
            for k in case.diff:
                _close(grads[k], ref[k], case.tol * _eps(dtype), f"gradient wrt {k} vs {ref_name} float64")
        if case.fd and dtype == "float64":
            fd = _fd_grads(case, dtype)
            for k in case.diff:
                idx, g, bound = fd[k]
                _close(grads[k].reshape(-1)[idx], g, max(case.tol * _eps(dtype), 1e-6) + bound,
                       f"gradient wrt {k} vs finite differences (at {idx.size} elements)")
        elif ref is None or (ref_name == name and dtype == "float64"):
            raise Skip("kink case: no second autodiff backend to compare with")

    return run


def _jit_check(case: Case, name: str, device, dtype: str, compile_backend: str, grads: bool = True):
    def run():
        ad = harness(name)
        transform = ad.compile_transform(compile_backend)
        arrays = _native_args(ad, _inputs(case), dtype, device)
        names = list(arrays)

        def fn(*args):
            return case.loss(**dict(zip(names, args)), **case.kwargs)

        out = transform(fn)(*[arrays[k] for k in names])
        got = _host(ad, out)
        _close(got, _reference(case, dtype), _tol(case, dtype), f"compiled value ({dtype})")
        if case.diff and grads:
            grads_ = _autodiff(ad, case, dtype, device, transform=transform)
            _, ref = _autodiff_reference(case, dtype)
            if ref is None:  # pragma: no cover - no second autodiff backend: compare with eager
                ref = _autodiff(ad, case, dtype, device)
            for k in case.diff:
                if case.finite:
                    _finite(grads_[k], f"compiled gradient wrt {k}")
                _close(grads_[k], ref[k], case.tol * _eps(dtype), f"compiled gradient wrt {k}")

    return run


def _vmap_check(case: Case, name: str, device, dtype: str):
    def run():
        ad = harness(name)
        host = _rounded(case, dtype)
        n = next(host[k].shape[0] for k in case.vmap)
        want = np.stack([
            np.asarray(_call(case, {k: (v[i] if k in case.vmap else v) for k, v in host.items()}), dtype=np.float64)
            for i in range(n)
        ])
        arrays = _native_args(ad, _inputs(case), dtype, device)
        names = list(arrays)
        in_axes = [0 if k in case.vmap else None for k in names]

        def fn(*args):
            return case.loss(**dict(zip(names, args)), **case.kwargs)

        out = ad.vmap(fn, in_axes)(*[arrays[k] for k in names])
        if isinstance(out, tuple):  # per sample (fields, ...) -> (fields, samples, ...)
            want = np.moveaxis(want, 0, 1)
        _close(_host(ad, out), want, _tol(case, dtype), f"vmapped per-sample value ({dtype})")

    return run


def _dynamic_check(case: Case):
    def run():
        import torch
        from torch._dynamo.testing import CompileCounter

        ad = harness("torch")
        torch._dynamo.reset()
        counter = CompileCounter()
        names = None

        def fn(*args):
            return case.loss(**dict(zip(names, args)), **case.kwargs)

        # one eager call first: it fills the library's namespace cache, whose first filling
        # would otherwise invalidate a guard of the first compile
        warm = _native_args(ad, _inputs(case), "float32", None)
        names = list(warm)
        fn(*warm.values())
        compiled = torch.compile(fn, backend=counter, dynamic=True, fullgraph=True)
        for n in BATCH_SIZES:
            rng = np.random.default_rng(_seed(case))
            arrays = _native_args(ad, case.gen(rng, n), "float32", None)
            names = list(arrays)
            compiled(*arrays.values())
        if counter.frame_count != 1:
            raise AssertionError(
                f"torch.compile(dynamic=True) compiled {counter.frame_count} times for batch sizes "
                f"{BATCH_SIZES[0]}..{BATCH_SIZES[-1]} (expected 1)"
            )

    return run


def _peer_check(case: Case, peer):
    def run():
        if peer.requires and importlib.util.find_spec(peer.requires) is None:
            raise Skip(f"{peer.requires} is not installed")
        if peer.framework not in backends.available_backends():
            raise Skip(f"{peer.framework} is not installed")
        ad = harness(peer.framework)
        arrays = _native_args(ad, _inputs(case), "float64", None)
        names = list(arrays)
        ours = _host(ad, _call(case, arrays))
        theirs = _host(ad, peer.fn(**arrays))
        _close(ours, theirs, peer.rtol, f"value vs {peer.name}")
        diff = case.diff if peer.diff is None else peer.diff
        if peer.grad and diff and ad.has_autodiff:
            argnums = [names.index(k) for k in diff]
            v = _cotangent(case, np.shape(ours))

            def scal(f):
                return lambda *args: ad.scalarize(f(**dict(zip(names, args))), v)

            mine = scal(lambda **a: _call(case, a))
            _, g1 = ad.value_and_grad(mine, list(arrays.values()), argnums)
            _, g2 = ad.value_and_grad(scal(peer.fn), list(arrays.values()), argnums)
            for k, a, b in zip(diff, g1, g2):
                _close(ad.to_numpy(a), ad.to_numpy(b), peer.rtol, f"gradient wrt {k} vs {peer.name}")

    return run


# ------------------------------------------------------------------ NaN / inf variants ----
# Every case yields, for each floating array argument, a NaN variant and a +-inf variant: the
# case's own inputs with one element replaced. The element is one the loss reads: among a few
# sampled elements, the one whose central difference moves the (NumPy float64) result most.
# Rule (DESIGN rule 5): a NaN in an element the loss reads makes the result NaN — for
# "none", every output element that depends on it —, on every backend, eager and compiled; an
# eager ValueError/TypeError naming the argument is the other accepted outcome. +-inf: every
# backend gives the NumPy result, and the peers give it too.
POISON_SAMPLES = 12
_POISON = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_VARIANT_PEERS = {"nan": ("torch.nn.functional.", "optax."), "inf": ("torch.nn.functional.",),
                  "-inf": ("torch.nn.functional.",)}


def _float_arg_names(case: Case) -> list:
    return [k for k, v in _inputs(case).items() if _is_float(v) and v.size > 0]


def _poison_site(case: Case, name: str):
    """``(flat index, output positions that depend on it)`` for argument ``name``, or None
    when no sampled element changes the result (then the argument is not checked)."""
    key = ("poison", case.id, name)
    if key in _REF_CACHE:
        return _REF_CACHE[key]
    arrays = _inputs(case)
    x = np.array(arrays[name], dtype=np.float64, order="C")
    flat = x.reshape(-1)
    rng = np.random.default_rng(_seed(case) + 3)
    idx = np.arange(flat.size) if flat.size <= POISON_SAMPLES else rng.choice(flat.size, POISON_SAMPLES, replace=False)
    best = None
    try:
        base = np.asarray(_call(case, arrays), dtype=np.float64)
    except (ValueError, TypeError):  # the case itself is refused eagerly: no site
        base = None
    if base is not None and _exact(case):  # indices/masks: every element is read, none is NaN
        _REF_CACHE[key] = (int(idx[0]), np.zeros(base.shape, dtype=bool))
        return _REF_CACHE[key]
    for i in idx if base is not None else ():
        h = 1e-4 * max(1.0, abs(flat[i]))
        outs = []
        try:
            for sign in (1, -1):
                moved = flat.copy()
                moved[i] += sign * h
                outs.append(np.asarray(_call(case, {**arrays, name: moved.reshape(x.shape)}), dtype=np.float64))
        except (ValueError, TypeError):  # this element cannot move (e.g. a probability at 0)
            continue
        delta = np.abs(outs[0] - outs[1])
        delta = np.where(np.isfinite(delta), delta, 0.0)
        score = float(np.max(delta)) if delta.size else 0.0
        scale = np.abs(np.where(np.isfinite(base), base, 0.0))
        if score > 1e-9 * (1.0 + float(np.max(scale, initial=0.0))):
            if best is None or score > best[0]:
                best = (score, int(i), delta > 1e-12 * (1.0 + scale))
    _REF_CACHE[key] = None if best is None else (best[1], best[2])
    return _REF_CACHE[key]


def _poisoned(case: Case, name: str, value: float, index: int) -> dict:
    arrays = dict(_inputs(case))
    x = np.array(arrays[name], dtype=np.float64)
    x.reshape(-1)[index] = value
    arrays[name] = x
    return arrays


def _names_argument(err: Exception, name: str) -> bool:
    return isinstance(err, (ValueError, TypeError)) and name in str(err)


def _variant_reference(case: Case, name: str, kind: str):
    """NumPy float64 result of the variant, or the exception it raised."""
    key = ("variant", case.id, name, kind)
    if key not in _REF_CACHE:
        site = _poison_site(case, name)
        value = _POISON[kind]
        try:
            _REF_CACHE[key] = np.asarray(_call(case, _poisoned(case, name, value, site[0])), dtype=np.float64)
        except Exception as e:  # noqa: BLE001 - kept and compared
            _REF_CACHE[key] = e
    return _REF_CACHE[key]


def _run_variant(case: Case, backend: str, arrays: dict, compiled: bool):
    ad = harness(backend)
    native = _native_args(ad, arrays, "float64", None)
    if not compiled:
        with ad.guard():
            out = _call(case, native)
        return _host(ad, out)
    names = list(native)

    def fn(*args):
        return case.loss(**dict(zip(names, args)), **case.kwargs)

    transform = ad.compile_transform(DEFAULT_COMPILE_BACKEND)
    return _host(ad, transform(fn)(*[native[k] for k in names]))


def _nan_rule(got, dependent, what: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    if got.shape != dependent.shape:
        raise AssertionError(f"{what}: shape {got.shape}, expected {dependent.shape}")
    silent = dependent & ~np.isnan(got)
    if np.any(silent):
        i = int(np.argmax(silent.reshape(-1)))
        raise AssertionError(f"{what}: a NaN input gave the finite value {got.reshape(-1)[i]!r} at "
                             f"output index {i} (which depends on it); expected NaN")


def _variant_check(case: Case, name: str, kind: str, backend: str, compiled: bool):
    def run():
        site = _poison_site(case, name)
        if site is None:
            raise Skip(f"no sampled element of {name} changes the result")
        index, dependent = site
        arrays = _poisoned(case, name, _POISON[kind], index)
        ref = _variant_reference(case, name, kind)
        how = "compiled" if compiled else "eager"
        try:
            got = _run_variant(case, backend, arrays, compiled)
        except Exception as e:  # noqa: BLE001
            if not compiled and _names_argument(e, name):
                return  # refused eagerly with an error naming the argument
            raise
        if kind == "nan":
            _nan_rule(got, dependent, f"{how} {name}=NaN")
        if isinstance(ref, Exception):
            if compiled or backend == "dask":
                return  # NumPy refuses it eagerly; lazy and compiled code cannot read values
            raise AssertionError(f"{backend} returned a value where NumPy raised {type(ref).__name__}: {ref}")
        _close(got, ref, _tol(case, "float64"), f"{name}={kind} ({how})")

    return run


def _variant_peer_check(case: Case, peer, name: str, kind: str):
    def run():
        if peer.requires and importlib.util.find_spec(peer.requires) is None:
            raise Skip(f"{peer.requires} is not installed")
        if peer.framework not in backends.available_backends():
            raise Skip(f"{peer.framework} is not installed")
        site = _poison_site(case, name)
        if site is None:
            raise Skip(f"no sampled element of {name} changes the result")
        ad = harness(peer.framework)
        value = _POISON[kind]
        arrays = _native_args(ad, _poisoned(case, name, value, site[0]), "float64", None)
        try:
            ours = _host(ad, _call(case, arrays))
        except Exception as e:  # noqa: BLE001
            if _names_argument(e, name):
                raise Skip(f"refused eagerly: {e}") from None
            raise
        theirs = _host(ad, peer.fn(**arrays))
        _close(ours, theirs, peer.rtol, f"{name}={kind} vs {peer.name}")

    return run


def _exempt(case: Case, suffix: str, fn):
    reason = case.exemption(suffix)
    if reason is None:
        return fn

    def run():
        raise Skip(f"documented difference (docs/differences.md): {reason}")

    return run


_CHEAP_EAGER = ("numpy", "torch", "array_api_strict")


def _variant_checks(case: Case, names, primary: bool) -> list[Check]:
    """NaN and +-inf variants of each loss's first case eagerly on every backend, NaN variants
    of every case on the backends whose eager calls are cheap, compiled NaN variants of the
    first case under jax.jit; the rest (every variant everywhere, torch.compile) is slow."""
    checks = []
    for arg in _float_arg_names(case):
        for kind in _POISON:
            base = f"{case.id}~{arg}={kind}"
            for name in names:
                if case.backends is not None and name not in case.backends:
                    continue
                # default run: NaN on every case where an eager call is cheap (numpy, torch,
                # array-api-strict), on each loss's first case elsewhere (jax, dask); the rest
                # is slow
                # (array-api-strict runs NumPy's generic body: its NaN variants beyond the
                # first case are slow)
                cheap = name in _CHEAP_EAGER and kind == "nan" and name != "array_api_strict"
                # first case: slow are eager JAX's NaN variants (the compiled NaN variants below
                # run the same whole program) and Dask's +-inf ones (NumPy's body, whose +-inf
                # variants run by default)
                first = primary and not ((name == "jax" and kind == "nan")
                                         or (name == "dask" and kind != "nan"))
                checks.append(Check(f"{base}-{name}-eager", case.loss_name, name, "value",
                                    _exempt(case, f"{arg}={kind}-{name}-eager",
                                            _variant_check(case, arg, kind, name, False)),
                                    slow=not (first or cheap)))
                if harness(name).has_autodiff:
                    # default run: jax.jit of the NaN variants of each loss's first case
                    # (compiles are the cost); every variant under jax.jit and torch.compile
                    # in the slow run
                    slow = not (name == "jax" and kind == "nan" and primary)
                    checks.append(Check(f"{base}-{name}-compiled", case.loss_name, name, "jit",
                                        _exempt(case, f"{arg}={kind}-{name}-compiled",
                                                _variant_check(case, arg, kind, name, True)), slow=slow))
            for i, peer in enumerate(case.peers):
                # NaN: the twins of torch.nn.functional and optax; +-inf: torch's (DESIGN
                # rule 5: IEEE arithmetic where torch follows it). Formula peers written for
                # the suite are not authorities on non-finite inputs.
                if peer.name.startswith(_VARIANT_PEERS[kind]):
                    checks.append(Check(f"{base}-peer{i}-{peer.name}", case.loss_name, peer.framework, "peer",
                                        _exempt(case, f"{arg}={kind}-peer{i}",
                                                _variant_peer_check(case, peer, arg, kind)),
                                        slow=kind != "nan" and not primary))
    return checks


# ---------------------------------------------------------------------- loss fast paths ----
# A framework's own kernel for a whole loss (backends/<framework>_losses) must give exactly what
# the generic array-API body gives: values in float64 and float32, gradients in float64, and
# the NaN/inf variants of every floating argument, on every case of the loss.
def _fast_losses(name: str) -> frozenset:
    try:
        return frozenset(backends.adapter(name).loss_paths())
    except Exception:  # noqa: BLE001 - an adapter that cannot load has no fast paths
        return frozenset()


def _fast_run(case: Case, backend: str, arrays: dict, dtype: str, grads: bool):
    ad = harness(backend)
    native = _native_args(ad, arrays, dtype, None)
    names = list(native)
    if not grads or not ad.has_autodiff or not case.diff:
        with ad.guard():
            return ad.to_numpy(_call(case, native)), {}
    argnums = [names.index(k) for k in case.diff]
    out = {}

    def scalar(*args):
        value = case.loss(**dict(zip(names, args)), **case.kwargs)
        out["value"] = value
        return ad.scalarize(value, _cotangent(case, tuple(value.shape)))

    _, g = ad.value_and_grad(scalar, [native[k] for k in names], argnums)
    return ad.to_numpy(out["value"]), {k: ad.to_numpy(v) for k, v in zip(case.diff, g)}


def _fast_check(case: Case, backend: str, dtype: str, variant: tuple | None = None):
    """The loss's native fast path against its generic body on the same inputs."""
    def run():
        arrays = _inputs(case)
        what, site = dtype, None
        if variant is not None:
            arg, kind = variant
            site = _poison_site(case, arg)
            if site is None:
                raise Skip(f"no sampled element of {arg} changes the result")
            arrays = _poisoned(case, arg, _POISON[kind], site[0])
            what = f"{arg}={kind}"
        grads = dtype == "float64"
        outcome = []
        for generic in (False, True):
            ctx = backends.generic_paths() if generic else contextlib.nullcontext()
            try:
                with ctx:
                    outcome.append(_fast_run(case, backend, arrays, dtype, grads))
            except Exception as e:  # noqa: BLE001 - both paths must refuse alike
                outcome.append(e)
        fast, generic = outcome
        if isinstance(fast, Exception) or isinstance(generic, Exception):
            if type(fast) is type(generic) and str(fast) == str(generic):
                return
            raise AssertionError(f"fast path {fast!r} vs generic {generic!r} ({what})")
        tol = case.tol * _eps(dtype) * (1 if dtype == "float64" else 4)
        _close(fast[0], generic[0], tol, f"fast path vs generic body: value ({what})")
        for k in fast[1]:
            # C order: the reshape(-1) views below must write through
            a = np.array(fast[1][k], dtype=np.float64, order="C")
            b = np.array(generic[1][k], dtype=np.float64, order="C")
            if variant is not None and a.shape == np.shape(arrays[variant[0]]) and a.size:
                # the derivative at the non-finite element (and at its element-wise partners)
                # is not defined: a kernel may give NaN or 0 there where the generic body's
                # kink helpers give a one-sided value; every other entry must agree
                i = site[0]
                a.reshape(-1)[i] = b.reshape(-1)[i] = 0.0
            _close(a, b, tol, f"fast path vs generic body: d/d{k} ({what})")

    return run


def _fast_checks(case: Case, names, primary: bool) -> list[Check]:
    checks = []
    for name in names:
        if case.loss_name not in _fast_losses(name) or (case.backends is not None and name not in case.backends):
            continue
        for dtype in ("float64", "float32"):
            checks.append(Check(f"{case.id}-{name}-fast-{dtype}", case.loss_name, name, "value",
                                _fast_check(case, name, dtype), slow=False))
        for arg in _float_arg_names(case):
            for kind in _POISON:
                checks.append(Check(f"{case.id}~{arg}={kind}-{name}-fast", case.loss_name, name, "value",
                                    _exempt(case, f"{arg}={kind}-{name}-fast",
                                            _fast_check(case, name, "float64", (arg, kind))),
                                    slow=kind != "nan" and not primary))
    return checks


# ------------------------------------------------------------------------ empty batches ----
# Every loss's first case whose n is a batch size, with n = 0: "mean" is NaN, "sum" is 0,
# "none" is empty (functions without a reduction give an empty result), on every backend,
# eager and compiled, and the gradients of "sum" are finite (zero).
_EMPTY_WANT = {"mean": math.nan, "batchmean": math.nan, "sum": 0.0}


def _empty_inputs(case: Case) -> dict:
    try:
        return case.gen(np.random.default_rng(_seed(case)), 0)
    except Exception as e:  # noqa: BLE001 - the generator itself cannot make an empty batch
        raise Skip(f"the case's generator makes no empty batch ({type(e).__name__}: {e})") from None


def _reductions(case: Case) -> list:
    import inspect
    import typing

    if "reduction" not in inspect.signature(case.loss).parameters:
        return [None]
    hint = typing.get_type_hints(case.loss).get("reduction")
    return [r for r in (typing.get_args(hint) or ("mean", "sum", "none"))]


def _empty_check(case: Case, backend: str, compiled: bool):
    def run():
        ad = harness(backend)
        host = _empty_inputs(case)
        for red in _reductions(case):
            kwargs = dict(case.kwargs) if red is None else {**case.kwargs, "reduction": red}
            native = _native_args(ad, host, "float64", None)
            names = list(native)

            def fn(*args, kwargs=kwargs):
                return case.loss(**dict(zip(names, args)), **kwargs)

            call = ad.compile_transform(DEFAULT_COMPILE_BACKEND)(fn) if compiled else fn
            with ad.guard() if not compiled else _null():
                out = call(*[native[k] for k in names])
            got = _host(ad, out)
            what = f"empty batch, reduction={red!r}"
            if red in _EMPTY_WANT:
                if got.shape != ():
                    raise AssertionError(f"{what}: shape {got.shape}, expected a 0-d result")
                want = _EMPTY_WANT[red]
                if not (np.isnan(got) if math.isnan(want) else got == want):
                    raise AssertionError(f"{what}: got {got!r}, expected {want!r}")
            elif got.size != 0:
                raise AssertionError(f"{what}: got shape {got.shape}, expected an empty result")
            if ad.has_autodiff and not compiled and case.diff and red in ("sum", None):
                argnums = [names.index(k) for k in case.diff]
                v = np.ones(got.shape)
                _, grads = ad.value_and_grad(lambda *a, fn=fn: ad.scalarize(fn(*a), v),
                                             [native[k] for k in names], argnums)
                for k, g in zip(case.diff, grads):
                    _finite(ad.to_numpy(g), f"{what}: gradient wrt {k}")

    return run


def _null():
    from contextlib import nullcontext

    return nullcontext()


def _empty_checks(case: Case, names) -> list[Check]:
    checks = []
    for name in names:
        if case.backends is not None and name not in case.backends:
            continue
        # eager JAX: slow (an eager JAX call is one compiled program, which the compiled empty
        # check below runs by default)
        checks.append(Check(f"{case.id}~empty-{name}-eager", case.loss_name, name, "value",
                            _exempt(case, f"empty-{name}-eager", _empty_check(case, name, False)),
                            slow=name == "jax"))
        if harness(name).has_autodiff:
            checks.append(Check(f"{case.id}~empty-{name}-compiled", case.loss_name, name, "jit",
                                _exempt(case, f"empty-{name}-compiled", _empty_check(case, name, True)),
                                slow=name == "torch"))
    return checks


# ---------------------------------------------------------------------- primitive checks ----
# primitives with a kink at 0: their inputs hold exact zeros, +0.0 and -0.0
_KINKED = frozenset({"relu0", "relu1", "abs0"})


def _primitive_inputs(rng, prim=None):
    x = rng.normal(size=(4, 6)) * 3
    x[0, 0], x[1, 1] = 1e4, -1e4 / 2
    if prim in _KINKED:
        x = np.where(np.abs(x) < 1.5, 0.0 * np.sign(x), x)
        x[2, :2] = 0.0, -0.0
    idx = rng.integers(0, 6, size=(4,))
    return x, idx


def _custom_vjp_fwd(ns, static, needs, x, y):
    """``x sin(x) + c y`` (``c = static``), its residuals for the hand-written backward."""
    return x * ns.sin(x) + static * y, (None if needs is None else (x,))


def _custom_vjp_bwd(ns, static, needs, res, g):
    (x,) = res
    return (g * (ns.sin(x) + x * ns.cos(x)) if needs[0] else None, g * static if needs[1] else None)


def _arg_reduced(ns, arg, x):
    """``arg`` (argmax/argmin) along both axes of ``x`` and of ``x`` tiled 400 times along each
    (past the size where a native version may take another kernel): the tiles tie, so every
    index must be the first extremum (or the first NaN)."""
    wide, tall = ns.concat([x] * 400, axis=1), ns.concat([x] * 400, axis=0)
    parts = [arg(x, axis=1), arg(x, axis=0), arg(wide, axis=1), arg(tall, axis=0), arg(wide, axis=0),
             ns.reshape(arg(tall, axis=1, keepdims=True), (-1,))]
    return ns.astype(ns.concat(parts, axis=0), x.dtype)


PRIMITIVE_CALLS = {
    "as_array": lambda ns, x, idx: ns.as_array(ns.sum(x)),
    "logsumexp": lambda ns, x, idx: ns.logsumexp(x, axis=1),
    "log_softmax": lambda ns, x, idx: ns.log_softmax(x, axis=1),
    "softmax": lambda ns, x, idx: ns.softmax(x, axis=-1),
    "softplus": lambda ns, x, idx: ns.softplus(x),
    "log_sigmoid": lambda ns, x, idx: ns.log_sigmoid(x),
    "sigmoid": lambda ns, x, idx: ns.sigmoid(x),
    "xlogy": lambda ns, x, idx: ns.xlogy(ns.abs(x) * (x > 0), ns.abs(x)),
    "take_class": lambda ns, x, idx: ns.take_class(x, idx, axis=1),
    "take_index": lambda ns, x, idx: ns.take_index(x, idx, axis=1) + ns.take_index(x.T, idx, axis=0),
    "take_along_last": lambda ns, x, idx: ns.take_along_last(x, ns.argsort(-x, axis=-1, stable=True)),
    "one_hot": lambda ns, x, idx: ns.one_hot(idx, 6, dtype=x.dtype),
    "argmax": lambda ns, x, idx: _arg_reduced(ns, ns.argmax, x),
    "argmin": lambda ns, x, idx: _arg_reduced(ns, ns.argmin, x),
    "nll_logits": lambda ns, x, idx: ns.nll_logits(x, idx, axis=1) + ns.nll_logits(x.T, idx, axis=0),
    "unstack": lambda ns, x, idx: ns.stack(ns.unstack(x, axis=1)[::-1], axis=0),
    "stop_gradient": lambda ns, x, idx: ns.stop_gradient(x) * x,
    "relu0": lambda ns, x, idx: ns.relu0(x),
    "relu1": lambda ns, x, idx: ns.relu1(x),
    "abs0": lambda ns, x, idx: ns.abs0(x),
    "where": lambda ns, x, idx: ns.where(x > 0, x, ns.zeros_like(x)) + ns.where(x < 1, 0.5 * x, x)
    + ns.where(x < 2, 1.5, x) + ns.where(x > -1, x, -3),
    "scan": lambda ns, x, idx: ns.scan(lambda c, r: (c + r, c * r), ns.zeros_like(x[0]), x)[1],
    # the hand-written gradient of the native versions against autodiff of the forward body
    "custom_vjp": lambda ns, x, idx: ns.custom_vjp(_custom_vjp_fwd, _custom_vjp_bwd, 0.5, x, ns.cos(x)),
    "addmm": lambda ns, x, idx: ns.addmm(ns.addmm(None, x, x.T), x[:, :3], x[:, :3].T),
    "scale_consumed": lambda ns, x, idx: ns.scale_consumed(x * 1.0, ns.sum(x[0])),
    "extrema": lambda ns, x, idx: ns.stack(list(ns.extrema(x[1:] * x[:1]))),
    # a value check's host read: float, integer and boolean scalars together, and one dtype
    "host_scalars": lambda ns, x, idx: ns.asarray(
        ns.host_scalars([ns.max(x), idx[0], ns.min(x) < 0, ns.sum(x[0])])
        + ns.host_scalars([ns.min(x), ns.max(x)]) + ns.host_scalars([idx[1] < idx[2], ns.any(x > 0)])
        + ns.host_scalars([idx[2], ns.any(x > 1e9)]), dtype=x.dtype),
}

#: primitives whose result has no gradient
_NOT_DIFFERENTIABLE = frozenset({"one_hot", "host_scalars", "argmax", "argmin"})


def _nonfinite_primitive_check(name: str, prim: str):
    """The native fast path and the generic primitive agree on rows holding NaN, +inf, -inf,
    +inf and -inf together, and all -inf (values; NaN where one gives NaN, the other must)."""
    def run():
        ad = harness(name)
        rng = np.random.default_rng(zlib.crc32(prim.encode()) + 1)
        x_np, idx_np = _primitive_inputs(rng, prim)
        x_np[0, 2] = np.nan
        x_np[1, 3] = np.inf
        x_np[2, 4] = -np.inf
        x_np[3, :] = -np.inf
        x_np[3, 0] = np.inf
        x, idx = ad.asarray(x_np, "float64"), ad.asarray(idx_np)
        call = PRIMITIVE_CALLS[prim]
        a = ad.to_numpy(call(backends.namespace(x), x, idx))
        b = ad.to_numpy(call(backends.generic_namespace(name), x, idx))
        _close(a, b, 64 * _eps("float64"), f"native {prim} vs generic on NaN/inf inputs")

    return run


def _primitive_check(name: str, prim: str, dtype: str):
    def run():
        ad = harness(name)
        rng = np.random.default_rng(zlib.crc32(prim.encode()))
        x_np, idx_np = _primitive_inputs(rng, prim)
        x = ad.asarray(x_np, dtype)
        idx = ad.asarray(idx_np)
        fast = backends.namespace(x)
        generic = backends.generic_namespace(name)
        call = PRIMITIVE_CALLS[prim]
        a, b = ad.to_numpy(call(fast, x, idx)), ad.to_numpy(call(generic, x, idx))
        _close(a, b, 64 * _eps(dtype), f"native {prim} vs generic ({dtype})")
        if ad.has_autodiff and prim not in _NOT_DIFFERENTIABLE:
            v = rng.uniform(0.5, 1.5, size=a.shape)
            grads = []
            for ns in (fast, generic):
                _, (g,) = ad.value_and_grad(lambda t, ns=ns: ad.scalarize(call(ns, t, idx), v), [x], [0])
                grads.append(ad.to_numpy(g))
            _finite(grads[0], f"gradient of native {prim}")
            if prim == "stop_gradient":
                # d/dx [stop_gradient(x) * x] = x; the generic version (identity) gives 2x
                _close(grads[0], v * ad.to_numpy(x), 64 * _eps(dtype), f"gradient through native {prim}")
            else:
                _close(grads[0], grads[1], 64 * _eps(dtype), f"gradient of native {prim} vs generic ({dtype})")

    return run


# ------------------------------------------------------------------------------ building ----
@dataclass(frozen=True)
class Slot:
    """Where a check would run: one case on one backend, device and dtype."""

    case: Case
    backend: str
    device: object
    dtype: str
    primary: bool  # the loss's first case
    autodiff: bool

    @property
    def jax_low(self) -> bool:
        """Eager JAX below float64: JAX compiles every primitive per shape and dtype."""
        return self.backend == "jax" and self.dtype != "float64"

    @property
    def jax_slow(self) -> bool:
        """Eager JAX checks left to the slow tier (beyond a loss's first case): below
        float64, and for a case marked ``costly_eager``."""
        return self.jax_low or (self.backend == "jax" and self.case.costly_eager)

    @property
    def fd_only(self) -> bool:
        """float64 gradients of a non-JAX backend checked by finite differences alone by
        default (a ``costly_eager`` case beyond the first: eager JAX would be the reference)."""
        return (self.case.costly_eager and self.case.fd and not self.primary and self.autodiff
                and bool(self.case.diff) and self.dtype == "float64" and self.backend != "jax")

    @property
    def crossed(self) -> bool:
        """Eager JAX float64 gradients of a case beyond the first that the torch gradient
        check already compares with its own (the same comparison, run once by default)."""
        return (self.backend == "jax" and self.dtype == "float64" and not self.primary
                and not self.case.costly_eager and "torch" in backends.available_backends()
                and (self.case.backends is None or "torch" in self.case.backends))

    @property
    def compiled_default(self) -> bool:
        """Compiled checks of the default run: torch.compile of each loss's first case in
        float32; jax.jit in float32 for every case (with gradients for the first; its float64
        jax.jit is slow: the eager float64 checks run the same whole program)."""
        if self.backend == "torch":
            return self.primary and self.dtype == "float32"
        return self.dtype == "float32" or (self.primary and self.dtype == "float64")


# The schedule: per slot, each kind of check with the run that includes it ("default": the
# default run and pytest's default selection; "slow": only python -m losses.conformance
# --inductor / pytest -m slow; None: not applicable). Low-precision eager JAX and compiled
# gradients of non-first cases are slow: jax.jit covers every case and torch every dtype; so
# are eager JAX float64 gradients of non-first cases, which torch's gradient check compares
# with its own (and with finite differences) by default.
SCHEDULE = (
    # eager JAX values beyond each loss's first case and Dask values beyond it: slow (an eager
    # JAX call is one compiled program, which the float32 jax.jit check runs on every case and
    # whose float64 gradients torch's gradient check takes as its reference on every case; Dask
    # computes with NumPy's body, which runs every case in every dtype, and its laziness is
    # checked on each loss's first case); eager JAX float32 and float16 of the first case too
    # (bfloat16 stays: one half-precision dtype by default)
    ("value", "value", lambda s: "slow" if ((s.backend == "jax" and s.dtype in ("float32", "float16"))
                                            or (s.backend == "jax" and not s.primary)
                                            or (s.backend == "dask" and not s.primary))
     else "default"),
    # eager JAX gradients below float64: slow even for the first case -- an eager JAX call is one
    # compiled program (backends/jax.py, whole calls), which the float32 jax.jit check runs too
    ("grad", "grad", lambda s: None if not (s.autodiff and s.case.diff)
     else "slow" if s.jax_low or ((s.jax_slow or s.crossed) and not s.primary) else "default"),
    # a costly_eager case beyond the first: float64 gradients against finite differences by
    # default, against the other autodiff backend (eager JAX) in the slow run
    ("gradref", "grad", lambda s: "slow" if s.fd_only else None),
    # jax.jit in float64 of the first case: slow (the eager float64 checks run the same whole
    # program: backends/jax.py whole calls)
    ("jit", "jit", lambda s: None if not s.autodiff
     else "default" if s.compiled_default and s.primary
     and not (s.backend == "jax" and s.dtype == "float64") else "slow"),
    ("jitvalue", "jit", lambda s: "default" if s.autodiff and s.compiled_default and not s.primary else None),
    # batching does not depend on the dtype: float64 by default, float32 in the slow run; beyond
    # each loss's first case on JAX in the slow run
    ("vmap", "jit", lambda s: None if not (s.autodiff and s.case.vmap and s.dtype in ("float64", "float32"))
     else "default" if s.dtype == "float64" and (s.primary or s.backend != "jax") else "slow"),
)


def _slot_check(kind: str, slot: Slot, compile_backend: str):
    case, name, device, dtype = slot.case, slot.backend, slot.device, slot.dtype
    if kind == "value":
        return _value_check(case, name, device, dtype)
    if kind == "grad":
        return _grad_check(case, name, device, dtype, cross=not slot.fd_only)
    if kind == "gradref":
        return _grad_check(case, name, device, dtype)
    if kind == "jit":
        return _jit_check(case, name, device, dtype, compile_backend)
    if kind == "jitvalue":
        return _jit_check(case, name, device, dtype, compile_backend, grads=False)
    return _vmap_check(case, name, device, dtype)


def _slot_checks(slot: Slot, compile_backend: str, include_slow: bool) -> list[Check]:
    ad = harness(slot.backend)
    base = f"{slot.case.id}-{slot.backend}-{ad.device_name(slot.device)}-{slot.dtype}"
    out = []
    for kind, column, rule in SCHEDULE:
        run = rule(slot)
        if run is None or (kind == "jitvalue" and include_slow):  # the slow run has "jit" itself
            continue
        out.append(Check(f"{base}-{kind}", slot.case.loss_name, slot.backend, column,
                         _slot_check(kind, slot, compile_backend), slow=run == "slow"))
    return out


def _selected_backends(backend_names):
    if backend_names is None and os.environ.get("LOSSES_BACKENDS"):
        backend_names = os.environ["LOSSES_BACKENDS"].split(",")
    return [b for b in backends.available_backends() if backend_names is None or b in backend_names]


def _case_checks(case: Case, names, primary: bool, dynamic_done: set, compile_backend: str,
                 include_slow: bool) -> list[Check]:
    """Every check of one case: the schedule over backends x devices x dtypes, the torch
    dynamic-batch compile count (once per loss), inductor (slow) and the peers."""
    checks: list[Check] = []
    for name in names:
        if case.backends is not None and name not in case.backends:
            continue
        ad = harness(name)
        for device in ad.devices():
            for dtype in ad.float_dtypes():
                if case.dtypes is None or dtype in case.dtypes:
                    slot = Slot(case, name, device, dtype, primary, ad.has_autodiff)
                    checks += _slot_checks(slot, compile_backend, include_slow)
        if name == "torch" and case.dynamic and case.loss_name not in dynamic_done:
            dynamic_done.add(case.loss_name)
            checks.append(Check(f"{case.id}-torch-dynamic-batch", case.loss_name, "torch", "jit",
                                _dynamic_check(case)))
    if include_slow and "torch" in names and (case.backends is None or "torch" in case.backends):
        checks.append(Check(f"{case.id}-torch-inductor-float32", case.loss_name, "torch", "jit",
                            _jit_check(case, "torch", None, "float32", "inductor"), slow=True))
    for i, peer in enumerate(case.peers):
        checks.append(Check(f"{case.id}-peer{i}-{peer.name}", case.loss_name, peer.framework, "peer",
                            _peer_check(case, peer)))
    return checks


def _primitive_checks(names) -> list[Check]:
    """Each native fast path against the generic primitive, in float64 and float32."""
    checks = []
    for name in names:
        ad = harness(name)
        for prim in (p for p in ad.runtime.primitives() if p in PRIMITIVE_CALLS):
            for dtype in (d for d in ad.float_dtypes() if d in ("float64", "float32")):
                checks.append(Check(f"primitive-{prim}-{name}-{dtype}", f"primitive:{prim}", name, "value",
                                    _primitive_check(name, prim, dtype)))
            checks.append(Check(f"primitive-{prim}-{name}-nonfinite", f"primitive:{prim}", name, "value",
                                _nonfinite_primitive_check(name, prim)))
    return checks


TIERS = ("smoke", "default", "full")


def _smoke_checks(case: Case, names) -> list[Check]:
    """The smoke matrix of one loss (its first case): the float64 value and the NaN variant
    of its first floating argument on every backend, torch gradients against central
    differences, jax.jit value and gradients (float64, against torch's), and its peers."""
    checks = []
    floats = _float_arg_names(case)
    for name in names:
        if case.backends is not None and name not in case.backends:
            continue
        ad = harness(name)
        if "float64" not in ad.float_dtypes() or (case.dtypes and "float64" not in case.dtypes):
            continue
        device = ad.devices()[0]
        base = f"{case.id}-{name}-{ad.device_name(device)}-float64"
        checks.append(Check(f"{base}-value", case.loss_name, name, "value", _value_check(case, name, device, "float64")))
        if floats:
            arg = floats[0]
            checks.append(Check(f"{case.id}~{arg}=nan-{name}-eager", case.loss_name, name, "value",
                                _exempt(case, f"{arg}=nan-{name}-eager", _variant_check(case, arg, "nan", name, False))))
        if name == "torch" and case.diff:
            checks.append(Check(f"{base}-grad", case.loss_name, name, "grad",
                                _grad_check(case, name, device, "float64", cross=False)))
        if name == "jax":
            checks.append(Check(f"{base}-jit", case.loss_name, name, "jit",
                                _jit_check(case, name, device, "float64", DEFAULT_COMPILE_BACKEND)))
    for i, peer in enumerate(case.peers):
        checks.append(Check(f"{case.id}-peer{i}-{peer.name}", case.loss_name, peer.framework, "peer",
                            _peer_check(case, peer)))
    return checks


def build_checks(cases=None, backend_names=None, loss_names=None, compile_backend=None,
                 include_slow=False, variants=True, tier=None) -> list[Check]:
    """The checks of a tier, in a stable order.

    ``tier``: ``"smoke"`` (each loss's first case on every backend: value, gradients,
    jax.jit, one NaN variant, its peers; the fast paths), ``"default"`` (every case; pytest's
    default selection and ``--full``) or ``"full"`` (everything, slow checks and torch
    inductor included; ``include_slow=True`` is the same).
    """
    setup()
    tier = tier or ("full" if include_slow else "default")
    if tier not in TIERS:
        raise ValueError(f"tier must be one of {TIERS}, got {tier!r}")
    include_slow = tier == "full"
    if cases is None:
        from .cases import all_cases

        cases = all_cases()
    names = _selected_backends(backend_names)
    if loss_names is not None:
        cases = [c for c in cases if c.loss_name in loss_names]
    compile_backend = compile_backend or DEFAULT_COMPILE_BACKEND
    checks: list[Check] = []
    dynamic_done: set = set()
    empty_done: set = set()
    seen_losses: set = set()
    for case in cases:
        primary = case.loss_name not in seen_losses
        if tier == "smoke":
            if primary:
                checks += _smoke_checks(case, names)
                checks += [c for c in _fast_checks(case, names, True) if "~" not in c.id]
            seen_losses.add(case.loss_name)
            continue
        checks += _case_checks(case, names, primary, dynamic_done, compile_backend, include_slow)
        checks += _fast_checks(case, names, primary) if variants else \
            [c for c in _fast_checks(case, names, primary) if "~" not in c.id]
        if variants:
            checks += _variant_checks(case, names, primary)
            if case.dynamic and case.loss_name not in empty_done:
                empty_done.add(case.loss_name)
                checks += _empty_checks(case, names)
        seen_losses.add(case.loss_name)
    if loss_names is None:
        prims = _primitive_checks(names)
        checks += [c for c in prims if not c.id.endswith("float32")] if tier == "smoke" else prims
    return checks if include_slow else [c for c in checks if not c.slow]


def run_checks(checks, progress: Callable[[int, int, Check], None] | None = None):
    """Run checks; returns ``{check.id: ("pass"|"fail"|"skip", message)}``."""
    results = {}
    for i, check in enumerate(checks):
        if progress is not None:
            progress(i, len(checks), check)
        try:
            check.run()
        except Skip as e:
            results[check.id] = ("skip", str(e))
        except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
            msg = f"{type(e).__name__}: {e}"
            results[check.id] = ("fail", msg.strip().splitlines()[0][:500] if msg.strip() else type(e).__name__)
        else:
            results[check.id] = ("pass", "")
    if progress is not None:
        progress(len(checks), len(checks), None)
    return results


def matrix(checks, results):
    """``{loss: {backend: {column: "pass"|"fail"|"skip"}}}`` (fail wins over pass)."""
    order = {"fail": 2, "pass": 1, "skip": 0}
    out: dict = {}
    for c in checks:
        status = results[c.id][0]
        cell = out.setdefault(c.loss, {}).setdefault(c.backend, {})
        prev = cell.get(c.column)
        if prev is None or order[status] > order[prev]:
            cell[c.column] = status
    return out

