"""The runtime adapter interface each ``backends/<framework>.py`` implements: what a loss call
needs (the array namespace, the native fast paths, laziness). The test-harness side
(arrays from NumPy, autodiff, compile, devices) is :mod:`losses.backends.harness`.
"""
from __future__ import annotations

from typing import Any, Callable


class BaseAdapter:
    #: framework name as used by :func:`losses.backends.namespace`
    name = ""
    #: arrays live in host memory, so reading a value back costs no device synchronisation
    on_host = False

    def available(self) -> bool:
        return True

    def reads_in_place(self, x: Any) -> bool:
        """Whether ``x``'s values lie in host memory, where reading one back waits for no
        device (``on_host``; torch: CPU tensors)."""
        return self.on_host

    def xp(self) -> Any:
        raise NotImplementedError

    def primitives(self) -> dict[str, Callable]:
        """Native fast paths: ``{primitive_name: fn(ns, *args, **kwargs)}``."""
        return {}

    def loss_paths(self) -> dict[str, Callable]:
        """Native kernels for whole losses: ``{loss_name: fn(ns, *args, **kwargs)}``; ``fn``
        returns ``NotImplemented`` for argument combinations it does not cover."""
        return {}

    def collectives(self) -> dict[str, Callable]:
        """``check_group``/``all_gather``/``all_sum``/``group_rank`` of the framework
        (:mod:`losses.backends.collectives`); the generic ones accept only ``group=None``."""
        return {}

    def whole_call(self, fn: Callable, run: Callable, args: tuple, kwargs: dict) -> Any:
        """Run a whole public call natively (see ``_core.whole_call``), or ``NotImplemented``."""
        return NotImplemented

    def is_lazy(self, x: Any) -> bool:
        return False
