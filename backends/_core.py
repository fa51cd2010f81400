"""Namespace resolution, framework detection and the adapter registry."""
from __future__ import annotations

import contextlib
import importlib.util
import threading
from functools import partial
from typing import Any

from . import _generic, collectives

#: Every framework the library knows, in the order the conformance matrix shows them.
BACKEND_NAMES = ("numpy", "torch", "jax", "array_api_strict", "dask", "cupy")

# top-level module of an array's type -> framework name
_ROOT_TO_FRAMEWORK = {
    "numpy": "numpy",
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "dask": "dask",
    "array_api_strict": "array_api_strict",
    "cupy": "cupy",
    "cupyx": "cupy",
}
_TYPE_CACHE: dict[type, str | None] = {}
_NS_CACHE: dict[tuple[str, bool], "Namespace"] = {}
_ADAPTERS: dict[str, Any] = {}
_SCALARS = (bool, int, float, complex)


def framework_of(x: Any) -> str | None:
    """The framework an array belongs to (``"torch"``, ``"jax"``, ...), or ``None``.

    ``None`` and Python scalars have no framework. Subclasses (``torch.nn.Parameter``, JAX
    tracers, functorch wrappers) map to their framework.
    """
    t = type(x)
    if x is None or t in _SCALARS:
        return None
    try:
        return _TYPE_CACHE[t]
    except KeyError:
        pass
    found = None
    for klass in t.__mro__:
        root = (klass.__module__ or "").partition(".")[0]
        if root in _ROOT_TO_FRAMEWORK:
            found = _ROOT_TO_FRAMEWORK[root]
            break
    _TYPE_CACHE[t] = found
    return found


def adapter(name: str):
    """The adapter object of a framework (imports the framework on first use)."""
    try:
        return _ADAPTERS[name]
    except KeyError:
        pass
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; expected one of {BACKEND_NAMES}")
    # plain import statements (not importlib): a first call traced by torch.compile can run them
    if name == "numpy":
        from . import numpy as module
    elif name == "torch":
        from . import torch as module
    elif name == "jax":
        from . import jax as module
    elif name == "array_api_strict":
        from . import array_api_strict as module
    elif name == "dask":
        from . import dask as module
    else:
        from . import cupy as module
    _ADAPTERS[name] = module.Adapter()
    return _ADAPTERS[name]


def available_backends() -> list[str]:
    """Names of the frameworks that are installed and usable on this machine."""
    out = []
    for name in BACKEND_NAMES:
        spec_name = "dask" if name == "dask" else name
        if importlib.util.find_spec(spec_name) is None:
            continue
        if adapter(name).available():
            out.append(name)
    return out


class Namespace:
    """An array-API namespace plus the library's primitives.

    Attribute access falls through to the wrapped namespace, so ``ns.sum``, ``ns.where`` and
    friends are the standard's functions; ``ns.logsumexp``, ``ns.take_class`` and the other
    primitives are bound methods (native fast path or generic implementation).
    """

    def __init__(self, xp: Any, framework: str, primitives: dict, loss_paths: dict | None = None):
        self.xp = xp
        self.framework = framework
        self.loss_paths = dict(loss_paths or {})
        self.on_host = adapter(framework).on_host
        self.reads_in_place = adapter(framework).reads_in_place
        for name, fn in primitives.items():
            setattr(self, name, partial(fn, self))

    def fast(self, loss: str, *args: Any, **kwargs: Any) -> Any:
        """The framework's own kernel for the whole loss ``loss`` on these (validated,
        promoted) arguments, or ``NotImplemented`` where it has none or does not cover this
        argument combination -- then the caller runs its generic body. Every registered kernel
        is checked against that body by the conformance suite."""
        fn = self.loss_paths.get(loss)
        return NotImplemented if fn is None else fn(self, *args, **kwargs)

    def __getattr__(self, name: str):
        # only called on a miss: cache the namespace's attribute on the instance
        value = getattr(self.xp, name)
        setattr(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"<losses namespace for {self.framework}>"


#: primitives whose native version is the only one with the library's gradient semantics
_SEMANTIC_PRIMITIVES = frozenset({"stop_gradient"})


def _build(framework: str, native: bool) -> Namespace:
    ad = adapter(framework)
    prims = dict(_generic.PRIMITIVES)
    prims.update(collectives.GENERIC)
    if native:
        prims.update(ad.primitives())
    else:
        # not fast paths but autodiff semantics the array API cannot state (the generic
        # stop_gradient is the identity): the generic namespaces keep the framework's, so
        # that the generic body's gradients are its definition's
        prims.update({k: v for k, v in ad.primitives().items() if k in _SEMANTIC_PRIMITIVES})
    prims.update(ad.collectives())  # not fast paths: the generic namespaces keep them too
    return Namespace(ad.xp(), framework, prims, ad.loss_paths() if native else None)


class _Paths(threading.local):
    generic = False


_PATHS = _Paths()


@contextlib.contextmanager
def generic_paths():
    """Inside the block (this thread), :func:`namespace` returns the generic namespaces: every
    primitive and every loss runs its array-API body, no native fast path (``stop_gradient``
    stays the framework's: it is autodiff semantics, not a fast path). The conformance suite
    compares both ways of computing each loss."""
    before = _PATHS.generic
    _PATHS.generic = True
    try:
        yield
    finally:
        _PATHS.generic = before


def namespace(*arrays: Any, **named: Any) -> Namespace:
    """The namespace of the arrays: array-API functions and the library's primitives.

    Arrays may be given positionally or by name (``namespace(input=input, target=target)``);
    names make the errors name the argument. ``None`` and Python scalars are skipped. An
    object of no supported framework, or arrays of two different frameworks, raise a
    ``TypeError`` naming them. At least one array is required.
    """
    framework = None
    first = first_label = None
    items = [(None, a) for a in arrays] + list(named.items())
    for label, a in items:
        fw = framework_of(a)
        if fw is None:
            if a is None or type(a) in _SCALARS:
                continue
            what = f"{label} must be an array of a supported framework {BACKEND_NAMES}" if label else \
                f"expected arrays of a supported framework {BACKEND_NAMES}"
            raise TypeError(f"{what}, got {type(a).__module__}.{type(a).__qualname__}")
        if framework is None:
            framework, first, first_label = fw, a, label
        elif fw != framework:
            this = f"{label} " if label else ""
            that = f"{first_label} " if first_label else ""
            raise TypeError(
                "all array arguments must come from one framework; got "
                f"{that}{type(first).__module__}.{type(first).__qualname__} ({framework}) and "
                f"{this}{type(a).__module__}.{type(a).__qualname__} ({fw})"
            )
    if framework is None:
        raise TypeError("expected at least one array argument, got only None/Python scalars")
    native = not _PATHS.generic
    try:
        return _NS_CACHE[(framework, native)]
    except KeyError:
        ns = _NS_CACHE[(framework, native)] = _build(framework, native)
        return ns


def generic_namespace(framework: str) -> Namespace:
    """The namespace of ``framework`` with only the generic primitives (no fast paths; the
    framework's ``stop_gradient``, see :func:`generic_paths`)."""
    key = (framework, False)
    if key not in _NS_CACHE:
        _NS_CACHE[key] = _build(framework, False)
    return _NS_CACHE[key]


def whole_call(fn: Any, run: Any, args: tuple, kwargs: dict) -> Any:
    """A framework's way of running a whole public call at once (JAX: one compiled program per
    argument signature instead of one per primitive), or ``NotImplemented``.

    ``run(fn, args, kwargs)`` evaluates ``fn`` with its value checks collected, returning
    ``(out, bad)`` where ``bad`` is a device boolean (or None); the caller reads ``bad`` and, if
    it is set, repeats the call eagerly to raise the check's own error. Only calls whose first
    array argument (positional, or else the first keyword argument that is not a Python number,
    string or None: ``loss(input=x, target=y)``) is a
    JAX array or tracer are considered, outside :func:`generic_paths` (which keeps the op-by-op
    generic path as the reference)."""
    if _PATHS.generic:
        return NotImplemented
    if args:
        first = args[0]
    else:  # all by keyword, in any order: the first one that is not a plain Python value
        first = next((v for v in kwargs.values() if not isinstance(v, (str, int, float, type(None)))), None)
    if type(first) in (list, tuple) and first:  # a sequence of per-task losses
        first = first[0]
    root = type(first).__module__.partition(".")[0]
    if root != "jax" and root != "jaxlib":
        return NotImplemented
    return adapter("jax").whole_call(fn, run, args, kwargs)


def is_lazy(x: Any) -> bool:
    """True when ``x``'s values cannot be read now without tracing problems or computing.

    JAX tracers, arrays inside ``torch.compile`` / ``torch.func`` transforms and Dask arrays
    are lazy. Value checks (class indices in range, probabilities in [0, 1]) run only on
    arrays that are not lazy.
    """
    fw = framework_of(x)
    if fw is None:
        return False
    return adapter(fw).is_lazy(x)
