"""The adapter interface each ``backends/<framework>.py`` implements.

Losses never use adapters; the conformance suite, tests and benchmarks do.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, Sequence


class BaseAdapter:
    #: framework name as used by :func:`backends.namespace`
    name = ""
    #: whether :meth:`value_and_grad` works
    has_autodiff = False

    def available(self) -> bool:
        return True

    def xp(self) -> Any:
        raise NotImplementedError

    def primitives(self) -> dict[str, Callable]:
        """Native fast paths: ``{primitive_name: fn(ns, *args, **kwargs)}``."""
        return {}

    def is_lazy(self, x: Any) -> bool:
        return False

    def devices(self) -> list:
        return [None]

    def device_name(self, device) -> str:
        return "cpu" if device is None else str(device)

    def float_dtypes(self) -> tuple[str, ...]:
        return ("float64", "float32")

    def dtype(self, name: str):
        return getattr(self.xp(), name)

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

    def compile(self, fn: Callable, *, dynamic: bool = False, backend: str | None = None):
        """The framework's compiled version of ``fn`` (all arguments arrays), or None."""
        return None

    def guard(self):
        """Context in which a loss call must not compute anything (Dask: no graph execution)."""
        return nullcontext()

    def vmap(self, fn: Callable, in_axes: Sequence[int | None]):
        """``fn`` mapped over axis ``in_axes[i]`` of argument i, or None if unsupported."""
        return None
