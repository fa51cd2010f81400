"""CuPy adapter. Needs a CUDA GPU; ``available()`` is False without one."""
from __future__ import annotations

import numpy as np

from ._adapter import BaseAdapter


class Adapter(BaseAdapter):
    name = "cupy"

    def available(self):
        try:
            import cupy

            return cupy.cuda.runtime.getDeviceCount() > 0
        except Exception:  # no cupy, no driver or no GPU
            return False

    def xp(self):
        import array_api_compat.cupy as xp

        return xp

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
