"""Test configuration: JAX computes in float64 when asked (the suite compares in float64)."""
from __future__ import annotations

import importlib.util

if importlib.util.find_spec("jax") is not None:
    import jax

    jax.config.update("jax_enable_x64", True)
