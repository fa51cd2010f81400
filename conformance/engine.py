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
"""
from __future__ import annotations

import importlib.util
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
    arrays = {k: ad.asarray(v, "float64" if _is_float(v) else None) if isinstance(v, np.ndarray) else v
              for k, v in _rounded(case, dtype).items()}
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
        if backends.framework_of(out) != name:
            raise AssertionError(f"result is a {type(out)}, not a {name} array")
        float_inputs = any(_is_float(v) for v in _inputs(case).values())
        if float_inputs and out.dtype != ad.dtype(dtype):
            raise AssertionError(f"result dtype {out.dtype} != input dtype {dtype}")
        if device is not None:
            from array_api_compat import device as device_of

            got = device_of(out)
            if got != device and not (name == "numpy" or name == "dask"):
                raise AssertionError(f"result on device {got}, inputs on {device}")
        got = ad.to_numpy(out)
        want = _reference(case, dtype)
        if case.finite:
            _finite(got, "value")
        _close(got, want, case.tol * _eps(dtype), f"value ({dtype})")

    return run


def _grad_check(case: Case, name: str, device, dtype: str):
    def run():
        ad = harness(name)
        grads = _autodiff(ad, case, dtype, device)
        if case.finite:
            for k, g in grads.items():
                _finite(g, f"gradient wrt {k}")
        ref_name, ref = _autodiff_reference(case, dtype, exclude=name if dtype == "float64" else None)
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
        got = ad.to_numpy(out)
        _close(got, _reference(case, dtype), case.tol * _eps(dtype), f"compiled value ({dtype})")
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
        _close(ad.to_numpy(out), want, case.tol * _eps(dtype), f"vmapped per-sample value ({dtype})")

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
        ours = ad.to_numpy(_call(case, arrays))
        theirs = ad.to_numpy(peer.fn(**arrays))
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


# ---------------------------------------------------------------------- primitive checks ----
def _primitive_inputs(rng):
    x = rng.normal(size=(4, 6)) * 3
    x[0, 0], x[1, 1] = 1e4, -1e4 / 2
    idx = rng.integers(0, 6, size=(4,))
    return x, idx


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
    "take_along_last": lambda ns, x, idx: ns.take_along_last(x, ns.argsort(-x, axis=-1, stable=True)),
    "one_hot": lambda ns, x, idx: ns.one_hot(idx, 6, dtype=x.dtype),
    "nll_logits": lambda ns, x, idx: ns.nll_logits(x, idx, axis=1) + ns.nll_logits(x.T, idx, axis=0),
    "unstack": lambda ns, x, idx: ns.stack(ns.unstack(x, axis=1)[::-1], axis=0),
    "stop_gradient": lambda ns, x, idx: ns.stop_gradient(x) * x,
    "where": lambda ns, x, idx: ns.where(x > 0, x, ns.zeros_like(x)) + ns.where(x < 1, 0.5 * x, x),
    "scan": lambda ns, x, idx: ns.scan(lambda c, r: (c + r, c * r), ns.zeros_like(x[0]), x)[1],
}


def _primitive_check(name: str, prim: str, dtype: str):
    def run():
        ad = harness(name)
        rng = np.random.default_rng(zlib.crc32(prim.encode()))
        x_np, idx_np = _primitive_inputs(rng)
        x = ad.asarray(x_np, dtype)
        idx = ad.asarray(idx_np)
        fast = backends.namespace(x)
        generic = backends.generic_namespace(name)
        call = PRIMITIVE_CALLS[prim]
        a, b = ad.to_numpy(call(fast, x, idx)), ad.to_numpy(call(generic, x, idx))
        _close(a, b, 64 * _eps(dtype), f"native {prim} vs generic ({dtype})")
        if ad.has_autodiff and prim != "one_hot":
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
def build_checks(cases=None, backend_names=None, loss_names=None, compile_backend=None,
                 include_slow=False) -> list[Check]:
    """Every applicable check, in a stable order."""
    setup()
    if cases is None:
        from .cases import all_cases

        cases = all_cases()
    avail = backends.available_backends()
    if backend_names is None and os.environ.get("LOSSES_BACKENDS"):
        backend_names = os.environ["LOSSES_BACKENDS"].split(",")
    names = [b for b in avail if backend_names is None or b in backend_names]
    if loss_names is not None:
        cases = [c for c in cases if c.loss_name in loss_names]
    compile_backend = compile_backend or DEFAULT_COMPILE_BACKEND
    checks: list[Check] = []
    dynamic_done: set = set()
    seen_losses: set = set()
    for case in cases:
        for name in names:
            if case.backends is not None and name not in case.backends:
                continue
            ad = harness(name)
            dtypes = [d for d in ad.float_dtypes() if case.dtypes is None or d in case.dtypes]
            for device in ad.devices():
                dev = ad.device_name(device)
                primary = case.loss_name not in seen_losses
                for dtype in dtypes:
                    base = f"{case.id}-{name}-{dev}-{dtype}"
                    # JAX's eager mode compiles every primitive per shape and dtype: its
                    # float16/bfloat16 eager checks run for each loss's first case by
                    # default (torch covers low precision for every case), all when slow
                    # eager JAX below float64 (and its gradients) for each loss's first case:
                    # jax.jit covers every case in float32 and torch every dtype
                    jax_slow = name == "jax" and dtype != "float64" and not primary
                    checks.append(Check(f"{base}-value", case.loss_name, name, "value",
                                        _value_check(case, name, device, dtype), slow=jax_slow))
                    if ad.has_autodiff and case.diff:
                        # JAX eager gradients: float64 for every case, the other dtypes for
                        # each loss's first case (every case in the slow run)
                        checks.append(Check(f"{base}-grad", case.loss_name, name, "grad",
                                            _grad_check(case, name, device, dtype), slow=jax_slow))
                    if ad.has_autodiff:
                        # default run: jax.jit values of every case in float32, values and
                        # gradients of each loss's first case in float32 and float64;
                        # torch.compile of each loss's first case in float32. The slow run
                        # compiles every case in every dtype, with gradients
                        if name == "torch":
                            slow = not (primary and dtype == "float32")
                        else:
                            slow = not (dtype == "float32" or (primary and dtype == "float64"))
                        checks.append(Check(f"{base}-jit", case.loss_name, name, "jit",
                                            _jit_check(case, name, device, dtype, compile_backend), slow=slow or not primary))
                        if not slow and not primary and not include_slow:
                            # the default run compiles the value of every case; gradients of
                            # compiled non-first cases are in the slow run (the check above)
                            checks.append(Check(f"{base}-jitvalue", case.loss_name, name, "jit",
                                                _jit_check(case, name, device, dtype, compile_backend, grads=False)))
                        if case.vmap and dtype in ("float64", "float32"):
                            checks.append(Check(f"{base}-vmap", case.loss_name, name, "jit",
                                                _vmap_check(case, name, device, dtype)))
            if name == "torch" and case.dynamic and case.loss_name not in dynamic_done:
                dynamic_done.add(case.loss_name)
                checks.append(Check(f"{case.id}-torch-dynamic-batch", case.loss_name, "torch", "jit",
                                    _dynamic_check(case)))
        if include_slow and "torch" in names and (case.backends is None or "torch" in case.backends):
            checks.append(Check(f"{case.id}-torch-inductor-float32", case.loss_name, "torch", "jit",
                                _jit_check(case, "torch", None, "float32", "inductor"), slow=True))
        seen_losses.add(case.loss_name)
        for i, peer in enumerate(case.peers):
            checks.append(Check(f"{case.id}-peer{i}-{peer.name}", case.loss_name, peer.framework, "peer",
                                _peer_check(case, peer)))
    if loss_names is None:
        for name in names:
            ad = harness(name)
            prims = [p for p in ad.runtime.primitives() if p in PRIMITIVE_CALLS]
            for prim in prims:
                for dtype in [d for d in ad.float_dtypes() if d in ("float64", "float32")]:
                    checks.append(Check(f"primitive-{prim}-{name}-{dtype}", f"primitive:{prim}", name, "value",
                                        _primitive_check(name, prim, dtype)))
    if not include_slow:
        checks = [c for c in checks if not c.slow]
    return checks


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

