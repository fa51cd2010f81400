"""Conformance cases, one module per family of ``losses/`` (``CASES`` list in each).

``all_cases()`` imports every module in this package; a test asserts each public loss has
cases.
"""
from __future__ import annotations

import importlib
import pkgutil


def all_cases():
    out = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        out.extend(getattr(module, "CASES", []))
    return out
