"""losses: classic deep-learning loss functions written once against the Python array API.

Every function accepts NumPy, PyTorch, JAX, CuPy, Dask or array-api-strict arrays and returns
an array of the same framework, dtype and device. No array framework is imported here.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: family modules in documentation order
_FAMILY_MODULES = (
    "regression",
    "classification",
    "classification_extras",
    "probabilistic",
    "margin",
    "helpers",
    "metric",
    "segmentation",
    "detection",
    "sequence",
    "generative",
    "rl",
    "multitask",
)

#: family name -> public names, in documentation order
FAMILIES: dict[str, list[str]] = {}
__all__: list[str] = []
for _family in _FAMILY_MODULES:
    _module = importlib.import_module(f"{__name__}.{_family}")
    FAMILIES[_family] = list(_module.__all__)
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _family, _module, _name
