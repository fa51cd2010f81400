"""CuPy harness (needs a CUDA GPU)."""
from __future__ import annotations

import numpy as np

from . import BaseHarness


class Harness(BaseHarness):
    name = "cupy"

    def devices(self):
        import cupy

        return [cupy.cuda.Device(i) for i in range(cupy.cuda.runtime.getDeviceCount())]

    def float_dtypes(self):
        return ("float64", "float32", "float16")

    def asarray(self, a, dtype=None, device=None):
        import cupy

        a = np.asarray(a)
        if dtype is not None:
            a = a.astype(dtype)
        if device is None:
            return cupy.asarray(a)
        with device:
            return cupy.asarray(a)

    def to_numpy(self, x):
        x = x.get()
        return x.astype(np.float64) if x.dtype == np.float16 else x
