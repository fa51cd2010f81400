"""(family module: losses are added here)"""
from __future__ import annotations

__all__: list[str] = []
