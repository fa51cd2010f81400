"""NumPy runtime adapter (NumPy is the reference backend of the conformance suite)."""
from __future__ import annotations

import array_api_compat.numpy as _xp
import numpy as np

from ._adapter import BaseAdapter


def _as_array(ns, x):
    # reductions and operations on 0-d arrays give NumPy scalars; the standard gives 0-d arrays
    return np.asarray(x)


class Adapter(BaseAdapter):
    name = "numpy"
    on_host = True

    def xp(self):
        return _xp

    def primitives(self):
        return {"as_array": _as_array}
