"""Everything framework-specific lives here.

``namespace(*arrays)`` returns the array-API namespace of the inputs extended with the
primitives the standard lacks (``logsumexp``, ``take_class``, ...). Each primitive has one
generic array-API implementation (``backends/_generic.py``) and, where it is faster and equal,
a native fast path registered by the framework's adapter module (``backends/<framework>.py``).
Whole losses may have a native kernel too (``backends/torch_losses/``), reached through
``ns.fast(loss_name, ...)``; the generic body stays the definition.

Framework modules are imported lazily: importing :mod:`backends` imports no array library.
"""
from __future__ import annotations

from ._core import (
    BACKEND_NAMES,
    Namespace,
    adapter,
    available_backends,
    framework_of,
    generic_namespace,
    generic_paths,
    is_lazy,
    namespace,
)

__all__ = [
    "BACKEND_NAMES",
    "Namespace",
    "adapter",
    "available_backends",
    "framework_of",
    "generic_namespace",
    "generic_paths",
    "is_lazy",
    "namespace",
]
