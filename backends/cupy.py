"""CuPy adapter. Needs a CUDA GPU; ``available()`` is False without one."""
from __future__ import annotations

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
