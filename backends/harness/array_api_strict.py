"""array-api-strict harness: the default device and one other."""
from __future__ import annotations

import array_api_strict as _xp
import numpy as np

from . import BaseHarness


class Harness(BaseHarness):
    name = "array_api_strict"

    def devices(self):
        # the default device and one other (results must stay on their inputs' device);
        # the library's special devices without float64 support are not used
        info = _xp.__array_namespace_info__()
        return [d for d in info.devices() if d == info.default_device() or str(d).endswith("'device1')")]

    def device_name(self, device):
        return "default" if device is None else str(device).replace("array_api_strict.Device", "").strip("()'")

    def asarray(self, a, dtype=None, device=None):
        a = np.asarray(a)
        if dtype is not None:
            a = a.astype(dtype)
        return _xp.asarray(a, device=device)

    def to_numpy(self, x):
        dev = _xp.__array_namespace_info__().default_device()
        return np.asarray(x.to_device(dev) if x.device != dev else x)
