"""array-api-strict adapter: the standard and nothing else (catches non-portable code)."""
from __future__ import annotations

import array_api_strict as _xp

from ._adapter import BaseAdapter


class Adapter(BaseAdapter):
    name = "array_api_strict"
    on_host = True

    def xp(self):
        return _xp
