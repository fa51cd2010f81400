"""losses: classic deep-learning loss functions written once against the Python array API.

Every function accepts NumPy, PyTorch, JAX, CuPy, Dask or array-api-strict arrays and returns
an array of the same framework, dtype and device. No array framework is imported here.
"""
from __future__ import annotations

from . import classification, regression
from .classification import *  # noqa: F401,F403
from .regression import *  # noqa: F401,F403

__version__ = "0.1.0"

#: family name -> public loss names, in documentation order
FAMILIES = {
    "regression": list(regression.__all__),
    "classification": list(classification.__all__),
}

__all__ = [name for names in FAMILIES.values() for name in names]
