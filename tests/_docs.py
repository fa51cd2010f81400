"""The Python code blocks of the docs pages, for tests that run them."""
from __future__ import annotations

import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def doc_blocks(page: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.S)


def run_block(page: str, index: int) -> None:
    """Run one block as is, skipping when it needs a framework that is not installed."""
    code = doc_blocks(page)[index]
    for module in ("torch", "jax"):
        if re.search(rf"^import {module}|^from {module}", code, re.M):
            pytest.importorskip(module)
    exec(compile(code, f"docs/{page}[{index}]", "exec"), {})
