"""NumPy harness (the reference backend of the conformance suite)."""
from __future__ import annotations

import numpy as np

from . import BaseHarness


class Harness(BaseHarness):
    name = "numpy"

    def devices(self):
        return ["cpu"]

    def float_dtypes(self):
        return ("float64", "float32", "float16")

    def asarray(self, a, dtype=None, device=None):
        a = np.asarray(a)
        return a.astype(dtype) if dtype is not None else a.copy()

    def to_numpy(self, x):
        x = np.asarray(x)
        return x.astype(np.float64) if x.dtype == np.float16 else x
