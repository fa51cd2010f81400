"""The test-harness side of each framework, used by the conformance suite, the tests and the
benchmarks (a loss call never imports it): arrays from NumPy and back, devices and dtypes,
automatic differentiation, compilation and vmap.

``harness(name)`` returns the framework's :class:`BaseHarness` (importing the framework).
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, Sequence

from .._core import BACKEND_NAMES, adapter

__all__ = ["BaseHarness", "harness"]

_HARNESSES: dict[str, Any] = {}


class BaseHarness:
    #: framework name as used by :func:`losses.backends.namespace`
    name = ""
    #: whether :meth:`value_and_grad` works
    has_autodiff = False

    @property
    def runtime(self):
        """The framework's runtime adapter (namespace, fast paths)."""
        return adapter(self.name)

    def devices(self) -> list:
        return [None]

    def device_name(self, device) -> str:
        return "cpu" if device is None else str(device)

    def float_dtypes(self) -> tuple[str, ...]:
        return ("float64", "float32")

    def dtype(self, name: str):
        return getattr(self.runtime.xp(), name)

    def asarray(self, a, dtype: str | None = None, device=None):
        """A framework array from NumPy array ``a``; ``dtype`` is a float dtype name or None."""
        raise NotImplementedError

    def to_numpy(self, x):
        """A NumPy array of ``x`` (low-precision floats widened to float64)."""
        raise NotImplementedError

    def value_and_grad(self, fn: Callable, args: Sequence, argnums: Sequence[int]):
        """``(fn(*args), (d fn / d args[i] for i in argnums))`` for scalar-valued ``fn``."""
        raise NotImplementedError(
            f"the {self.name} backend has no automatic differentiation; use torch or jax arrays"
        )

    def scalarize(self, out, v):
        """``sum(out * v)`` in float64 for a NumPy cotangent ``v`` (makes ``"none"`` results
        differentiable as one scalar)."""
        raise NotImplementedError(f"the {self.name} backend has no automatic differentiation")

    def compile(self, fn: Callable, *, dynamic: bool = False, backend: str | None = None):
        """The framework's compiled version of ``fn`` (all arguments arrays), or None."""
        return None

    def compile_transform(self, backend: str | None = None) -> Callable[[Callable], Callable]:
        """``fn -> compiled fn`` starting from a clean compiler state."""
        return lambda fn: self.compile(fn, backend=backend)

    def guard(self):
        """Context in which a loss call must not compute anything (Dask: no graph execution)."""
        return nullcontext()

    def vmap(self, fn: Callable, in_axes: Sequence[int | None]):
        """``fn`` mapped over axis ``in_axes[i]`` of argument i, or None if unsupported."""
        return None

    def host_reads(self, fn: Callable[[], Any]) -> tuple[Any, int | None]:
        """``(fn(), number of device-to-host reads during the call)``; the count is None
        where the framework cannot count them."""
        return fn(), None


def harness(name: str) -> BaseHarness:
    """The harness of a framework (imports the framework on first use)."""
    try:
        return _HARNESSES[name]
    except KeyError:
        pass
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; expected one of {BACKEND_NAMES}")
    import importlib

    module = importlib.import_module(f"{__name__}.{name}")
    _HARNESSES[name] = module.Harness()
    return _HARNESSES[name]
